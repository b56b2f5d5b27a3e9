//! Readers for the files libraries export: JSONL (ours, BEIR/SciFact, CSL), CSV (Zotero,
//! CNKI via Excel), BibTeX and RIS (Zotero, EndNote, CNKI, NoteExpress).
//!
//! Every format parses into [`record::RecordBuilder`]s, and this module applies the rules
//! common to all: text decoding, ids for records without one, duplicate ids, strict or lenient handling.

mod bibtex;
mod csv;
mod jsonl;
pub(crate) mod record;
mod ris;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use encoding_rs::Encoding;

use crate::error::{ReadError, RecordError};
use crate::paper::Paper;
use record::RecordBuilder;

/// The file formats Miracle reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
    Bibtex,
    Ris,
}

impl Format {
    pub const NAMES: [&'static str; 4] = ["jsonl", "csv", "bibtex", "ris"];

    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "csv" | "tsv" => Some(Format::Csv),
            "bibtex" | "bib" => Some(Format::Bibtex),
            "ris" => Some(Format::Ris),
            _ => None,
        }
    }

    /// The format a file's extension names, if it names one.
    pub fn from_path(path: &Path) -> Option<Format> {
        Self::from_name(path.extension()?.to_str()?)
    }

    /// The format the first non-blank bytes suggest, for files with a telling-nothing name.
    pub fn sniff(text: &str) -> Option<Format> {
        let start = text.trim_start_matches('\u{feff}').trim_start();
        if start.starts_with('{') {
            Some(Format::Jsonl)
        } else if start.starts_with('@') {
            Some(Format::Bibtex)
        } else if start.starts_with("TY  -") {
            Some(Format::Ris)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Bibtex => "bibtex",
            Format::Ris => "ris",
        })
    }
}

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// `None`: decide from the extension, then from the content.
    pub format: Option<Format>,
    /// Skip malformed records (and count them) instead of stopping at the first.
    pub lenient: bool,
    /// `None`: UTF-8, or UTF-16 when the file starts with its byte-order mark.
    pub encoding: Option<&'static Encoding>,
    /// Longest text a single field may hold; bounds memory and index size against
    /// hostile or corrupt files.
    pub max_field_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            lenient: false,
            encoding: None,
            max_field_bytes: 1 << 20,
        }
    }
}

/// What a file held: its papers, and (when read leniently) the records that were skipped.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub papers: Vec<Paper>,
    pub skipped: Vec<RecordError>,
}

/// Looks an encoding up by its WHATWG label ("gb18030", "gbk", "utf-16le", "big5", …).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

