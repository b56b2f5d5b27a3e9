//! What can go wrong when an expert is called. Every variant names the expert, so a line
//! in a log or in front of a user says who failed and why.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExpertError {
    #[error("no expert is called `{name}`; the registry has: {known}")]
    Unknown { name: String, known: String },
    #[error("{expert}: the input is not accepted: {message}")]
    InvalidInput { expert: String, message: String },
    #[error("{expert}: no answer within {after:?}; the call was abandoned")]
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
