//! Running a checked workflow: steps in order, each `when:` it holds, over each `foreach:`
//! element, every attempt within `timeout:`, failed attempts retried `retries:` times.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use miracle_core::gpt::{Decoder, Decoding};
use miracle_core::tokenizer::Special;
use miracle_experts::{Context, ExpertError};
use serde::Serialize;
use serde_json::Value;

use super::template::{self, Root, Scope};
use super::{Action, Host, LanguageModel, Location, Parse, Step, Values, Workflow};
use crate::agent::{Agent, Outcome, Trace};

/// Elements one `foreach` may run over.
pub const MAX_ITEMS: usize = 1000;

/// What a run did and returned.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub workflow: String,
    /// The declared outputs, in the file's order.
    #[serde(serialize_with = "as_map")]
    pub outputs: Vec<(String, Value)>,
    pub steps: Vec<StepRecord>,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub id: String,
    pub status: StepStatus,
    /// One per element of a foreach step, else one (none when skipped).
    pub calls: Vec<CallRecord>,
    pub output: Value,
    pub ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ran,
    /// Its `when:` did not hold; its output is nothing.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    /// The expert's input, the request asked or the prompt.
    pub input: String,
    pub output: String,
    pub attempts: u32,
    pub ms: f64,
    /// For `ask:`, the agent's own trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

fn as_map<S: serde::Serializer>(entries: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(entries.len()))?;
    for (k, v) in entries {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// A step that failed, where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub origin: String,
    pub at: Option<Location>,
    pub step: String,
    pub message: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "{}:{}:{}: ", self.origin, at.line, at.column)?,
            None => write!(f, "{}: ", self.origin)?,
        }
        write!(f, "step `{}`: {}", self.step, self.message)
    }
}

impl std::error::Error for RunError {}

/// Why one attempt failed, and whether another could go better.
struct Failure {
    message: String,
    retry: bool,
}

impl Failure {
    fn fatal(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retry: false,
        }
    }
}

struct RunScope<'r> {
    inputs: &'r Values,
    outputs: &'r BTreeMap<String, Value>,
    item: Option<(&'r Value, usize)>,
}

impl Scope for RunScope<'_> {
    fn get(&self, root: &Root) -> Result<Value, String> {
        match root {
            Root::Input(n) => self
                .inputs
                .get(n)
                .cloned()
                .ok_or_else(|| format!("no input `{n}`")),
            // A skipped step's output is nothing.
            Root::Step(n) => Ok(self.outputs.get(n).cloned().unwrap_or(Value::Null)),
            Root::Item => self
                .item
                .map(|(v, _)| v.clone())
                .ok_or_else(|| "no item here".into()),
            Root::Index => self
                .item
                .map(|(_, i)| Value::from(i))
                .ok_or_else(|| "no index here".into()),
        }
    }
}

