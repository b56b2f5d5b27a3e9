//! The code executor end to end: real worker processes (this package's `miracle` binary in
//! its worker mode), real sandboxes, hostile programs. After each hostile program the same
//! expert must still answer a plain one: the parent keeps working.

use std::time::{Duration, Instant};

use miracle_experts::code::{Code, Limits};
use miracle_experts::{Context, ExpertError, Registry};
use tokio_util::sync::CancellationToken;

mod common;

use common::{assert_clear_failure, miracle, stdout};

/// Limits tight enough that each hostile program fails in well under a second.
fn limits() -> Limits {
    Limits {
        timeout_ms: 3_000,
        memory_mb: 256,
        max_operations: 5_000_000,
        ..Limits::default()
    }
}

fn registry(limits: Limits) -> Registry {
    let code = Code::new()
        .worker(env!("CARGO_BIN_EXE_miracle"))
        .with_limits(limits)
        .unwrap();
    Registry::new().with(code)
}

async fn run(registry: &Registry, program: &str) -> Result<String, ExpertError> {
    let seen = registry.call("code", program, &Context::default()).await?;
    Ok(seen.text)
}

fn message(error: ExpertError) -> String {
    match error {
        ExpertError::Failed { message, .. } | ExpertError::InvalidInput { message, .. } => message,
        other => panic!("expected a failure with a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_program_prints_and_returns() {
    let registry = registry(limits());
    assert_eq!(run(&registry, "print(1 + 1)").await.unwrap(), "2");
    assert_eq!(run(&registry, "40 + 2").await.unwrap(), "42");
    assert_eq!(
        run(&registry, "print(\"a\"); print(\"b\"); 3")
            .await
            .unwrap(),
        "a\nb\n3"
    );
    assert_eq!(run(&registry, "let x = 1;").await.unwrap(), "()");
    let fib = "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fib(20)";
    assert_eq!(run(&registry, fib).await.unwrap(), "6765");
    assert_eq!(run(&registry, "print(\"图书馆\")").await.unwrap(), "图书馆");
}

#[tokio::test]
async fn hostile_programs_end_in_clear_errors_and_the_expert_keeps_working() {
    let registry = registry(limits());
    let cases = [
        ("loop {}", "ran more than 5000000 operations"),
        (
            "let i = 0; while true { i += 1; }",
            "ran more than 5000000 operations",
        ),
        ("fn f(n) { f(n + 1) } f(0)", "nested deeper than 64"),
        ("let s = \"x\"; loop { s += s; }", "over the limit"),
        ("let a = [1]; loop { a += a; }", "over the limit"),
        // Each call's array is under Rhai's limit; together they pass the address space.
        (
            "fn f(n) { let a = []; a.pad(1000000, n); if n > 0 { f(n - 1) + a.len() } else { 0 } } f(60)",
            "the memory limit",
        ),
        (
            "loop { print(\"spam spam spam spam\"); }",
            "printed more than 65536 bytes",
        ),
        (
            "let s = \"x\"; s.pad(60000, \"y\"); for i in 0..100 { print(s); }",
            "printed more than",
        ),
        ("system(\"ls /\")", "Function not found"),
        ("open(\"/etc/passwd\").read()", "Function not found"),
        ("import \"/etc/passwd\" as p;", "syntax error"),
        ("connect(\"127.0.0.1:80\")", "Function not found"),
        ("run_process(\"sh\")", "Function not found"),
        ("eval(\"1 + 1\")", "eval"),
        ("let x = ;", "syntax error"),
        ("9223372036854775807 + 1", "overflow"),
        ("1 / 0", "Division by zero"),
        (&"(".repeat(10_000), "syntax error"),
        // Issue 28: sleep crashed the worker with a Rust panic.
        ("sleep(1)", "sleep is not available"),
        ("sleep(0.5); 1", "sleep is not available"),
    ];
    for (program, expected) in cases {
        let started = Instant::now();
        let error = run(&registry, program).await.expect_err(program);
        let text = message(error);
        assert!(
            text.contains(expected),
            "{program:.60}: expected {expected:?} in {text:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(4), "{program:.60}");
        assert_eq!(run(&registry, "print(1 + 1)").await.unwrap(), "2");
    }
}

/// Issue 28: a thrown message ignored the output cap (above ~520 KB the call ended as a
/// misleading timeout), and a multi-line one broke the one-line rule.
#[tokio::test]
async fn thrown_messages_are_one_capped_line() {
    let registry = registry(limits());
    for size in [100_000, 600_000, 1_000_000] {
        let program = format!("let s = \"\"; s.pad({size}, \"y\"); throw s;");
        // Before, a message this large ended the call as a timeout, not as this failure.
        let text = message(run(&registry, &program).await.expect_err("it throws"));
        assert!(text.len() < 1_300, "{size}: a {}-byte message", text.len());
        assert!(text.contains("bytes in all"), "{text:.120}");
    }
    let text = message(
        run(&registry, "throw \"first line\\nsecond line\\r\\nthird\";")
            .await
            .expect_err("it throws"),
    );
    assert!(!text.contains('\n') && !text.contains('\r'), "{text:?}");
    assert!(text.contains("first line second line third"), "{text:?}");
    assert_eq!(run(&registry, "print(1 + 1)").await.unwrap(), "2");
}

/// Issue 28: the service's model threads each run a current-thread runtime of their own,
/// driven only while they serve; a worker warmed on one and taken on another hung until the
/// deadline, so every other call timed out.
#[test]
fn calls_from_runtimes_that_come_and_go_all_answer() {
    let registry = std::sync::Arc::new(registry(limits()));
    let runtimes: Vec<_> = (0..2)
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        })
        .collect();
    // A hung call ends as a timeout error at the limits' deadline, which fails here.
    for i in 0..12 {
        let answer = runtimes[i % 2].block_on(run(&registry, "print(6 * 7)"));
        assert_eq!(answer.unwrap(), "42", "call {i}");
    }
}

#[test]
fn yaml_cannot_name_the_worker() {
    let error = Registry::from_yaml(
        "experts:\n  - kind: code\n    worker: /bin/sh\n",
        &miracle_experts::Kinds::builtin(),
    )
    .err()
    .expect("refused");
    assert!(error.contains("`worker:` is not accepted"), "{error}");
}

#[tokio::test]
async fn programs_that_never_stop_are_killed_at_the_deadline() {
    // Operations effectively unlimited: only the wall clock stops this one.
    let registry = registry(Limits {
        timeout_ms: 500,
        max_operations: u64::MAX,
        ..limits()
    });
    let started = Instant::now();
    let error = run(&registry, "loop {}").await.unwrap_err();
    assert!(matches!(error, ExpertError::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(run(&registry, "print(1 + 1)").await.unwrap(), "2");

    let token = CancellationToken::new();
    let ctx = Context::with_timeout(Duration::from_secs(30)).with_cancellation(token.clone());
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        token.cancel();
    };
    let long = Registry::new().with(
        Code::new()
            .worker(env!("CARGO_BIN_EXE_miracle"))
            .with_limits(Limits {
                timeout_ms: 30_000,
                max_operations: u64::MAX,
                ..limits()
            })
            .unwrap(),
    );
    let (result, ()) = tokio::join!(long.call("code", "loop {}", &ctx), cancel);
    assert!(
        matches!(result, Err(ExpertError::Cancelled { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn oversized_programs_are_refused() {
    let registry = registry(limits());
    let literal = format!("let s = \"{}\"; s.len", "a".repeat(60_000));
    assert_eq!(run(&registry, &literal).await.unwrap(), "60000");
    let huge = format!("let s = \"{}\"; s.len", "a".repeat(1 << 20));
    let error = registry
        .call("code", &huge, &Context::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExpertError::InvalidInput { .. }),
        "{error:?}"
    );
    assert!(message(error).contains("at most 65536 are accepted"));
}

#[tokio::test]
async fn the_sandbox_denies_what_programs_must_never_do() {
    let code = Code::new().worker(env!("CARGO_BIN_EXE_miracle"));
    let (report, attempts) = code.self_test().await.unwrap();
    assert!(report.rlimits, "{report:?}");
    assert!(report.seccomp, "{report:?}");
    assert_eq!(attempts.len(), 5, "{attempts:?}");
    for (attempt, outcome) in &attempts {
        assert!(outcome.starts_with("denied"), "{attempt}: {outcome}");
    }
}

#[tokio::test]
async fn a_binary_that_is_not_a_worker_is_named() {
    let registry = Registry::new().with(Code::new().worker("/bin/cat"));
    let text = message(run(&registry, "1").await.unwrap_err());
    assert!(
        text.contains("/bin/cat did not start as a code worker"),
        "{text}"
    );
    let registry = Registry::new().with(Code::new().worker("/nonexistent/miracle"));
    let text = message(run(&registry, "1").await.unwrap_err());
    assert!(
        text.contains("cannot start the worker /nonexistent/miracle"),
        "{text}"
    );
}

/// Processes whose parent is this one (workers alive or not yet reaped).
fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid …; comm may hold spaces, so split after the last ')'.
            let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
            after.split_whitespace().nth(1) == Some(me.as_str())
        })
        .count()
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_thousand_programs_leave_no_processes_or_memory_behind() {
    let registry = registry(limits());
    for i in 0..50 {
        assert_eq!(
            run(&registry, &format!("{i} * 2")).await.unwrap(),
            (i * 2).to_string()
        );
    }
    let before = resident_kib();
    for i in 0..1000 {
        let program = if i % 10 == 0 {
            "loop {}".to_string()
        } else {
            format!("print({i} + 1)")
        };
        let result = run(&registry, &program).await;
        if i % 10 == 0 {
            assert!(result.is_err());
        } else {
            assert_eq!(result.unwrap(), (i + 1).to_string());
        }
    }
    let grown = resident_kib().saturating_sub(before);
    assert!(grown < 20 << 10, "the parent grew by {grown} KiB");
    // The warm pool (2) and perhaps one starting; nothing else, zombies included.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let alive = children();
    assert!(alive <= 3, "{alive} child processes remain");
    drop(registry);
}

#[test]
fn miracle_expert_runs_a_program() {
    let output = miracle(&["expert", "code", "print(1 + 1)"]);
    assert_eq!(stdout(&output), "2\n", "{output:?}");
    assert_clear_failure(
        &miracle(&["expert", "code", "let x = ;"]),
        "code: the program failed: syntax error",
    );
}

#[test]
fn miracle_expert_check_sandbox_reports_every_layer() {
    let output = miracle(&["expert", "--check-sandbox"]);
    let text = stdout(&output);
    assert!(output.status.success(), "{output:?}");
    assert!(text.contains("rlimits:  on\n"), "{text}");
    assert!(text.contains("seccomp:  on\n"), "{text}");
    for attempt in ["read /etc/passwd", "open a socket", "run /bin/sh"] {
        assert!(text.contains(&format!("{attempt}: denied")), "{text}");
    }
}
