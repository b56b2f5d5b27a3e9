//! The subcommands, one module each.

mod bench;
mod corpus;
mod expert;
mod loss_curve;
mod pretrain;
mod read_args;
mod tokenizer;

use std::io::Write;

use clap::{Parser, Subcommand};

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
    /// Literature collections: list the shipped ones, check or convert library exports.
    #[command(subcommand)]
    Corpus(corpus::CorpusCommand),
    /// The bilingual byte-level BPE tokenizer: train, encode, decode, evaluate.
    #[command(subcommand)]
    Tokenizer(tokenizer::TokenizerCommand),
    /// Pretrain the GPT (language modelling) from a YAML config; rerun to resume.
    Pretrain(pretrain::PretrainArgs),
    /// Call one expert directly (calculator, …) and print what it returns; --list shows them.
    Expert(expert::ExpertArgs),
    /// Benchmarks of the GPT core beside the PyTorch reference (JSON, one line per run).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

impl Cli {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self.command {
            Command::Corpus(command) => command.run(out),
            Command::Tokenizer(command) => command.run(out),
            Command::Bench(command) => command.run(out),
            Command::Pretrain(args) => args.run(out),
            Command::Expert(args) => args.run(out),
        }
    }
}
