//! Features of BM25's candidates for re-scoring experiments (docs/BENCHMARKS.md, "Hybrid
//! retrieval", 2026-12-07). Not part of the build: copy it into `experts/examples/` to run it.
//!
//!   mkdir -p experts/examples && cp docs/experiments/rescoring/features.rs experts/examples/rescoring.rs
//!   cargo build --release -p miracle-experts --example rescoring
//!   target/release/examples/rescoring MODE INDEX QUERIES.jsonl RUN.trec > features.tsv
//!
//! RUN.trec is `miracle search --trec` (BM25) on INDEX; every line becomes a row
//! `qid doc bm25 …`. MODE picks the columns after `bm25`:
//! - `cos`: the dense encoder's cosine (what `--hybrid` adds);
//! - `all`: cosine; the query's cosine with the title, and the best, second best and mean over
//!   the abstract's sentences; proximity as BM25 over ordered adjacent query bigrams (`od`) and
//!   over unordered pairs within 8 terms (`uw`); soft matching, each query term's IDF times its
//!   best word-vector cosine with a term of the paper (1 when the paper holds the term) over
//!   the query's IDF (`soft_all`; `soft_miss` counts only the terms the paper lacks); RM3-style
//!   feedback, BM25 of the 10 heaviest new terms of BM25's first 3 papers (`rm3`);
//! - `bm25-grid`: cosine, then BM25 of our own over title and abstract for k1 in 0.6, 0.9,
//!   1.2, 1.5, 2.0 and b in 0.3, 0.5, 0.75, 0.9 (20 columns, k1 major);
//! - `maxp`: cosine, then the best BM25 of one sentence (the title or a sentence of the
//!   abstract; a sentence's length against 25 terms).
use std::collections::{HashMap, HashSet};
use std::path::Path;

use miracle_corpora::Paper;
use miracle_experts::search::dense::DenseIndex;
use miracle_experts::search::{LiteratureIndex, WordVectors, analyzer};

/// Collection statistics over every paper's title and abstract, as analysed for the index.
struct Stats {
    terms: HashMap<String, Vec<String>>,
    df: HashMap<String, f32>,
    papers: f32,
    mean_len: f32,
}

impl Stats {
    fn new(papers: &HashMap<String, Paper>) -> Self {
        let terms: HashMap<String, Vec<String>> = papers
            .iter()
            .map(|(id, p)| (id.clone(), terms_of(p)))
            .collect();
        let mut df: HashMap<String, f32> = HashMap::new();
        for seq in terms.values() {
            for t in seq.iter().collect::<HashSet<_>>() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
        }
        let papers = terms.len() as f32;
        let mean_len = terms.values().map(Vec::len).sum::<usize>() as f32 / papers;
        Stats { terms, df, papers, mean_len }
    }

    fn idf_of(&self, df: f32) -> f32 {
        ((self.papers - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    fn idf(&self, term: &str) -> f32 {
        self.idf_of(self.df.get(term).copied().unwrap_or(0.0))
    }

    /// BM25 of `query` over `seq`, with `mean_len` the length that normalises to 1.
    fn bm25(&self, query: &[String], seq: &[String], k1: f32, b: f32, mean_len: f32) -> f32 {
        let norm = k1 * (1.0 - b + b * seq.len() as f32 / mean_len);
        query
            .iter()
            .map(|t| {
                let f = seq.iter().filter(|x| *x == t).count() as f32;
                if f == 0.0 { 0.0 } else { self.idf(t) * f * (k1 + 1.0) / (f + norm) }
            })
            .sum()
    }
}

fn terms_of(p: &Paper) -> Vec<String> {
    analyzer::terms(&format!("{}\n{}", p.title, p.abstract_text))
}

/// An abstract's sentences: split after `.`, `!` or `?` followed by white space.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|&(_, n)| n.is_whitespace()) {
            out.push(text[start..at + 1].trim());
            start = at + 1;
        }
    }
    out.push(text[start..].trim());
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

struct Lab<'a> {
    words: &'a WordVectors,
    dense: &'a DenseIndex,
    papers: HashMap<String, Paper>,
    stats: Stats,
    /// Per query, BM25's papers in rank order (for feedback).
    run: HashMap<String, Vec<String>>,
}

