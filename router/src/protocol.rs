//! The chat and tool-call protocol, on the tokenizer's special tokens (docs/PROTOCOL.md).
//! One renderer ([`render`]) turns a [`Dialogue`] into token ids with the mask of what the
//! model is trained to write; one parser ([`parse`]) turns ids back into a dialogue. Text is
//! always encoded as text, so no user, document or expert result can forge a marker.
//!
//! ```text
//! <|system|>You are Miracle.<|end|>
//! <|user|>Roger has 5 tennis balls …<|end|>
//! <|assistant|><|think|>2 cans of 3 balls<|/think|><|call|>calculator
//! 2 * 3<|/call|><|result|>6<|/result|><|call|>calculator
//! 5 + 6<|/call|><|result|>11<|/result|><|answer|>11<|/answer|><|end|>
//! ```

use miracle_core::tokenizer::{Special, Tokenizer, TokenizerError};
use serde::{Deserialize, Serialize};

/// One step of the assistant's turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Reasoning in the model's own words.
    Think { text: String },
    /// A call the model writes: the expert's name, then its input.
    Call { expert: String, input: String },
    /// What the expert returned (or its error), forced into the sequence by the router.
    Result { text: String },
    /// The final answer shown to the user.
    Answer { text: String },
}

/// A user's request and the assistant's steps in reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub user: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialogue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub exchanges: Vec<Exchange>,
}

/// Token ids and, for each, whether the model is trained to predict it: the assistant's own
/// steps and the end of its turn are; the prompt, the turn headers and every expert result
/// are not (they are given, never generated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub ids: Vec<u32>,
    pub trained: Vec<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("expert name {0:?} is not a name: lowercase letters, digits, `_` or `-`, 1 to 64")]
    BadExpertName(String),
    #[error("token {at}: {message}")]
    Malformed { at: usize, message: String },
}

/// Whether `name` can be written in a call: what the registry's names look like.
pub fn is_expert_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

struct Renderer<'t> {
    tokenizer: &'t Tokenizer,
    out: Rendered,
}

impl Renderer<'_> {
    fn special(&mut self, token: Special, trained: bool) {
        self.out.ids.push(token.id());
        self.out.trained.push(trained);
    }

    fn text(&mut self, text: &str, trained: bool) -> Result<(), ProtocolError> {
        let ids = self.tokenizer.encode(text)?;
        self.out
            .trained
            .extend(std::iter::repeat_n(trained, ids.len()));
        self.out.ids.extend(ids);
        Ok(())
    }

    fn block(
        &mut self,
        open: Special,
        text: &str,
        close: Special,
        trained: bool,
    ) -> Result<(), ProtocolError> {
        self.special(open, trained);
        self.text(text, trained)?;
        self.special(close, trained);
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<(), ProtocolError> {
        match step {
            Step::Think { text } => self.block(Special::Think, text, Special::ThinkEnd, true),
            Step::Answer { text } => self.block(Special::Answer, text, Special::AnswerEnd, true),
            Step::Result { text } => self.block(Special::Result, text, Special::ResultEnd, false),
            Step::Call { expert, input } => {
                if !is_expert_name(expert) {
                    return Err(ProtocolError::BadExpertName(expert.clone()));
                }
                // Name and input are tokenized apart, so no token spans the newline: the
                // router decodes the name and the input under separate constraints.
                self.special(Special::Call, true);
                self.text(&format!("{expert}\n"), true)?;
                self.text(input, true)?;
                self.special(Special::CallEnd, true);
                Ok(())
            }
        }
    }
}

/// Renders a whole dialogue; every exchange's assistant turn is closed with `<|end|>`.
pub fn render(dialogue: &Dialogue, tokenizer: &Tokenizer) -> Result<Rendered, ProtocolError> {
    let mut r = Renderer {
        tokenizer,
        out: Rendered {
            ids: Vec::new(),
            trained: Vec::new(),
        },
    };
    if let Some(system) = &dialogue.system {
        r.block(Special::System, system, Special::EndOfTurn, false)?;
    }
    for exchange in &dialogue.exchanges {
        r.block(Special::User, &exchange.user, Special::EndOfTurn, false)?;
        r.special(Special::Assistant, false);
        for step in &exchange.steps {
            r.step(step)?;
        }
        r.special(Special::EndOfTurn, true);
    }
    Ok(r.out)
}

