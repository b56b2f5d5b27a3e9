//! Remote HTTP experts against a real axum server on loopback: requests built from the
//! template, answers picked by path, retries with backoff, and every way a server can
//! misbehave (slow, huge, not JSON, 4xx, 5xx, gone) ending in a clear error.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use miracle_experts::{Context, ExpertError, Kinds, Registry};
use serde_json::{Value, json};

#[derive(Default)]
struct Counters {
    flaky: AtomicUsize,
}

async fn serve() -> String {
    let counters = Arc::new(Counters::default());
    let app = axum::Router::new()
        .route("/lookup", post(|Json(body): Json<Value>| async move {
            Json(json!({"record": {"title": format!("found {}", body["isbn"].as_str().unwrap_or("?"))}, "echo": body}))
        }))
        .route("/search", get(|Query(q): Query<std::collections::HashMap<String, String>>| async move {
            Json(json!({"hits": [{"title": format!("about {}", q.get("q").cloned().unwrap_or_default())}]}))
        }))
        .route("/flaky", post(|State(c): State<Arc<Counters>>| async move {
            if c.flaky.fetch_add(1, Ordering::SeqCst) < 2 {
                (StatusCode::SERVICE_UNAVAILABLE, "busy, try again")
            } else {
                (StatusCode::OK, r#"{"answer": 42}"#)
            }
        }))
        .route("/slow", post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }))
        .route("/busy", post(|| async { (StatusCode::SERVICE_UNAVAILABLE, "busy, try again") }))
        .route("/huge", post(|| async { "x".repeat(2 << 20) }))
        .route("/text", post(|| async { "plain words" }))
        .route("/missing", post(|| async { (StatusCode::NOT_FOUND, "no such record") }))
        .with_state(counters);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn registry(base: &str) -> Registry {
    let yaml = format!(
        r#"experts:
  - kind: http
    name: catalogue
    description: looks a book up
    url: {base}/lookup
    request: {{isbn: "${{input}}", fixed: 1}}
    response: record.title
  - kind: http
    name: web
    description: searches
    url: {base}/search
    method: GET
    response: hits.0.title
  - kind: http
    name: flaky
    description: fails twice, then answers
    url: {base}/flaky
    response: answer
    retries: 3
    backoff_ms: 10
  - kind: http
    name: stubborn
    description: always busy, one retry allowed
    url: {base}/busy
    retries: 1
    backoff_ms: 10
  - kind: http
    name: slow
    description: never answers in time
    url: {base}/slow
    timeout_ms: 200
  - kind: http
    name: huge
    description: answers too much
    url: {base}/huge
    max_response_bytes: 1024
  - kind: http
    name: text
    description: plain text
    url: {base}/text
  - kind: http
    name: text-as-json
    description: plain text where JSON is expected
    url: {base}/text
    response: a.b
  - kind: http
    name: missing
    description: answers 404
    url: {base}/missing
  - kind: http
    name: gone
    description: nobody listens
    url: http://127.0.0.1:9/
    retries: 1
    backoff_ms: 10
"#
    );
    Registry::from_yaml(&yaml, &Kinds::builtin()).unwrap()
}

fn failure(result: Result<miracle_experts::Observation, ExpertError>) -> String {
    match result {
        Err(ExpertError::Failed { message, .. }) => message,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_experts_answer_and_fail_clearly() {
    let base = serve().await;
    let registry = registry(&base);
    let ctx = || Context::with_timeout(Duration::from_secs(5));

    // The input lands inside a JSON string, whatever it contains.
    let hostile = r#"978-7" , "isbn": "evil"}"#;
    let seen = registry.call("catalogue", hostile, &ctx()).await.unwrap();
    assert_eq!(seen.text, format!("found {hostile}"));
    let seen = registry
        .call("web", "参考咨询 & more=1", &ctx())
        .await
        .unwrap();
    assert_eq!(seen.text, "about 参考咨询 & more=1");
    assert_eq!(
        registry.call("flaky", "x", &ctx()).await.unwrap().text,
        "42"
    );
    assert_eq!(
        registry.call("text", "x", &ctx()).await.unwrap().text,
        "plain words"
    );

    let message = failure(registry.call("stubborn", "x", &ctx()).await);
    assert!(
        message.contains("503") && message.contains("after 2 attempts"),
        "{message}"
    );
    let started = Instant::now();
    let message = failure(registry.call("slow", "x", &ctx()).await);
    assert!(message.contains("timeout_ms"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(failure(registry.call("huge", "x", &ctx()).await).contains("max_response_bytes"));
    assert!(failure(registry.call("text-as-json", "x", &ctx()).await).contains("not JSON"));
    let message = failure(registry.call("missing", "x", &ctx()).await);
    assert!(
        message.contains("404") && message.contains("no such record"),
        "{message}"
    );
    assert!(failure(registry.call("gone", "x", &ctx()).await).contains("cannot connect"));

    // The call's own deadline bounds everything, retries included.
    let started = Instant::now();
    let short = Context::with_timeout(Duration::from_millis(300));
    let error = registry.call("slow", "x", &short).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{error}");
    // Still serving after all that.
    assert_eq!(
        registry.call("catalogue", "1", &ctx()).await.unwrap().text,
        "found 1"
    );
}

#[test]
fn bad_declarations_are_refused_with_the_field_named() {
    let cases = [
        ("url: ftp://example.org/x", "only http and https"),
        ("url: not a url", "url `not a url`"),
        ("url: http://x/\n    retries: 99", "retries: at most 10"),
        (
            "url: http://x/\n    method: GET\n    request: {a: 1}",
            "GET expert has no request body",
        ),
        ("url: http://x/\n    colour: blue", "unknown field `colour`"),
    ];
    for (extra, want) in cases {
        let yaml =
            format!("experts:\n  - kind: http\n    name: e\n    description: d\n    {extra}\n");
        let error = Registry::from_yaml(&yaml, &Kinds::builtin())
            .err()
            .expect(extra);
        assert!(error.contains(want), "{extra}: {error}");
    }
}
