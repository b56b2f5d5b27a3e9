//! Direct preference optimisation (Rafailov et al. 2023), the simpler alternative to a
//! reward model and PPO: on the same comparisons, the policy itself is trained so that
//! its implicit reward β·(log π(y|x) − log π_SFT(y|x)) orders each pair as the labellers
//! did: loss −log σ(β·[(log π(y_w) − log π_SFT(y_w)) − (log π(y_l) − log π_SFT(y_l))]).
//! Log-probabilities sum over the tokens the model wrote (not the request, not expert
//! results); as for the reward model, all C(K, 2) pairs of a prompt are one step.
//!
//! ```text
//! OUT/log.csv   step,lr,loss,pair_accuracy,val_loss,val_pair_accuracy
//! OUT/model/    the tuned policy (a model directory)
//! ```

use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, log_softmax};
use serde::{Deserialize, Serialize};

use super::pairs::{OnPairs, PairPace, PairReport, PairScore, train_on_pairs};
use super::reward::{Ranked, agreeing_pairs};
use super::trainer;
use super::trainer::TrainError;
use crate::gpt::{Gpt, GptConfig, model_dir};
use crate::tokenizer::{Special, Tokenizer};

/// Σ log π(token) over the written tokens of each sequence, `[n]`. A sequence longer than
/// the context keeps its last `block_size + 1` tokens.
pub fn sequence_logprobs(
    model: &Gpt,
    sequences: &[Vec<u32>],
    written: &[Vec<bool>],
    device: &Device,
) -> Tensor<1> {
    let keep = model.block_size() + 1;
    let n = sequences.len();
    let windows: Vec<(&[u32], &[bool])> = sequences
        .iter()
        .zip(written)
        .map(|(s, w)| {
            let start = s.len().saturating_sub(keep);
            (&s[start..], &w[start..])
        })
        .collect();
    let t = windows
        .iter()
        .map(|(s, _)| s.len().saturating_sub(1))
        .max()
        .unwrap_or(1)
        .max(1);
    let pad = i64::from(Special::Pad.id());
    let (mut x, mut y, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for (s, w) in &windows {
        let m = s.len().saturating_sub(1);
        x.extend(s[..m].iter().map(|&i| i64::from(i)));
        y.extend(s[1..].iter().map(|&i| i64::from(i)));
        mask.extend(w[1..].iter().map(|&b| f32::from(u8::from(b))));
        x.extend(std::iter::repeat_n(pad, t - m));
        y.extend(std::iter::repeat_n(pad, t - m));
        mask.extend(std::iter::repeat_n(0.0, t - m));
    }
    let ints = |v: Vec<i64>| Tensor::<1, Int>::from_ints(v.as_slice(), device).reshape([n, t]);
    let logprobs = log_softmax(model.forward(ints(x)), 2);
    let picked = logprobs
        .gather(2, ints(y).reshape([n, t, 1]))
        .reshape([n, t]);
    let mask = Tensor::<1>::from_floats(mask.as_slice(), device).reshape([n, t]);
    (picked * mask).sum_dim(1).reshape([n])
}

/// The DPO loss over `pairs` (better, worse) of one prompt's responses, from the policy's
/// and the reference's sequence log-probabilities; and the implicit rewards.
pub fn dpo_loss(
    policy: Tensor<1>,
    reference: Tensor<1>,
    pairs: &[(usize, usize)],
    beta: f32,
) -> (Tensor<1>, Tensor<1>) {
    let device = policy.device();
    let rewards = (policy - reference).mul_scalar(beta);
    let index = |pick: fn(&(usize, usize)) -> usize| {
        let ids: Vec<i64> = pairs.iter().map(|p| pick(p) as i64).collect();
        Tensor::<1, Int>::from_ints(ids.as_slice(), &device)
    };
    let margin =
        rewards.clone().select(0, index(|p| p.0)) - rewards.clone().select(0, index(|p| p.1));
    (log_sigmoid(margin).mean().neg(), rewards)
}

/// How to run DPO; any field left out takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DpoSchedule {
    pub steps: u64,
    pub prompts_per_step: usize,
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: u64,
    /// β: how far from the reference the implicit reward lets the policy go.
    pub beta: f32,
    pub eval_interval: u64,
    /// Steps between checkpoints (and after the last): a rerun resumes from the newest.
    pub checkpoint_interval: u64,
    pub seed: u64,
}

