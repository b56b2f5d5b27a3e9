//! The reward model from a YAML config: trained on ranked comparisons (from the labelling
//! page or [`crate::rlhf::rank_file`]), starting from the SFT model, with its pairwise
//! accuracy on held-out comparisons, overall and by what orders each pair.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::reward::{Ranked, RewardModel};
use miracle_core::train::reward_training::{
    PairScore, RewardRun, RewardSchedule, evaluate, train_reward,
};
use miracle_router::rlhf::comparison::{Comparison, read_comparisons};
use miracle_router::rlhf::ranker::{Decider, decider};
use serde::Deserialize;

use crate::wiring::Wiring;
use crate::{Progress, Report, say_if_resuming};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmFile {
    /// The SFT model to start from; the embedded default model when absent.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Ranked comparisons to train on (JSONL; a recipe passes its own).
    #[serde(default)]
    pub comparisons: Option<PathBuf>,
    /// Held-out comparisons, for the pairwise accuracy.
    #[serde(default)]
    pub val: Option<PathBuf>,
    #[serde(default)]
    pub train: RewardSchedule,
    #[serde(default)]
    pub out: Option<PathBuf>,
}

impl crate::StageConfig for RmFile {
    const WHAT: &'static str = "reward-model config";
}

/// Trains the reward model `config` describes; returns the reward directory.
pub fn run_rm(config: &Path, wiring: &Wiring, out: &mut dyn Report) -> anyhow::Result<PathBuf> {
    let file: RmFile = crate::read_config(config)?;
    let device = wiring.device()?.autodiff();
    let init = wiring.input("init", config, file.init.as_ref());
    let start = crate::load_model(init.as_deref(), &device).context("init")?;
    let comparisons = wiring.required("comparisons", config, file.comparisons.as_ref())?;
    let train = ranked(&comparisons, &start.tokenizer)?;
    let val_path = wiring.required("val", config, file.val.as_ref())?;
    let val_comparisons = read_comparisons(&val_path)?;
    let val = render(&val_path, &val_comparisons, &start.tokenizer)?;
    let out_dir = wiring.out_dir(config, file.out.as_ref());
    say_if_resuming(&out_dir, out);
    let pairs = |groups: &[Ranked]| groups.iter().map(|g| g.pairs().len()).sum::<usize>();
    writeln!(
        out,
        "reward model on {} comparisons ({} pairs), held out {} ({} pairs); writing to {}",
        train.len(),
        pairs(&train),
        val.len(),
        pairs(&val),
        out_dir.display()
    )?;
    let run = RewardRun {
        config: &start.config,
        tokenizer: &start.tokenizer,
        start: RewardModel::new(start.model, &start.config, &device),
        train: &train,
        val: &val,
        schedule: &file.train,
        out: &out_dir,
    };
    let (_, held_out) = train_reward(run, |r| out.progress(Progress::Pairs(r)))?;
    // The saved model, scored on the held-out pairs by what orders them (see
    // `decider_scores`): how much of the ranking it can see, and how well it learnt that.
    let inference = wiring.device()?;
    let model_dir = out_dir.join("model");
    let (saved, _, _) = RewardModel::load(&model_dir, &inference)
        .with_context(|| format!("cannot load the reward model in {}", model_dir.display()))?;
    let by_decider = decider_scores(&saved, &val_comparisons, &val, &inference);
    let totals: Vec<(&str, &PairScore)> = (by_decider.iter())
        .filter(|((_, category), _)| category == "all")
        .map(|((decider, _), score)| (decider_key(*decider), score))
        .collect();
    let split: serde_json::Map<String, serde_json::Value> = (totals.iter())
        .map(|(key, score)| {
            let value = serde_json::json!({"pairs": score.pairs, "accuracy": score.accuracy});
            (key.to_string(), value)
        })
        .collect();
    let report = serde_json::json!({
        "comparisons": train.len(),
        "pairs": pairs(&train),
        "held_out_comparisons": val.len(),
        "held_out_pairs": held_out.pairs,
        "held_out_pair_accuracy": held_out.accuracy,
        "held_out_loss": held_out.loss,
        "held_out_by_what_orders_the_pair": split,
        "schedule": file.train,
    });
    let report_path = out_dir.join("report.json");
    crate::write_file(
        &report_path,
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    writeln!(
        out,
        "held-out pairwise accuracy {:.1}% ({} pairs), loss {:.4}; reward model in {}",
        held_out.accuracy * 100.0,
        held_out.pairs,
        held_out.loss,
        model_dir.display()
    )?;
    for (key, score) in &totals {
        writeln!(
            out,
            "  ordered by the {key}: {} pairs, {:.1}% right",
            score.pairs,
            score.accuracy * 100.0
        )?;
    }
    Ok(model_dir)
}

/// Scores `comparisons` with the trained reward model of `config` (in its output folder),
/// overall, per category and by what orders each pair.
pub fn evaluate_rm(
    config: &Path,
    wiring: &Wiring,
    comparisons: &Path,
    out: &mut dyn Report,
) -> anyhow::Result<()> {
    let file: RmFile = crate::read_config(config)?;
    let dir = wiring.out_dir(config, file.out.as_ref()).join("model");
    let device = wiring.device()?;
    let (model, _, tokenizer) = RewardModel::load(&dir, &device)
        .with_context(|| format!("cannot load the reward model in {}", dir.display()))?;
    let read = read_comparisons(comparisons)?;
    let rendered = render(comparisons, &read, &tokenizer)?;
    let mut groups: BTreeMap<&str, Vec<Ranked>> = Default::default();
    for (c, ranked) in read.iter().zip(&rendered) {
        let category = c.candidates.prompt.category.as_deref().unwrap_or("-");
        groups.entry(category).or_default().push(ranked.clone());
    }
    // Each category is scored once; "all" is their sum, not a second pass of the model
    // over everything.
    let scores: Vec<(&str, usize, PairScore)> = groups
        .iter()
        .map(|(name, g)| (*name, g.len(), evaluate(&model, g, &device)))
        .collect();
    let n: usize = scores.iter().map(|(_, n, _)| n).sum();
    let all = summed(scores.iter().map(|(_, n, s)| (*n, *s)));
    for (name, n, score) in std::iter::once(("all", n, all)).chain(scores) {
        writeln!(
            out,
            "{name:<12} {n:>5} comparisons {:>6} pairs  pairwise accuracy {:.1}%  loss {:.4}",
            score.pairs,
            score.accuracy * 100.0,
            score.loss
        )?;
    }
    print_decider_scores(&decider_scores(&model, &read, &rendered, &device), out)
}

/// Scores of parts summed: the loss weighted by each part's comparisons, the accuracy by
/// its pairs.
fn summed(parts: impl Iterator<Item = (usize, PairScore)> + Clone) -> PairScore {
    let comparisons: usize = parts.clone().map(|(n, _)| n).sum();
    let pairs: usize = parts.clone().map(|(_, s)| s.pairs).sum();
    let loss = parts
        .clone()
        .map(|(n, s)| f64::from(s.loss) * n as f64)
        .sum::<f64>();
    let agree = parts.map(|(_, s)| s.accuracy * s.pairs as f64).sum::<f64>();
    PairScore {
        loss: (loss / comparisons.max(1) as f64) as f32,
        accuracy: agree / pairs.max(1) as f64,
        pairs,
    }
}

/// Pairwise accuracy split by what orders each pair: the responses' form, or only the
/// suite's reference (the expected expert, answer or papers), which the reward model can
/// match only by solving the request; per category, and "all" (their sum). Meant for clean
/// comparisons (a reversed ranking's pairs all look reference-ordered).
fn decider_scores(
    model: &RewardModel,
    comparisons: &[Comparison],
    rendered: &[Ranked],
    device: &Device,
) -> BTreeMap<(Decider, String), PairScore> {
    let mut groups: BTreeMap<(Decider, String), Vec<Ranked>> = BTreeMap::new();
    for (c, ranked) in comparisons.iter().zip(rendered) {
        let responses = &c.candidates.responses;
        let category = c.candidates.prompt.category.as_deref().unwrap_or("-");
        for (w, l) in ranked.pairs() {
            let decider = decider(&c.candidates.prompt, &responses[w], &responses[l]);
            // One pair as its own two-response comparison: the same two scores, so the
            // same agreement, and it can be grouped apart from its siblings.
            groups
                .entry((decider, category.to_string()))
                .or_default()
                .push(Ranked {
                    sequences: vec![ranked.sequences[w].clone(), ranked.sequences[l].clone()],
                    written: vec![ranked.written[w].clone(), ranked.written[l].clone()],
                    ranking: vec![0, 1],
                });
        }
    }
    let mut scores: BTreeMap<(Decider, String), PairScore> = groups
        .iter()
        .map(|(key, pairs)| (key.clone(), evaluate(model, pairs, device)))
        .collect();
    for decider in [Decider::Form, Decider::Reference] {
        let parts = (scores.iter())
            .filter(|((d, _), _)| *d == decider)
            .map(|(_, s)| (s.pairs, *s));
        let all = summed(parts);
        if all.pairs > 0 {
            scores.insert((decider, "all".into()), all);
        }
    }
    scores
}

/// How a decider is named in reports: "form" or "reference".
fn decider_key(decider: Decider) -> &'static str {
    match decider {
        Decider::Form => "form",
        Decider::Reference => "reference",
    }
}

fn print_decider_scores(
    scores: &BTreeMap<(Decider, String), PairScore>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(out, "by what orders the pair:")?;
    for ((decider, category), score) in scores {
        writeln!(
            out,
            "{:<14} {category:<12} {:>6} pairs  pairwise accuracy {:.1}%",
            format!("the {}", decider_key(*decider)),
            score.pairs,
            score.accuracy * 100.0
        )?;
    }
    Ok(())
}

/// Reads comparisons and renders them for training.
pub(crate) fn ranked(path: &Path, tokenizer: &Tokenizer) -> anyhow::Result<Vec<Ranked>> {
    render(path, &read_comparisons(path)?, tokenizer)
}

/// Renders the comparisons read from `path` (named in errors).
fn render(
    path: &Path,
    comparisons: &[Comparison],
    tokenizer: &Tokenizer,
) -> anyhow::Result<Vec<Ranked>> {
    (comparisons.iter().enumerate())
        .map(|(i, c)| {
            c.ranked(tokenizer)
                .with_context(|| format!("{}: comparison {}", path.display(), i + 1))
        })
        .collect()
}
