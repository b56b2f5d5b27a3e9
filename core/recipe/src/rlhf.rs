//! RLHF's data and stages: candidates sampled from the agent (K distinct responses per
//! request), ranked by the programmatic ranker into comparisons; and, inside a recipe, the
//! chain of sampling, ranking, the reward model and the policy (PPO-ptx or DPO).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use miracle_experts::search::Markup;
use miracle_experts::{Kinds, Registry};
use miracle_router::agent::Agent;
use miracle_router::plugins::Plugins;
use miracle_router::rlhf::comparison::{Prompt, now_utc, read_candidates, read_prompts};
use miracle_router::rlhf::ranker::{Rules, rank};
use miracle_router::rlhf::sample::{Sampling, sample};

use crate::demos::write_demos;
use crate::ppo::run_ppo;
use crate::recipe::RlhfStage;
use crate::wiring::{Backend, Wiring};
use crate::{Progress, Report};

/// An agent as users get it: a model (the default one when `None`), the expert calls
/// allowed in one answer, whether decoding is grounded, a plugin file whose experts it may
/// call too (and whose tuned model it runs, unless `model` names another), and how its
/// answers' citations write italics.
#[derive(Debug, Clone)]
pub struct AgentOn {
    pub model: Option<PathBuf>,
    pub max_calls: usize,
    pub grounded: bool,
    pub plugins: Option<PathBuf>,
    pub markup: Markup,
}

impl AgentOn {
    /// The agent as users get it (grounded, 8 calls, no plugins, plain citations), on
    /// `model` (the default model when `None`).
    pub fn new(model: Option<PathBuf>) -> Self {
        AgentOn {
            model,
            max_calls: 8,
            grounded: true,
            plugins: None,
            markup: Markup::Plain,
        }
    }

    /// The agent as users get it, on the model in `dir`.
    pub fn model(dir: &Path) -> Self {
        AgentOn::new(Some(dir.to_path_buf()))
    }

    /// The plugin file, read, and the model folder (`None`: the default model) this
    /// agent runs.
    pub fn plugins(&self) -> anyhow::Result<(Option<Plugins>, Option<PathBuf>)> {
        let Some(path) = &self.plugins else {
            return Ok((None, self.model.clone()));
        };
        let plugins = Plugins::load(path, &Kinds::builtin()).map_err(anyhow::Error::msg)?;
        let model = match (&self.model, &plugins.model) {
            (Some(model), _) => Some(model.clone()),
            (None, Some(tuned)) => {
                if !tuned
                    .join(miracle_core::gpt::model_dir::CONFIG_FILE)
                    .is_file()
                {
                    bail!(
                        "{}: its model {} is not there yet; `miracle tune --experts {}` makes it",
                        path.display(),
                        tuned.display(),
                        path.display()
                    );
                }
                Some(tuned.clone())
            }
            (None, None) => None,
        };
        Ok((Some(plugins), model))
    }

    /// The experts (the agent's and the plugins') and the model folder this agent runs.
    pub fn parts(&self) -> anyhow::Result<(Registry, Option<PathBuf>)> {
        let (plugins, model) = self.plugins()?;
        let registry = match plugins {
            Some(plugins) => plugins.registry(),
            None => miracle_router::agent_registry(),
        };
        Ok((registry, model))
    }

