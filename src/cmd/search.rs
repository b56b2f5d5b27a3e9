//! `miracle search "query"`: the literature index from the command line — a readable table,
//! `--json`, or batch runs in TREC format for trec_eval.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, ValueEnum};
use miracle_experts::search::{
    Expansion, Filters, Hit, Lexicon, LiteratureIndex, Markup, SearchRequest, Style, analyzer,
    default_index, explain, lexicon::Translation,
};
use serde::Deserialize;

use super::ask::MarkupArg;

/// Said under `miracle search --help`: the shipped index carries SciFact's licence.
const LICENCES: &str = "\
The shipped index holds CSL (Apache-2.0) and SciFact (CC BY-NC 2.0, no commercial use).
For a commercial service, index only what you may use and make it the default:
  miracle index --out my-index --collection csl     # the shipped collections you choose
  miracle index --out my-index my-catalogue.ris     # and your library's own records
  export MIRACLE_INDEX=my-index                     # search, ask, chat, workflows, serve";

#[derive(Debug, Args)]
#[command(after_help = LICENCES)]
pub struct SearchArgs {
    /// Keywords or a question (Chinese or English); advanced: title:word "a phrase"
    /// year:[2000 TO 2010] +required -excluded.
    #[arg(required_unless_present = "queries", conflicts_with = "queries")]
    query: Option<String>,
    /// An index built with `miracle index`; by default the shipped corpora's, built on first use.
    #[arg(long)]
    index: Option<PathBuf>,
    /// Hits per query (default 10; 1000 with --trec).
    #[arg(long)]
    top: Option<usize>,
    /// Only papers from these years: 2010..2020, 2010.. or ..2020 (inclusive).
    #[arg(long)]
    years: Option<String>,
    /// Only papers in this venue (journal or proceedings; case-insensitive, exact).
    #[arg(long)]
    venue: Option<String>,
    /// Only papers in this language (en, zh).
    #[arg(long)]
    lang: Option<String>,
    /// Citation style of the table and JSON: GB/T 7714-2015 or APA.
    #[arg(long, value_enum, default_value_t = StyleArg::Gbt)]
    style: StyleArg,
    /// How APA's italics are written: plain (none), markdown (*Journal*) or html
    /// (<i>Journal</i>, text escaped).
    #[arg(long, value_enum, default_value_t = MarkupArg::Plain)]
    markup: MarkupArg,
    /// Print JSON (one object with the hits) instead of a table.
    #[arg(long)]
    json: bool,
    /// Queries to run in batch, one JSON object per line: {"_id": …, "text": …} (BEIR).
    #[arg(long, requires = "trec")]
    queries: Option<PathBuf>,
    /// Where to write the batch run in TREC format: qid Q0 docid rank score tag.
    #[arg(long, requires = "queries")]
    trec: Option<PathBuf>,
    /// The run tag in the TREC file.
    #[arg(long, default_value = "miracle")]
    tag: String,
    /// Show the terms nearest to the query's in the index's word vectors instead of
    /// searching (`miracle index --word-vectors` trains them). A `-` before a word subtracts
    /// it: "king woman -man" asks king − man + woman.
    #[arg(long, conflicts_with_all = ["queries", "expand"])]
    related: bool,
    /// Also search each query term's nearest terms in the index's word vectors, weighted
    /// below the query's own (see --expand-terms, --expand-weight, --expand-min).
    #[arg(long)]
    expand: bool,
    /// Hybrid retrieval: BM25's top 50 re-scored as bm25 / best + W × the dense encoder's
    /// cosine (`miracle index --word-vectors` trains it; W: --hybrid-weight).
    #[arg(long)]
    hybrid: bool,
    /// With --hybrid: the dense cosine's weight (BM25's best hit scores 1; 1.0 measured
    /// best on SciFact's train split).
    #[arg(long, value_name = "W", default_value_t = 1.0)]
    hybrid_weight: f32,
    /// Cross-language search: also search the query's words translated by an
    /// English–Chinese lexicon (the shipped one, ECDICT's, unless --lexicon), so that a
    /// Chinese request finds English papers and the reverse. Add --lang to keep one language.
    #[arg(long)]
    translate: bool,
    /// Translate with your own lexicon (implies --translate): one English word a line, a
    /// tab, its Chinese glosses as 词一|词二 (best first; commoner words on earlier lines).
    #[arg(long, value_name = "FILE")]
    lexicon: Option<PathBuf>,
    /// With --expand or --related: terms per query term.
    #[arg(long, value_name = "N", default_value_t = Expansion::default().per_term)]
    expand_terms: usize,
    /// With --expand: an added term weighs this times its similarity (the query's own weigh 1).
    #[arg(long, value_name = "W", default_value_t = Expansion::default().weight)]
    expand_weight: f32,
    /// With --expand: only terms at least this similar (cosine, -1 to 1).
    #[arg(long, value_name = "SIM", default_value_t = Expansion::default().min_similarity)]
    expand_min: f32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StyleArg {
    Gbt,
    Apa,
}

impl SearchArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let filters = Filters {
            years: parse_years(self.years.as_deref())?,
            venue: self.venue.clone(),
            lang: self.lang.clone(),
        };
        let index = match &self.index {
            Some(dir) => LiteratureIndex::open(dir)?,
            None => default_index::open()?,
        };
        let style = match self.style {
            StyleArg::Gbt => Style::Gbt,
            StyleArg::Apa => Style::Apa,
        };
        let markup = Markup::from(self.markup);
        let cite = |paper: &miracle_corpora::Paper| style.cite_marked(paper, markup);
        let (expansion, hybrid) = self.ranking()?;
        let translate = self.lexicon()?;
        if self.related {
            let query = self.query.as_deref().unwrap_or_default();
            return print_related(out, &index, query, self.expand_terms, self.json);
        }
        match (&self.queries, &self.trec, &self.query) {
            (Some(queries), Some(trec), _) => {
                let top = self.top.unwrap_or(1000).max(1);
                let each = SearchRequest {
                    query: String::new(),
                    top,
                    filters,
                    snippets: false,
                    expansion,
                    hybrid,
                    translate,
                };
                let n = batch(&index, queries, trec, &each, &self.tag)?;
                writeln!(
                    out,
                    "{n} queries, up to {top} hits each, written to {}",
                    trec.display()
                )?;
                Ok(())
            }
            (_, _, Some(query)) => {
                let request = SearchRequest {
                    query: query.clone(),
                    top: self.top.unwrap_or(10).clamp(1, 10_000),
                    filters,
                    snippets: true,
                    expansion,
                    hybrid,
                    translate,
                };
                let hits = index.search(&request)?;
                let why = explain::why_nothing(&index, &request, &hits)?;
                let translation = match &request.translate {
                    Some(lexicon) => lexicon.words(query),
                    None => Vec::new(),
                };
                if self.json {
                    print_json(out, query, &hits, &cite, why.as_deref(), &translation)
                } else {
                    print_table(out, &hits, &cite, why.as_deref(), &translation)
                }
            }
            _ => bail!("give a query, or --queries FILE with --trec OUT"),
        }
    }
}

