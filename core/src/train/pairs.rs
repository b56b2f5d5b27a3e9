//! Runs on comparisons — the reward model, and DPO's policy: each step draws a few prompts
//! with the seed and the step's index alone and minimises their loss over all their ranked
//! pairs; validation scores the held-out pairs.
//!
//! ```text
//! OUT/log.csv          step,lr,loss,pair_accuracy,val_loss,val_pair_accuracy
//! OUT/checkpoints/     the newest checkpoint, where a rerun resumes
//! ```
//!
//! It is a stage of the one loop (trainer.rs).

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::trainer::TrainError;
use super::trainer::{self, Stage};
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

/// A run on comparisons' share of its schedule: the loop's, and how prompts are drawn.
pub(super) struct PairPace {
    pub pace: trainer::Pace,
    pub prompts_per_step: usize,
    pub weight_decay: f64,
    pub seed: u64,
}

impl PairPace {
    pub fn check(&self) -> Result<(), TrainError> {
        let pace = &self.pace;
        if pace.steps == 0
            || self.prompts_per_step == 0
            || pace.eval_interval == 0
            || pace.checkpoint_interval == 0
        {
            return Err(TrainError::Config(
                "steps, prompts_per_step, eval_interval and checkpoint_interval must be at least 1"
                    .into(),
            ));
        }
        if !(pace.lr > 0.0 && pace.min_lr >= 0.0 && pace.min_lr <= pace.lr) {
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

/// A run on comparisons as a stage of the one loop.
struct OnPairsStage<'o, O> {
    objective: &'o O,
    pace: &'o PairPace,
}

impl<O: OnPairs> Stage for OnPairsStage<'_, O> {
    type Model = O::Model;
    type Report = PairReport;
    const HEADER: &'static str = "step,lr,loss,pair_accuracy,val_loss,val_pair_accuracy\n";

    fn step(
        &mut self,
        model: O::Model,
        optimizer: &mut AdamW,
        step: u64,
        lr: f64,
    ) -> Result<(O::Model, PairReport), TrainError> {
        let started = Instant::now();
        let picks = self.pace.picks(step, self.objective.prompts());
        let (loss, train) = self.objective.loss(&model, &picks);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optimizer.step(lr, model, grads).0;
        let report = PairReport {
            step: step + 1,
            steps: self.pace.pace.steps,
            lr,
            train,
            seconds: started.elapsed().as_secs_f64(),
            val: None,
        };
        Ok((model, report))
    }

    fn validate(&mut self, model: &O::Model, report: &mut PairReport) -> Result<(), TrainError> {
        report.val = Some(self.objective.held_out(model));
        Ok(())
    }

    fn row(&self, r: &PairReport) -> String {
        let (vl, va) = match r.val {
            Some(v) => (v.loss.to_string(), v.accuracy.to_string()),
            None => (String::new(), String::new()),
        };
        format!(
            "{},{},{},{},{vl},{va}",
            r.step, r.lr, r.train.loss, r.train.accuracy
        )
    }

    fn save(&self, model: &O::Model, dir: &Path) -> Result<(), TrainError> {
        self.objective.save(model, dir)
    }

    fn load(&self, dir: &Path) -> Result<Option<O::Model>, String> {
        self.objective.load(dir)
    }
}

/// Trains `objective` under `pace` into `out`, from `start` or from the newest checkpoint
/// of the same `schedule` there; returns the trained model (its inference copy) and
/// every step's report.
pub(super) fn train_on_pairs<O: OnPairs, S>(
    objective: &O,
    (schedule, pace): (&S, &PairPace),
    out: &Path,
    device: &Device,
    start: impl FnOnce() -> Result<O::Model, TrainError>,
    on_step: impl FnMut(&PairReport),
) -> Result<(O::Model, Vec<PairReport>), TrainError>
where
    S: Serialize + DeserializeOwned + PartialEq,
{
    pace.check()?;
    let mut stage = OnPairsStage { objective, pace };
    let start = trainer::Start {
        optimizer: || pace.optimizer(),
        model: start,
    };
    let trained = trainer::train(
        &mut stage,
        (schedule, &pace.pace),
        (out, device),
        start,
        None,
        on_step,
    )?;
    let model = trained
        .model
        .expect("a run that is not stopped early ends with its model");
    Ok((model, trained.reports))
}
