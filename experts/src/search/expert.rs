//! `search` as an [`Expert`]: a query in, the top papers out as numbered citations with a
//! highlighted fragment each.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use miracle_corpora::is_han;

use super::{LiteratureIndex, SearchError, SearchRequest, Style, default_index};
use crate::{Context, Demonstration, Expert, ExpertError, Grounded, InputFormat, Observation};

/// What the model may write as a query.
const MAX_INPUT_BYTES: usize = 1024;

pub struct Search {
    name: String,
    settings: Settings,
    format: InputFormat,
    demonstrations: Vec<Demonstration>,
    /// Opened on first use (building the default index can take seconds), then shared with
    /// the blocking tasks that search it.
    index: Arc<Mutex<Option<Arc<LiteratureIndex>>>>,
}

#[derive(Debug, Clone)]
struct Settings {
    /// `None`: the shipped corpora's default index.
    dir: Option<PathBuf>,
    top: usize,
    /// `None`: GB/T 7714 for Chinese queries, APA otherwise.
    style: Option<Style>,
    /// Whether each citation is followed by its highlighted fragment.
    snippets: bool,
    /// A JSON array of the papers instead of numbered citations (for workflows).
    json: bool,
    /// Hybrid search's weight, from `MIRACLE_HYBRID` (an experiment switch: docs/EVAL.md,
    /// "Word vectors and hybrid retrieval"); the text of a value that is not a weight.
    hybrid: Result<Option<f32>, String>,
    /// Cross-language search, from `MIRACLE_TRANSLATE` or [`Search::translated`]; the text
    /// of a value that is not a switch.
    translate: Result<bool, String>,
}

/// `MIRACLE_TRANSLATE=1`: every search of this expert also searches the query's words
/// translated by the shipped English–Chinese lexicon (docs/COLLECTIONS.md, "Cross-language
/// search"); unset or 0, the query's own words only.
fn translate_from_env() -> Result<bool, String> {
    match std::env::var("MIRACLE_TRANSLATE") {
        Err(_) => Ok(false),
        Ok(text) => match text.trim() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(format!(
                "MIRACLE_TRANSLATE={text:?} is not a switch: give 1 to search translated words too, 0 or nothing not to"
            )),
        },
    }
}

/// `MIRACLE_HYBRID=W`: every search of this expert re-scores BM25's hits with the index's
/// dense encoder at weight `W`; unset, BM25 alone.
fn hybrid_from_env() -> Result<Option<f32>, String> {
    match std::env::var("MIRACLE_HYBRID") {
        Err(_) => Ok(None),
        Ok(text) => match text.trim().parse::<f32>() {
            Ok(w) if w.is_finite() && w >= 0.0 => Ok(Some(w)),
            _ => Err(format!(
                "MIRACLE_HYBRID={text:?} is not a weight: give a number of 0 or more (1.0 measured best), or unset it"
            )),
        },
    }
}

impl Search {
    /// Searches the shipped corpora (CSL and SciFact), three papers per call.
    pub fn new() -> Self {
        Search {
            name: "search".into(),
            settings: Settings {
                dir: None,
                top: 3,
                style: None,
                snippets: true,
                json: false,
                hybrid: hybrid_from_env(),
                translate: translate_from_env(),
            },
            format: InputFormat::text(
                "keywords or a question, Chinese or English; advanced: title:word \"a phrase\" year:[2000 TO 2010]",
                MAX_INPUT_BYTES,
            )
            // The topic as the user wrote it: a quote is a query BM25 ranks well, and a
            // model cannot drift from it.
            .grounded(Grounded::Quote),
            demonstrations: vec![
                Demonstration::new(
                    "Find papers on diffusion tensor imaging of newborn white matter.",
                    "diffusion tensor imaging of newborn white matter",
                    "1. [4983] Microstructural development of human newborn cerebral white matter assessed in vivo by diffusion tensor magnetic resonance imaging. (n.d.).",
                ),
                Demonstration::new(
                    "有哪些关于飞行器大角度机动控制的论文？",
                    "飞行器大角度机动控制",
                    "1. [dev-0] 一种基于平方和优化的飞行器大角度机动镇定控制器设计方法[J].",
                ),
            ],
            index: Arc::default(),
        }
    }