impl SearchArgs {
    /// The expansion and the hybrid weight asked for, their settings checked.
    fn ranking(&self) -> anyhow::Result<(Option<Expansion>, Option<f32>)> {
        if !(-1.0..=1.0).contains(&self.expand_min) {
            bail!(
                "--expand-min {}: a cosine similarity is between -1 and 1",
                self.expand_min
            );
        }
        if !(self.expand_weight.is_finite() && self.expand_weight > 0.0) {
            bail!(
                "--expand-weight {}: give a weight above 0 (the query's own terms weigh 1)",
                self.expand_weight
            );
        }
        let w = self.hybrid_weight;
        if !(w.is_finite() && w >= 0.0) {
            bail!("--hybrid-weight {w}: give a weight of 0 or more (BM25's best hit scores 1)");
        }
        let expansion = self.expand.then_some(Expansion {
            per_term: self.expand_terms,
            min_similarity: self.expand_min,
            weight: self.expand_weight,
        });
        Ok((expansion, self.hybrid.then_some(w)))
    }
}

impl SearchArgs {
    /// The lexicon `--translate` asks for: `--lexicon FILE`, or the shipped one.
    fn lexicon(&self) -> anyhow::Result<Option<Arc<Lexicon>>> {
        Ok(match &self.lexicon {
            Some(path) => Some(Arc::new(Lexicon::read(path)?)),
            None if self.translate => Some(Lexicon::shipped()?),
            None => None,
        })
    }
}