impl Lab<'_> {
    fn encode(&self, text: &str) -> Option<Vec<f32>> {
        self.dense.encode(self.words, &analyzer::terms(text))
    }

    fn cosine(&self, doc: &str, query: Option<&Vec<f32>>) -> f32 {
        query.map_or(0.0, |q| self.dense.similarity(doc, q))
    }

    /// Title, then best / second / mean over the abstract's sentences.
    fn sentence_cosines(&self, doc: &str, q: &[f32]) -> [f32; 4] {
        let p = &self.papers[doc];
        let title = self.encode(&p.title).map_or(0.0, |t| dot(q, &t));
        let mut sims: Vec<f32> = sentences(&p.abstract_text)
            .into_iter()
            .filter_map(|s| self.encode(s))
            .map(|s| dot(q, &s))
            .collect();
        sims.sort_by(|a, b| b.total_cmp(a));
        let best = sims.first().copied().unwrap_or(0.0);
        let mean = if sims.is_empty() { 0.0 } else { sims.iter().sum::<f32>() / sims.len() as f32 };
        [title, best, sims.get(1).copied().unwrap_or(best), mean]
    }

    /// The query's distinct adjacent pairs with the IDF of each as an ordered bigram and as
    /// an unordered pair within 8 terms.
    fn pairs(&self, query: &[String]) -> Vec<(String, String, [f32; 2])> {
        let mut out = Vec::new();
        for pair in query.windows(2).filter(|w| w[0] != w[1]) {
            let mut df = [0.0f32; 2];
            for s in self.stats.terms.values() {
                let c = pair_counts(s, &pair[0], &pair[1]);
                (0..2).for_each(|k| df[k] += f32::from(c[k] > 0.0));
            }
            let idf = [self.stats.idf_of(df[0]), self.stats.idf_of(df[1])];
            out.push((pair[0].clone(), pair[1].clone(), idf));
        }
        out
    }

    /// BM25 over ordered adjacent query bigrams and over unordered pairs within 8 terms.
    fn proximity(&self, pairs: &[(String, String, [f32; 2])], doc: &str) -> [f32; 2] {
        let seq = &self.stats.terms[doc];
        let norm = 1.2 * (0.25 + 0.75 * seq.len() as f32 / self.stats.mean_len);
        let mut out = [0.0; 2];
        for (a, b, idf) in pairs {
            let c = pair_counts(seq, a, b);
            for k in 0..2 {
                out[k] += idf[k] * c[k] * 2.2 / (c[k] + norm);
            }
        }
        out
    }

    /// Soft matching over all query terms and over those the paper lacks.
    fn soft(&self, query: &[String], doc: &str) -> [f32; 2] {
        let held: HashSet<&String> = self.stats.terms[doc].iter().collect();
        let query: HashSet<&String> = query.iter().collect();
        let (mut all, mut missing, mut total) = (0.0, 0.0, 0.0);
        for t in query {
            let idf = self.stats.idf(t);
            total += idf;
            if held.contains(t) {
                all += idf;
                continue;
            }
            let Some(v) = self.words.vector(t) else { continue };
            let best = held
                .iter()
                .filter_map(|h| self.words.vector(h))
                .map(|h| dot(v, h))
                .fold(0.0f32, f32::max);
            all += idf * best;
            missing += idf * best;
        }
        if total > 0.0 { [all / total, missing / total] } else { [0.0; 2] }
    }

    /// The 10 heaviest terms of BM25's first 3 papers that the query lacks, weighted by
    /// frequency share times IDF, normalised to sum 1.
    fn feedback(&self, qid: &str, query: &[String]) -> Vec<(String, f32)> {
        let mut weight: HashMap<&str, f32> = HashMap::new();
        for doc in self.run[qid].iter().take(3) {
            let seq = &self.stats.terms[doc];
            for t in seq {
                *weight.entry(t).or_default() += 1.0 / seq.len() as f32;
            }
        }
        let mut terms: Vec<(String, f32)> = weight
            .into_iter()
            .filter(|(t, _)| !query.iter().any(|q| q == t) && self.stats.df[*t] > 1.0)
            .map(|(t, w)| (t.to_string(), w * self.stats.idf(t)))
            .collect();
        terms.sort_by(|a, b| b.1.total_cmp(&a.1));
        terms.truncate(10);
        let sum = terms.iter().map(|t| t.1).sum::<f32>().max(1e-6);
        terms.into_iter().map(|(t, w)| (t, w / sum)).collect()
    }

    fn rm3(&self, expansion: &[(String, f32)], doc: &str) -> f32 {
        let seq = &self.stats.terms[doc];
        expansion
            .iter()
            .map(|(t, w)| w * self.stats.bm25(std::slice::from_ref(t), seq, 1.2, 0.75, self.stats.mean_len))
            .sum()
    }

    fn best_sentence_bm25(&self, query: &[String], doc: &str) -> f32 {
        let p = &self.papers[doc];
        std::iter::once(p.title.as_str())
            .chain(sentences(&p.abstract_text))
            .map(|s| self.stats.bm25(query, &analyzer::terms(s), 1.2, 0.75, 25.0))
            .fold(0.0, f32::max)
    }

    fn columns(&self, mode: &str, query: &Query, doc: &str) -> Vec<f32> {
        let q = query.vector.as_ref();
        let terms = &query.terms;
        let mut out = vec![self.cosine(doc, q)];
        match mode {
            "cos" => {}
            "all" => {
                out.extend(q.map_or([0.0; 4], |q| self.sentence_cosines(doc, q)));
                out.extend(self.proximity(&query.pairs, doc));
                out.extend(self.soft(terms, doc));
                out.push(self.rm3(&query.feedback, doc));
            }
            "bm25-grid" => {
                let seq = &self.stats.terms[doc];
                for k1 in [0.6, 0.9, 1.2, 1.5, 2.0] {
                    for b in [0.3, 0.5, 0.75, 0.9] {
                        out.push(self.stats.bm25(terms, seq, k1, b, self.stats.mean_len));
                    }
                }
            }
            "maxp" => out.push(self.best_sentence_bm25(terms, doc)),
            other => panic!("unknown mode {other}: cos, all, bm25-grid or maxp"),
        }
        out
    }
}

