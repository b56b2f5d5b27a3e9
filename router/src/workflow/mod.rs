//! Workflows: what to do with which experts, described in YAML (docs/WORKFLOWS.md).
//!
//! ```yaml
//! name: sum-of-two
//! description: Adds two numbers with the calculator.
//! inputs:
//!   a: { type: integer }
//!   b: { type: integer, default: 1 }
//! experts: [calculator]          # deny by default: steps may call only these
//! steps:
//!   - id: sum
//!     expert: calculator
//!     input: ${inputs.a} + ${inputs.b}
//! outputs:
//!   sum: ${steps.sum.output}
//! ```
//!
//! A step does one of three things — `expert:` (call one expert with `input:`), `ask:` (a
//! full agent request: the model routes to the workflow's experts) or `generate:` (plain
//! model text) — optionally `when:` a condition holds, `foreach:` element of a list, within
//! `timeout:` and with `retries:`. Steps run in order and may read only earlier steps, so a
//! workflow cannot loop. Everything is checked before anything runs ([`Workflow::load`]);
//! every problem is reported as `file:line:column: what to change`.
//!
//! - [`yaml`]: the file's shape, and positions of nodes.
//! - [`template`]: `${…}` references and filters. [`condition`]: `when:`.
//! - [`load`](Workflow::load) checks; [`run`](Workflow::run) runs.

pub mod condition;
mod load;
mod run;
pub mod template;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use burn::prelude::Device;
use miracle_core::gpt::model_dir::LoadedModel;
use miracle_core::gpt::{Gpt, GptConfig};
use miracle_core::tokenizer::Tokenizer;
use miracle_experts::{Kinds, Registry};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use condition::Condition;
pub use run::{Run, RunError, StepRecord, StepStatus};
pub use template::Template;
pub use yaml::{Location, MAX_BYTES};

/// A checked workflow, ready to run any number of times.
pub struct Workflow {
    pub name: String,
    pub description: String,
    pub inputs: Vec<Input>,
    pub steps: Vec<Step>,
    pub outputs: Vec<(String, Template)>,
    /// The experts it lists, and only those.
    registry: Registry,
    /// Where it was read from, for messages: a file name.
    origin: String,
}

/// A declared input.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub name: String,
    pub kind: Type,
    /// `None`: the input is required.
    pub default: Option<Value>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Type {
    String,
    Integer,
    Number,
    Boolean,
    /// A list of strings or numbers.
    List,
}

/// How a step's text output becomes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parse {
    /// The text as it is.
    #[default]
    Text,
    /// JSON (for experts that answer in JSON, such as a search with `format: json`).
    Json,
    /// Non-empty lines, as a list.
    Lines,
}

pub struct Step {
    pub id: String,
    pub description: Option<String>,
    pub action: Action,
    pub when: Option<Condition>,
    /// The list to run over: one `${…}`.
    pub foreach: Option<Template>,
    pub parse: Parse,
    /// For each attempt of each element.
    pub timeout: Duration,
    /// Attempts after the first, for a failed one.
    pub retries: u32,
    location: Option<Location>,
}

pub enum Action {
    Expert { expert: String, input: Template },
    Ask(Template),
    Generate { prompt: Template, max_tokens: usize },
}

/// What `ask:` and `generate:` steps run on.
#[derive(Clone)]
pub struct LanguageModel<'a> {
    pub gpt: &'a Gpt,
    pub config: &'a GptConfig,
    pub device: Device,
    pub tokenizer: &'a Tokenizer,
    /// Grounded decoding for `ask:` (see the agent).
    pub grounded: bool,
}

impl<'a> LanguageModel<'a> {
    /// A loaded model on `device`, with grounded decoding (the agent's default).
    pub fn new(loaded: &'a LoadedModel, device: &Device) -> Self {
        LanguageModel {
            gpt: &loaded.model,
            config: &loaded.config,
            device: device.clone(),
            tokenizer: &loaded.tokenizer,
            grounded: true,
        }
    }
}

/// What a workflow may use: the host's experts by name, expert kinds it may define itself,
/// and the model (without one, `ask:` and `generate:` steps are refused at load).
pub struct Host<'a> {
    pub experts: &'a Registry,
    pub kinds: &'a Kinds,
    pub model: Option<LanguageModel<'a>>,
}

/// Everything wrong with a workflow file, each problem where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub origin: String,
    pub at: Option<Location>,
    pub message: String,
}

impl Problem {
    /// A problem whose message quotes the file only in part: a 200 KB condition is not
    /// echoed back whole.
    pub fn new(origin: &str, at: Option<Location>, message: &str) -> Self {
        Problem {
            origin: origin.to_string(),
            at,
            message: shortened(message),
        }
    }
}

/// `message` with each quoted span (in backticks or double quotes) cut to 80 characters,
/// and the whole to 1,000.
fn shortened(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = &rest[open..=open];
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let close = after.find(quote).unwrap_or(after.len());
        out.push_str(&excerpt(&after[..close], 80));
        out.push_str(&after[close..(close + 1).min(after.len())]);
        rest = &after[(close + 1).min(after.len())..];
    }
    out.push_str(rest);
    excerpt(&out, 1000)
}

