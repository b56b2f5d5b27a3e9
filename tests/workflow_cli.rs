//! `miracle run`: the shipped example workflows from the command line, and broken ones
//! refused with every problem's place before anything runs.

mod common;

use common::{assert_clear_failure, miracle_with_home as miracle, stderr, stdout};

fn example(name: &str) -> String {
    format!("{}/examples/workflows/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_reference_desk_example_answers_with_reading_in_both_languages() {
    let home = tempfile::tempdir().unwrap();
    let run = miracle(
        &[
            "run",
            &example("reference-desk.yaml"),
            "--input",
            "question=Compute (2 + 2) * 7.",
            "--input",
            "topic_zh=图书馆信息服务",
            "--json",
        ],
        home.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let outputs = &report["outputs"];
    assert!(
        outputs["answer"].as_str().unwrap().contains("28"),
        "{outputs}"
    );
    assert!(
        outputs["reading_zh"].as_str().unwrap().contains("[J]"),
        "GB/T 7714: {outputs}"
    );
    assert_eq!(
        outputs["reading_en"],
        serde_json::Value::Null,
        "no English topic given"
    );
    assert_eq!(report["steps"][2]["status"], "skipped");
    let trace = &report["steps"][0]["calls"][0]["trace"];
    assert_eq!(trace["steps"][0]["expert"], "calculator", "{trace}");
}

/// Issue 31: `--trace` showed an `ask:` step's request and answer but not the agent's
/// calls in between.
#[test]
fn the_trace_shows_the_agents_calls_inside_an_ask_step() {
    let home = tempfile::tempdir().unwrap();
    let run = miracle(
        &[
            "run",
            &example("reference-desk.yaml"),
            "--input",
            "question=Compute (2 + 2) * 7.",
            "--trace",
        ],
        home.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    let call = text
        .lines()
        .position(|l| l.trim_start().starts_with("call    calculator:"))
        .unwrap_or_else(|| panic!("no calculator call in the trace:\n{text}"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[call + 1].trim_start().starts_with("result  ("),
        "{text}"
    );
    assert!(
        lines[call].starts_with("         "),
        "indented under its step: {text}"
    );
}

#[test]
fn check_reports_every_problem_as_file_line_column_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("flow.yaml");
    std::fs::write(
        &flow,
        "name: broken\nexperts: [calculator]\nsteps:\n  - id: a\n    expert: code\n    input: ${inputs.n}\noutputs:\n  out: ${steps.b.output}\n",
    )
    .unwrap();
    let run = miracle(&["run", flow.to_str().unwrap(), "--check"], dir.path());
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    let file = flow.display().to_string();
    assert!(
        err.contains(&format!(
            "{file}:5:13: step `a` calls `code`, which the workflow does not list"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:6:12: ${{inputs.n}}: no input `n`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:8:8: ${{steps.b.output}}: no step `b`")),
        "{err}"
    );
    assert!(
        err.contains("3 problems in the workflow; nothing was run"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(&flow, "name: ok\nexperts: [calculator]\nsteps:\n  - {id: a, expert: calculator, input: 6 * 7}\noutputs:\n  out: ${steps.a.output}\n").unwrap();
    let run = miracle(&["run", flow.to_str().unwrap()], dir.path());
    assert_eq!(stdout(&run), "out: 42\n", "{}", stderr(&run));
    let run = miracle(
        &["run", flow.to_str().unwrap(), "--input", "x=1"],
        dir.path(),
    );
    assert_clear_failure(&run, "unknown input `x`: workflow `ok` takes no inputs");
    let run = miracle(
        &["run", flow.to_str().unwrap(), "--input", "novalue"],
        dir.path(),
    );
    assert_clear_failure(&run, "--input \"novalue\": write key=value");
}

/// Issue 28: hostile and odd workflow files. Each is refused at once with a short reason,
/// or, for a byte-order mark, read as the workflow it is.
#[test]
fn hostile_workflow_files_are_refused_quickly_and_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("flow.yaml");
    let ok = "name: ok\nexperts: [calculator]\nsteps:\n  - {id: a, expert: calculator, input: 6 * 7}\noutputs:\n  out: ${steps.a.output}\n";
    // A UTF-8 byte-order mark (Windows editors write one) is not part of the file's text.
    std::fs::write(&flow, format!("\u{feff}{ok}")).unwrap();
    let run = miracle(&["run", flow.to_str().unwrap()], dir.path());
    assert_eq!(stdout(&run), "out: 42\n", "{}", stderr(&run));

    // 800 KB of `[`: refused before the YAML scanner's quadratic work.
    std::fs::write(&flow, "[".repeat(800_000)).unwrap();
    let run = miracle(&["run", flow.to_str().unwrap(), "--check"], dir.path());
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("nested too deeply"), "{err}");

    // A 200 KB condition is quoted in part, not echoed whole.
    let when = format!("x {}", "y ".repeat(100_000));
    std::fs::write(
        &flow,
        format!("name: w\nexperts: [calculator]\nsteps:\n  - {{id: a, expert: calculator, input: '1', when: '{when}'}}\noutputs:\n  out: ${{steps.a.output}}\n"),
    )
    .unwrap();
    let run = miracle(&["run", flow.to_str().unwrap(), "--check"], dir.path());
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.len() < 2_000, "a {}-byte error", err.len());
    assert!(err.contains("characters in all"), "{err}");

    // A code expert that names its own worker would run it unsandboxed: refused, by --check too.
    std::fs::write(
        &flow,
        "name: w\nexperts:\n  - {kind: code, worker: /bin/sh}\nsteps:\n  - {id: a, expert: code, input: '1'}\noutputs:\n  out: ${steps.a.output}\n",
    )
    .unwrap();
    for args in [
        vec!["run", flow.to_str().unwrap(), "--check"],
        vec!["run", flow.to_str().unwrap()],
    ] {
        let run = miracle(&args, dir.path());
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{err}");
        assert!(err.contains("`worker:` is not accepted"), "{err}");
    }

    // Not regular files: read until memory ran out before.
    for path in ["/dev/zero", "/dev/urandom"] {
        let run = miracle(&["run", path, "--check"], dir.path());
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    let fifo = dir.path().join("fifo.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for args in [
        vec!["run", fifo.to_str().unwrap(), "--check"],
        vec![
            "expert",
            "--config",
            fifo.to_str().unwrap(),
            "calculator",
            "1 + 1",
        ],
        vec!["serve", "--config", fifo.to_str().unwrap()],
    ] {
        let run = miracle(&args, dir.path());
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("not a regular file"), "{args:?}: {err}");
    }
}