/// What a query needs, worked out once for all its candidates.
struct Query {
    terms: Vec<String>,
    vector: Option<Vec<f32>>,
    pairs: Vec<(String, String, [f32; 2])>,
    feedback: Vec<(String, f32)>,
}

/// Ordered adjacent occurrences of `a b`, and occurrences of `a` with `b` within 8 terms.
fn pair_counts(seq: &[String], a: &str, b: &str) -> [f32; 2] {
    let mut out = [0.0; 2];
    for (i, _) in seq.iter().enumerate().filter(|(_, t)| *t == a) {
        out[0] += f32::from(seq.get(i + 1).is_some_and(|n| n == b));
        let window = &seq[i.saturating_sub(7)..(i + 8).min(seq.len())];
        out[1] += f32::from(window.iter().any(|n| n == b));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, index, queries, run] = args.as_slice() else {
        panic!("usage: rescoring MODE INDEX QUERIES.jsonl RUN.trec");
    };
    let index = LiteratureIndex::open(Path::new(index)).expect("the index");
    let papers: HashMap<String, Paper> =
        index.papers().expect("papers").into_iter().map(|p| (p.id.clone(), p)).collect();
    let mut texts = HashMap::new();
    for line in std::fs::read_to_string(queries).expect("queries").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        texts.insert(v["_id"].as_str().expect("_id").to_string(), v["text"].as_str().expect("text").to_string());
    }
    let trec = std::fs::read_to_string(run).expect("the run");
    let rows: Vec<(&str, &str, &str)> = trec
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0], f[2], f[4])
        })
        .collect();
    let mut ranked: HashMap<String, Vec<String>> = HashMap::new();
    for (qid, doc, _) in &rows {
        ranked.entry(qid.to_string()).or_default().push(doc.to_string());
    }
    let lab = Lab {
        words: index.word_vectors().expect("word vectors"),
        dense: index.dense().expect("dense vectors"),
        stats: Stats::new(&papers),
        papers,
        run: ranked,
    };
    let mut prepared: HashMap<&str, Query> = HashMap::new();
    for (qid, doc, bm25) in rows {
        let query = prepared.entry(qid).or_insert_with(|| {
            let terms = analyzer::terms(&texts[qid]);
            let all = mode == "all";
            Query {
                vector: lab.encode(&texts[qid]),
                pairs: if all { lab.pairs(&terms) } else { Vec::new() },
                feedback: if all { lab.feedback(qid, &terms) } else { Vec::new() },
                terms,
            }
        });
        let cols = lab.columns(mode, query, doc);
        let cols: Vec<String> = cols.iter().map(f32::to_string).collect();
        println!("{qid}\t{doc}\t{bm25}\t{}", cols.join("\t"));
    }
}
