//! The subcommands, one module each.

mod bench;
mod corpus;
mod expert;
mod index;
mod loss_curve;
mod pretrain;
mod read_args;
mod search;
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
    /// Build or extend a literature index (the shipped corpora, or your files).
    Index(index::IndexArgs),
    /// Search the literature: keywords or questions, Chinese or English; TREC batch runs.
    Search(search::SearchArgs),
    /// Benchmarks of the GPT core beside the PyTorch reference (JSON, one line per run).
    Bench(bench::BenchArgs),
}

impl Cli {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self.command {
            Command::Corpus(command) => command.run(out),
            Command::Tokenizer(command) => command.run(out),
            Command::Bench(args) => args.run(out),
            Command::Pretrain(args) => args.run(out),
            Command::Expert(args) => args.run(out),
            Command::Index(args) => args.run(out),
            Command::Search(args) => args.run(out),
        }
    }
}
