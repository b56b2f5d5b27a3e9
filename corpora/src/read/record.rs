//! Turns one source record — whatever its format called its fields — into a [`Paper`].
//!
//! Every reader hands its fields here, so the rules (which names mean what, how authors and
//! keywords are split, what a year looks like, how long a field may be) are written once.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::RecordError;
use crate::paper::{Lang, Paper};

/// The fields a [`Paper`] models; everything else goes to `extra`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Id,
    Title,
    Authors,
    Abstract,
    Keywords,
    Year,
    Venue,
    Doi,
    Lang,
}

impl Field {
    /// Column and key names used by JSONL and CSV exports (Zotero, EndNote, CNKI, BEIR),
    /// matched case-insensitively.
    pub(crate) fn from_alias(name: &str) -> Option<Field> {
        let lower = name.trim().to_lowercase();
        Some(match lower.as_str() {
            "id" | "_id" | "key" | "citation key" | "citekey" | "编号" => Field::Id,
            "title" | "题名" | "篇名" | "标题" => Field::Title,
            "author" | "authors" | "作者" => Field::Authors,
            "abstract" | "text" | "abstract note" | "摘要" => Field::Abstract,
            "keywords" | "keyword" | "manual tags" | "tags" | "关键词" => Field::Keywords,
            "year" | "publication year" | "date" | "年" | "年份" | "发表时间" | "出版年" => {
                Field::Year
            }
            "venue" | "journal" | "publication title" | "source" | "booktitle" | "来源"
            | "文献来源" | "刊名" => Field::Venue,
            "doi" => Field::Doi,
            "lang" | "language" | "语种" => Field::Lang,
            _ => return None,
        })
    }
}

/// Collects one record's fields, then checks and builds the [`Paper`].
pub(crate) struct RecordBuilder {
    line: usize,
    max_field_bytes: usize,
    id: Option<String>,
    title: Option<String>,
    authors: Vec<String>,
    abstract_text: Option<String>,
    keywords: Vec<String>,
    year: Option<i32>,
    venue: Option<String>,
    doi: Option<String>,
    lang: Option<Lang>,
    extra: BTreeMap<String, Value>,
}

impl RecordBuilder {
    pub(crate) fn new(line: usize, max_field_bytes: usize) -> Self {
        RecordBuilder {
            line,
            max_field_bytes,
            id: None,
            title: None,
            authors: Vec::new(),
            abstract_text: None,
            keywords: Vec::new(),
            year: None,
            venue: None,
            doi: None,
            lang: None,
            extra: BTreeMap::new(),
        }
    }

    pub(crate) fn line(&self) -> usize {
        self.line
    }

    fn error(&self, key: &str, message: impl Into<String>) -> RecordError {
        RecordError::in_field(self.line, key, message)
    }

    fn check_size(&self, key: &str, bytes: usize) -> Result<(), RecordError> {
        if bytes > self.max_field_bytes {
            return Err(self.error(
                key,
                format!(
                    "{bytes} bytes long, over the limit of {} bytes per field \
                     (raise the limit if the record is genuine)",
                    self.max_field_bytes
                ),
            ));
        }
        Ok(())
    }

    /// A field from a text format (CSV, BibTeX, RIS). `field` is what the format says the
    /// key means; `None` keeps it in `extra` under `key`. Repeated single-valued fields
    /// (two titles) keep the first and move the later ones to `extra`.
    pub(crate) fn text(
        &mut self,
        field: Option<Field>,
        key: &str,
        value: &str,
    ) -> Result<(), RecordError> {
        self.check_size(key, value.len())?;
        let value = value.trim();
        let Some(field) = field else {
            self.push_extra(key, Value::String(value.to_string()));
            return Ok(());
        };
        if value.is_empty() {
            return Ok(());
        }
        let value = value.to_string();
        match field {
            Field::Authors => self.authors.extend(split_authors(&value)),
            Field::Keywords => self.keywords.extend(split_keywords(&value)),
            Field::Year if self.year.is_none() => {
                let year = parse_year(&value).ok_or_else(|| {
                    self.error(key, format!("`{}` holds no four-digit year", clip(&value)))
                })?;
                self.year = Some(year);
            }
            Field::Lang if self.lang.is_none() => self.lang = Some(Lang::from_code(&value)),
            Field::Id | Field::Title | Field::Abstract | Field::Venue | Field::Doi
                if self.slot(field).is_none() =>
            {
                *self.slot(field) = Some(value);
            }
            // A second title, year or language: keep it, but the first one wins.
            _ => self.push_extra(key, Value::String(value)),
        }
        Ok(())
    }

