//! Remote experts over HTTP, declared in YAML: where to send the input, in what request,
//! which field of the JSON answer is the observation, and how long and how often to try.
//! This is also how a literature backend on another machine (or a Quickwit/Elasticsearch
//! cluster behind a small adapter) serves as an expert.
//!
//! ```yaml
//! - kind: http
//!   name: catalogue
//!   description: looks a book up in the library catalogue
//!   url: http://127.0.0.1:8080/lookup
//!   method: POST                  # or GET: the input goes in the query parameter `query_param`
//!   request: {isbn: "${input}"}   # any JSON; "${input}" inside strings becomes the input
//!   response: record.title        # dotted path into the JSON answer; the whole body if absent
//!   timeout_ms: 5000              # per attempt (the call's deadline still bounds the total)
//!   retries: 2                    # after connection errors, timeouts, 429 and 5xx
//!   backoff_ms: 200               # doubled after each retry
//!   max_response_bytes: 1048576
//! ```

use std::sync::Once;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use crate::{Context, Demonstration, Expert, ExpertError, Grounded, InputFormat, Observation};

/// A remote expert's declaration, as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub name: String,
    pub description: String,
    pub url: String,
    #[serde(default)]
    pub method: Method,
    /// The JSON body (POST); `${input}` inside its strings is replaced by the input.
    #[serde(default)]
    pub request: Option<serde_json::Value>,
    /// For GET: the query parameter that carries the input.
    #[serde(default = "default_query_param")]
    pub query_param: String,
    /// Dotted path to the observation in the JSON answer (`hits.0.title`).
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub retries: u32,
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: usize,
    /// What the input looks like, for the model and the input check.
    #[serde(default = "default_input_summary")]
    pub input: String,
    #[serde(default = "default_max_input_bytes")]
    pub max_input_bytes: usize,
    /// `numbers`: every number of the input is one the conversation wrote (the request's,
    /// earlier results'), so a converter gets the user's quantities, never invented ones;
    /// `quote`: the input is a clause of the user's words; `no` (the default): anything.
    #[serde(default)]
    pub grounded: GroundedSetting,
    #[serde(default)]
    pub demonstrations: Vec<Demonstration>,
}

/// [`Grounded`] as a declaration writes it.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum GroundedSetting {
    #[default]
    No,
    Numbers,
    Quote,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    #[default]
    Post,
}

fn default_query_param() -> String {
    "q".into()
}
fn default_timeout_ms() -> u64 {
    5_000
}
fn default_backoff_ms() -> u64 {
    200
}
fn default_max_response_bytes() -> usize {
    1 << 20
}
fn default_input_summary() -> String {
    "text".into()
}
fn default_max_input_bytes() -> usize {
    4096
}

/// Most retries a declaration may ask for, and the longest wait between two attempts.
const MAX_RETRIES: u32 = 10;
const MAX_BACKOFF: Duration = Duration::from_secs(10);

pub struct HttpExpert {
    settings: HttpSettings,
    url: reqwest::Url,
    format: InputFormat,
    client: reqwest::Client,
}

