//! RLHF data: comparison files (reading with clear errors, appending without loss), the
//! programmatic ranker's rules and noise.

use std::path::Path;

use miracle_router::agent::{Outcome, TracedStep};
use miracle_router::demos::Expect;
use miracle_router::protocol::Step;
use miracle_router::rlhf::comparison::{
    Candidates, Comparison, Prompt, Response, append_line, read_comparisons,
};
use miracle_router::rlhf::ranker::{Decider, Rules, decider, rank, score};

fn traced(step: Step) -> TracedStep {
    TracedStep {
        step,
        tokens: 0,
        ms: 0.0,
        error: None,
        pressed: false,
    }
}

fn call(expert: &str, input: &str, result: &str, answer: &str) -> Response {
    Response {
        steps: vec![
            traced(Step::Call {
                expert: expert.into(),
                input: input.into(),
            }),
            traced(Step::Result {
                text: result.into(),
            }),
            traced(Step::Answer {
                text: answer.into(),
            }),
        ],
        answer: answer.into(),
        outcome: Outcome::Answered,
    }
}

fn calc_prompt() -> Prompt {
    Prompt {
        id: "calc-1".into(),
        lang: Some("en".into()),
        category: Some("calc".into()),
        query: "What is 17 times 23?".into(),
        expect: Some(Expect {
            expert: Some("calculator".into()),
            answer: Some("391".into()),
            docs: vec![],
            replies: Vec::new(),
        }),
    }
}

fn comparison(responses: Vec<Response>, ranking: Vec<usize>) -> Comparison {
    Comparison {
        candidates: Candidates {
            prompt: calc_prompt(),
            responses,
        },
        ranking,
        ranker: "alice".into(),
        at: "2026-11-24T01:00:00Z".into(),
    }
}

#[test]
fn the_rules_prefer_the_right_expert_the_right_answer_and_no_invented_numbers() {
    let prompt = calc_prompt();
    let right = call("calculator", "17 * 23", "391", "The answer is 391.");
    let ignored = call("calculator", "17 * 23", "391", "The answer is 390.");
    let wrong_expert = call(
        "literature",
        "17 times 23",
        "1. [a] A.",
        "The answer is 391.",
    );
    let invented = call("calculator", "17 * 23", "391", "391, or maybe 4512.");
    let (best, _) = score(&prompt, &right);
    for worse in [&ignored, &wrong_expert, &invented] {
        let (s, verdicts) = score(&prompt, worse);
        assert!(best > s, "{best} vs {s}: {verdicts:?}");
    }
    let (_, verdicts) = score(&prompt, &invented);
    assert!(
        verdicts
            .iter()
            .any(|v| v.rule == "invented numbers" && v.points < 0.0)
    );
}

#[test]
fn the_rules_prefer_the_reply_that_answers_a_social_act() {
    use miracle_router::demos::{Lang, direct_answer, direct_replies};
    let prompt = Prompt {
        id: "greeting-1".into(),
        lang: Some("en".into()),
        category: Some("direct".into()),
        query: "Howdy!".into(),
        expect: Some(Expect {
            replies: direct_replies("direct.greeting", Lang::En),
            ..Expect::default()
        }),
    };
    let answer = |text: &str| Response {
        steps: vec![traced(Step::Answer { text: text.into() })],
        answer: text.into(),
        outcome: Outcome::Answered,
    };
    let hello = answer(direct_answer("direct.greeting", Lang::En).unwrap());
    let goodbye = answer(direct_answer("direct.farewell", Lang::En).unwrap());
    let ((right, _), (wrong, verdicts)) = (score(&prompt, &hello), score(&prompt, &goodbye));
    assert!(right > wrong, "{right} vs {wrong}: {verdicts:?}");
    assert!(
        verdicts
            .iter()
            .any(|v| v.rule == "the reply to the act" && v.points < 0.0)
    );
}

#[test]
fn a_pair_is_ordered_by_the_form_or_only_by_the_reference() {
    let prompt = calc_prompt();
    let right = call("calculator", "17 * 23", "391", "The answer is 391.");
    // Ignoring the result shows in the text: the form orders this pair.
    let ignored = call("calculator", "17 * 23", "391", "The answer is 390.");
    assert_eq!(decider(&prompt, &right, &ignored), Decider::Form);
    // A wrong operator, used faithfully, is as well-formed as the right one: only the
    // expected answer, which the reward model never sees, tells them apart.
    let wrong_operator = call("calculator", "17 + 23", "40", "The answer is 40.");
    let (right_total, _) = score(&prompt, &right);
    let (wrong_total, verdicts) = score(&prompt, &wrong_operator);
    assert!(right_total > wrong_total);
    assert!(
        verdicts
            .iter()
            .any(|v| v.rule == "expected answer" && v.reference && v.points < 0.0),
        "{verdicts:?}"
    );
    assert!(verdicts.iter().all(|v| v.reference || v.points >= 0.0));
    assert_eq!(
        decider(&prompt, &right, &wrong_operator),
        Decider::Reference
    );
}