/// Renders a dialogue whose last exchange is still open: everything up to and including
/// that exchange's steps so far, so the model continues the assistant's turn.
pub fn render_prompt(
    dialogue: &Dialogue,
    tokenizer: &Tokenizer,
) -> Result<Vec<u32>, ProtocolError> {
    let mut rendered = render(dialogue, tokenizer)?;
    if !dialogue.exchanges.is_empty() {
        let end = rendered.ids.pop();
        debug_assert_eq!(end, Some(Special::EndOfTurn.id()));
    }
    Ok(rendered.ids)
}

/// Parses what [`render`] produces (and a finished model turn) back into a dialogue.
pub fn parse(ids: &[u32], tokenizer: &Tokenizer) -> Result<Dialogue, ProtocolError> {
    let mut parser = Parser {
        ids,
        at: 0,
        tokenizer,
    };
    let mut dialogue = Dialogue::default();
    if parser.peek() == Some(Special::System) {
        parser.at += 1;
        dialogue.system = Some(parser.text_until(Special::EndOfTurn)?);
    }
    while parser.at < ids.len() {
        parser.expect(Special::User)?;
        let user = parser.text_until(Special::EndOfTurn)?;
        parser.expect(Special::Assistant)?;
        let mut steps = Vec::new();
        loop {
            let at = parser.at;
            let Some(&id) = ids.get(at) else {
                return parser.malformed("the assistant's turn does not end (<|end|> missing)");
            };
            parser.at += 1;
            let step = match Special::from_id(id) {
                Some(Special::EndOfTurn) => break,
                Some(Special::Think) => Step::Think {
                    text: parser.text_until(Special::ThinkEnd)?,
                },
                Some(Special::Answer) => Step::Answer {
                    text: parser.text_until(Special::AnswerEnd)?,
                },
                Some(Special::Result) => Step::Result {
                    text: parser.text_until(Special::ResultEnd)?,
                },
                Some(Special::Call) => {
                    let text = parser.text_until(Special::CallEnd)?;
                    let (expert, input) = split_call(&text).ok_or_else(|| ProtocolError::Malformed {
                        at,
                        message: format!("a call must be an expert's name, a newline and its input; got {text:?}"),
                    })?;
                    Step::Call {
                        expert: expert.to_string(),
                        input: input.to_string(),
                    }
                }
                _ => {
                    parser.at = at;
                    return parser.malformed(
                        "expected <|think|>, <|call|>, <|result|>, <|answer|> or <|end|>",
                    );
                }
            };
            steps.push(step);
        }
        dialogue.exchanges.push(Exchange { user, steps });
    }
    Ok(dialogue)
}

/// The expert's name and its input, from the text of a call.
pub fn split_call(text: &str) -> Option<(&str, &str)> {
    let (name, input) = text.split_once('\n')?;
    is_expert_name(name).then_some((name, input))
}

struct Parser<'a> {
    ids: &'a [u32],
    at: usize,
    tokenizer: &'a Tokenizer,
}

impl Parser<'_> {
    fn peek(&self) -> Option<Special> {
        self.ids.get(self.at).and_then(|&id| Special::from_id(id))
    }

    fn malformed<T>(&self, message: &str) -> Result<T, ProtocolError> {
        Err(ProtocolError::Malformed {
            at: self.at,
            message: message.to_string(),
        })
    }

    fn expect(&mut self, token: Special) -> Result<(), ProtocolError> {
        if self.peek() != Some(token) {
            return self.malformed(&format!("expected {}", token.text()));
        }
        self.at += 1;
        Ok(())
    }

    /// Ordinary tokens up to `end` (consumed), decoded; any other special token is an error.
    fn text_until(&mut self, end: Special) -> Result<String, ProtocolError> {
        let start = self.at;
        while let Some(&id) = self.ids.get(self.at) {
            match Special::from_id(id) {
                Some(token) if token == end => {
                    let text = self.tokenizer.decode(&self.ids[start..self.at])?;
                    self.at += 1;
                    return Ok(text);
                }
                Some(other) => {
                    return self.malformed(&format!(
                        "{} inside a block that {} should close",
                        other.text(),
                        end.text()
                    ));
                }
                None if id < Special::COUNT => return self.malformed("a reserved special token"),
                None => self.at += 1,
            }
        }
        self.malformed(&format!("{} missing", end.text()))
    }
}
