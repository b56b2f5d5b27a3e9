//! PPO-ptx from a YAML config: on the real agent loop — the policy starts as
//! the SFT model, the reward model scores its rollouts, a per-token KL penalty keeps it
//! near SFT and the pretraining loss keeps its language; rerun to resume.

use std::path::{Path, PathBuf};

use anyhow::Context;
use miracle_core::train::data::{Batches, pack};
use miracle_core::train::ppo_training::{Environment, PpoRun, PpoSchedule, train_ppo, val_lm_loss};
use miracle_core::train::reward::RewardModel;
use miracle_corpora::{Collection, Paper};
use miracle_router::rlhf::comparison::{Prompt, read_prompts};
use miracle_router::rlhf::environment::AgentEnvironment;
use serde::Deserialize;

use crate::wiring::Wiring;
use crate::{Progress, Report, say_if_resuming};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PpoFile {
    /// The SFT model: the policy's start and the KL reference; the embedded default model
    /// when absent.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// The reward model directory (`miracle rm`; a recipe passes its own).
    #[serde(default)]
    pub reward: Option<PathBuf>,
    /// Training prompts: a suite (`miracle demos`' prompts.jsonl).
    #[serde(default)]
    pub prompts: Option<PathBuf>,
    /// Held-out prompts with expectations, for task success.
    #[serde(default)]
    pub heldout: Option<PathBuf>,
    /// Judge every n-th held-out prompt only.
    #[serde(default = "one")]
    pub heldout_every: usize,
    #[serde(default = "temperature")]
    pub temperature: f32,
    /// Decode under grounding, as the agent runs for users.
    #[serde(default = "yes")]
    pub grounded: bool,
    #[serde(default)]
    pub train: PpoSchedule,
    #[serde(default)]
    pub out: Option<PathBuf>,
}

impl crate::StageConfig for PpoFile {
    const WHAT: &'static str = "PPO config";
}

fn one() -> usize {
    1
}
fn temperature() -> f32 {
    1.0
}
fn yes() -> bool {
    true
}

/// Runs the PPO `config` describes; returns the output folder.
pub fn run_ppo(
    config: &Path,
    stop_after: Option<u64>,
    wiring: &Wiring,
    out: &mut dyn Report,
) -> anyhow::Result<PathBuf> {
    let file: PpoFile = crate::read_config(config)?;
    anyhow::ensure!(
        file.temperature > 0.0 && file.temperature.is_finite() && file.heldout_every >= 1,
        "{}: temperature must be positive and heldout_every at least 1",
        config.display()
    );
    let device = wiring.device()?;
    let init = wiring.input("init", config, file.init.as_ref());
    let sft = crate::load_model(init.as_deref(), &device).context("init")?;
    let reward_dir = wiring.required("reward", config, file.reward.as_ref())?;
    let (reward, reward_config, _) = RewardModel::load(&reward_dir, &device)
        .with_context(|| format!("reward: cannot load {}", reward_dir.display()))?;
    anyhow::ensure!(
        reward_config.vocab_size == sft.config.vocab_size,
        "reward: {} has another vocabulary than the policy",
        reward_dir.display()
    );
    let train_prompts =
        read_prompts(&wiring.required("prompts", config, file.prompts.as_ref())?)?;
    let heldout: Vec<Prompt> =
        read_prompts(&wiring.required("heldout", config, file.heldout.as_ref())?)?
            .into_iter()
            .step_by(file.heldout_every)
            .collect();
    let mut texts = Vec::new();
    for collection in Collection::ALL {
        texts.extend(collection.papers()?.iter().map(Paper::as_text));
    }
    let text = pack(&sft.tokenizer, &texts)?;
    let out_dir = wiring.out_dir(config, file.out.as_ref());
    let s = &file.train;
    let val = Batches::new(&text.val, s.ptx_batch, sft.config.block_size, s.seed ^ 0xA5)
        .context("the pretraining validation text is shorter than one context")?;
    let sft_val = val_lm_loss(&sft.model, &val, &device);
    writeln!(
        out,
        "PPO-ptx on {} prompts, {} rollouts per iteration; held-out success on {} prompts; SFT validation LM loss {sft_val:.4}; writing to {}",
        train_prompts.len(),
        s.rollouts,
        heldout.len(),
        out_dir.display()
    )?;
    let registry = miracle_router::agent_registry();
    let mut env = AgentEnvironment {
        config: &sft.config,
        tokenizer: &sft.tokenizer,
        registry: &registry,
        reward: &reward,
        prompts: &train_prompts,
        heldout: &heldout,
        rollouts: s.rollouts,
        temperature: file.temperature,
        grounded: file.grounded,
        seed: s.seed,
        device: device.clone(),
        runtime: crate::runtime()?,
    };
    let sft_success = env
        .evaluate(&sft.model)
        .map_err(|e| anyhow::anyhow!("evaluating the SFT model: {e}"))?;
    writeln!(
        out,
        "the SFT model: held-out success {:.1}%",
        sft_success * 100.0
    )?;
    let run = PpoRun {
        config: &sft.config,
        tokenizer: &sft.tokenizer,
        sft: &sft.model,
        ptx_train: &text.train,
        ptx_val: &text.val,
        schedule: s,
        out: &out_dir,
    };
    say_if_resuming(&out_dir, out);
    let reports = train_ppo(&run, &mut env, &device, stop_after, |report| {
        out.progress(Progress::Ppo {
            report,
            sft_val_loss: sft_val,
        })
    })?;
    if let Some(last) = reports.iter().rev().find(|r| r.heldout_success.is_some()) {
        let val = last.val_lm_loss.unwrap_or(f32::NAN);
        writeln!(
            out,
            "iteration {}: reward {:.3}, KL {:.4} per token, held-out success {:.1}%, validation LM loss {val:.4} ({:+.1}% against SFT)",
            last.iteration,
            last.reward,
            last.kl,
            last.heldout_success.unwrap_or(0.0) * 100.0,
            (val / sft_val - 1.0) * 100.0
        )?;
    }
    Ok(out_dir)
}
