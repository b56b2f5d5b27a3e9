//! PPO-ptx (InstructGPT's step 3), the arithmetic: per-token rewards with a KL penalty to
//! the frozen SFT model, generalised advantage estimation, and the clipped policy and
//! value losses.
//!
//! A rollout is one run of the agent loop: the prompt, the tokens the policy chose, and
//! the tokens forced into the sequence (expert results, closing markers). Only chosen
//! tokens are actions: forced ones are the environment's reply, so they carry no policy or
//! value loss and no KL penalty, and a token the constraints left no choice for (an allowed
//! set of one) is not an action either.
//!
//! The agent samples every action from an allowed set (expert names, an expert's input
//! format, grounded numbers), that is from the model renormalised over the set. PPO's
//! ratios, its KL penalty and its entropy use those constrained log-probabilities, for the
//! policy and for the SFT reference alike ([`constraint_bias`]). Over the whole vocabulary
//! instead, the policy could gain "KL bonus" by moving mass onto tokens the agent never
//! lets it write: the logged KL went negative and the update drifted (docs/RLHF.md).
//! The objective, per prompt x and response y:
//!
//! ```text
//! r(x, y) − β · Σ_t [log π_RL(y_t | ·) − log π_SFT(y_t | ·)]        (reward, per token)
//! + γ · E_pretrain[log π_RL(x)]                                      (ptx, in the loss)
//! ```

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use std::sync::Arc;

use crate::gpt::{Gpt, GptConfig, TokenSet};

/// The policy and a value head on the same trunk: one forward pass gives both the next
/// token's logits and the value of the state, which halves the cost of PPO on two cores.
/// The value head reads the trunk's features detached: regressing returns through the
/// shared trunk (rewards of several units against values that start at 0) pulled the
/// language model apart — entropy rose from 0.5 to 5 nats in 25 iterations.
#[derive(Module, Debug)]
pub struct ActorCritic {
    pub gpt: Gpt,
    value: Linear,
}

impl ActorCritic {
    /// `gpt` with a fresh value head (zero weights: values start at 0).
    pub fn new(gpt: Gpt, config: &GptConfig, device: &Device) -> Self {
        let mut value = LinearConfig::new(config.n_embd, 1)
            .with_initializer(Initializer::Zeros)
            .init(device);
        value.bias = Some(Param::from_tensor(Tensor::zeros([1], device)));
        ActorCritic { gpt, value }
    }

    /// A copy of the value head, for checkpoints.
    pub fn value_head(&self) -> Linear {
        self.value.clone()
    }

    /// This model with its value head read from safetensors bytes (a checkpoint's).
    pub fn with_value_head(mut self, bytes: Vec<u8>) -> Result<Self, String> {
        self.value = crate::gpt::model_dir::fill(self.value, bytes)?;
        Ok(self)
    }

    /// Log-probabilities `[b, t, vocab]` of the next token, confined by `bias` (see
    /// [`constraint_bias`]), and values `[b, t]` of every prefix of `ids` `[b, t]`.
    pub fn forward(&self, ids: Tensor<2, Int>, bias: Option<Tensor<3>>) -> (Tensor<3>, Tensor<2>) {
        let [b, t] = ids.dims();
        let features = self.gpt.features(ids);
        let values = self
            .value
            .forward(features.clone().detach())
            .reshape([b, t]);
        (constrained(self.gpt.lm_head(features), bias), values)
    }
}

/// The logit bias that confines a position's next token to the set it was sampled from.
/// Not −∞: the entropy's 0 · log 0 would be NaN. At −10⁴ a left-out token's probability
/// is exactly 0 in f32, as it is when sampling.
const LEFT_OUT: f32 = -1e4;

/// The additive bias `[b, t, vocab]` for `rows` of per-position allowed sets (right-padded
/// to `t`): 0 on allowed tokens, −10⁴ elsewhere (probability 0, as when sampling); a
/// position without a set keeps the whole vocabulary. `None` when no position has a set.
pub fn constraint_bias(
    rows: &[&[Option<Arc<TokenSet>>]],
    t: usize,
    vocab: usize,
    device: &Device,
) -> Option<Tensor<3>> {
    if rows.iter().all(|r| r.iter().all(Option::is_none)) {
        return None;
    }
    let mut bias = vec![0f32; rows.len() * t * vocab];
    for (r, row) in rows.iter().enumerate() {
        for (p, set) in row.iter().enumerate().take(t) {
            let Some(set) = set else { continue };
            let at = &mut bias[(r * t + p) * vocab..(r * t + p + 1) * vocab];
            for (id, b) in at.iter_mut().enumerate() {
                if !set.contains(id as u32) {
                    *b = LEFT_OUT;
                }
            }
        }
    }
    Some(Tensor::<1>::from_floats(bias.as_slice(), device).reshape([rows.len(), t, vocab]))
}

