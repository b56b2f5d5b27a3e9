//! JSON Lines: one object per line. Reads Miracle's own layout, BEIR's (`_id`, `title`,
//! `text`, `metadata`: SciFact) and CSL's (`id`, `title`, `abstract`, `keywords`, …) alike,
//! since field names are matched through the common aliases.

use serde_json::Value;

use super::record::RecordBuilder;
use crate::error::RecordError;

pub(super) fn parse(
    text: &str,
    max_field_bytes: usize,
) -> Result<Vec<Result<RecordBuilder, RecordError>>, String> {
    if text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('[')
    {
        return Err(
            "this is a JSON array, not JSON Lines (one object per line); convert it with \
                    `jq -c '.[]' FILE > FILE.jsonl`"
                .to_string(),
        );
    }
    Ok(text
        .split('\n')
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| parse_line(line.trim_start_matches('\u{feff}'), i + 1, max_field_bytes))
        .collect())
}

fn parse_line(
    line: &str,
    number: usize,
    max_field_bytes: usize,
) -> Result<RecordBuilder, RecordError> {
    let value: Value = serde_json::from_str(line).map_err(|err| {
        // serde_json says "at line 1 column N" of the one-line string; only the column helps.
        let mut what = err.to_string();
        if let Some(at) = what.rfind(" at line ") {
            what.truncate(at);
        }
        let hint = if err.is_eof() {
            " — the line is cut short (a truncated file?)"
        } else {
            ""
        };
        RecordError::new(
            number,
            format!("not valid JSON at column {}: {what}{hint}", err.column()),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(RecordError::new(
            number,
            "expected a JSON object on this line",
        ));
    };
    let mut builder = RecordBuilder::new(number, max_field_bytes);
    for (key, value) in map {
        builder.json(&key, value)?;
    }
    Ok(builder)
}
