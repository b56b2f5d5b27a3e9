//! `POST /v1/chat/completions`, compatible with OpenAI's chat API, so existing OpenAI
//! clients and chat widgets work unchanged: the last user message is the request, earlier
//! user/assistant pairs the history, system messages the system prompt. With
//! `"stream": true` the answer arrives as server-sent events (`chat.completion.chunk`,
//! then `[DONE]`). Miracle's trace rides along in an extension field, `miracle.trace`.
//!
//! The agent answers in tens of milliseconds, so the stream is sent once the answer is
//! known: clients see OpenAI's framing, not token-by-token timing.
//!
//! The sampling fields are honoured or refused, never ignored: `model` must name the served
//! model (404 otherwise, as OpenAI answers), `max_tokens` (or `max_completion_tokens`)
//! bounds the turn's generated tokens, `temperature`, `top_p` and `seed` choose sampling
//! (greedy at temperature 0, the default), `n` runs the agent n times, `stop` ends each
//! answer before the first stop sequence, and `stream_options.include_usage` adds OpenAI's
//! usage chunk. `GET /v1/models` lists the one model.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use miracle_router::agent::{Outcome, Trace};
use miracle_router::protocol::Exchange;
use serde::Deserialize;
use serde_json::{Value, json};

use axum::extract::Path;
use miracle_core::gpt::Decoding;

use super::Service;
use super::agents::{AskOptions, Done, Work};
use super::api::{ApiError, check_request, exchange};

/// The model name the service answers as.
pub const MODEL: &str = "miracle";

#[derive(Deserialize)]
pub struct ChatBody {
    messages: Vec<Message>,
    #[serde(default)]
    stream: bool,
    model: Option<String>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    n: Option<u64>,
    stop: Option<Stop>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    seed: Option<u64>,
    stream_options: Option<StreamOptions>,
    // Other OpenAI fields (user, metadata, …) change nothing the agent does and are
    // accepted as they come.
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// At most this many choices in one completion: each is a whole agent run.
const MAX_CHOICES: u64 = 8;

/// What a chat body asks of the runs, checked: what OpenAI accepts and the agent can honour.
struct Asked {
    stops: Vec<String>,
    options: Vec<AskOptions>,
    include_usage: bool,
}

impl ChatBody {
    fn asked(&self) -> Result<Asked, ApiError> {
        let invalid =
            |param: &'static str, message: String| ApiError::invalid_param(param, message);
        if let Some(model) = self.model.as_deref().filter(|m| *m != MODEL) {
            return Err(ApiError::model_not_found(model));
        }
        let max_tokens = match (self.max_tokens, self.max_completion_tokens) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "max_tokens",
                    "send max_tokens or max_completion_tokens, not both".into(),
                ));
            }
            (Some(0), _) | (_, Some(0)) => {
                return Err(invalid("max_tokens", "must be at least 1".into()));
            }
            (a, b) => a.or(b).map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
        };
        let choices = self.n.unwrap_or(1);
        if !(1..=MAX_CHOICES).contains(&choices) {
            return Err(invalid(
                "n",
                format!("must be from 1 to {MAX_CHOICES}; each choice is a whole agent run"),
            ));
        }
        let temperature = self.temperature.unwrap_or(0.0);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(invalid("temperature", "must be from 0 to 2".into()));
        }
        let top_p = self.top_p.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(invalid("top_p", "must be above 0 and at most 1".into()));
        }
        let stops = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(list)) => list.clone(),
        };
        if stops.len() > 4 || stops.iter().any(String::is_empty) {
            return Err(invalid("stop", "at most 4 sequences, none empty".into()));
        }
        let seed = self.seed.unwrap_or_else(completion_seed);
        let options = (0..choices)
            .map(|i| AskOptions {
                max_tokens,
                // Greedy decoding at temperature 0, as OpenAI's is (nearly) deterministic there.
                decoding: (temperature > 0.0).then(|| Decoding::Sample {
                    temperature: temperature as f32,
                    top_k: None,
                    top_p: (top_p < 1.0).then_some(top_p as f32),
                    seed: seed.wrapping_add(i),
                }),
            })
            .collect();
        Ok(Asked {
            stops,
            options,
            include_usage: self
                .stream_options
                .as_ref()
                .is_some_and(|o| o.include_usage),
        })
    }
}

