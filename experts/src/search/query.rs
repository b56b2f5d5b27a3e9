//! From what a person (or the model) types to a tantivy query.
//!
//! Natural language: the analyzer's terms, each an optional clause, BM25-scored on `all`
//! (title, abstract and keywords; extra title/keyword boosts measured worse on SciFact
//! train, see [`Weights`]). Tantivy's QueryParser would turn unspaced Chinese into one
//! phrase and find nothing. Advanced syntax, recognised by field names, AND/OR/NOT, +/-
//! prefixes or quotes: tantivy's QueryParser over the same analyzer (`title:检索`,
//! `"information retrieval"`, `year:[2000 TO 2010]`, `+must -not`). Quotes, everyday
//! punctuation too, fall back to natural language when they do not parse; so does any text
//! of more than [`MAX_ADVANCED_WORDS`] words (a pasted title in capitals, a reference).

use std::ops::Bound;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, Term};

use super::analyzer;
use super::error::SearchError;
use super::schema::{Fields, SEARCHABLE};

/// Longest query accepted, in bytes: enough for a paragraph-long question.
pub const MAX_QUERY_BYTES: usize = 16 * 1024;
/// Words up to which a query in advanced syntax that does not parse is an error; a longer
/// one is read as natural language.
pub const MAX_ADVANCED_WORDS: usize = 6;
/// Most terms one query may have after analysis.
pub const MAX_QUERY_TERMS: usize = 1024;

/// Per-field weights of a natural-language query, tuned on SciFact's train split only:
/// nDCG@10 0.695 with `all` alone, 0.691 with title 0.5 added; plain `all` also keeps
/// tantivy's block-WAND.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub all: f32,
    pub title: f32,
    pub keywords: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            all: 1.0,
            title: 0.0,
            keywords: 0.0,
        }
    }
}

/// Restrictions that do not change the ranking: a year range, a venue, a language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub years: (Option<i64>, Option<i64>),
    pub venue: Option<String>,
    pub lang: Option<String>,
}

impl Filters {
    /// Whether `paper` passes the filters, as the index applies them (years inclusive,
    /// venue and language case aside): for records found other than by the ranked query.
    pub fn admits(&self, paper: &miracle_corpora::Paper) -> bool {
        let year = paper.year.map(i64::from);
        let in_years = match self.years {
            (None, None) => true,
            (from, to) => {
                year.is_some_and(|y| from.is_none_or(|f| y >= f) && to.is_none_or(|t| y <= t))
            }
        };
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_ref()
                .is_none_or(|w| have.is_some_and(|h| h.trim().eq_ignore_ascii_case(w.trim())))
        };
        in_years
            && same(&self.venue, paper.venue.as_deref())
            && same(&self.lang, Some(paper.lang.code()))
    }
}

/// How a query is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Natural,
    /// Field prefixes, AND/OR/NOT or +/- prefixes: malformed is an error.
    Advanced,
    /// Only quotation marks, which are also everyday punctuation (“两型”产业): read as
    /// phrases when that parses, as natural language otherwise.
    Quotes,
}

pub fn syntax(text: &str) -> Syntax {
    if is_advanced(text) {
        Syntax::Advanced
    } else if text.contains('"') {
        Syntax::Quotes
    } else {
        Syntax::Natural
    }
}

