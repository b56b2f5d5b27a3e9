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
pub mod index;
pub mod query;
pub mod schema;

use miracle_corpora::Paper;
use serde::Serialize;

pub use citation::Style;
pub use error::SearchError;
pub use expert::Search;
pub use index::{Indexer, LiteratureIndex, SearchRequest};
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
