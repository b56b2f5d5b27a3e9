//! The PPO-ptx loop. Each iteration: the environment (the agent loop with its experts and
//! the reward model, in the router) runs the current policy on a batch of prompts; the
//! rollouts get per-token KL rewards against the frozen SFT model and GAE advantages;
//! then a few epochs of clipped updates, each minibatch mixed with γ times the
//! language-modelling loss on pretraining text. An iteration is a step of the one loop
//! (trainer.rs): checkpoints and resume work as in pretraining, and a killed run continues
//! from its last checkpoint.
//!
//! ```text
//! OUT/log.csv               iteration,lr,reward,kl,clip_fraction,entropy,policy_loss,value_loss,ptx_loss,approx_kl,rollout_s,rollout_tokens_per_s,update_s,tokens_per_s,val_lm_loss,heldout_success
//! OUT/checkpoints/latest    the newest complete checkpoint
//! OUT/checkpoints/step-N/   after iteration N: model dir + value_head.safetensors optimizer.safetensors trainer.json (train/checkpoint.rs)
//! OUT/model/                the final policy (a model directory)
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::Batches;
use super::ppo::{
    ActorCritic, Clip, Rollout, Targets, constrained, constraint_bias, gae, ppo_loss, rewards,
    whiten,
};
use super::trainer::{self, Stage};
use super::trainer::{TrainError, io};
use super::{AdamW, AdamWConfig, lm_loss};
use crate::gpt::{Gpt, GptConfig, TokenSet, model_dir};
use crate::tokenizer::{Special, Tokenizer};

pub const VALUE_HEAD_FILE: &str = "value_head.safetensors";

/// How to run PPO-ptx; any field left out takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PpoSchedule {
    /// Iterations in all, each one optimizer step of the one loop (`iterations`, its
    /// earlier name, is read too).
    #[serde(alias = "iterations")]
    pub steps: u64,
    /// Prompts (rollouts) per iteration.
    pub rollouts: usize,
    /// Passes over an iteration's rollouts.
    pub epochs: usize,
    /// Rollouts per gradient step.
    pub minibatch: usize,
    pub lr: f64,
    /// β: the per-token KL penalty to the SFT model.
    pub kl_coef: f32,
    /// γ of the discount and λ of GAE.
    pub gamma: f32,
    pub lambda: f32,
    pub clip_ratio: f32,
    pub clip_value: f32,
    pub value_weight: f32,
    pub entropy_weight: f32,
    /// γ of PPO-ptx: the weight of the pretraining language-modelling loss.
    pub ptx_coef: f64,
    /// Pretraining rows per gradient step.
    pub ptx_batch: usize,
    pub grad_clip: Option<f64>,
    pub eval_interval: u64,
    pub checkpoint_interval: u64,
    pub seed: u64,
}

impl Default for PpoSchedule {
    fn default() -> Self {
        PpoSchedule {
            steps: 40,
            rollouts: 32,
            epochs: 2,
            minibatch: 8,
            lr: 1e-5,
            kl_coef: 0.05,
            gamma: 1.0,
            lambda: 0.95,
            clip_ratio: 0.2,
            clip_value: 0.2,
            value_weight: 0.5,
            entropy_weight: 0.0,
            ptx_coef: 1.0,
            ptx_batch: 4,
            grad_clip: Some(1.0),
            eval_interval: 10,
            checkpoint_interval: 10,
            seed: 1,
        }
    }
}

/// Where rollouts come from and how success is measured: the agent loop, its experts and
/// the reward model (implemented in the router).
pub trait Environment {
    /// Runs `policy` on iteration `iteration`'s prompts; every rollout scored.
    fn rollouts(&mut self, policy: &Gpt, iteration: u64) -> Result<Vec<Rollout>, String>;
    /// Held-out task success of `policy`, a fraction.
    fn evaluate(&mut self, policy: &Gpt) -> Result<f64, String>;
}

/// One iteration's numbers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PpoReport {
    pub iteration: u64,
    pub iterations: u64,
    pub lr: f64,
    /// Mean reward-model score of the rollouts.
    pub reward: f32,
    /// Mean per-token KL to the SFT model at the actions: mean of log π − log π_SFT.
    pub kl: f32,
    pub clip_fraction: f32,
    pub entropy: f32,
    pub policy_loss: f32,
    pub value_loss: f32,
    pub ptx_loss: f32,
    pub approx_kl: f32,
    pub actions: usize,
    pub rollout_s: f64,
    /// Actions (tokens the policy chose) per second of rollouts, expert calls included.
    pub rollout_tokens_per_s: f64,
    pub update_s: f64,
    /// Tokens through the model per second in the update (rollout and ptx tokens).
    pub tokens_per_s: f64,
    pub val_lm_loss: Option<f32>,
    pub heldout_success: Option<f64>,
}

