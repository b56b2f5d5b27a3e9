//! The subcommands, one module each.

mod ask;
mod bench;
mod bench_serve;
mod corpus;
mod demos;
mod did_you_mean;
mod dpo;
mod eval;
mod expert;
mod index;
mod label;
mod loss_curve;
pub(crate) mod model;
mod ppo;
mod pretrain;
mod progress;
mod read_args;
mod rm;
mod run;
mod search;
mod sft;
mod tokenizer;
mod train;
mod wiring;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Parser, Subcommand};

pub use did_you_mean::parse;
use serde::de::DeserializeOwned;

/// Miracle — a modular neuro-symbolic (MRKL) agent: a GPT that reasons step by step and
/// calls exact experts (calculator, literature search, code) where a step needs them.
#[derive(Debug, Parser)]
#[command(name = "miracle", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer a request with the default model and the experts (--trace, --json).
    Ask(ask::AskArgs),
    /// Talk with the agent, one request per line; the conversation is kept across turns.
    Chat(ask::ChatArgs),
    /// Run an evaluation suite through the agent: routing, answers, nDCG@10.
    Eval(eval::EvalArgs),
    /// Literature collections: list the shipped ones, check or convert library exports.
    #[command(subcommand)]
    Corpus(corpus::CorpusCommand),
    /// The bilingual byte-level BPE tokenizer: train, encode, decode, evaluate.
    #[command(subcommand)]
    Tokenizer(tokenizer::TokenizerCommand),
    /// Pretrain the GPT (language modelling) from a YAML config; rerun to resume.
    Pretrain(pretrain::PretrainArgs),
    /// Instruction data from the experts: training demonstrations and a held-out suite.
    Demos(demos::DemosArgs),
    /// Instruction-tune a pretrained model on demonstrations (SFT); rerun to resume.
    Sft(sft::SftArgs),
    /// Train a reward model on ranked comparisons (RLHF); held-out pairwise accuracy.
    Rm(rm::RmArgs),
    /// PPO-ptx on the agent loop against a reward model (RLHF); rerun to resume.
    Ppo(ppo::PpoArgs),
    /// Direct preference optimisation on ranked comparisons (RLHF without a reward model).
    Dpo(dpo::DpoArgs),
    /// Train a model from a recipe: tokenizer, pretraining, demonstrations, SFT (then RLHF).
    Train(train::TrainArgs),
    /// Model directories: convert one to bf16 weights or shards of a given size.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// RLHF labelling: sample candidate responses; rank them in the browser (serve) or by rules.
    #[command(subcommand)]
    Label(label::LabelCommand),
    /// Call one expert directly (calculator, …) and print what it returns; --list shows them.
    Expert(expert::ExpertArgs),
    /// Build or extend a literature index (the shipped corpora, or your files).
    Index(index::IndexArgs),
    /// Search the literature: keywords or questions, Chinese or English; TREC batch runs.
    Search(search::SearchArgs),
    /// The HTTP service: /v1/ask, /v1/search, workflows, OpenAI-compatible chat (docs/SERVE.md).
    Serve(crate::serve::ServeArgs),
    /// Run a workflow described in YAML: --input key=value …, --json, --trace, --check.
    Run(run::RunArgs),
    /// Benchmarks of the GPT core beside the PyTorch reference (JSON, one line per run).
    Bench(bench::BenchArgs),
}

impl Cli {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self.command {
            Command::Ask(args) => args.run(out),
            Command::Chat(args) => args.run(out),
            Command::Eval(args) => args.run(out),
            Command::Corpus(command) => command.run(out),
            Command::Tokenizer(command) => command.run(out),
            Command::Bench(args) => args.run(out),
            Command::Pretrain(args) => args.run(out),
            Command::Demos(args) => args.run(out),
            Command::Sft(args) => args.run(out),
            Command::Rm(args) => args.run(out),
            Command::Dpo(args) => args.run(out),
            Command::Ppo(args) => args.run(out),
            Command::Train(args) => args.run(out),
            Command::Model(command) => command.run(out),
            Command::Expert(args) => args.run(out),
            Command::Label(command) => command.run(out),
            Command::Index(args) => args.run(out),
            Command::Search(args) => args.run(out),
            Command::Run(args) => args.run(out),
            Command::Serve(args) => args.run(out),
        }
    }
}

/// Writes `bytes` to `path` whole (`miracle_core::fs::write_atomic`, which also creates its
/// folder), naming the file in the error.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    miracle_core::fs::write_atomic(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads the YAML file at `path` as a `what` ("fine-tuning config", "recipe"…), naming the
/// file in every error.
pub(crate) fn read_yaml<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = miracle_experts::yaml::read_file(path, miracle_experts::yaml::MAX_FILE_BYTES)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    miracle_experts::yaml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a valid {what}: {e}", path.display()))
}