/// A seed for a client that sent none: different for every completion.
fn completion_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `GET /v1/models`: the one model the service answers as.
pub async fn models() -> Json<Value> {
    Json(json!({"object": "list", "data": [model_card()]}))
}

/// `GET /v1/models/{id}`.
pub async fn model(Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    if id == MODEL {
        Ok(Json(model_card()))
    } else {
        Err(ApiError::model_not_found(&id))
    }
}

fn model_card() -> Value {
    json!({"id": MODEL, "object": "model", "created": 0, "owned_by": "miracle"})
}

#[derive(Deserialize)]
struct Message {
    role: String,
    content: Content,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    /// `[{"type": "text", "text": "…"}, …]`
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
}

impl Content {
    fn text(self) -> Result<String, ApiError> {
        match self {
            Content::Text(t) => Ok(t),
            Content::Parts(parts) => parts
                .into_iter()
                .map(|p| match p.kind.as_str() {
                    "text" => Ok(p.text),
                    other => Err(ApiError::bad_request(format!(
                        "message parts of type `{other}` are not supported; send text"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|texts| texts.join("\n")),
        }
    }
}

/// The request, its history and the system prompt, from the messages.
fn conversation(
    messages: Vec<Message>,
) -> Result<(String, Vec<Exchange>, Option<String>), ApiError> {
    let mut system = Vec::new();
    let mut history = Vec::new();
    let mut pending: Option<String> = None;
    for (i, m) in messages.into_iter().enumerate() {
        let text = m.content.text()?;
        match m.role.as_str() {
            "system" | "developer" => system.push(text),
            // Two user messages in a row are read as one.
            "user" => {
                pending = Some(match pending.take() {
                    Some(unanswered) => format!("{unanswered}\n{text}"),
                    None => text,
                });
            }
            "assistant" => {
                let user = pending.take().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "messages[{i}]: an assistant message must follow a user message"
                    ))
                })?;
                history.push(exchange(user, text));
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "messages[{i}]: role `{other}` is not supported; use system, user or assistant"
                )));
            }
        }
    }
    let request =
        pending.ok_or_else(|| ApiError::bad_request("the last message must be the user's"))?;
    check_request(&request)?;
    let system = (!system.is_empty()).then(|| system.join("\n"));
    Ok((request, history, system))
}

pub async fn chat(
    State(service): State<Arc<Service>>,
    body: Result<Json<ChatBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let asked = body.asked()?;
    let (request, history, system) = conversation(body.messages)?;
    let tokens = |text: &str| service.agents.tokenizer.encode(text).map_or(0, |t| t.len());
    let prompt_tokens = tokens(&request) + history.iter().map(|e| tokens(&e.user)).sum::<usize>();
    let runs = asked.options.into_iter().map(|options| {
        service.agents.submit(Work::Ask {
            request: request.clone(),
            history: history.clone(),
            system: system.clone(),
            options,
        })
    });
    let mut choices = Vec::new();
    for done in futures_util::future::try_join_all(runs).await? {
        match done {
            Done::Trace(trace) => choices.push(Choice::new(trace, &asked.stops)),
            Done::Run(_) => {
                return Err(ApiError::bad_request(
                    "a workflow ran in place of a request",
                ));
            }
        }
    }
    let completion_tokens: usize = choices.iter().map(|c| c.trace.tokens_generated).sum();
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    let id = completion_id();
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if body.stream {
        let usage = asked.include_usage.then_some(usage);
        return Ok(stream(id, created, choices, usage).into_response());
    }
    let traces: Vec<&Trace> = choices.iter().map(|c| &c.trace).collect();
    let choices: Vec<Value> = choices
        .iter()
        .enumerate()
        .map(|(index, c)| {
            json!({
                "index": index,
                "message": {"role": "assistant", "content": c.answer},
                "finish_reason": c.finish,
            })
        })
        .collect();
    // One trace for one choice (as before), one per choice for several.
    let miracle = match traces.as_slice() {
        [trace] => json!({"trace": trace}),
        _ => json!({"traces": traces}),
    };
    Ok(Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": choices,
        "usage": usage,
        "miracle": miracle,
    }))
    .into_response())
}

