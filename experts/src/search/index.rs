//! A literature index on disk: create or open, add papers (re-adding an id replaces it),
//! commit, search. Everything written between two commits is invisible until the second, so
//! an interrupted `miracle index` leaves the last commit intact.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use miracle_corpora::{Lang, Paper};
use tantivy::collector::TopDocs;
use tantivy::query::Query;
use tantivy::schema::{OwnedValue, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher, TantivyDocument,
    Term,
};

/// A searcher, the query it ran and its top documents.
type Found = (Searcher, Box<dyn Query>, Vec<(Score, DocAddress)>);

use super::citation::Details;
use super::dense::DenseIndex;
use super::error::SearchError;
use super::lexicon::{self, Lexicon};
use super::query::{self, Filters, Weights};
use super::schema::{self, Fields};
use super::words::{Expansion, WordVectors};
use super::{Hit, analyzer};

/// Written beside tantivy's files: which schema and analyzer the index was built with.
const MARKER: &str = "miracle-index.json";
/// Indexing memory budget (tantivy splits it between its threads).
const WRITER_BYTES: usize = 100_000_000;
/// Indexes up to this many papers are merged into one segment at each commit.
const MERGE_ALL_UP_TO: u64 = 2_000_000;

pub struct LiteratureIndex {
    pub(super) dir: PathBuf,
    index: Index,
    pub(super) reader: IndexReader,
    pub(super) fields: Fields,
    /// The word vectors beside the index, read on first use (most searches need none).
    words: OnceLock<Option<WordVectors>>,
    /// The dense half of hybrid search, likewise.
    dense: OnceLock<Option<DenseIndex>>,
}

/// What one search asks for.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub top: usize,
    pub filters: Filters,
    /// Highlighted abstract fragments (costs a little per hit; off for batch runs).
    pub snippets: bool,
    /// Add each query term's nearest terms from the index's word vectors (which the index
    /// must have: `miracle index --word-vectors`). Natural-language queries only.
    pub expansion: Option<Expansion>,
    /// Hybrid retrieval: BM25's top hits re-scored with the dense encoder's cosine at this
    /// weight (the index must have one: `miracle index --word-vectors`).
    pub hybrid: Option<f32>,
    /// Cross-language search: the query's words translated by this lexicon are searched
    /// beside its own (natural-language queries only).
    pub translate: Option<Arc<Lexicon>>,
}

impl SearchRequest {
    pub fn new(query: &str, top: usize) -> Self {
        SearchRequest {
            query: query.to_string(),
            top,
            filters: Filters::default(),
            snippets: true,
            expansion: None,
            hybrid: None,
            translate: None,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    schema_version: u32,
}

impl LiteratureIndex {
    /// Opens the index in `dir`, or creates an empty one there (for `miracle index`).
    pub fn create_or_open(dir: &Path) -> Result<Self, SearchError> {
        if dir.join("meta.json").exists() {
            return Self::open(dir);
        }
        std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, e))?;
        let (schema, _) = schema::build();
        let index = Index::create_in_dir(dir, schema).map_err(|e| SearchError::corrupt(dir, e))?;
        write_marker(dir)?;
        Self::wrap(dir, index)
    }

