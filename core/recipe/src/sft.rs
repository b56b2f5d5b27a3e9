//! Supervised fine-tuning from a YAML config: instruction tuning of a pretrained model on
//! demonstrations ([`crate::demos`]), resumable, with the same log, checkpoints and loss
//! curve as pretraining.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use miracle_core::gpt::model_dir;
use miracle_core::rng::SplitMix64;
use miracle_core::train::pretrain::{Schedule, TrainRun, train};
use miracle_core::train::sft::{Example, Finetuning, pack};
use miracle_router::demos::Demo;
use miracle_router::protocol::render;
use miracle_router::slots;
use serde::Deserialize;

use crate::pretrain::{curve, on_step};
use crate::wiring::Wiring;
use crate::{Report, say_if_resuming};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SftFile {
    /// The pretrained model directory to start from (a recipe passes its own on).
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Demonstrations, one per line (`miracle demos`' train.jsonl; a recipe passes its own).
    #[serde(default)]
    pub demos: Option<PathBuf>,
    /// λ in L = L_assistant + λ·L_lm.
    pub lm_weight: f64,
    /// The share of demonstrations kept for the validation loss.
    #[serde(default = "val_fraction")]
    pub val_fraction: f64,
    pub train: Schedule,
    #[serde(default)]
    pub out: Option<PathBuf>,
    /// Show the model every number of a demonstration as a slot (`N0`, `N1`, …;
    /// [`miracle_router::slots`]) and mark the model so; a model that reads slots can only
    /// be fine-tuned further with them.
    #[serde(default)]
    pub number_slots: bool,
}

impl crate::StageConfig for SftFile {
    const WHAT: &'static str = "fine-tuning config";
}

fn val_fraction() -> f64 {
    0.02
}

/// Runs the fine-tuning that `config` (a YAML file) describes; returns the output folder.
pub fn run_sft(
    config: &Path,
    stop_after: Option<u64>,
    wiring: &Wiring,
    out: &mut dyn Report,
) -> anyhow::Result<PathBuf> {
    let file: SftFile = crate::read_config(config)?;
    if !(0.0..1.0).contains(&file.val_fraction) || file.lm_weight.is_nan() || file.lm_weight < 0.0 {
        bail!(
            "{}: val_fraction must be in [0, 1) and lm_weight at least 0",
            config.display()
        );
    }
    let init = wiring.required("init", config, file.init.as_ref())?;
    let device = wiring.device()?;
    let start = model_dir::load(&init, &device).with_context(|| {
        format!(
            "init: cannot load the model to fine-tune from {}",
            init.display()
        )
    })?;
    if slots::marked(&init) && !file.number_slots {
        bail!(
            "{}: the model in {} reads numbers as slots; fine-tune it with `number_slots: true`",
            config.display(),
            init.display()
        );
    }
    let demos_path = wiring.required("demos", config, file.demos.as_ref())?;
    let examples = read_examples(&demos_path, &start.tokenizer, file.number_slots)?;
    let (mut train_set, mut val_set) = (Vec::new(), Vec::new());
    let mut rng = SplitMix64::new(file.train.seed);
    for example in examples {
        if (rng.next_f32() as f64) < file.val_fraction {
            val_set.push(example);
        } else {
            train_set.push(example);
        }
    }
    shuffle(&mut train_set, &mut rng);
    let block = start.config.block_size;
    let train_rows = pack(&train_set, block);
    let val_rows = pack(&val_set, block);
    if train_rows.rows.is_empty() || val_rows.rows.is_empty() {
        bail!(
            "{}: too few demonstrations that fit the model's context of {block} tokens",
            demos_path.display()
        );
    }
    let out_dir = wiring.out_dir(config, file.out.as_ref());
    writeln!(
        out,
        "fine-tuning {} parameters on {} demonstrations ({} rows, {} trained tokens; {} longer than the context left out), validating on {}; writing to {}",
        start.config.parameter_count(),
        train_rows.examples - train_rows.too_long,
        train_rows.rows.len(),
        train_rows.rows.trained_tokens(),
        train_rows.too_long + val_rows.too_long,
        val_rows.examples - val_rows.too_long,
        out_dir.display()
    )?;
    let objective = Finetuning {
        train: &train_rows.rows,
        val: &val_rows.rows,
        batch: file.train.batch_size,
        lm_weight: file.lm_weight,
        seed: file.train.seed,
    };
    let run = TrainRun {
        config: &start.config,
        schedule: &file.train,
        tokenizer: &start.tokenizer,
        out: &out_dir,
    };
    say_if_resuming(&out_dir, out);
    let reports = train(
        &run,
        &objective,
        Some(&init),
        &device,
        stop_after,
        on_step(&out_dir, out),
    )?;
    curve(&out_dir, out);
    if file.number_slots {
        let model = out_dir.join("model");
        slots::mark(&model)
            .with_context(|| format!("cannot mark {} as reading number slots", model.display()))?;
    }
    if let Some((step, val)) = reports
        .iter()
        .rev()
        .find_map(|r| r.val_loss.map(|v| (r.step, v)))
    {
        writeln!(
            out,
            "step {step}: validation loss on the assistant's tokens {val:.4}"
        )?;
    }
    Ok(out_dir)
}

fn read_examples(
    path: &Path,
    tokenizer: &miracle_core::tokenizer::Tokenizer,
    number_slots: bool,
) -> anyhow::Result<Vec<Example>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("demos: cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let at = || format!("{}:{}", path.display(), i + 1);
            let demo: Demo = serde_json::from_str(line)
                .with_context(|| format!("{}: not a demonstration", at()))?;
            let rendered = match number_slots {
                true => render(&slots::encode(&demo.dialogue).0, tokenizer),
                false => render(&demo.dialogue, tokenizer),
            }
            .with_context(at)?;
            Ok(Example {
                ids: rendered.ids,
                trained: rendered.trained,
            })
        })
        .collect()
}

/// Fisher–Yates with the run's seed: rows mix families, reproducibly.
fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