/// Whether `text` uses the advanced syntax's operators.
fn is_advanced(text: &str) -> bool {
    let field_prefix = SEARCHABLE
        .iter()
        .chain(&["year", "lang", "doi", "id"])
        .any(|f| {
            text.match_indices(f).any(|(at, _)| {
                let before_ok = text[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                before_ok && text[at + f.len()..].starts_with(':')
            })
        });
    field_prefix
        || text.split_whitespace().any(|w| {
            let required_or_excluded = (w.starts_with('+') || w.starts_with('-'))
                && w[1..].chars().next().is_some_and(char::is_alphanumeric);
            w == "AND" || w == "OR" || w == "NOT" || required_or_excluded
        })
}

/// The query for `text`; `added` terms (related terms, translations, each with its weight)
/// join a natural-language one.
pub fn build(
    index: &Index,
    fields: &Fields,
    text: &str,
    weights: &Weights,
    added: &[(String, f32)],
) -> Result<Box<dyn Query>, SearchError> {
    if text.len() > MAX_QUERY_BYTES {
        return Err(SearchError::Query(format!(
            "the query is {} bytes; at most {MAX_QUERY_BYTES} are accepted: shorten it to its key words",
            text.len()
        )));
    }
    if text.trim().is_empty() {
        return Err(SearchError::Query(
            "the query is empty: give some words to search for".into(),
        ));
    }
    match syntax(text) {
        Syntax::Natural => natural(fields, text, weights, added),
        // A long text that does not parse is prose that happens to hold an operator: a
        // pasted title in capitals ("… AND MODULATES β-AMYLOID IN EARLY AD", where IN is
        // tantivy's set operator), a reference with "doi:". A short one was meant as syntax.
        Syntax::Advanced if text.split_whitespace().count() > MAX_ADVANCED_WORDS => {
            advanced(index, fields, text).or_else(|_| natural(fields, text, weights, added))
        }
        Syntax::Advanced => advanced(index, fields, text),
        Syntax::Quotes => {
            advanced(index, fields, text).or_else(|_| natural(fields, text, weights, added))
        }
    }
}

fn natural(
    fields: &Fields,
    text: &str,
    weights: &Weights,
    added: &[(String, f32)],
) -> Result<Box<dyn Query>, SearchError> {
    let terms = analyzer::terms(text);
    if terms.is_empty() {
        return Err(SearchError::Query(format!(
            "the query {text:?} has no searchable words (only stop words or punctuation): add a subject word"
        )));
    }
    if terms.len() > MAX_QUERY_TERMS {
        return Err(SearchError::Query(format!(
            "the query has {} words; at most {MAX_QUERY_TERMS} are searched: shorten it",
            terms.len()
        )));
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(terms.len() * 3);
    for (field, weight) in [
        (fields.all, weights.all),
        (fields.title, weights.title),
        (fields.keywords, weights.keywords),
    ] {
        if weight == 0.0 {
            continue;
        }
        for term in &terms {
            let query: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            ));
            // Unboosted clauses stay plain term queries, which tantivy scores with block-WAND.
            let query = if weight == 1.0 {
                query
            } else {
                Box::new(BoostQuery::new(query, weight))
            };
            clauses.push((Occur::Should, query));
        }
    }
    // Added terms score on `all` only, at their own weights.
    for (term, weight) in added {
        let query = TermQuery::new(
            Term::from_field_text(fields.all, term),
            IndexRecordOption::WithFreqs,
        );
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(query), *weight)),
        ));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

fn advanced(index: &Index, fields: &Fields, text: &str) -> Result<Box<dyn Query>, SearchError> {
    let mut parser = QueryParser::for_index(index, vec![fields.all]);
    parser.set_field_boost(fields.all, 1.0);
    parser.parse_query(text).map_err(|e| {
        SearchError::Query(format!(
            "cannot read the query {text:?}: {e}. Advanced syntax: field:word (fields: {}, year), \
             \"a phrase\", year:[2000 TO 2010], +required -excluded, AND/OR",
            SEARCHABLE.join(", ")
        ))
    })
}

/// `query` over the papers in `lang` and over all the others, the filters adding no score.
pub fn split_by_language(
    query: &dyn Query,
    fields: &Fields,
    lang: &str,
) -> (Box<dyn Query>, Box<dyn Query>) {
    let in_lang = || -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(fields.lang, lang),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    };
    let inside = BooleanQuery::new(vec![
        (Occur::Must, query.box_clone()),
        (Occur::Must, in_lang()),
    ]);
    let outside = BooleanQuery::new(vec![
        (Occur::Must, query.box_clone()),
        (Occur::MustNot, in_lang()),
    ]);
    (Box::new(inside), Box::new(outside))
}

/// `query` restricted by `filters`; the filters add no score.
pub fn filtered(
    query: Box<dyn Query>,
    fields: &Fields,
    filters: &Filters,
) -> Result<Box<dyn Query>, SearchError> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let (from, to) = filters.years;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(SearchError::Query(format!(
            "the year range {from}..{to} is empty: put the earlier year first"
        )));
    }
    if from.is_some() || to.is_some() {
        let bound = |year: Option<i64>| {
            year.map_or(Bound::Unbounded, |y| {
                Bound::Included(Term::from_field_i64(fields.year, y))
            })
        };
        clauses.push((
            Occur::Must,
            Box::new(RangeQuery::new(bound(from), bound(to))),
        ));
    }
    for (field, value) in [(fields.venue, &filters.venue), (fields.lang, &filters.lang)] {
        if let Some(value) = value {
            let term = Term::from_field_text(field, &value.trim().to_lowercase());
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
    }
    if clauses.is_empty() {
        return Ok(query);
    }
    let filter = Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(clauses)),
        0.0,
    ));
    Ok(Box::new(BooleanQuery::new(vec![
        (Occur::Must, query),
        (Occur::Must, filter),
    ])))
}