/// What PPO starts from and trains on.
pub struct PpoRun<'a> {
    pub config: &'a GptConfig,
    pub tokenizer: &'a Tokenizer,
    /// The SFT model's directory: the policy's start and the frozen reference.
    pub sft: &'a Gpt,
    /// Pretraining token streams for the ptx loss and the validation LM loss.
    pub ptx_train: &'a [u32],
    pub ptx_val: &'a [u32],
    pub schedule: &'a PpoSchedule,
    pub out: &'a Path,
}

const LOG_HEADER: &str = "iteration,lr,reward,kl,clip_fraction,entropy,policy_loss,value_loss,ptx_loss,approx_kl,rollout_s,rollout_tokens_per_s,update_s,tokens_per_s,val_lm_loss,heldout_success\n";

/// PPO-ptx as a stage of the one loop: a step is an iteration (rollouts, then epochs of
/// clipped updates at a constant learning rate).
struct Ppo<'r> {
    run: &'r PpoRun<'r>,
    env: &'r mut dyn Environment,
    ptx: Batches<'r>,
    ptx_val: Batches<'r>,
    /// The inference device (rollouts, the reference) and its autodiff form (updates).
    device: Device,
    train_device: Device,
}

impl Stage for Ppo<'_> {
    type Model = ActorCritic;
    type Report = PpoReport;
    const HEADER: &'static str = LOG_HEADER;

    fn step(
        &mut self,
        mut policy: ActorCritic,
        optimizer: &mut AdamW,
        iteration: u64,
        lr: f64,
    ) -> Result<(ActorCritic, PpoReport), TrainError> {
        let (run, s) = (self.run, self.run.schedule);
        let done = iteration + 1;
        let rollout_started = Instant::now();
        let inference = policy.valid();
        let rollouts = self
            .env
            .rollouts(&inference.gpt, iteration)
            .map_err(|e| TrainError::Config(format!("iteration {done}: rollouts: {e}")))?;
        if let Some(bad) = rollouts.iter().position(|r| r.actions.len() != r.ids.len()) {
            return Err(TrainError::Config(format!(
                "iteration {done}: rollout {bad} has {} tokens but {} action marks; the \
                 environment must mark every token",
                rollouts[bad].ids.len(),
                rollouts[bad].actions.len()
            )));
        }
        let rollout_s = rollout_started.elapsed().as_secs_f64();
        let update_started = Instant::now();
        let prepared = prepare(&rollouts, &inference, run.sft, s, run.config, &self.device);
        let mut report = PpoReport {
            iteration: done,
            iterations: s.steps,
            lr,
            reward: mean(rollouts.iter().map(|r| r.score)),
            kl: prepared.kl,
            actions: prepared.actions,
            rollout_s,
            rollout_tokens_per_s: prepared.actions as f64 / rollout_s.max(1e-9),
            ..PpoReport::default()
        };
        let mut tokens = 0usize;
        let mut sums = [0f32; 6];
        let mut steps = 0u64;
        for epoch in 0..s.epochs {
            let batches = prepared.minibatches(
                s.minibatch,
                iteration,
                epoch,
                run.config.vocab_size,
                &self.train_device,
            );
            for (m, batch) in batches.into_iter().enumerate() {
                let (logprobs, values) = policy.forward(batch.inputs.clone(), batch.bias.clone());
                let loss = ppo_loss(
                    logprobs,
                    values,
                    batch.targets_ids.clone(),
                    &batch.targets,
                    clip(s),
                );
                let ptx_index = iteration * 1000 + epoch as u64 * 100 + m as u64;
                let (x, y) = self.ptx.get(ptx_index, &self.train_device);
                tokens += batch.tokens + x.dims()[0] * x.dims()[1];
                let ptx_loss = lm_loss(&policy.gpt, x, y);
                let ptx_value = ptx_loss.clone().into_scalar::<f32>();
                let total = loss.total.clone() + ptx_loss.mul_scalar(s.ptx_coef);
                let grads = GradientsParams::from_grads(total.backward(), &policy);
                policy = optimizer.step(lr, policy, grads).0;
                for (sum, v) in sums.iter_mut().zip([
                    loss.policy,
                    loss.value,
                    loss.entropy,
                    loss.clip_fraction,
                    loss.approx_kl,
                    ptx_value,
                ]) {
                    *sum += v;
                }
                steps += 1;
            }
        }
        let n = steps.max(1) as f32;
        [
            report.policy_loss,
            report.value_loss,
            report.entropy,
            report.clip_fraction,
            report.approx_kl,
            report.ptx_loss,
        ] = sums.map(|v| v / n);
        report.update_s = update_started.elapsed().as_secs_f64();
        report.tokens_per_s = tokens as f64 / report.update_s.max(1e-9);
        Ok((policy, report))
    }

    fn validate(&mut self, policy: &ActorCritic, report: &mut PpoReport) -> Result<(), TrainError> {
        report.val_lm_loss = Some(val_lm_loss(&policy.gpt, &self.ptx_val, &self.device));
        let success = self.env.evaluate(&policy.gpt).map_err(|e| {
            TrainError::Config(format!("iteration {}: evaluation: {e}", report.iteration))
        })?;
        report.heldout_success = Some(success);
        Ok(())
    }

    fn row(&self, r: &PpoReport) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        format!(
            "{},{},{},{},{},{},{},{},{},{},{:.2},{:.1},{:.2},{:.1},{},{}",
            r.iteration,
            r.lr,
            r.reward,
            r.kl,
            r.clip_fraction,
            r.entropy,
            r.policy_loss,
            r.value_loss,
            r.ptx_loss,
            r.approx_kl,
            r.rollout_s,
            r.rollout_tokens_per_s,
            r.update_s,
            r.tokens_per_s,
            opt(r.val_lm_loss.map(f64::from)),
            opt(r.heldout_success)
        )
    }

    fn save(&self, policy: &ActorCritic, dir: &Path) -> Result<(), TrainError> {
        let run = self.run;
        model_dir::save(dir, run.config, run.tokenizer, &policy.gpt)?;
        let head = model_dir::weights_bytes(&policy.value_head()).map_err(|message| {
            TrainError::Checkpoint {
                path: dir.to_path_buf(),
                message,
            }
        })?;
        crate::fs::write_atomic(&dir.join(VALUE_HEAD_FILE), &head).map_err(io(dir))
    }

    fn load(&self, dir: &Path) -> Result<Option<ActorCritic>, String> {
        let loaded = model_dir::load(dir, &self.train_device).map_err(|e| e.to_string())?;
        if &loaded.config != self.run.config {
            return Ok(None);
        }
        let head = std::fs::read(dir.join(VALUE_HEAD_FILE)).map_err(|e| e.to_string())?;
        ActorCritic::new(loaded.model, self.run.config, &self.train_device)
            .with_value_head(head)
            .map(Some)
    }
}

