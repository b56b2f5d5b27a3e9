//! Citations of a [`Paper`] in APA (7th edition) and GB/T 7714-2015 (the Chinese national
//! standard for references), from whatever metadata the collection has.

use miracle_corpora::Paper;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Apa,
    /// GB/T 7714-2015, sequential-numbering form without the number.
    Gbt,
}

/// How italics are written: APA sets the journal and its volume, and a book's or thesis's
/// title, in italics; GB/T 7714 uses none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Markup {
    /// No italics: for terminals and the model's context.
    #[default]
    Plain,
    /// `*Journal*`.
    Markdown,
    /// `<i>Journal</i>`, with the text escaped.
    Html,
}

impl Markup {
    fn italic(self, text: &str) -> String {
        match self {
            Markup::Plain => text.to_string(),
            Markup::Markdown => format!("*{text}*"),
            Markup::Html => format!("<i>{text}</i>"),
        }
    }

    /// Text as the markup needs it: HTML escaped; the others as they are.
    fn text(self, text: &str) -> String {
        match self {
            Markup::Html => text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;"),
            _ => text.to_string(),
        }
    }
}

impl Style {
    pub fn cite(self, paper: &Paper) -> String {
        self.cite_marked(paper, Markup::Plain)
    }

    /// The citation with italics in `markup` (APA's; GB/T 7714 has none, so only HTML
    /// escaping applies to it).
    pub fn cite_marked(self, paper: &Paper, markup: Markup) -> String {
        match self {
            Style::Apa => apa(paper, markup),
            Style::Gbt => markup.text(&gbt(paper)),
        }
    }
}

/// A personal name split into surname and given names, or a name kept whole (Chinese names,
/// organisations, single words).
enum Name<'a> {
    Western {
        surname: &'a str,
        given: Vec<&'a str>,
    },
    Whole(&'a str),
}

fn parse_name(name: &str) -> Name<'_> {
    let name = name.trim();
    if name
        .chars()
        .any(|c| !c.is_ascii() && c.is_alphabetic() && !c.is_lowercase() && !c.is_uppercase())
    {
        return Name::Whole(name); // CJK and other caseless scripts: the name as written
    }
    if let Some((surname, given)) = name.split_once(',') {
        return Name::Western {
            surname: surname.trim(),
            given: given.split_whitespace().collect(),
        };
    }
    let mut words: Vec<&str> = name.split_whitespace().collect();
    match words.pop() {
        Some(surname) if !words.is_empty() => Name::Western {
            surname,
            given: words,
        },
        _ => Name::Whole(name),
    }
}

