//! Workflows end to end: a hostile set of broken files, each refused with where and why;
//! real runs with the built-in experts, a real index on disk and the shipped model.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use burn::prelude::Device;
use miracle_core::gpt::model_dir::{self, LoadedModel};
use miracle_corpora::ReadOptions;
use miracle_experts::search::LiteratureIndex;
use miracle_experts::{
    Context, Demonstration, Expert, ExpertError, InputFormat, Kinds, Observation, Registry,
};
use miracle_router::workflow::{Host, LanguageModel, StepStatus, Workflow};
use serde_json::{Value, json};

fn model() -> &'static LoadedModel {
    static MODEL: std::sync::OnceLock<LoadedModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| model_dir::load_default(&Device::flex()).unwrap())
}

fn with_host<T>(experts: Registry, f: impl FnOnce(&Host<'_>) -> T) -> T {
    let kinds = Kinds::builtin();
    let loaded = model();
    let host = Host {
        experts: &experts,
        kinds: &kinds,
        model: Some(LanguageModel::new(loaded, &Device::flex())),
    };
    f(&host)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn load(text: &str, host: &Host<'_>) -> Workflow {
    Workflow::from_yaml(text, "test.yaml", host).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_broken_workflow_is_refused_with_where_and_why() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/workflows/broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "the hostile set has {} files",
        files.len()
    );
    let mut wrong = Vec::new();
    with_host(miracle_router::workflow_registry(), |host| {
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let header = text
                .lines()
                .next()
                .unwrap()
                .strip_prefix("# expect: ")
                .unwrap();
            let (line, says) = header.split_once(':').unwrap();
            let (line, says): (usize, &str) = (line.parse().unwrap(), says.trim());
            let err = match Workflow::load(file, host) {
                Ok(_) => {
                    wrong.push(format!("{}: accepted", file.display()));
                    continue;
                }
                Err(e) => e,
            };
            let shown = err.to_string();
            assert!(
                shown.starts_with(&file.display().to_string()),
                "every problem names the file: {shown}"
            );
            let found = err.problems.iter().find(|p| {
                p.message.contains(says) && (line == 0 || p.at.is_some_and(|at| at.line == line))
            });
            if found.is_none() {
                wrong.push(format!(
                    "expected line {line} saying {says:?}, got:\n{shown}"
                ));
            }
        }
    });
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn oversized_binary_and_missing_files_are_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let mut text = String::from("name: big\nsteps:\n");
    while text.len() < 10 << 20 {
        text.push_str("  - {id: a, expert: calculator, input: 1 + 1}\n");
    }
    std::fs::write(&big, &text).unwrap();
    let binary = dir.path().join("binary.yaml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, b'n', 0xc3, 0x28]).unwrap();
    with_host(miracle_router::workflow_registry(), |host| {
        let said = |path: &Path| Workflow::load(path, host).err().unwrap().to_string();
        assert!(said(&big).contains("at most 1048576"), "{}", said(&big));
        assert!(said(&binary).contains("not UTF-8"), "{}", said(&binary));
        assert!(said(&dir.path().join("none.yaml")).contains("cannot read it"));
        assert!(
            said(dir.path()).contains("cannot read it"),
            "a folder is not a file"
        );
    });
}

#[test]
fn steps_run_in_order_with_conditions_lists_and_templates() {
    let text = r#"
name: arithmetic
inputs:
  numbers: { type: list, default: [3, 4] }
  scale: { type: integer }
  mode: { type: string, default: plain }
experts: [calculator]
steps:
  - id: squares
    foreach: ${inputs.numbers}
    expert: calculator
    input: ${item} * ${item} * ${inputs.scale}
  - id: total
    expert: calculator
    input: ${steps.squares.output | join(" + ")}
  - id: fancy
    when: ${inputs.mode} == 'fancy' and ${steps.total.output} > 10
    expert: calculator
    input: ${steps.total.output} * 100
  - id: positions
    foreach: ${steps.squares.output}
    expert: calculator
    input: ${index} + 1
outputs:
  squares: ${steps.squares.output}
  total: ${steps.total.output}
  fancy: ${steps.fancy.output}
  summary: "${steps.squares.output | count} squares add up to ${steps.total.output}"
"#;
    with_host(miracle_router::workflow_registry(), |host| {
        let flow = load(text, host);
        assert_eq!(flow.experts(), ["calculator"]);
        let inputs = flow
            .inputs_from_text(&[("scale".into(), "2".into())])
            .unwrap();
        let run = block_on(flow.run(&inputs, host)).unwrap();
        let outputs: serde_json::Map<String, Value> = run.outputs.into_iter().collect();
        assert_eq!(outputs["squares"], json!(["18", "32"]));
        assert_eq!(outputs["total"], json!("50"));
        assert_eq!(outputs["fancy"], Value::Null, "when: did not hold");
        assert_eq!(outputs["summary"], json!("2 squares add up to 50"));
        assert_eq!(run.steps[2].status, StepStatus::Skipped);
        let positions: Vec<&str> = run.steps[3]
            .calls
            .iter()
            .map(|c| c.output.as_str())
            .collect();
        assert_eq!(positions, ["1", "2"]);

        let inputs = flow
            .inputs_from_text(&[
                ("scale".into(), "1".into()),
                ("numbers".into(), "[1, 2, 3]".into()),
                ("mode".into(), "fancy".into()),
            ])
            .unwrap();
        let run = block_on(flow.run(&inputs, host)).unwrap();
        assert_eq!(run.outputs[2], ("fancy".to_string(), json!("1400")));
    });
}

#[test]
fn inputs_are_checked_against_their_types() {
    let text = "name: typed\ninputs:\n  n: {type: integer}\n  xs: {type: list, default: []}\nexperts: [calculator]\nsteps:\n  - {id: a, expert: calculator, input: '${inputs.n} + 1'}\noutputs:\n  out: ${steps.a.output}\n";
    with_host(miracle_router::workflow_registry(), |host| {
        let flow = load(text, host);
        let err = |given: &[(&str, &str)]| {
            let given: Vec<(String, String)> = given
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            flow.inputs_from_text(&given).unwrap_err()
        };
        assert!(err(&[]).contains("input `n` (integer) is required"));
        assert!(err(&[("n", "seven")]).contains("\"seven\" is not an integer"));
        assert!(
            err(&[("n", "1"), ("m", "2")])
                .contains("unknown input `m`; workflow `typed` takes n, xs")
        );
        assert!(
            err(&[("n", "1"), ("xs", "[{\"a\": 1}]")]).contains("a list of strings or numbers")
        );
        let json: serde_json::Map<String, Value> = serde_json::from_str(r#"{"n": "1"}"#).unwrap();
        assert!(
            flow.inputs_from_json(&json)
                .unwrap_err()
                .contains("expected an integer, got text")
        );
    });
}

#[test]
fn hostile_input_reaches_the_calculator_as_text_and_is_refused_there() {
    let text = "name: calc\ninputs:\n  expr: {type: string}\nexperts: [calculator]\nsteps:\n  - id: a\n    expert: calculator\n    input: ${inputs.expr}\noutputs:\n  out: ${steps.a.output}\n";
    with_host(miracle_router::workflow_registry(), |host| {
        let flow = load(text, host);
        for hostile in [
            "x = 5; x",
            "system(\"rm -rf /\")",
            "(((((((((((((((((((((((((((((1",
            "9^9^9^9^9",
        ] {
            let inputs = flow
                .inputs_from_text(&[("expr".into(), hostile.into())])
                .unwrap();
            let err = block_on(flow.run(&inputs, host)).unwrap_err().to_string();
            assert!(
                err.starts_with("test.yaml:6:5: step `a`: calculator"),
                "{hostile}: {err}"
            );
        }
    });
}

/// An expert that fails its first `failures` calls, then answers.
struct Flaky {
    failures: u32,
    calls: AtomicU32,
    format: InputFormat,
}

#[async_trait]
impl Expert for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn description(&self) -> &str {
        "fails a few times, then answers"
    }
    fn input_format(&self) -> &InputFormat {
        &self.format
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &[]
    }
    async fn call(&self, input: &str, _: &Context) -> Result<Observation, ExpertError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
            return Err(ExpertError::failed("flaky", "the service is busy"));
        }
        Ok(Observation::new(format!("done: {input}")))
    }
}

