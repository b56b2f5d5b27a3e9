//! Word vectors for a literature index (`miracle index --word-vectors`): the index's papers
//! read with the search's own analyzer (so a neighbour is a term the index can search for),
//! then skip-gram with negative sampling (`miracle_core::words`), saved beside the index.

use std::collections::HashMap;

use anyhow::Context;
use burn::prelude::Device;
use miracle_core::dense::{EncoderConfig, train_encoder};
use miracle_core::words::{Corpus, Vectors, Word2VecConfig, WordsError, train};
use miracle_experts::search::dense::DenseIndex;
use miracle_experts::search::{LiteratureIndex, WordVectors, analyzer};

use crate::{Progress, Report};

/// The settings `miracle index --word-vectors` trains with (docs/BENCHMARKS.md, "Hybrid
/// retrieval and word vectors").
pub const WORD_VECTORS: Word2VecConfig = Word2VecConfig::DEFAULT;

/// The settings of hybrid search's encoder.
pub const ENCODER: EncoderConfig = EncoderConfig::DEFAULT;

/// Trains word vectors on every paper of `index` (title, abstract and keywords, each a
/// sentence), then hybrid search's encoder from them on its title↔abstract pairs, and
/// writes both into its folder; returns the word vectors.
pub fn train_for_index(
    index: &LiteratureIndex,
    config: &Word2VecConfig,
    out: &mut dyn Report,
) -> anyhow::Result<WordVectors> {
    // In id order, not the index's (which depends on how its segments were written), so
    // the same papers give the same vectors however they were indexed.
    let mut papers = index.papers()?;
    papers.sort_by(|a, b| a.id.cmp(&b.id));
    let (words, corpus, vectors) = train_words(&papers, config, out)?;
    words.save(index.dir())?;
    match train_dense(&papers, &corpus, &vectors, out) {
        Ok(dense) => dense.save(index.dir())?,
        // A catalogue without titles and abstracts has related terms, not hybrid search.
        Err(e)
            if e.downcast_ref::<WordsError>()
                .is_some_and(|e| matches!(e, WordsError::TooFewPairs(_))) =>
        {
            let stale = index.dir().join(miracle_experts::search::dense::FILE);
            if stale.exists() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("cannot remove {}", stale.display()))?;
            }
            writeln!(out, "no dense encoder (hybrid search): {e}")?;
        }
        Err(e) => return Err(e),
    }
    Ok(words)
}

fn train_words(
    papers: &[miracle_corpora::Paper],
    config: &Word2VecConfig,
    out: &mut dyn Report,
) -> anyhow::Result<(WordVectors, Corpus, Vectors)> {
    let mut sentences = Vec::with_capacity(papers.len() * 3);
    // Each term is shown as the word it most often came from ("retriev" → "retrieval").
    let mut words: HashMap<String, HashMap<String, u64>> = HashMap::new();
    for paper in papers {
        let keywords = paper.keywords.join(" ");
        for text in [&paper.title, &paper.abstract_text, &keywords] {
            let pairs = analyzer::terms_and_words(text);
            for (term, word) in &pairs {
                *words
                    .entry(term.clone())
                    .or_default()
                    .entry(word.clone())
                    .or_default() += 1;
            }
            sentences.push(pairs.into_iter().map(|(term, _)| term).collect::<Vec<_>>());
        }
    }
    let corpus = Corpus::new(sentences, config.min_count);
    let (vocabulary, occurrences, kept) = corpus.sizes();
    writeln!(
        out,
        "word vectors: {} papers, {occurrences} occurrences of {vocabulary} terms seen {} times or more, {kept} sentences",
        papers.len(),
        config.min_count
    )?;
    let vectors = train(&corpus, config, &Device::flex(), &mut |p| {
        out.progress(Progress::Words(&p))
    })?;
    let listed = corpus
        .words
        .iter()
        .zip(&corpus.counts)
        .map(|(term, &count)| {
            let shown = most_common(&words[term]).unwrap_or(term).to_string();
            (term.clone(), shown, count)
        })
        .collect();
    let trained = serde_json::to_value(config)?;
    let words = WordVectors::new(listed, vectors.dim, vectors.data.clone(), trained)
        .map_err(|e| anyhow::anyhow!("the trained vectors: {e}"))?;
    Ok((words, corpus, vectors))
}

/// The encoder, trained on each paper's title against its abstract, and every paper's
/// vector (title, abstract and keywords together).
fn train_dense(
    papers: &[miracle_corpora::Paper],
    corpus: &Corpus,
    vectors: &Vectors,
    out: &mut dyn Report,
) -> anyhow::Result<DenseIndex> {
    let ids: HashMap<&str, u32> = corpus
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i as u32))
        .collect();
    let known = |text: &str| -> Vec<u32> {
        analyzer::terms(text)
            .iter()
            .filter_map(|t| ids.get(t.as_str()).copied())
            .collect()
    };
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = papers
        .iter()
        .map(|p| (known(&p.title), known(&p.abstract_text)))
        .collect();
    writeln!(
        out,
        "dense encoder: {} title↔abstract pairs",
        pairs
            .iter()
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .count()
    )?;
    let encoder = train_encoder(
        vectors,
        &corpus.counts,
        &pairs,
        &ENCODER,
        &Device::flex(),
        &mut |p| out.progress(Progress::Words(&p)),
    )?;
    let paper_vectors = papers
        .iter()
        .map(|p| {
            let text = format!("{} {} {}", p.title, p.abstract_text, p.keywords.join(" "));
            (p.id.clone(), encoder.encode(&known(&text)))
        })
        .collect();
    DenseIndex::new(
        encoder.dim,
        encoder.weights,
        encoder.vectors,
        paper_vectors,
        serde_json::to_value(ENCODER)?,
    )
    .map_err(|e| anyhow::anyhow!("the trained encoder: {e}"))
}

/// The most frequent key (the first in sorted order on a tie, so the choice is stable).
fn most_common(counts: &HashMap<String, u64>) -> Option<&str> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(word, _)| word.as_str())
}
