//! RLHF from the command line with the embedded default model: sample candidates with the
//! real agent, rank them with the rules, train a reward model on them; and how each step
//! refuses bad input.

use std::path::Path;

mod common;

use common::{assert_clear_failure, miracle_with_home, stderr, stdout};

// The word problem (c4) is there for its variety: sampled at temperature 1.5, the shipped
// model answers the three one-step requests the same way every time, so without it no
// calculator comparison would be ranked.
const SUITE: &str = r#"{"id": "c1", "lang": "en", "category": "calc", "query": "What is 8 plus 3?", "expect": {"expert": "calculator", "answer": "11", "docs": []}}
{"id": "c2", "lang": "en", "category": "calc", "query": "Compute (2 + 2) * 7.", "expect": {"expert": "calculator", "answer": "28", "docs": []}}
{"id": "c3", "lang": "zh", "category": "calc", "query": "计算 45 乘以 6。", "expect": {"expert": "calculator", "answer": "270", "docs": []}}
{"id": "c4", "lang": "en", "category": "calc", "query": "Tom had 40 stamps and gave 15 to his sister. How many stamps does he have left?", "expect": {"expert": "calculator", "answer": "25", "docs": []}}
{"id": "d1", "lang": "en", "category": "direct", "query": "Hello!", "expect": {"expert": null, "answer": null, "docs": []}}
"#;

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn sample_rank_and_train_a_reward_model() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::write(dir.path().join("suite.jsonl"), SUITE).unwrap();
    let sampled = miracle_with_home(
        &[
            "label",
            "sample",
            &path(home, "suite.jsonl"),
            "--out",
            &path(home, "candidates.jsonl"),
            "--k",
            "3",
            "--max-draws",
            "6",
            "--temperature",
            "1.5",
        ],
        home,
    );
    assert!(sampled.status.success(), "{}", stderr(&sampled));
    assert!(
        stderr(&sampled).contains("[####################] 100% 5/5 requests sampled"),
        "{}",
        stderr(&sampled)
    );
    assert!(
        stdout(&sampled).contains("5 requests"),
        "{}",
        stdout(&sampled)
    );
    let candidates = std::fs::read_to_string(dir.path().join("candidates.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = candidates
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for line in &lines {
        let responses = line["responses"].as_array().unwrap();
        assert!((1..=3).contains(&responses.len()), "{line}");
        // Each response is a whole run: steps with their kinds, an answer, an outcome.
        assert!(responses.iter().all(|r| r["answer"].is_string()
            && r["outcome"].is_string()
            && r["steps"].as_array().is_some_and(|s| !s.is_empty())));
    }

    let ranked = miracle_with_home(
        &[
            "label",
            "rank",
            &path(home, "candidates.jsonl"),
            "--out",
            &path(home, "comparisons.jsonl"),
        ],
        home,
    );
    assert!(ranked.status.success(), "{}", stderr(&ranked));
    let comparisons = std::fs::read_to_string(dir.path().join("comparisons.jsonl")).unwrap();
    for line in comparisons.lines() {
        let c: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(c["ranker"], "rules");
        assert!(c["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            c["ranking"].as_array().unwrap().len(),
            c["responses"].as_array().unwrap().len()
        );
    }

    std::fs::write(
        dir.path().join("rm.yaml"),
        "comparisons: comparisons.jsonl\nval: comparisons.jsonl\ntrain: {steps: 3, prompts_per_step: 2, eval_interval: 3}\nout: rm\n",
    )
    .unwrap();
    let trained = miracle_with_home(&["rm", "--config", &path(home, "rm.yaml")], home);
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(
        stderr(&trained).contains("[####################] 100% step "),
        "{}",
        stderr(&trained)
    );
    assert!(
        stdout(&trained).contains("held-out pairwise accuracy"),
        "{}",
        stdout(&trained)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("rm/report.json")).unwrap())
            .unwrap();
    let accuracy = report["held_out_pair_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    // The held-out pairs, split by what orders them, are all the held-out pairs.
    let split = report["held_out_by_what_orders_the_pair"]
        .as_object()
        .unwrap_or_else(|| panic!("{report}"));
    let split_pairs: u64 = split.values().map(|v| v["pairs"].as_u64().unwrap()).sum();
    assert_eq!(
        split_pairs,
        report["held_out_pairs"].as_u64().unwrap(),
        "{report}"
    );
    assert!(
        split.keys().all(|k| k == "form" || k == "reference"),
        "{report}"
    );
    for file in [
        "config.json",
        "tokenizer.json",
        "model.safetensors",
        "reward_head.safetensors",
    ] {
        assert!(dir.path().join("rm/model").join(file).is_file(), "{file}");
    }
    let evaluated = miracle_with_home(
        &[
            "rm",
            "--config",
            &path(home, "rm.yaml"),
            "--evaluate",
            &path(home, "comparisons.jsonl"),
        ],
        home,
    );
    assert!(evaluated.status.success(), "{}", stderr(&evaluated));
    let evaluation = stdout(&evaluated);
    assert!(evaluation.contains("calc"), "{evaluation}");
    // Every pair is ordered either by the responses' form or only by the reference.
    let pairs_of = |prefix: &str| -> usize {
        evaluation
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.split_whitespace().find_map(|w| w.parse::<usize>().ok()))
            .sum()
    };
    let all: usize = evaluation
        .lines()
        .find(|l| l.starts_with("all "))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{evaluation}"));
    assert!(
        evaluation.contains("by what orders the pair:"),
        "{evaluation}"
    );
    assert_eq!(
        pairs_of("the form       all") + pairs_of("the reference  all"),
        all,
        "{evaluation}"
    );

    std::fs::write(
        dir.path().join("dpo.yaml"),
        "comparisons: comparisons.jsonl\nval: comparisons.jsonl\ntrain: {steps: 2, prompts_per_step: 2, eval_interval: 2}\nout: dpo\n",
    )
    .unwrap();
    let tuned = miracle_with_home(&["dpo", "--config", &path(home, "dpo.yaml")], home);
    assert!(tuned.status.success(), "{}", stderr(&tuned));
    assert!(
        stdout(&tuned).contains("implicit reward"),
        "{}",
        stdout(&tuned)
    );
    let log = std::fs::read_to_string(dir.path().join("dpo/log.csv")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(dir.path().join("dpo/model/model.safetensors").is_file());
}

#[test]
fn bad_rlhf_input_fails_in_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::write(
        home.join("broken.jsonl"),
        "{\"id\": \"x\", \"responses\": []}\n",
    )
    .unwrap();
    std::fs::write(
        home.join("empty-query.jsonl"),
        "{\"id\": \"x\", \"query\": \" \"}\n",
    )
    .unwrap();
    std::fs::write(
        home.join("rm.yaml"),
        "comparisons: broken.jsonl\nval: broken.jsonl\nout: rm\n",
    )
    .unwrap();
    std::fs::write(
        home.join("typo.yaml"),
        "comparison: a.jsonl\nval: b\nout: rm\n",
    )
    .unwrap();
    std::fs::write(
        home.join("single.jsonl"),
        "{\"id\": \"x\", \"query\": \"Hi\", \"responses\": [{\"steps\": [], \"answer\": \"Hello\", \"outcome\": \"answered\"}]}\n",
    )
    .unwrap();
    let ppo = "reward: no-such-rm\nprompts: p.jsonl\nheldout: p.jsonl\nout: ppo\n";
    std::fs::write(home.join("ppo.yaml"), ppo).unwrap();
    std::fs::write(
        home.join("ppo-temperature.yaml"),
        format!("{ppo}temperature: 0\n"),
    )
    .unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "label".into(),
                "rank".into(),
                path(home, "none.jsonl"),
                "--out".into(),
                path(home, "o"),
            ],
            "none.jsonl",
        ),
        (
            vec![
                "label".into(),
                "rank".into(),
                path(home, "broken.jsonl"),
                "--out".into(),
                path(home, "o"),
            ],
            "broken.jsonl:1: not a candidates line",
        ),
        (
            vec![
                "label".into(),
                "rank".into(),
                path(home, "broken.jsonl"),
                "--out".into(),
                path(home, "o"),
                "--noise".into(),
                "1.5".into(),
            ],
            "--noise is a fraction",
        ),
        (
            vec![
                "label".into(),
                "sample".into(),
                path(home, "empty-query.jsonl"),
                "--out".into(),
                path(home, "o"),
            ],
            "empty-query.jsonl:1: the query is empty",
        ),
        (
            vec![
                "label".into(),
                "sample".into(),
                path(home, "empty-query.jsonl"),
                "--out".into(),
                path(home, "o"),
                "--k".into(),
                "1".into(),
            ],
            "--k must be at least 2",
        ),
        (
            vec!["rm".into(), "--config".into(), path(home, "rm.yaml")],
            "broken.jsonl:1: not a comparison line",
        ),
        (
            vec!["rm".into(), "--config".into(), path(home, "typo.yaml")],
            "not a valid reward-model config",
        ),
        (
            vec![
                "label".into(),
                "serve".into(),
                path(home, "none.jsonl"),
                "--out".into(),
                path(home, "o"),
            ],
            "none.jsonl",
        ),
        (
            vec![
                "label".into(),
                "serve".into(),
                path(home, "single.jsonl"),
                "--out".into(),
                path(home, "o"),
            ],
            "no request has two responses",
        ),
        (
            vec!["ppo".into(), "--config".into(), path(home, "ppo.yaml")],
            "reward: cannot load",
        ),
        (
            vec![
                "ppo".into(),
                "--config".into(),
                path(home, "ppo-temperature.yaml"),
            ],
            "temperature must be positive",
        ),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_clear_failure(&miracle_with_home(&args, home), expected);
    }
    assert!(!home.join("o").exists(), "nothing written on failure");
}