/// An expert that takes ten seconds.
struct Slow(InputFormat);

#[async_trait]
impl Expert for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn description(&self) -> &str {
        "answers after ten seconds"
    }
    fn input_format(&self) -> &InputFormat {
        &self.0
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &[]
    }
    async fn call(&self, _: &str, _: &Context) -> Result<Observation, ExpertError> {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(Observation::new("late"))
    }
}

fn flaky(failures: u32) -> Registry {
    let mut registry = Registry::new();
    registry.add(Arc::new(Flaky {
        failures,
        calls: AtomicU32::new(0),
        format: InputFormat::text("anything", 100),
    }));
    registry.add(Arc::new(Slow(InputFormat::text("anything", 100))));
    registry
}

#[test]
fn retries_recover_a_failing_expert_and_timeouts_bound_each_attempt() {
    let flow = |retries: u32, timeout: &str| {
        format!(
            "name: retry\nexperts: [flaky, slow]\nsteps:\n  - id: a\n    expert: flaky\n    input: go\n    retries: {retries}\n  - id: b\n    when: ${{steps.a.output}} contains 'done'\n    expert: slow\n    input: go\n    timeout: {timeout}\noutputs:\n  out: ${{steps.a.output}}\n"
        )
    };
    with_host(flaky(2), |host| {
        let ok = load(&flow(2, "100ms"), host);
        let started = std::time::Instant::now();
        let err = block_on(ok.run(&Default::default(), host)).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the slow call was abandoned"
        );
        assert_eq!(
            err.step, "b",
            "step a recovered on its third attempt: {err}"
        );
        assert!(err.message.contains("no answer within 100 ms"), "{err}");
    });
    with_host(flaky(2), |host| {
        let run = block_on(
            load(
                &flow(2, "100ms").replace(
                    "    when: ${steps.a.output} contains 'done'\n",
                    "    when: ${steps.a.output} contains 'nothing'\n",
                ),
                host,
            )
            .run(&Default::default(), host),
        )
        .unwrap();
        assert_eq!(run.steps[0].calls[0].attempts, 3);
        assert_eq!(run.outputs[0].1, json!("done: go"));
    });
    with_host(flaky(2), |host| {
        let err = block_on(load(&flow(1, "1s"), host).run(&Default::default(), host)).unwrap_err();
        assert_eq!(err.step, "a");
        assert!(
            err.message
                .contains("the service is busy (after 2 attempts)"),
            "{err}"
        );
    });
}