    /// One author or keyword that the format has already separated from its neighbours
    /// (BibTeX's `{Barnes and Noble}` must not be split again).
    pub(crate) fn list_item(
        &mut self,
        field: Field,
        key: &str,
        value: &str,
    ) -> Result<(), RecordError> {
        self.check_size(key, value.len())?;
        let value = value.trim();
        if value.is_empty() {
            return Ok(());
        }
        match field {
            Field::Authors => self.authors.push(value.to_string()),
            Field::Keywords => self.keywords.push(value.to_string()),
            _ => return self.text(Some(field), key, value),
        }
        Ok(())
    }

    /// A field from a JSON object: the name says what it means, the value's type is checked.
    pub(crate) fn json(&mut self, key: &str, value: Value) -> Result<(), RecordError> {
        self.check_size(key, text_bytes(&value))?;
        if key == "extra" {
            // Our own JSONL writes unmodelled fields under "extra": read them back flat.
            if let Value::Object(map) = value {
                for (k, v) in map {
                    self.push_extra(&k, v);
                }
                return Ok(());
            }
        }
        let Some(field) = Field::from_alias(key) else {
            self.push_extra(key, value);
            return Ok(());
        };
        match (field, value) {
            (_, Value::Null) => Ok(()),
            (Field::Id, Value::Number(n)) => self.text(Some(field), key, &n.to_string()),
            (Field::Year, Value::Number(n)) => match n.as_i64().and_then(|y| i32::try_from(y).ok())
            {
                Some(year) if self.year.is_none() => {
                    self.year = Some(year);
                    Ok(())
                }
                Some(_) => {
                    self.push_extra(key, Value::Number(n));
                    Ok(())
                }
                None => Err(self.error(key, format!("{n} is not a year"))),
            },
            (Field::Authors | Field::Keywords, Value::Array(items)) => {
                let list = if field == Field::Authors {
                    &mut self.authors
                } else {
                    &mut self.keywords
                };
                for item in items {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => list.push(s.trim().to_string()),
                        Value::String(_) => {}
                        other => {
                            return Err(self.error(
                                key,
                                format!("expected a list of strings, found {} in it", kind(&other)),
                            ));
                        }
                    }
                }
                Ok(())
            }
            (_, Value::String(s)) => self.text(Some(field), key, &s),
            (_, other) => Err(self.error(
                key,
                format!("expected {}, found {}", expected(field), kind(&other)),
            )),
        }
    }

    fn slot(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Id => &mut self.id,
            Field::Title => &mut self.title,
            Field::Abstract => &mut self.abstract_text,
            Field::Venue => &mut self.venue,
            Field::Doi => &mut self.doi,
            _ => unreachable!("{field:?} is not a single text field"),
        }
    }

    fn push_extra(&mut self, key: &str, value: Value) {
        // A key that repeats (RIS allows it for any tag) becomes a list, in source order.
        match self.extra.get_mut(key) {
            None => {
                self.extra.insert(key.to_string(), value);
            }
            Some(Value::Array(list)) if value.is_string() => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        }
    }

    /// The paper, with its own id or, where the record has none, [`content_id`].
    pub(crate) fn finish(self) -> Result<Paper, RecordError> {
        let line = self.line;
        let title = self.title.unwrap_or_default();
        let abstract_text = self.abstract_text.unwrap_or_default();
        if title.is_empty() && abstract_text.is_empty() {
            let which = self.id.map(|id| format!("record `{id}`"));
            return Err(RecordError::new(
                line,
                format!(
                    "{} has neither a title nor an abstract",
                    which.as_deref().unwrap_or("the record")
                ),
            ));
        }
        let doi = self.doi.map(|d| normalise_doi(&d));
        let id = self.id.unwrap_or_else(|| {
            content_id(
                doi.as_deref(),
                &title,
                &abstract_text,
                &self.authors,
                self.year,
            )
        });
        let lang = self
            .lang
            .unwrap_or_else(|| Lang::detect(&format!("{title} {abstract_text}")));
        Ok(Paper {
            id,
            title,
            // After the id: an id made from the authors stays what earlier versions made.
            authors: self.authors.iter().map(|a| whole_chinese_name(a)).collect(),
            abstract_text,
            keywords: self.keywords,
            year: self.year,
            venue: self.venue,
            doi,
            lang,
            extra: self.extra,
        })
    }
}