impl Workflow {
    /// Runs with `inputs` (from [`Workflow::inputs_from_text`] or `inputs_from_json`).
    pub async fn run(&self, inputs: &Values, host: &Host<'_>) -> Result<Run, RunError> {
        let started = Instant::now();
        let mut outputs = BTreeMap::new();
        let mut records = Vec::new();
        for step in &self.steps {
            let fail = |message: String| RunError {
                origin: self.origin.clone(),
                at: step.location,
                step: step.id.clone(),
                message,
            };
            let record = self
                .step(step, inputs, &outputs, host)
                .await
                .map_err(fail)?;
            outputs.insert(step.id.clone(), record.output.clone());
            records.push(record);
        }
        let scope = RunScope {
            inputs,
            outputs: &outputs,
            item: None,
        };
        let mut declared = Vec::new();
        for (name, t) in &self.outputs {
            let value = t.value(&scope).map_err(|message| RunError {
                origin: self.origin.clone(),
                at: None,
                step: format!("outputs.{name}"),
                message,
            })?;
            declared.push((name.clone(), value));
        }
        Ok(Run {
            workflow: self.name.clone(),
            outputs: declared,
            steps: records,
            ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    async fn step(
        &self,
        step: &Step,
        inputs: &Values,
        outputs: &BTreeMap<String, Value>,
        host: &Host<'_>,
    ) -> Result<StepRecord, String> {
        let started = Instant::now();
        let scope = RunScope {
            inputs,
            outputs,
            item: None,
        };
        if let Some(when) = &step.when
            && !when.holds(&scope)?
        {
            return Ok(StepRecord {
                id: step.id.clone(),
                status: StepStatus::Skipped,
                calls: Vec::new(),
                output: Value::Null,
                ms: 0.0,
            });
        }
        let items = match &step.foreach {
            None => None,
            Some(t) => Some(match t.value(&scope)? {
                Value::Array(items) if items.len() <= MAX_ITEMS => items,
                Value::Array(items) => {
                    return Err(format!(
                        "foreach has {} elements; at most {MAX_ITEMS}",
                        items.len()
                    ));
                }
                Value::Null => Vec::new(),
                other => {
                    return Err(format!(
                        "foreach needs a list, and got {}",
                        template::kind(&other)
                    ));
                }
            }),
        };
        // A plain step runs once, with no item; a foreach step once per element.
        let each: Vec<Option<(&Value, usize)>> = match &items {
            None => vec![None],
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| Some((v, i)))
                .collect(),
        };
        let mut calls = Vec::new();
        let mut values = Vec::new();
        for item in each {
            let scope = RunScope {
                inputs,
                outputs,
                item,
            };
            let (call, value) = self
                .call(step, &scope, host)
                .await
                .map_err(|e| match item {
                    Some((v, i)) => format!("element {i} ({}): {e}", template::text(v)),
                    None => e,
                })?;
            calls.push(call);
            values.push(value);
        }
        let output = match items {
            Some(_) => Value::Array(values),
            None => values.pop().unwrap_or(Value::Null),
        };
        Ok(StepRecord {
            id: step.id.clone(),
            status: StepStatus::Ran,
            calls,
            output,
            ms: started.elapsed().as_secs_f64() * 1e3,
        })
    }

    /// One action, with its retries; its output parsed as the step asks.
    async fn call(
        &self,
        step: &Step,
        scope: &RunScope<'_>,
        host: &Host<'_>,
    ) -> Result<(CallRecord, Value), String> {
        let started = Instant::now();
        let input = match &step.action {
            Action::Expert { input, .. } => input.render(scope)?,
            Action::Ask(request) => request.render(scope)?,
            Action::Generate { prompt, .. } => prompt.render(scope)?,
        };
        let mut attempts = 0;
        let (output, trace) = loop {
            attempts += 1;
            match self.attempt(step, &input, host).await {
                Ok(done) => break done,
                Err(f) if f.retry && attempts <= step.retries => {
                    // Back off a little: 100 ms, 200 ms, 400 ms … up to 2 s.
                    let wait = Duration::from_millis(100 << (attempts - 1).min(4));
                    tokio::time::sleep(wait.min(Duration::from_secs(2))).await;
                }
                Err(f) if attempts > 1 => {
                    return Err(format!("{} (after {attempts} attempts)", f.message));
                }
                Err(f) => return Err(f.message),
            }
        };
        let value = parse(step.parse, &output)?;
        let record = CallRecord {
            input,
            output,
            attempts,
            ms: started.elapsed().as_secs_f64() * 1e3,
            trace,
        };
        Ok((record, value))
    }

    async fn attempt(
        &self,
        step: &Step,
        input: &str,
        host: &Host<'_>,
    ) -> Result<(String, Option<Trace>), Failure> {
        match &step.action {
            Action::Expert { expert, .. } => {
                let ctx = Context::with_timeout(step.timeout);
                match self.registry.call(expert, input, &ctx).await {
                    Ok(seen) => Ok((seen.text, None)),
                    Err(e) => {
                        let retry =
                            matches!(e, ExpertError::Timeout { .. } | ExpertError::Failed { .. });
                        Err(Failure {
                            message: e.to_string(),
                            retry,
                        })
                    }
                }
            }
            Action::Ask(_) => {
                let model = host
                    .model
                    .as_ref()
                    .ok_or_else(|| Failure::fatal("no language model is loaded"))?;
                let mut agent = Agent::new(
                    model.gpt,
                    model.config,
                    &model.device,
                    model.tokenizer,
                    &self.registry,
                )
                .map_err(|e| Failure::fatal(e.to_string()))?;
                agent.limits.timeout = step.timeout;
                agent.limits.expert_timeout = step.timeout;
                agent.grounded = model.grounded;
                let trace = agent
                    .run(input, &[])
                    .await
                    .map_err(|e| Failure::fatal(e.to_string()))?;
                match trace.outcome {
                    // A replaced answer is the experts' results, said plainly: still an answer.
                    Outcome::Answered | Outcome::Replaced => {
                        Ok((trace.answer.clone(), Some(trace)))
                    }
                    // A remote expert may be back on the next attempt.
                    Outcome::ExpertsFailed | Outcome::TimeLimit | Outcome::TokenLimit => {
                        Err(Failure {
                            message: format!(
                                "the agent stopped without an answer: {}",
                                trace.answer
                            ),
                            retry: true,
                        })
                    }
                }
            }
            Action::Generate { max_tokens, .. } => {
                let model = host
                    .model
                    .as_ref()
                    .ok_or_else(|| Failure::fatal("no language model is loaded"))?;
                generate(model, input, *max_tokens, step.timeout).map(|text| (text, None))
            }
        }
    }
}

/// Plain text after `prompt`, greedy, until a special token, `max_tokens` or `timeout`.
fn generate(
    model: &LanguageModel<'_>,
    prompt: &str,
    max_tokens: usize,
    timeout: Duration,
) -> Result<String, Failure> {
    let deadline = Instant::now() + timeout;
    let mut ids = model
        .tokenizer
        .encode(prompt)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    if ids.is_empty() {
        return Err(Failure::fatal("the prompt is empty"));
    }
    // Room for the answer: keep the prompt's end.
    let room = model.config.block_size.saturating_sub(max_tokens).max(1);
    if ids.len() > room {
        ids.drain(..ids.len() - room);
    }
    let mut decoder = Decoder::new(model.gpt, model.config, &model.device);
    decoder
        .feed(&ids)
        .map_err(|e| Failure::fatal(e.to_string()))?;
    let mut out = Vec::new();
    for _ in 0..max_tokens {
        if Instant::now() > deadline {
            return Err(Failure {
                message: format!("no text within {timeout:?}"),
                retry: true,
            });
        }
        let token = decoder
            .next_token(&Decoding::Greedy, None)
            .map_err(|e| Failure::fatal(e.to_string()))?;
        if Special::from_id(token).is_some() {
            break;
        }
        out.push(token);
    }
    model
        .tokenizer
        .decode(&out)
        .map(|t| t.trim().to_string())
        .map_err(|e| Failure::fatal(e.to_string()))
}

fn parse(how: Parse, text: &str) -> Result<Value, String> {
    match how {
        Parse::Text => Ok(Value::String(text.to_string())),
        Parse::Lines => Ok(template::lines(text)),
        Parse::Json => serde_json::from_str(text).map_err(|e| {
            format!(
                "the output is not JSON ({e}); it begins {:?}",
                text.chars().take(60).collect::<String>()
            )
        }),
    }
}
