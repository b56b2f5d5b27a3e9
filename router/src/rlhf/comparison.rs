//! The files of the RLHF loop, one JSON object per line (docs/RLHF.md):
//!
//! - **candidates**: a prompt (a line of an evaluation suite: id, lang, category, query,
//!   expect) and K responses the agent sampled for it, each with its steps — expert calls
//!   and their results included.
//! - **comparisons**: a candidates line plus a `ranking` of its responses (indexes, best
//!   first), who ranked it (`ranker`) and when (`at`, RFC 3339, UTC).
//!
//! Comparisons are appended one line per ranking, under an exclusive lock and synced
//! before a labeller is told it is saved, so a crash or a second labeller loses nothing
//! that was acknowledged; a torn last line left by a crash is dropped by the next append.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::reward::Ranked;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::agent::{Outcome, Trace, TracedStep};
use crate::demos::Expect;
use crate::protocol::{Dialogue, Exchange, ProtocolError, Step, render};

/// A request and what a correct run does (`expect` is absent for a request no one has
/// judged: the ranker then uses only the rules that need no expectation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

/// One sampled run, as the labeller sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub steps: Vec<TracedStep>,
    pub answer: String,
    pub outcome: Outcome,
}

impl From<Trace> for Response {
    fn from(trace: Trace) -> Self {
        Response {
            steps: trace.steps,
            answer: trace.answer,
            outcome: trace.outcome,
        }
    }
}

impl Response {
    pub fn plain_steps(&self) -> Vec<Step> {
        self.steps.iter().map(|s| s.step.clone()).collect()
    }

    /// Whether a labeller would see the same response twice: the same steps (times and
    /// token counts aside) and the same answer, where the order of the references an
    /// answer cites does not count ("[a], [b]" and "[b], [a]" are one response). A
    /// ranking between such twins teaches the reward model nothing.
    pub fn looks_the_same(&self, other: &Response) -> bool {
        let text = |step: &Step| match step {
            Step::Answer { text } => Some(references_in_order(text)),
            _ => None,
        };
        self.steps.len() == other.steps.len()
            && self.steps.iter().zip(&other.steps).all(|(a, b)| {
                a.step == b.step || text(&a.step).is_some_and(|t| Some(t) == text(&b.step))
            })
            && references_in_order(&self.answer) == references_in_order(&other.answer)
    }

    /// Per step, whether it is the result of a failed call.
    pub fn failed(&self) -> Vec<bool> {
        self.steps.iter().map(|s| s.error.is_some()).collect()
    }
}

/// `text` with its bracketed references (`[4983]`, `[csl-12]`: no spaces inside) sorted
/// into one order, each in the place of one of them; the rest is unchanged.
fn references_in_order(text: &str) -> String {
    let spans: Vec<(usize, usize)> = text
        .match_indices('[')
        .filter_map(|(start, _)| {
            let len = text[start..].find(']')?;
            let inner = &text[start + 1..start + len];
            (!inner.is_empty() && !inner.contains(char::is_whitespace) && !inner.contains('['))
                .then_some((start, start + len + 1))
        })
        .collect();
    let mut sorted: Vec<&str> = spans.iter().map(|&(a, b)| &text[a..b]).collect();
    sorted.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (&(start, end), reference) in spans.iter().zip(sorted) {
        out.push_str(&text[at..start]);
        out.push_str(reference);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// A prompt and the responses sampled for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidates {
    #[serde(flatten)]
    pub prompt: Prompt,
    pub responses: Vec<Response>,
}

/// Candidates, ranked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    #[serde(flatten)]
    pub candidates: Candidates,
    /// Indexes of `responses`, best first; every response exactly once.
    pub ranking: Vec<usize>,
    pub ranker: String,
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The OS's reason is part of the message, not a source: a chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

impl Comparison {
    /// The ranking's own check: a permutation of the responses, at least two of them.
    pub fn check(&self) -> Result<(), String> {
        let k = self.candidates.responses.len();
        if k < 2 {
            return Err(format!(
                "a comparison needs at least 2 responses, this one has {k}"
            ));
        }
        let mut seen = vec![false; k];
        for &i in &self.ranking {
            if i >= k {
                return Err(format!(
                    "ranking names response {i}, but there are only {k} (0 to {})",
                    k - 1
                ));
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("ranking names response {i} twice"));
            }
        }
        if self.ranking.len() != k {
            return Err(format!(
                "ranking orders {} of the {k} responses; it must order all of them, best first",
                self.ranking.len()
            ));
        }
        if self.ranker.trim().is_empty() {
            return Err("ranker is empty: say who (or what) ranked".into());
        }
        Ok(())
    }

    /// Every response rendered as the reward model reads it (the request and the whole
    /// assistant turn, results included), with the ranking.
    pub fn ranked(&self, tokenizer: &Tokenizer) -> Result<Ranked, ProtocolError> {
        let (sequences, written) = self
            .candidates
            .responses
            .iter()
            .map(|r| conversation(&self.candidates.prompt.query, &r.steps, tokenizer))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .unzip();
        Ok(Ranked {
            sequences,
            written,
            ranking: self.ranking.clone(),
        })
    }
}

