//! The JSON endpoints: `/v1/ask`, `/v1/search`, `/v1/workflows/{name}/run`, `/healthz`,
//! `/metrics`, and the error body every refusal carries.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use miracle_experts::search::{
    Filters, Lexicon, Markup, SearchError, SearchRequest, explain, hits_json,
};
use miracle_router::protocol::{Exchange, Step};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Service;
use super::agents::{AskOptions, Done, Work, WorkError};

/// A refusal or failure: the status and an OpenAI-style body,
/// `{"error": {"message", "type", "code"}}`, so OpenAI clients show the message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait before retrying (429, 503).
    pub retry_after: Option<u64>,
    /// The request field at fault, as OpenAI names it (`param`).
    pub param: Option<&'static str>,
    /// OpenAI's error code (`model_not_found`); the status number when absent.
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
            param: None,
            code: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A field of the request that cannot be honoured: 400, naming the field.
    pub fn invalid_param(param: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            param: Some(param),
            ..ApiError::bad_request(format!("{param}: {}", message.into()))
        }
    }

    /// A model the service does not serve: 404, as OpenAI answers it.
    pub fn model_not_found(model: &str) -> Self {
        ApiError {
            param: Some("model"),
            code: Some("model_not_found"),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "The model `{model}` does not exist; this service serves `miracle` (GET /v1/models)"
                ),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = match self.status.as_u16() {
            401 => "authentication_error",
            429 => "rate_limit_error",
            500..=599 => "server_error",
            _ => "invalid_request_error",
        };
        let code = match self.code {
            Some(code) => json!(code),
            None => json!(self.status.as_u16()),
        };
        let body = json!({"error": {"message": self.message, "type": kind, "param": self.param, "code": code}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than the service accepts (limits.body_bytes)",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send JSON with `Content-Type: application/json`",
            ),
            _ => ApiError::bad_request(format!("the request body: {}", rejection.body_text())),
        }
    }
}

impl From<WorkError> for ApiError {
    fn from(e: WorkError) -> Self {
        match e {
            WorkError::Busy => ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "every model thread is busy and the queue is full; retry shortly",
                )
            },
            WorkError::Rejected(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            WorkError::Internal(message) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
            }
        }
    }
}

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    request: String,
    /// Earlier turns of the conversation, oldest first.
    #[serde(default)]
    history: Vec<Turn>,
    /// Include the whole trace (every step, call and result).
    #[serde(default)]
    trace: bool,
    /// How the answer's APA citations write italics: `plain`, `markdown` or `html`; the
    /// service's `markup` when absent.
    #[serde(default)]
    markup: Option<Markup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    user: String,
    answer: String,
}

/// At most this many characters in a request (the model's context is far shorter).
pub const MAX_REQUEST_CHARS: usize = 4000;

pub async fn ask(
    State(service): State<Arc<Service>>,
    body: Result<Json<AskBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    check_request(&body.request)?;
    let history = body
        .history
        .into_iter()
        .map(|t| service.recent.exchange(t.user, t.answer))
        .collect();
    let trace = match service
        .agents
        .submit(Work::Ask {
            request: body.request.clone(),
            history,
            system: None,
            options: AskOptions {
                markup: body.markup,
                ..Default::default()
            },
        })
        .await?
    {
        Done::Trace(trace) => trace,
        Done::Run(_) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "a workflow ran in place of a request",
            ));
        }
    };
    service
        .recent
        .remember_trace(&body.request, &trace.answer, &trace);
    let mut reply = json!({
        "answer": trace.answer,
        "experts": trace.experts(),
        "outcome": trace.outcome,
        "ms": trace.ms,
    });
    if body.trace {
        reply["trace"] = serde_json::to_value(&trace).unwrap_or(Value::Null);
    }
    Ok(Json(reply))
}