    /// Runs `f` with this agent, its experts and a runtime for their calls.
    pub fn run(
        &self,
        f: impl AsyncFnOnce(&mut Agent<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let device = burn::prelude::Device::flex();
        let (registry, model) = self.parts()?;
        let loaded = crate::load_model(model.as_deref(), &device)?;
        let mut agent = Agent::new(
            &loaded.model,
            &loaded.config,
            &device,
            &loaded.tokenizer,
            &registry,
        )?;
        agent.limits.max_calls = self.max_calls;
        agent.grounded = self.grounded;
        agent.markup = self.markup;
        crate::runtime()?.block_on(f(&mut agent))
    }
}

/// Samples candidates for every `every`-th request of `suite` into `to`.
pub fn sample_file(
    suite: &Path,
    to: &Path,
    sampling: &Sampling,
    every: usize,
    agent: &AgentOn,
    out: &mut dyn Report,
) -> anyhow::Result<()> {
    let prompts = read_prompts(suite)?;
    let picked: Vec<(usize, &Prompt)> = prompts.iter().enumerate().step_by(every.max(1)).collect();
    let mut lines = String::new();
    let (mut responses, mut comparable) = (0, 0);
    let total = picked.len();
    agent.run(async |agent| {
        out.progress(Progress::Sampled { done: 0, total });
        for (n, (index, prompt)) in picked.iter().enumerate() {
            let candidates = sample(agent, prompt, sampling, *index as u64).await?;
            responses += candidates.responses.len();
            comparable += usize::from(candidates.responses.len() >= 2);
            lines.push_str(&serde_json::to_string(&candidates)?);
            lines.push('\n');
            out.progress(Progress::Sampled { done: n + 1, total });
        }
        Ok(())
    })?;
    crate::write_file(to, lines.as_bytes())?;
    writeln!(
        out,
        "{} requests, {responses} distinct responses; {comparable} requests have two or more to compare; written to {}",
        picked.len(),
        to.display()
    )?;
    Ok(())
}

/// Ranks the candidates in `from` with `rules` into the comparisons file `to`.
pub fn rank_file(from: &Path, to: &Path, rules: &Rules, out: &mut dyn Write) -> anyhow::Result<()> {
    let candidates = read_candidates(from)?;
    let at = now_utc();
    let mut lines = String::new();
    let (mut ranked, mut pairs) = (0, 0);
    for (i, c) in candidates.iter().enumerate() {
        if let Some(comparison) = rank(c, rules, i as u64, &at) {
            let k = comparison.ranking.len();
            pairs += k * (k - 1) / 2;
            ranked += 1;
            lines.push_str(&serde_json::to_string(&comparison)?);
            lines.push('\n');
        }
    }
    anyhow::ensure!(
        ranked > 0,
        "{}: no request has two responses the rules can tell apart; sample more (--k, --max-draws, --temperature)",
        from.display()
    );
    crate::write_file(to, lines.as_bytes())?;
    writeln!(
        out,
        "ranked {ranked} of {} requests ({pairs} pairs; the rest had no two responses the rules tell apart) as {:?}; written to {}",
        candidates.len(),
        rules.name(),
        to.display()
    )?;
    Ok(())
}

/// The RLHF stages; returns (stage, output folder) of the reward model and the policy.
/// Sampled and ranked files are kept and not made again when rerun (they are written
/// whole or not at all); the reward model, PPO and DPO resume from their checkpoints.
pub(crate) fn run_rlhf(
    rlhf: &RlhfStage,
    base: &Path,
    run: &Path,
    (sft_model, backend): (&Path, Backend),
    out: &mut dyn Report,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let policy = match (&rlhf.ppo, &rlhf.dpo) {
        (Some(config), None) => Policy::Ppo(config),
        (None, Some(config)) => Policy::Dpo(config),
        _ => bail!("rlhf: name exactly one of `ppo` (a miracle ppo config) and `dpo`"),
    };
    writeln!(out, "== RLHF 1/4: prompts from the experts' generators")?;
    let dir = run.join("rlhf");
    write_demos(&rlhf.prompts.spec(), &dir, out)?;
    writeln!(
        out,
        "== RLHF 2/4: sampling {} responses per prompt from the SFT model, ranking them",
        rlhf.k
    )?;
    let sampling = Sampling {
        k: rlhf.k,
        max_draws: rlhf.max_draws,
        temperature: 1.0,
        seed: rlhf.seed,
    };
    let agent = AgentOn::model(sft_model);
    // Held-out comparisons are always clean: they measure the reward model.
    for (suite, name, noise) in [
        ("prompts.jsonl", "train", rlhf.noise),
        ("heldout.jsonl", "heldout", 0.0),
    ] {
        let candidates = dir.join(format!("{name}-candidates.jsonl"));
        if !candidates.is_file() {
            sample_file(&dir.join(suite), &candidates, &sampling, 1, &agent, out)?;
        }
        let rules = Rules {
            noise,
            seed: rlhf.seed,
        };
        rank_file(
            &candidates,
            &dir.join(format!("{name}-comparisons.jsonl")),
            &rules,
            out,
        )?;
    }
    writeln!(out, "== RLHF 3/4: reward model ({})", rlhf.rm.display())?;
    let rm_config = base.join(&rlhf.rm);
    let comparisons = |name: &str| dir.join(format!("{name}-comparisons.jsonl"));
    let rm_wiring = Wiring::out(Some(run.join("rm")))
        .on(backend)
        .with("init", sft_model)
        .with("comparisons", comparisons("train"))
        .with("val", comparisons("heldout"));
    let rm_out = crate::rm::run_rm(&rm_config, &rm_wiring, out)?;
    let rm_dir = rm_out.parent().unwrap_or(&rm_out).to_path_buf();
    let policy_stage = match policy {
        Policy::Ppo(config) => {
            writeln!(out, "== RLHF 4/4: PPO-ptx ({})", config.display())?;
            let wiring = Wiring::out(Some(run.join("ppo")))
                .on(backend)
                .with("init", sft_model)
                .with("reward", &rm_out)
                .with("prompts", dir.join("prompts.jsonl"))
                .with("heldout", dir.join("heldout.jsonl"));
            (
                "ppo".to_string(),
                run_ppo(&base.join(config), None, &wiring, out)?,
            )
        }
        Policy::Dpo(config) => {
            writeln!(out, "== RLHF 4/4: DPO ({})", config.display())?;
            let wiring = Wiring::out(Some(run.join("dpo")))
                .on(backend)
                .with("init", sft_model)
                .with("comparisons", comparisons("train"))
                .with("val", comparisons("heldout"));
            let model = crate::dpo::run_dpo(&base.join(config), &wiring, out)?;
            let dir = model.parent().unwrap_or(&model).to_path_buf();
            ("dpo".to_string(), dir)
        }
    };
    Ok(vec![("rm".to_string(), rm_dir), policy_stage])
}

/// How the RLHF stage tunes the policy, and the config for it.
enum Policy<'a> {
    Ppo(&'a Path),
    Dpo(&'a Path),
}
