//! PPO-ptx for real on a toy task: a tiny policy writes six tokens from a small allowed
//! set and is rewarded for each `TARGET` it writes. PPO must raise the reward; the KL to
//! the reference starts at zero; forced tokens are not actions; a stopped run resumes.

use burn::prelude::*;
use std::path::Path;
use std::sync::Arc;

use miracle_core::gpt::{Decoder, Decoding, Gpt, GptConfig, TokenSet};
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::ppo::Rollout;
use miracle_core::train::ppo_training::{Environment, PpoRun, PpoSchedule, train_ppo};

const TARGET: u32 = 300;
const ALLOWED: [u32; 4] = [300, 301, 302, 303];
const PROMPT: [u32; 3] = [400, 401, 402];
/// A forced token after the third action: the environment's reply, never an action.
const FORCED: u32 = 500;

struct Toy {
    config: GptConfig,
    device: Device,
    rollouts: usize,
}

impl Toy {
    fn run(&self, policy: &Gpt, decoding: &Decoding) -> Rollout {
        let mut decoder = Decoder::new(policy, &self.config, &self.device);
        decoder.feed(&PROMPT).unwrap();
        let set = Arc::new(TokenSet::new(&ALLOWED, self.config.vocab_size));
        let mut actions = vec![None; PROMPT.len()];
        let mut hits = 0;
        for k in 0..6 {
            let token = decoder.next_token(decoding, Some(&ALLOWED)).unwrap();
            actions.push(Some(set.clone()));
            hits += usize::from(token == TARGET);
            if k == 2 {
                decoder.feed(&[FORCED]).unwrap();
                actions.push(None);
            }
        }
        Rollout {
            ids: decoder.tokens().to_vec(),
            actions,
            score: hits as f32 / 6.0,
        }
    }
}

impl Environment for Toy {
    fn rollouts(&mut self, policy: &Gpt, iteration: u64) -> Result<Vec<Rollout>, String> {
        Ok((0..self.rollouts)
            .map(|i| {
                let decoding = Decoding::Sample {
                    temperature: 1.0,
                    top_k: None,
                    top_p: None,
                    seed: iteration * 1000 + i as u64,
                };
                self.run(policy, &decoding)
            })
            .collect())
    }

    fn evaluate(&mut self, policy: &Gpt) -> Result<f64, String> {
        Ok(f64::from(self.run(policy, &Decoding::Greedy).score))
    }
}

/// The device's random state is global: tests that seed it and build models take turns,
/// so each builds the same model on every run.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A tiny SFT model, its tokenizer and pretraining text: what every run here starts from.
struct Setup {
    config: GptConfig,
    tokenizer: Tokenizer,
    sft: Gpt,
    text: Vec<u32>,
    device: Device,
}

impl Setup {
    fn new() -> Self {
        let tokenizer = Tokenizer::shipped().unwrap();
        let config = GptConfig {
            block_size: 16,
            vocab_size: tokenizer.vocab_size(),
            bias: false,
            ..GptConfig::tiny()
        };
        let device = Device::flex();
        device.seed(7);
        let sft = Gpt::new(&config, &device);
        let text: Vec<u32> = (0..400).map(|i| 1000 + (i * 7 % 50) as u32).collect();
        Setup {
            config,
            tokenizer,
            sft,
            text,
            device,
        }
    }

    /// A run of `schedule` into `out`, with the text for both ptx and validation.
    fn run<'a>(&'a self, schedule: &'a PpoSchedule, out: &'a Path) -> PpoRun<'a> {
        PpoRun {
            config: &self.config,
            tokenizer: &self.tokenizer,
            sft: &self.sft,
            ptx_train: &self.text,
            ptx_val: &self.text,
            schedule,
            out,
        }
    }

    fn toy(&self, rollouts: usize) -> Toy {
        Toy {
            config: self.config.clone(),
            device: self.device.clone(),
            rollouts,
        }
    }
}

fn schedule(steps: u64) -> PpoSchedule {
    PpoSchedule {
        steps,
        rollouts: 16,
        epochs: 2,
        minibatch: 8,
        lr: 1e-2,
        kl_coef: 0.01,
        ptx_coef: 0.05,
        ptx_batch: 2,
        eval_interval: 5,
        checkpoint_interval: 5,
        ..PpoSchedule::default()
    }
}