impl Default for DpoSchedule {
    fn default() -> Self {
        DpoSchedule {
            steps: 300,
            prompts_per_step: 8,
            lr: 2e-5,
            min_lr: 2e-6,
            warmup_steps: 20,
            beta: 0.1,
            eval_interval: 50,
            checkpoint_interval: 50,
            seed: 1,
        }
    }
}

pub struct DpoRun<'a> {
    pub config: &'a GptConfig,
    pub tokenizer: &'a Tokenizer,
    /// The SFT model: the policy's start and the frozen reference.
    pub sft: &'a Gpt,
    pub train: &'a [Ranked],
    pub val: &'a [Ranked],
    pub schedule: &'a DpoSchedule,
    pub out: &'a Path,
}

/// The reference's sequence log-probabilities of every response, computed once.
fn reference_logprobs(sft: &Gpt, groups: &[Ranked], device: &Device) -> Vec<Vec<f32>> {
    groups
        .iter()
        .map(|g| {
            sequence_logprobs(sft, &g.sequences, &g.written, device)
                .into_data()
                .try_to_vec::<f32>()
                .expect("floats")
        })
        .collect()
}

/// DPO as a run on comparisons: the reference's log-probabilities are computed once.
struct Preferring<'r> {
    run: &'r DpoRun<'r>,
    train_ref: Vec<Vec<f32>>,
    val_ref: Vec<Vec<f32>>,
    inference: Device,
    training: Device,
}

impl OnPairs for Preferring<'_> {
    type Model = Gpt;

    fn prompts(&self) -> usize {
        self.run.train.len()
    }

    fn loss(&self, policy: &Gpt, picks: &[usize]) -> (Tensor<1>, PairScore) {
        let beta = self.run.schedule.beta;
        batch(
            policy,
            self.run.train,
            &self.train_ref,
            picks,
            beta,
            &self.training,
        )
    }

    fn held_out(&self, policy: &Gpt) -> PairScore {
        let beta = self.run.schedule.beta;
        evaluate(policy, self.run.val, &self.val_ref, beta, &self.inference)
    }

    fn save(&self, policy: &Gpt, dir: &Path) -> Result<(), TrainError> {
        Ok(model_dir::save(
            dir,
            self.run.config,
            self.run.tokenizer,
            policy,
        )?)
    }

    fn load(&self, dir: &Path) -> Result<Option<Gpt>, String> {
        let loaded = model_dir::load(dir, &self.training).map_err(|e| e.to_string())?;
        Ok((&loaded.config == self.run.config).then_some(loaded.model))
    }
}

/// Trains with DPO on `device` (an inference device; training runs on its autodiff form),
/// logs, saves the policy; returns every step's report and the final held-out score.
pub fn train_dpo(
    run: &DpoRun<'_>,
    device: &Device,
    on_step: impl FnMut(&PairReport),
) -> Result<(Vec<PairReport>, PairScore), TrainError> {
    let s = run.schedule;
    if s.beta.is_nan() || s.beta <= 0.0 {
        return Err(TrainError::Config("beta must be positive".into()));
    }
    if run.train.is_empty() || run.val.is_empty() {
        return Err(TrainError::Config(
            "there are no training or no held-out comparisons".into(),
        ));
    }
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
        weight_decay: 0.0,
        seed: s.seed,
    };
    pace.check()?;
    let preferring = Preferring {
        run,
        train_ref: reference_logprobs(run.sft, run.train, device),
        val_ref: reference_logprobs(run.sft, run.val, device),
        inference: device.clone(),
        training: device.clone().autodiff(),
    };
    // The policy starts as a copy of the SFT model, on the autodiff device.
    let start = || {
        let bytes = model_dir::weights_bytes(run.sft).map_err(TrainError::Config)?;
        model_dir::load_weights(run.config, bytes, &preferring.training).map_err(TrainError::Config)
    };
    let (policy, reports) = train_on_pairs(
        &preferring,
        (s, &pace),
        run.out,
        &preferring.training,
        start,
        on_step,
    )?;
    let final_val = preferring.held_out(&policy);
    model_dir::save(&run.out.join("model"), run.config, run.tokenizer, &policy)?;
    Ok((reports, final_val))
}