    /// Opens an existing index, refusing one that is missing, damaged or built by another
    /// version of the schema.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        if !dir.join("meta.json").is_file() {
            return Err(SearchError::Missing(dir.to_path_buf()));
        }
        let marker =
            std::fs::read(dir.join(MARKER)).map_err(|e| SearchError::io(&dir.join(MARKER), e))?;
        match serde_json::from_slice::<Marker>(&marker) {
            Ok(m) if m.schema_version == schema::VERSION => {}
            Ok(m) => {
                return Err(SearchError::Version {
                    dir: dir.to_path_buf(),
                    found: m.schema_version,
                });
            }
            Err(e) => return Err(SearchError::corrupt(dir, e)),
        }
        let index = Index::open_in_dir(dir).map_err(|e| SearchError::corrupt(dir, e))?;
        // Reading a damaged segment can make tantivy panic; its checksums catch that first
        // (and the size check first of all: tantivy 0.27's footer reader panics on files of
        // 4 to 7 bytes).
        check_sizes(dir)?;
        let damaged = index
            .validate_checksum()
            .map_err(|e| SearchError::corrupt(dir, e))?;
        if let Some(file) = damaged.iter().next() {
            let detail = format!(
                "{} files fail their checksum, e.g. {}",
                damaged.len(),
                file.display()
            );
            return Err(SearchError::corrupt(dir, detail));
        }
        Self::wrap(dir, index)
    }

    fn wrap(dir: &Path, index: Index) -> Result<Self, SearchError> {
        let fields = schema::fields_of(&index.schema()).map_err(|name| {
            SearchError::corrupt(dir, format!("the schema has no field `{name}`"))
        })?;
        index
            .tokenizers()
            .register(analyzer::TEXT, analyzer::text());
        index.tokenizers().register(analyzer::KEY, analyzer::key());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| SearchError::corrupt(dir, e))?;
        Ok(LiteratureIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            words: OnceLock::new(),
            dense: OnceLock::new(),
        })
    }

    /// The dense encoder and paper vectors trained for this index (`miracle index
    /// --word-vectors`); their absence is an error that says how to train them.
    pub fn dense(&self) -> Result<&DenseIndex, SearchError> {
        self.beside(
            &self.dense,
            DenseIndex::load,
            "dense vectors for hybrid search",
        )
    }

    /// The word vectors trained for this index, likewise.
    pub fn word_vectors(&self) -> Result<&WordVectors, SearchError> {
        self.beside(&self.words, WordVectors::load, "word vectors")
    }

    /// What `load` reads from the index's folder, read on first use and kept.
    fn beside<'a, T>(
        &'a self,
        slot: &'a OnceLock<Option<T>>,
        load: fn(&Path) -> Result<Option<T>, SearchError>,
        what: &'static str,
    ) -> Result<&'a T, SearchError> {
        let kept = match slot.get() {
            Some(kept) => kept,
            None => {
                let loaded = load(&self.dir)?;
                slot.get_or_init(|| loaded)
            }
        };
        kept.as_ref().ok_or_else(|| SearchError::NoVectors {
            dir: self.dir.clone(),
            what,
        })
    }

    /// Every paper the index holds, in the index's own order (stable for one index).
    pub fn papers(&self) -> Result<Vec<Paper>, SearchError> {
        let searcher = self.reader.searcher();
        let mut papers = Vec::with_capacity(searcher.num_docs() as usize);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let store = segment
                .get_store_reader(0)
                .map_err(|e| SearchError::corrupt(&self.dir, e))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = store
                    .get(doc_id)
                    .map_err(|e| SearchError::corrupt(&self.dir, format!("segment {ord}: {e}")))?;
                papers.push(self.paper(&doc));
            }
        }
        Ok(papers)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Papers searchable now (as of the last commit this handle has seen).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A writer for adding papers; at most one per index at a time (tantivy's lock).
    pub fn writer(&self) -> Result<Indexer<'_>, SearchError> {
        let writer = self.index.writer(WRITER_BYTES).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => SearchError::Locked(self.dir.clone()),
            e => SearchError::corrupt(&self.dir, e),
        })?;
        Ok(Indexer {
            index: self,
            writer,
            pending: HashMap::new(),
            added: 0,
        })
    }

    pub fn search(&self, request: &SearchRequest) -> Result<Vec<Hit>, SearchError> {
        let mut hits = self.search_ranked(request)?;
        // What the query names exactly (a DOI, a title, an author and a year) comes first.
        let known: Vec<Paper> = super::known::lookup(self, request, &hits)?
            .into_iter()
            .filter(|p| request.filters.admits(p))
            .collect();
        if known.is_empty() {
            return Ok(hits);
        }
        let top_score = hits.first().map_or(1.0, |h| h.score);
        hits.retain(|h| !known.iter().any(|k| k.id == h.paper.id));
        let mut first: Vec<Hit> = known
            .into_iter()
            .map(|paper| Hit {
                score: top_score,
                snippet: request
                    .snippets
                    .then(|| clip_abstract(&paper.abstract_text)),
                paper,
            })
            .collect();
        first.extend(hits);
        first.truncate(request.top.max(1));
        Ok(first)
    }

    /// The hits BM25 ranks, without known-item lookup: what [`search`](Self::search)
    /// starts from.
    pub fn search_ranked(&self, request: &SearchRequest) -> Result<Vec<Hit>, SearchError> {
        let (searcher, query, found) = self.top_docs(request)?;
        let snippets = if request.snippets {
            Some(self.snippets(query.as_ref())?)
        } else {
            None
        };
        found
            .into_iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher
                    .doc(address)
                    .map_err(|e| SearchError::corrupt(&self.dir, e))?;
                let paper = self.paper(&doc);
                let snippet = snippets
                    .as_ref()
                    .map(|g| highlight(&g.snippet(&paper.abstract_text)));
                Ok(Hit {
                    score,
                    snippet,
                    paper,
                })
            })
            .collect()
    }

    /// Scores and ids only, read from the id column without loading stored documents: what
    /// batch runs (TREC) need, at a fraction of the cost per hit.
    pub fn search_ids(&self, request: &SearchRequest) -> Result<Vec<(f32, String)>, SearchError> {
        let (searcher, _, found) = self.top_docs(request)?;
        let ids = self.ids_of(&searcher, &found)?;
        Ok(found.into_iter().map(|(score, _)| score).zip(ids).collect())
    }

    /// The paper ids of `found`, read from the id column.
    fn ids_of(
        &self,
        searcher: &Searcher,
        found: &[(f32, DocAddress)],
    ) -> Result<Vec<String>, SearchError> {
        let mut ids = vec![String::new(); found.len()];
        // Per segment, the hits' term ordinals in sorted order: the id dictionary is then
        // read in one forward pass instead of one block lookup per hit.
        let mut by_segment: HashMap<u32, Vec<(u64, usize)>> = HashMap::new();
        let mut columns = HashMap::new();
        for (at, (_, address)) in found.iter().enumerate() {
            let column = match columns.entry(address.segment_ord) {
                Entry::Occupied(column) => column.into_mut(),
                Entry::Vacant(slot) => {
                    let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                    let column = fast
                        .str("id")
                        .map_err(|e| SearchError::corrupt(&self.dir, e))?;
                    slot.insert(
                        column.ok_or_else(|| SearchError::corrupt(&self.dir, "no id column"))?,
                    )
                }
            };
            if let Some(ord) = column.term_ords(address.doc_id).next() {
                by_segment
                    .entry(address.segment_ord)
                    .or_default()
                    .push((ord, at));
            }
        }
        for (segment, mut ords) in by_segment {
            ords.sort_unstable();
            let sorted: Vec<u64> = ords.iter().map(|&(ord, _)| ord).collect();
            let mut next = ords.iter();
            columns[&segment]
                .dictionary()
                .sorted_ords_to_term_cb(&sorted, |bytes| {
                    if let Some(&(_, at)) = next.next() {
                        ids[at] = String::from_utf8_lossy(bytes).into_owned();
                    }
                })
                .map_err(|e| SearchError::corrupt(&self.dir, e))?;
        }
        Ok(ids)
    }

    /// BM25's hits re-scored by the dense encoder (the module doc of [`super::dense`]).
    fn rescore(
        &self,
        searcher: &Searcher,
        request: &SearchRequest,
        weight: f32,
        mut found: Vec<(f32, DocAddress)>,
    ) -> Result<Vec<(f32, DocAddress)>, SearchError> {
        let (words, dense) = (self.word_vectors()?, self.dense()?);
        if !dense.matches(words) {
            return Err(SearchError::Vectors {
                path: self.dir.join(super::dense::FILE),
                detail: format!("trained apart from {}", super::words::FILE),
            });
        }
        let best = found.first().map_or(1.0, |(s, _)| s.max(f32::MIN_POSITIVE));
        let Some(query) = dense.encode(words, &analyzer::terms(&request.query)) else {
            found.truncate(request.top.max(1));
            return Ok(found);
        };
        let ids = self.ids_of(searcher, &found)?;
        for ((score, _), id) in found.iter_mut().zip(&ids) {
            *score = *score / best + weight * dense.similarity(id, &query);
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        found.truncate(request.top.max(1));
        Ok(found)
    }

    /// The query for `request` and its top documents.
    fn top_docs(&self, request: &SearchRequest) -> Result<Found, SearchError> {
        let built = query::build(
            &self.index,
            &self.fields,
            &request.query,
            &Weights::default(),
            &self.added_terms(request)?,
        )?;
        let query = query::filtered(built, &self.fields, &request.filters)?;
        let searcher = self.reader.searcher();
        let wanted = match request.hybrid {
            Some(_) => request.top.max(super::dense::CANDIDATES),
            None => request.top.max(1),
        };
        let found = match (&request.translate, &request.filters.lang) {
            // Cross-language search over every language: the translation's language and the
            // rest ranked apart and merged on scores relative to each list's best, so that
            // the language that holds more of the query's words does not crowd out the other.
            (Some(_), None) => {
                let target = lexicon::target_language(&request.query);
                let (inside, outside) =
                    query::split_by_language(query.as_ref(), &self.fields, target);
                let inside = self.run(&searcher, inside.as_ref(), wanted)?;
                let outside = self.run(&searcher, outside.as_ref(), wanted)?;
                merge_relative(inside, outside, wanted)
            }
            _ => self.run(&searcher, query.as_ref(), wanted)?,
        };
        let found = match request.hybrid {
            Some(weight) => self.rescore(&searcher, request, weight, found)?,
            None => found,
        };
        Ok((searcher, query, found))
    }

    /// The top `wanted` documents `query` finds.
    fn run(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        wanted: usize,
    ) -> Result<Vec<(f32, DocAddress)>, SearchError> {
        let top = TopDocs::with_limit(wanted).order_by_score();
        // A damaged file that passed its checksum may still make tantivy panic: report it as
        // damage rather than taking the caller down.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            searcher.search(query, &top)
        }))
        .map_err(|_| SearchError::corrupt(&self.dir, "reading it failed"))?
        .map_err(|e| SearchError::corrupt(&self.dir, e))
    }

    /// The terms `request` searches beside its query's own, with their weights: related
    /// terms from the word vectors, translations from the lexicon.
    fn added_terms(&self, request: &SearchRequest) -> Result<Vec<(String, f32)>, SearchError> {
        let mut added = Vec::new();
        if let Some(expansion) = &request.expansion {
            let terms = analyzer::terms(&request.query);
            added.extend(self.word_vectors()?.expand(&terms, expansion));
        }
        if let Some(lexicon) = &request.translate {
            added.extend(lexicon.translate(&request.query));
        }
        Ok(added)
    }

    /// Highlights the query's terms in abstracts; rarer terms weigh more in choosing the
    /// fragment.
    fn snippets(&self, query: &dyn Query) -> Result<SnippetGenerator, SearchError> {
        let searcher = self.reader.searcher();
        let mut terms = BTreeMap::new();
        let mut failed = None;
        query.query_terms(&mut |term, _| {
            if let Some(text) = term.value().as_str() {
                let all = Term::from_field_text(self.fields.all, text);
                match searcher.doc_freq(&all) {
                    Ok(n) if n > 0 => {
                        terms.insert(text.to_string(), 1.0 / (1.0 + n as f32));
                    }
                    Ok(_) => {}
                    Err(e) => failed = Some(e),
                }
            }
        });
        if let Some(e) = failed {
            return Err(SearchError::corrupt(&self.dir, e));
        }
        Ok(SnippetGenerator::new(
            terms,
            analyzer::text(),
            self.fields.abstract_text,
            240,
        ))
    }

    /// The paper the index holds under `id`, as of the last commit.
    pub fn by_id(&self, id: &str) -> Result<Option<Paper>, SearchError> {
        let searcher = self.reader.searcher();
        let query = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| SearchError::corrupt(&self.dir, e))?;
        let Some((_, address)) = top.first() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher
            .doc(*address)
            .map_err(|e| SearchError::corrupt(&self.dir, e))?;
        Ok(Some(self.paper(&doc)))
    }

    pub(super) fn paper(&self, doc: &TantivyDocument) -> Paper {
        let f = &self.fields;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let all = |field| {
            doc.get_all(field)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let optional = |field| Some(text(field)).filter(|s: &String| !s.is_empty());
        Paper {
            id: text(f.id),
            title: text(f.title),
            authors: all(f.authors),
            abstract_text: text(f.abstract_text),
            keywords: all(f.keywords),
            year: doc
                .get_first(f.year)
                .and_then(|v| v.as_i64())
                .and_then(|y| i32::try_from(y).ok()),
            venue: optional(f.venue),
            doi: optional(f.doi),
            lang: Lang::from_code(&text(f.lang)),
            // The citation reads the document type and its details from here.
            extra: optional(f.kind)
                .map(|kind| ("type".to_string(), kind.into()))
                .into_iter()
                .chain(
                    optional(f.details)
                        .and_then(|json| serde_json::from_str::<Details>(&json).ok())
                        .map(Details::into_extra)
                        .unwrap_or_default(),
                )
                .collect(),
        }
    }
}

