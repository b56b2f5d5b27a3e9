//! A plugin from a file, end to end (docs/PLUGINS.md, "Teaching the model a plugin"): the
//! unit converter of examples/unit_converter.rs served over real HTTP on loopback, a plugin
//! file naming it and its tuned model, `miracle tune` teaching the model, and `ask`, `run`
//! and `expert` finding the expert and the model through the file.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_clear_failure, miracle, stderr, stdout};

/// The unit converter's HTTP form (`GET /convert?q=3.5 km in m` → `{"result": "3500 m"}`,
/// a refusal → 422), on a free loopback port; returns the port.
fn serve_units() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = axum::Router::new().route("/convert", axum::routing::get(convert));
            axum::serve(listener, app).await.unwrap();
        });
    });
    port
}

async fn convert(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let size = |unit: &str| match unit {
        "m" | "g" => Some(1.0),
        "km" | "kg" => Some(1000.0),
        "斤" => Some(500.0),
        _ => None,
    };
    let input = query.get("q").cloned().unwrap_or_default();
    let words: Vec<&str> = input.split_whitespace().collect();
    let converted = match words[..] {
        [amount, from, "in", to] => (amount.parse::<f64>().ok())
            .zip(size(from).zip(size(to)))
            .map(|(a, (f, t))| format!("{} {to}", a * f / t)),
        _ => None,
    };
    match converted {
        Some(result) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({ "result": result })),
        ),
        None => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": format!("cannot convert {input}") })),
        ),
    }
}

/// A plugin file in `dir` for the converter on `port`, whose tuned model is `dir/tuned`.
fn plugin_file(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("units.yaml");
    let text = format!(
        "experts:\n  - kind: http\n    name: units\n    description: converts units\n    \
         url: http://127.0.0.1:{port}/convert\n    method: GET\n    response: result\n    \
         demonstrations:\n      - {{request: \"How many metres is 3.5 km?\", input: \"3.5 km in m\", result: \"3500 m\"}}\n      \
         - {{request: \"2斤是几公斤？\", input: \"2 斤 in kg\", result: \"1 kg\"}}\nmodel: tuned\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_plugin_file_brings_its_expert_and_the_model_tuned_to_call_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = plugin_file(dir.path(), serve_units());
    let file = file.to_str().unwrap();

    // The expert is there for every command given the file.
    let called = miracle(&["expert", "--config", file, "units", "3.5 km in m"]);
    assert!(called.status.success(), "{}", stderr(&called));
    assert_eq!(stdout(&called).trim(), "3500 m");

    // Before tuning, the file's model is missing, and the agent says what makes it; so does
    // the service whose config names the file (before it listens).
    let before = miracle(&["ask", "--experts", file, "How many metres is 2 km?"]);
    assert_clear_failure(&before, "`miracle tune --experts");
    let config = dir.path().join("serve.yaml");
    std::fs::write(&config, "listen: 127.0.0.1:0\nexperts: units.yaml\n").unwrap();
    let served = miracle(&["serve", "--config", config.to_str().unwrap()]);
    assert_clear_failure(&served, "`miracle tune --experts");

    // Tuning: the plugin's demonstrations, told again with other numbers and answered by
    // the expert over HTTP, beside the model's own; then a pass into `tuned/`.
    let work = dir.path().join("work");
    let tuned = miracle(&[
        "tune",
        "--experts",
        file,
        "--work",
        work.to_str().unwrap(),
        "--steps",
        "2",
        "--variants",
        "4",
        "--replay",
        "0.01",
    ]);
    assert!(tuned.status.success(), "{}", stderr(&tuned));
    assert!(
        stdout(&tuned).contains("demonstrations of units"),
        "{}",
        stdout(&tuned)
    );
    let demos = std::fs::read_to_string(work.join("demos/train.jsonl")).unwrap();
    let units: Vec<serde_json::Value> = demos
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|d| d["family"] == "plugin.units")
        .collect();
    assert!(
        units.len() > 2,
        "the declared two and variants: {}",
        units.len()
    );
    for demo in &units {
        // Each variant's result is the expert's answer to its own call.
        let steps = &demo["dialogue"]["exchanges"][0]["steps"];
        let text = steps.to_string();
        assert!(text.contains("units"), "{text}");
    }
    assert!(
        demos.contains("\"family\":\"calc."),
        "the model's own demos are mixed in"
    );
    let model = dir.path().join("tuned");
    assert!(model.join("model.safetensors").is_file());
    assert!(model.join("training/tune-log.csv").is_file());

    // Now the agent runs the tuned model: a workflow step calls the plugin by name, and an
    // agent request runs on the file's model (a broken one is named in the error).
    let flow = dir.path().join("convert.yaml");
    std::fs::write(
        &flow,
        "name: convert\ndescription: one conversion\ninputs:\n  q: {type: string}\n\
         experts: [units]\nsteps:\n  - id: c\n    expert: units\n    input: ${inputs.q}\n\
         outputs:\n  result: ${steps.c.output}\n",
    )
    .unwrap();
    let run = miracle(&[
        "run",
        flow.to_str().unwrap(),
        "--experts",
        file,
        "--input",
        "q=2 斤 in kg",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("1 kg"), "{}", stdout(&run));
    let asked = miracle(&["ask", "--experts", file, "How many metres is 2 km?"]);
    assert!(asked.status.success(), "{}", stderr(&asked));
    std::fs::write(model.join("config.json"), "{").unwrap();
    let broken = miracle(&["ask", "--experts", file, "How many metres is 2 km?"]);
    assert_clear_failure(&broken, "tuned");
}

#[test]
fn a_bad_plugin_file_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    for (text, says) in [
        ("experts:\n  - kind: calculator\n", "`calculator` is taken"),
        ("experts: []\n", "name at least one expert"),
        ("experts:\n  - kind: unit\n", "unknown kind `unit`"),
    ] {
        std::fs::write(&path, text).unwrap();
        let output = miracle(&["ask", "--experts", path.to_str().unwrap(), "Hello"]);
        assert_clear_failure(&output, says);
    }
    // A file without a model teaches nothing: tune says where the model should go.
    std::fs::write(
        &path,
        "experts:\n  - {kind: http, name: units, description: d, url: \"http://127.0.0.1:9/x\"}\n",
    )
    .unwrap();
    let output = miracle(&["tune", "--experts", path.to_str().unwrap()]);
    assert_clear_failure(&output, "name the folder the tuned model goes to");
}
