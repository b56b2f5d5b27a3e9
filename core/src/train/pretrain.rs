//! Pretraining (language modelling), nanoGPT's train.py for Miracle: warm-up then cosine
//! learning rate, AdamW, global-norm clipping, gradient accumulation, periodic validation,
//! a CSV log, checkpoints, and a resume that continues exactly where a killed run stopped.
//!
//! ```text
//! OUT/log.csv                 step,lr,loss,grad_norm,tokens_per_s,val_loss,val_ppl
//! OUT/checkpoints/latest      the name of the newest complete checkpoint (rewritten atomically)
//! OUT/checkpoints/step-N/     config.json tokenizer.json model.safetensors optimizer.safetensors trainer.json
//! OUT/model/                  the final model directory
//! ```

use std::path::Path;
use std::time::Instant;

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Batches, Packed};
pub use super::trainer::TrainError;
use super::trainer::{self, Stage};
use super::{AdamW, AdamWConfig, lm_loss};
use crate::gpt::{Gpt, GptConfig, model_dir};
use crate::tokenizer::Tokenizer;

/// How to train; read from the `train:` section of a pretraining config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub batch_size: usize,
    #[serde(default = "one")]
    pub grad_accum: usize,
    /// Optimizer steps in all (`max_steps`, its earlier name, is read too).
    #[serde(alias = "max_steps")]
    pub steps: u64,
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: u64,
    #[serde(default = "weight_decay")]
    pub weight_decay: f64,
    #[serde(default = "beta1")]
    pub beta1: f64,
    #[serde(default = "beta2")]
    pub beta2: f64,
    #[serde(default = "grad_clip")]
    pub grad_clip: Option<f64>,
    pub eval_interval: u64,
    pub eval_iters: usize,
    pub checkpoint_interval: u64,
    #[serde(default)]
    pub seed: u64,
}

fn one() -> usize {
    1
}
fn weight_decay() -> f64 {
    0.1
}
fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.99
}
fn grad_clip() -> Option<f64> {
    Some(1.0)
}

/// One line of progress.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    pub step: u64,
    pub steps: u64,
    pub lr: f64,
    pub loss: f32,
    pub grad_norm: f64,
    pub tokens_per_s: f64,
    /// Wall time of the step, evaluation excluded.
    pub seconds: f64,
    /// Validation loss, on the steps that evaluate.
    pub val_loss: Option<f32>,
}

const LOG_HEADER: &str = "step,lr,loss,grad_norm,tokens_per_s,val_loss,val_ppl\n";

/// What to train, on what, and where to write it.
pub struct PretrainRun<'a> {
    pub config: &'a GptConfig,
    pub schedule: &'a Schedule,
    pub tokenizer: &'a Tokenizer,
    pub data: &'a Packed,
    pub out: &'a Path,
}

/// What a run optimises. Batches depend only on their index, never on what came before, so
/// a resumed run sees exactly the batches an uninterrupted one would have.
pub trait Objective {
    /// The loss on training micro-batch `index`.
    fn train_loss(&self, model: &Gpt, index: u64, device: &Device) -> Tensor<1>;
    /// The loss on validation batch `index`.
    fn val_loss(&self, model: &Gpt, index: u64, device: &Device) -> Tensor<1>;
    /// Tokens in one micro-batch, for the throughput shown.
    fn tokens_per_batch(&self) -> usize;
}

/// Language modelling on packed token streams.
struct LanguageModelling<'d> {
    train: Batches<'d>,
    val: Batches<'d>,
    tokens: usize,
}

impl Objective for LanguageModelling<'_> {
    fn train_loss(&self, model: &Gpt, index: u64, device: &Device) -> Tensor<1> {
        let (x, y) = self.train.get(index, device);
        lm_loss(model, x, y)
    }

    fn val_loss(&self, model: &Gpt, index: u64, device: &Device) -> Tensor<1> {
        let (x, y) = self.val.get(index, device);
        lm_loss(model, x, y)
    }

    fn tokens_per_batch(&self) -> usize {
        self.tokens
    }
}