/// First letters of given names (hyphenated ones keep the hyphen: Jean-Paul → J.-P.).
fn initials(given: &[&str], dot: &str) -> Vec<String> {
    given
        .iter()
        .map(|g| {
            g.split('-')
                .filter_map(|part| part.chars().next())
                .map(|c| format!("{}{dot}", c.to_uppercase()))
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

fn apa_name(name: &str) -> String {
    match parse_name(name) {
        Name::Western { surname, given } if !given.is_empty() => {
            format!("{surname}, {}", initials(&given, ".").join(" "))
        }
        Name::Western { surname, .. } => surname.to_string(),
        Name::Whole(whole) => whole.to_string(),
    }
}

fn apa_authors(authors: &[String]) -> String {
    let names: Vec<String> = authors.iter().map(|a| apa_name(a)).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first}, & {second}"),
        // APA 7: up to 20 authors listed; beyond that the first 19, an ellipsis, the last.
        _ if names.len() > 20 => format!(
            "{}, . . . {}",
            names[..19].join(", "),
            names[names.len() - 1]
        ),
        [init @ .., last] => format!("{}, & {last}", init.join(", ")),
    }
}

fn with_period(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '?', '!', '。', '？', '！']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

fn apa(paper: &Paper, markup: Markup) -> String {
    let m = |text: &str| markup.text(text);
    let d = Details::of(paper);
    let year = paper.year.map_or("n.d.".to_string(), |y| y.to_string());
    let venue = paper
        .venue
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let kind = gbt_kind(paper, venue);
    let standalone = matches!(kind.code, "M" | "D" | "R" | "EB/OL") && !kind.part;
    let title = match paper.lang {
        miracle_corpora::Lang::En => sentence_case(&paper.title, &paper.abstract_text),
        _ => paper.title.clone(),
    };
    let title = m(title.trim().trim_end_matches('.'));
    let mut title = if standalone {
        markup.italic(&title)
    } else {
        title
    };
    // A book's edition and a thesis's kind follow its title, before the period.
    if kind.code == "M"
        && !kind.part
        && let Some(ed) = d.edition.as_deref()
    {
        title.push_str(&format!(" ({}.)", edition(ed, false)));
    }
    if kind.code == "D" {
        let what = thesis_kind(paper, &d);
        match d.school.as_deref().or(d.publisher.as_deref()).or(venue) {
            Some(school) => title.push_str(&format!(" [{what}, {}]", m(school))),
            None => title.push_str(&format!(" [{what}]")),
        }
    }
    let title = with_period(&title);
    let mut parts = match (paper.authors.is_empty(), d.editors.is_empty() || kind.part) {
        // An edited book: the editors stand where the authors would.
        (true, false) => vec![
            format!(
                "{} ({}).",
                m(&apa_authors(&d.editors)),
                eds(d.editors.len())
            ),
            format!("({year})."),
            title,
        ],
        (true, true) => vec![title, format!("({year}).")],
        (false, _) => vec![
            with_period(&m(&apa_authors(&paper.authors))),
            format!("({year})."),
            title,
        ],
    };
    let pages = d.pages.as_deref().map(|p| p.replace('-', "–"));
    match (kind.code, kind.part, venue) {
        ("J", _, Some(venue)) => {
            // Journal, volume (italic), issue, pages.
            let mut source = markup.italic(&m(venue));
            if let Some(volume) = d.volume.as_deref() {
                source.push_str(&format!(", {}", markup.italic(&m(volume))));
                if let Some(issue) = d.issue.as_deref() {
                    source.push_str(&format!("({})", m(issue)));
                }
            }
            if let Some(pages) = &pages {
                source.push_str(&format!(", {pages}"));
            }
            parts.push(with_period(&source));
        }
        (_, true, Some(venue)) => {
            // A chapter or a paper in proceedings: "In E. Editor (Ed.), Book (pp. 1–9)."
            let mut source = String::from("In ");
            if !d.editors.is_empty() {
                source.push_str(&format!(
                    "{} ({}), ",
                    m(&apa_editors(&d.editors)),
                    eds(d.editors.len())
                ));
            }
            source.push_str(&markup.italic(&m(venue)));
            if let Some(pages) = &pages {
                source.push_str(&format!(" (pp. {pages})"));
            }
            parts.push(with_period(&source));
            if let Some(publisher) = d.publisher.as_deref() {
                parts.push(with_period(&m(publisher)));
            }
        }
        ("D", _, _) => {}
        (_, _, venue) => {
            if let Some(source) = d.publisher.as_deref().or(venue) {
                parts.push(with_period(&m(source)));
            }
        }
    }
    if let Some(doi) = paper.doi.as_deref().filter(|d| !d.trim().is_empty()) {
        parts.push(m(&format!("https://doi.org/{}", doi.trim())));
    } else if let Some(url) = d.url.as_deref() {
        parts.push(m(url));
    }
    parts.join(" ")
}

/// A Title Case title in APA's sentence case: words lowercased but the first, the first
/// after a colon, acronyms and other words with capitals inside (BM25, GAPDH, iPhone), and
/// proper nouns. A proper noun is known from `context` (the abstract), where it is
/// capitalised mid-sentence; without one, or when the title is not in Title Case, the
/// title is kept as exported, since lowercasing "United States" would be worse than
/// leaving "Framework" capitalised.
pub fn sentence_case(title: &str, context: &str) -> String {
    let capitalised = |word: &str| {
        let mut letters = word.chars().filter(|c| c.is_alphabetic());
        letters.next().is_some_and(char::is_uppercase)
            && letters.clone().any(char::is_lowercase)
            && !letters.any(char::is_uppercase)
    };
    let core = |word: &str| {
        word.trim_matches(|c: char| !c.is_alphanumeric())
            .to_string()
    };
    // Words of four letters or more, hyphenated parts apart; acronyms do not count.
    let long: Vec<&str> = title
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .filter(|w| w.chars().any(char::is_lowercase))
        .collect();
    let title_case =
        long.len() >= 2 && long.iter().filter(|w| capitalised(w)).count() * 5 >= long.len() * 3;
    if !title_case || context.trim().is_empty() {
        return title.to_string();
    }
    // Words the context capitalises where a sentence does not begin.
    let mut proper = std::collections::HashSet::new();
    let mut sentence_start = true;
    for word in context.split_whitespace() {
        if !sentence_start && capitalised(word) {
            proper.insert(core(word));
        }
        sentence_start = word.ends_with(['.', '?', '!', ':']);
    }
    let mut out: Vec<String> = Vec::new();
    let mut keep_next = true;
    for word in title.split_whitespace() {
        let lowered = word
            .split('-')
            .enumerate()
            .map(|(i, part)| {
                let first = keep_next && i == 0;
                if first || !capitalised(part) || proper.contains(&core(part)) {
                    part.to_string()
                } else {
                    let mut chars = part.chars();
                    chars
                        .next()
                        .map(|c| c.to_lowercase().chain(chars).collect())
                        .unwrap_or_default()
                }
            })
            .collect::<Vec<_>>()
            .join("-");
        keep_next = word.ends_with([':', '?', '!', '.', '—']);
        out.push(lowered);
    }
    out.join(" ")
}

/// APA's words for a thesis: "Doctoral dissertation" or "Master's thesis", from the
/// export's own words or its entry type.
fn thesis_kind(paper: &Paper, d: &Details) -> &'static str {
    let said = d
        .thesis
        .as_deref()
        .or(document_type(paper))
        .unwrap_or_default()
        .to_lowercase();
    if said.contains("master") || said.contains("硕士") {
        "Master's thesis"
    } else {
        "Doctoral dissertation"
    }
}

