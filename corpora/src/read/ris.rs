//! RIS, the tagged format Zotero, EndNote, CNKI and NoteExpress all export:
//! `TY  - JOUR` opens a record, `XX  - value` lines fill it, `ER  -` closes it.

use super::record::{Field, RecordBuilder};
use crate::error::RecordError;

/// What each RIS tag means; tags not listed are kept in `extra` under the tag.
fn field(tag: &str) -> Option<Field> {
    Some(match tag {
        "ID" => Field::Id,
        "TI" | "T1" | "CT" => Field::Title,
        "AU" | "A1" => Field::Authors,
        "AB" | "N2" => Field::Abstract,
        "KW" => Field::Keywords,
        "PY" | "Y1" | "DA" => Field::Year,
        "JO" | "JF" | "T2" | "JA" | "J2" | "BT" => Field::Venue,
        "DO" => Field::Doi,
        "LA" => Field::Lang,
        _ => return None,
    })
}

/// One `XX  - value` line: two characters (a capital, then a capital or digit), two
/// spaces, a hyphen; some exporters drop the space after the hyphen.
fn tag_line(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    let tagged = bytes.len() >= 5
        && bytes[0].is_ascii_uppercase()
        && (bytes[1].is_ascii_uppercase() || bytes[1].is_ascii_digit())
        && &bytes[2..5] == b"  -";
    tagged.then(|| {
        (
            &line[..2],
            line[5..].strip_prefix(' ').unwrap_or(&line[5..]),
        )
    })
}

struct Open {
    start: usize,
    builder: RecordBuilder,
    /// The last tag and its value so far: continuation lines extend it.
    pending: Option<(String, String)>,
    failed: Option<RecordError>,
}

impl Open {
    fn flush(&mut self) {
        if let Some((tag, value)) = self.pending.take()
            && self.failed.is_none()
            && let Err(err) = self.builder.text(field(&tag), &tag, &value)
        {
            self.failed = Some(err);
        }
    }

    fn close(mut self) -> Result<RecordBuilder, RecordError> {
        self.flush();
        match self.failed {
            Some(err) => Err(err),
            None => Ok(self.builder),
        }
    }
}

pub(super) fn parse(text: &str, max_field_bytes: usize) -> Vec<Result<RecordBuilder, RecordError>> {
    let mut records = Vec::new();
    let mut open: Option<Open> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let number = i + 1;
        let line = raw.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        match (tag_line(line), open.as_mut()) {
            (Some(("TY", kind)), _) => {
                if let Some(unclosed) = open.take() {
                    records.push(Err(RecordError::new(
                        unclosed.start,
                        format!("the record starting here has no `ER  -` before the next `TY` at line {number}"),
                    )));
                }
                let mut builder = RecordBuilder::new(number, max_field_bytes);
                let failed = builder.text(None, "TY", kind).err();
                open = Some(Open {
                    start: number,
                    builder,
                    pending: None,
                    failed,
                });
            }
            (Some(("ER", _)), Some(_)) => records.extend(open.take().map(Open::close)),
            (Some((tag, value)), Some(current)) => {
                current.flush();
                current.pending = Some((tag.to_string(), value.to_string()));
            }
            // Long abstracts wrap onto untagged lines.
            (
                None,
                Some(Open {
                    pending: Some((_, value)),
                    ..
                }),
            ) => {
                value.push(' ');
                value.push_str(line.trim());
            }
            (None, Some(current)) => {
                current
                    .failed
                    .get_or_insert(RecordError::new(number, "an untagged line before any tag"));
            }
            (Some((tag, _)), None) => records.push(Err(RecordError::new(
                number,
                format!("tag `{tag}` outside a record (no `TY  -` opens it)"),
            ))),
            (None, None) => records.push(Err(RecordError::new(
                number,
                "a line that is not a RIS tag (`XX  - value`), outside any record",
            ))),
        }
    }
    if let Some(unclosed) = open {
        records.push(Err(RecordError::new(
            unclosed.start,
            "the record starting here has no `ER  -` end tag (is the file cut short?)",
        )));
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_need_two_spaces_and_a_hyphen() {
        assert_eq!(tag_line("TI  - Title"), Some(("TI", "Title")));
        assert_eq!(tag_line("A1  -Smith"), Some(("A1", "Smith")));
        assert_eq!(tag_line("ER  -"), Some(("ER", "")));
        assert_eq!(tag_line("TI - Title"), None);
        assert_eq!(tag_line("ti  - x"), None);
    }
}
