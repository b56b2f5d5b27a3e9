//! The literature-search expert: BM25 over a tantivy index of papers, Chinese and English.
//!
//! - [`analyzer`]: one bilingual analyzer (jieba for Han runs, stemmed English otherwise).
//! - [`schema`]: the fields. [`query`]: natural-language and advanced queries, filters.
//! - [`index`]: the index on disk. [`citation`]: APA and GB/T 7714-2015.
//! - [`default_index`]: the index of the shipped corpora, built on first use.
//! - [`words`]: word vectors beside an index: related terms and query expansion;
//!   [`dense`]: the encoder that hybrid search re-scores BM25's hits with.
//! - [`lexicon`]: English–Chinese translation of a query, for cross-language search.

pub mod analyzer;
pub mod citation;
pub mod default_index;
pub mod dense;
mod error;
mod expert;
pub mod explain;
pub mod index;
pub mod known;
pub mod lexicon;
pub mod query;
pub mod schema;
pub mod support;
mod vectors_file;
pub mod words;

use miracle_corpora::Paper;
use serde::Serialize;

pub use citation::{Markup, Style};
pub use error::SearchError;
pub use expert::Search;
pub use index::{Added, Indexer, LiteratureIndex, SearchRequest};
pub use lexicon::Lexicon;
pub use query::Filters;
pub use words::{Expansion, Related, WordVectors};

/// One paper found, with its BM25 score and (when asked for) a highlighted fragment of its
/// abstract, the query's terms in `**bold**`.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    pub paper: Paper,
}

/// Hits as JSON objects, best first: `rank`, `id`, `title`, `authors`, `year`, `venue`,
/// `doi`, `lang`, `score`, both citations (`gbt`, `apa`) and, when asked for, `snippet`.
/// What the search expert answers with `format: json`, and what `/v1/search` returns.
pub fn hits_json(hits: &[Hit], markup: Markup) -> Vec<serde_json::Value> {
    hits.iter()
        .enumerate()
        .map(|(rank, hit)| {
            let p = &hit.paper;
            let mut paper = serde_json::json!({
                "rank": rank + 1,
                "id": p.id,
                "title": p.title,
                "authors": p.authors,
                "year": p.year,
                "venue": p.venue,
                "doi": p.doi,
                "lang": p.lang,
                "score": hit.score,
                "gbt": Style::Gbt.cite(p),
                "apa": Style::Apa.cite_marked(p, markup),
                // What the collection lacks, so that a caller can say why a citation is short.
                "missing": explain::missing(p),
            });
            if let Some(snippet) = &hit.snippet {
                paper["snippet"] = snippet.clone().into();
            }
            paper
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use miracle_corpora::{Lang, Paper};

    use super::*;

    #[test]
    fn the_apa_citation_of_a_hit_takes_the_markup_asked_for() {
        let paper = Paper {
            id: "p1".into(),
            title: "Attention is all you need".into(),
            authors: vec!["Vaswani, Ashish".into()],
            abstract_text: String::new(),
            keywords: vec![],
            year: Some(2017),
            venue: Some("Neural Computation".into()),
            doi: None,
            lang: Lang::En,
            extra: [("TY".to_string(), "JOUR".into())].into_iter().collect(),
        };
        let hits = [Hit {
            score: 1.0,
            snippet: None,
            paper,
        }];
        let apa = |markup| {
            hits_json(&hits, markup)[0]["apa"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(apa(Markup::Markdown).contains("*Neural Computation*"));
        assert!(apa(Markup::Html).contains("<i>Neural Computation</i>"));
        assert!(!apa(Markup::Plain).contains('*'));
        // GB/T 7714 sets nothing in italics, whatever is asked.
        assert!(
            !hits_json(&hits, Markup::Html)[0]["gbt"]
                .as_str()
                .unwrap()
                .contains("<i>")
        );
    }
}
