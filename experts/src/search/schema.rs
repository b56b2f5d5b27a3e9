//! The index's fields. `all` (title, abstract and keywords together, not stored) carries the
//! main BM25 score, as Pyserini's BEIR "contents" field does; `title` and `keywords` add
//! boosted scores of their own; `venue` and `lang` are exact keys for filters.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analyzer;

/// Bumped whenever the schema or the analyzer changes, so an old index is rebuilt or refused
/// instead of silently searched with different terms.
pub const VERSION: u32 = 4;

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub authors: Field,
    pub abstract_text: Field,
    pub keywords: Field,
    pub all: Field,
    pub year: Field,
    pub venue: Field,
    pub doi: Field,
    /// The record's document type as its export gave it (RIS `TY`, BibTeX's entry type),
    /// stored for the citation's type code (GB/T 7714's `[J]`, `[C]`…).
    pub kind: Field,
    pub lang: Field,
    /// What the citations need beyond the modelled fields (volume, issue, pages, publisher,
    /// place, school, editors, edition, URL, access date), as JSON: [`super::citation::Details`].
    pub details: Field,
}

/// Field names as the advanced syntax spells them (`title:retrieval`, `year:[2000 TO 2010]`).
pub const SEARCHABLE: &[&str] = &["title", "authors", "abstract", "keywords", "all", "venue"];

fn text(stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analyzer::TEXT)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored {
        options.set_stored()
    } else {
        options
    }
}

fn key() -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(analyzer::KEY)
        .set_index_option(IndexRecordOption::Basic);
    TextOptions::default()
        .set_indexing_options(indexing)
        .set_stored()
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED | FAST),
        title: b.add_text_field("title", text(true)),
        authors: b.add_text_field("authors", text(true)),
        abstract_text: b.add_text_field("abstract", text(true)),
        keywords: b.add_text_field("keywords", text(true)),
        all: b.add_text_field("all", text(false)),
        year: b.add_i64_field("year", INDEXED | STORED | FAST),
        venue: b.add_text_field("venue", key()),
        doi: b.add_text_field("doi", STRING | STORED),
        kind: b.add_text_field("kind", STORED),
        lang: b.add_text_field("lang", key()),
        details: b.add_text_field("details", STORED),
    };
    (b.build(), fields)
}

/// The fields of an existing index's schema, or the name of the first one it lacks.
pub fn fields_of(schema: &Schema) -> Result<Fields, String> {
    let get = |name: &str| schema.get_field(name).map_err(|_| name.to_string());
    Ok(Fields {
        id: get("id")?,
        title: get("title")?,
        authors: get("authors")?,
        abstract_text: get("abstract")?,
        keywords: get("keywords")?,
        all: get("all")?,
        year: get("year")?,
        venue: get("venue")?,
        doi: get("doi")?,
        kind: get("kind")?,
        lang: get("lang")?,
        details: get("details")?,
    })
}
