//! Training the reward model: each step takes a few prompts, scores all K responses of each
//! in one forward pass, and minimises the mean pairwise loss over their C(K, 2) pairs;
//! held-out pairwise accuracy is measured as it goes. The trained model is centred so the
//! responses it was trained on score 0 on average, then saved as a reward directory.
//!
//! ```text
//! OUT/log.csv          step,lr,loss,pair_accuracy,val_loss,val_pair_accuracy
//! OUT/checkpoints/     the newest checkpoint, where a rerun resumes (pair_checkpoint.rs)
//! OUT/model/           the reward directory (trunk + reward_head.safetensors)
//! ```

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoints;
use super::data::learning_rate;
use super::pretrain::{TrainError, io, open_log};
use super::reward::{Ranked, RewardModel, agreeing_pairs, pairwise_loss};
use super::{AdamW, AdamWConfig};
use crate::gpt::GptConfig;
use crate::rng::SplitMix64;
use crate::tokenizer::Tokenizer;

/// How to train a reward model; any field left out takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RewardSchedule {
    pub steps: u64,
    /// Prompts per step; each brings all its ranked pairs.
    pub prompts_per_step: usize,
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: u64,
    pub weight_decay: f64,
    pub eval_interval: u64,
    /// Steps between checkpoints (and after the last): a rerun resumes from the newest.
    pub checkpoint_interval: u64,
    pub seed: u64,
}

impl Default for RewardSchedule {
    fn default() -> Self {
        RewardSchedule {
            steps: 600,
            prompts_per_step: 8,
            lr: 1e-4,
            min_lr: 1e-5,
            warmup_steps: 30,
            weight_decay: 0.0,
            eval_interval: 100,
            checkpoint_interval: 100,
            seed: 1,
        }
    }
}

/// Loss and pairwise accuracy over some prompts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairScore {
    pub loss: f32,
    pub accuracy: f64,
    pub pairs: usize,
}

/// One step of training on comparisons (the reward model's or DPO's).
#[derive(Debug, Clone, PartialEq)]
pub struct PairReport {
    pub step: u64,
    pub steps: u64,
    pub lr: f64,
    pub train: PairScore,
    pub seconds: f64,
    pub val: Option<PairScore>,
}

/// What to train: the model it starts from (on an autodiff device), the comparisons, and
/// where it goes.
pub struct RewardRun<'a> {
    pub config: &'a GptConfig,
    pub tokenizer: &'a Tokenizer,
    pub start: RewardModel,
    pub train: &'a [Ranked],
    pub val: &'a [Ranked],
    pub schedule: &'a RewardSchedule,
    pub out: &'a Path,
}

/// Trains, logs and saves; returns every step's report and the final held-out score.
pub fn train_reward(
    run: RewardRun<'_>,
    mut on_step: impl FnMut(&PairReport),
) -> Result<(Vec<PairReport>, PairScore), TrainError> {
    let schedule = run.schedule;
    check(&run)?;
    let device = run.start.gpt.devices()[0].clone();
    let optimizer = || {
        AdamW::new(AdamWConfig {
            weight_decay: schedule.weight_decay,
            ..AdamWConfig::default()
        })
    };
    let checkpoints = Checkpoints {
        out: run.out,
        schedule,
    };
    let resumed = checkpoints.resume(&device, optimizer(), |dir| {
        let (model, config, _) = RewardModel::load(dir, &device).map_err(|e| e.to_string())?;
        Ok((&config == run.config).then_some(model))
    })?;
    let (mut model, mut optimizer, start) = match resumed {
        Some(resumed) => resumed,
        None => (run.start, optimizer(), 0),
    };
    let mut log = PairLog::open(run.out, start)?;
    let mut reports = Vec::new();
    for step in start..schedule.steps {
        let started = Instant::now();
        let lr = learning_rate(
            step,
            schedule.warmup_steps,
            schedule.steps,
            schedule.lr,
            schedule.min_lr,
        );
        let groups = pick(run.train, schedule, step);
        let (loss, train) = batch_loss(&model, &groups, &device);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads).0;
        let seconds = started.elapsed().as_secs_f64();
        let done = step + 1;
        let val = (done % schedule.eval_interval == 0 || done == schedule.steps)
            .then(|| evaluate(&model.valid(), run.val, &device.clone().inner()));
        let report = PairReport {
            step: done,
            steps: schedule.steps,
            lr,
            train,
            seconds,
            val,
        };
        log.write(&report)?;
        if done % schedule.checkpoint_interval == 0 || done == schedule.steps {
            checkpoints.save(done, &optimizer, |dir| {
                Ok(model.valid().save(dir, run.config, run.tokenizer)?)
            })?;
        }
        on_step(&report);
        reports.push(report);
    }
    let inference = device.clone().inner();
    let model = model.valid();
    let final_val = evaluate(&model, run.val, &inference);
    let mean = mean_score(&model, run.train, &inference);
    model
        .centre(mean)
        .save(&run.out.join("model"), run.config, run.tokenizer)?;
    Ok((reports, final_val))
}