/// One agent run as a choice: its answer, cut before the first stop sequence.
struct Choice {
    trace: Trace,
    answer: String,
    finish: &'static str,
}

impl Choice {
    fn new(trace: Trace, stops: &[String]) -> Choice {
        let cut = stops
            .iter()
            .filter_map(|s| trace.answer.find(s.as_str()))
            .min();
        let (answer, finish) = match cut {
            Some(at) => (trace.answer[..at].to_string(), "stop"),
            None => (trace.answer.clone(), finish_reason(&trace)),
        };
        Choice {
            trace,
            answer,
            finish,
        }
    }
}

fn finish_reason(trace: &Trace) -> &'static str {
    match trace.outcome {
        Outcome::Answered | Outcome::ExpertsFailed => "stop",
        Outcome::TokenLimit | Outcome::TimeLimit => "length",
    }
}

fn completion_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "chatcmpl-{nanos:x}{:04x}",
        NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

fn stream(
    id: String,
    created: u64,
    choices: Vec<Choice>,
    usage: Option<Value>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let with_usage = usage.is_some();
    let chunk = |choices: Value| {
        let mut chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": choices,
        });
        if with_usage {
            // OpenAI's framing when usage is asked for: null on every chunk but the last.
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    let delta = |index: usize, delta: Value, finish: Option<&str>| {
        chunk(json!([{"index": index, "delta": delta, "finish_reason": finish}]))
    };
    let mut events = Vec::new();
    for (index, choice) in choices.iter().enumerate() {
        events.push(delta(
            index,
            json!({"role": "assistant", "content": ""}),
            None,
        ));
        for piece in pieces(&choice.answer) {
            events.push(delta(index, json!({"content": piece}), None));
        }
        let mut last = delta(index, json!({}), Some(choice.finish));
        last["miracle"] = json!({"trace": choice.trace});
        events.push(last);
    }
    if let Some(usage) = usage {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        events.push(last);
    }
    let events: Vec<Result<Event, Infallible>> = events
        .into_iter()
        .map(|e| Ok(Event::default().data(e.to_string())))
        .chain(std::iter::once(Ok(Event::default().data("[DONE]"))))
        .collect();
    Sse::new(futures_util::stream::iter(events))
}

/// The answer in small pieces: words with their following space, long runs (Chinese has no
/// spaces) in pieces of at most four characters.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if c.is_whitespace() || current.chars().count() >= 4 {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(role: &str, text: &str) -> Message {
        Message {
            role: role.into(),
            content: Content::Text(text.into()),
        }
    }

    #[test]
    fn messages_become_request_history_and_system() {
        let (request, history, system) = conversation(vec![
            message("system", "Be brief."),
            message("user", "2 + 2?"),
            message("assistant", "4"),
            message("user", "and times 3?"),
        ])
        .unwrap();
        assert_eq!(request, "and times 3?");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].user, "2 + 2?");
        assert_eq!(system.as_deref(), Some("Be brief."));
        for bad in [
            vec![message("assistant", "hi")],
            vec![message("user", "hi"), message("assistant", "hello")],
            vec![message("tool", "x")],
            vec![message("user", "  ")],
            vec![],
        ] {
            assert!(conversation(bad).is_err());
        }
    }

    #[test]
    fn pieces_join_back_into_the_answer() {
        for text in ["The answer is 28.", "答案是六十二点五。", ""] {
            assert_eq!(pieces(text).concat(), text);
        }
    }
}