/// "Smith, John; Doe, Jane", "张三；李四", "Smith, J. and Doe, J.": one author per entry.
pub fn split_authors(value: &str) -> Vec<String> {
    let parts: Vec<&str> = if value.contains([';', '；']) {
        value.split([';', '；']).collect()
    } else {
        split_and(value)
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// A Chinese name written in two parts, as Zotero's two-field names and other exports
/// write them ("王, 丽华", "欧阳 修"), as the one name it is ("王丽华", "欧阳修"). Names
/// with a part in another script ("Wang, Lihua", "王, L.") are left as they are.
pub fn whole_chinese_name(name: &str) -> String {
    let parts: Vec<&str> = name
        .split([',', '，', ' ', '\u{3000}'])
        .filter(|p| !p.is_empty())
        .collect();
    let all_han = parts.len() > 1
        && parts
            .iter()
            .all(|p| p.chars().all(|c| crate::is_han(c) || c == '·'));
    if all_han {
        parts.concat()
    } else {
        name.to_string()
    }
}

/// Splits on the word "and" between names, as BibTeX and some CSV exports write them.
/// One pass over one lowercased copy: ASCII lowercasing keeps every byte offset, so the
/// matches index `value` directly.
fn split_and(value: &str) -> Vec<&str> {
    let lower = value.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    for (at, _) in lower.match_indices(" and ") {
        parts.push(&value[start..at]);
        start = at + 5;
    }
    parts.push(&value[start..]);
    parts
}

/// Keywords are separated by semicolons or commas, in ASCII or full-width forms.
pub(crate) fn split_keywords(value: &str) -> Vec<String> {
    value
        .split([';', '；', ',', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The first four-digit run that is a plausible year: "2019", "2019-05-01", "2019/5", "2019年".
pub(crate) fn parse_year(value: &str) -> Option<i32> {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 4 {
                let year: i32 = value[start..i].parse().ok()?;
                if (1000..=2999).contains(&year) {
                    return Some(year);
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The id of a record that has none: `doi:` and its DOI (lower-cased, as DOIs compare),
/// else `h:` and a hash of its title (or, without one, its abstract), authors and year,
/// each folded to lower-case letters and digits. The same paper gets the same id from any
/// export, under any file name, at any place in it; two papers get the same id only when
/// they share the DOI, or the title, authors and year. The hash is FNV-1a (64 bits), fixed
/// here, so ids stay stable across versions.
pub fn content_id(
    doi: Option<&str>,
    title: &str,
    abstract_text: &str,
    authors: &[String],
    year: Option<i32>,
) -> String {
    if let Some(doi) = doi.filter(|d| !d.is_empty()) {
        return format!("doi:{}", doi.to_lowercase());
    }
    let named = if title.trim().is_empty() {
        abstract_text
    } else {
        title
    };
    let mut key = folded(named);
    for author in authors {
        key.push('\u{1f}');
        key.push_str(&folded(author));
    }
    key.push('\u{1f}');
    key.push_str(&year.map(|y| y.to_string()).unwrap_or_default());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("h:{hash:016x}")
}

/// `text` as ids and duplicate checks compare it: letters and digits only, lower-cased
/// (spacing, punctuation and case are not what makes two titles differ).
pub fn folded(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// DOIs are compared bare: "https://doi.org/10.1/x" and "doi:10.1/x" are "10.1/x".
pub fn normalise_doi(doi: &str) -> String {
    let trimmed = doi.trim();
    let lower = trimmed.to_ascii_lowercase();
    for prefix in [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ] {
        if lower.starts_with(prefix) {
            return trimmed[prefix.len()..].trim().to_string();
        }
    }
    trimmed.to_string()
}

/// Bytes of text in a JSON value: the quantity the per-field limit bounds.
fn text_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(text_bytes).sum(),
        Value::Object(map) => map.iter().map(|(k, v)| k.len() + text_bytes(v)).sum(),
        _ => 0,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn expected(field: Field) -> &'static str {
    match field {
        Field::Id => "a string or a number",
        Field::Year => "a number or a date string",
        Field::Authors | Field::Keywords => "a list of strings or a string",
        _ => "a string",
    }
}

/// At most 40 characters of a value, for error messages.
pub(crate) fn clip(value: &str) -> String {
    match value.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_found_in_dates() {
        assert_eq!(parse_year("2019-05-01"), Some(2019));
        assert_eq!(parse_year("2019年5月"), Some(2019));
        assert_eq!(parse_year("May 12, 1998"), Some(1998));
        assert_eq!(parse_year("12345"), None);
        assert_eq!(parse_year("n.d."), None);
    }

    #[test]
    fn chinese_names_in_two_parts_become_one() {
        for (two, one) in [
            ("王, 丽华", "王丽华"),
            ("欧阳 修", "欧阳修"),
            ("王，丽华", "王丽华"),
            ("王丽华", "王丽华"),
            ("Wang, Lihua", "Wang, Lihua"),
            ("王, L.", "王, L."),
            ("Smith, John", "Smith, John"),
        ] {
            assert_eq!(whole_chinese_name(two), one, "{two}");
        }
    }

    #[test]
    fn authors_split_on_semicolons_or_and() {
        assert_eq!(
            split_authors("Smith, John; Doe, Jane"),
            ["Smith, John", "Doe, Jane"]
        );
        assert_eq!(split_authors("张三；李四"), ["张三", "李四"]);
        assert_eq!(
            split_authors("Smith, J. and Doe, J. AND Roe, R."),
            ["Smith, J.", "Doe, J.", "Roe, R."]
        );
    }

    #[test]
    fn ids_come_from_what_a_record_is() {
        let authors = vec!["王丽华".to_string(), "Smith, J.".to_string()];
        let id = content_id(None, "图书馆 参考咨询", "", &authors, Some(2020));
        assert!(id.starts_with("h:") && id.len() == 18, "{id}");
        // Case, spacing and punctuation do not change it; the title, an author or the year do.
        assert_eq!(
            id,
            content_id(None, " 图书馆参考咨询。", "x", &authors, Some(2020))
        );
        assert_ne!(
            id,
            content_id(None, "图书馆参考咨询 II", "", &authors, Some(2020))
        );
        assert_ne!(
            id,
            content_id(None, "图书馆参考咨询", "", &authors[..1], Some(2020))
        );
        assert_ne!(
            id,
            content_id(None, "图书馆参考咨询", "", &authors, Some(2021))
        );
        // Fixed: the same input gives this id in every version (FNV-1a of the folded key,
        // computed independently).
        assert_eq!(
            content_id(None, "A title", "", &[], Some(2000)),
            "h:fe6156e995e771dd"
        );
        assert_eq!(id, "h:1f6add9e14e48ce9");
        assert_eq!(
            content_id(Some("10.1000/ABC"), "whatever", "", &[], None),
            "doi:10.1000/abc"
        );
    }

    #[test]
    fn dois_are_bare() {
        assert_eq!(normalise_doi("https://doi.org/10.1000/XYZ"), "10.1000/XYZ");
        assert_eq!(normalise_doi("DOI: 10.1000/x"), "10.1000/x");
    }

    #[test]
    fn wrong_json_types_name_the_field() {
        let mut b = RecordBuilder::new(7, 1 << 20);
        let err = b.json("title", serde_json::json!(["a"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 7: field `title`: expected a string, found a list"
        );
    }

    #[test]
    fn oversized_fields_are_refused() {
        let mut b = RecordBuilder::new(1, 10);
        let err = b
            .text(Some(Field::Abstract), "AB", "x".repeat(11).as_str())
            .unwrap_err();
        assert!(err.message.contains("11 bytes long"), "{err}");
    }
}