#[test]
fn the_rules_reward_citing_what_the_search_found_and_punish_invented_papers() {
    let prompt = Prompt {
        id: "lit-1".into(),
        lang: None,
        category: None,
        query: "papers on citation analysis".into(),
        expect: Some(Expect {
            expert: Some("literature".into()),
            answer: None,
            docs: vec!["b2".into()],
            replies: Vec::new(),
        }),
    };
    let result = "1. [a1] One.\n2. [b2] Two.";
    let cites = call(
        "literature",
        "citation analysis",
        result,
        "Papers: [a1], [b2].",
    );
    let partly = call("literature", "citation analysis", result, "Papers: [a1].");
    let invents = call(
        "literature",
        "citation analysis",
        result,
        "Papers: [a1], [zz9].",
    );
    let (best, _) = score(&prompt, &cites);
    assert!(best > score(&prompt, &partly).0);
    assert!(score(&prompt, &partly).0 > score(&prompt, &invents).0);
    // What the user is shown lists each paper with its citation ("[J]" included); the
    // rules judge the model's words, so the list is neither credit nor an invented paper.
    let mut shown = cites.clone();
    shown.answer = "Papers: [a1], [b2].\n[a1] Li, M. One[J]. 2020.\n[b2] Two[J].".into();
    assert_eq!(score(&prompt, &shown).0, best);
}

#[test]
fn ranking_orders_by_score_keeps_sample_order_and_drops_ties() {
    let candidates = Candidates {
        prompt: calc_prompt(),
        responses: vec![
            call("literature", "17 times 23", "1. [a] A.", "Papers: [a]."),
            call("calculator", "17 * 23", "391", "The answer is 391."),
            call("calculator", "17 * 23", "391", "The answer is 391."),
            call("calculator", "17 + 23", "40", "The answer is 40."),
        ],
    };
    let rules = Rules {
        noise: 0.0,
        seed: 1,
    };
    let c = rank(&candidates, &rules, 0, "t").unwrap();
    c.check().unwrap();
    assert_eq!(c.candidates.responses.len(), 3, "the duplicate is dropped");
    assert_eq!(c.candidates.responses[0], candidates.responses[0]);
    assert_eq!(c.ranking, vec![1, 2, 0]);
    // One distinct response cannot be compared.
    let alone = Candidates {
        prompt: calc_prompt(),
        responses: vec![candidates.responses[1].clone(); 2],
    };
    assert!(rank(&alone, &rules, 0, "t").is_none());
}

#[test]
fn noise_reverses_about_its_share_of_rankings() {
    let candidates = Candidates {
        prompt: calc_prompt(),
        responses: vec![
            call("calculator", "17 * 23", "391", "The answer is 391."),
            call("literature", "17 times 23", "1. [a] A.", "Papers: [a]."),
        ],
    };
    let rules = Rules {
        noise: 0.2,
        seed: 9,
    };
    let reversed = (0..2000)
        .filter(|&i| rank(&candidates, &rules, i, "t").unwrap().ranking == vec![1, 0])
        .count();
    assert!(
        (330..=470).contains(&reversed),
        "{reversed} of 2000 reversed"
    );
    assert!(rules.name().contains("0.2"));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn corrupt_comparison_files_get_the_line_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let good = comparison(
        vec![
            call("calculator", "17 * 23", "391", "391"),
            call("calculator", "17 + 23", "40", "40"),
        ],
        vec![0, 1],
    );
    let line = |c: &Comparison| serde_json::to_string(c).unwrap();
    let mut bad_index = good.clone();
    bad_index.ranking = vec![0, 2];
    let mut twice = good.clone();
    twice.ranking = vec![1, 1];
    let mut partial = good.clone();
    partial.ranking = vec![1];
    let mut single = good.clone();
    single.candidates.responses.truncate(1);
    single.ranking = vec![0];
    let mut nobody = good.clone();
    nobody.ranker = " ".into();
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{}\n{{not json\n", line(&good)),
            ":2: not a comparison line",
        ),
        (
            line(&bad_index),
            ":1: ranking names response 2, but there are only 2",
        ),
        (line(&twice), "ranking names response 1 twice"),
        (line(&partial), "orders 1 of the 2 responses"),
        (line(&single), "at least 2 responses"),
        (line(&nobody), "say who"),
        ("{\"id\": \"x\"}".into(), "missing field"),
        ("\n\n".into(), "no comparison lines"),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("c{i}.jsonl"), text);
        let message = read_comparisons(&path).unwrap_err().to_string();
        assert!(message.contains(expected), "case {i}: {message}");
        assert!(
            message.contains(&format!("c{i}.jsonl")),
            "case {i}: {message}"
        );
    }
    let bytes = dir.path().join("bytes.jsonl");
    std::fs::write(&bytes, b"\xff\xfe{}").unwrap();
    assert!(
        read_comparisons(&bytes)
            .unwrap_err()
            .to_string()
            .contains("not UTF-8")
    );
    let missing = read_comparisons(&dir.path().join("none.jsonl")).unwrap_err();
    assert!(missing.to_string().contains("none.jsonl"));
}

