//! Checkpoints of pretraining, SFT, the reward model, DPO and PPO, one layout for all, so
//! that a killed run resumes where its last checkpoint left it and logs the same losses as
//! a run that was never stopped:
//!
//! ```text
//! OUT/checkpoints/latest     the name of the newest complete checkpoint
//! OUT/checkpoints/step-N/    the model, optimizer.safetensors, trainer.json (step, schedule)
//! ```
//!
//! Each stage draws its batches from the seed and the step's index alone, so the weights,
//! the optimizer's moments and the step are all a run needs to go on. PPO's step is an
//! iteration (rollouts, then epochs of updates), and its model folder holds the value head
//! beside the policy.

use std::path::Path;

use burn::prelude::Device;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::AdamW;
use super::trainer::{TrainError, io};

#[derive(Serialize, Deserialize)]
struct State<S> {
    step: u64,
    schedule: S,
}

/// The checkpoints of a run in `out` with `schedule`.
pub(super) struct Checkpoints<'a, S> {
    pub out: &'a Path,
    pub schedule: &'a S,
}

impl<S: Serialize + DeserializeOwned + PartialEq> Checkpoints<'_, S> {
    /// Writes step `step`: `write_model` puts the model into the folder it is given.
    pub fn save(
        &self,
        step: u64,
        optimizer: &AdamW,
        write_model: impl FnOnce(&Path) -> Result<(), TrainError>,
    ) -> Result<(), TrainError> {
        let root = self.out.join("checkpoints");
        let name = format!("step-{step}");
        let dir = root.join(&name);
        write_model(&dir)?;
        let state = optimizer
            .state_bytes()
            .map_err(|message| TrainError::Checkpoint {
                path: dir.clone(),
                message,
            })?;
        crate::fs::write_atomic(&dir.join("optimizer.safetensors"), &state).map_err(io(&dir))?;
        let trainer = serde_json::to_string_pretty(&State {
            step,
            schedule: self.schedule,
        })
        .expect("a schedule serialises");
        crate::fs::write_atomic(&dir.join("trainer.json"), trainer.as_bytes()).map_err(io(&dir))?;
        publish_checkpoint(&root, &name)
    }

    /// The newest checkpoint, if there is one: the model `read_model` makes of its folder,
    /// `optimizer` (the run's, fresh) with the saved moments, and the step. A checkpoint of
    /// another schedule, or whose model `read_model` finds of another shape (`None`), is
    /// refused rather than continued with different settings.
    pub fn resume<M>(
        &self,
        device: &Device,
        mut optimizer: AdamW,
        read_model: impl FnOnce(&Path) -> Result<Option<M>, String>,
    ) -> Result<Option<(M, AdamW, u64)>, TrainError> {
        let root = self.out.join("checkpoints");
        let Ok(latest) = std::fs::read_to_string(root.join("latest")) else {
            return Ok(None);
        };
        let dir = root.join(latest.trim());
        let fail = |message: String| TrainError::Checkpoint {
            path: dir.clone(),
            message,
        };
        let text =
            std::fs::read_to_string(dir.join("trainer.json")).map_err(|e| fail(e.to_string()))?;
        let state: State<S> = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let model = match &state.schedule == self.schedule {
            true => read_model(&dir).map_err(fail)?,
            false => None,
        };
        let Some(model) = model else {
            return Err(fail(format!(
                "this checkpoint was made with another model or schedule; resume with the same config, or choose a new output folder (or remove {})",
                self.out.display()
            )));
        };
        let bytes =
            std::fs::read(dir.join("optimizer.safetensors")).map_err(|e| fail(e.to_string()))?;
        optimizer.load_state(&bytes, device).map_err(fail)?;
        Ok(Some((model, optimizer, state.step)))
    }
}

/// Makes `root/name` the newest checkpoint (`root/latest`, rewritten atomically) and
/// removes the one it replaces.
fn publish_checkpoint(root: &Path, name: &str) -> Result<(), TrainError> {
    let previous = std::fs::read_to_string(root.join("latest")).ok();
    crate::fs::write_atomic(&root.join("latest"), name.as_bytes()).map_err(io(root))?;
    if let Some(previous) = previous.filter(|p| p.trim() != name) {
        let _ = std::fs::remove_dir_all(root.join(previous.trim()));
    }
    Ok(())
}

/// The name of the newest complete checkpoint under a run's folder `out` (`step-N`; for
/// PPO, N counts iterations), if it holds one: where a rerun resumes.
pub fn latest_checkpoint(out: &Path) -> Option<String> {
    let name = std::fs::read_to_string(out.join("checkpoints").join("latest")).ok()?;
    let name = name.trim();
    out.join("checkpoints")
        .join(name)
        .is_dir()
        .then(|| name.to_string())
}
