//! Word vectors for a literature index (`miracle index --word-vectors`): the index's papers
//! read with the search's own analyzer (so a neighbour is a term the index can search for),
//! then skip-gram with negative sampling (`miracle_core::words`), saved beside the index.

use std::collections::HashMap;

use burn::prelude::Device;
use miracle_core::words::{Corpus, Word2VecConfig, train};
use miracle_experts::search::{LiteratureIndex, WordVectors, analyzer};

use crate::{Progress, Report};

/// The settings `miracle index --word-vectors` trains with (measured in docs/EVAL.md,
/// "Word vectors").
pub const WORD_VECTORS: Word2VecConfig = Word2VecConfig {
    dim: 64,
    window: 5,
    negatives: 5,
    min_count: 3,
    subsample: 1e-4,
    epochs: 3,
    min_steps: 300,
    batch_size: 4096,
    lr: 0.01,
    seed: 1,
};

/// Trains vectors on every paper of `index` (title, abstract and keywords, each a
/// sentence) and writes them into its folder; returns them.
pub fn train_for_index(
    index: &LiteratureIndex,
    config: &Word2VecConfig,
    out: &mut dyn Report,
) -> anyhow::Result<WordVectors> {
    let papers = index.papers()?;
    let mut sentences = Vec::with_capacity(papers.len() * 3);
    // Each term is shown as the word it most often came from ("retriev" → "retrieval").
    let mut words: HashMap<String, HashMap<String, u64>> = HashMap::new();
    for paper in &papers {
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
    let vectors = WordVectors::new(listed, vectors.dim, vectors.data, trained)
        .map_err(|e| anyhow::anyhow!("the trained vectors: {e}"))?;
    vectors.save(index.dir())?;
    Ok(vectors)
}

/// The most frequent key (the first in sorted order on a tie, so the choice is stable).
fn most_common(counts: &HashMap<String, u64>) -> Option<&str> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(word, _)| word.as_str())
}