fn gbt_name(name: &str) -> String {
    match parse_name(name) {
        Name::Western { surname, given } => {
            let mut out = surname.to_uppercase();
            for initial in initials(&given, "") {
                out.push(' ');
                out.push_str(&initial);
            }
            out
        }
        Name::Whole(whole) => whole.to_string(),
    }
}

/// What a citation needs beyond the fields a [`Paper`] models, read from its `extra` under
/// the names the exports use (RIS tags, BibTeX fields, Zotero's CSV columns) or under the
/// canonical names the index stores them by ([`Details::into_extra`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// `207-217`, or a single page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The university of a thesis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub editors: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When an online resource was read (`2024-05-01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessed: Option<String>,
    /// A thesis's kind as the export says it ("Doctoral dissertation", "master's thesis").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thesis: Option<String>,
    /// The full date of publication or update (`2001-12-19`), where the export has more
    /// than the year: an online resource is cited by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The names each detail goes by, matched case-insensitively; the canonical name first.
const NAMES: &[(&str, &[&str])] = &[
    ("volume", &["volume", "vl"]),
    ("issue", &["issue", "is", "number"]),
    ("pages", &["pages", "page", "pp"]),
    (
        "publisher",
        &["publisher", "pb", "institution", "organization"],
    ),
    ("place", &["place", "cy", "address", "location", "pp_place"]),
    ("school", &["school", "university"]),
    ("editors", &["editors", "editor", "ed", "a2", "a3"]),
    ("edition", &["edition", "et"]),
    ("url", &["url", "ur", "link"]),
    ("accessed", &["accessed", "access date", "urldate", "y2"]),
    ("thesis", &["thesis", "thesis type", "m3"]),
    ("date", &["date", "da", "issued"]),
];

impl Details {
    pub fn of(paper: &Paper) -> Details {
        let values = |canonical: &str| -> Vec<String> {
            let names = NAMES
                .iter()
                .find(|(c, _)| *c == canonical)
                .map_or(&[][..], |(_, n)| n);
            for name in names {
                let found = paper
                    .extra
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name));
                if let Some((_, value)) = found {
                    let list: Vec<String> = match value {
                        serde_json::Value::Array(items) => items
                            .iter()
                            .filter_map(|v| v.as_str().map(str::trim).map(String::from))
                            .collect(),
                        other => other
                            .as_str()
                            .map(str::trim)
                            .map(String::from)
                            .into_iter()
                            .collect(),
                    };
                    let list: Vec<String> = list.into_iter().filter(|v| !v.is_empty()).collect();
                    if !list.is_empty() {
                        return list;
                    }
                }
            }
            Vec::new()
        };
        let one = |canonical: &str| values(canonical).into_iter().next();
        let pages = one("pages").or_else(|| {
            // RIS gives the first and last page apart.
            let get = |tag: &str| {
                paper
                    .extra
                    .get(tag)
                    .and_then(|v| v.as_str())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            match (get("SP"), get("EP")) {
                (Some(start), Some(end)) if start != end => Some(format!("{start}-{end}")),
                (Some(start), _) => Some(start.to_string()),
                _ => None,
            }
        });
        let editors = values("editors")
            .iter()
            .flat_map(|e| miracle_corpora::split_authors(e))
            .map(|e| miracle_corpora::whole_chinese_name(&e))
            .collect();
        Details {
            volume: one("volume"),
            issue: one("issue"),
            pages: pages.map(|p| p.replace(['–', '—'], "-").replace("--", "-")),
            publisher: one("publisher"),
            place: one("place"),
            school: one("school"),
            editors,
            edition: one("edition"),
            url: one("url"),
            accessed: one("accessed"),
            thesis: one("thesis"),
            date: one("date").map(|d| d.replace('/', "-").trim_end_matches('-').to_string()),
        }
    }

    /// The details as `extra` entries under their canonical names: what the index stores
    /// and gives back, so that a search's citations hold them.
    pub fn into_extra(self) -> Vec<(String, serde_json::Value)> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// `Ed.` or `Eds.`, as APA writes after editors' names.
