//! `miracle pretrain --config FILE.yaml`: language-model pretraining on the shipped corpora,
//! library exports and running text (prose), resumable, with a CSV log and checkpoints under `out`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use miracle_core::gpt::{GptConfig, Position};
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::data::{pack, write_bin};
use miracle_core::train::pretrain::{PretrainRun, Schedule, StepReport, pretrain};
use miracle_corpora::{Collection, ReadOptions, Text, read_path, read_texts};
use serde::Deserialize;

use super::loss_curve;
use super::progress::{bar, eta, say_if_resuming};
use super::wiring::{Backend, Wiring};

#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// The pretraining config (YAML): model, data, train and out sections.
    #[arg(long)]
    config: PathBuf,
    /// Stop after this step (a checkpoint is written there); rerun to resume.
    #[arg(long)]
    stop_after: Option<u64>,
    /// Where the run goes (created; rerun with the same folder to resume): by default the
    /// config's `out:`, else runs/<config name> in the current directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where it trains: flex (the CPU) or wgpu (the default GPU; a build with
    /// `--features wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
}

/// The model's shape; the vocabulary comes from the tokenizer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSection {
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    block_size: usize,
    #[serde(default)]
    dropout: f64,
    #[serde(default)]
    bias: bool,
    /// `learned` (GPT-2) or `rotary`.
    #[serde(default)]
    position: Position,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataSection {
    /// Shipped collections by name (csl, scifact).
    #[serde(default)]
    collections: Vec<String>,
    /// Literature files in any format `miracle corpus check` reads.
    #[serde(default)]
    files: Vec<PathBuf>,
    /// Running text: JSON Lines of `{"id", "text"}`, or folders of them (the prose that
    /// `scripts/prose/fetch` writes).
    #[serde(default)]
    texts: Vec<PathBuf>,
    /// A tokenizer.json; the shipped tokenizer when absent.
    #[serde(default)]
    tokenizer: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PretrainFile {
    model: ModelSection,
    data: DataSection,
    train: Schedule,
    #[serde(default)]
    out: Option<PathBuf>,
}

impl PretrainArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        run_pretrain(
            &self.config,
            self.stop_after,
            &Wiring::out(self.out).on(self.device),
            out,
        )
        .map(|_| ())
    }
}

/// Runs the pretraining that `config` (a YAML file) describes; returns the output folder.
pub(super) fn run_pretrain(
    config_path: &Path,
    stop_after: Option<u64>,
    wiring: &Wiring,
    out: &mut dyn Write,
) -> anyhow::Result<PathBuf> {
    let file: PretrainFile = super::read_yaml(config_path, "pretraining config")?;
    let device = wiring.device()?;
    // Relative paths in the config are relative to the config file.
    let base = config_path.parent().unwrap_or(Path::new("."));
    let tokenizer = match &file.data.tokenizer {
        Some(path) => Tokenizer::from_file(&base.join(path))?,
        None => Tokenizer::shipped()?,
    };
    let documents = documents(&file.data, base)?;
    let data = pack(&tokenizer, &documents.texts)?;
    let out_dir = wiring.out_dir(config_path, file.out.as_ref());
    for (name, tokens) in [("train.bin", &data.train), ("val.bin", &data.val)] {
        let path = out_dir.join("data").join(name);
        write_bin(&path, tokens).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let m = &file.model;
    let config = GptConfig {
        n_layer: m.n_layer,
        n_head: m.n_head,
        n_embd: m.n_embd,
        block_size: m.block_size,
        vocab_size: tokenizer.vocab_size(),
        dropout: m.dropout,
        bias: m.bias,
        position: m.position,
    };
    writeln!(
        out,
        "pretraining {} parameters on {} training and {} validation tokens from {} papers and {} other documents; writing to {}",
        config.parameter_count(),
        data.train.len(),
        data.val.len(),
        documents.papers,
        documents.texts.len() - documents.papers,
        out_dir.display()
    )?;
    let run = PretrainRun {
        config: &config,
        schedule: &file.train,
        tokenizer: &tokenizer,
        data: &data,
        out: &out_dir,
    };
    say_if_resuming(&out_dir);
    let on_step = |r: &StepReport| {
        progress(r);
        if r.val_loss.is_some() {
            curve(&out_dir);
        }
    };
    let reports = pretrain(&run, &device, stop_after, on_step)?;
    eprintln!();
    curve(&out_dir);
    let last = reports.last().map_or(0, |r| r.step);
    if let Some((step, val)) = reports
        .iter()
        .rev()
        .find_map(|r| r.val_loss.map(|v| (r.step, v)))
    {
        writeln!(
            out,
            "step {step}: validation loss {val:.4}, perplexity {:.1}",
            f64::from(val).exp()
        )?;
    }
    if reports.is_empty() || last == file.train.steps {
        writeln!(
            out,
            "done: the model is in {}",
            out_dir.join("model").display()
        )?;
    } else {
        writeln!(
            out,
            "stopped after step {last} with a checkpoint; run the same command again to resume"
        )?;
    }
    Ok(out_dir)
}

/// What pretraining reads: papers first, then running text.
struct Documents {
    texts: Vec<Text>,
    /// How many of `texts` are papers.
    papers: usize,
}

fn documents(data: &DataSection, base: &Path) -> anyhow::Result<Documents> {
    let mut texts = Vec::new();
    for name in &data.collections {
        let Some(collection) = Collection::from_name(name) else {
            bail!("data.collections: no shipped collection is called `{name}` (csl, scifact)");
        };
        texts.extend(collection.papers()?.iter().map(|p| p.as_text()));
    }
    for file in &data.files {
        let read = read_path(&base.join(file), &ReadOptions::default())?;
        texts.extend(read.papers.iter().map(|p| p.as_text()));
    }
    let papers = texts.len();
    for path in &data.texts {
        let read = read_texts(&base.join(path))
            .context("data.texts (scripts/prose/fetch writes the prose corpora)")?;
        texts.extend(read);
    }
    if texts.is_empty() {
        bail!("data: nothing to train on; name collections (csl, scifact), files or texts");
    }
    Ok(Documents { texts, papers })
}

/// Redraws `loss.png` from `log.csv`. A failure to draw is reported and training goes on:
/// the picture is a convenience, the log and checkpoints are what matter.
pub(super) fn curve(out_dir: &Path) {
    if let Err(e) = loss_curve::draw_from_log(out_dir) {
        eprintln!("\nwarning: the loss curve was not drawn: {e:#}");
    }
}

/// One progress line on stderr, rewritten in place; validation steps stay on screen.
pub(super) fn progress(r: &StepReport) {
    let left = ((r.steps - r.step) as f64 * r.seconds) as u64;
    let line = format!(
        "{} step {}/{}  loss {:.4}  lr {:.2e}  |g| {:.2}  {:.0} tok/s  {}",
        bar(r.step, r.steps),
        r.step,
        r.steps,
        r.loss,
        r.lr,
        r.grad_norm,
        r.tokens_per_s,
        eta(left)
    );
    match r.val_loss {
        Some(val) => eprintln!("\r{line}  val {val:.4} (ppl {:.1})", f64::from(val).exp()),
        None => eprint!("\r{line}"),
    }
}