#[test]
fn ppo_raises_a_toy_reward_from_a_zero_kl_start() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let setup = Setup::new();
    let dir = tempfile::tempdir().unwrap();
    let schedule = schedule(15);
    let run = setup.run(&schedule, dir.path());
    let reports = train_ppo(&run, &mut setup.toy(16), &setup.device, None, |_| {}).unwrap();
    assert_eq!(reports.len(), 15);
    // Before any update the policy is the reference: no KL.
    assert!(reports[0].kl.abs() < 1e-5, "first KL {}", reports[0].kl);
    // Six actions per rollout; the forced token is not one.
    assert_eq!(reports[0].actions, 16 * 6);
    let early: f32 = reports[..3].iter().map(|r| r.reward).sum::<f32>() / 3.0;
    let late: f32 = reports[12..].iter().map(|r| r.reward).sum::<f32>() / 3.0;
    assert!(late > early + 0.2, "reward {early} then {late}");
    // The policy moved away from the reference, and the KL, measured as the agent samples
    // (both models confined to the allowed set), is positive: over the whole vocabulary
    // the estimate could go negative and reward leaving the set (docs/RLHF.md).
    assert!(reports[14].kl > 1e-3, "KL {}", reports[14].kl);
    let evaluated: Vec<_> = reports.iter().filter_map(|r| r.heldout_success).collect();
    assert_eq!(evaluated.len(), 3);
    assert!(
        reports
            .iter()
            .all(|r| r.val_lm_loss.is_some() == r.heldout_success.is_some())
    );
    let log = std::fs::read_to_string(dir.path().join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 16);
    assert!(dir.path().join("model/model.safetensors").is_file());
}

#[test]
fn a_stopped_run_resumes_where_it_stopped() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let setup = Setup::new();
    let schedule = schedule(4);
    let run_in = |dir: &Path, stop: Option<u64>| {
        let run = setup.run(&schedule, dir);
        train_ppo(&run, &mut setup.toy(16), &setup.device, stop, |_| {}).unwrap()
    };
    let whole = tempfile::tempdir().unwrap();
    let straight = run_in(whole.path(), None);
    let split = tempfile::tempdir().unwrap();
    let first = run_in(split.path(), Some(2));
    assert_eq!(first.len(), 2);
    let rest = run_in(split.path(), None);
    assert_eq!(rest.iter().map(|r| r.iteration).collect::<Vec<_>>(), [3, 4]);
    // The resumed run sees the same rollouts and ends with the same policy.
    for (a, b) in straight[2..].iter().zip(&rest) {
        assert!(
            (a.reward - b.reward).abs() < 1e-6,
            "{} vs {}",
            a.reward,
            b.reward
        );
    }
    let weights = |d: &Path| std::fs::read(d.join("model/model.safetensors")).unwrap();
    assert_eq!(weights(whole.path()), weights(split.path()));
    let log = std::fs::read_to_string(split.path().join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 5);
}

/// An environment that loses a token's mark: every rollout has one fewer than tokens.
struct Unmarked(Toy);

impl Environment for Unmarked {
    fn rollouts(&mut self, policy: &Gpt, iteration: u64) -> Result<Vec<Rollout>, String> {
        let mut rollouts = self.0.rollouts(policy, iteration)?;
        for r in &mut rollouts {
            r.actions.pop();
        }
        Ok(rollouts)
    }

    fn evaluate(&mut self, policy: &Gpt) -> Result<f64, String> {
        self.0.evaluate(policy)
    }
}

#[test]
fn rollouts_with_unmarked_tokens_are_refused() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let setup = Setup::new();
    let dir = tempfile::tempdir().unwrap();
    let schedule = schedule(1);
    let run = setup.run(&schedule, dir.path());
    let mut env = Unmarked(setup.toy(2));
    let err = train_ppo(&run, &mut env, &setup.device, None, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("iteration 1") && err.contains("10 tokens but 9 action marks"),
        "{err}"
    );
}