fn check(run: &RewardRun<'_>) -> Result<(), TrainError> {
    let s = run.schedule;
    if s.steps == 0 || s.prompts_per_step == 0 || s.eval_interval == 0 || s.checkpoint_interval == 0
    {
        return Err(TrainError::Config(
            "steps, prompts_per_step, eval_interval and checkpoint_interval must be at least 1"
                .into(),
        ));
    }
    if !(s.lr > 0.0 && s.min_lr >= 0.0 && s.min_lr <= s.lr) {
        return Err(TrainError::Config(
            "lr must be positive and min_lr in [0, lr]".into(),
        ));
    }
    for (what, groups) in [("training", run.train), ("held-out", run.val)] {
        if groups.is_empty() {
            return Err(TrainError::Config(format!(
                "there are no {what} comparisons"
            )));
        }
    }
    Ok(())
}

/// The step's prompts: drawn with the seed and the step's index only, so a rerun repeats.
fn pick<'g>(groups: &'g [Ranked], schedule: &RewardSchedule, step: u64) -> Vec<&'g Ranked> {
    let mut rng = SplitMix64::new(schedule.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..schedule.prompts_per_step)
        .map(|_| &groups[(rng.next_u64() % groups.len() as u64) as usize])
        .collect()
}

/// The mean over `groups` of their pairwise losses, with every response scored in one
/// forward pass; and the loss and accuracy as numbers.
fn batch_loss(model: &RewardModel, groups: &[&Ranked], device: &Device) -> (Tensor<1>, PairScore) {
    let sequences: Vec<Vec<u32>> = groups
        .iter()
        .flat_map(|g| g.sequences.iter().cloned())
        .collect();
    let scores = model.scores(&sequences, device);
    let values = scores
        .clone()
        .into_data()
        .try_to_vec::<f32>()
        .expect("float scores");
    let mut losses = Vec::with_capacity(groups.len());
    let (mut start, mut agree, mut pairs) = (0, 0, 0);
    for group in groups {
        let k = group.sequences.len();
        let own = group.pairs();
        losses.push(pairwise_loss(scores.clone().slice(start..start + k), &own));
        agree += agreeing_pairs(&values[start..start + k], &own);
        pairs += own.len();
        start += k;
    }
    let loss = Tensor::cat(losses, 0).mean();
    let score = PairScore {
        loss: loss.clone().into_scalar::<f32>(),
        accuracy: agree as f64 / pairs.max(1) as f64,
        pairs,
    };
    (loss, score)
}

/// Loss and pairwise accuracy over all of `groups`, a few prompts at a time.
pub fn evaluate(model: &RewardModel, groups: &[Ranked], device: &Device) -> PairScore {
    let (mut loss, mut agree, mut pairs) = (0.0f64, 0.0f64, 0usize);
    for chunk in groups.chunks(8) {
        let refs: Vec<&Ranked> = chunk.iter().collect();
        let (_, score) = batch_loss(model, &refs, device);
        loss += f64::from(score.loss) * chunk.len() as f64;
        agree += score.accuracy * score.pairs as f64;
        pairs += score.pairs;
    }
    PairScore {
        loss: (loss / groups.len().max(1) as f64) as f32,
        accuracy: agree / pairs.max(1) as f64,
        pairs,
    }
}

/// The mean score of the responses of up to 256 prompts.
fn mean_score(model: &RewardModel, groups: &[Ranked], device: &Device) -> f32 {
    let sequences: Vec<&Vec<u32>> = groups.iter().take(256).flat_map(|g| &g.sequences).collect();
    let mut total = 0.0f64;
    for chunk in sequences.chunks(32) {
        let owned: Vec<Vec<u32>> = chunk.iter().map(|s| (*s).clone()).collect();
        let scores = model.scores(&owned, device);
        total += f64::from(scores.sum().into_scalar::<f32>());
    }
    (total / sequences.len().max(1) as f64) as f32
}

/// `OUT/log.csv` of a run on comparisons: one row per step.
pub struct PairLog {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl PairLog {
    /// A new log, or on resume from step `start` the rows up to it.
    pub fn open(out: &Path, start: u64) -> Result<PairLog, TrainError> {
        let file = open_log(
            out,
            start,
            "step,lr,loss,pair_accuracy,val_loss,val_pair_accuracy\n",
        )?;
        Ok(PairLog {
            path: out.join("log.csv"),
            file,
        })
    }

    pub fn write(&mut self, r: &PairReport) -> Result<(), TrainError> {
        let (vl, va) = match r.val {
            Some(v) => (v.loss.to_string(), v.accuracy.to_string()),
            None => (String::new(), String::new()),
        };
        writeln!(
            self.file,
            "{},{},{},{},{vl},{va}",
            r.step, r.lr, r.train.loss, r.train.accuracy
        )
        .map_err(io(&self.path))
    }
}
