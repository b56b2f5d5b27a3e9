//! The reward model (InstructGPT's step 2): the SFT model with its LM head replaced by a
//! scalar head that reads the final hidden state at a response's last token (`<|end|>`),
//! trained on ranked comparisons with the pairwise loss −log σ(r(x, y_w) − r(x, y_l)) over
//! all C(K, 2) pairs of a prompt at once. Ranking K responses yields C(K, 2) correlated
//! pairs; taking them together (one forward pass per response, not per pair) is what keeps
//! InstructGPT's reward model from overfitting, and makes a prompt one step.
//!
//! A reward directory is a model directory (the trunk, loadable as a GPT) plus
//! `reward_head.safetensors`.

use std::path::Path;

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;

use crate::gpt::{Gpt, GptConfig, model_dir};
use crate::tokenizer::{Special, Tokenizer};

pub const HEAD_FILE: &str = "reward_head.safetensors";

/// A GPT trunk and a scalar head.
#[derive(Module, Debug)]
pub struct RewardModel {
    pub gpt: Gpt,
    head: Linear,
}

/// K rendered responses to one prompt (prompt and response tokens together) and their
/// ranking, best first: `ranking[0]` indexes the best of `sequences`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub sequences: Vec<Vec<u32>>,
    /// Per sequence and token: written by the model (what DPO's log-probability sums).
    pub written: Vec<Vec<bool>>,
    pub ranking: Vec<usize>,
}

impl Ranked {
    /// Every (better, worse) pair the ranking orders: C(K, 2) of them.
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        let r = &self.ranking;
        (0..r.len())
            .flat_map(|i| (i + 1..r.len()).map(move |j| (r[i], r[j])))
            .collect()
    }
}

impl RewardModel {
    /// A reward model on `gpt`'s trunk with a fresh head (small weights, zero bias, so
    /// every response starts near reward 0).
    pub fn new(gpt: Gpt, config: &GptConfig, device: &Device) -> Self {
        let mut head = LinearConfig::new(config.n_embd, 1)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: 1.0 / (config.n_embd as f64 + 1.0).sqrt(),
            })
            .init(device);
        head.bias = Some(Param::from_tensor(Tensor::zeros([1], device)));
        RewardModel { gpt, head }
    }

    /// The reward of each sequence, `[n]`. Sequences are right-padded to the longest (the
    /// causal mask keeps padding out of real positions); one longer than the context keeps
    /// its last `block_size` tokens, where the response is.
    pub fn scores(&self, sequences: &[Vec<u32>], device: &Device) -> Tensor<1> {
        let (ids, last) = right_padded(sequences, self.gpt.block_size(), device);
        let [n, t] = ids.dims();
        let features = self.gpt.features(ids);
        let c = features.dims()[2];
        let rows: Vec<i64> = last
            .iter()
            .enumerate()
            .map(|(i, &l)| (i * t + l) as i64)
            .collect();
        let at_last = features
            .reshape([n * t, c])
            .select(0, Tensor::<1, Int>::from_ints(rows.as_slice(), device));
        self.head.forward(at_last).reshape([n])
    }

    /// Shifts the head's bias so that `mean` becomes 0: InstructGPT normalises its reward
    /// model so that demonstrations score 0 on average, which keeps PPO's rewards centred.
    pub fn centre(mut self, mean: f32) -> Self {
        if let Some(bias) = self.head.bias.take() {
            self.head.bias = Some(bias.map(|b| b.sub_scalar(mean)));
        }
        self
    }

    /// Writes the trunk as a model directory and the head beside it.
    pub fn save(
        &self,
        dir: &Path,
        config: &GptConfig,
        tokenizer: &Tokenizer,
    ) -> Result<(), model_dir::ModelDirError> {
        model_dir::save(dir, config, tokenizer, &self.gpt)?;
        let path = dir.join(HEAD_FILE);
        let bytes = model_dir::weights_bytes(&self.head).map_err(|message| {
            model_dir::ModelDirError::Weights {
                path: path.clone(),
                message,
            }
        })?;
        crate::fs::write_atomic(&path, &bytes)
            .map_err(|error| model_dir::ModelDirError::Io { path, error })
    }

    /// Reads a reward directory written by [`RewardModel::save`].
    pub fn load(
        dir: &Path,
        device: &Device,
    ) -> Result<(RewardModel, GptConfig, Tokenizer), model_dir::ModelDirError> {
        let loaded = model_dir::load(dir, device)?;
        let path = dir.join(HEAD_FILE);
        let bytes = std::fs::read(&path).map_err(|error| model_dir::ModelDirError::Io {
            path: path.clone(),
            error,
        })?;
        let fresh = RewardModel::new(loaded.model, &loaded.config, device);
        let head = model_dir::fill(fresh.head, bytes)
            .map_err(|message| model_dir::ModelDirError::Weights { path, message })?;
        let model = RewardModel {
            gpt: fresh.gpt,
            head,
        };
        Ok((model, loaded.config, loaded.tokenizer))
    }
}

