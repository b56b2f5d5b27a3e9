//! Miracle's MRKL router — the tool-call protocol and the agent loop (YAML workflows are
//! to come).
//!
//! - [`protocol`]: the chat and tool-call format on the tokenizer's special tokens, with one
//!   renderer (ids plus the mask of what the model is trained to write) and one parser.
//! - [`agent`]: the loop in which the GPT thinks, calls experts under constrained decoding,
//!   reads their results and answers, within bounds, leaving a [`agent::Trace`].

pub mod agent;
mod constraint;
pub mod protocol;