fn eds(n: usize) -> &'static str {
    if n == 1 { "Ed." } else { "Eds." }
}

/// An editor as APA writes one inside a reference: initials first ("E. E. Editor").
fn apa_editor(name: &str) -> String {
    match parse_name(name) {
        Name::Western { surname, given } if !given.is_empty() => {
            format!("{} {surname}", initials(&given, ".").join(" "))
        }
        Name::Western { surname, .. } => surname.to_string(),
        Name::Whole(whole) => whole.to_string(),
    }
}

fn apa_editors(editors: &[String]) -> String {
    let names: Vec<String> = editors.iter().map(|e| apa_editor(e)).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first, second] => format!("{first} & {second}"),
        [init @ .., last] => format!("{}, & {last}", init.join(", ")),
    }
}

/// An edition as the export gives it, or from its number: "2nd ed." / "第2版" forms.
fn edition(text: &str, chinese: bool) -> String {
    let text = text.trim();
    match text.parse::<u32>() {
        Ok(n) if chinese => format!("{n}版"),
        Ok(n) => {
            let suffix = match (n % 10, n % 100) {
                (1, 11) | (2, 12) | (3, 13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            };
            format!("{n}{suffix} ed")
        }
        Err(_) => text.trim_end_matches('.').to_string(),
    }
}

/// "Place: Publisher", or whichever there is.
fn place_and_publisher(place: Option<&str>, publisher: Option<&str>) -> Option<String> {
    match (place, publisher) {
        (Some(place), Some(publisher)) => Some(format!("{place}: {publisher}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_string()),
        (None, None) => None,
    }
}

fn is_chinese(paper: &Paper) -> bool {
    matches!(paper.lang, miracle_corpora::Lang::Zh)
}

fn gbt(paper: &Paper) -> String {
    let d = Details::of(paper);
    let mut out = String::new();
    if !paper.authors.is_empty() {
        out.push_str(&gbt_names(&paper.authors, is_chinese(paper)));
        out.push_str(". ");
    }
    out.push_str(paper.title.trim().trim_end_matches(['.', '。']));
    let venue = paper
        .venue
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let kind = gbt_kind(paper, venue);
    out.push_str(&format!("[{}]", kind.code));
    let year = paper.year.map(|y| y.to_string());
    let pages = d.pages.as_deref();
    match kind.code {
        _ if kind.part => {
            // A part of a work: "题名[C]//编者. 论文集名. 出版地: 出版者, 出版年: 页码".
            if !d.editors.is_empty() {
                out.push_str("//");
                out.push_str(&gbt_names(&d.editors, is_chinese(paper)));
                out.push_str(". ");
                out.push_str(venue.unwrap_or_default());
            } else if let Some(venue) = venue {
                out.push_str(&format!("//{venue}"));
            }
            let place = place_and_publisher(d.place.as_deref(), d.publisher.as_deref());
            out.push_str(&published(place, year.as_deref(), pages));
        }
        "J" => {
            // "刊名, 年, 卷(期): 页码".
            let mut source: Vec<String> = venue.into_iter().map(String::from).collect();
            let mut numbers = String::new();
            if let Some(year) = &year {
                numbers.push_str(year);
            }
            if let Some(volume) = d.volume.as_deref() {
                numbers.push_str(&format!(", {volume}"));
            }
            if let Some(issue) = d.issue.as_deref() {
                numbers.push_str(&format!("({issue})"));
            }
            if let Some(pages) = pages {
                numbers.push_str(&format!(": {pages}"));
            }
            let numbers = numbers.trim_start_matches(", ").to_string();
            if !numbers.is_empty() {
                source.push(numbers);
            }
            if !source.is_empty() {
                out.push_str(&format!(". {}", source.join(", ")));
            }
        }
        "EB/OL" => {
            // "题名[EB/OL]. (更新日期)[引用日期]. 获取路径".
            let mut dates = String::new();
            if let Some(date) = d.date.as_deref().or(year.as_deref()) {
                dates.push_str(&format!("({date})"));
            }
            if let Some(accessed) = d.accessed.as_deref() {
                dates.push_str(&format!("[{accessed}]"));
            }
            if !dates.is_empty() {
                out.push_str(&format!(". {dates}"));
            }
            if let Some(url) = d.url.as_deref() {
                out.push_str(&format!(". {url}"));
            }
        }
        code => {
            // Books, theses, reports: "版本. 出版地: 出版者, 出版年: 页码".
            if code == "M"
                && let Some(ed) = d.edition.as_deref()
            {
                out.push_str(&format!(". {}", edition(ed, is_chinese(paper))));
            }
            let who = match code {
                "D" => d.school.as_deref().or(d.publisher.as_deref()),
                _ => d.publisher.as_deref(),
            }
            .or(venue);
            let place = place_and_publisher(d.place.as_deref(), who);
            out.push_str(&published(place, year.as_deref(), pages));
        }
    }
    out.push('.');
    if let Some(doi) = paper
        .doi
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        out.push_str(&format!(" DOI:{doi}."));
    }
    out
}

/// At most three names, then "等" (Chinese) or "et al.".
fn gbt_names(names: &[String], chinese: bool) -> String {
    let mut out = names
        .iter()
        .take(3)
        .map(|a| gbt_name(a))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 3 {
        out.push_str(if chinese { ", 等" } else { ", et al" });
    }
    out
}

/// ". 出版地: 出版者, 出版年: 页码" from whichever parts there are; a part of a work
/// without a place or publisher keeps GB/T's ". 出版年".
fn published(place: Option<String>, year: Option<&str>, pages: Option<&str>) -> String {
    let mut out = String::new();
    match (place, year) {
        (Some(place), Some(year)) => out.push_str(&format!(". {place}, {year}")),
        (Some(place), None) => out.push_str(&format!(". {place}")),
        (None, Some(year)) => out.push_str(&format!(". {year}")),
        (None, None) => {}
    }
    if let Some(pages) = pages {
        out.push_str(&format!(": {pages}"));
    }
    out
}

/// GB/T 7714-2015's document type: its code, and whether the record is a part of the
/// work its venue names (cited with `//`).
struct GbtKind {
    code: &'static str,
    part: bool,
}

/// The record's type as its export gave it (RIS `TY`, BibTeX's entry type, or a `type`
/// field), else guessed from the venue's name; a journal when nothing says otherwise,
/// since the shipped collections are journal papers.
fn gbt_kind(paper: &Paper, venue: Option<&str>) -> GbtKind {
    let given = document_type(paper).map(str::to_lowercase);
    let (code, part) = match given.as_deref() {
        Some("jour" | "jfull" | "ejour" | "mgzn" | "inpr" | "article" | "journal") => ("J", false),
        Some("conf" | "cpaper" | "inproceedings" | "conference" | "conference paper") => {
            ("C", true)
        }
        Some("proceedings") => ("C", false),
        Some("book" | "ebook" | "edbook") => ("M", false),
        Some("chap" | "echap" | "inbook" | "incollection" | "chapter") => ("M", true),
        Some("thes" | "phdthesis" | "mastersthesis" | "thesis") => ("D", false),
        Some("rprt" | "govdoc" | "techreport" | "report") => ("R", false),
        Some("stand" | "standard") => ("S", false),
        Some("pat" | "patent") => ("P", false),
        Some("news" | "newspaper") => ("N", false),
        Some("comp" | "software") => ("CP", false),
        Some("data" | "dbase" | "dataset") => ("DS", false),
        Some("elec" | "web" | "online" | "electronic" | "www" | "webpage" | "blog") => {
            ("EB/OL", false)
        }
        Some(_) => ("Z", false),
        None if venue.is_some_and(names_proceedings) => ("C", true),
        None => ("J", false),
    };
    GbtKind { code, part }
}

/// The document type a record's export gave it: RIS `TY`, BibTeX's entry type, or a
/// `type` field (what the index stores and gives back).
pub(crate) fn document_type(paper: &Paper) -> Option<&str> {
    ["TY", "entry_type", "type"]
        .iter()
        .find_map(|key| paper.extra.get(*key).and_then(|v| v.as_str()))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Whether a venue names a meeting. Not "proceedings" alone: journals are called that too
/// (Proceedings of the National Academy of Sciences, Aslib Proceedings).
fn names_proceedings(venue: &str) -> bool {
    let venue = venue.to_lowercase();
    ["conference", "symposium", "workshop", "会议", "论文集"]
        .iter()
        .any(|word| venue.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use miracle_corpora::Lang;

    fn paper(authors: &[&str], lang: Lang) -> Paper {
        Paper {
            id: "p1".into(),
            title: "Attention is all you need".into(),
            authors: authors.iter().map(|a| a.to_string()).collect(),
            abstract_text: String::new(),
            keywords: vec![],
            year: Some(2017),
            venue: Some("Advances in Neural Information Processing Systems".into()),
            doi: Some("10.5555/3295222.3295349".into()),
            lang,
            // Exported as a journal article, as some indexes do NeurIPS papers.
            extra: [("TY".to_string(), "JOUR".into())].into_iter().collect(),
        }
    }

    #[test]
    fn apa_lists_authors_with_initials_and_an_ampersand() {
        let p = paper(
            &["Ashish Vaswani", "Shazeer, Noam", "Jean-Paul Parmar"],
            Lang::En,
        );
        assert_eq!(
            Style::Apa.cite(&p),
            "Vaswani, A., Shazeer, N., & Parmar, J.-P. (2017). Attention is all you need. \
             Advances in Neural Information Processing Systems. \
             https://doi.org/10.5555/3295222.3295349"
        );
    }

    #[test]
    fn gbt_keeps_three_authors_then_et_al_or_deng() {
        let p = paper(
            &[
                "Ashish Vaswani",
                "Noam Shazeer",
                "Niki Parmar",
                "Jakob Uszkoreit",
            ],
            Lang::En,
        );
        assert_eq!(
            Style::Gbt.cite(&p),
            "VASWANI A, SHAZEER N, PARMAR N, et al. Attention is all you need[J]. \
             Advances in Neural Information Processing Systems, 2017. DOI:10.5555/3295222.3295349."
        );
        let mut zh = paper(&["张三", "李四", "王五", "赵六"], Lang::Zh);
        zh.title = "图书馆参考咨询服务研究".into();
        zh.venue = Some("中国图书馆学报".into());
        zh.doi = None;
        assert_eq!(
            Style::Gbt.cite(&zh),
            "张三, 李四, 王五, 等. 图书馆参考咨询服务研究[J]. 中国图书馆学报, 2017."
        );
    }

    #[test]
    fn citations_follow_the_document_type_the_export_gives_or_the_venue_names() {
        let cite = |extra: Option<(&str, &str)>, venue: &str, lang: Lang| {
            let mut p = paper(&["Ashish Vaswani"], lang);
            p.extra = extra
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(v)))
                .into_iter()
                .collect();
            p.venue = Some(venue.into());
            p.doi = None;
            Style::Gbt.cite(&p)
        };
        let nips = "Proceedings of the 31st International Conference on Neural Information Processing Systems";
        // RIS `TY  - CONF` and BibTeX's @inproceedings: a part of the proceedings.
        let part = format!("VASWANI A. Attention is all you need[C]//{nips}. 2017.");
        assert_eq!(cite(Some(("TY", "CONF")), nips, Lang::En), part);
        let mut p = paper(&["Ashish Vaswani"], Lang::En);
        p.extra = [("entry_type".to_string(), "inproceedings".into())]
            .into_iter()
            .collect();
        (p.venue, p.doi) = (Some(nips.into()), None);
        assert_eq!(
            Style::Apa.cite(&p),
            format!("Vaswani, A. (2017). Attention is all you need. In {nips}.")
        );
        assert_eq!(
            cite(Some(("entry_type", "inproceedings")), nips, Lang::En),
            part
        );
        // No type given: the venue's name says proceedings, in either language.
        assert_eq!(cite(None, nips, Lang::En), part);
        assert_eq!(
            cite(None, "第十届全国图书馆学术会议论文集", Lang::Zh),
            "VASWANI A. Attention is all you need[C]//第十届全国图书馆学术会议论文集. 2017."
        );
        assert_eq!(
            cite(
                Some(("entry_type", "phdthesis")),
                "Peking University",
                Lang::En
            ),
            "VASWANI A. Attention is all you need[D]. Peking University, 2017."
        );
        assert_eq!(
            cite(Some(("TY", "RPRT")), "NISO", Lang::En),
            "VASWANI A. Attention is all you need[R]. NISO, 2017."
        );
        assert_eq!(
            cite(Some(("entry_type", "misc")), "Zenodo", Lang::En),
            "VASWANI A. Attention is all you need[Z]. Zenodo, 2017."
        );
        // Nothing says otherwise: a journal, "Proceedings" in its name or not.
        assert_eq!(
            cite(
                None,
                "Proceedings of the National Academy of Sciences",
                Lang::En
            ),
            "VASWANI A. Attention is all you need[J]. Proceedings of the National Academy of Sciences, 2017."
        );
        assert_eq!(
            cite(None, "中国图书馆学报", Lang::Zh),
            "VASWANI A. Attention is all you need[J]. 中国图书馆学报, 2017."
        );
    }

    /// A record as an export gives it: its fields, and the rest in `extra` as RIS tags.
    fn record(
        kind: &str,
        authors: &[&str],
        title: &str,
        venue: Option<&str>,
        year: i32,
        lang: Lang,
        tags: &[(&str, &str)],
    ) -> Paper {
        let mut extra: std::collections::BTreeMap<String, serde_json::Value> =
            [("TY".to_string(), kind.into())].into_iter().collect();
        for (tag, value) in tags {
            match extra.get_mut(*tag) {
                Some(serde_json::Value::Array(list)) => list.push((*value).into()),
                Some(first) => *first = serde_json::json!([first.clone(), value]),
                None => {
                    extra.insert(tag.to_string(), (*value).into());
                }
            }
        }
        Paper {
            id: "r".into(),
            title: title.into(),
            authors: authors.iter().map(|a| a.to_string()).collect(),
            abstract_text: String::new(),
            keywords: vec![],
            year: Some(year),
            venue: venue.map(String::from),
            doi: None,
            lang,
            extra,
        }
    }

    /// The examples of GB/T 7714-2015 (its section 8 and appendix A), rebuilt from the
    /// fields a RIS export of each holds.
    #[test]
    fn gbt_7714_as_the_standard_prints_its_examples() {
        let journal = record(
            "JOUR",
            &["袁训来", "陈哲", "肖书海", "王伟", "唐卓"],
            "蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口",
            Some("科学通报"),
            2012,
            Lang::Zh,
            &[("VL", "55"), ("IS", "34"), ("SP", "3219")],
        );
        assert_eq!(
            Style::Gbt.cite(&journal),
            "袁训来, 陈哲, 肖书海, 等. 蓝田生物群: 一个认识多细胞生物起源和早期演化的新窗口[J]. 科学通报, 2012, 55(34): 3219."
        );
        let book = record(
            "BOOK",
            &["陈登原"],
            "国史旧闻: 第1卷",
            None,
            2000,
            Lang::Zh,
            &[("CY", "北京"), ("PB", "中华书局"), ("SP", "29")],
        );
        assert_eq!(
            Style::Gbt.cite(&book),
            "陈登原. 国史旧闻: 第1卷[M]. 北京: 中华书局, 2000: 29."
        );
        let thesis = record(
            "THES",
            &["马欢"],
            "人类活动影响下海河流域典型区水循环变化分析",
            None,
            2011,
            Lang::Zh,
            &[("CY", "北京"), ("PB", "清华大学"), ("SP", "27")],
        );
        assert_eq!(
            Style::Gbt.cite(&thesis),
            "马欢. 人类活动影响下海河流域典型区水循环变化分析[D]. 北京: 清华大学, 2011: 27."
        );
        let proceedings = record(
            "CONF",
            &["贾东琴", "柯平"],
            "面向数字素养的高校图书馆数字服务体系研究",
            Some("中国图书馆学会年会论文集: 2011 年卷"),
            2011,
            Lang::Zh,
            &[
                ("ED", "中国图书馆学会"),
                ("CY", "北京"),
                ("PB", "国家图书馆出版社"),
                ("SP", "45"),
                ("EP", "52"),
            ],
        );
        assert_eq!(
            Style::Gbt.cite(&proceedings),
            "贾东琴, 柯平. 面向数字素养的高校图书馆数字服务体系研究[C]//中国图书馆学会. 中国图书馆学会年会论文集: 2011 年卷. 北京: 国家图书馆出版社, 2011: 45-52."
        );
        let web = record(
            "ELEC",
            &["萧钰"],
            "出版业信息化迈入快车道",
            None,
            2001,
            Lang::Zh,
            &[
                ("DA", "2001/12/19"),
                ("Y2", "2002-04-15"),
                (
                    "UR",
                    "http://www.creader.com/news/20011219/200112190019.html",
                ),
            ],
        );
        assert_eq!(
            Style::Gbt.cite(&web),
            "萧钰. 出版业信息化迈入快车道[EB/OL]. (2001-12-19)[2002-04-15]. http://www.creader.com/news/20011219/200112190019.html."
        );
    }

    /// The reference examples of the APA Publication Manual (7th edition) as the APA Style
    /// website shows them, from the fields an export holds; italics as Markdown.
    #[test]
    fn apa_7_as_the_manual_prints_its_examples() {
        let mut journal = record(
            "JOUR",
            &[
                "Grady, Jessica S.",
                "Her, Malina",
                "Moreno, Geena",
                "Perez, Catherine",
                "Yelinek, Jillian",
            ],
            "Emotions in storybooks: A comparison of storybooks that represent ethnic and racial groups in the United States",
            Some("Psychology of Popular Media Culture"),
            2019,
            Lang::En,
            &[("VL", "8"), ("IS", "3"), ("SP", "207"), ("EP", "217")],
        );
        journal.doi = Some("10.1037/ppm0000185".into());
        assert_eq!(
            Style::Apa.cite_marked(&journal, Markup::Markdown),
            "Grady, J. S., Her, M., Moreno, G., Perez, C., & Yelinek, J. (2019). Emotions in storybooks: A comparison of storybooks that represent ethnic and racial groups in the United States. *Psychology of Popular Media Culture*, *8*(3), 207–217. https://doi.org/10.1037/ppm0000185"
        );
        assert!(
            Style::Apa
                .cite_marked(&journal, Markup::Html)
                .contains("<i>Psychology of Popular Media Culture</i>, <i>8</i>(3), 207–217.")
        );
        let mut book = record(
            "BOOK",
            &["Jackson, Lynne M."],
            "The psychology of prejudice: From attitudes to social action",
            None,
            2019,
            Lang::En,
            &[("ET", "2"), ("PB", "American Psychological Association")],
        );
        book.doi = Some("10.1037/0000168-000".into());
        assert_eq!(
            Style::Apa.cite_marked(&book, Markup::Markdown),
            "Jackson, L. M. (2019). *The psychology of prejudice: From attitudes to social action* (2nd ed.). American Psychological Association. https://doi.org/10.1037/0000168-000"
        );
        let mut chapter = record(
            "CHAP",
            &["Aron, Lauren", "Botella, Marion", "Lubart, Todd"],
            "Culinary arts: Talent and their development",
            Some(
                "The psychology of high performance: Developing human potential into domain-specific talent",
            ),
            2019,
            Lang::En,
            &[
                ("ED", "Subotnik, Rena F."),
                ("ED", "Olszewski-Kubilius, Paula"),
                ("ED", "Worrell, Frank C."),
                ("SP", "345"),
                ("EP", "359"),
                ("PB", "American Psychological Association"),
            ],
        );
        chapter.doi = Some("10.1037/0000120-016".into());
        assert_eq!(
            Style::Apa.cite_marked(&chapter, Markup::Markdown),
            "Aron, L., Botella, M., & Lubart, T. (2019). Culinary arts: Talent and their development. In R. F. Subotnik, P. Olszewski-Kubilius, & F. C. Worrell (Eds.), *The psychology of high performance: Developing human potential into domain-specific talent* (pp. 345–359). American Psychological Association. https://doi.org/10.1037/0000120-016"
        );
        let edited = record(
            "EDBOOK",
            &[],
            "Nanotechnology based approaches for tuberculosis treatment",
            None,
            2020,
            Lang::En,
            &[("ED", "Kesharwani, Prashant"), ("PB", "Academic Press")],
        );
        assert_eq!(
            Style::Apa.cite_marked(&edited, Markup::Markdown),
            "Kesharwani, P. (Ed.). (2020). *Nanotechnology based approaches for tuberculosis treatment*. Academic Press."
        );
        // A thesis: "[Doctoral dissertation, School]" after the italic title.
        let thesis = record(
            "THES",
            &["Wang, Lihua"],
            "Reference services in university libraries",
            None,
            2021,
            Lang::En,
            &[("PB", "Peking University"), ("M3", "Doctoral dissertation")],
        );
        assert_eq!(
            Style::Apa.cite_marked(&thesis, Markup::Markdown),
            "Wang, L. (2021). *Reference services in university libraries* [Doctoral dissertation, Peking University]."
        );
        // A Chinese record: names whole, as written.
        let zh = record(
            "JOUR",
            &["王丽华", "李明"],
            "图书馆参考咨询服务研究",
            Some("中国图书馆学报"),
            2021,
            Lang::Zh,
            &[("VL", "47"), ("IS", "2"), ("SP", "10"), ("EP", "20")],
        );
        assert_eq!(
            Style::Apa.cite(&zh),
            "王丽华, & 李明. (2021). 图书馆参考咨询服务研究. 中国图书馆学报, 47(2), 10–20."
        );
    }

    #[test]
    fn apa_titles_are_in_sentence_case_where_the_abstract_tells_proper_nouns() {
        let context = "Picture books shape how children in the United States see Emotions. \
                       Storybooks were coded with the FACS scheme.";
        assert_eq!(
            sentence_case(
                "Emotions in Storybooks: A Comparison of Storybooks in the United States",
                context
            ),
            "Emotions in storybooks: A comparison of storybooks in the United States"
        );
        assert_eq!(
            sentence_case(
                "Self-Efficacy and GAPDH Signalling in Mice",
                "Mice were used."
            ),
            "Self-efficacy and GAPDH signalling in mice"
        );
        // Not in Title Case, or nothing to tell proper nouns by: kept as exported.
        assert_eq!(
            sentence_case("Attention is all you need", "We propose the Transformer."),
            "Attention is all you need"
        );
        assert_eq!(
            sentence_case("A Study of Libraries in Beijing", ""),
            "A Study of Libraries in Beijing"
        );
    }

    #[test]
    fn missing_metadata_still_gives_a_citation() {
        let mut p = paper(&[], Lang::En);
        p.year = None;
        p.venue = None;
        p.doi = None;
        assert_eq!(Style::Apa.cite(&p), "Attention is all you need. (n.d.).");
        assert_eq!(Style::Gbt.cite(&p), "Attention is all you need[J].");
    }
}
