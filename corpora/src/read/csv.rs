//! CSV and TSV with a header row: Zotero's "Export Collection… → CSV", CNKI and other
//! catalogues saved from Excel. Columns are matched to fields through the common aliases
//! (English and Chinese headers); the rest are kept under their header names.

use std::path::Path;

use super::record::{Field, RecordBuilder};
use crate::error::RecordError;

pub(super) fn parse(
    text: &str,
    path: &Path,
    max_field_bytes: usize,
) -> Result<Vec<Result<RecordBuilder, RecordError>>, String> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter(text, path))
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|err| format!("cannot read the header row: {err}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(|h| Field::from_alias(h).is_none()) {
        return Err(format!(
            "the header row ({}) names none of the fields Miracle reads: \
             expected columns such as id, title, author, abstract, keywords, year, doi",
            super::record::clip(&headers.join(", "))
        ));
    }
    let fields: Vec<Option<Field>> = headers.iter().map(|h| Field::from_alias(h)).collect();
    let mut records = Vec::new();
    for row in reader.records() {
        records.push(row.map_err(row_error).and_then(|row| {
            let line = row.position().map_or(0, |p| p.line() as usize);
            let mut builder = RecordBuilder::new(line, max_field_bytes);
            for ((header, field), value) in headers.iter().zip(&fields).zip(row.iter()) {
                if !value.trim().is_empty() {
                    builder.text(*field, header, value)?;
                }
            }
            Ok(builder)
        }));
    }
    Ok(records)
}

fn row_error(err: ::csv::Error) -> RecordError {
    let line = err.position().map_or(0, |p| p.line() as usize);
    let message = match err.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!(
                "the row has {len} fields but the header has {expected_len} (an unquoted delimiter?)"
            )
        }
        _ => err.to_string(),
    };
    RecordError::new(line, message)
}

/// Tab for .tsv, else whichever of comma, tab or semicolon the header row uses most
/// (Excel in Chinese and European locales writes semicolons).
fn delimiter(text: &str, path: &Path) -> u8 {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        return b'\t';
    }
    let header = text.lines().next().unwrap_or("");
    // max_by_key keeps the last of equals: comma, listed last, wins a tie.
    [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|&d| header.bytes().filter(|&b| b == d).count())
        .unwrap_or(b',')
}