#[test]
fn appends_survive_a_torn_line_and_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comparisons.jsonl");
    let c = comparison(
        vec![
            call("calculator", "17 * 23", "391", "391"),
            call("calculator", "17 + 23", "40", "40"),
        ],
        vec![0, 1],
    );
    append_line(&path, &c).unwrap();
    // A crash mid-write leaves half a line, never acknowledged: the next append drops it.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"id\": \"calc-1\", \"que");
    std::fs::write(&path, text).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..25 {
                    append_line(&path, &c).unwrap();
                }
            });
        }
    });
    let read = read_comparisons(&path).unwrap();
    assert_eq!(read.len(), 1 + 8 * 25);
    assert!(read.iter().all(|r| r == &c));
}

#[tokio::test]
async fn a_trace_marks_which_tokens_the_model_chose_and_from_what() {
    use burn::prelude::Device;
    use miracle_core::gpt::model_dir;
    use miracle_core::tokenizer::Special;
    use miracle_router::agent::Agent;

    let device = Device::flex();
    let loaded = model_dir::load_default(&device).unwrap();
    let registry = miracle_router::agent_registry();
    let mut agent = Agent::new(
        &loaded.model,
        &loaded.config,
        &device,
        &loaded.tokenizer,
        &registry,
    )
    .unwrap();
    let plain = agent.run("What is 8 plus 3?", &[]).await.unwrap();
    assert!(plain.tokens.is_empty() && plain.actions.is_empty());
    agent.record_actions = true;
    let trace = agent.run("What is 8 plus 3?", &[]).await.unwrap();
    assert_eq!(trace.tokens.len(), trace.actions.len());
    let chosen = trace.actions.iter().filter(|a| a.is_some()).count();
    assert!(chosen > 0 && chosen <= trace.tokens_generated, "{chosen}");
    // Nothing inside an expert's result, nor the prompt, was chosen by the model.
    let mut in_result = false;
    let assistant = trace
        .tokens
        .iter()
        .position(|&t| t == Special::Assistant.id())
        .unwrap();
    assert!(trace.actions[..=assistant].iter().all(Option::is_none));
    for (&token, action) in trace.tokens.iter().zip(&trace.actions) {
        let c = action.is_some();
        // An action's token is one of those it was chosen from.
        assert!(
            action
                .as_ref()
                .is_none_or(|set| set.contains(token) && set.len() > 1)
        );
        if token == Special::Result.id() {
            in_result = true;
        }
        assert!(!(in_result && c), "a result token marked as chosen");
        if token == Special::ResultEnd.id() {
            in_result = false;
        }
    }
}

/// Issue 31: the labelling page showed twins, responses that differ only in the order of
/// the same references; sampling and the ranker keep one of them.
#[test]
fn twins_that_differ_only_in_the_order_of_references_are_one_response() {
    let search = "1. [4983] A\n2. [77] B";
    let first = call(
        "literature",
        "white matter",
        search,
        "Papers: [4983], [77].",
    );
    let swapped = call(
        "literature",
        "white matter",
        search,
        "Papers: [77], [4983].",
    );
    let other = call("literature", "white matter", search, "Papers: [77], [12].");
    let worded = call("literature", "white matter", search, "See [77] and [4983].");
    assert!(first.looks_the_same(&first.clone()));
    assert!(first.looks_the_same(&swapped));
    assert!(!first.looks_the_same(&other), "another paper");
    assert!(!first.looks_the_same(&worded), "other words");
    let searched_else = call("literature", "grey matter", search, "Papers: [4983], [77].");
    assert!(!first.looks_the_same(&searched_else), "another search");
    let candidates = Candidates {
        prompt: calc_prompt(),
        responses: vec![first, swapped, other],
    };
    let rules = Rules {
        noise: 0.0,
        seed: 1,
    };
    let ranked = rank(&candidates, &rules, 0, "2026-12-04T00:00:00Z");
    let kept = ranked.map_or(0, |c| c.candidates.responses.len());
    assert!(kept <= 2, "the twin is dropped: {kept}");
}
