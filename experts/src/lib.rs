//! Miracle's experts — the "knowledge and reasoning" half of a MRKL system.
//!
//! An [`Expert`] is anything the router can hand a piece of text to and get an exact
//! [`Observation`] back: the built-in [`Calculator`], and whatever a plugin implements.
//! A [`Registry`] holds the experts an agent may call, built in code or from YAML, and
//! enforces each call's deadline and cancellation ([`Context`]).
//!
//! ```
//! use miracle_experts::{Calculator, Context, Registry};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let registry = Registry::new().with(Calculator::new());
//! let seen = registry.call("calculator", "(3 + 4) * 2", &Context::default()).await.unwrap();
//! assert_eq!(seen.text, "14");
//! # });
//! ```

pub mod calculator;
pub mod code;
mod context;
mod error;
mod expert;
pub mod http;
mod registry;
pub mod search;
pub mod yaml;

pub use calculator::Calculator;
pub use code::Code;
pub use context::Context;
pub use error::ExpertError;
pub use expert::{Demonstration, Expert, Grammar, Grounded, InputFormat, Observation, Syntax};
pub use http::{HttpExpert, HttpSettings};
pub use registry::{Kinds, Registry, settings as registry_settings};
pub use search::Search;