pub fn check_request(request: &str) -> Result<(), ApiError> {
    if request.trim().is_empty() {
        return Err(ApiError::bad_request(
            "`request` is empty: write what you want to know",
        ));
    }
    let chars = request.chars().count();
    if chars > MAX_REQUEST_CHARS {
        return Err(ApiError::bad_request(format!(
            "`request` has {chars} characters; at most {MAX_REQUEST_CHARS}"
        )));
    }
    Ok(())
}

/// An earlier turn as the agent's history.
pub fn exchange(user: String, answer: String) -> Exchange {
    Exchange {
        user,
        steps: vec![Step::Answer {
            text: miracle_router::papers::as_written(&answer),
        }],
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    query: String,
    #[serde(default = "ten")]
    top: usize,
    /// Only papers from these years, inclusive: [from, to].
    #[serde(default)]
    years: Option<(Option<i64>, Option<i64>)>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    venue: Option<String>,
    /// Highlighted abstract fragments.
    #[serde(default)]
    snippets: bool,
    /// How APA's italics are written in `apa`: `plain` (none), `markdown` or `html`.
    #[serde(default)]
    markup: Markup,
    /// Hybrid retrieval: BM25's hits re-scored by the index's dense encoder (weight 1.0),
    /// which `miracle index --word-vectors` trains.
    #[serde(default)]
    hybrid: bool,
    /// Cross-language search: the query's words translated by the shipped English–Chinese
    /// lexicon are searched too.
    #[serde(default)]
    translate: bool,
}

fn ten() -> usize {
    10
}

pub async fn search(
    State(service): State<Arc<Service>>,
    body: Result<Json<SearchBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    if body.query.trim().is_empty() {
        return Err(ApiError::bad_request("`query` is empty"));
    }
    if !(1..=100).contains(&body.top) {
        return Err(ApiError::bad_request(format!(
            "`top` is {}; 1 to 100",
            body.top
        )));
    }
    let body_markup = body.markup;
    let request = SearchRequest {
        query: body.query,
        top: body.top,
        filters: Filters {
            years: body.years.unwrap_or_default(),
            venue: body.venue,
            lang: body.lang,
        },
        snippets: body.snippets,
        expansion: None,
        hybrid: body.hybrid.then_some(1.0),
        translate: None,
    };
    let translate = body.translate;
    let index = service.index.clone();
    let found = tokio::task::spawn_blocking(move || {
        let mut request = request;
        // The lexicon is read on first use (about a second): off the async threads.
        if translate {
            request.translate = Some(Lexicon::shipped()?);
        }
        let hits = index.search(&request)?;
        let why = explain::why_nothing(&index, &request, &hits)?;
        let translation = match &request.translate {
            Some(lexicon) => Some(json!(lexicon.words(&request.query))),
            None => None,
        };
        Ok::<_, SearchError>((hits, why, translation))
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the search stopped: {e}"),
        )
    })?
    .map_err(|e| {
        let status = if e.is_query_error() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError::new(status, e.to_string())
    })?;
    let (hits, why, translation) = found;
    let mut reply = json!({"hits": hits_json(&hits, body_markup)});
    if let Some(why) = why {
        reply["why_nothing"] = why.into();
    }
    if let Some(translation) = translation {
        reply["translation"] = translation;
    }
    Ok(Json(reply))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    #[serde(default)]
    inputs: serde_json::Map<String, Value>,
}

pub async fn run_workflow(
    State(service): State<Arc<Service>>,
    Path(name): Path<String>,
    body: Result<Json<RunBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let Some(flow) = service.agents.workflows.get(&name) else {
        let known: Vec<&str> = service
            .agents
            .workflows
            .keys()
            .map(String::as_str)
            .collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no workflow `{name}`; served: {}",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let inputs = flow
        .inputs_from_json(&body.inputs)
        .map_err(ApiError::bad_request)?;
    match service
        .agents
        .submit(Work::Workflow { name, inputs })
        .await?
    {
        Done::Run(run) => Ok(Json(serde_json::to_value(&run).unwrap_or(Value::Null))),
        Done::Trace(_) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "a request ran in place of a workflow",
        )),
    }
}