/// Every file of the committed segments is at least as long as tantivy's footer trailer
/// (two u32s). Files of uncommitted segments (an interrupted run) are not looked at.
fn check_sizes(dir: &Path) -> Result<(), SearchError> {
    let meta = std::fs::read(dir.join("meta.json")).map_err(|e| SearchError::io(dir, e))?;
    let meta: serde_json::Value = serde_json::from_slice(&meta)
        .map_err(|e| SearchError::corrupt(dir, format!("meta.json: {e}")))?;
    let live: std::collections::HashSet<String> = meta["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|segment| segment["segment_id"].as_str())
        .map(|id| id.replace('-', ""))
        .collect();
    for entry in std::fs::read_dir(dir).map_err(|e| SearchError::io(dir, e))? {
        let entry = entry.map_err(|e| SearchError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let segment = name.split('.').next().unwrap_or_default();
        if !live.contains(segment) {
            continue;
        }
        let len = entry
            .metadata()
            .map_err(|e| SearchError::io(&entry.path(), e))?
            .len();
        if len < 8 {
            return Err(SearchError::corrupt(
                dir,
                format!("{name} is truncated ({len} bytes)"),
            ));
        }
    }
    Ok(())
}

/// Two ranked lists as one: each score divided by its list's best, `first`'s hits ahead
/// on ties, the best `wanted`.
fn merge_relative(
    first: Vec<(f32, DocAddress)>,
    second: Vec<(f32, DocAddress)>,
    wanted: usize,
) -> Vec<(f32, DocAddress)> {
    let relative = |list: Vec<(f32, DocAddress)>| {
        let best = list.first().map_or(1.0, |(s, _)| s.max(f32::MIN_POSITIVE));
        list.into_iter().map(move |(s, d)| (s / best, d))
    };
    let mut merged: Vec<(f32, DocAddress)> = relative(first).chain(relative(second)).collect();
    merged.sort_by(|a, b| b.0.total_cmp(&a.0));
    merged.truncate(wanted);
    merged
}

fn write_marker(dir: &Path) -> Result<(), SearchError> {
    let path = dir.join(MARKER);
    let tmp = dir.join(format!("{MARKER}.tmp"));
    let body = serde_json::to_vec(&Marker {
        schema_version: schema::VERSION,
    })
    .expect("plain struct");
    std::fs::write(&tmp, body).map_err(|e| SearchError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| SearchError::io(&path, e))
}

/// The fragment with its highlighted terms in `**bold**` (Markdown, readable as plain text).
fn highlight(snippet: &tantivy::snippet::Snippet) -> String {
    let fragment = snippet.fragment();
    let mut out = String::with_capacity(fragment.len() + 16);
    let mut at = 0;
    // Jieba's search mode emits overlapping words (信息, 信息检索), and adjacent Chinese
    // words touch (参考|咨询): merge both into one highlight.
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for range in tantivy::snippet::collapse_overlapped_ranges(snippet.highlighted()) {
        match ranges.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => ranges.push(range),
        }
    }
    for range in &ranges {
        out.push_str(&fragment[at..range.start]);
        out.push_str("**");
        out.push_str(&fragment[range.clone()]);
        out.push_str("**");
        at = range.end;
    }
    out.push_str(&fragment[at..]);
    out
}

/// Adds papers to an index; nothing is visible (or durable) until [`Indexer::commit`].
pub struct Indexer<'a> {
    index: &'a LiteratureIndex,
    writer: IndexWriter,
    added: u64,
    /// What this writer added, by id: the papers a later one with the same id meets.
    pending: HashMap<String, Paper>,
}

