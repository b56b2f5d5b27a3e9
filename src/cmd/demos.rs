//! `miracle demos --out DIR`: instruction data made by running the real experts — the
//! training demonstrations, and the held-out requests as an evaluation suite.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use miracle_router::demos::{Counts, Demo, Lang, Split, generate, gsm8k};

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
    /// Instead: N requests from the compositional generator (meanings realised through a
    /// grammar in both languages; docs/TRAINING.md), each checked on the real experts. The
    /// held-out ones (whole words, frames and combinations no training request holds) go
    /// to heldout.jsonl, each with the reasons it is held out.
    #[arg(long, value_name = "N", conflicts_with = "gsm8k")]
    compose: Option<usize>,
    /// The share of composed requests drawn as held-out ones.
    #[arg(long, default_value_t = 0.15, requires = "compose")]
    heldout_share: f32,
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
        if let Some(requests) = self.compose {
            anyhow::ensure!(
                (0.0..=1.0).contains(&self.heldout_share),
                "--heldout-share must be between 0 and 1, not {}",
                self.heldout_share
            );
            let plan = miracle_requests::Plan {
                requests,
                held_out_share: self.heldout_share,
            };
            return write_composed(&plan, self.seed, &self.out, out);
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

/// The compositional generator's demos: `train.jsonl` and `prompts.jsonl` as for the
/// template demos, `heldout.jsonl`, the held-out single-turn requests as a suite whose
/// lines say why each is held out (`held_out`), and `held-out-forms.json`, the words no
/// training request may hold.
fn write_composed(
    plan: &miracle_requests::Plan,
    seed: u64,
    dir: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let registry = miracle_router::agent_registry();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let composed = runtime
        .block_on(miracle_requests::compose(&registry, plan, seed))
        .context("composing requests")?;
    let (mut train, mut prompts, mut heldout) = (String::new(), String::new(), String::new());
    for c in &composed {
        let single = c.demo.dialogue.exchanges.len() == 1;
        match c.demo.split {
            Split::Train => {
                train += &(serde_json::to_string(&c.demo)? + "\n");
                if single {
                    prompts += &format!("{}\n", c.demo.suite_line());
                }
            }
            Split::HeldOut => {
                let mut line = c.demo.suite_line();
                line["held_out"] = serde_json::json!(c.marks);
                heldout += &format!("{line}\n");
            }
        }
    }
    // The held-out forms, so that data from elsewhere mixed into training can be checked
    // against them (a held-out word in it would void the split).
    let forms = serde_json::json!({
        "en": miracle_requests::lexicon::held_forms(Lang::En),
        "zh": miracle_requests::lexicon::held_forms(Lang::Zh),
    });
    for (name, text) in [
        ("train.jsonl", train),
        ("prompts.jsonl", prompts),
        ("heldout.jsonl", heldout),
        ("held-out-forms.json", format!("{forms:#}\n")),
    ] {
        super::write_file(&dir.join(name), text.as_bytes())?;
    }
    let held = composed
        .iter()
        .filter(|c| c.demo.split == Split::HeldOut)
        .count();
    writeln!(
        out,
        "{} composed requests, each checked on the experts: {} for training, {held} held out, in {}",
        composed.len(),
        composed.len() - held,
        dir.display()
    )?;
    Ok(())
}