/// `--related`: each query term's nearest terms, or the nearest to the query's words added
/// and subtracted (`-word`) when it has several.
fn print_related(
    out: &mut dyn Write,
    index: &LiteratureIndex,
    query: &str,
    k: usize,
    json: bool,
) -> anyhow::Result<()> {
    let words = index.word_vectors()?;
    let (mut plus, mut minus) = (Vec::new(), Vec::new());
    for word in query.split_whitespace() {
        let (list, word) = match word.strip_prefix('-') {
            Some(rest) => (&mut minus, rest),
            None => (&mut plus, word),
        };
        list.extend(analyzer::terms(word));
    }
    let unknown: Vec<&String> = plus
        .iter()
        .chain(&minus)
        .filter(|t| words.vector(t).is_none())
        .collect();
    if plus.is_empty() || unknown.len() == plus.len() + minus.len() {
        bail!(
            "--related {query:?}: no word of it has a vector (a word seen fewer than {} times in the index has none); try another word",
            miracle_recipe::words::WORD_VECTORS.min_count
        );
    }
    let p: Vec<&str> = plus.iter().map(String::as_str).collect();
    let m: Vec<&str> = minus.iter().map(String::as_str).collect();
    let related = words.related(&p, &m, k.max(1));
    if json {
        let body = serde_json::json!({"query": query, "unknown": unknown, "related": related});
        writeln!(out, "{}", serde_json::to_string_pretty(&body)?)?;
        return Ok(());
    }
    if !unknown.is_empty() {
        writeln!(
            out,
            "(no vector for: {})",
            unknown
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    for r in &related {
        writeln!(out, "{:.3}  {}", r.similarity, r.word)?;
    }
    Ok(())
}

/// `2010..2020`, `2010..`, `..2020` or `2015`.
fn parse_years(text: Option<&str>) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    let Some(text) = text else {
        return Ok((None, None));
    };
    let year = |s: &str| -> anyhow::Result<Option<i64>> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<i64>().map(Some).map_err(|_| {
            anyhow!("--years: `{s}` is not a year; use e.g. 2010..2020, 2010.. or ..2020")
        })
    };
    match text.split_once("..") {
        Some((from, to)) => Ok((year(from)?, year(to)?)),
        None => {
            let y = year(text)?;
            Ok((y, y))
        }
    }
}