/// Trains a GPT of `run.config` on `run.data`, writing everything under `run.out`. If `out`
/// holds a checkpoint of the same model and schedule, training resumes from it. `stop_after`
/// ends the run early after that step, with a checkpoint there, for tests and time-boxed runs.
pub fn pretrain(
    run: &PretrainRun<'_>,
    device: &Device,
    stop_after: Option<u64>,
    on_step: impl FnMut(&StepReport),
) -> Result<Vec<StepReport>, TrainError> {
    let PretrainRun {
        config,
        schedule,
        tokenizer,
        data,
        out,
    } = *run;
    let batches = |tokens, seed| Batches::new(tokens, schedule.batch_size, config.block_size, seed);
    let objective = LanguageModelling {
        train: batches(&data.train, schedule.seed).ok_or_else(|| {
            TrainError::Config("the training text is shorter than one block".into())
        })?,
        val: batches(&data.val, schedule.seed ^ 0xA5A5).ok_or_else(|| {
            TrainError::Config("the validation text is shorter than one block".into())
        })?,
        tokens: schedule.batch_size * config.block_size,
    };
    let run = TrainRun {
        config,
        schedule,
        tokenizer,
        out,
    };
    train(&run, &objective, None, device, stop_after, on_step)
}

/// A run's model, schedule and output folder, whatever its objective.
pub struct TrainRun<'a> {
    pub config: &'a GptConfig,
    pub schedule: &'a Schedule,
    pub tokenizer: &'a Tokenizer,
    pub out: &'a Path,
}

/// Language modelling (pretraining, SFT) as a stage of the one loop: a step accumulates
/// `grad_accum` micro-batches of `objective` before one optimizer update.
struct Modelling<'r> {
    run: &'r TrainRun<'r>,
    objective: &'r dyn Objective,
    /// The autodiff device the model trains on.
    device: Device,
}

impl Stage for Modelling<'_> {
    type Model = Gpt;
    type Report = StepReport;
    const HEADER: &'static str = LOG_HEADER;

    fn step(
        &mut self,
        model: Gpt,
        optimizer: &mut AdamW,
        step: u64,
        lr: f64,
    ) -> Result<(Gpt, StepReport), TrainError> {
        let schedule = self.run.schedule;
        let started = Instant::now();
        let mut accumulator = GradientsAccumulator::new();
        let mut loss_sum = 0.0;
        for micro in 0..schedule.grad_accum {
            let index = step * schedule.grad_accum as u64 + micro as u64;
            let loss = self
                .objective
                .train_loss(&model, index, &self.device)
                .div_scalar(schedule.grad_accum as f64);
            loss_sum += loss.clone().into_scalar::<f32>();
            accumulator.accumulate(&model, GradientsParams::from_grads(loss.backward(), &model));
        }
        let (model, stats) = optimizer.step(lr, model, accumulator.grads());
        let seconds = started.elapsed().as_secs_f64();
        let tokens = (self.objective.tokens_per_batch() * schedule.grad_accum) as f64;
        let report = StepReport {
            step: step + 1,
            steps: schedule.steps,
            lr,
            loss: loss_sum,
            grad_norm: stats.grad_norm,
            tokens_per_s: tokens / seconds,
            seconds,
            val_loss: None,
        };
        Ok((model, report))
    }

    fn validate(&mut self, model: &Gpt, report: &mut StepReport) -> Result<(), TrainError> {
        let inference = self.device.clone().inner();
        let iters = self.run.schedule.eval_iters;
        let total: f32 = (0..iters as u64)
            .map(|i| {
                (self.objective)
                    .val_loss(model, i, &inference)
                    .into_scalar::<f32>()
            })
            .sum();
        report.val_loss = Some(total / iters as f32);
        Ok(())
    }

    fn row(&self, r: &StepReport) -> String {
        let (val, ppl) = match r.val_loss {
            Some(v) => (v.to_string(), f64::from(v).exp().to_string()),
            None => (String::new(), String::new()),
        };
        format!(
            "{},{},{},{},{:.1},{val},{ppl}",
            r.step, r.lr, r.loss, r.grad_norm, r.tokens_per_s
        )
    }

    fn save(&self, model: &Gpt, dir: &Path) -> Result<(), TrainError> {
        let TrainRun {
            config, tokenizer, ..
        } = *self.run;
        Ok(model_dir::save(dir, config, tokenizer, model)?)
    }

    fn load(&self, dir: &Path) -> Result<Option<Gpt>, String> {
        let config = self.run.config;
        let saved =
            GptConfig::from_file(&dir.join(model_dir::CONFIG_FILE)).map_err(|e| e.to_string())?;
        if &saved != config {
            return Ok(None);
        }
        let weights = crate::gpt::weights::read(dir).map_err(|e| e.to_string())?;
        model_dir::load_weights(config, weights, &self.device).map(Some)
    }
}