#[test]
fn the_literature_review_example_cites_and_counts_by_year() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = tempfile::tempdir().unwrap();
    // The example's layout: its `index:` is ../../runs/ir-classics from the file.
    let flows = work.path().join("examples/workflows");
    std::fs::create_dir_all(&flows).unwrap();
    let example = flows.join("literature-review.yaml");
    std::fs::copy(
        root.join("examples/workflows/literature-review.yaml"),
        &example,
    )
    .unwrap();
    let papers = miracle_corpora::read_path(
        &root.join("examples/workflows/ir-classics.bib"),
        &ReadOptions::default(),
    )
    .unwrap()
    .papers;
    let index = LiteratureIndex::create_or_open(&work.path().join("runs/ir-classics")).unwrap();
    let mut writer = index.writer().unwrap();
    for paper in &papers {
        writer.add(paper).unwrap();
    }
    writer.commit().unwrap();

    with_host(miracle_router::workflow_registry(), |host| {
        let flow = Workflow::load(&example, host).unwrap_or_else(|e| panic!("{e}"));
        let inputs = flow
            .inputs_from_text(&[("topic".into(), "retrieval".into())])
            .unwrap();
        let run = block_on(flow.run(&inputs, host)).unwrap();
        let out: serde_json::Map<String, Value> = run.outputs.into_iter().collect();
        let gbt = out["gbt"].as_array().unwrap();
        let apa = out["apa"].as_array().unwrap();
        assert_eq!(gbt.len(), 10, "the top 10 papers");
        assert_eq!(apa.len(), 10);
        // The export's @article and @inproceedings give GB/T 7714's [J] and [C]//.
        let kinds: Vec<&str> = gbt
            .iter()
            .map(|c| match c.as_str().unwrap() {
                c if c.contains("[J]. ") => "J",
                c if c.contains("[C]//Proceedings of the ") => "C",
                _ => "?",
            })
            .collect();
        assert!(
            kinds.contains(&"J") && kinds.contains(&"C") && !kinds.contains(&"?"),
            "{gbt:?}"
        );
        assert!(
            apa.iter().all(|c| c.as_str().unwrap().contains("). ")),
            "{apa:?}"
        );
        let years: Vec<i64> = out["years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y.as_i64().unwrap())
            .collect();
        assert!(
            years.windows(2).all(|w| w[0] < w[1]),
            "years ascending, once each: {years:?}"
        );
        let counts: Vec<i64> = out["papers_per_year"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(counts.len(), years.len());
        assert_eq!(counts.iter().sum::<i64>(), 10, "every paper counted once");
        let shares: f64 = out["percent_per_year"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        assert!(
            (shares - 100.0).abs() < 0.5,
            "shares add up to 100%: {shares}"
        );
    });
}

#[test]
fn ask_steps_call_only_the_experts_the_workflow_lists() {
    let flow = |experts: &str| {
        format!(
            "name: ask\nexperts: [{experts}]\nsteps:\n  - id: a\n    ask: Compute (2 + 2) * 7.\n  - id: b\n    generate: 'The library opens at'\n    max_tokens: 8\noutputs:\n  answer: ${{steps.a.output}}\n  text: ${{steps.b.output}}\n"
        )
    };
    with_host(miracle_router::workflow_registry(), |host| {
        let run =
            block_on(load(&flow("calculator, literature"), host).run(&Default::default(), host))
                .unwrap();
        let trace = run.steps[0].calls[0].trace.as_ref().unwrap();
        assert_eq!(trace.experts(), ["calculator"]);
        assert!(
            run.outputs[0].1.as_str().unwrap().contains("28"),
            "{:?}",
            run.outputs
        );
        assert!(run.outputs[1].1.is_string());

        // Only the literature search listed: the model cannot reach the calculator.
        let run = block_on(load(&flow("literature"), host).run(&Default::default(), host)).unwrap();
        let trace = run.steps[0].calls[0].trace.as_ref().unwrap();
        assert!(
            trace.experts().iter().all(|e| *e == "literature"),
            "{:?}",
            trace.experts()
        );
    });
}
