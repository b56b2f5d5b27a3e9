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

impl Style {
    pub fn cite(self, paper: &Paper) -> String {
        match self {
            Style::Apa => apa(paper),
            Style::Gbt => gbt(paper),
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

fn apa(paper: &Paper) -> String {
    let year = paper.year.map_or("n.d.".to_string(), |y| y.to_string());
    let title = with_period(&paper.title);
    let mut parts = if paper.authors.is_empty() {
        vec![title, format!("({year}).")]
    } else {
        vec![
            with_period(&apa_authors(&paper.authors)),
            format!("({year})."),
            title,
        ]
    };
    if let Some(venue) = paper.venue.as_deref().filter(|v| !v.trim().is_empty()) {
        // A paper in proceedings or a chapter is "In" the work its venue names.
        match gbt_kind(paper, Some(venue)).part {
            true => parts.push(format!("In {}", with_period(venue))),
            false => parts.push(with_period(venue)),
        }
    }
    if let Some(doi) = paper.doi.as_deref().filter(|d| !d.trim().is_empty()) {
        parts.push(format!("https://doi.org/{}", doi.trim()));
    }
    parts.join(" ")
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

fn is_chinese(paper: &Paper) -> bool {
    matches!(paper.lang, miracle_corpora::Lang::Zh)
}

fn gbt(paper: &Paper) -> String {
    let mut out = String::new();
    if !paper.authors.is_empty() {
        // At most three authors, then "等" (Chinese) or "et al." (other languages).
        let names: Vec<String> = paper.authors.iter().take(3).map(|a| gbt_name(a)).collect();
        out.push_str(&names.join(", "));
        if paper.authors.len() > 3 {
            out.push_str(if is_chinese(paper) {
                ", 等"
            } else {
                ", et al"
            });
        }
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
    match (venue, paper.year) {
        // A paper in proceedings or a chapter: "题名[C]//论文集名. 出版年".
        (Some(venue), Some(year)) if kind.part => out.push_str(&format!("//{venue}. {year}")),
        (Some(venue), None) if kind.part => out.push_str(&format!("//{venue}")),
        (Some(venue), Some(year)) => out.push_str(&format!(". {venue}, {year}")),
        (Some(venue), None) => out.push_str(&format!(". {venue}")),
        (None, Some(year)) => out.push_str(&format!(". {year}")),
        (None, None) => {}
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
        Some("elec" | "web" | "online" | "electronic" | "www") => ("EB", false),
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
