//! Running text for pretraining: prose that is not a paper (speeches, documentation,
//! dictionary glosses, help pages), one document per line of JSON Lines:
//!
//! ```text
//! {"id": "sotu:1790_george_washington_n", "text": "Fellow-Citizens of the Senate ..."}
//! ```
//!
//! The id decides the held-out split (`split::is_held_out`), as a paper's does, so it must be
//! stable and unique within its file. `scripts/prose/fetch` writes such files from the
//! packages corpora/README.md lists.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{ReadError, RecordError};

/// One document of running text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub id: String,
    pub text: String,
}

/// Reads a text corpus: one JSON Lines file, or every `*.jsonl` file of a folder in name
/// order. Strict: the first malformed line stops the read and is named, so a corpus is
/// never trained on with a part silently missing.
pub fn read_texts(path: &Path) -> Result<Vec<Text>, ReadError> {
    let io = |error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    };
    if !path.is_dir() {
        return read_file(path);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    files.retain(|f| f.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    if files.is_empty() {
        return Err(ReadError::Format {
            path: path.to_path_buf(),
            message: "no .jsonl files in this folder (scripts/prose/fetch writes them)".into(),
        });
    }
    let mut texts = Vec::new();
    for file in files {
        texts.extend(read_file(&file)?);
    }
    Ok(texts)
}

fn read_file(path: &Path) -> Result<Vec<Text>, ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let content = String::from_utf8(bytes).map_err(|e| ReadError::Encoding {
        path: path.to_path_buf(),
        message: format!(
            "not UTF-8 (first bad byte at offset {}); a text corpus is UTF-8 JSON Lines",
            e.utf8_error().valid_up_to()
        ),
    })?;
    let record = |error| ReadError::Record {
        path: path.to_path_buf(),
        error,
    };
    let mut texts = Vec::new();
    let mut ids = HashSet::new();
    for (index, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let text = parse_line(index + 1, line, &mut ids).map_err(record)?;
        texts.push(text);
    }
    Ok(texts)
}

fn parse_line(line: usize, json: &str, ids: &mut HashSet<String>) -> Result<Text, RecordError> {
    let text: Text = serde_json::from_str(json).map_err(|e| {
        RecordError::new(
            line,
            format!("not a text record ({e}); expected {{\"id\": \"…\", \"text\": \"…\"}}"),
        )
    })?;
    if text.id.trim().is_empty() {
        return Err(RecordError::in_field(line, "id", "is empty"));
    }
    if text.text.trim().is_empty() {
        return Err(RecordError::in_field(line, "text", "is empty"));
    }
    if !ids.insert(text.id.clone()) {
        return Err(RecordError::in_field(
            line,
            "id",
            format!("`{}` is used twice; ids decide the held-out split", text.id),
        ));
    }
    Ok(text)
}
