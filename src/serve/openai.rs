//! `POST /v1/chat/completions`, compatible with OpenAI's chat API, so existing OpenAI
//! clients and chat widgets work unchanged: the last user message is the request, earlier
//! user/assistant pairs the history, system messages the system prompt. With
//! `"stream": true` the answer arrives as server-sent events (`chat.completion.chunk`,
//! then `[DONE]`). Miracle's trace rides along in an extension field, `miracle.trace`.
//!
//! The agent answers in tens of milliseconds, so the stream is sent once the answer is
//! known: clients see OpenAI's framing, not token-by-token timing.

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

use super::Service;
use super::agents::{Done, Work};
use super::api::{ApiError, check_request, exchange};

/// The model name the service answers as.
pub const MODEL: &str = "miracle";

#[derive(Deserialize)]
pub struct ChatBody {
    messages: Vec<Message>,
    #[serde(default)]
    stream: bool,
    // Other OpenAI fields (model, temperature, …) are accepted and ignored: the agent
    // decodes greedily with its own bounds.
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
    let (request, history, system) = conversation(body.messages)?;
    let tokens = |text: &str| service.agents.tokenizer.encode(text).map_or(0, |t| t.len());
    let prompt_tokens = tokens(&request) + history.iter().map(|e| tokens(&e.user)).sum::<usize>();
    let trace = match service
        .agents
        .submit(Work::Ask {
            request,
            history,
            system,
        })
        .await?
    {
        Done::Trace(trace) => trace,
        Done::Run(_) => {
            return Err(ApiError::bad_request(
                "a workflow ran in place of a request",
            ));
        }
    };
    let id = completion_id();
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if body.stream {
        return Ok(stream(id, created, trace).into_response());
    }
    let finish = finish_reason(&trace);
    Ok(Json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": trace.answer},
            "finish_reason": finish,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": trace.tokens_generated,
            "total_tokens": prompt_tokens + trace.tokens_generated,
        },
        "miracle": {"trace": trace},
    }))
    .into_response())
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
    trace: Trace,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let chunk = |delta: Value, finish: Option<&str>| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    for piece in pieces(&trace.answer) {
        events.push(chunk(json!({"content": piece}), None));
    }
    let mut last = chunk(json!({}), Some(finish_reason(&trace)));
    last["miracle"] = json!({"trace": trace});
    events.push(last);
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
