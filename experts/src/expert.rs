//! The plugin API: one small async trait, after rig's `Tool`. An expert says who it is,
//! what input it takes (so the router can check and constrain what the model writes), shows
//! a few demonstrations (the router learns from them, the docs print them), and answers.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Context, ExpertError};

/// An expert the router can call. Implementations must be cheap to share (`Send + Sync`);
/// [`crate::Registry`] holds them behind `Arc`.
#[async_trait]
pub trait Expert: Send + Sync {
    /// The name the model writes to call it: lowercase, no spaces (`calculator`).
    fn name(&self) -> &str;

    /// One line on what it is for, shown to the model and in `miracle expert --list`.
    fn description(&self) -> &str;

    /// What input it accepts. The registry rejects input outside it before calling.
    fn input_format(&self) -> &InputFormat;

    /// A few worked examples: a request, the input the expert was given, what it returned.
    fn demonstrations(&self) -> &[Demonstration];

    /// Answers `input`. Should finish before `ctx.deadline()`; the registry drops the call
    /// at the deadline or on cancellation either way.
    async fn call(&self, input: &str, ctx: &Context) -> Result<Observation, ExpertError>;

    /// Readies what calls need once (an index built on first use, a connection), so that
    /// no call's deadline pays for it. The registry awaits it before every call, outside
    /// the deadline and within [`crate::Registry::PREPARE_LIMIT`]: after the first time it
    /// must return at once. An error fails the call it came before. By default, nothing.
    async fn prepare(&self) -> Result<(), ExpertError> {
        Ok(())
    }
}

/// What an expert returned, as text to weave back into the generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub text: String,
}

impl Observation {
    pub fn new(text: impl Into<String>) -> Self {
        Observation { text: text.into() }
    }
}

impl std::fmt::Display for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A worked example: `request` (what a person asked), `input` (what the expert was given),
/// `result` (what it returned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demonstration {
    pub request: String,
    pub input: String,
    pub result: String,
}

impl Demonstration {
    pub fn new(request: &str, input: &str, result: &str) -> Self {
        Demonstration {
            request: request.to_string(),
            input: input.to_string(),
            result: result.to_string(),
        }
    }
}

/// The input an expert accepts: a size limit and, optionally, an alphabet. The router uses
/// [`InputFormat::allows`] to keep the model's tokens inside the alphabet while it writes
/// the input (constrained decoding), and the registry checks whole inputs with
/// [`InputFormat::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFormat {
    /// For people and for the model: "an arithmetic expression, e.g. (3 + 4) * 2".
    pub summary: String,
    pub max_bytes: usize,
    /// Every character the input may contain; `None` allows any text.
    pub alphabet: Option<String>,
    /// What the model may write, beyond the alphabet.
    pub grounded: Grounded,
    /// The grammar the model writes under, beyond the alphabet.
    pub syntax: Syntax,
}

/// A grammar the router decodes an input under, one character at a time, so that a call
/// the model finishes is one the expert reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Syntax {
    /// Any text the alphabet allows.
    #[default]
    Free,
    /// An arithmetic expression as the calculator reads it
    /// ([`crate::calculator::Prefix`]).
    Arithmetic,
    /// A program of the code expert's subset of Rhai that uses only the names it declares
    /// ([`crate::code::grammar::Program`]).
    Program,
}

impl Syntax {
    /// Where an input written under this syntax starts; `None` for free text.
    pub fn start(self) -> Option<Grammar> {
        match self {
            Syntax::Free => None,
            Syntax::Arithmetic => Some(Grammar::Arithmetic(Default::default())),
            Syntax::Program => Some(Grammar::Program(Default::default())),
        }
    }
}

/// An input written so far under a [`Syntax`].
#[derive(Debug, Clone)]
pub enum Grammar {
    Arithmetic(crate::calculator::Prefix),
    Program(crate::code::grammar::Program),
}

impl Grammar {
    /// The input after `text` as well, or `None` if no input of the grammar starts so.
    pub fn after(&self, text: &str) -> Option<Grammar> {
        match self {
            Grammar::Arithmetic(p) => p.after(text).map(Grammar::Arithmetic),
            Grammar::Program(p) => p.after(text).map(Grammar::Program),
        }
    }

    /// Whether the input so far is a whole one.
    pub fn complete(&self) -> bool {
        match self {
            Grammar::Arithmetic(p) => p.complete(),
            Grammar::Program(p) => p.complete(),
        }
    }
}

/// What a model may write into an input beyond the alphabet: where the router holds it to
/// the conversation, so that an expert works on what the user said rather than on what a
/// small model likes to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grounded {
    /// Anything the format allows: a program's loop bounds, a query's year.
    #[default]
    No,
    /// Every number occurs in the conversation (the user's words, earlier results): an
    /// arithmetic expression's operands are the request's quantities. When the format also
    /// takes arithmetic (`(1 + 2) * 3`), the router counts the expert as calculating: after
    /// it returns a number, the answer waits until every number of the request has been
    /// used (the router's `coverage`).
    Numbers,
    /// The input is a clause of the user's words: a search for the topic the user named.
    Quote,
}

impl InputFormat {
    /// Any text up to `max_bytes`.
    pub fn text(summary: &str, max_bytes: usize) -> Self {
        InputFormat {
            summary: summary.to_string(),
            max_bytes,
            alphabet: None,
            grounded: Grounded::No,
            syntax: Syntax::Free,
        }
    }

    /// Only characters of `alphabet`, up to `max_bytes`.
    pub fn alphabet(summary: &str, max_bytes: usize, alphabet: &str) -> Self {
        InputFormat {
            summary: summary.to_string(),
            max_bytes,
            alphabet: Some(alphabet.to_string()),
            grounded: Grounded::No,
            syntax: Syntax::Free,
        }
    }

    /// The same format, held to the conversation as `grounded` says.
    pub fn grounded(mut self, grounded: Grounded) -> Self {
        self.grounded = grounded;
        self
    }

    /// The same format, written under `syntax`.
    pub fn syntax(mut self, syntax: Syntax) -> Self {
        self.syntax = syntax;
        self
    }

    pub fn allows(&self, c: char) -> bool {
        self.alphabet.as_ref().is_none_or(|a| a.contains(c))
    }

    /// Why `input` is outside the format, if it is.
    pub fn check(&self, input: &str) -> Result<(), String> {
        if input.trim().is_empty() {
            return Err(format!("the input is empty; expected {}", self.summary));
        }
        if input.len() > self.max_bytes {
            return Err(format!(
                "the input is {} bytes; at most {} are accepted",
                input.len(),
                self.max_bytes
            ));
        }
        if let Some((at, c)) = input.char_indices().find(|&(_, c)| !self.allows(c)) {
            return Err(format!(
                "character {c:?} at byte {at} is not allowed; expected {}",
                self.summary
            ));
        }
        Ok(())
    }
}
