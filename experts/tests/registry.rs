//! The registry: built from code or YAML, it checks input, enforces deadlines and
//! cancellation, and names what went wrong.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use miracle_experts::{
    Context, Demonstration, Expert, ExpertError, Grounded, InputFormat, Kinds, Observation,
    Registry,
};
use tokio_util::sync::CancellationToken;

/// A plugin that waits before answering, and records whether it ran to the end.
struct Sleeper {
    format: InputFormat,
    finished: Arc<AtomicBool>,
}

#[async_trait]
impl Expert for Sleeper {
    fn name(&self) -> &str {
        "sleeper"
    }
    fn description(&self) -> &str {
        "waits the given number of milliseconds"
    }
    fn input_format(&self) -> &InputFormat {
        &self.format
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &[]
    }
    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        let ms: u64 = input
            .parse()
            .map_err(|_| ExpertError::invalid("sleeper", "not a number of milliseconds"))?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.finished.store(true, Ordering::SeqCst);
        Ok(Observation::new(format!("slept {ms} ms")))
    }
}

fn sleeper() -> (Sleeper, Arc<AtomicBool>) {
    let finished = Arc::new(AtomicBool::new(false));
    let expert = Sleeper {
        format: InputFormat::alphabet("milliseconds", 8, "0123456789"),
        finished: finished.clone(),
    };
    (expert, finished)
}

#[tokio::test]
async fn calls_are_checked_bounded_and_cancellable() {
    let (expert, finished) = sleeper();
    let registry = Registry::new()
        .with(expert)
        .with(miracle_experts::Calculator::new());
    assert_eq!(registry.names(), ["sleeper", "calculator"]);

    let ok = registry.call("sleeper", "5", &Context::default()).await;
    assert_eq!(ok.unwrap().text, "slept 5 ms");

    let started = Instant::now();
    let ctx = Context::with_timeout(Duration::from_millis(50));
    let late = registry.call("sleeper", "10000", &ctx).await.unwrap_err();
    assert!(matches!(late, ExpertError::Timeout { .. }), "{late}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let token = CancellationToken::new();
    let ctx = Context::default().with_cancellation(token.clone());
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        token.cancel();
    });
    finished.store(false, Ordering::SeqCst);
    let cancelled = registry.call("sleeper", "10000", &ctx).await.unwrap_err();
    canceller.await.unwrap();
    assert_eq!(cancelled.to_string(), "sleeper: the call was cancelled");
    assert!(
        !finished.load(Ordering::SeqCst),
        "a cancelled call is dropped"
    );

    let bad = registry
        .call("sleeper", "12x", &Context::default())
        .await
        .unwrap_err();
    assert_eq!(
        bad.to_string(),
        "sleeper: the input is not accepted: character 'x' at byte 2 is not allowed; expected milliseconds"
    );
    let empty = registry
        .call("calculator", "  ", &Context::default())
        .await
        .unwrap_err();
    assert!(empty.to_string().contains("the input is empty"), "{empty}");
    let unknown = registry
        .call("oracle", "?", &Context::default())
        .await
        .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "no expert is called `oracle`; the registry has: sleeper, calculator"
    );
}

/// A plugin that takes `ready_ms` to ready itself the first time, and counts how often it
/// was readied and called.
struct SlowStart {
    format: InputFormat,
    ready_ms: u64,
    fails: bool,
    readied: Arc<AtomicUsize>,
    ready: AtomicBool,
}

#[async_trait]
impl Expert for SlowStart {
    fn name(&self) -> &str {
        "slow-start"
    }
    fn description(&self) -> &str {
        "echoes its input once it is ready"
    }
    fn input_format(&self) -> &InputFormat {
        &self.format
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &[]
    }
    async fn prepare(&self) -> Result<(), ExpertError> {
        if self.ready.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.readied.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(self.ready_ms)).await;
        if self.fails {
            return Err(ExpertError::failed("slow-start", "the index is corrupt"));
        }
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }
    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        assert!(
            self.ready.load(Ordering::SeqCst),
            "called before it was ready"
        );
        Ok(Observation::new(input))
    }
}

