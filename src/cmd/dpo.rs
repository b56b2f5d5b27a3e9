//! `miracle dpo --config FILE.yaml`: direct preference optimisation of the SFT model on
//! ranked comparisons — no reward model, no rollouts — reporting how often its implicit
//! reward orders held-out pairs as the labellers did.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use miracle_core::train::dpo::{DpoRun, DpoSchedule, train_dpo};
use serde::Deserialize;

use super::rm::{progress, ranked};
use super::wiring::{Backend, Wiring};

#[derive(Debug, Args)]
pub struct DpoArgs {
    /// The DPO config (YAML): init, comparisons, val, train and out.
    #[arg(long)]
    config: PathBuf,
    /// Where the run goes (created; rerun with the same folder to resume): by default the
    /// config's `out:`, else runs/<config name> in the current directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where it trains: flex (the CPU) or wgpu (the default GPU; a build with
    /// `--features wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
}

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

impl DpoArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        run_dpo(&self.config, &Wiring::out(self.out).on(self.device), out).map(|_| ())
    }
}

/// Runs the DPO `config` describes; returns the tuned model's directory.
pub fn run_dpo(config: &Path, wiring: &Wiring, out: &mut dyn Write) -> anyhow::Result<PathBuf> {
    let file: DpoFile = super::read_yaml(config, "DPO config")?;
    let device = wiring.device()?;
    let init = wiring.input("init", config, file.init.as_ref());
    let sft = super::model::load(init.as_deref(), &device).context("init")?;
    let comparisons = wiring.required("comparisons", config, file.comparisons.as_ref())?;
    let train = ranked(&comparisons, &sft.tokenizer)?;
    let val = ranked(
        &wiring.required("val", config, file.val.as_ref())?,
        &sft.tokenizer,
    )?;
    let out_dir = wiring.out_dir(config, file.out.as_ref());
    super::progress::say_if_resuming(&out_dir);
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