/// What [`Indexer::add`] did with a paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Its id was not in the index.
    New,
    /// Its id was, for the same work (the same DOI or title), which it replaced.
    Updated,
    /// The index holds it already, as it is.
    Unchanged,
    /// Its id names another work in the index: nothing was replaced.
    Collision {
        /// The title of the paper the index keeps.
        kept: String,
    },
}

/// Whether two papers are the same work, so that one may update the other: the same DOI;
/// or, where either lacks one, the same title (compared on letters and digits) or the same
/// authors and year (a corrected title).
fn same_work(a: &Paper, b: &Paper) -> bool {
    if let (Some(x), Some(y)) = (&a.doi, &b.doi) {
        return x.eq_ignore_ascii_case(y);
    }
    miracle_corpora::folded(&a.title) == miracle_corpora::folded(&b.title)
        || (!a.authors.is_empty() && a.authors == b.authors && a.year == b.year)
}

/// Whether `b` would change nothing the index holds of `a`.
fn same_record(a: &Paper, b: &Paper) -> bool {
    (
        &a.title,
        &a.authors,
        &a.abstract_text,
        &a.keywords,
        a.year,
        &a.venue,
        &a.doi,
        &a.lang,
    ) == (
        &b.title,
        &b.authors,
        &b.abstract_text,
        &b.keywords,
        b.year,
        &b.venue,
        &b.doi,
        &b.lang,
    )
}

