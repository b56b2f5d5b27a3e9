//! Reading the YAML that people and clients hand us: workflows, `expert --config` and
//! `serve --config`. A file must be a regular file of bounded size (a FIFO or `/dev/zero`
//! would be read until memory runs out), UTF-8 with or without a byte-order mark, and nested
//! no deeper than [`MAX_NESTING`]: the YAML scanner's work grows with the square of the
//! open brackets, so 800 KB of `[` took minutes of CPU before the parser's own depth limit
//! said no.

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;

/// The largest YAML file read.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// The deepest nesting of flow brackets (`[`, `{`) or block levels accepted; serde_yaml's
/// own recursion limit is 128 as well.
pub const MAX_NESTING: usize = 128;

/// The text of the YAML file at `path`, checked as the module says. The error says what is
/// wrong in words the file's author can act on, without the path (the caller adds it).
pub fn read_file(path: &Path, max_bytes: usize) -> Result<String, String> {
    // Checked before opening, since opening a FIFO waits for a writer; and again on the
    // open file, in case the path was swapped in between.
    let regular = |meta: std::io::Result<std::fs::Metadata>| {
        match meta {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(
            "cannot read it: it is not a regular file (a directory, a FIFO or a device); give the path of a YAML file"
                .to_string(),
        ),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
    };
    regular(std::fs::metadata(path))?;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    regular(file.metadata())?;
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() > max_bytes {
        return Err(format!(
            "the file is larger than a YAML file may be here: at most {max_bytes} bytes"
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| format!("it is not UTF-8 text ({e}); save it as UTF-8"))?;
    Ok(without_bom(&text).to_string())
}

/// `text` without a leading UTF-8 byte-order mark (editors on Windows write one).
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Where text is nested too deeply (1-based, as editors count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file is nested too deeply (over {MAX_NESTING} levels)"
        )
    }
}

/// Refuses text nested deeper than [`MAX_NESTING`], in one linear pass, before a YAML
/// parser sees it. Brackets are counted wherever they stand (in quotes too), so the check
/// errs on the side of refusing; no real configuration comes near the limit.
pub fn check_nesting(text: &str) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        // Block nesting: every `- ` that opens a sequence on the same line is a level, as
        // is indentation (counted in the columns a level takes at the least: one).
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if indent > MAX_NESTING * 2 {
            return Err(TooDeep {
                line: i + 1,
                column: MAX_NESTING * 2 + 1,
            });
        }
        for (column, c) in line.chars().enumerate() {
            match c {
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(TooDeep {
                            line: i + 1,
                            column: column + 1,
                        });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Parses YAML text as `T`, after the byte-order mark is dropped and the nesting checked.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let text = without_bom(text);
    check_nesting(text).map_err(|at| format!("line {}: {at}", at.line))?;
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = "[".repeat(800_000);
        assert_eq!(check_nesting(&deep).unwrap_err().column, MAX_NESTING + 1);
        let error = from_str::<serde_yaml::Value>(&deep).unwrap_err();
        assert!(
            error.contains("line 1: the file is nested too deeply"),
            "{error}"
        );
        assert!(check_nesting(&"- ".repeat(400_000)).is_err());
        assert!(check_nesting(&format!("a: {}1{}", "[".repeat(100), "]".repeat(100))).is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let value: serde_yaml::Value = from_str("\u{feff}name: x\n").unwrap();
        assert_eq!(value["name"], "x");
    }

    #[test]
    fn devices_fifos_and_directories_are_not_read() {
        for path in ["/dev/zero", "/dev/null", "/"] {
            let error = read_file(Path::new(path), MAX_FILE_BYTES).unwrap_err();
            assert!(error.contains("not a regular file"), "{path}: {error}");
        }
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let error = read_file(&fifo, MAX_FILE_BYTES).unwrap_err();
        assert!(error.contains("not a regular file"), "{error}");
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "a: 1\n".repeat(100)).unwrap();
        assert!(
            read_file(&big, 100)
                .unwrap_err()
                .contains("at most 100 bytes")
        );
    }
}