/// Runs PPO-ptx on an inference device `device`; resumes from the newest checkpoint in
/// `out`. `stop_after` ends after that iteration (with a checkpoint).
pub fn train_ppo(
    run: &PpoRun<'_>,
    env: &mut dyn Environment,
    device: &Device,
    stop_after: Option<u64>,
    on_iteration: impl FnMut(&PpoReport),
) -> Result<Vec<PpoReport>, TrainError> {
    let s = run.schedule;
    check(run)?;
    let train_device = device.clone().autodiff();
    let ptx = Batches::new(run.ptx_train, s.ptx_batch, run.config.block_size, s.seed).ok_or_else(
        || TrainError::Config("the pretraining text is shorter than one context".into()),
    )?;
    let ptx_val = Batches::new(
        run.ptx_val,
        s.ptx_batch,
        run.config.block_size,
        s.seed ^ 0xA5,
    )
    .ok_or_else(|| {
        TrainError::Config("the pretraining validation text is shorter than one context".into())
    })?;
    let pace = trainer::Pace {
        steps: s.steps,
        warmup_steps: 0,
        lr: s.lr,
        min_lr: s.lr,
        eval_interval: s.eval_interval,
        checkpoint_interval: s.checkpoint_interval,
    };
    let start = trainer::Start {
        optimizer: || AdamW::new(adamw(s)),
        // Built on the training device and filled with the SFT weights: a module moved
        // there with to_device would not track gradients.
        model: || {
            let bytes = model_dir::weights_bytes(run.sft).map_err(TrainError::Config)?;
            let gpt = model_dir::load_weights(run.config, bytes, &train_device)
                .map_err(TrainError::Config)?;
            Ok(ActorCritic::new(gpt, run.config, &train_device))
        },
    };
    let mut stage = Ppo {
        run,
        env,
        ptx,
        ptx_val,
        device: device.clone(),
        train_device: train_device.clone(),
    };
    let trained = trainer::train(
        &mut stage,
        (s, &pace),
        (run.out, &train_device),
        start,
        stop_after,
        on_iteration,
    )?;
    if let Some(policy) = &trained.model {
        model_dir::save(
            &run.out.join("model"),
            run.config,
            run.tokenizer,
            &policy.gpt,
        )?;
    }
    Ok(trained.reports)
}