/// The mean DPO loss over the picked prompts, and how many pairs the implicit reward orders.
fn batch(
    policy: &Gpt,
    groups: &[Ranked],
    reference: &[Vec<f32>],
    picks: &[usize],
    beta: f32,
    device: &Device,
) -> (Tensor<1>, PairScore) {
    let mut losses = Vec::with_capacity(picks.len());
    let (mut agree, mut pairs) = (0, 0);
    for &i in picks {
        let g = &groups[i];
        let own = g.pairs();
        let lp = sequence_logprobs(policy, &g.sequences, &g.written, device);
        let reference = Tensor::<1>::from_floats(reference[i].as_slice(), device);
        let (loss, rewards) = dpo_loss(lp, reference, &own, beta);
        let rewards = rewards.into_data().try_to_vec::<f32>().expect("floats");
        agree += agreeing_pairs(&rewards, &own);
        pairs += own.len();
        losses.push(loss);
    }
    let loss = Tensor::cat(losses, 0).mean();
    let score = PairScore {
        loss: loss.clone().into_scalar::<f32>(),
        accuracy: agree as f64 / pairs.max(1) as f64,
        pairs,
    };
    (loss, score)
}

fn evaluate(
    policy: &Gpt,
    groups: &[Ranked],
    reference: &[Vec<f32>],
    beta: f32,
    device: &Device,
) -> PairScore {
    let (mut loss, mut agree, mut pairs) = (0.0f64, 0.0f64, 0usize);
    for i in 0..groups.len() {
        let (_, score) = batch(policy, groups, reference, &[i], beta, device);
        loss += f64::from(score.loss);
        agree += score.accuracy * score.pairs as f64;
        pairs += score.pairs;
    }
    PairScore {
        loss: (loss / groups.len().max(1) as f64) as f32,
        accuracy: agree / pairs.max(1) as f64,
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    #[test]
    fn the_dpo_loss_and_its_gradient_match_hand_computation() {
        let device = Device::flex().autodiff();
        let (pi, re, beta) = ([-3.0f64, -5.0], [-4.0f64, -4.0], 0.5f64);
        let policy = Tensor::<1>::from_floats([-3.0f32, -5.0], &device).require_grad();
        let reference = Tensor::<1>::from_floats([-4.0f32, -4.0], &device);
        let (loss, rewards) = dpo_loss(policy.clone(), reference, &[(0, 1)], 0.5);
        // Implicit rewards 0.5·(−3 + 4) = 0.5 and 0.5·(−5 + 4) = −0.5: margin 1.
        let margin = beta * ((pi[0] - re[0]) - (pi[1] - re[1]));
        let expected = -sigmoid(margin).ln();
        let value = f64::from(loss.clone().into_scalar::<f32>());
        assert!((value - expected).abs() < 1e-6, "{value} vs {expected}");
        let r = rewards.clone().into_data().try_to_vec::<f32>().unwrap();
        assert!((r[0] - 0.5).abs() < 1e-6 && (r[1] + 0.5).abs() < 1e-6);
        // d/dπ_w = −β·σ(−margin), d/dπ_l = +β·σ(−margin).
        let g = policy
            .grad(&loss.backward())
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let s = beta * sigmoid(-margin);
        assert!(
            (f64::from(g[0]) + s).abs() < 1e-6 && (f64::from(g[1]) - s).abs() < 1e-6,
            "{g:?}"
        );
    }

    #[test]
    fn sequence_logprobs_sum_only_the_written_tokens() {
        let device = Device::flex();
        let config = GptConfig::tiny();
        device.seed(2);
        let model = Gpt::new(&config, &device);
        let seq = vec![270u32, 271, 272, 273];
        let lp = |written: Vec<bool>| {
            sequence_logprobs(&model, std::slice::from_ref(&seq), &[written], &device)
                .into_scalar::<f32>()
        };
        let x = Tensor::<1, Int>::from_ints([270, 271, 272], &device).reshape([1, 3]);
        let all = log_softmax(model.forward(x), 2)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let at = |pos: usize, token: usize| all[pos * 300 + token];
        // Only token 3 (273, predicted at position 2) written.
        assert!((lp(vec![false, false, false, true]) - at(2, 273)).abs() < 1e-5);
        let both = at(0, 271) + at(2, 273);
        assert!(
            (lp(vec![true, true, false, true]) - both).abs() < 1e-5,
            "the first token is never predicted"
        );
        // Padding a shorter sequence beside a longer one changes nothing.
        let pair = sequence_logprobs(
            &model,
            &[seq.clone(), vec![280, 281, 282, 283, 284, 285]],
            &[vec![true; 4], vec![true; 6]],
            &device,
        )
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
        assert!((pair[0] - lp(vec![true; 4])).abs() < 1e-5);
    }
}