    /// Searches the index in `dir` (built with `miracle index`) instead.
    pub fn with_index(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.dir = Some(dir.into());
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Papers per answer (1 to 100).
    pub fn top(mut self, top: usize) -> Self {
        self.settings.top = top.clamp(1, 100);
        self
    }

    /// Citations only, without the highlighted fragments: a shorter observation, for
    /// models with a small context.
    pub fn without_snippets(mut self) -> Self {
        self.settings.snippets = false;
        self
    }

    /// Answers with a JSON array, one object per paper, best first: `rank`, `id`, `title`,
    /// `authors`, `year`, `venue`, `doi`, `lang`, `score`, both citations (`gbt`, `apa`)
    /// and, with snippets, `snippet`. For programs and workflows (`parse: json`), not for
    /// the model.
    pub fn json(mut self) -> Self {
        self.settings.json = true;
        self
    }

    /// Cross-language search: the query's words translated by the shipped English–Chinese
    /// lexicon are searched too, so a Chinese request finds English papers and the reverse.
    pub fn translated(mut self) -> Self {
        self.settings.translate = Ok(true);
        self
    }

    pub fn style(mut self, style: Style) -> Self {
        self.settings.style = Some(style);
        self
    }

    /// The observation for `query`: numbered citations, each with its highlighted fragment.
    pub fn answer(&self, query: &str) -> Result<String, SearchError> {
        answer(&self.settings, &self.index, query)
    }
}

fn open(
    settings: &Settings,
    slot: &Mutex<Option<Arc<LiteratureIndex>>>,
) -> Result<Arc<LiteratureIndex>, SearchError> {
    let mut slot = lock(slot);
    if let Some(index) = slot.as_ref() {
        return Ok(index.clone());
    }
    let index = Arc::new(match &settings.dir {
        Some(dir) => LiteratureIndex::open(dir)?,
        None => default_index::open()?,
    });
    *slot = Some(index.clone());
    Ok(index)
}

/// The slot, even if a search panicked while holding it (it holds an index or nothing).
fn lock(
    slot: &Mutex<Option<Arc<LiteratureIndex>>>,
) -> std::sync::MutexGuard<'_, Option<Arc<LiteratureIndex>>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn answer(
    settings: &Settings,
    slot: &Mutex<Option<Arc<LiteratureIndex>>>,
    query: &str,
) -> Result<String, SearchError> {
    let request = SearchRequest {
        snippets: settings.snippets,
        expansion: None,
        hybrid: settings.hybrid.clone().map_err(SearchError::Query)?,
        translate: match settings.translate.clone().map_err(SearchError::Query)? {
            true => Some(super::Lexicon::shipped()?),
            false => None,
        },
        ..SearchRequest::new(query, settings.top)
    };
    let hits = open(settings, slot)?.search(&request)?;
    if settings.json {
        return Ok(
            serde_json::Value::Array(super::hits_json(&hits, super::Markup::Plain)).to_string(),
        );
    }
    if hits.is_empty() {
        return Ok(format!("No papers found for {query:?}."));
    }
    let style = settings.style.unwrap_or(if query.chars().any(is_han) {
        Style::Gbt
    } else {
        Style::Apa
    });
    let mut out = String::new();
    for (rank, hit) in hits.iter().enumerate() {
        out.push_str(&format!(
            "{}. [{}] {}\n",
            rank + 1,
            hit.paper.id,
            style.cite(&hit.paper)
        ));
        if let Some(snippet) = hit.snippet.as_deref().filter(|s| !s.is_empty()) {
            out.push_str(&format!("   {}\n", snippet.replace('\n', " ")));
        }
    }
    Ok(out.trim_end().to_string())
}

impl Default for Search {
    fn default() -> Self {
        Search::new()
    }
}

#[async_trait]
impl Expert for Search {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        "finds science and technology papers (Chinese and English) and cites them"
    }

    fn input_format(&self) -> &InputFormat {
        &self.format
    }

    fn demonstrations(&self) -> &[Demonstration] {
        &self.demonstrations
    }

    /// Opens the index (the shipped one is built on a machine's first use, ~2 s), so that
    /// the first search's deadline is the search's alone.
    async fn prepare(&self) -> Result<(), ExpertError> {
        if lock(&self.index).is_some() {
            return Ok(());
        }
        let (settings, slot) = (self.settings.clone(), self.index.clone());
        tokio::task::spawn_blocking(move || open(&settings, &slot).map(drop))
            .await
            .map_err(|e| {
                ExpertError::failed(
                    &self.name,
                    format!("opening the index stopped unexpectedly: {e}"),
                )
            })?
            .map_err(|e| ExpertError::failed(&self.name, e.to_string()))
    }

    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        // Index I/O and scoring block: run them on tokio's blocking pool. The registry drops
        // this future at the deadline; the blocking search then finishes on its own.
        let (settings, slot, query) =
            (self.settings.clone(), self.index.clone(), input.to_string());
        let result = tokio::task::spawn_blocking(move || answer(&settings, &slot, &query))
            .await
            .map_err(|e| {
                ExpertError::failed(&self.name, format!("the search stopped unexpectedly: {e}"))
            })?;
        match result {
            Ok(text) => Ok(Observation::new(text)),
            Err(e) if e.is_query_error() => Err(ExpertError::invalid(&self.name, e.to_string())),
            Err(e) => Err(ExpertError::failed(&self.name, e.to_string())),
        }
    }
}
