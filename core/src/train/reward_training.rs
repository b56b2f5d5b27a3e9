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

use std::path::Path;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::pairs::{OnPairs, PairPace, train_on_pairs};
pub use super::pairs::{PairReport, PairScore};
use super::reward::{Ranked, RewardModel, agreeing_pairs, pairwise_loss};
use super::trainer;
use super::trainer::TrainError;
use crate::gpt::GptConfig;
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

/// The reward model as a run on comparisons.
struct Rewarding<'r> {
    run: &'r RewardRun<'r>,
    /// The inference device, for held-out scores.
    inference: Device,
    training: Device,
}

impl OnPairs for Rewarding<'_> {
    type Model = RewardModel;

    fn prompts(&self) -> usize {
        self.run.train.len()
    }

    fn loss(&self, model: &RewardModel, picks: &[usize]) -> (Tensor<1>, PairScore) {
        let groups: Vec<&Ranked> = picks.iter().map(|&i| &self.run.train[i]).collect();
        batch_loss(model, &groups, &self.training)
    }

    fn held_out(&self, model: &RewardModel) -> PairScore {
        evaluate(model, self.run.val, &self.inference)
    }

    fn save(&self, model: &RewardModel, dir: &Path) -> Result<(), TrainError> {
        Ok(model.save(dir, self.run.config, self.run.tokenizer)?)
    }

    fn load(&self, dir: &Path) -> Result<Option<RewardModel>, String> {
        let (model, config, _) =
            RewardModel::load(dir, &self.training).map_err(|e| e.to_string())?;
        Ok((&config == self.run.config).then_some(model))
    }
}

/// Trains, logs and saves; returns every step's report and the final held-out score.
pub fn train_reward(
    run: RewardRun<'_>,
    on_step: impl FnMut(&PairReport),
) -> Result<(Vec<PairReport>, PairScore), TrainError> {
    for (what, groups) in [("training", run.train), ("held-out", run.val)] {
        if groups.is_empty() {
            return Err(TrainError::Config(format!(
                "there are no {what} comparisons"
            )));
        }
    }
    let s = run.schedule;
    let pace = PairPace {
        pace: trainer::Pace {
            steps: s.steps,
            warmup_steps: s.warmup_steps,
            lr: s.lr,
            min_lr: s.min_lr,
            eval_interval: s.eval_interval,
            checkpoint_interval: s.checkpoint_interval,
        },
        prompts_per_step: s.prompts_per_step,
        weight_decay: s.weight_decay,
        seed: s.seed,
    };
    let training = run.start.gpt.devices()[0].clone();
    let rewarding = Rewarding {
        inference: training.clone().inner(),
        training: training.clone(),
        run: &run,
    };
    let start = || Ok(run.start.clone());
    let (model, reports) =
        train_on_pairs(&rewarding, (s, &pace), run.out, &training, start, on_step)?;
    let inference = &rewarding.inference;
    let final_val = evaluate(&model, run.val, inference);
    let mean = mean_score(&model, run.train, inference);
    model
        .centre(mean)
        .save(&run.out.join("model"), run.config, run.tokenizer)?;
    Ok((reports, final_val))
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
