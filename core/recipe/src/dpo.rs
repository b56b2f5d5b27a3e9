//! DPO from a YAML config: direct preference optimisation of the SFT model on
//! ranked comparisons — no reward model, no rollouts — reporting how often its implicit
//! reward orders held-out pairs as the labellers did.

use std::path::{Path, PathBuf};

use anyhow::Context;
use miracle_core::train::dpo::{DpoRun, DpoSchedule, train_dpo};
use serde::Deserialize;

use crate::rm::ranked;
use crate::wiring::Wiring;
use crate::{Progress, Report, say_if_resuming};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpoFile {
    /// The SFT model: the start and the reference; the embedded default model when absent.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Ranked comparisons to train on (a recipe passes its own).
    #[serde(default)]
    pub comparisons: Option<PathBuf>,
    #[serde(default)]
    pub val: Option<PathBuf>,
    #[serde(default)]
    pub train: DpoSchedule,
    #[serde(default)]
    pub out: Option<PathBuf>,
}

impl crate::StageConfig for DpoFile {
    const WHAT: &'static str = "DPO config";
}

/// Runs the DPO `config` describes; returns the tuned model's directory.
pub fn run_dpo(config: &Path, wiring: &Wiring, out: &mut dyn Report) -> anyhow::Result<PathBuf> {
    let file: DpoFile = crate::read_config(config)?;
    let device = wiring.device()?;
    let init = wiring.input("init", config, file.init.as_ref());
    let sft = crate::load_model(init.as_deref(), &device).context("init")?;
    let comparisons = wiring.required("comparisons", config, file.comparisons.as_ref())?;
    let train = ranked(&comparisons, &sft.tokenizer)?;
    let val = ranked(
        &wiring.required("val", config, file.val.as_ref())?,
        &sft.tokenizer,
    )?;
    let out_dir = wiring.out_dir(config, file.out.as_ref());
    say_if_resuming(&out_dir, out);
    writeln!(
        out,
        "DPO on {} comparisons, held out {}; writing to {}",
        train.len(),
        val.len(),
        out_dir.display()
    )?;
    let run = DpoRun {
        config: &sft.config,
        tokenizer: &sft.tokenizer,
        sft: &sft.model,
        train: &train,
        val: &val,
        schedule: &file.train,
        out: &out_dir,
    };
    let (_, held_out) = train_dpo(&run, &device, |r| out.progress(Progress::Pairs(r)))?;
    writeln!(
        out,
        "held-out pairwise accuracy of the implicit reward {:.1}% ({} pairs); model in {}",
        held_out.accuracy * 100.0,
        held_out.pairs,
        out_dir.join("model").display()
    )?;
    Ok(out_dir.join("model"))
}