fn excerpt(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((at, _)) => format!(
            "{}… ({} characters in all)",
            &text[..at],
            text.chars().count()
        ),
        None => text.to_string(),
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(
                f,
                "{}:{}:{}: {}",
                self.origin, at.line, at.column, self.message
            ),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(Problem::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for LoadError {}

impl Workflow {
    /// Reads and checks the workflow in `path`.
    pub fn load(path: &std::path::Path, host: &Host<'_>) -> Result<Self, LoadError> {
        let origin = path.display().to_string();
        let problem = |message: String| LoadError {
            problems: vec![Problem {
                origin: origin.clone(),
                at: None,
                message,
            }],
        };
        let text = miracle_experts::yaml::read_file(path, MAX_BYTES).map_err(problem)?;
        Workflow::from_yaml(&text, &origin, host)
    }

    /// Checks the workflow in `text`; `origin` names it in messages.
    pub fn from_yaml(text: &str, origin: &str, host: &Host<'_>) -> Result<Self, LoadError> {
        load::load(text, origin, host)
    }

    /// The experts it may call, in the order it lists them.
    pub fn experts(&self) -> Vec<&str> {
        self.registry.names()
    }

    /// The inputs for a run from `key=value` texts, read as each input's type; defaults
    /// fill the rest.
    pub fn inputs_from_text(&self, given: &[(String, String)]) -> Result<Values, String> {
        let mut values = BTreeMap::new();
        for (key, text) in given {
            let input = self.input(key)?;
            let value = input
                .kind
                .read(text)
                .map_err(|e| format!("input `{key}`: {e}"))?;
            if values.insert(key.clone(), value).is_some() {
                return Err(format!("input `{key}` is given twice"));
            }
        }
        self.complete(values, |name| format!("give it with --input {name}=…"))
    }

    /// The inputs for a run from JSON values (the HTTP service), checked against each
    /// input's type; defaults fill the rest.
    pub fn inputs_from_json(
        &self,
        given: &serde_json::Map<String, Value>,
    ) -> Result<Values, String> {
        let mut values = BTreeMap::new();
        for (key, value) in given {
            let input = self.input(key)?;
            let value = input
                .kind
                .check(value.clone())
                .map_err(|e| format!("input `{key}`: {e}"))?;
            values.insert(key.clone(), value);
        }
        self.complete(values, |name| {
            format!("give it in the request's inputs: {{\"inputs\": {{\"{name}\": …}}}}")
        })
    }

    fn input(&self, key: &str) -> Result<&Input, String> {
        self.inputs.iter().find(|i| i.name == key).ok_or_else(|| {
            let known: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
            if known.is_empty() {
                format!(
                    "unknown input `{key}`: workflow `{}` takes no inputs",
                    self.name
                )
            } else {
                format!(
                    "unknown input `{key}`; workflow `{}` takes {}",
                    self.name,
                    known.join(", ")
                )
            }
        })
    }

    /// `values` with the defaults filled in; `how` says how the caller gives an input.
    fn complete(&self, mut values: Values, how: fn(&str) -> String) -> Result<Values, String> {
        for input in &self.inputs {
            if values.contains_key(&input.name) {
                continue;
            }
            match &input.default {
                Some(default) => {
                    values.insert(input.name.clone(), default.clone());
                }
                None => {
                    return Err(format!(
                        "input `{}` ({}) is required: {}",
                        input.name,
                        input.kind.name(),
                        how(&input.name)
                    ));
                }
            }
        }
        Ok(values)
    }
}

/// Input values by name.
pub type Values = BTreeMap<String, Value>;

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            Type::List => "list",
        }
    }

    /// A value of this type from text: a list as a JSON array or comma-separated items.
    pub fn read(self, text: &str) -> Result<Value, String> {
        let t = text.trim();
        match self {
            Type::String => Ok(Value::String(text.to_string())),
            Type::Integer => t
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("{t:?} is not an integer")),
            Type::Number => t
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Value::from)
                .ok_or_else(|| format!("{t:?} is not a number")),
            Type::Boolean => match t {
                "true" | "yes" => Ok(Value::Bool(true)),
                "false" | "no" => Ok(Value::Bool(false)),
                _ => Err(format!("{t:?} is not true or false")),
            },
            Type::List if t.starts_with('[') => serde_json::from_str(t)
                .map_err(|e| format!("not a JSON list: {e}"))
                .and_then(|v| self.check(v)),
            Type::List => Ok(Value::Array(
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| match s.parse::<i64>() {
                        Ok(n) => Value::from(n),
                        Err(_) => Value::String(s.to_string()),
                    })
                    .collect(),
            )),
        }
    }

    /// `value` if it is of this type (an integer is also a number).
    pub fn check(self, value: Value) -> Result<Value, String> {
        let fits = match (self, &value) {
            (Type::String, Value::String(_)) | (Type::Boolean, Value::Bool(_)) => true,
            (Type::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Type::Number, Value::Number(_)) => true,
            (Type::List, Value::Array(items)) => items
                .iter()
                .all(|i| matches!(i, Value::String(_) | Value::Number(_))),
            _ => false,
        };
        if fits {
            Ok(value)
        } else {
            Err(format!(
                "expected {}, got {} {}",
                self.described(),
                template::kind(&value),
                crate::clip(&value.to_string(), 60)
            ))
        }
    }

    fn described(self) -> &'static str {
        match self {
            Type::String => "a string",
            Type::Integer => "an integer",
            Type::Number => "a number",
            Type::Boolean => "true or false",
            Type::List => "a list of strings or numbers",
        }
    }
}

/// `500ms`, `30s`, `2m`: how workflows and configs write durations.
pub fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{t:?}: write a whole number and a unit, e.g. 500ms, 30s or 2m"))?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        other => Err(format!("{t:?}: unknown unit {other:?}; use ms, s or m")),
    }
}