/// The training loop of pretraining and fine-tuning (one [`Stage`] of the one loop):
/// warm-up and cosine learning rate, gradient accumulation, AdamW with global-norm
/// clipping, periodic validation, a CSV log, checkpoints, and exact resumption. A fresh
/// run starts from `init` (a pretrained model's directory) or, without one, from random
/// weights seeded by the schedule.
pub fn train(
    run: &TrainRun<'_>,
    objective: &dyn Objective,
    init: Option<&Path>,
    device: &Device,
    stop_after: Option<u64>,
    on_step: impl FnMut(&StepReport),
) -> Result<Vec<StepReport>, TrainError> {
    let TrainRun {
        config,
        schedule,
        tokenizer,
        out,
    } = *run;
    validate(config, schedule, tokenizer)?;
    let device = device.clone().autodiff();
    let pace = trainer::Pace {
        steps: schedule.steps,
        warmup_steps: schedule.warmup_steps,
        lr: schedule.lr,
        min_lr: schedule.min_lr,
        eval_interval: schedule.eval_interval,
        checkpoint_interval: schedule.checkpoint_interval,
    };
    let start = trainer::Start {
        optimizer: || AdamW::new(adamw_config(schedule)),
        model: || {
            device.seed(schedule.seed);
            match init {
                Some(dir) => initial_model(dir, config, &device),
                None => Ok(Gpt::new(config, &device)),
            }
        },
    };
    let mut stage = Modelling {
        run,
        objective,
        device: device.clone(),
    };
    let trained = trainer::train(
        &mut stage,
        (schedule, &pace),
        (out, &device),
        start,
        stop_after,
        on_step,
    )?;
    if let Some(model) = &trained.model {
        model_dir::save(&out.join("model"), config, tokenizer, model)?;
    }
    Ok(trained.reports)
}

/// The model a fine-tuning run starts from; it must have the run's shape.
fn initial_model(dir: &Path, config: &GptConfig, device: &Device) -> Result<Gpt, TrainError> {
    let loaded = model_dir::load(dir, device)?;
    if &loaded.config != config {
        return Err(TrainError::Config(format!(
            "{}: this model's shape differs from the run's model section",
            dir.display()
        )));
    }
    Ok(loaded.model)
}

fn adamw_config(schedule: &Schedule) -> AdamWConfig {
    AdamWConfig {
        beta1: schedule.beta1,
        beta2: schedule.beta2,
        eps: 1e-8,
        weight_decay: schedule.weight_decay,
        grad_clip: schedule.grad_clip,
    }
}

fn validate(
    config: &GptConfig,
    schedule: &Schedule,
    tokenizer: &Tokenizer,
) -> Result<(), TrainError> {
    config
        .validate()
        .map_err(|e| TrainError::Config(format!("model: {e}")))?;
    if config.vocab_size != tokenizer.vocab_size() {
        return Err(TrainError::Config(format!(
            "model vocab_size {} differs from the tokenizer's {}",
            config.vocab_size,
            tokenizer.vocab_size()
        )));
    }
    for (name, value) in [
        ("batch_size", schedule.batch_size as u64),
        ("grad_accum", schedule.grad_accum as u64),
        ("steps", schedule.steps),
        ("eval_interval", schedule.eval_interval),
        ("eval_iters", schedule.eval_iters as u64),
        ("checkpoint_interval", schedule.checkpoint_interval),
    ] {
        if value == 0 {
            return Err(TrainError::Config(format!(
                "train.{name} must be at least 1"
            )));
        }
    }
    if !(schedule.lr > 0.0 && schedule.min_lr >= 0.0 && schedule.min_lr <= schedule.lr) {
        return Err(TrainError::Config(
            "train.lr must be positive and train.min_lr in [0, lr]".into(),
        ));
    }
    Ok(())
}
