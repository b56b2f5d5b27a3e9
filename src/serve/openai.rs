//! `POST /v1/chat/completions`, compatible with OpenAI's chat API, so existing OpenAI
//! clients and chat widgets work unchanged: the last user message is the request, earlier
//! user/assistant pairs the history, system messages the system prompt. With
//! `"stream": true` the answer arrives as server-sent events (`chat.completion.chunk`,
//! then `[DONE]`). Miracle's trace rides along in an extension field, `miracle.trace`.
//!
//! A stream sends each step of the agent (a call, its result) as it completes, in an empty
//! delta that carries the step in `miracle.step`; the answer's text follows in pieces once
//! the run is done.
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
use miracle_router::agent::{Outcome, Trace, TracedStep};
use miracle_router::protocol::Exchange;
use serde::Deserialize;
use serde_json::{Value, json};

use axum::extract::Path;
use miracle_core::gpt::Decoding;

use super::Service;
use super::agents::{AskOptions, Done, Work};
use super::api::{ApiError, check_request};
use super::memory::Recent;

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
                progress: None,
                // The service's: OpenAI's request has no such field.
                markup: None,
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
    recent: &Recent,
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
                history.push(recent.exchange(user, text));
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
    let (request, history, system) = conversation(body.messages, &service.recent)?;
    let tokens = |text: &str| service.agents.tokenizer.encode(text).map_or(0, |t| t.len());
    let prompt_tokens = tokens(&request) + history.iter().map(|e| tokens(&e.user)).sum::<usize>();
    // A stream shows each step as the agent completes it: (choice, step).
    let (steps_tx, steps) = tokio::sync::mpsc::unbounded_channel::<(usize, TracedStep)>();
    let mut runs = Vec::new();
    for (index, mut options) in asked.options.into_iter().enumerate() {
        if body.stream {
            let steps_tx = steps_tx.clone();
            options.progress = Some(Arc::new(move |step: &TracedStep| {
                let _ = steps_tx.send((index, step.clone()));
            }));
        }
        // Queued at once: a full queue is a 503 before any answer starts.
        runs.push(service.agents.enqueue(Work::Ask {
            request: request.clone(),
            history: history.clone(),
            system: system.clone(),
            options,
        })?);
    }
    drop(steps_tx);
    let runs_count = runs.len();
    let framing = Framing {
        id: completion_id(),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        usage: asked.include_usage,
    };
    let all = futures_util::future::try_join_all(runs);
    if body.stream {
        let live = Live {
            framing,
            choices: runs_count,
            stops: asked.stops,
            prompt_tokens,
            service: service.clone(),
            request,
        };
        return Ok(live.stream(all, steps).into_response());
    }
    let choices = choices(all.await?, &asked.stops)?;
    for c in &choices {
        service.recent.remember_trace(&request, &c.answer, &c.trace);
    }
    let traces: Vec<&Trace> = choices.iter().map(|c| &c.trace).collect();
    // One trace for one choice (as before), one per choice for several.
    let miracle = match traces.as_slice() {
        [trace] => json!({"trace": trace}),
        _ => json!({"traces": traces}),
    };
    let listed: Vec<Value> = choices
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
    Ok(Json(json!({
        "id": framing.id,
        "object": "chat.completion",
        "created": framing.created,
        "model": MODEL,
        "choices": listed,
        "usage": usage(prompt_tokens, &choices),
        "miracle": miracle,
    }))
    .into_response())
}

fn choices(done: Vec<Done>, stops: &[String]) -> Result<Vec<Choice>, ApiError> {
    done.into_iter()
        .map(|d| match d {
            Done::Trace(trace) => Ok(Choice::new(trace, stops)),
            Done::Run(_) => Err(ApiError::bad_request(
                "a workflow ran in place of a request",
            )),
        })
        .collect()
}

fn usage(prompt_tokens: usize, choices: &[Choice]) -> Value {
    let completion_tokens: usize = choices.iter().map(|c| c.trace.tokens_generated).sum();
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    })
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
        Outcome::Answered | Outcome::ExpertsFailed | Outcome::Replaced => "stop",
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

