//! The pretraining text reader over real files: a file, a folder of files, and hostile
//! files (wrong encoding, broken JSON, missing or repeated ids, random bytes).

use std::path::Path;

use miracle_corpora::{ReadError, read_texts};
use proptest::prelude::*;

fn write(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn a_folder_is_read_file_by_file_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "b.jsonl",
        br#"{"id": "b:1", "text": "second file"}"#,
    );
    write(
        dir.path(),
        "a.jsonl",
        "{\"id\": \"a:1\", \"text\": \"中文 text\"}\n\n{\"id\": \"a:2\", \"text\": \"more\"}\n"
            .as_bytes(),
    );
    write(dir.path(), "notes.txt", b"not a corpus file");
    let texts = read_texts(dir.path()).unwrap();
    let ids: Vec<&str> = texts.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["a:1", "a:2", "b:1"]);
    assert_eq!(texts[0].text, "中文 text");
}

/// The message a malformed file gets, as a user reads it.
fn refusal(content: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "corpus.jsonl", content);
    let error = read_texts(&path).expect_err("a malformed corpus must be refused");
    assert!(
        error.to_string().contains("corpus.jsonl"),
        "the file is named: {error}"
    );
    error.to_string()
}

#[test]
fn malformed_lines_are_refused_with_their_line_and_what_is_wrong() {
    let good = r#"{"id": "x:1", "text": "fine"}"#;
    let cases: [(String, &str); 6] = [
        (
            format!("{good}\n{{\"id\": \"x:2\", \"text\": "),
            ":2: not a text record",
        ),
        (
            format!("{good}\n{{\"id\": \"x:2\"}}"),
            "missing field `text`",
        ),
        (
            format!("{good}\n{{\"id\": \"\", \"text\": \"t\"}}"),
            ":2: field `id`: is empty",
        ),
        (
            format!("{good}\n{{\"id\": \"x:2\", \"text\": \"  \"}}"),
            "field `text`: is empty",
        ),
        (
            format!("{good}\n{good}"),
            ":2: field `id`: `x:1` is used twice",
        ),
        (
            r#"{"id": "x:1", "text": "t", "title": "t"}"#.to_string(),
            "unknown field `title`",
        ),
    ];
    for (content, expected) in cases {
        let message = refusal(content.as_bytes());
        assert!(message.contains(expected), "{expected:?} in {message:?}");
    }
}

#[test]
fn a_file_that_is_not_utf8_says_where_it_stops_being_utf8() {
    let message = refusal(b"{\"id\": \"x:1\", \"text\": \"caf\xe9\"}");
    assert!(
        message.contains("not UTF-8 (first bad byte at offset 26)"),
        "{message}"
    );
}

#[test]
fn a_missing_path_and_an_empty_folder_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.jsonl");
    assert!(matches!(read_texts(&missing), Err(ReadError::Io { .. })));
    let message = read_texts(dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("no .jsonl files in this folder"),
        "{message}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Whatever the bytes, the reader answers with texts or an error, never a panic, and what
    /// it accepts has an id and some text.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "random.jsonl", &bytes);
        if let Ok(texts) = read_texts(&path) {
            for text in texts {
                prop_assert!(!text.id.trim().is_empty() && !text.text.trim().is_empty());
            }
        }
    }
}
