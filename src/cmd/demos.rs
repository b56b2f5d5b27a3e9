//! `miracle demos --out DIR`: instruction data made by running the real experts — the
//! training demonstrations, and the held-out requests as an evaluation suite.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use miracle_router::demos::{Counts, Demo, Split, generate};

#[derive(Debug, Args)]
pub struct DemosArgs {
    /// Folder for train.jsonl (demonstrations), prompts.jsonl (their requests, as a suite:
    /// prompts for RLHF) and heldout.jsonl (an evaluation suite).
    #[arg(long)]
    out: PathBuf,
    /// Requests per calculator family and language.
    #[arg(long, default_value_t = 300)]
    calc: usize,
    /// Requests per program family and language.
    #[arg(long, default_value_t = 150)]
    code: usize,
    /// Literature requests per language.
    #[arg(long, default_value_t = 1500)]
    literature: usize,
    /// Direct requests (greetings, thanks, questions about the assistant) per language.
    #[arg(long, default_value_t = 300)]
    direct: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpec {
    pub counts: Counts,
    pub seed: u64,
}

impl DemosArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let spec = DemoSpec {
            counts: Counts {
                calc: self.calc,
                code: self.code,
                literature: self.literature,
                direct: self.direct,
                expert_demonstrations: 20,
            },
            seed: self.seed,
        };
        write_demos(&spec, &self.out, out)
    }
}

/// Generates the demos of `spec` into `dir`: `train.jsonl` (one [`Demo`] per line),
/// `prompts.jsonl` (the same requests in the evaluation suites' format, which RLHF samples
/// from) and `heldout.jsonl` (the held-out requests, in that format too).
pub fn write_demos(spec: &DemoSpec, dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let registry = miracle_router::agent_registry();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let demos = runtime
        .block_on(generate(&registry, &spec.counts, spec.seed))
        .context("generating demonstrations")?;
    let (train, held): (Vec<&Demo>, Vec<&Demo>) =
        demos.iter().partition(|d| d.split == Split::Train);
    let mut train_text = String::new();
    for demo in &train {
        train_text += &serde_json::to_string(demo)?;
        train_text.push('\n');
    }
    let suite = |demos: &[&Demo]| -> String {
        demos
            .iter()
            .map(|d| format!("{}\n", d.suite_line()))
            .collect()
    };
    // Prompts once each: the experts' own demonstrations are repeated for training.
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&Demo> = train
        .iter()
        .copied()
        .filter(|d| seen.insert(d.request()))
        .collect();
    let (prompts_text, held_text) = (suite(&distinct), suite(&held));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in [
        ("train.jsonl", train_text),
        ("prompts.jsonl", prompts_text),
        ("heldout.jsonl", held_text),
    ] {
        let path = dir.join(name);
        super::write_file(&path, text.as_bytes())?;
    }
    writeln!(
        out,
        "{} training demonstrations and {} held-out requests in {}",
        train.len(),
        held.len(),
        dir.display()
    )?;
    Ok(())
}
