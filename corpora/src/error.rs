//! What can go wrong reading a literature file, said so a person can fix it.

use std::fmt;
use std::path::PathBuf;

/// One record that could not be read: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// 1-based line where the record starts (or where the problem was found).
    pub line: usize,
    /// The source's own name for the field at fault, when one field is.
    pub field: Option<String>,
    pub message: String,
}

impl RecordError {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        RecordError {
            line,
            field: None,
            message: message.into(),
        }
    }

    pub fn in_field(line: usize, field: &str, message: impl Into<String>) -> Self {
        RecordError {
            line,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
}

impl RecordError {
    /// The problem without its position: "field `year`: …" or the bare message.
    pub fn what(&self) -> String {
        match &self.field {
            Some(field) => format!("field `{field}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.what())
    }
}

/// A file that could not be read as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The OS's reason is part of the message, not a source: an error chain printed whole
    /// (`{:#}`) would say it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("{}: {message}", path.display())]
    Encoding { path: PathBuf, message: String },

    #[error("{}: {message}", path.display())]
    Format { path: PathBuf, message: String },

    /// The first malformed record of a file read strictly.
    #[error(
        "{}:{}: {} (fix the record, or read leniently to skip malformed records)",
        path.display(), error.line, error.what()
    )]
    Record { path: PathBuf, error: RecordError },
}