fn slow_start(ready_ms: u64, fails: bool) -> (SlowStart, Arc<AtomicUsize>) {
    let readied = Arc::new(AtomicUsize::new(0));
    let expert = SlowStart {
        format: InputFormat::text("anything", 64),
        ready_ms,
        fails,
        readied: readied.clone(),
        ready: AtomicBool::new(false),
    };
    (expert, readied)
}

#[tokio::test]
async fn readying_an_expert_is_outside_the_calls_deadline() {
    let (expert, readied) = slow_start(300, false);
    let registry = Registry::new().with(expert);
    // Readying takes 300 ms; the call's deadline is 100 ms, and the call itself is quick.
    let ctx = Context::with_timeout(Duration::from_millis(100));
    let first = registry.call("slow-start", "hello", &ctx).await;
    assert_eq!(first.unwrap().text, "hello");
    let ctx = Context::with_timeout(Duration::from_millis(100));
    let again = registry.call("slow-start", "again", &ctx).await;
    assert_eq!(again.unwrap().text, "again");
    assert_eq!(readied.load(Ordering::SeqCst), 1, "readied once");

    // A failure to ready fails the call with the expert's own error.
    let broken = Registry::new().with(slow_start(1, true).0);
    let error = broken
        .call("slow-start", "hello", &Context::default())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "slow-start: the index is corrupt");

    // Cancellation reaches a call that is still readying.
    let slow = Registry::new().with(slow_start(10_000, false).0);
    let token = CancellationToken::new();
    token.cancel();
    let ctx = Context::default().with_cancellation(token);
    let cancelled = slow.call("slow-start", "hello", &ctx).await.unwrap_err();
    assert!(
        matches!(cancelled, ExpertError::Cancelled { .. }),
        "{cancelled}"
    );
}

#[tokio::test]
async fn yaml_builds_builtin_and_plugin_kinds() {
    let kinds = Kinds::builtin().with("sleeper", |_| Ok(Arc::new(sleeper().0)));
    let yaml = "experts:\n  - kind: calculator\n  - kind: calculator\n    name: calc2\n  - kind: sleeper\n";
    let registry = Registry::from_yaml(yaml, &kinds).unwrap();
    assert_eq!(registry.names(), ["calculator", "calc2", "sleeper"]);
    let seen = registry
        .call("calc2", "2 ^ 0.5 * 2 ^ 0.5", &Context::default())
        .await;
    assert_eq!(seen.unwrap().text, "2");

    let errors = [
        (
            "experts: [{kind: serch}]",
            "experts[0]: unknown kind `serch`; known kinds: calculator, code, http, search, sleeper",
        ),
        ("experts: [{name: x}]", "experts[0]: missing `kind`"),
        (
            "experts: [calculator]",
            "experts[0]: each expert is a mapping",
        ),
        (
            "experts:\n  - kind: calculator\n    nmae: x\n",
            "experts[0]: calculator: unknown field `nmae`",
        ),
        ("expert: []", "not a registry config"),
        ("experts: [{kind: calculator", "not a registry config"),
    ];
    for (yaml, want) in errors {
        let error = Registry::from_yaml(yaml, &kinds).err().expect(yaml);
        assert!(error.starts_with(want), "{yaml}: {error}");
    }
}

/// An HTTP plugin may hold its input's numbers to the conversation's, as the calculator's
/// are (`grounded: numbers`), so the model cannot hand it a quantity nobody wrote.
#[test]
fn an_http_expert_declares_how_its_input_is_grounded() {
    let kinds = Kinds::builtin();
    let entry = |grounded: &str| {
        format!(
            "experts:\n  - {{kind: http, name: units, description: d, url: \"http://127.0.0.1:9/c\"{grounded}}}\n"
        )
    };
    for (setting, want) in [
        ("", Grounded::No),
        (", grounded: numbers", Grounded::Numbers),
        (", grounded: quote", Grounded::Quote),
    ] {
        let registry = Registry::from_yaml(&entry(setting), &kinds).unwrap();
        let format = registry.get("units").unwrap().input_format();
        assert_eq!(format.grounded, want, "{setting}");
    }
    let error = Registry::from_yaml(&entry(", grounded: numbres"), &kinds)
        .err()
        .unwrap();
    assert!(error.contains("unknown variant `numbres`"), "{error}");
}