/// Token ids `[n, t]` right-padded with `<|pad|>`, and each row's last real position.
fn right_padded(
    sequences: &[Vec<u32>],
    block: usize,
    device: &Device,
) -> (Tensor<2, Int>, Vec<usize>) {
    let kept: Vec<&[u32]> = sequences
        .iter()
        .map(|s| &s[s.len().saturating_sub(block)..])
        .collect();
    let t = kept.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(kept.len() * t);
    for s in &kept {
        ids.extend(s.iter().map(|&i| i64::from(i)));
        ids.extend(std::iter::repeat_n(
            i64::from(Special::Pad.id()),
            t - s.len(),
        ));
    }
    let last = kept.iter().map(|s| s.len().saturating_sub(1)).collect();
    let tensor = Tensor::<1, Int>::from_ints(ids.as_slice(), device).reshape([kept.len(), t]);
    (tensor, last)
}

/// Mean over the ranking's pairs of −log σ(r_w − r_l), for the rewards `scores` of one
/// prompt's responses.
pub fn pairwise_loss(scores: Tensor<1>, pairs: &[(usize, usize)]) -> Tensor<1> {
    let device = scores.device();
    let index = |pick: fn(&(usize, usize)) -> usize| {
        let ids: Vec<i64> = pairs.iter().map(|p| pick(p) as i64).collect();
        Tensor::<1, Int>::from_ints(ids.as_slice(), &device)
    };
    let better = scores.clone().select(0, index(|p| p.0));
    let worse = scores.select(0, index(|p| p.1));
    log_sigmoid(better - worse).mean().neg()
}

