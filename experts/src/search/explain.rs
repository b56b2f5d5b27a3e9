//! Saying what a collection lacks. The shipped collections carry titles and abstracts
//! only (SciFact and CSL have no authors, years or venues), so their citations are
//! incomplete and a year or venue filter matches none of their papers. Users are told
//! so, instead of reading "no papers found" as "nothing on the topic".

use miracle_corpora::Paper;

use super::{Hit, LiteratureIndex, SearchError, SearchRequest};

/// The metadata a citation needs that `paper` lacks: `authors`, `year`, `venue`.
pub fn missing(paper: &Paper) -> Vec<&'static str> {
    let mut out = Vec::new();
    if paper.authors.is_empty() {
        out.push("authors");
    }
    if paper.year.is_none() {
        out.push("year");
    }
    if paper.venue.as_deref().is_none_or(|v| v.trim().is_empty()) {
        out.push("venue");
    }
    out
}

/// One line under a list of papers when some of them lack metadata, e.g. "3 of these
/// papers have no authors, year or venue in their collection, so their citations give
/// only what there is."
pub fn incomplete_note(papers: &[&Paper]) -> Option<String> {
    let lacking: Vec<Vec<&str>> = papers
        .iter()
        .map(|p| missing(p))
        .filter(|m| !m.is_empty())
        .collect();
    if lacking.is_empty() {
        return None;
    }
    let mut fields: Vec<&str> = Vec::new();
    for field in ["authors", "year", "venue"] {
        if lacking.iter().any(|m| m.contains(&field)) {
            fields.push(field);
        }
    }
    let fields = match fields.as_slice() {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => unreachable!("each lacks a field"),
    };
    let k = lacking.len();
    let who = if papers.len() == 1 {
        "This paper".to_string()
    } else if k == papers.len() {
        format!("All {k} of these papers")
    } else {
        format!("{k} of these papers")
    };
    let (has, its, citations) = if k == 1 {
        ("has", "its", "citation gives")
    } else {
        ("have", "their", "citations give")
    };
    Some(format!(
        "{who} {has} no {fields} in {its} collection, so {its} {citations} only what there is."
    ))
}

/// Why `request`, which found `hits`, found nothing, when its year or venue filter is the
/// reason: its words match papers, but none of them has a year or venue at all, or none
/// the one asked for. `None` when it found something, when no filter is set, or when the
/// words themselves match nothing.
pub fn why_nothing(
    index: &LiteratureIndex,
    request: &SearchRequest,
    hits: &[Hit],
) -> Result<Option<String>, SearchError> {
    let filters = &request.filters;
    let years = filters.years != (None, None);
    if !hits.is_empty() || (!years && filters.venue.is_none()) {
        return Ok(None);
    }
    let mut unfiltered = SearchRequest::new(&request.query, 100);
    unfiltered.filters.lang = filters.lang.clone();
    let hits = index.search(&unfiltered)?;
    if hits.is_empty() {
        return Ok(None);
    }
    let n = hits.len();
    let matching = if n == 100 {
        "at least 100 papers".to_string()
    } else if n == 1 {
        "1 paper".to_string()
    } else {
        format!("{n} papers")
    };
    let with = |has: fn(&Paper) -> bool| hits.iter().filter(|h| has(&h.paper)).count();
    let why = if years && with(|p| p.year.is_some()) == 0 {
        format!(
            "the words match {matching}, but none of them has a year in its collection, so a year filter cannot match them"
        )
    } else if filters.venue.is_some() && with(|p| p.venue.is_some()) == 0 {
        format!(
            "the words match {matching}, but none of them has a venue in its collection, so a venue filter cannot match them"
        )
    } else {
        let mut venues: Vec<&str> = hits
            .iter()
            .filter_map(|h| h.paper.venue.as_deref())
            .collect();
        venues.sort_unstable();
        venues.dedup();
        let some: Vec<&str> = venues.into_iter().take(3).collect();
        let years_of: Vec<i32> = hits.iter().filter_map(|h| h.paper.year).collect();
        let span = match (years_of.iter().min(), years_of.iter().max()) {
            (Some(a), Some(b)) if a == b => format!("from {a}"),
            (Some(a), Some(b)) => format!("from {a} to {b}"),
            _ => "without years".into(),
        };
        let venues = if some.is_empty() {
            "no venue".to_string()
        } else {
            some.join("; ")
        };
        format!("the words match {matching} ({span}; in {venues}), but none within the filters")
    };
    Ok(Some(why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use miracle_corpora::Lang;

    fn paper(authors: &[&str], year: Option<i32>, venue: Option<&str>) -> Paper {
        Paper {
            id: "p".into(),
            title: "T".into(),
            authors: authors.iter().map(|a| a.to_string()).collect(),
            abstract_text: String::new(),
            keywords: vec![],
            year,
            venue: venue.map(String::from),
            doi: None,
            lang: Lang::En,
            extra: Default::default(),
        }
    }

    #[test]
    fn what_a_paper_lacks_is_named() {
        assert_eq!(
            missing(&paper(&[], None, None)),
            ["authors", "year", "venue"]
        );
        assert!(missing(&paper(&["Li"], Some(2020), Some("J"))).is_empty());
        assert_eq!(missing(&paper(&["Li"], None, Some(" "))), ["year", "venue"]);
    }

    #[test]
    fn the_note_counts_the_papers_that_lack_something() {
        let bare = paper(&[], None, None);
        let full = paper(&["Li"], Some(2020), Some("J"));
        let dated = paper(&["Li"], None, Some("J"));
        assert_eq!(incomplete_note(&[&full]), None);
        assert_eq!(
            incomplete_note(&[&bare, &bare]).unwrap(),
            "All 2 of these papers have no authors, year or venue in their collection, so their citations give only what there is."
        );
        assert_eq!(
            incomplete_note(&[&full, &dated]).unwrap(),
            "1 of these papers has no year in its collection, so its citation gives only what there is."
        );
        assert_eq!(
            incomplete_note(&[&bare]).unwrap(),
            "This paper has no authors, year or venue in its collection, so its citation gives only what there is."
        );
    }
}
