//! Pretraining for real on the shipped corpora (a tiny model, a few steps): resuming after an
//! interruption reproduces the uninterrupted run exactly, and bad setups are refused clearly.

use std::path::Path;

use burn::prelude::*;
use miracle_core::gpt::{GptConfig, model_dir};
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::data::{Packed, pack};
use miracle_core::train::pretrain::{PretrainRun, Schedule, StepReport, TrainError, pretrain};
use miracle_corpora::Collection;

fn setup() -> (Tokenizer, Packed, GptConfig, Schedule) {
    let tokenizer = Tokenizer::shipped().unwrap();
    let mut papers = Collection::Csl.papers().unwrap();
    papers.truncate(120);
    let texts: Vec<_> = papers.iter().map(|p| p.as_text()).collect();
    let data = pack(&tokenizer, &texts).unwrap();
    let config = GptConfig {
        n_layer: 2,
        n_head: 2,
        n_embd: 16,
        block_size: 16,
        vocab_size: 8192,
        dropout: 0.0,
        bias: false,
        position: Default::default(),
    };
    let schedule = Schedule {
        batch_size: 2,
        grad_accum: 2,
        steps: 6,
        lr: 3e-3,
        min_lr: 3e-4,
        warmup_steps: 2,
        weight_decay: 0.1,
        beta1: 0.9,
        beta2: 0.99,
        grad_clip: Some(1.0),
        eval_interval: 3,
        eval_iters: 2,
        checkpoint_interval: 3,
        seed: 11,
    };
    (tokenizer, data, config, schedule)
}

/// Trains with the shipped tokenizer; what varies between tests is passed in.
fn attempt(
    config: &GptConfig,
    schedule: &Schedule,
    data: &Packed,
    out: &Path,
    stop_after: Option<u64>,
) -> Result<Vec<StepReport>, TrainError> {
    let tokenizer = Tokenizer::shipped().unwrap();
    let run = PretrainRun {
        config,
        schedule,
        tokenizer: &tokenizer,
        data,
        out,
    };
    pretrain(&run, &Device::flex(), stop_after, |_| {})
}

fn run(out: &Path, stop_after: Option<u64>) -> Vec<StepReport> {
    let (_, data, config, schedule) = setup();
    attempt(&config, &schedule, &data, out, stop_after).unwrap()
}

#[test]
fn resume_after_an_interruption_reproduces_the_uninterrupted_run() {
    let whole = tempfile::tempdir().unwrap();
    let uninterrupted = run(whole.path(), None);
    assert_eq!(uninterrupted.len(), 6);

    let split = tempfile::tempdir().unwrap();
    let first = run(split.path(), Some(3));
    assert_eq!(first.len(), 3);
    let second = run(split.path(), None);
    assert_eq!(
        second.first().map(|r| r.step),
        Some(4),
        "resumes after the step-3 checkpoint"
    );

    let resumed: Vec<(u64, f32, Option<f32>)> = first
        .iter()
        .chain(&second)
        .map(|r| (r.step, r.loss, r.val_loss))
        .collect();
    let straight: Vec<(u64, f32, Option<f32>)> = uninterrupted
        .iter()
        .map(|r| (r.step, r.loss, r.val_loss))
        .collect();
    assert_eq!(resumed, straight, "every loss equal, bit for bit");

    let device = Device::flex();
    let a = model_dir::load(&whole.path().join("model"), &device).unwrap();
    let b = model_dir::load(&split.path().join("model"), &device).unwrap();
    assert!(
        model_dir::weights_bytes(&a.model).unwrap() == model_dir::weights_bytes(&b.model).unwrap(),
        "the final weights are identical"
    );

    let log = std::fs::read_to_string(split.path().join("log.csv")).unwrap();
    let steps: Vec<&str> = log
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["1", "2", "3", "4", "5", "6"],
        "each step logged once"
    );
    assert!(
        log.lines()
            .nth(3)
            .unwrap()
            .split(',')
            .nth(5)
            .is_some_and(|v| !v.is_empty()),
        "step 3 has a validation loss"
    );
}

#[test]
fn a_checkpoint_of_another_run_is_not_resumed_silently() {
    let out = tempfile::tempdir().unwrap();
    run(out.path(), Some(3));
    let (_, data, config, schedule) = setup();
    let other = Schedule {
        lr: 1e-2,
        ..schedule
    };
    let err = attempt(&config, &other, &data, out.path(), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("made with another model or schedule"),
        "{err}"
    );
}

#[test]
fn bad_setups_are_refused_before_training() {
    let out = tempfile::tempdir().unwrap();
    let (_, data, config, schedule) = setup();
    let wrong_vocab = GptConfig {
        vocab_size: 100,
        ..config.clone()
    };
    let err = attempt(&wrong_vocab, &schedule, &data, out.path(), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("differs from the tokenizer's 8192"),
        "{err}"
    );
    let no_steps = Schedule {
        steps: 0,
        ..schedule.clone()
    };
    let err = attempt(&config, &no_steps, &data, out.path(), None).unwrap_err();
    assert_eq!(err.to_string(), "train.steps must be at least 1");
    let empty = Packed {
        train: vec![1, 2, 3],
        val: data.val.clone(),
    };
    let err = attempt(&config, &schedule, &empty, out.path(), None).unwrap_err();
    assert!(err.to_string().contains("shorter than one block"), "{err}");
}
