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
pub(crate) mod model;
mod ppo;
mod pretrain;
mod progress;
mod read_args;
mod rm;
mod run;
mod search;
mod sft;
mod stage;
mod tokenizer;
mod train;
mod tune;

use std::io::Write;

use clap::{Parser, Subcommand};

pub use did_you_mean::parse;

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
    /// Teach the model a plugin's experts (--experts FILE); commands given FILE then run it.
    Tune(tune::TuneArgs),
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
            Command::Tune(args) => args.run(out),
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

// One reading of YAML configs and one atomic write, the pipeline's, for every command.
pub(crate) use miracle_recipe::{read_yaml, write_file};
