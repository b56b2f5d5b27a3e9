//! Miracle's literature: the [`Paper`] record every stage shares, readers for the formats
//! libraries export (JSONL, CSV, BibTeX, RIS), and the collections Miracle ships.
//!
//! ```
//! use miracle_corpora::Collection;
//! let papers = Collection::Csl.papers().unwrap();
//! assert_eq!(papers.len(), 2000);
//! assert_eq!(papers[0].id, "dev-0");
//! ```

mod error;
mod paper;
pub mod read;
mod shipped;
pub mod split;
mod text;

pub use error::{ReadError, RecordError};
pub use paper::{Lang, Paper, is_han};
pub use read::record::{content_id, folded, normalise_doi, split_authors, whole_chinese_name};
pub use read::{Format, ReadOptions, ReadReport, read_bytes, read_path};
pub use shipped::{Collection, LEXICON_EN_ZH, TOKENIZER_JSON, default_model};
pub use text::{Text, read_texts};