/// The language-modelling loss on 8 validation batches of pretraining text: PPO-ptx must
/// keep it near the SFT model's.
pub fn val_lm_loss(model: &Gpt, batches: &Batches<'_>, device: &Device) -> f32 {
    let total: f32 = (0..8)
        .map(|i| {
            let (x, y) = batches.get(i, device);
            lm_loss(model, x, y).into_scalar::<f32>()
        })
        .sum();
    total / 8.0
}

fn clip(s: &PpoSchedule) -> Clip {
    Clip {
        ratio: s.clip_ratio,
        value: s.clip_value,
        value_weight: s.value_weight,
        entropy_weight: s.entropy_weight,
    }
}

fn adamw(s: &PpoSchedule) -> AdamWConfig {
    AdamWConfig {
        weight_decay: 0.0,
        grad_clip: s.grad_clip,
        ..AdamWConfig::default()
    }
}

fn mean(values: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n.max(1) as f32
}

fn check(run: &PpoRun<'_>) -> Result<(), TrainError> {
    let s = run.schedule;
    for (name, value) in [
        ("steps", s.steps),
        ("rollouts", s.rollouts as u64),
        ("epochs", s.epochs as u64),
        ("minibatch", s.minibatch as u64),
        ("ptx_batch", s.ptx_batch as u64),
        ("eval_interval", s.eval_interval),
        ("checkpoint_interval", s.checkpoint_interval),
    ] {
        if value == 0 {
            return Err(TrainError::Config(format!("{name} must be at least 1")));
        }
    }
    let finite = [
        s.kl_coef,
        s.gamma,
        s.lambda,
        s.clip_ratio,
        s.clip_value,
        s.value_weight,
        s.entropy_weight,
    ];
    if !(s.lr > 0.0 && s.ptx_coef >= 0.0 && finite.iter().all(|v| v.is_finite() && *v >= 0.0)) {
        return Err(TrainError::Config(
            "lr must be positive; kl_coef, gamma, lambda, clips, weights and ptx_coef at least 0"
                .into(),
        ));
    }
    Ok(())
}

/// Rollouts turned into the tensors of the update, on the inference device.
struct Prepared {
    rows: Vec<Row>,
    kl: f32,
    actions: usize,
}

/// One rollout's window: inputs, targets, and per position mask, old log-probability and
/// value, advantage and return.
struct Row {
    inputs: Vec<u32>,
    targets: Vec<u32>,
    /// Per position: the set its target was sampled from, for an action.
    allowed: Vec<Option<Arc<TokenSet>>>,
    mask: Vec<f32>,
    old_logprobs: Vec<f32>,
    old_values: Vec<f32>,
    advantages: Vec<f32>,
    returns: Vec<f32>,
}

/// A minibatch, right-padded.
struct Minibatch {
    inputs: Tensor<2, Int>,
    /// Confines each action's distribution to its allowed set.
    bias: Option<Tensor<3>>,
    targets_ids: Tensor<2, Int>,
    targets: Targets,
    tokens: usize,
}