/// Reads a literature file from disk.
pub fn read_path(path: &Path, options: &ReadOptions) -> Result<ReadReport, ReadError> {
    let bytes = std::fs::read(path).map_err(|error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    read_bytes(&bytes, path, options)
}

/// Reads a literature file already in memory; `path` names it in errors.
pub fn read_bytes(
    bytes: &[u8],
    path: &Path,
    options: &ReadOptions,
) -> Result<ReadReport, ReadError> {
    let text = decode(bytes, options.encoding).map_err(|message| ReadError::Encoding {
        path: path.to_path_buf(),
        message,
    })?;
    let format = options
        .format
        .or_else(|| Format::from_path(path))
        .or_else(|| Format::sniff(&text))
        .ok_or_else(|| ReadError::Format {
            path: path.to_path_buf(),
            message: format!(
                "cannot tell the file's format from its name or content; name it with a format ({})",
                Format::NAMES.join(", ")
            ),
        })?;
    let records = match format {
        Format::Jsonl => jsonl::parse(&text, options.max_field_bytes),
        Format::Csv => csv::parse(&text, path, options.max_field_bytes),
        Format::Bibtex => Ok(bibtex::parse(&text, options.max_field_bytes)),
        Format::Ris => Ok(ris::parse(&text, options.max_field_bytes)),
    }
    .map_err(|message| ReadError::Format {
        path: path.to_path_buf(),
        message,
    })?;
    // Text with no record in it is not an empty library but a file read wrongly (another
    // format, or an encoding that hid the records): say so rather than report 0 papers.
    if records.is_empty()
        && !text
            .trim_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
            .is_empty()
    {
        return Err(ReadError::Format {
            path: path.to_path_buf(),
            message: format!(
                "no {format} record found in it; check that it is {format} (or name its format) and its encoding"
            ),
        });
    }
    collect(records, options.lenient).map_err(|error| ReadError::Record {
        path: path.to_path_buf(),
        error,
    })
}

/// Builds papers from parsed records: gives a record without an id one made from what it
/// is ([`record::content_id`]: never its file or its place there), refuses repeated ids,
/// and either stops at the first bad record or skips and counts them.
fn collect(
    records: Vec<Result<RecordBuilder, RecordError>>,
    lenient: bool,
) -> Result<ReadReport, RecordError> {
    let mut report = ReadReport::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in records {
        let built = record.and_then(|builder| {
            let line = builder.line();
            let paper = builder.finish()?;
            if let Some(first) = seen.get(&paper.id) {
                return Err(RecordError::in_field(
                    line,
                    "id",
                    format!(
                        "`{}` is already used by the record at line {first}",
                        paper.id
                    ),
                ));
            }
            seen.insert(paper.id.clone(), line);
            Ok(paper)
        });
        match built {
            Ok(paper) => report.papers.push(paper),
            Err(error) if lenient => report.skipped.push(error),
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

/// Decodes a file to text. Without a named encoding it must be UTF-8 (a UTF-8 or UTF-16
/// byte-order mark is honoured); nothing is ever replaced silently.
fn decode(bytes: &[u8], encoding: Option<&'static Encoding>) -> Result<String, String> {
    let encoding = match encoding {
        Some(encoding) => encoding,
        None => match Encoding::for_bom(bytes)
            .map(|(e, _)| e)
            .or_else(|| utf16_without_bom(bytes))
        {
            Some(encoding) => encoding,
            None => return utf8(bytes),
        },
    };
    let (text, had_errors) = encoding.decode_with_bom_removal(bytes);
    if had_errors {
        return Err(format!(
            "the file is not valid {}; check which encoding it was saved in",
            encoding.name()
        ));
    }
    Ok(text.into_owned())
}

/// UTF-16 without a byte-order mark, told by its zero bytes: text in Latin letters or
/// digits has a zero in every other byte (even places for big-endian, odd for little), and
/// text in Chinese still has many; UTF-8 text has none. Such bytes are valid UTF-8 too, so
/// without this they would be read as text full of NULs, holding no record.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    let zeros_at = |parity: usize| {
        head.iter()
            .enumerate()
            .filter(|(i, b)| i % 2 == parity && **b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    // A quarter of the units with a zero high byte, and (nearly) none the other way.
    if odd * 4 >= pairs && even * 20 <= odd {
        Some(encoding_rs::UTF_16LE)
    } else if even * 4 >= pairs && odd * 20 <= even {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn utf8(bytes: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(err) => {
            let at = err.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            let hint = if bytes.iter().take(4096).filter(|&&b| b == 0).count() > 8 {
                "it looks like UTF-16 without a byte-order mark: read it with encoding utf-16le (or utf-16be)"
            } else {
                "exports from CNKI and other Chinese sources are often GB18030/GBK: read it with encoding gb18030, or convert it with `iconv -f GB18030 -t UTF-8`"
            };
            Err(format!(
                "not valid UTF-8 at line {line} (byte {at}); {hint}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "{\"id\":\"1\",\"title\":\"图书馆\"}\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let report = read_bytes(&bytes, Path::new("x.jsonl"), &ReadOptions::default()).unwrap();
        assert_eq!(report.papers[0].title, "图书馆");
    }

    #[test]
    fn utf16_without_bom_is_recognised() {
        let bib = "@article{wang2021,\n  title = {图书馆参考咨询 reference},\n  author = {王丽华},\n  year = {2021}\n}\n";
        for big_endian in [false, true] {
            let bytes: Vec<u8> = bib
                .encode_utf16()
                .flat_map(|u| {
                    if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect();
            let report =
                read_bytes(&bytes, Path::new("zotero.bib"), &ReadOptions::default()).unwrap();
            assert_eq!(report.papers.len(), 1, "big-endian: {big_endian}");
            assert_eq!(report.papers[0].title, "图书馆参考咨询 reference");
        }
    }

    #[test]
    fn text_without_records_is_an_error_not_an_empty_library() {
        let err = read_bytes(
            b"% just a comment\n",
            Path::new("x.bib"),
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no bibtex record found"), "{err}");
        let empty = read_bytes(b"\n", Path::new("x.bib"), &ReadOptions::default()).unwrap();
        assert!(empty.papers.is_empty());
    }

    #[test]
    fn gbk_needs_its_encoding_named() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("{\"id\":\"1\",\"title\":\"图书馆学\"}\n");
        let err = read_bytes(&gbk, Path::new("cnki.jsonl"), &ReadOptions::default()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("cnki.jsonl: not valid UTF-8 at line 1"),
            "{message}"
        );
        assert!(message.contains("gb18030"), "{message}");
        let options = ReadOptions {
            encoding: encoding_for_label("gbk"),
            ..ReadOptions::default()
        };
        let report = read_bytes(&gbk, Path::new("cnki.jsonl"), &options).unwrap();
        assert_eq!(report.papers[0].title, "图书馆学");
    }

    #[test]
    fn unknown_formats_are_named_not_guessed() {
        let err = read_bytes(b"hello", Path::new("notes"), &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("cannot tell the file's format"),
            "{err}"
        );
    }
}