impl HttpExpert {
    /// Checks the declaration (URL scheme, limits) and builds the client.
    pub fn new(settings: HttpSettings) -> Result<Self, String> {
        let url = reqwest::Url::parse(&settings.url)
            .map_err(|e| format!("url `{}`: {e}", settings.url))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "url `{}`: only http and https are supported",
                settings.url
            ));
        }
        if settings.retries > MAX_RETRIES {
            return Err(format!(
                "retries: at most {MAX_RETRIES}, got {}",
                settings.retries
            ));
        }
        if settings.timeout_ms == 0 || settings.max_response_bytes == 0 {
            return Err("timeout_ms and max_response_bytes must be positive".into());
        }
        if settings.method == Method::Get && settings.request.is_some() {
            return Err(
                "a GET expert has no request body: drop `request`, the input goes in `query_param`"
                    .into(),
            );
        }
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("miracle/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let grounded = match settings.grounded {
            GroundedSetting::No => Grounded::No,
            GroundedSetting::Numbers => Grounded::Numbers,
            GroundedSetting::Quote => Grounded::Quote,
        };
        let format =
            InputFormat::text(&settings.input, settings.max_input_bytes).grounded(grounded);
        Ok(HttpExpert {
            settings,
            url,
            format,
            client,
        })
    }

    /// One attempt: the request, the status, the capped body, the observation.
    async fn attempt(&self, input: &str, timeout: Duration) -> Result<String, Attempt> {
        let s = &self.settings;
        let request = match s.method {
            Method::Get => self
                .client
                .get(self.url.clone())
                .query(&[(&s.query_param, input)]),
            Method::Post => {
                let body = match &s.request {
                    Some(template) => fill(template, input),
                    None => serde_json::json!({ "input": input }),
                };
                self.client.post(self.url.clone()).json(&body)
            }
        };
        let mut response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(Attempt::from_reqwest)?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Attempt::from_reqwest)? {
            if body.len() + chunk.len() > s.max_response_bytes {
                return Err(Attempt::Final(format!(
                    "the answer is larger than max_response_bytes ({})",
                    s.max_response_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            let excerpt: String = text.chars().take(200).collect();
            let message = format!("the server answered {status}: {}", excerpt.trim());
            let retry =
                status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
            return Err(if retry {
                Attempt::Retry(message)
            } else {
                Attempt::Final(message)
            });
        }
        observation(&body, s.response.as_deref()).map_err(Attempt::Final)
    }
}

/// Why an attempt failed, and whether another might succeed.
enum Attempt {
    Retry(String),
    Final(String),
}

impl Attempt {
    fn from_reqwest(e: reqwest::Error) -> Self {
        let message = if e.is_timeout() {
            "no answer within timeout_ms".to_string()
        } else if e.is_connect() {
            format!("cannot connect: {}", root_cause(&e))
        } else {
            root_cause(&e)
        };
        if e.is_timeout() || e.is_connect() || e.is_request() {
            Attempt::Retry(message)
        } else {
            Attempt::Final(message)
        }
    }
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The template with `${input}` replaced inside every string (keys too). Working on the
/// parsed JSON, not on text, means no input can break out of its string.
fn fill(template: &serde_json::Value, input: &str) -> serde_json::Value {
    use serde_json::Value;
    match template {
        Value::String(s) => Value::String(s.replace("${input}", input)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, input)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace("${input}", input), fill(v, input)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The observation in `body`: the field at `path` (strings as they are, anything else as
/// JSON), or the whole body as text when there is no path.
fn observation(body: &[u8], path: Option<&str>) -> Result<String, String> {
    let Some(path) = path else {
        return String::from_utf8(body.to_vec())
            .map_err(|_| "the answer is not UTF-8 text".to_string());
    };
    let json: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not JSON ({e}); expected a field `{path}`"))?;
    let mut at = &json;
    for step in path.split('.') {
        let next = match at {
            serde_json::Value::Array(items) => {
                step.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            serde_json::Value::Object(map) => map.get(step),
            _ => None,
        };
        at = next.ok_or_else(|| format!("the answer has no field `{path}` (no `{step}`)"))?;
    }
    Ok(match at {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// reqwest is built without a bundled crypto provider: use ring's, once per process.
/// Call it before building any reqwest client in a program that links Miracle.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[async_trait]
impl Expert for HttpExpert {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn description(&self) -> &str {
        &self.settings.description
    }

    fn input_format(&self) -> &InputFormat {
        &self.format
    }

    fn demonstrations(&self) -> &[Demonstration] {
        &self.settings.demonstrations
    }

    async fn call(&self, input: &str, ctx: &Context) -> Result<Observation, ExpertError> {
        let per_attempt = Duration::from_millis(self.settings.timeout_ms);
        let mut backoff = Duration::from_millis(self.settings.backoff_ms);
        let mut attempts = 0;
        let message = loop {
            attempts += 1;
            let remaining = ctx.remaining();
            if remaining.is_zero() {
                break "the call's deadline passed before an answer came".to_string();
            }
            match self.attempt(input, per_attempt.min(remaining)).await {
                Ok(text) => return Ok(Observation::new(text)),
                Err(Attempt::Retry(_)) if attempts <= self.settings.retries => {
                    // The registry drops this future at the deadline, so sleeping past it is harmless.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(Attempt::Retry(message) | Attempt::Final(message)) => break message,
            }
        };
        let tries = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        Err(ExpertError::failed(
            &self.settings.name,
            format!("{}{tries}: {message}", self.url),
        ))
    }
}
