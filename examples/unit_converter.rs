//! An expert plugin in one file: a unit converter the router can call as `units`. Run it with
//! `cargo run --example unit_converter -- "3.5 km in m"`, test it with `cargo test --example …`.
//!
//! `cargo run --example unit_converter -- --serve 127.0.0.1:8099` serves it over HTTP
//! (`GET /convert?q=3.5 km in m` → `{"result": "3500 m"}`, a refusal → 422 with the reason),
//! which is how `examples/plugins/units.yaml` plugs it into every `miracle` command and how
//! `miracle tune --experts examples/plugins/units.yaml` teaches the model to call it
//! (docs/PLUGINS.md, "Teaching the model a plugin").

use async_trait::async_trait;
use miracle::experts::calculator::{Number, format};
use miracle::experts::{
    Context, Demonstration, Expert, ExpertError, InputFormat, Observation, Registry,
};

/// Each unit with what it measures and its size in the base unit (metre, gram).
#[rustfmt::skip]
const UNITS: &[(&str, &str, f64)] = &[
    ("m", "length", 1.0), ("km", "length", 1000.0),
    ("g", "mass", 1.0), ("kg", "mass", 1000.0), ("斤", "mass", 500.0),
];

pub struct Units {
    format: InputFormat,
    demonstrations: Vec<Demonstration>,
}

fn bad(message: String) -> ExpertError {
    ExpertError::invalid("units", message)
}

fn unit(name: &str) -> Result<(&'static str, f64), ExpertError> {
    let found = UNITS.iter().find(|u| u.0 == name).map(|u| (u.1, u.2));
    let known: Vec<&str> = UNITS.iter().map(|u| u.0).collect();
    found.ok_or_else(|| bad(format!("unknown unit `{name}`; known: {}", known.join(" "))))
}

#[async_trait]
impl Expert for Units {
    fn name(&self) -> &str {
        "units"
    }
    fn description(&self) -> &str {
        "converts lengths and masses between units"
    }
    fn input_format(&self) -> &InputFormat {
        &self.format
    }
    fn demonstrations(&self) -> &[Demonstration] {
        &self.demonstrations
    }
    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        let words: Vec<&str> = input.split_whitespace().collect();
        let [amount, from, "in", to] = words[..] else {
            return Err(bad(format!("expected {}", self.format.summary)));
        };
        let amount: f64 = amount.parse().map_err(|_| bad(format!("`{amount}`?")))?;
        let ((from_kind, from_size), (to_kind, to_size)) = (unit(from)?, unit(to)?);
        if from_kind != to_kind {
            return Err(bad(format!("cannot convert {from_kind} into {to_kind}")));
        }
        let value = format(Number::Float(amount * from_size / to_size));
        Ok(Observation::new(format!("{value} {to}")))
    }
}

fn registry() -> Registry {
    let summary = "`<number> <unit> in <unit>`, e.g. `3.5 km in m`";
    let example = Demonstration::new("2 斤是几公斤？", "2 斤 in kg", "1 kg");
    let (format, demonstrations) = (InputFormat::text(summary, 64), vec![example]);
    let units = Units {
        format,
        demonstrations,
    };
    Registry::new().with(units)
}

/// `GET /convert?q=…`: the conversion as `{"result": …}`, or 422 and the reason.
async fn convert(
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let input = query.get("q").map(String::as_str).unwrap_or_default();
    match registry().call("units", input, &Context::default()).await {
        Ok(seen) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({ "result": seen.text })),
        ),
        Err(e) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "error": e.to_string() })),
        ),
    }
}

async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("units on http://{}/convert?q=…", listener.local_addr()?);
    serve_on(listener).await
}

async fn serve_on(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().route("/convert", axum::routing::get(convert));
    axum::serve(listener, app).await
}

/// Prints the observation, or the error in one line on stderr with exit code 1; or, with
/// `--serve ADDR`, serves the expert over HTTP.
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, addr] = &args[..]
        && flag == "--serve"
    {
        if let Err(e) = serve(addr).await {
            eprintln!("error: cannot serve on {addr}: {e}");
            return std::process::ExitCode::FAILURE;
        }
        return std::process::ExitCode::SUCCESS;
    }
    let input = args.first().cloned().unwrap_or("3.5 km in m".into());
    match registry().call("units", &input, &Context::default()).await {
        Ok(seen) => println!("{seen}"),
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    std::process::ExitCode::SUCCESS
}

#[tokio::test]
async fn converts_through_the_registry_and_refuses_nonsense() {
    let registry = registry();
    let call = async |input: &str| registry.call("units", input, &Context::default()).await;
    assert_eq!(call("3.5 km in m").await.unwrap().text, "3500 m");
    assert_eq!(call("1 斤 in kg").await.unwrap().text, "0.5 kg");
    let error = call("1 kg in m").await.unwrap_err().to_string();
    assert!(
        error.ends_with("cannot convert mass into length"),
        "{error}"
    );
    let error = call("1 ly in m").await.unwrap_err().to_string();
    assert!(error.ends_with("unit `ly`; known: m km g kg 斤"), "{error}");
}

/// Served over HTTP and declared as examples/plugins/units.yaml declares it, the converter
/// answers through an `http` expert as it does in process, and its refusals arrive as errors.
#[tokio::test]
async fn the_served_converter_answers_through_the_plugin_file() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve_on(listener));
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/plugins/units.yaml"
    ))
    .unwrap()
    .replace("127.0.0.1:8099", &format!("127.0.0.1:{port}"));
    let registry = Registry::from_yaml(&file, &miracle::experts::Kinds::builtin()).unwrap();
    let call = async |input: &str| registry.call("units", input, &Context::default()).await;
    assert_eq!(call("2 斤 in kg").await.unwrap().text, "1 kg");
    let error = call("1 kg in m").await.unwrap_err().to_string();
    assert!(error.contains("cannot convert mass into length"), "{error}");
    // Every declared demonstration is one the served converter answers as declared.
    let units = registry.get("units").unwrap();
    for shown in units.demonstrations() {
        assert_eq!(
            call(&shown.input).await.unwrap().text,
            shown.result,
            "{shown:?}"
        );
    }
}
