//! RLHF's data and stages: candidates sampled from the agent (K distinct responses per
//! request), ranked by the programmatic ranker into comparisons; and, inside a recipe, the
//! chain of sampling, ranking, the reward model and the policy (PPO-ptx or DPO).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use miracle_router::rlhf::comparison::{Prompt, now_utc, read_candidates, read_prompts};
use miracle_router::rlhf::ranker::{Rules, rank};
use miracle_router::rlhf::sample::{Sampling, sample};
use miracle_router::setup::AgentOn;

use crate::demos::write_demos;
use crate::ppo::run_ppo;
use crate::recipe::RlhfStage;
use crate::wiring::{Backend, Wiring};
use crate::{Progress, Report};

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
        anyhow::Ok(())
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
