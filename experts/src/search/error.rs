//! What can go wrong with an index or a query, each saying what to do about it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("no literature index at {0}: build one with `miracle index --out {0}`")]
    Missing(PathBuf),
    #[error(
        "MIRACLE_INDEX names {0}, which holds no literature index: build one with `miracle index --out {0}` \
         (e.g. --collection csl and your own records), or unset MIRACLE_INDEX to use the shipped corpora"
    )]
    NotChosen(PathBuf),
    #[error(
        "the index at {dir} was built with schema version {found}; this miracle reads version {}: \
         rebuild it with `miracle index --out {dir}` into an empty folder",
        super::schema::VERSION
    )]
    Version { dir: PathBuf, found: u32 },
    #[error(
        "the index at {dir} is damaged ({detail}): rebuild it with `miracle index --out {dir}` into an empty folder"
    )]
    Corrupt { dir: PathBuf, detail: String },
    /// A search asked for what `miracle index --word-vectors` trains, and the index has none.
    #[error(
        "the index at {dir} has no {what}: train them with `miracle index --out {dir} --word-vectors`"
    )]
    NoVectors { dir: PathBuf, what: &'static str },
    /// Word vectors or the dense encoder beside an index are damaged; the index is not.
    #[error(
        "{path}: {detail}; train the word vectors again with `miracle index --out {} --word-vectors`",
        path.parent().unwrap_or(path).display()
    )]
    Vectors { path: PathBuf, detail: String },
    /// A lexicon file for cross-language search that cannot be read as one.
    #[error(
        "{}{}: {detail}; a lexicon holds one English word a line, a tab, then its Chinese glosses as 词一|词二",
        path.display(),
        if *line > 0 { format!(", line {line}") } else { String::new() }
    )]
    Lexicon {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("the index at {0} is being written by another process; wait for it to finish")]
    Locked(PathBuf),
    /// The OS's reason is part of the message, not a source: a chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The query itself is unusable: empty, only stop words, too long, malformed syntax.
    #[error("{0}")]
    Query(String),
}

impl SearchError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> Self {
        SearchError::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    pub(crate) fn corrupt(dir: &Path, detail: impl std::fmt::Display) -> Self {
        SearchError::Corrupt {
            dir: dir.to_path_buf(),
            detail: detail.to_string(),
        }
    }

    /// True when the caller's input (not the index) is at fault.
    pub fn is_query_error(&self) -> bool {
        matches!(self, SearchError::Query(_) | SearchError::NoVectors { .. })
    }
}