/// How many of `pairs` the rewards order as the ranking does (a tie counts as wrong).
pub fn agreeing_pairs(scores: &[f32], pairs: &[(usize, usize)]) -> usize {
    pairs
        .iter()
        .filter(|(w, l)| scores[*w] > scores[*l])
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    #[test]
    fn a_ranking_of_k_gives_all_k_choose_2_pairs_in_order() {
        let ranked = Ranked {
            sequences: vec![vec![]; 3],
            written: vec![vec![]; 3],
            ranking: vec![2, 0, 1],
        };
        assert_eq!(ranked.pairs(), vec![(2, 0), (2, 1), (0, 1)]);
    }

    #[test]
    fn pairwise_loss_and_its_gradient_match_hand_computation() {
        let device = Device::flex().autodiff();
        let r = [0.5f64, -1.0, 2.0];
        let scores = Tensor::<1>::from_floats([0.5f32, -1.0, 2.0], &device).require_grad();
        // Ranking 2 > 0 > 1: pairs (2,0), (2,1), (0,1).
        let pairs = [(2, 0), (2, 1), (0, 1)];
        let loss = pairwise_loss(scores.clone(), &pairs);
        let expected: f64 = pairs
            .iter()
            .map(|&(w, l)| -sigmoid(r[w] - r[l]).ln())
            .sum::<f64>()
            / 3.0;
        let value = f64::from(loss.clone().into_scalar::<f32>());
        assert!((value - expected).abs() < 1e-6, "{value} vs {expected}");
        // d/dr_w of −log σ(r_w − r_l) is −σ(r_l − r_w); the loss is a mean over 3 pairs.
        let mut grad = [0.0f64; 3];
        for &(w, l) in &pairs {
            let g = sigmoid(r[l] - r[w]) / 3.0;
            grad[w] -= g;
            grad[l] += g;
        }
        let grads = loss.backward();
        let got = scores
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (g, e) in got.iter().zip(grad) {
            assert!((f64::from(*g) - e).abs() < 1e-6, "{got:?} vs {grad:?}");
        }
    }

    #[test]
    fn a_wide_margin_costs_nothing_and_a_reversed_one_costs_the_margin() {
        let device = Device::flex();
        let loss = |a: f32, b: f32| {
            pairwise_loss(Tensor::<1>::from_floats([a, b], &device), &[(0, 1)]).into_scalar::<f32>()
        };
        assert!(loss(40.0, 0.0) < 1e-6);
        // −log σ(−40) = 40 + log(1 + e^−40): stable, not inf.
        assert!((loss(0.0, 40.0) - 40.0).abs() < 1e-4);
        assert!((loss(1.0, 1.0) - std::f32::consts::LN_2).abs() < 1e-6);
    }

    #[test]
    fn agreement_counts_strictly_ordered_pairs() {
        assert_eq!(
            agreeing_pairs(&[3.0, 1.0, 1.0], &[(0, 1), (1, 2), (2, 0)]),
            1
        );
    }

    #[test]
    fn scores_read_each_sequence_at_its_own_last_token() {
        let device = Device::flex();
        let config = GptConfig::tiny();
        device.seed(3);
        let rm = RewardModel::new(Gpt::new(&config, &device), &config, &device);
        let a = vec![270, 271, 272];
        let b = vec![280, 281, 282, 283, 284];
        let together = rm.scores(&[a.clone(), b.clone()], &device);
        let alone_a = rm.scores(&[a], &device).into_scalar::<f32>();
        let alone_b = rm
            .scores(std::slice::from_ref(&b), &device)
            .into_scalar::<f32>();
        let together = together.into_data().try_to_vec::<f32>().unwrap();
        assert!((together[0] - alone_a).abs() < 1e-5 && (together[1] - alone_b).abs() < 1e-5);
        // Longer than the context: the last 8 tokens decide.
        let mut long = vec![290; 20];
        long.extend(&b);
        let tail = long[long.len() - 8..].to_vec();
        let long_score = rm.scores(&[long], &device).into_scalar::<f32>();
        let tail_score = rm.scores(&[tail], &device).into_scalar::<f32>();
        assert!((long_score - tail_score).abs() < 1e-5);
        // Centring shifts every score by the same amount.
        let centred = rm
            .centre(alone_b)
            .scores(&[b], &device)
            .into_scalar::<f32>();
        assert!(centred.abs() < 1e-5);
    }

    #[test]
    fn scores_are_the_same_on_the_training_and_the_inference_device() {
        let training = Device::flex().autodiff();
        // Long enough for every kernel's blocking, with rotary positions as shipped.
        let config = GptConfig {
            block_size: 256,
            position: crate::gpt::Position::Rotary,
            ..GptConfig::tiny()
        };
        training.seed(5);
        let rm = RewardModel::new(Gpt::new(&config, &training), &config, &training);
        let row = |start: u32, n: u32| (0..n).map(|i| 32 + (start + i * 7) % 260).collect();
        let batch: Vec<Vec<u32>> = vec![row(1, 256), row(5, 200), row(9, 3), row(2, 131)];
        let on = |device: &Device| {
            rm.scores(&batch, device)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let (train, infer) = (on(&training), on(&training.clone().inner()));
        let valid = rm.valid();
        let copied = valid
            .scores(&batch, &training.clone().inner())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for i in 0..batch.len() {
            assert!((train[i] - infer[i]).abs() < 1e-4, "{train:?} {infer:?}");
            assert!((train[i] - copied[i]).abs() < 1e-4, "{train:?} {copied:?}");
        }
    }
}
