//! Miracle's training pipeline: the stages that make a model, in InstructGPT's order, and
//! the recipe that chains them.
//!
//! - [`pretrain`]: language modelling on the collections and prose;
//! - [`demos`]: demonstrations made by running the real experts (templates, the request
//!   generator, GSM8K);
//! - [`sft`]: instruction tuning on them;
//! - [`rlhf`]: candidates sampled from the agent and ranked, then [`rm`] (a reward model),
//!   [`ppo`] (PPO-ptx) or [`dpo`];
//! - [`recipe`]: one YAML file naming a config for each, run as one command;
//! - [`tune`]: a plugin's experts taught to a model made before;
//! - [`words`]: word vectors for a literature index (skip-gram, negative sampling).
//!
//! Every stage reads a YAML config whose paths are relative to it; a [`Wiring`] sets any of
//! them instead, which is how a recipe passes one stage's output to the next. Every stage
//! resumes: run again on the same output folder, it continues from its newest checkpoint.
//! What a stage does is told to a [`Report`]: lines of text, and each step's numbers.
//!
//! Demonstrations run the code expert, whose programs run in a worker process started from
//! the program's own binary: a program that runs recipes calls
//! `miracle_experts::code::run_worker_if_requested()` first thing in `main`
//! (tests/embedding.rs is such a program).
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use miracle_recipe::{Backend, RecipeRun};
//! let mut said = Vec::new(); // a Vec<u8> keeps the lines; `std::io::sink()` drops them
//! let model = RecipeRun::new("corpora/recipes/default.yaml", "runs/default")
//!     .on(Backend::Flex)
//!     .run(&mut said)?;
//! println!("the model is in {}", model.display());
//! # Ok(()) }
//! ```

pub mod curve;
pub mod demos;
pub mod dpo;
pub mod ppo;
pub mod pretrain;
pub mod recipe;
pub mod rerank;
pub mod rlhf;
pub mod rm;
pub mod sft;
pub mod tune;
pub mod wiring;
pub mod words;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use miracle_core::train::ppo_training::PpoReport;
use miracle_core::train::pretrain::StepReport;
use miracle_core::train::reward_training::PairReport;
use serde::de::DeserializeOwned;

pub use recipe::RecipeRun;
pub use wiring::{Backend, Wiring};

/// Where a stage tells what it does: lines of text for a person (what it read, where it
/// writes, how it scored), through [`Write`]; and its progress as it goes, through
/// [`Report::progress`], which a terminal draws as a bar and anything else may ignore.
pub trait Report: Write {
    fn progress(&mut self, _event: Progress<'_>) {}
}

/// What a stage is doing now.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A run continues from a checkpoint in its output folder.
    Resuming { checkpoint: &'a Path },
    /// A step of pretraining or SFT.
    Step(&'a StepReport),
    /// A step on comparisons: the reward model's or DPO's.
    Pairs(&'a PairReport),
    /// An iteration of PPO; `sft_val_loss` is the SFT model's validation loss, to compare.
    Ppo {
        report: &'a PpoReport,
        sft_val_loss: f32,
    },
    /// A step of training word vectors.
    Words(&'a miracle_core::words::Progress),
    /// Requests sampled from the agent so far, out of `total`.
    Sampled { done: usize, total: usize },
    /// Something went wrong that the run survives (a loss curve not drawn).
    Warning(&'a str),
}

/// Keeps the lines; progress is not kept.
impl Report for Vec<u8> {}

/// Drops everything.
impl Report for std::io::Sink {}

/// Prints the lines; progress is not shown.
impl Report for std::io::Stdout {}

/// Prints the lines; progress is not shown.
impl Report for std::io::StdoutLock<'_> {}

/// Writes `bytes` to `path` whole (`miracle_core::fs::write_atomic`, which also creates its
/// folder), naming the file in the error.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    miracle_core::fs::write_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads the YAML file at `path` as a `what` ("fine-tuning config", "recipe"…), naming the
/// file in every error.
pub fn read_yaml<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = miracle_experts::yaml::read_file(path, miracle_experts::yaml::MAX_FILE_BYTES)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    miracle_experts::yaml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a valid {what}: {e}", path.display()))
}

/// A stage's config file (`miracle sft`'s, `miracle rm`'s …), named as errors name it.
pub(crate) trait StageConfig: DeserializeOwned {
    const WHAT: &'static str;
}

/// Reads a stage's config file, naming the file in every error.
pub(crate) fn read_config<T: StageConfig>(path: &Path) -> anyhow::Result<T> {
    read_yaml(path, T::WHAT)
}

/// Tells `report` where a rerun of a resumable run picks up: the newest complete checkpoint
/// in `out`, if there is one (the run itself checks that it fits the config).
fn say_if_resuming(out: &Path, report: &mut dyn Report) {
    if let Some(name) = miracle_core::train::latest_checkpoint(out) {
        let checkpoint = out.join("checkpoints").join(name);
        report.progress(Progress::Resuming {
            checkpoint: &checkpoint,
        });
    }
}

/// Loads `dir`, or the default model (embedded by miracle-corpora) when `dir` is `None`.
pub fn load_model(
    dir: Option<&Path>,
    device: &burn::prelude::Device,
) -> anyhow::Result<miracle_core::gpt::model_dir::LoadedModel> {
    miracle_router::setup::load_model(dir, device).map_err(anyhow::Error::msg)
}

/// A runtime for expert calls (the experts are async; the pipeline is not).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime for expert calls")
}
