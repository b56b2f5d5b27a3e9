//! The agent loop with a real (untrained, randomly initialised) GPT: whatever the model
//! "wants", constrained decoding only lets it call registered experts with inputs their
//! formats accept; expert errors and timeouts come back as results; every run ends within
//! its bounds with a trace.

use std::time::Duration;

use async_trait::async_trait;
use burn::prelude::*;
use miracle_core::gpt::{Decoding, Gpt, GptConfig};
use miracle_core::tokenizer::Tokenizer;
use miracle_experts::code::grammar::Program;
use miracle_experts::code::{Limits as CodeLimits, run_in_process};
use miracle_experts::{
    Calculator, Context, Demonstration, Expert, ExpertError, Grounded, InputFormat, Observation,
    Registry, Syntax,
};
use miracle_router::agent::{Agent, AgentError, Limits, Outcome};
use miracle_router::grounding::{numbers_in, references_in};
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
        Err(ExpertError::failed(self.name, "out of order until 7 pm"))
    }
}

/// Returns its input: a stand-in for an expert whose input is held to the conversation.
struct Echo {
    name: &'static str,
    format: InputFormat,
}

#[async_trait]
impl Expert for Echo {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        "repeats its input"
    }
    fn input_format(&self) -> &InputFormat {
        &self.format
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &[]
    }
    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        Ok(Observation::new(input))
    }
}

