//! `miracle demos --out DIR`: instruction data made by running the real experts — the
//! training demonstrations, and the held-out requests as an evaluation suite.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use miracle_router::demos::{Counts, Demo, Split, generate, gsm8k};

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
    /// Instead: GSM8K's training problems (its train.jsonl) as demonstrations, with every
    /// --heldout-every-th problem kept out as a validation suite (heldout.jsonl).
    #[arg(long, value_name = "FILE")]
    gsm8k: Option<PathBuf>,
    #[arg(long, default_value_t = 10, requires = "gsm8k")]
    heldout_every: usize,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpec {
    pub counts: Counts,
    pub seed: u64,
}

impl DemosArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        if let Some(file) = &self.gsm8k {
            return write_gsm8k(file, self.heldout_every, &self.out, out);
        }
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

/// GSM8K's problems as demonstrations (`train.jsonl`, with their requests as
/// `prompts.jsonl`) and a validation suite (`heldout.jsonl`), in `dir`.
fn write_gsm8k(
    file: &Path,
    heldout_every: usize,
    dir: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    anyhow::ensure!(heldout_every >= 2, "--heldout-every must be at least 2");
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let problems = gsm8k::read(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let registry = miracle_router::agent_registry();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let converted = runtime.block_on(gsm8k::convert(&problems, &registry, heldout_every));
    let lines = |values: Vec<String>| values.concat();
    let train = lines(
        (converted.train.iter())
            .map(|d| serde_json::to_string(d).map(|l| l + "\n"))
            .collect::<Result<_, _>>()?,
    );
    let prompts = lines(
        (converted.train.iter())
            .map(|d| format!("{}\n", d.suite_line()))
            .collect(),
    );
    let heldout = lines(
        (converted.validation.iter())
            .map(|p| format!("{}\n", p.suite_line()))
            .collect(),
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in [
        ("train.jsonl", train),
        ("prompts.jsonl", prompts),
        ("heldout.jsonl", heldout),
    ] {
        super::write_file(&dir.join(name), text.as_bytes())?;
    }
    let training = problems.len() - converted.validation.len();
    writeln!(
        out,
        "{} problems: {} validation (every {heldout_every}th, whole), {} training, of which {} became demonstrations; written to {}",
        problems.len(),
        converted.validation.len(),
        training,
        converted.train.len(),
        dir.display()
    )?;
    for (reason, count) in &converted.left_out {
        writeln!(out, "  left out of training: {count}: {reason}")?;
    }
    Ok(())
}
