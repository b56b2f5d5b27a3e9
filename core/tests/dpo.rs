//! DPO trains for real: on comparisons where the better response writes a mark the worse
//! ones lack, a tiny policy's implicit reward comes to order held-out pairs, and the policy
//! it saves writes the preferred mark more often than the reference does.

use burn::prelude::*;
use miracle_core::gpt::{Gpt, GptConfig, model_dir};
use miracle_core::rng::SplitMix64;
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::dpo::{DpoRun, DpoSchedule, sequence_logprobs, train_dpo};
use miracle_core::train::reward::Ranked;

const GOOD: u32 = 3000;
const BAD: u32 = 3002;

fn groups(n: usize, seed: u64) -> Vec<Ranked> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let prompt: Vec<u32> = (0..5)
                .map(|_| 400 + (rng.next_u64() % 2000) as u32)
                .collect();
            let sequences: Vec<Vec<u32>> = [BAD, GOOD]
                .iter()
                .map(|&m| prompt.iter().copied().chain([m]).collect())
                .collect();
            // Only the response (the last token) is written by the model.
            let written = sequences
                .iter()
                .map(|s| (0..s.len()).map(|i| i + 1 == s.len()).collect())
                .collect();
            Ranked {
                sequences,
                written,
                ranking: vec![1, 0],
            }
        })
        .collect()
}

#[test]
fn dpo_learns_the_preference_and_saves_the_policy() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        block_size: 16,
        vocab_size: tokenizer.vocab_size(),
        bias: false,
        ..GptConfig::tiny()
    };
    let device = Device::flex();
    device.seed(3);
    let sft = Gpt::new(&config, &device);
    let (train, val) = (groups(48, 1), groups(16, 2));
    let schedule = DpoSchedule {
        steps: 40,
        prompts_per_step: 4,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup_steps: 4,
        beta: 0.5,
        eval_interval: 20,
        checkpoint_interval: 20,
        seed: 1,
    };
    let dir = tempfile::tempdir().unwrap();
    let run = DpoRun {
        config: &config,
        tokenizer: &tokenizer,
        sft: &sft,
        train: &train,
        val: &val,
        schedule: &schedule,
        out: dir.path(),
    };
    let (reports, held_out) = train_dpo(&run, &device, |_| {}).unwrap();
    assert_eq!(reports.len(), 40);
    // At the start the policy is the reference: every implicit reward is 0, so the loss
    // is −log σ(0) = ln 2. (Not the pairs' accuracy: rewards equal up to the last bits of
    // two float paths, the training and the inference one, order ties by chance.)
    assert!(
        (reports[0].train.loss - std::f32::consts::LN_2).abs() < 1e-3,
        "{}",
        reports[0].train.loss
    );
    assert!(
        held_out.accuracy >= 0.95,
        "held-out accuracy {}",
        held_out.accuracy
    );
    let tuned = model_dir::load(&dir.path().join("model"), &device)
        .unwrap()
        .model;
    let lp = |model: &Gpt, g: &Ranked| {
        sequence_logprobs(model, &g.sequences, &g.written, &device)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let (before, after) = (lp(&sft, &val[0]), lp(&tuned, &val[0]));
    assert!(
        after[1] - after[0] > before[1] - before[0] + 0.5,
        "{before:?} then {after:?}"
    );
}

/// Issue 30: DPO could not resume. A run interrupted after its checkpoint at step 4 (here
/// by a panic in the middle of step 6, as a kill would leave it) goes on from step 4 when
/// rerun, and logs exactly the losses of a run never stopped.
#[test]
fn an_interrupted_dpo_run_resumes_with_the_same_losses() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        block_size: 16,
        vocab_size: tokenizer.vocab_size(),
        bias: false,
        ..GptConfig::tiny()
    };
    let device = Device::flex();
    device.seed(3);
    let sft = Gpt::new(&config, &device);
    let (train, val) = (groups(16, 1), groups(8, 2));
    let schedule = DpoSchedule {
        steps: 10,
        prompts_per_step: 4,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup_steps: 2,
        beta: 0.5,
        eval_interval: 5,
        checkpoint_interval: 4,
        seed: 1,
    };
    let run = |out: &std::path::Path, stop_at: Option<u64>| {
        let run = DpoRun {
            config: &config,
            tokenizer: &tokenizer,
            sft: &sft,
            train: &train,
            val: &val,
            schedule: &schedule,
            out,
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            train_dpo(&run, &device, |r| {
                assert!(Some(r.step) != stop_at, "interrupted");
            })
            .unwrap()
        }))
    };
    let (straight, broken) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(straight.path(), None).unwrap();
    assert!(run(broken.path(), Some(6)).is_err());
    let (reports, _) = run(broken.path(), None).unwrap();
    assert_eq!(
        reports.first().map(|r| r.step),
        Some(5),
        "resumed after step 4"
    );
    let losses = |dir: &std::path::Path| -> Vec<String> {
        let log = std::fs::read_to_string(dir.join("log.csv")).unwrap();
        log.lines()
            .map(|row| row.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(losses(broken.path()).len(), 11);
    assert_eq!(losses(broken.path()), losses(straight.path()));
}
