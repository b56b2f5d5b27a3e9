//! Instruction tuning end to end on a toy task: demonstrations are written by running the
//! real calculator, a tiny GPT is trained on them from scratch with the SFT objective
//! (assistant tokens + λ·LM), and the agent loop then runs the trained model on requests
//! it never saw — it must call the calculator with the right expression, read the result
//! and answer with it; a greeting must get a direct answer.

use burn::prelude::*;
use miracle_core::gpt::{GptConfig, model_dir};
use miracle_core::rng::SplitMix64;
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::pretrain::{Schedule, TrainRun, train};
use miracle_core::train::sft::{Example, Finetuning, pack};
use miracle_experts::{Calculator, Context, Registry};
use miracle_router::agent::{Agent, Outcome};
use miracle_router::protocol::{Dialogue, Exchange, Step, render};

fn registry() -> Registry {
    Registry::new().with(Calculator::new())
}

/// "What is a plus b?" answered through the calculator, its result from the real expert.
async fn addition(registry: &Registry, a: u64, b: u64) -> Dialogue {
    let input = format!("{a} + {b}");
    let result = registry
        .call("calculator", &input, &Context::default())
        .await
        .expect("the calculator adds")
        .text;
    Dialogue {
        system: None,
        exchanges: vec![Exchange {
            user: format!("What is {a} plus {b}?"),
            steps: vec![
                Step::Call {
                    expert: "calculator".into(),
                    input,
                },
                Step::Result {
                    text: result.clone(),
                },
                Step::Answer { text: result },
            ],
        }],
    }
}

fn greeting() -> Dialogue {
    Dialogue {
        system: None,
        exchanges: vec![Exchange {
            user: "Hello".into(),
            steps: vec![Step::Answer { text: "Hi!".into() }],
        }],
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_tiny_model_learns_to_call_the_calculator() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let registry = registry();
    // Held out: the pairs asked at the end never appear in training.
    let held_out: Vec<(u64, u64)> = (0..10).map(|i| (13 + 8 * i, 91 - 7 * i)).collect();
    let mut rng = SplitMix64::new(3);
    let mut examples = Vec::new();
    for i in 0..1000 {
        let dialogue = if i % 10 == 0 {
            greeting()
        } else {
            let (a, b) = loop {
                let (a, b) = (10 + rng.next_u64() % 90, 10 + rng.next_u64() % 90);
                if !held_out.contains(&(a, b)) {
                    break (a, b);
                }
            };
            addition(&registry, a, b).await
        };
        let rendered = render(&dialogue, &tokenizer).unwrap();
        examples.push(Example {
            ids: rendered.ids,
            trained: rendered.trained,
        });
    }
    let config = GptConfig {
        n_layer: 2,
        n_head: 2,
        n_embd: 64,
        block_size: 64,
        vocab_size: tokenizer.vocab_size(),
        dropout: 0.0,
        bias: false,
        position: Default::default(),
    };
    let rows = pack(&examples, config.block_size);
    assert_eq!(rows.too_long, 0);
    let schedule = Schedule {
        batch_size: 8,
        grad_accum: 1,
        steps: 1000,
        lr: 3e-3,
        min_lr: 3e-4,
        warmup_steps: 20,
        weight_decay: 0.0,
        beta1: 0.9,
        beta2: 0.99,
        grad_clip: Some(1.0),
        eval_interval: 1000,
        eval_iters: 2,
        checkpoint_interval: 1000,
        seed: 11,
    };
    let objective = Finetuning {
        train: &rows.rows,
        val: &rows.rows,
        batch: schedule.batch_size,
        lm_weight: 0.1,
        seed: schedule.seed,
    };
    let out = tempfile::tempdir().unwrap();
    let run = TrainRun {
        config: &config,
        schedule: &schedule,
        tokenizer: &tokenizer,
        out: out.path(),
    };
    let device = Device::flex();
    let reports = train(&run, &objective, None, &device, None, |_| {}).unwrap();
    let first = reports.first().unwrap().loss;
    let last = reports.last().unwrap().val_loss.unwrap();
    assert!(
        last < first / 10.0,
        "the assistant loss fell from {first} only to {last}"
    );

    let trained = model_dir::load(&out.path().join("model"), &device).unwrap();
    let agent = Agent::new(
        &trained.model,
        &trained.config,
        &device,
        &tokenizer,
        &registry,
    )
    .unwrap();
    let mut right = 0;
    for &(a, b) in &held_out {
        let trace = agent
            .run(&format!("What is {a} plus {b}?"), &[])
            .await
            .unwrap();
        assert_eq!(trace.outcome, Outcome::Answered);
        let called = trace.steps.iter().any(|s| {
            matches!(&s.step, Step::Call { expert, input } if expert == "calculator" && *input == format!("{a} + {b}"))
        });
        if called && trace.answer == (a + b).to_string() {
            right += 1;
        }
    }
    assert!(
        right >= 8,
        "only {right} of 10 unseen additions were routed and answered right"
    );
    let hello = agent.run("Hello", &[]).await.unwrap();
    assert!(
        hello.experts().is_empty(),
        "a greeting called {:?}",
        hello.experts()
    );
}
