//! The reward model trains for real: on comparisons where the better response carries a
//! mark the worse ones lack, a tiny model goes from chance to ordering held-out pairs,
//! and the reward directory it saves scores as the trained model did, centred near 0.

use burn::prelude::*;
use miracle_core::gpt::{Gpt, GptConfig};
use miracle_core::rng::SplitMix64;
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::reward::{Ranked, RewardModel};
use miracle_core::train::reward_training::{RewardRun, RewardSchedule, evaluate, train_reward};

const GOOD: u32 = 3000;
const OKAY: u32 = 3001;
const BAD: u32 = 3002;

/// A prompt of random tokens and three responses that differ in one token, ranked by it.
fn groups(n: usize, seed: u64) -> Vec<Ranked> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let prompt: Vec<u32> = (0..6)
                .map(|_| 400 + (rng.next_u64() % 2000) as u32)
                .collect();
            let mut with = |mark: u32| {
                let mut s = prompt.clone();
                s.push(mark);
                s.push(400 + (rng.next_u64() % 2000) as u32);
                s
            };
            // Shuffled, so position in the group says nothing.
            let marks = [BAD, GOOD, OKAY];
            let sequences: Vec<Vec<u32>> = marks.iter().map(|&m| with(m)).collect();
            Ranked {
                written: sequences.iter().map(|s| vec![true; s.len()]).collect(),
                sequences,
                ranking: vec![1, 2, 0],
            }
        })
        .collect()
}

#[test]
fn a_tiny_reward_model_learns_the_ranking_and_saves_what_it_learned() {
    let device = Device::flex().autodiff();
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        block_size: 16,
        vocab_size: tokenizer.vocab_size(),
        bias: false,
        ..GptConfig::tiny()
    };
    device.seed(5);
    let start = RewardModel::new(Gpt::new(&config, &device), &config, &device);
    let (train, val) = (groups(64, 1), groups(24, 2));
    let inference = device.clone().inner();
    let before = evaluate(&start.valid(), &val, &inference);
    let schedule = RewardSchedule {
        steps: 80,
        prompts_per_step: 4,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup_steps: 5,
        eval_interval: 40,
        ..RewardSchedule::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut seen = 0;
    let (reports, after) = train_reward(
        RewardRun {
            config: &config,
            tokenizer: &tokenizer,
            start,
            train: &train,
            val: &val,
            schedule: &schedule,
            out: dir.path(),
        },
        |_| seen += 1,
    )
    .unwrap();
    assert_eq!((seen, reports.len()), (80, 80));
    assert_eq!(reports.iter().filter(|r| r.val.is_some()).count(), 2);
    assert_eq!(after.pairs, 24 * 3);
    assert!(
        after.accuracy >= 0.95,
        "held-out accuracy {}",
        after.accuracy
    );
    assert!(
        after.loss < before.loss,
        "{} then {}",
        before.loss,
        after.loss
    );
    let log = std::fs::read_to_string(dir.path().join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 81);

    let (saved, saved_config, _) =
        RewardModel::load(&dir.path().join("model"), &inference).unwrap();
    assert_eq!(saved_config, config);
    assert!(evaluate(&saved, &val, &inference).accuracy >= 0.95);
    // Centred: the training responses score 0 on average.
    let sequences: Vec<Vec<u32>> = train.iter().flat_map(|g| g.sequences.clone()).collect();
    let mean = saved
        .scores(&sequences, &inference)
        .mean()
        .into_scalar::<f32>();
    assert!(mean.abs() < 1e-3, "mean training reward {mean}");
}

#[test]
fn bad_setups_are_refused_before_training() {
    let device = Device::flex().autodiff();
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        block_size: 16,
        vocab_size: tokenizer.vocab_size(),
        bias: false,
        ..GptConfig::tiny()
    };
    let dir = tempfile::tempdir().unwrap();
    let train = groups(4, 1);
    for (schedule, val, expected) in [
        (
            RewardSchedule {
                steps: 0,
                ..RewardSchedule::default()
            },
            groups(2, 2),
            "at least 1",
        ),
        (
            RewardSchedule::default(),
            Vec::new(),
            "no held-out comparisons",
        ),
        (
            RewardSchedule {
                min_lr: 1.0,
                ..RewardSchedule::default()
            },
            groups(2, 2),
            "min_lr",
        ),
    ] {
        let start = RewardModel::new(Gpt::new(&config, &device), &config, &device);
        let error = train_reward(
            RewardRun {
                config: &config,
                tokenizer: &tokenizer,
                start,
                train: &train,
                val: &val,
                schedule: &schedule,
                out: dir.path(),
            },
            |_| {},
        )
        .unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    }
}

/// Issue 30: the reward model could not resume. A run interrupted after its checkpoint at
/// step 4 (a panic in step 6, as a kill would leave it) goes on from step 4 when rerun and
/// logs exactly the losses of a run never stopped.
#[test]
fn an_interrupted_reward_model_run_resumes_with_the_same_losses() {
    let device = Device::flex().autodiff();
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        block_size: 16,
        vocab_size: tokenizer.vocab_size(),
        bias: false,
        ..GptConfig::tiny()
    };
    let (train, val) = (groups(16, 1), groups(8, 2));
    let schedule = RewardSchedule {
        steps: 10,
        prompts_per_step: 4,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup_steps: 2,
        eval_interval: 5,
        checkpoint_interval: 4,
        ..RewardSchedule::default()
    };
    // Every run starts from the same weights, read back from one saved start.
    let initial = tempfile::tempdir().unwrap();
    device.seed(5);
    RewardModel::new(Gpt::new(&config, &device), &config, &device)
        .save(initial.path(), &config, &tokenizer)
        .unwrap();
    let run = |out: &std::path::Path, stop_at: Option<u64>| {
        let (start, _, _) = RewardModel::load(initial.path(), &device).unwrap();
        let run = RewardRun {
            config: &config,
            tokenizer: &tokenizer,
            start,
            train: &train,
            val: &val,
            schedule: &schedule,
            out,
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            train_reward(run, |r| assert!(Some(r.step) != stop_at, "interrupted")).unwrap()
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
