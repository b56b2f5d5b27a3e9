//! The literature-search expert: BM25 over a tantivy index of papers, Chinese and English.
//!
//! - [`analyzer`]: one bilingual analyzer (jieba for Han runs, stemmed English otherwise).
//! - [`schema`]: the fields. [`query`]: natural-language and advanced queries, filters.
//! - [`index`]: the index on disk. [`citation`]: APA and GB/T 7714-2015.
//! - [`default_index`]: the index of the shipped corpora, built on first use.

pub mod analyzer;
pub mod citation;
pub mod default_index;
mod error;
mod expert;
pub mod explain;
pub mod index;
pub mod known;
pub mod query;
pub mod schema;
pub mod support;

use miracle_corpora::Paper;
use serde::Serialize;

pub use citation::{Markup, Style};
pub use error::SearchError;
pub use expert::Search;
pub use index::{Added, Indexer, LiteratureIndex, SearchRequest};
pub use query::Filters;

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
pub fn hits_json(hits: &[Hit]) -> Vec<serde_json::Value> {
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
                "apa": Style::Apa.cite(p),
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
