//! The loop of every run on comparisons — the reward model, and DPO's policy: each step
//! draws a few prompts with the seed and the step's index alone, minimises their loss over
//! all their ranked pairs, measures the held-out pairs now and then, logs a row, and
//! checkpoints, so that a killed run resumes with the losses of one never stopped.
//!
//! ```text
//! OUT/log.csv          step,lr,loss,pair_accuracy,val_loss,val_pair_accuracy
//! OUT/checkpoints/     the newest checkpoint, where a rerun resumes
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::checkpoint::Checkpoints;
use super::data::learning_rate;
use super::pretrain::{TrainError, io, open_log};
use super::{AdamW, AdamWConfig};
use crate::rng::SplitMix64;

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

/// The numbers of a schedule that the loop itself reads (each objective's schedule has
/// its own fields beside them).
pub(super) struct Pace {
    pub steps: u64,
    pub prompts_per_step: usize,
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: u64,
    pub weight_decay: f64,
    pub eval_interval: u64,
    pub checkpoint_interval: u64,
    pub seed: u64,
}

impl Pace {
    pub fn check(&self) -> Result<(), TrainError> {
        if self.steps == 0
            || self.prompts_per_step == 0
            || self.eval_interval == 0
            || self.checkpoint_interval == 0
        {
            return Err(TrainError::Config(
                "steps, prompts_per_step, eval_interval and checkpoint_interval must be at least 1"
                    .into(),
            ));
        }
        if !(self.lr > 0.0 && self.min_lr >= 0.0 && self.min_lr <= self.lr) {
            return Err(TrainError::Config(
                "lr must be positive and min_lr in [0, lr]".into(),
            ));
        }
        Ok(())
    }

    fn optimizer(&self) -> AdamW {
        AdamW::new(AdamWConfig {
            weight_decay: self.weight_decay,
            ..AdamWConfig::default()
        })
    }

    /// The training prompts of step `step`, out of `prompts`: the seed and the index alone
    /// decide them, so a rerun repeats them.
    fn picks(&self, step: u64, prompts: usize) -> Vec<usize> {
        let mut rng = SplitMix64::new(self.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (0..self.prompts_per_step)
            .map(|_| (rng.next_u64() % prompts as u64) as usize)
            .collect()
    }
}

/// What a run on comparisons trains, and how it scores, saves and reads its model.
pub(super) trait OnPairs {
    type Model: Module;
    /// Training prompts there are to draw from.
    fn prompts(&self) -> usize;
    /// The loss over the training prompts `picks` (on the autodiff device), and its score.
    fn loss(&self, model: &Self::Model, picks: &[usize]) -> (Tensor<1>, PairScore);
    /// The score on the held-out prompts, of the model's inference copy.
    fn held_out(&self, model: &Self::Model) -> PairScore;
    /// Writes the model into the folder `dir`.
    fn save(&self, model: &Self::Model, dir: &Path) -> Result<(), TrainError>;
    /// The model a checkpoint's folder holds, or `None` if it has another shape.
    fn load(&self, dir: &Path) -> Result<Option<Self::Model>, String>;
}

/// Trains `objective` under `pace` into `out`, from `start` or from the newest checkpoint
/// of the same `schedule` there; returns the trained model (its inference copy) and
/// every step's report.
pub(super) fn train_on_pairs<O: OnPairs, S>(
    objective: &O,
    (schedule, pace): (&S, &Pace),
    out: &Path,
    device: &Device,
    start: impl FnOnce() -> Result<O::Model, TrainError>,
    mut on_step: impl FnMut(&PairReport),
) -> Result<(O::Model, Vec<PairReport>), TrainError>
where
    S: Serialize + DeserializeOwned + PartialEq,
{
    pace.check()?;
    let checkpoints = Checkpoints { out, schedule };
    let resumed = checkpoints.resume(device, pace.optimizer(), |dir| objective.load(dir))?;
    let (mut model, mut optimizer, first) = match resumed {
        Some(resumed) => resumed,
        None => (start()?, pace.optimizer(), 0),
    };
    let mut log = PairLog::open(out, first)?;
    let mut reports = Vec::new();
    for step in first..pace.steps {
        let started = Instant::now();
        let lr = learning_rate(step, pace.warmup_steps, pace.steps, pace.lr, pace.min_lr);
        let (loss, train) = objective.loss(&model, &pace.picks(step, objective.prompts()));
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(lr, model, grads).0;
        let seconds = started.elapsed().as_secs_f64();
        let done = step + 1;
        let val = (done % pace.eval_interval == 0 || done == pace.steps)
            .then(|| objective.held_out(&model.valid()));
        let report = PairReport {
            step: done,
            steps: pace.steps,
            lr,
            train,
            seconds,
            val,
        };
        log.write(&report)?;
        if done % pace.checkpoint_interval == 0 || done == pace.steps {
            checkpoints.save(done, &optimizer, |dir| objective.save(&model.valid(), dir))?;
        }
        on_step(&report);
        reports.push(report);
    }
    Ok((model.valid(), reports))
}

/// `OUT/log.csv` of a run on comparisons: one row per step.
pub struct PairLog {
    path: PathBuf,
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