/// A response's steps as one rendered conversation: token ids and which of them the model
/// wrote (the assistant's steps; not the request, not expert results).
pub fn conversation(
    query: &str,
    steps: &[TracedStep],
    tokenizer: &Tokenizer,
) -> Result<(Vec<u32>, Vec<bool>), ProtocolError> {
    let dialogue = Dialogue {
        system: None,
        exchanges: vec![Exchange {
            user: query.to_string(),
            steps: steps.iter().map(|s| s.step.clone()).collect(),
        }],
    };
    let rendered = render(&dialogue, tokenizer)?;
    Ok((rendered.ids, rendered.trained))
}

/// Reads a JSONL file of `T`, checking each line with `check`; every problem names the
/// file and line. Blank lines are skipped.
pub fn read_lines<T: DeserializeOwned>(
    path: &Path,
    what: &str,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<Vec<T>, FileError> {
    let bytes = std::fs::read(path).map_err(|error| FileError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| FileError::File {
        path: path.to_path_buf(),
        message: format!(
            "not UTF-8 text (byte {}): a {what} file is JSON lines",
            e.utf8_error().valid_up_to()
        ),
    })?;
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |message: String| FileError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let item: T =
            serde_json::from_str(line).map_err(|e| at(format!("not a {what} line: {e}")))?;
        check(&item).map_err(at)?;
        items.push(item);
    }
    if items.is_empty() {
        return Err(FileError::File {
            path: path.to_path_buf(),
            message: format!("no {what} lines"),
        });
    }
    Ok(items)
}

/// Reads a suite of prompts (`../shared/eval/dev.jsonl`'s format).
pub fn read_prompts(path: &Path) -> Result<Vec<Prompt>, FileError> {
    read_lines(path, "suite", |p: &Prompt| {
        if p.query.trim().is_empty() {
            Err("the query is empty".into())
        } else {
            Ok(())
        }
    })
}

pub fn read_comparisons(path: &Path) -> Result<Vec<Comparison>, FileError> {
    read_lines(path, "comparison", Comparison::check)
}

pub fn read_candidates(path: &Path) -> Result<Vec<Candidates>, FileError> {
    read_lines(path, "candidates", |c: &Candidates| {
        if c.responses.is_empty() {
            Err("no responses".into())
        } else {
            Ok(())
        }
    })
}

/// Appends `item` as one line: under an exclusive lock (other labellers, other
/// processes), as one write, synced before returning. A torn last line (a crash mid-write,
/// never acknowledged) is cut off first, so it cannot corrupt the line after it.
pub fn append_line<T: Serialize>(path: &Path, item: &T) -> Result<(), FileError> {
    let io = |error| FileError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut line = serde_json::to_string(item).expect("serialises");
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    cut_torn_tail(&mut file).map_err(io)?;
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_data().map_err(io)?;
    Ok(())
}

/// Truncates `file` after its last newline.
fn cut_torn_tail(file: &mut std::fs::File) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Scan back in chunks for the last newline.
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(p) = part.iter().rposition(|&b| b == b'\n') {
            return file.set_len(start + p as u64 + 1);
        }
        end = start;
    }
    file.set_len(0)
}

/// Now, as RFC 3339 in UTC to the second.
pub fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