/// Old log-probabilities and values from the policy, reference log-probabilities from
/// SFT (both confined to each action's allowed set), per-token rewards, GAE, and
/// advantages whitened over the whole batch.
fn prepare(
    rollouts: &[Rollout],
    policy: &ActorCritic,
    sft: &Gpt,
    s: &PpoSchedule,
    config: &GptConfig,
    device: &Device,
) -> Prepared {
    let (block, vocab) = (config.block_size, config.vocab_size);
    let mut rows = Vec::with_capacity(rollouts.len());
    let (mut kl_sum, mut actions) = (0.0f32, 0usize);
    for rollout in rollouts {
        let (start, positions) = rollout.window(block);
        let window = &rollout.ids[start..];
        if positions.is_empty() || window.len() < 2 {
            continue;
        }
        let inputs = window[..window.len() - 1].to_vec();
        let targets = window[1..].to_vec();
        let allowed = rollout.actions[start + 1..].to_vec();
        let n = inputs.len();
        let ids = ints(&inputs, device).reshape([1, n]);
        let bias = constraint_bias(&[&allowed], n, vocab, device);
        let (logprobs, values) = policy.forward(ids.clone(), bias.clone());
        let sft_logprobs = constrained(sft.forward(ids), bias);
        let old = at_targets(logprobs, &targets, device);
        let reference = at_targets(sft_logprobs, &targets, device);
        let values: Vec<f32> = values.into_data().try_to_vec::<f32>().expect("floats");
        let pick = |v: &[f32]| positions.iter().map(|&p| v[p]).collect::<Vec<f32>>();
        let (old_a, ref_a, values_a) = (pick(&old), pick(&reference), pick(&values));
        kl_sum += old_a.iter().zip(&ref_a).map(|(o, r)| o - r).sum::<f32>();
        actions += positions.len();
        let r = rewards(rollout.score, &old_a, &ref_a, s.kl_coef);
        let (adv, ret) = gae(&r, &values_a, s.gamma, s.lambda);
        let mut row = Row {
            inputs,
            targets,
            allowed,
            mask: vec![0.0; n],
            old_logprobs: old,
            old_values: values,
            advantages: vec![0.0; n],
            returns: vec![0.0; n],
        };
        for (k, &p) in positions.iter().enumerate() {
            row.mask[p] = 1.0;
            row.advantages[p] = adv[k];
            row.returns[p] = ret[k];
        }
        rows.push(row);
    }
    // Whiten the advantages of actions across the batch.
    let mut all: Vec<f32> = rows
        .iter()
        .flat_map(|r| {
            r.mask
                .iter()
                .zip(&r.advantages)
                .filter(|(m, _)| **m > 0.0)
                .map(|(_, a)| *a)
        })
        .collect();
    whiten(&mut all);
    let mut next = all.into_iter();
    for row in &mut rows {
        for (m, a) in row.mask.iter().zip(row.advantages.iter_mut()) {
            if *m > 0.0 {
                *a = next.next().expect("one per action");
            }
        }
    }
    Prepared {
        rows,
        kl: kl_sum / actions.max(1) as f32,
        actions,
    }
}

impl Prepared {
    /// The rows in a seeded order, in minibatches of `size`.
    fn minibatches(
        &self,
        size: usize,
        iteration: u64,
        epoch: usize,
        vocab: usize,
        device: &Device,
    ) -> Vec<Minibatch> {
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        let mut rng =
            crate::rng::SplitMix64::new(iteration.wrapping_mul(0x9E37_79B9) ^ epoch as u64);
        rng.shuffle(&mut order);
        order
            .chunks(size)
            .map(|chunk| {
                let rows: Vec<&Row> = chunk.iter().map(|&i| &self.rows[i]).collect();
                minibatch(&rows, vocab, device)
            })
            .collect()
    }
}

fn minibatch(rows: &[&Row], vocab: usize, device: &Device) -> Minibatch {
    let t = rows.iter().map(|r| r.inputs.len()).max().unwrap_or(1);
    let b = rows.len();
    let pad = Special::Pad.id();
    let ids = |f: fn(&Row) -> &Vec<u32>| {
        let flat: Vec<u32> = rows
            .iter()
            .flat_map(|r| {
                let v = f(r);
                v.iter()
                    .copied()
                    .chain(std::iter::repeat_n(pad, t - v.len()))
            })
            .collect();
        ints(&flat, device).reshape([b, t])
    };
    let floats = |f: fn(&Row) -> &Vec<f32>| {
        let flat: Vec<f32> = rows
            .iter()
            .flat_map(|r| {
                let v = f(r);
                v.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0.0, t - v.len()))
            })
            .collect();
        Tensor::<1>::from_floats(flat.as_slice(), device).reshape([b, t])
    };
    let allowed: Vec<&[Option<Arc<TokenSet>>]> =
        rows.iter().map(|r| r.allowed.as_slice()).collect();
    Minibatch {
        inputs: ids(|r| &r.inputs),
        bias: constraint_bias(&allowed, t, vocab, device),
        targets_ids: ids(|r| &r.targets),
        targets: Targets {
            mask: floats(|r| &r.mask),
            old_logprobs: floats(|r| &r.old_logprobs),
            old_values: floats(|r| &r.old_values),
            advantages: floats(|r| &r.advantages),
            returns: floats(|r| &r.returns),
        },
        tokens: rows.iter().map(|r| r.inputs.len()).sum(),
    }
}

fn ints(ids: &[u32], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
    Tensor::<1, Int>::from_ints(v.as_slice(), device)
}

/// Log-probabilities `[1, t, vocab]` at the target tokens, as numbers.
fn at_targets(logprobs: Tensor<3>, targets: &[u32], device: &Device) -> Vec<f32> {
    let t = targets.len();
    logprobs
        .gather(2, ints(targets, device).reshape([1, t, 1]))
        .reshape([t])
        .into_data()
        .try_to_vec::<f32>()
        .expect("floats")
}
