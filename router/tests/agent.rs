//! The agent loop with a real (untrained, randomly initialised) GPT: whatever the model
//! "wants", constrained decoding only lets it call registered experts with inputs their
//! formats accept; expert errors and timeouts come back as results; every run ends within
//! its bounds with a trace.

use std::time::Duration;

use async_trait::async_trait;
use burn::prelude::*;
use miracle_core::gpt::{Decoding, Gpt, GptConfig};
use miracle_core::tokenizer::Tokenizer;
use miracle_experts::{
    Calculator, Context, Demonstration, Expert, ExpertError, InputFormat, Observation, Registry,
};
use miracle_router::agent::{Agent, Limits, Outcome};
use miracle_router::protocol::Step;

/// An expert that always fails, and one that never answers in time.
struct Trouble {
    name: &'static str,
    format: InputFormat,
}

#[async_trait]
impl Expert for Trouble {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        "fails or hangs"
    }
    fn input_format(&self) -> &InputFormat {
        &self.format
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &[]
    }
    async fn call(&self, _input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        if self.name == "slow" {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Err(ExpertError::failed(self.name, "out of order"))
    }
}

fn registry() -> Registry {
    Registry::new()
        .with(Calculator::new())
        .with(Trouble {
            name: "broken",
            format: InputFormat::alphabet("digits", 8, "0123456789"),
        })
        .with(Trouble {
            name: "slow",
            format: InputFormat::text("anything", 32),
        })
}

#[tokio::test]
async fn random_models_only_make_valid_calls_and_every_run_ends() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let device = Device::flex();
    let config = GptConfig {
        n_layer: 1,
        n_head: 2,
        n_embd: 16,
        block_size: 64,
        vocab_size: tokenizer.vocab_size(),
        dropout: 0.0,
        bias: true,
    };
    let model = Gpt::new(&config, &device);
    let registry = registry();
    let mut agent = Agent::new(&model, &config, &device, &tokenizer, &registry).unwrap();
    agent.limits = Limits {
        max_calls: 3,
        max_tokens: 120,
        max_step_tokens: 40,
        timeout: Duration::from_secs(20),
        expert_timeout: Duration::from_millis(50),
    };
    let (mut calls, mut failures) = (0, 0);
    for seed in 0..12 {
        agent.decoding = Decoding::Sample {
            temperature: 2.0,
            top_k: None,
            top_p: None,
            seed,
        };
        let trace = agent.run("What is 2 + 2?", &[]).await.unwrap();
        assert!(
            trace.tokens_generated <= 120 + 1,
            "{}",
            trace.tokens_generated
        );
        assert!(matches!(
            trace.outcome,
            Outcome::Answered | Outcome::TokenLimit
        ));
        assert!(!trace.answer.is_empty() || trace.outcome == Outcome::Answered);
        for pair in trace.steps.windows(2) {
            let Step::Call { expert, input } = &pair[0].step else {
                continue;
            };
            calls += 1;
            let known = registry
                .get(expert)
                .unwrap_or_else(|| panic!("unknown expert {expert:?}"));
            let Step::Result { text } = &pair[1].step else {
                panic!("a call is followed by its result");
            };
            let accepted = known.input_format().check(input);
            assert!(
                accepted.is_ok() || text.contains("did not finish its input"),
                "{expert} got {input:?}: {accepted:?}"
            );
            if expert != "calculator" {
                failures += 1;
                assert!(pair[1].error.is_some(), "{expert}'s error is recorded");
                assert!(text.starts_with("error: "), "{text}");
            }
        }
        let json = serde_json::to_value(&trace).unwrap();
        assert_eq!(json["request"], "What is 2 + 2?");
    }
    assert!(
        calls > 0,
        "no run made a call: the test would prove nothing"
    );
    assert!(failures > 0, "no run met a failing expert");
}
