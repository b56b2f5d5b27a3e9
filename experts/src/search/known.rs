//! Known-item lookup: a patron who has a DOI, a title or an author and a year wants that
//! record, first, whatever BM25 makes of the words. `search` puts what these find ahead of
//! the ranked hits.

use miracle_corpora::{Paper, folded, normalise_doi};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

use super::{Hit, LiteratureIndex, SearchError, SearchRequest};

/// What a query names exactly, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// `10.1561/1500000019`, `doi:…` or `https://doi.org/…`.
    Doi(String),
    /// A surname (or a Chinese name) and a year: `Robertson 2009`, `王丽华 (2021)`.
    AuthorYear { author: String, year: i32 },
    /// Anything else may be a title, matched whole (case and punctuation aside).
    Title(String),
}

impl Known {
    pub fn read(query: &str) -> Known {
        let query = query.trim();
        // Bare, `doi:` or a link, as records store them.
        let bare = normalise_doi(query);
        if bare.starts_with("10.") && bare.contains('/') && !bare.contains(char::is_whitespace) {
            return Known::Doi(bare);
        }
        if let Some((author, year)) = author_year(query) {
            return Known::AuthorYear { author, year };
        }
        Known::Title(query.to_string())
    }
}

/// `Robertson 2009`, `Robertson, 2009`, `Robertson (2009)`, `王丽华 2021`: one name of
/// letters (a hyphen or apostrophe inside) and a four-digit year.
fn author_year(query: &str) -> Option<(String, i32)> {
    let cleaned: String = query
        .chars()
        .map(|c| {
            if matches!(c, ',' | '(' | ')' | '，' | '（' | '）') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let [name, year] = words.as_slice() else {
        return None;
    };
    let year: i32 = year.parse().ok().filter(|y| (1000..=2999).contains(y))?;
    let letters = name
        .chars()
        .all(|c| c.is_alphabetic() || c == '-' || c == '\'');
    (letters && name.chars().count() >= 2).then(|| (name.to_string(), year))
}

/// The records `request`'s query names exactly, best known first. A title is looked for
/// among `ranked`, the query's own hits, so that an ordinary search costs no second one.
pub fn lookup(
    index: &LiteratureIndex,
    request: &SearchRequest,
    ranked: &[Hit],
) -> Result<Vec<Paper>, SearchError> {
    match Known::read(&request.query) {
        Known::Doi(doi) => by_doi(index, &doi),
        Known::AuthorYear { author, year } => {
            let mut by_author =
                SearchRequest::new(&format!("authors:\"{}\"", author.replace('"', "")), 50);
            by_author.filters.years = (Some(i64::from(year)), Some(i64::from(year)));
            Ok(index
                .search_ranked(&by_author)?
                .into_iter()
                .map(|hit| hit.paper)
                .filter(|p| p.year == Some(year) && p.authors.iter().any(|a| names(a, &author)))
                .collect())
        }
        Known::Title(title) => {
            let wanted = folded(&title);
            if wanted.chars().count() < 8 {
                return Ok(Vec::new()); // a word or two is a topic, not a title
            }
            Ok(ranked
                .iter()
                .map(|hit| &hit.paper)
                .filter(|p| folded(&p.title) == wanted)
                .cloned()
                .collect())
        }
    }
}

/// Whether `author` (as the record writes it) is the person `name` names: the whole name,
/// or one of its words (a surname), case aside.
fn names(author: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    author.to_lowercase() == name
        || author
            .split(|c: char| c.is_whitespace() || c == ',')
            .any(|word| word.to_lowercase() == name)
}

fn by_doi(index: &LiteratureIndex, doi: &str) -> Result<Vec<Paper>, SearchError> {
    let searcher = index.reader.searcher();
    // DOIs are case-insensitive; records keep the case their export gave.
    for form in [doi.to_string(), doi.to_lowercase(), doi.to_uppercase()] {
        let query = TermQuery::new(
            Term::from_field_text(index.fields.doi, &form),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(5).order_by_score())
            .map_err(|e| SearchError::corrupt(&index.dir, e))?;
        if !top.is_empty() {
            return top
                .iter()
                .map(|(_, address)| {
                    let doc: TantivyDocument = searcher
                        .doc(*address)
                        .map_err(|e| SearchError::corrupt(&index.dir, e))?;
                    Ok(index.paper(&doc))
                })
                .collect();
        }
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_read_as_what_they_name() {
        assert_eq!(
            Known::read("https://doi.org/10.1561/1500000019"),
            Known::Doi("10.1561/1500000019".into())
        );
        assert_eq!(Known::read("doi:10.1/X"), Known::Doi("10.1/X".into()));
        assert_eq!(
            Known::read("10.1203/00006450"),
            Known::Doi("10.1203/00006450".into())
        );
        assert_eq!(
            Known::read("Robertson (2009)"),
            Known::AuthorYear {
                author: "Robertson".into(),
                year: 2009
            }
        );
        assert_eq!(
            Known::read("王晓明 2021"),
            Known::AuthorYear {
                author: "王晓明".into(),
                year: 2021
            }
        );
        assert_eq!(
            Known::read("white matter 2009"),
            Known::Title("white matter 2009".into())
        );
        assert_eq!(Known::read("BM25 2009"), Known::Title("BM25 2009".into()));
    }

    #[test]
    fn an_author_is_matched_by_whole_name_or_surname() {
        assert!(names("Robertson, Stephen", "robertson"));
        assert!(names("Stephen Robertson", "Robertson"));
        assert!(names("王晓明", "王晓明"));
        assert!(!names("Robertsonian, S.", "Robertson"));
    }
}