/// What every chunk of one completion shares.
struct Framing {
    id: String,
    created: u64,
    /// Whether the client asked for the usage chunk (`stream_options.include_usage`).
    usage: bool,
}

impl Framing {
    fn chunk(&self, choices: Value) -> Value {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL,
            "choices": choices,
        });
        if self.usage {
            // OpenAI's framing when usage is asked for: null on every chunk but the last.
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn delta(&self, index: usize, delta: Value, finish: Option<&str>) -> Value {
        self.chunk(json!([{"index": index, "delta": delta, "finish_reason": finish}]))
    }
}

/// A streamed completion: each step as the agent completes it (an empty delta that carries
/// the step in `miracle.step`, which OpenAI clients pass over), then the answers in pieces,
/// each choice's finish with its trace, and the usage chunk when asked for.
struct Live {
    framing: Framing,
    choices: usize,
    stops: Vec<String>,
    prompt_tokens: usize,
    /// Where the answers' steps are remembered, and the request they answer.
    service: Arc<Service>,
    request: String,
}

impl Live {
    fn stream(
        self,
        runs: impl std::future::Future<Output = Result<Vec<Done>, super::agents::WorkError>>
        + Send
        + 'static,
        mut steps: tokio::sync::mpsc::UnboundedReceiver<(usize, TracedStep)>,
    ) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
        let (events, out) = tokio::sync::mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            let send = |event: Value| {
                let _ = events.send(event.to_string());
            };
            let step = |(index, step): (usize, TracedStep)| {
                let mut chunk = self.framing.delta(index, json!({}), None);
                chunk["miracle"] = json!({"step": step});
                chunk
            };
            for index in 0..self.choices {
                let role = json!({"role": "assistant", "content": ""});
                send(self.framing.delta(index, role, None));
            }
            tokio::pin!(runs);
            let done = loop {
                tokio::select! {
                    Some(next) = steps.recv() => send(step(next)),
                    done = &mut runs => break done,
                }
            };
            // Steps sent before the runs ended but not read yet.
            while let Ok(next) = steps.try_recv() {
                send(step(next));
            }
            match done
                .map_err(ApiError::from)
                .and_then(|d| choices(d, &self.stops))
            {
                Ok(choices) => {
                    for c in &choices {
                        (self.service.recent).remember_trace(&self.request, &c.answer, &c.trace);
                    }
                    for event in self.answers(&choices) {
                        send(event);
                    }
                }
                // A failure after the stream began: OpenAI's error object as a data event.
                Err(e) => send(json!({"error": {"message": e.message, "type": "server_error"}})),
            }
            let _ = events.send("[DONE]".to_string());
        });
        let events = futures_util::stream::unfold(out, |mut out| async move {
            let event = out.recv().await?;
            Some((Ok(Event::default().data(event)), out))
        });
        Sse::new(events)
    }

    fn answers(&self, choices: &[Choice]) -> Vec<Value> {
        let framing = &self.framing;
        let mut events = Vec::new();
        for (index, choice) in choices.iter().enumerate() {
            for piece in pieces(&choice.answer) {
                events.push(framing.delta(index, json!({"content": piece}), None));
            }
            let mut last = framing.delta(index, json!({}), Some(choice.finish));
            last["miracle"] = json!({"trace": choice.trace});
            events.push(last);
        }
        if framing.usage {
            let mut last = framing.chunk(json!([]));
            last["usage"] = usage(self.prompt_tokens, choices);
            events.push(last);
        }
        events
    }
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
        let (request, history, system) = conversation(
            vec![
                message("system", "Be brief."),
                message("user", "2 + 2?"),
                message("assistant", "4"),
                message("user", "and times 3?"),
            ],
            &Recent::default(),
        )
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
            assert!(conversation(bad, &Recent::default()).is_err());
        }
    }

    #[test]
    fn pieces_join_back_into_the_answer() {
        for text in ["The answer is 28.", "答案是六十二点五。", ""] {
            assert_eq!(pieces(text).concat(), text);
        }
    }
}
