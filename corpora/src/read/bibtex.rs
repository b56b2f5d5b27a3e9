//! BibTeX (and the BibLaTeX field names Zotero writes): `@article{key, field = {value}, …}`.
//!
//! Values may be braced, quoted, numbers or `@string` abbreviations joined with `#`.
//! A brace that is never closed is reported at the line it was opened, and reading resumes at
//! the next `@entry` that starts a line, so one broken entry does not swallow the rest.

use std::collections::HashMap;

use super::record::{Field, RecordBuilder, split_keywords};
use crate::error::RecordError;

fn field(name: &str) -> Option<Field> {
    Some(match name {
        "title" => Field::Title,
        "author" => Field::Authors,
        "abstract" => Field::Abstract,
        "keywords" | "keyword" => Field::Keywords,
        "year" | "date" => Field::Year,
        "journal" | "journaltitle" | "booktitle" => Field::Venue,
        "doi" => Field::Doi,
        "language" | "langid" => Field::Lang,
        _ => return None,
    })
}

pub(super) fn parse(text: &str, max_field_bytes: usize) -> Vec<Result<RecordBuilder, RecordError>> {
    let mut parser = Parser::new(text);
    let mut records = Vec::new();
    while let Some(at) = parser.next_entry() {
        match parser.entry(at, max_field_bytes) {
            Ok(Some(builder)) => records.push(Ok(builder)),
            Ok(None) => {}
            Err(error) => {
                records.push(Err(error));
                parser.pos = parser.next_line_entry(at + 1);
            }
        }
    }
    records
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line_starts: Vec<usize>,
    macros: HashMap<String, String>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let months = [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ];
        let macros = months
            .iter()
            .map(|m| (m[..3].to_string(), capitalise(m)))
            .collect();
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line_starts,
            macros,
        }
    }

    fn line(&self, pos: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= pos)
    }

    /// The next `@` that opens an entry (`@name{` or `@name(`); other text is comment.
    fn next_entry(&mut self) -> Option<usize> {
        while let Some(found) = self.text[self.pos..].find('@') {
            let at = self.pos + found;
            self.pos = at + 1;
            if self.opens_entry(at) {
                return Some(at);
            }
        }
        self.pos = self.bytes.len();
        None
    }

    /// Whether `@name{` or `@name(` starts at `at`.
    fn opens_entry(&self, at: usize) -> bool {
        if self.bytes.get(at) != Some(&b'@') {
            return false;
        }
        let name_end = self.scan_name(at + 1);
        name_end > at + 1 && matches!(self.bytes.get(self.skip_ws(name_end)), Some(b'{' | b'('))
    }

    /// Where reading resumes after a broken entry: the next `@entry` at the start of a line.
    fn next_line_entry(&self, from: usize) -> usize {
        let mut search = from;
        while let Some(found) = self.text[search..].find("\n@") {
            let at = search + found + 1;
            if self.opens_entry(at) {
                return at;
            }
            search = at;
        }
        self.bytes.len()
    }

    fn scan_name(&self, mut pos: usize) -> usize {
        while pos < self.bytes.len()
            && (self.bytes[pos].is_ascii_alphanumeric() || b"_-:.+/".contains(&self.bytes[pos]))
        {
            pos += 1;
        }
        pos
    }

    fn skip_ws(&self, mut pos: usize) -> usize {
        while pos < self.bytes.len() && self.bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        pos
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> RecordError {
        RecordError::new(self.line(pos), message)
    }

    /// Parses the entry whose `@` is at `at`; `None` for @comment, @preamble and @string.
    fn entry(
        &mut self,
        at: usize,
        max_field_bytes: usize,
    ) -> Result<Option<RecordBuilder>, RecordError> {
        let name_end = self.scan_name(at + 1);
        let kind = self.text[at + 1..name_end].to_ascii_lowercase();
        let open = self.skip_ws(name_end);
        let close = if self.bytes[open] == b'{' { b'}' } else { b')' };
        let start_line = self.line(at);
        match kind.as_str() {
            "comment" | "preamble" => {
                self.pos = self.balanced(open, &kind)? + 1;
                return Ok(None);
            }
            "string" => {
                let (name, value, after) = self.assignment(open + 1, &kind)?;
                self.pos = self.expect_close(after, close, &kind)?;
                self.macros.insert(name.to_ascii_lowercase(), value);
                return Ok(None);
            }
            _ => {}
        }
        let mut builder = RecordBuilder::new(start_line, max_field_bytes);
        let key_start = self.skip_ws(open + 1);
        let key_end = self.text[key_start..]
            .find([',', close as char, '\n'])
            .map_or(self.bytes.len(), |i| key_start + i);
        let key = self.text[key_start..key_end].trim();
        if !key.is_empty() {
            builder.text(Some(Field::Id), "key", key)?;
        }
        builder.text(None, "entry_type", &kind)?;
        let mut pos = self.skip_ws(key_end);
        let label = if key.is_empty() {
            format!("@{kind} entry")
        } else {
            format!("entry `{key}`")
        };
        loop {
            match self.bytes.get(pos) {
                Some(b',') => pos = self.skip_ws(pos + 1),
                Some(&b) if b == close => {
                    self.pos = pos + 1;
                    return Ok(Some(builder));
                }
                None => {
                    return Err(RecordError::new(
                        start_line,
                        format!(
                            "{label} is never closed (unbalanced braces, or the file is cut short)"
                        ),
                    ));
                }
                Some(_) => {
                    let (name, value, after) = self.assignment(pos, &label)?;
                    self.add(&mut builder, &name.to_ascii_lowercase(), value)?;
                    pos = self.skip_ws(after);
                    if !matches!(self.bytes.get(pos), Some(b',') | None)
                        && self.bytes.get(pos) != Some(&close)
                    {
                        return Err(self.error(
                            pos,
                            format!("in {label}: expected `,` after field `{name}`"),
                        ));
                    }
                }
            }
        }
    }

    fn expect_close(&self, pos: usize, close: u8, what: &str) -> Result<usize, RecordError> {
        let pos = self.skip_ws(pos);
        if self.bytes.get(pos) == Some(&close) {
            Ok(pos + 1)
        } else {
            Err(self.error(pos, format!("@{what} is not closed where expected")))
        }
    }

    /// `name = value # value …` starting at `pos`; returns the end position.
    fn assignment(&self, pos: usize, label: &str) -> Result<(String, String, usize), RecordError> {
        let start = self.skip_ws(pos);
        let name_end = self.scan_name(start);
        if name_end == start {
            return Err(self.error(start, format!("in {label}: expected a field name")));
        }
        let name = self.text[start..name_end].to_string();
        let eq = self.skip_ws(name_end);
        if self.bytes.get(eq) != Some(&b'=') {
            return Err(self.error(eq, format!("in {label}: expected `=` after `{name}`")));
        }
        let mut text = String::new();
        let mut pos = self.skip_ws(eq + 1);
        loop {
            let (piece, after) = self.value(pos, label, &name)?;
            text.push_str(&piece);
            let next = self.skip_ws(after);
            if self.bytes.get(next) == Some(&b'#') {
                pos = self.skip_ws(next + 1);
            } else {
                return Ok((name, text, after));
            }
        }
    }

    fn value(&self, pos: usize, label: &str, name: &str) -> Result<(String, usize), RecordError> {
        match self.bytes.get(pos) {
            Some(b'{') => {
                let end = self.balanced(pos, &format!("field `{name}` of {label}"))?;
                Ok((self.text[pos + 1..end].to_string(), end + 1))
            }
            Some(b'"') => {
                let end = self.quoted(pos, label, name)?;
                Ok((self.text[pos + 1..end].to_string(), end + 1))
            }
            Some(b) if b.is_ascii_alphanumeric() => {
                let end = self.scan_name(pos);
                let word = &self.text[pos..end];
                if word.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok((word.to_string(), end));
                }
                match self.macros.get(&word.to_ascii_lowercase()) {
                    Some(expansion) => Ok((expansion.clone(), end)),
                    None => Err(self.error(
                        pos,
                        format!("in {label}: field `{name}` uses `{word}`, which no @string defines (put the value in braces)"),
                    )),
                }
            }
            _ => Err(self.error(
                pos,
                format!(
                    "in {label}: field `{name}` has no value (expected {{…}}, \"…\" or a number)"
                ),
            )),
        }
    }

    /// The position of the delimiter matching the `{` (or `(`) at `open`. A new `@entry`
    /// at the start of a line before it closes means a brace was left open: that is
    /// reported, not swallowed.
    fn balanced(&self, open: usize, what: &str) -> Result<usize, RecordError> {
        let (opening, closing) = if self.bytes[open] == b'(' {
            (b'(', b')')
        } else {
            (b'{', b'}')
        };
        let mut depth = 0usize;
        let mut pos = open;
        while pos < self.bytes.len() {
            match self.bytes[pos] {
                b'\\' => pos += 1,
                b if b == opening => depth += 1,
                b if b == closing => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(pos);
                    }
                }
                b'\n' if self.opens_entry(pos + 1) => break,
                _ => {}
            }
            pos += 1;
        }
        Err(self.error(
            open,
            format!("{what}: the `{{` opened here is never closed (unbalanced braces)"),
        ))
    }

    fn quoted(&self, open: usize, label: &str, name: &str) -> Result<usize, RecordError> {
        let mut depth = 0usize;
        let mut pos = open + 1;
        while pos < self.bytes.len() {
            match self.bytes[pos] {
                b'\\' => pos += 1,
                b'{' => depth += 1,
                b'}' => depth = depth.saturating_sub(1),
                b'"' if depth == 0 => return Ok(pos),
                b'\n' if self.opens_entry(pos + 1) => break,
                _ => {}
            }
            pos += 1;
        }
        Err(self.error(
            open,
            format!("in {label}: the quoted value of `{name}` is never closed"),
        ))
    }

    fn add(&self, builder: &mut RecordBuilder, name: &str, raw: String) -> Result<(), RecordError> {
        match field(name) {
            Some(Field::Authors) => {
                for author in split_top_level_and(&raw) {
                    builder.list_item(Field::Authors, name, &clean(author))?;
                }
                Ok(())
            }
            Some(Field::Keywords) => {
                for keyword in split_keywords(&clean(&raw)) {
                    builder.list_item(Field::Keywords, name, &keyword)?;
                }
                Ok(())
            }
            other => builder.text(other, name, &clean(&raw)),
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Splits an author list on " and " outside braces: `{Barnes and Noble}` is one author.
fn split_top_level_and(value: &str) -> Vec<&str> {
    let bytes = value.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_ascii_whitespace() => {
                let rest = &value[i + 1..];
                let word_end = rest.find(|c: char| c.is_ascii_whitespace());
                if word_end == Some(3) && rest[..3].eq_ignore_ascii_case("and") {
                    parts.push(&value[start..i]);
                    start = i + 5;
                    i = start;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&value[start.min(value.len())..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// LaTeX to plain text: braces dropped, escapes and common accents resolved, whitespace
/// collapsed. Formatting commands (`\emph`, `\textit`, …) vanish, their argument stays.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' => {}
            '~' => out.push(' '),
            '\\' => match chars.next() {
                Some(accent @ ('"' | '\'' | '`' | '^' | '~')) => {
                    while chars.peek() == Some(&'{') {
                        chars.next();
                    }
                    if let Some(letter) = chars.next() {
                        out.push(accented(accent, letter).unwrap_or(letter));
                    }
                }
                Some(letter) if letter.is_ascii_alphabetic() => {
                    let mut command = String::from(letter);
                    while let Some(&next) = chars.peek().filter(|c| c.is_ascii_alphabetic()) {
                        command.push(next);
                        chars.next();
                    }
                    out.push_str(match command.as_str() {
                        "ss" => "ß",
                        "o" => "ø",
                        "O" => "Ø",
                        "aa" => "å",
                        "ae" => "æ",
                        "l" => "ł",
                        _ => "",
                    });
                }
                Some(other) => out.push(other),
                None => {}
            },
            c if c.is_whitespace() => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out.trim_end().to_string()
}

fn accented(accent: char, letter: char) -> Option<char> {
    let table: &[(char, &str, &str)] = &[
        ('"', "aeiouyAEIOU", "äëïöüÿÄËÏÖÜ"),
        ('\'', "aeiouyAEIOUcnsz", "áéíóúýÁÉÍÓÚćńśź"),
        ('`', "aeiouAEIOU", "àèìòùÀÈÌÒÙ"),
        ('^', "aeiouAEIOU", "âêîôûÂÊÎÔÛ"),
        ('~', "anoANO", "ãñõÃÑÕ"),
    ];
    let (_, plain, marked) = table.iter().find(|(a, _, _)| *a == accent)?;
    let index = plain.chars().position(|c| c == letter)?;
    marked.chars().nth(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latex_is_cleaned() {
        assert_eq!(
            clean("Schr{\\\"o}dinger's \\emph{cat} \\& {DNA}"),
            "Schrödinger's cat & DNA"
        );
        assert_eq!(clean("  multi\n   line  "), "multi line");
    }

    #[test]
    fn corporate_authors_stay_whole() {
        assert_eq!(
            split_top_level_and("Smith, John and {Barnes and Noble} AND Doe, J."),
            ["Smith, John", "{Barnes and Noble}", "Doe, J."]
        );
    }
}