fn print_table(
    out: &mut dyn Write,
    hits: &[Hit],
    cite: &dyn Fn(&miracle_corpora::Paper) -> String,
    why: Option<&str>,
    translation: &[Translation],
) -> anyhow::Result<()> {
    if !translation.is_empty() {
        let words: Vec<String> = translation.iter().map(ToString::to_string).collect();
        writeln!(out, "also searched, translated: {}", words.join("; "))?;
    }
    if hits.is_empty() {
        match why {
            Some(why) => writeln!(out, "no papers found: {why}")?,
            None => writeln!(out, "no papers found")?,
        }
        return Ok(());
    }
    writeln!(out, "{:>3}  {:>7}  {:<12}  citation", "#", "score", "id")?;
    for (rank, hit) in hits.iter().enumerate() {
        writeln!(
            out,
            "{:>3}  {:>7.3}  {:<12}  {}",
            rank + 1,
            hit.score,
            hit.paper.id,
            cite(&hit.paper)
        )?;
        if let Some(snippet) = hit.snippet.as_deref().filter(|s| !s.is_empty()) {
            writeln!(out, "{:>26}{}", "", snippet.replace('\n', " "))?;
        }
    }
    let papers: Vec<&miracle_corpora::Paper> = hits.iter().map(|h| &h.paper).collect();
    if let Some(note) = explain::incomplete_note(&papers) {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn print_json(
    out: &mut dyn Write,
    query: &str,
    hits: &[Hit],
    cite: &dyn Fn(&miracle_corpora::Paper) -> String,
    why: Option<&str>,
    translation: &[Translation],
) -> anyhow::Result<()> {
    let hits: Vec<serde_json::Value> = hits
        .iter()
        .enumerate()
        .map(|(rank, hit)| {
            serde_json::json!({
                "rank": rank + 1,
                "score": hit.score,
                "id": hit.paper.id,
                "citation": cite(&hit.paper),
                "snippet": hit.snippet,
                "paper": hit.paper,
                "missing": explain::missing(&hit.paper),
            })
        })
        .collect();
    let mut reply = serde_json::json!({ "query": query, "hits": hits });
    if let Some(why) = why {
        reply["why_nothing"] = why.into();
    }
    if !translation.is_empty() {
        reply["translation"] = serde_json::to_value(translation)?;
    }
    writeln!(out, "{reply}")?;
    Ok(())
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: serde_json::Value,
    text: String,
}

/// Runs every query of a BEIR queries file and writes a TREC run. A query that is itself
/// a document of the collection is not returned for itself (Pyserini's --remove-query).
/// Runs every query of `queries` as `each` asks (its query text aside) into a TREC file.
fn batch(
    index: &LiteratureIndex,
    queries: &Path,
    trec: &Path,
    each: &SearchRequest,
    tag: &str,
) -> anyhow::Result<usize> {
    let file = std::fs::File::open(queries)
        .with_context(|| format!("cannot read {}", queries.display()))?;
    let mut lines = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", queries.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let q: QueryLine = serde_json::from_str(&line).map_err(|e| {
            anyhow!(
                "{}:{}: {e}; each line must be {{\"_id\": …, \"text\": …}}",
                queries.display(),
                n + 1
            )
        })?;
        let id = match q.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        lines.push((n + 1, id, q.text));
    }
    // Written to a temporary file and renamed, so a failed run leaves no partial TREC file.
    let tmp = trec.with_extension("trec.tmp");
    let written = write_run(index, &lines, queries, &tmp, each, tag);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, trec).with_context(|| format!("cannot write {}", trec.display()))?;
    Ok(lines.len())
}

fn write_run(
    index: &LiteratureIndex,
    lines: &[(usize, String, String)],
    queries: &Path,
    tmp: &Path,
    each: &SearchRequest,
    tag: &str,
) -> anyhow::Result<()> {
    let mut w = BufWriter::new(
        std::fs::File::create(tmp).with_context(|| format!("cannot write {}", tmp.display()))?,
    );
    for (line, id, text) in lines {
        // One more than asked: a query's own document is left out (BEIR's convention).
        let request = SearchRequest {
            query: text.clone(),
            top: each.top + 1,
            ..each.clone()
        };
        let hits = index
            .search_ids(&request)
            .map_err(|e| anyhow!("{}:{line}: query {id}: {e}", queries.display()))?;
        let hits = hits.iter().filter(|(_, doc)| doc != id).take(each.top);
        for (rank, (score, doc)) in hits.enumerate() {
            writeln!(w, "{id} Q0 {doc} {} {score:.6} {tag}", rank + 1)?;
        }
    }
    w.flush()?;
    drop(w);
    Ok(())
}