/// burn's random generator is one per process: the tests of this file run in parallel, so
/// seeding it and drawing the weights happen under one lock, and every run of the suite
/// gets the same models (a random model's behaviour decides what these tests can see).
static WEIGHTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn tiny_model(tokenizer: &Tokenizer, device: &Device, seed: u64) -> (Gpt, GptConfig) {
    let config = GptConfig {
        block_size: 64,
        vocab_size: tokenizer.vocab_size(),
        ..GptConfig::tiny()
    };
    let _serial = WEIGHTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    let model = Gpt::new(&config, device);
    // burn draws a parameter's values when it is first read, not when the module is built:
    // read them all here, under the lock, or a test beside this one may seed the generator
    // in between and the model differs from run to run (a CI run failed so, 2026-12-07).
    let _ = model.clone().into_record();
    (model, config)
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

/// Bounds for a random model's runs: three calls, short steps, experts that must answer at
/// once (the slow one never does).
fn random_model_limits() -> Limits {
    Limits {
        max_calls: 3,
        max_tokens: 120,
        max_step_tokens: 40,
        timeout: Duration::from_secs(20),
        expert_timeout: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn random_models_only_make_valid_calls_and_every_run_ends() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let device = Device::flex();
    let (model, config) = tiny_model(&tokenizer, &device, 1);
    let registry = registry();
    let mut agent = Agent::new(&model, &config, &device, &tokenizer, &registry).unwrap();
    agent.limits = random_model_limits();
    let (mut calls, mut failures) = (0, 0);
    // Runs that answered after failed calls only, per language of the request.
    let (mut failed_only_en, mut failed_only_zh) = (0, 0);
    for seed in 0..24 {
        // Half the runs in Chinese: the loop's own answers follow the request's language.
        let request = match seed % 2 {
            0 => "What is 2 + 2?",
            _ => "2加2等于几？",
        };
        agent.decoding = Decoding::Sample {
            temperature: 2.0,
            top_k: None,
            top_p: None,
            seed,
        };
        let trace = agent.run(request, &[]).await.unwrap();
        assert!(
            trace.tokens_generated <= 120 + 1,
            "{}",
            trace.tokens_generated
        );
        // A run may also end at its time bound on a loaded machine: ending is what counts.
        assert!(matches!(
            trace.outcome,
            Outcome::Answered
                | Outcome::ExpertsFailed
                | Outcome::TokenLimit
                | Outcome::TimeLimit
                | Outcome::Replaced
        ));
        assert!(!trace.answer.is_empty());
        // Whatever a random model writes, the user reads an answer that passes the checks.
        if matches!(trace.outcome, Outcome::Answered | Outcome::Replaced) {
            let written = miracle_router::papers::as_written(&trace.answer);
            assert_eq!(
                miracle_router::checks::check(&written, &trace.steps),
                None,
                "{:?}",
                trace.answer
            );
        }
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
        // An error is not a result: when the model goes to answer after failed calls only,
        // the loop answers instead, quoting the errors, in the request's language.
        let failed: Vec<bool> = (trace.steps.iter())
            .filter(|s| matches!(s.step, Step::Result { .. }))
            .map(|s| s.error.is_some())
            .collect();
        let failed_only = !failed.is_empty() && failed.iter().all(|&f| f);
        let bounded = matches!(trace.outcome, Outcome::TokenLimit | Outcome::TimeLimit);
        if failed_only && !bounded {
            assert_eq!(trace.outcome, Outcome::ExpertsFailed, "{:?}", trace.answer);
            let opening = match seed % 2 {
                0 => "I could not answer this: every expert call failed (",
                _ => "无法回答：专家调用都失败了（",
            };
            assert!(trace.answer.starts_with(opening), "{:?}", trace.answer);
            for error in trace.steps.iter().filter_map(|s| s.error.as_deref()) {
                let start: String = error.chars().take(100).collect();
                assert!(trace.answer.contains(&start), "{error:?} not in the answer");
            }
            match seed % 2 {
                0 => failed_only_en += 1,
                _ => failed_only_zh += 1,
            }
        } else if trace.outcome == Outcome::Answered && !failed.is_empty() {
            assert!(
                failed.contains(&false),
                "the model answered after failed calls only"
            );
        }
        let json = serde_json::to_value(&trace).unwrap();
        assert_eq!(json["request"], request);
    }
    assert!(
        calls > 0,
        "no run made a call: the test would prove nothing"
    );
    assert!(failures > 0, "no run met a failing expert");
    assert!(
        failed_only_en > 0 && failed_only_zh > 0,
        "answers after failed calls only: {failed_only_en} in English, {failed_only_zh} in Chinese; the test needs both"
    );
}

#[tokio::test]
async fn grounded_runs_write_only_the_conversations_numbers_and_passages() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let device = Device::flex();
    let (model, config) = tiny_model(&tokenizer, &device, 2);
    let registry = Registry::new()
        .with(Calculator::new())
        .with(Echo {
            name: "quote",
            format: InputFormat::text("a passage", 200).grounded(Grounded::Quote),
        })
        .with(Echo {
            // Only digits and spaces: every call of it writes numbers.
            name: "numbers",
            format: InputFormat::alphabet("numbers", 24, "0123456789 ").grounded(Grounded::Numbers),
        });
    let mut agent = Agent::new(&model, &config, &device, &tokenizer, &registry).unwrap();
    agent.limits = Limits {
        max_calls: 3,
        max_tokens: 200,
        max_step_tokens: 60,
        timeout: Duration::from_secs(20),
        expert_timeout: Duration::from_secs(5),
    };
    let request = "Add 12 and 3456, then find 7.5 times it; papers on white matter.";
    let (mut numbers, mut quotes) = (0, 0);
    // A random model writes a number in only a few runs: sample until both kinds of hold
    // have been exercised (every run's output is checked), at least 16 runs, at most 400.
    for seed in 0..400 {
        if seed >= 16 && numbers > 0 && quotes > 0 {
            break;
        }
        agent.decoding = sampling(seed);
        let trace = agent.run(request, &[]).await.unwrap();
        let mut seen = numbers_in(request);
        let mut results: Vec<String> = Vec::new();
        let mut cited: Vec<String> = Vec::new();
        for (i, step) in trace.steps.iter().enumerate() {
            match &step.step {
                // A call cut off by its byte budget does not run; it may end half written.
                _ if unfinished(&trace.steps, i) => {}
                Step::Call { expert, input } if expert != "quote" => {
                    for n in numbers_in(input) {
                        assert!(seen.contains(&n), "{n} in {input:?} is not the user's");
                        numbers += 1;
                    }
                }
                Step::Call { input, .. } => {
                    if !input.is_empty() {
                        assert!(request.contains(input.as_str()), "{input:?} is no quote");
                        // …and a quote starts where one of the request's clauses does.
                        assert!(
                            ["Add 12", "then find", "papers on"]
                                .iter()
                                .any(|c| input.starts_with(c)),
                            "{input:?} starts inside a clause"
                        );
                        quotes += 1;
                    }
                }
                Step::Result { text } => {
                    seen.extend(numbers_in(text));
                    results.extend(numbers_in(text));
                    cited.extend(references_in(text).map(str::to_string));
                }
                Step::Answer { text } => {
                    let allowed = if trace.experts().is_empty() {
                        &seen
                    } else {
                        &results
                    };
                    for n in numbers_in(text) {
                        assert!(allowed.contains(&n), "{n} in the answer {text:?}");
                        numbers += 1;
                    }
                    // Nothing here returns a bracketed reference, so none may be cited.
                    for r in references_in(text) {
                        assert!(cited.iter().any(|c| c == r), "[{r}] in {text:?}");
                    }
                }
                Step::Think { text } => {
                    // Reasoning is held like a call's input; a step cut off at its token
                    // budget may end inside a number, so a prefix of one is allowed.
                    for n in numbers_in(text) {
                        assert!(
                            seen.iter().any(|s| s.starts_with(&n)),
                            "{n} in the reasoning {text:?}"
                        );
                        numbers += 1;
                    }
                }
            }
        }
    }
    assert!(
        numbers > 0,
        "no run wrote a number: the test would prove nothing"
    );
    assert!(quotes > 0, "no run quoted: the test would prove nothing");
    eprintln!("{numbers} numbers, {quotes} quotes");
}

/// A call a random model made, with its result.
struct HotCall {
    request: &'static str,
    expert: String,
    input: String,
    text: String,
}

/// The calls six random models (from `model_seed` on) make for each of `requests`, sampled
/// at temperature 2 from the whole vocabulary: they "want" anything, so what they write
/// shows what the experts' grammars let through.
async fn hot_calls(
    registry: &Registry,
    model_seed: u64,
    requests: &[&'static str],
) -> Vec<HotCall> {
    let tokenizer = Tokenizer::shipped().unwrap();
    let device = Device::flex();
    let mut calls = Vec::new();
    for seed in 0..6u64 {
        let (model, config) = tiny_model(&tokenizer, &device, model_seed + seed);
        let mut agent = Agent::new(&model, &config, &device, &tokenizer, registry).unwrap();
        agent.limits = Limits {
            max_calls: 3,
            max_tokens: 200,
            max_step_tokens: 48,
            timeout: Duration::from_secs(20),
            expert_timeout: Duration::from_secs(5),
        };
        for (i, &request) in requests.iter().enumerate() {
            agent.decoding = Decoding::Sample {
                temperature: 2.0,
                top_k: None,
                top_p: None,
                seed: seed * 10 + i as u64,
            };
            let trace = agent.run(request, &[]).await.unwrap();
            for pair in trace.steps.windows(2) {
                if let (Step::Call { expert, input }, Step::Result { text }) =
                    (&pair[0].step, &pair[1].step)
                {
                    calls.push(HotCall {
                        request,
                        expert: expert.clone(),
                        input: input.clone(),
                        text: text.clone(),
                    });
                }
            }
        }
    }
    calls
}

/// Issue 29: "Find papers about graphene batteries." got the calculator call `(s - .`.
/// Under the calculator's grammar every call random models write stays a prefix of an
/// expression (and parses when they finish it), and a request without a number never
/// reaches it.
#[tokio::test]
async fn calculator_calls_are_whole_expressions_and_need_a_quantity() {
    let registry = Registry::new().with(Calculator::new()).with(Echo {
        name: "echo",
        format: InputFormat::alphabet("letters", 32, "abcdefghijklmnopqrstuvwxyz "),
    });
    let requests = [
        "What is 17 times 23, minus 4?",
        "Find papers about graphene batteries.",
        "See you tomorrow.",
        "计算 (12 + 30) 除以 7。",
    ];
    let (mut called, mut finished) = (0, 0);
    for call in hot_calls(&registry, 100, &requests).await {
        let HotCall {
            request,
            expert,
            input,
            text,
        } = &call;
        if expert != "calculator" {
            continue;
        }
        called += 1;
        assert!(
            !numbers_in(request).is_empty(),
            "{request:?} has no number, yet the calculator got {input:?}"
        );
        // Finished or cut off by the token budget, what was written can still become a
        // whole expression: no token ever left the grammar.
        assert!(
            miracle_experts::calculator::Prefix::default()
                .after(input)
                .is_some(),
            "{input:?} left the calculator's grammar"
        );
        if text.contains("did not finish its input") {
            continue;
        }
        finished += 1;
        for malformed in ["cannot parse", "incomplete", "takes", "unknown", "empty"] {
            assert!(!text.contains(malformed), "{input:?} gave {text:?}");
        }
    }
    assert!(
        called > 0,
        "no calculator call ({finished} finished): the test would prove nothing"
    );
}

/// Issue 29: programs failed with "Variable not found: c" and "Expecting '{' to start a
/// statement block". Under the code expert's grammar, random models write only prefixes of
/// programs, and a program they finish parses in Rhai and uses only the names it declares.
/// (The expert here echoes the program; Rhai reads it in process.)
#[tokio::test]
async fn programs_parse_and_use_only_the_names_they_declare() {
    let registry = Registry::new().with(Echo {
        name: "code",
        format: InputFormat::text("a Rhai program", 2000).syntax(Syntax::Program),
    });
    let requests = [
        "Add up every prime number below 50.",
        "Write a program that counts the even numbers up to 100.",
        "用程序计算1到100的和。",
    ];
    let (mut called, mut finished) = (0, 0);
    for HotCall { input, text, .. } in hot_calls(&registry, 200, &requests).await {
        called += 1;
        let written = Program::default().after(&input);
        assert!(written.is_some(), "{input:?} left the grammar");
        if text.contains("did not finish its input") {
            continue;
        }
        finished += 1;
        assert!(written.unwrap().complete(), "{input:?} ran unfinished");
        if let Err(error) = run_in_process(&input, &CodeLimits::default()) {
            for malformed in ["syntax error", "Variable not found", "Expecting"] {
                assert!(!error.contains(malformed), "{input:?}: {error}");
            }
        }
    }
    assert!(
        finished > 0,
        "no finished program ({called} calls): the test would prove nothing"
    );
}

fn sampling(seed: u64) -> Decoding {
    Decoding::Sample {
        temperature: 1.5,
        top_k: Some(40),
        top_p: None,
        seed,
    }
}

fn unfinished(steps: &[miracle_router::agent::TracedStep], call: usize) -> bool {
    matches!(&steps[call].step, Step::Call { .. })
        && steps.get(call + 1).is_some_and(|r| {
            matches!(&r.step, Step::Result { text } if text.contains("did not finish its input"))
        })
}

#[tokio::test]
async fn a_calculation_goes_on_until_it_has_used_every_number_of_the_request() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let device = Device::flex();
    let (model, config) = tiny_model(&tokenizer, &device, 3);
    let format =
        InputFormat::alphabet("sums", 40, "0123456789+-*/^%(). ").grounded(Grounded::Numbers);
    // Echoing arithmetic, it "calculates" for the router, and a random model makes it succeed
    // often enough for calculations to be carried on.
    let registry = Registry::new().with(Echo {
        name: "arithmetic",
        format,
    });
    let mut agent = Agent::new(&model, &config, &device, &tokenizer, &registry).unwrap();
    let max_calls = 4;
    agent.limits = Limits {
        max_calls,
        max_tokens: 400,
        max_step_tokens: 40,
        timeout: Duration::from_secs(20),
        expert_timeout: Duration::from_secs(5),
    };
    let request = "Take 12 from 3456, then add 78 and 9.";
    // Pressed calls that brought a number left in, and answers after every number was used.
    let (mut carried, mut covered) = (0, 0);
    for seed in 0..400 {
        if seed >= 16 && carried >= 3 && covered >= 1 {
            break;
        }
        agent.decoding = sampling(seed);
        let trace = agent.run(request, &[]).await.unwrap();
        let mut unused = numbers_in(request);
        let mut computed = false;
        let mut calls = 0;
        let mut stuck = false;
        for (i, step) in trace.steps.iter().enumerate() {
            match &step.step {
                Step::Call { input, .. } => {
                    calls += 1;
                    let before = unused.len();
                    unused.retain(|n| !numbers_in(input).contains(n));
                    let unfinished = unfinished(&trace.steps, i);
                    if step.pressed {
                        stuck |= unfinished;
                        // Pressed only after a result, with a number left; a pressed call
                        // brings one in unless the model could not finish it.
                        assert!(computed && before > 0, "pressed for nothing: {input:?}");
                        assert!(
                            unused.len() < before || unfinished,
                            "{input:?} brings nothing in"
                        );
                        carried += usize::from(!unfinished);
                    }
                }
                // A calculation is under way once an expert returned a number.
                Step::Result { text } if step.error.is_none() => {
                    computed |= !numbers_in(text).is_empty();
                }
                Step::Answer { text } if computed && trace.outcome == Outcome::Answered => {
                    // With a number left, the model answers only out of calls, or once a
                    // call it was pressed into could not be finished (the router stops
                    // pressing then).
                    assert!(
                        unused.is_empty() || calls == max_calls || stuck,
                        "answered {text:?} with {unused:?} unused: {:?}",
                        trace.steps
                    );
                    covered += usize::from(unused.is_empty());
                }
                _ => {}
            }
        }
    }
    assert!(
        carried >= 3 && covered >= 1,
        "{carried} pressed calls carried a calculation on, {covered} answers used every number: \
         the test would prove little"
    );
}

#[tokio::test]
async fn a_model_that_reads_number_slots_runs_ungrounded_and_shows_no_slot_to_anyone() {
    let tokenizer = Tokenizer::shipped().unwrap();
    let device = Device::flex();
    let (model, config) = tiny_model(&tokenizer, &device, 1);
    let registry = registry();
    let mut agent = Agent::new(&model, &config, &device, &tokenizer, &registry).unwrap();
    agent.number_slots = true;
    // The holds read digits: a slot model grounded is refused, with what to do.
    let refused = agent.run("What is 12 + 30?", &[]).await.unwrap_err();
    assert!(matches!(refused, AgentError::SlotsGrounded));
    assert!(refused.to_string().contains("--ungrounded"));
    agent.grounded = false;
    agent.limits = random_model_limits();
    for seed in 0..8 {
        agent.decoding = Decoding::Sample {
            temperature: 2.0,
            top_k: None,
            top_p: None,
            seed,
        };
        let trace = agent.run("What is 12 + 30?", &[]).await.unwrap();
        // The request's slots are N0 (12) and N1 (30): whatever the model wrote, the trace
        // and the answer hold their numbers.
        let shown = (trace.steps.iter())
            .map(|s| format!("{:?}", s.step))
            .chain([trace.answer.clone()]);
        for text in shown {
            let slot = slot_shown(&text);
            assert!(slot.is_none(), "{text:?} shows the slot {slot:?}");
        }
    }
}

/// The first slot name of the request "What is 12 + 30?" in `text`, not glued to a letter.
fn slot_shown(text: &str) -> Option<&'static str> {
    ["N0", "N1"].into_iter().find(|slot| {
        text.match_indices(slot).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + 2..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(|c| c.is_ascii_digit())
        })
    })
}
