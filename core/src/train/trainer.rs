//! The one training loop. Pretraining and SFT (language modelling on token batches), the
//! reward model and DPO (comparisons) and PPO (rollouts, then epochs of updates) differ in
//! what one step does and what it measures; each is a [`Stage`]. The loop is theirs in
//! common: the learning-rate schedule, validation every `eval_interval` steps and after
//! the last, a CSV log row per step, checkpoints every `checkpoint_interval` steps, and a
//! resume from the newest of them that logs the same numbers as a run never stopped.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::Device;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AdamW;
use super::checkpoint::Checkpoints;
use super::data::learning_rate;
use crate::gpt::model_dir;

/// What one stage trains, and how: a step, a validation, a log row, its model on disk.
pub(super) trait Stage {
    /// The model on the autodiff device.
    type Model: Module;
    /// What a step measured (and, on validated steps, the validation).
    type Report;
    /// The log's header line (with its newline).
    const HEADER: &'static str;

    /// Trains step `step` (from 0) at learning rate `lr`; its batches depend on `step`
    /// alone, so a resumed run repeats them.
    fn step(
        &mut self,
        model: Self::Model,
        optimizer: &mut AdamW,
        step: u64,
        lr: f64,
    ) -> Result<(Self::Model, Self::Report), TrainError>;
    /// Validates the model's inference copy into `report`.
    fn validate(
        &mut self,
        model: &Self::Model,
        report: &mut Self::Report,
    ) -> Result<(), TrainError>;
    /// The report as a log row (without its newline).
    fn row(&self, report: &Self::Report) -> String;
    /// Writes the model's inference copy into the folder `dir`.
    fn save(&self, model: &Self::Model, dir: &Path) -> Result<(), TrainError>;
    /// The model a checkpoint's folder holds, on the autodiff device; `None` if it has
    /// another shape than the run's.
    fn load(&self, dir: &Path) -> Result<Option<Self::Model>, String>;
}

/// The loop's share of a schedule.
pub(super) struct Pace {
    pub steps: u64,
    pub warmup_steps: u64,
    pub lr: f64,
    /// Where the cosine decay ends; `lr` itself for a constant rate.
    pub min_lr: f64,
    pub eval_interval: u64,
    pub checkpoint_interval: u64,
}

/// A run's outcome: every step's report, and the model's inference copy unless the run
/// stopped early (`stop_after`).
pub(super) struct Trained<M, R> {
    pub reports: Vec<R>,
    pub model: Option<M>,
}

/// Where a run starts: with `optimizer` (a fresh one each call), from the newest
/// checkpoint in its folder made with the same schedule, else from `model`'s model (called
/// only then).
pub(super) struct Start<O, M> {
    pub optimizer: O,
    pub model: M,
}

/// Trains `stage` for `pace.steps` into `out` on `device` (the autodiff device), as `start`
/// says. `stop_after` ends the run after that step, with a checkpoint there (tests,
/// time-boxed runs).
pub(super) fn train<S: Stage, Sch>(
    stage: &mut S,
    (schedule, pace): (&Sch, &Pace),
    (out, device): (&Path, &Device),
    start: Start<impl Fn() -> AdamW, impl FnOnce() -> Result<S::Model, TrainError>>,
    stop_after: Option<u64>,
    mut on_step: impl FnMut(&S::Report),
) -> Result<Trained<S::Model, S::Report>, TrainError>
where
    Sch: Serialize + DeserializeOwned + PartialEq,
{
    let checkpoints = Checkpoints { out, schedule };
    let resumed = checkpoints.resume(device, (start.optimizer)(), |dir| stage.load(dir))?;
    let (mut model, mut optimizer, first) = match resumed {
        Some(resumed) => resumed,
        None => ((start.model)()?, (start.optimizer)(), 0),
    };
    let log_path = out.join("log.csv");
    let mut log = open_log(out, first, S::HEADER)?;
    let mut reports = Vec::new();
    for step in first..pace.steps {
        let lr = learning_rate(step, pace.warmup_steps, pace.steps, pace.lr, pace.min_lr);
        let (next, mut report) = stage.step(model, &mut optimizer, step, lr)?;
        model = next;
        let done = step + 1;
        if done % pace.eval_interval == 0 || done == pace.steps {
            stage.validate(&model.valid(), &mut report)?;
        }
        writeln!(log, "{}", stage.row(&report)).map_err(io(&log_path))?;
        on_step(&report);
        reports.push(report);
        let stopping = stop_after == Some(done);
        if done % pace.checkpoint_interval == 0 || done == pace.steps || stopping {
            checkpoints.save(done, &optimizer, |dir| stage.save(&model.valid(), dir))?;
        }
        if stopping {
            return Ok(Trained {
                reports,
                model: None,
            });
        }
    }
    Ok(Trained {
        reports,
        model: Some(model.valid()),
    })
}

/// What stops a run: a bad config, a checkpoint that does not fit, a file that cannot be
/// read or written, a model folder that does not load. Every stage's error.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// The OS's reason is part of the message, not a source: a chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    ModelDir(#[from] model_dir::ModelDirError),
}

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |error| TrainError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Opens the CSV log for appending; on resume, rows after the checkpoint's step (written by
/// the interrupted run after its last checkpoint) are dropped so no step appears twice.
pub(super) fn open_log(out: &Path, start: u64, header: &str) -> Result<std::fs::File, TrainError> {
    let path = out.join("log.csv");
    std::fs::create_dir_all(out).map_err(io(out))?;
    let kept: String = match std::fs::read_to_string(&path) {
        Ok(text) if start > 0 => text
            .lines()
            .skip(1)
            .filter(|row| {
                row.split(',')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s <= start)
            })
            .map(|row| format!("{row}\n"))
            .collect(),
        _ => String::new(),
    };
    crate::fs::write_atomic(&path, format!("{header}{kept}").as_bytes()).map_err(io(&path))?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io(&path))
}