impl Indexer<'_> {
    /// Adds `paper`. A paper whose id the index (or this writer) holds already replaces it
    /// only when it is the same work; one whose id names another work is left out and
    /// reported as a [`Added::Collision`], so no paper is ever replaced silently.
    pub fn add(&mut self, paper: &Paper) -> Result<Added, SearchError> {
        let known = match self.pending.get(&paper.id) {
            Some(known) => Some(known.clone()),
            None => self.index.by_id(&paper.id)?,
        };
        let outcome = match &known {
            None => Added::New,
            Some(known) if same_record(known, paper) => return Ok(Added::Unchanged),
            Some(known) if same_work(known, paper) => Added::Updated,
            Some(known) => {
                return Ok(Added::Collision {
                    kept: known.title.clone(),
                });
            }
        };
        self.write(paper)?;
        self.pending.insert(paper.id.clone(), paper.clone());
        Ok(outcome)
    }

    fn write(&mut self, paper: &Paper) -> Result<(), SearchError> {
        let f = &self.index.fields;
        self.writer
            .delete_term(Term::from_field_text(f.id, &paper.id));
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &paper.id);
        doc.add_text(f.title, &paper.title);
        for author in &paper.authors {
            doc.add_text(f.authors, author);
        }
        doc.add_text(f.abstract_text, &paper.abstract_text);
        for keyword in &paper.keywords {
            doc.add_text(f.keywords, keyword);
        }
        let all = [
            paper.title.as_str(),
            &paper.abstract_text,
            &paper.keywords.join(" "),
        ]
        .join("\n");
        doc.add_text(f.all, &all);
        if let Some(year) = paper.year {
            doc.add_i64(f.year, i64::from(year));
        }
        if let Some(venue) = &paper.venue {
            doc.add_text(f.venue, venue);
        }
        if let Some(doi) = &paper.doi {
            doc.add_text(f.doi, doi);
        }
        if let Some(kind) = super::citation::document_type(paper) {
            doc.add_text(f.kind, kind);
        }
        let details = Details::of(paper);
        if !details.is_empty() {
            let json = serde_json::to_string(&details).expect("details serialise");
            doc.add_text(f.details, json);
        }
        doc.add_field_value(f.lang, &OwnedValue::Str(paper.lang.code().to_string()));
        self.writer
            .add_document(doc)
            .map_err(|e| SearchError::corrupt(&self.index.dir, e))?;
        self.added += 1;
        Ok(())
    }

    /// Makes everything added so far durable and searchable; returns how many were added.
    pub fn commit(mut self) -> Result<u64, SearchError> {
        let dir = self.index.dir.clone();
        self.writer
            .commit()
            .map_err(|e| SearchError::corrupt(&dir, e))?;
        // One segment answers a query with one block-WAND pass instead of one per segment
        // (measured: about twice the queries/s on SciFact). Merging rewrites the index, so
        // past a few million papers tantivy's own merge policy is left to it.
        let segments = self
            .index
            .index
            .searchable_segment_ids()
            .map_err(|e| SearchError::corrupt(&dir, e))?;
        let docs: u64 = self.index.reader.searcher().num_docs() + self.added;
        if segments.len() > 1 && docs <= MERGE_ALL_UP_TO {
            self.writer
                .merge(&segments)
                .wait()
                .map_err(|e| SearchError::corrupt(&dir, e))?;
        }
        self.writer
            .wait_merging_threads()
            .map_err(|e| SearchError::corrupt(&dir, e))?;
        self.index
            .reader
            .reload()
            .map_err(|e| SearchError::corrupt(&dir, e))?;
        Ok(self.added)
    }
}

/// The opening of an abstract, as the fragment of a hit found by lookup rather than by
/// the query's words (nothing to highlight).
fn clip_abstract(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
