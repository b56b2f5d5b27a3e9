//! `miracle dpo --config FILE.yaml`: direct preference optimisation of the SFT model on
//! ranked comparisons — no reward model, no rollouts — reporting how often its implicit
//! reward orders held-out pairs as the labellers did.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;
use clap::Args;
use miracle_core::train::dpo::{DpoRun, DpoSchedule, train_dpo};
use serde::Deserialize;

use super::rm::{progress, ranked};

#[derive(Debug, Args)]
pub struct DpoArgs {
    /// The DPO config (YAML): init, comparisons, val, train and out.
    #[arg(long)]
    config: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpoFile {
    /// The SFT model: the start and the reference; the embedded default model when absent.
    #[serde(default)]
    pub init: Option<PathBuf>,
    pub comparisons: PathBuf,
    pub val: PathBuf,
    #[serde(default)]
    pub train: DpoSchedule,
    pub out: PathBuf,
}

impl DpoArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        run_dpo(&self.config, out).map(|_| ())
    }
}

/// Runs the DPO `config` describes; returns the tuned model's directory.
pub fn run_dpo(config: &Path, out: &mut dyn Write) -> anyhow::Result<PathBuf> {
    let file: DpoFile = super::read_yaml(config, "DPO config")?;
    let base = config.parent().unwrap_or(Path::new("."));
    let device = Device::flex();
    let init = file.init.as_ref().map(|p| base.join(p));
    let sft = super::model::load(init.as_deref(), &device).context("init")?;
    let train = ranked(&base.join(&file.comparisons), &sft.tokenizer)?;
    let val = ranked(&base.join(&file.val), &sft.tokenizer)?;
    let out_dir = base.join(&file.out);
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
    let (_, held_out) = train_dpo(&run, &device, progress)?;
    eprintln!();
    writeln!(
        out,
        "held-out pairwise accuracy of the implicit reward {:.1}% ({} pairs); model in {}",
        held_out.accuracy * 100.0,
        held_out.pairs,
        out_dir.join("model").display()
    )?;
    Ok(out_dir.join("model"))
}
