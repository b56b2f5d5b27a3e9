//! What can go wrong when an expert is called. Every variant names the expert, so a line
//! in a log or in front of a user says who failed and why.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExpertError {
    #[error("no expert is called `{name}`; the registry has: {known}")]
    Unknown { name: String, known: String },
    #[error("{expert}: the input is not accepted: {message}")]
    InvalidInput { expert: String, message: String },
    #[error("{expert}: no answer within {}; the call was abandoned", seconds(*after))]
    Timeout { expert: String, after: Duration },
    #[error("{expert}: the call was cancelled")]
    Cancelled { expert: String },
    #[error("{expert}: {message}")]
    Failed { expert: String, message: String },
}

impl ExpertError {
    pub fn invalid(expert: &str, message: impl Into<String>) -> Self {
        ExpertError::InvalidInput {
            expert: expert.to_string(),
            message: message.into(),
        }
    }

    pub fn failed(expert: &str, message: impl Into<String>) -> Self {
        ExpertError::Failed {
            expert: expert.to_string(),
            message: message.into(),
        }
    }
}

/// A duration as people write it: 250 ms, 1.5 s (a deadline's remaining budget is a hair
/// under what was asked for; rounding shows what was asked for).
fn seconds(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1000.0 {
        format!("{} ms", ms.round())
    } else {
        format!("{} s", (ms / 100.0).round() / 10.0)
    }
}