/// Log-probabilities of logits `[b, t, vocab]` under an optional [`constraint_bias`].
pub fn constrained(logits: Tensor<3>, bias: Option<Tensor<3>>) -> Tensor<3> {
    match bias {
        Some(bias) => log_softmax(logits + bias, 2),
        None => log_softmax(logits, 2),
    }
}

/// One run of the agent: every token, and which the policy chose from what.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub ids: Vec<u32>,
    /// Per token of `ids`: for an action (chosen by the policy from more than one token),
    /// the set it was chosen from; `None` for forced tokens.
    pub actions: Vec<Option<Arc<TokenSet>>>,
    /// The reward model's score of the whole response.
    pub score: f32,
}

impl Rollout {
    /// Positions of the actions within the last `block + 1` tokens, as indexes into the
    /// predictions of `ids[start..]`: action at token p is predicted at p − 1 − start.
    pub fn window(&self, block: usize) -> (usize, Vec<usize>) {
        let start = self.ids.len().saturating_sub(block + 1);
        let actions = (start + 1..self.ids.len())
            .filter(|&p| self.actions[p].is_some())
            .map(|p| p - 1 - start)
            .collect();
        (start, actions)
    }
}

/// Per action: the reward (the KL penalty, plus the score at the last action).
pub fn rewards(score: f32, policy_logprobs: &[f32], sft_logprobs: &[f32], beta: f32) -> Vec<f32> {
    let mut rewards: Vec<f32> = policy_logprobs
        .iter()
        .zip(sft_logprobs)
        .map(|(p, s)| -beta * (p - s))
        .collect();
    if let Some(last) = rewards.last_mut() {
        *last += score;
    }
    rewards
}

/// Generalised advantage estimation over one trajectory of actions: advantages and
/// returns (advantage + value). The state after the last action is terminal (value 0).
pub fn gae(rewards: &[f32], values: &[f32], gamma: f32, lambda: f32) -> (Vec<f32>, Vec<f32>) {
    let n = rewards.len();
    let mut advantages = vec![0.0; n];
    let mut next_advantage = 0.0;
    for i in (0..n).rev() {
        let next_value = if i + 1 < n { values[i + 1] } else { 0.0 };
        let delta = rewards[i] + gamma * next_value - values[i];
        next_advantage = delta + gamma * lambda * next_advantage;
        advantages[i] = next_advantage;
    }
    let returns = advantages.iter().zip(values).map(|(a, v)| a + v).collect();
    (advantages, returns)
}

/// Zero mean and unit variance across a batch (unchanged when all are equal).
pub fn whiten(values: &mut [f32]) {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    let std = var.sqrt().max(1e-8);
    for v in values {
        *v = (*v - mean) / std;
    }
}

/// The tensors of a PPO update over action positions `[b, t]`; `mask` is 1 at actions.
pub struct Targets {
    pub mask: Tensor<2>,
    pub old_logprobs: Tensor<2>,
    pub old_values: Tensor<2>,
    pub advantages: Tensor<2>,
    pub returns: Tensor<2>,
}

/// Clipping and weights of the PPO loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clip {
    /// ε of the policy ratio.
    pub ratio: f32,
    /// How far a value may move from its old estimate before the loss stops rewarding it.
    pub value: f32,
    /// Weight of the value loss.
    pub value_weight: f32,
    /// Weight of the entropy bonus.
    pub entropy_weight: f32,
}

/// The PPO loss and what it is made of.
pub struct PpoLoss {
    pub total: Tensor<1>,
    pub policy: f32,
    pub value: f32,
    pub entropy: f32,
    /// The share of actions whose ratio left [1 − ε, 1 + ε].
    pub clip_fraction: f32,
    /// The mean of (old − new) log-probability at actions: how far the update moved.
    pub approx_kl: f32,
}

