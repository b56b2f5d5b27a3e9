//! Pretraining from a YAML config: language modelling on the shipped corpora, library
//! exports and running text (prose), resumable, with a CSV log, checkpoints and a loss
//! curve under the output folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use miracle_core::gpt::{GptConfig, Position};
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::data::{pack, write_bin};
use miracle_core::train::pretrain::{PretrainRun, Schedule, StepReport, pretrain};
use miracle_corpora::{Collection, ReadOptions, Text, read_path, read_texts};
use serde::Deserialize;

use crate::wiring::Wiring;
use crate::{Progress, Report, say_if_resuming};

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
pub(crate) struct PretrainFile {
    model: ModelSection,
    data: DataSection,
    train: Schedule,
    #[serde(default)]
    out: Option<PathBuf>,
}

impl crate::StageConfig for PretrainFile {
    const WHAT: &'static str = "pretraining config";
}

/// Runs the pretraining that `config` (a YAML file) describes; returns the output folder.
pub fn run_pretrain(
    config_path: &Path,
    stop_after: Option<u64>,
    wiring: &Wiring,
    out: &mut dyn Report,
) -> anyhow::Result<PathBuf> {
    let file: PretrainFile = crate::read_config(config_path)?;
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
    say_if_resuming(&out_dir, out);
    let reports = pretrain(&run, &device, stop_after, on_step(&out_dir, out))?;
    curve(&out_dir, out);
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

/// What a run of pretraining or SFT does after each step: reports it, and redraws the
/// loss curve when the step was validated.
pub(crate) fn on_step(out_dir: &Path, out: &mut dyn Report) -> impl FnMut(&StepReport) {
    move |r: &StepReport| {
        out.progress(Progress::Step(r));
        if r.val_loss.is_some() {
            curve(out_dir, out);
        }
    }
}

/// Redraws `loss.png` from `log.csv`. A failure to draw is reported and training goes on:
/// the picture is a convenience, the log and checkpoints are what matter.
pub(crate) fn curve(out_dir: &Path, out: &mut dyn Report) {
    if let Err(e) = crate::curve::draw_from_log(out_dir) {
        let warning = format!("the loss curve was not drawn: {e:#}");
        out.progress(Progress::Warning(&warning));
    }
}