fn masked_mean(x: Tensor<2>, mask: &Tensor<2>) -> Tensor<1> {
    (x * mask.clone())
        .sum()
        .div(mask.clone().sum().clamp_min(1.0))
}

fn scalar(t: Tensor<1>) -> f32 {
    t.into_scalar::<f32>()
}

/// The clipped surrogate, the clipped value loss and the entropy at the actions, for the
/// log-probabilities `[b, t, vocab]` and values `[b, t]` of the policy being updated;
/// `targets_ids` `[b, t]` are the tokens the positions predict.
pub fn ppo_loss(
    logprobs: Tensor<3>,
    values: Tensor<2>,
    target_ids: Tensor<2, Int>,
    targets: &Targets,
    clip: Clip,
) -> PpoLoss {
    let [b, t, _] = logprobs.dims();
    let mask = &targets.mask;
    let new = logprobs
        .clone()
        .gather(2, target_ids.reshape([b, t, 1]))
        .reshape([b, t]);
    let log_ratio = (new.clone() - targets.old_logprobs.clone()) * mask.clone();
    let ratio = log_ratio.clone().exp();
    let a = targets.advantages.clone();
    let unclipped = ratio.clone() * a.clone();
    let clipped = ratio.clone().clamp(1.0 - clip.ratio, 1.0 + clip.ratio) * a;
    let policy = masked_mean(unclipped.min_pair(clipped).neg(), mask);

    let old_v = targets.old_values.clone();
    let moved = old_v.clone() + (values.clone() - old_v).clamp(-clip.value, clip.value);
    let r = targets.returns.clone();
    let value_loss = (values - r.clone())
        .powi_scalar(2)
        .max_pair((moved - r).powi_scalar(2));
    let value = masked_mean(value_loss, mask).mul_scalar(0.5);

    let entropy_per = (logprobs.clone().exp() * logprobs)
        .sum_dim(2)
        .reshape([b, t])
        .neg();
    let entropy = masked_mean(entropy_per, mask);

    let outside = ratio.sub_scalar(1.0).abs().greater_elem(clip.ratio).float();
    let clip_fraction = scalar(masked_mean(outside, mask));
    let approx_kl = scalar(masked_mean(log_ratio.neg(), mask));
    let total = policy.clone() + value.clone().mul_scalar(clip.value_weight)
        - entropy.clone().mul_scalar(clip.entropy_weight);
    PpoLoss {
        policy: scalar(policy),
        value: scalar(value),
        entropy: scalar(entropy),
        clip_fraction,
        approx_kl,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn gae_matches_a_hand_computed_trajectory() {
        // γ = 0.9, λ = 0.5; rewards 1, 0, 2; values 0.5, 1, 1.5; terminal after the last.
        let (adv, ret) = gae(&[1.0, 0.0, 2.0], &[0.5, 1.0, 1.5], 0.9, 0.5);
        // δ2 = 2 − 1.5 = 0.5; δ1 = 0 + 0.9·1.5 − 1 = 0.35; δ0 = 1 + 0.9·1 − 0.5 = 1.4
        // A2 = 0.5; A1 = 0.35 + 0.45·0.5 = 0.575; A0 = 1.4 + 0.45·0.575 = 1.65875
        close(&adv, &[1.65875, 0.575, 0.5]);
        close(&ret, &[2.15875, 1.575, 2.0]);
        // λ = 1, γ = 1: the advantage is the return-to-go minus the value.
        let (adv, _) = gae(&[1.0, 2.0], &[0.0, 0.0], 1.0, 1.0);
        close(&adv, &[3.0, 2.0]);
    }

    #[test]
    fn kl_rewards_are_zero_when_the_policy_is_the_sft_model() {
        let lp = [-1.0, -0.5, -2.0];
        close(&rewards(0.7, &lp, &lp, 0.1), &[0.0, 0.0, 0.7]);
        // A policy more sure of its tokens than SFT pays β per nat.
        close(
            &rewards(1.0, &[-0.5, -1.0], &[-1.5, -1.0], 0.2),
            &[-0.2, 1.0],
        );
    }

    #[test]
    fn whitening_centres_and_scales() {
        let mut v = [1.0, 2.0, 3.0, 4.0];
        whiten(&mut v);
        let mean: f32 = v.iter().sum::<f32>() / 4.0;
        let var: f32 = v.iter().map(|x| x * x).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        let mut same = [2.0, 2.0];
        whiten(&mut same);
        close(&same, &[0.0, 0.0]);
    }

    #[test]
    fn the_rollout_window_maps_actions_to_predicting_positions() {
        let set = Some(Arc::new(TokenSet::new(&[3, 5, 6, 7], 8)));
        let r = Rollout {
            ids: vec![1, 2, 3, 4, 5, 6],
            actions: vec![None, None, set.clone(), None, set.clone(), set],
            score: 0.0,
        };
        // Everything fits: token p is predicted at position p − 1.
        assert_eq!(r.window(8), (0, vec![1, 3, 4]));
        // A context of 3 keeps the last 4 tokens (3..6) and predicts from 3, 4, 5.
        assert_eq!(r.window(3), (2, vec![1, 2]));
    }

    #[test]
    fn constrained_log_probabilities_renormalise_over_the_allowed_set() {
        let device = Device::flex();
        // One row, two positions, vocabulary 4; the first position may write only 1 or 3.
        let logits = Tensor::<1>::from_floats([0.5, 1.0, -2.0, 0.0, 0.3, 0.1, 0.2, 0.4], &device)
            .reshape([1, 2, 4]);
        let allowed = [Some(Arc::new(TokenSet::new(&[1, 3], 4))), None];
        let bias = constraint_bias(&[&allowed], 2, 4, &device);
        let out: Vec<f32> = constrained(logits.clone(), bias)
            .into_data()
            .try_to_vec()
            .unwrap();
        // log e^1 / (e^1 + e^0) and log e^0 / (e^1 + e^0); the others are left out.
        let z = (1f32.exp() + 1.0).ln();
        close(&out[1..2], &[1.0 - z]);
        close(&out[3..4], &[-z]);
        assert!(out[0] < -1e3 && out[2] < -1e3);
        // The unconstrained position is the ordinary log-softmax.
        let plain: Vec<f32> = constrained(logits, None).into_data().try_to_vec().unwrap();
        close(&out[4..], &plain[4..]);
        // No sets at all: no bias to add.
        assert!(constraint_bias(&[&[None, None]], 2, 4, &device).is_none());
    }

    #[test]
    fn entropy_over_an_allowed_set_is_finite() {
        let device = Device::flex();
        let logits = Tensor::<1>::from_floats([0.0, 0.0, 5.0, 0.0], &device).reshape([1, 1, 4]);
        let allowed = [Some(Arc::new(TokenSet::new(&[0, 1], 4)))];
        let logprobs = constrained(logits, constraint_bias(&[&allowed], 1, 4, &device));
        let entropy: f32 = (logprobs.clone().exp() * logprobs)
            .sum()
            .neg()
            .into_scalar();
        // Two equally likely tokens: ln 2, and no NaN from the left-out ones.
        assert!((entropy - 2f32.ln()).abs() < 1e-5, "{entropy}");
    }

    fn targets(device: &Device, advantage: f32, mask: [f32; 2]) -> Targets {
        let full = |v: f32| Tensor::<1>::from_floats([v, v], device).reshape([1, 2]);
        Targets {
            mask: Tensor::<1>::from_floats(mask, device).reshape([1, 2]),
            old_logprobs: full(-(2f32.ln())),
            old_values: full(0.0),
            advantages: full(advantage),
            returns: full(1.0),
        }
    }

    fn logprobs(p0: f32, device: &Device) -> Tensor<3> {
        // Two positions over a vocabulary of 2; the target is token 0 at both.
        Tensor::<1>::from_floats([p0, 1.0 - p0, p0, 1.0 - p0], device)
            .reshape([1, 2, 2])
            .log()
    }

    #[test]
    fn the_clipped_objective_stops_rewarding_moves_past_epsilon() {
        let device = Device::flex();
        let ids = Tensor::<1, Int>::from_ints([0, 0], &device).reshape([1, 2]);
        let clip = Clip {
            ratio: 0.2,
            value: 0.2,
            value_weight: 0.0,
            entropy_weight: 0.0,
        };
        let values = Tensor::<1>::from_floats([0.0, 0.0], &device).reshape([1, 2]);
        // Old p = 0.5; new p = 0.55 → ratio 1.1, inside: loss = −1.1·A.
        let inside = ppo_loss(
            logprobs(0.55, &device),
            values.clone(),
            ids.clone(),
            &targets(&device, 1.0, [1.0, 1.0]),
            clip,
        );
        assert!((inside.policy + 1.1).abs() < 1e-5, "{}", inside.policy);
        assert_eq!(inside.clip_fraction, 0.0);
        // New p = 0.9 → ratio 1.8, clipped at 1.2 for a positive advantage.
        let outside = ppo_loss(
            logprobs(0.9, &device),
            values.clone(),
            ids.clone(),
            &targets(&device, 1.0, [1.0, 1.0]),
            clip,
        );
        assert!((outside.policy + 1.2).abs() < 1e-5, "{}", outside.policy);
        assert_eq!(outside.clip_fraction, 1.0);
        // For a negative advantage the pessimistic (unclipped) term is kept: 1.8.
        let negative = ppo_loss(
            logprobs(0.9, &device),
            values,
            ids,
            &targets(&device, -1.0, [1.0, 1.0]),
            clip,
        );
        assert!((negative.policy - 1.8).abs() < 1e-5, "{}", negative.policy);
    }

    #[test]
    fn positions_that_are_not_actions_carry_no_gradient() {
        let device = Device::flex().autodiff();
        let ids = Tensor::<1, Int>::from_ints([0, 0], &device).reshape([1, 2]);
        let raw = Tensor::<1>::from_floats([0.3, -0.2, 0.1, 0.4], &device)
            .reshape([1, 2, 2])
            .require_grad();
        let values = Tensor::<1>::from_floats([0.5, -0.5], &device)
            .reshape([1, 2])
            .require_grad();
        let clip = Clip {
            ratio: 0.2,
            value: 10.0,
            value_weight: 1.0,
            entropy_weight: 0.01,
        };
        // Position 1 is forced (mask 0): nothing there may move.
        let loss = ppo_loss(
            log_softmax(raw.clone(), 2),
            values.clone(),
            ids,
            &targets(&device, 1.0, [1.0, 0.0]),
            clip,
        );
        let grads = loss.total.backward();
        let g = raw
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let gv = values
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(g[0].abs() > 1e-4 && g[1].abs() > 1e-4, "{g:?}");
        assert_eq!((g[2], g[3]), (0.0, 0.0), "{g:?}");
        assert!(gv[0].abs() > 1e-4 && gv[1] == 0.0, "{gv:?}");
    }

    #[test]
    fn the_value_loss_does_not_reach_the_trunk() {
        let device = Device::flex().autodiff();
        let config = GptConfig::tiny();
        let model = ActorCritic::new(Gpt::new(&config, &device), &config, &device);
        let ids = || Tensor::<1, Int>::from_ints([270, 271, 272], &device).reshape([1, 3]);
        let loss = || {
            model
                .forward(ids(), None)
                .1
                .sub_scalar(5.0)
                .powi_scalar(2)
                .sum()
        };
        let trunk = burn::optim::GradientsParams::from_grads(loss().backward(), &model.gpt);
        assert!(
            trunk.is_empty(),
            "{} trunk tensors got a gradient",
            trunk.len()
        );
        let head = burn::optim::GradientsParams::from_grads(loss().backward(), &model.value);
        assert!(!head.is_empty(), "the head learns");
    }

    #[test]
    fn value_clipping_keeps_the_worse_of_the_two_errors() {
        let device = Device::flex();
        let ids = Tensor::<1, Int>::from_ints([0, 0], &device).reshape([1, 2]);
        let clip = Clip {
            ratio: 0.2,
            value: 0.2,
            value_weight: 1.0,
            entropy_weight: 0.0,
        };
        // Old value 0, return 1, new value 0.9: clipped to 0.2, error 0.8² beats 0.1².
        let values = Tensor::<1>::from_floats([0.9, 0.9], &device).reshape([1, 2]);
        let loss = ppo_loss(
            logprobs(0.5, &device),
            values,
            ids,
            &targets(&device, 0.0, [1.0, 1.0]),
            clip,
        );
        assert!((loss.value - 0.5 * 0.64).abs() < 1e-5, "{}", loss.value);
        // Entropy of a fair coin.
        assert!((loss.entropy - std::f32::consts::LN_2).abs() < 1e-5);
    }
}
