//! Word vectors for a literature index (`miracle index --word-vectors`): the index's papers
//! read with the search's own analyzer (so a neighbour is a term the index can search for),
//! then skip-gram with negative sampling (`miracle_core::words`), saved beside the index.

use std::collections::HashMap;

use anyhow::Context;
use burn::prelude::Device;
use miracle_core::dense::{EncoderConfig, train_encoder};
use miracle_core::words::{Corpus, Vectors, Word2VecConfig, train};
use miracle_experts::search::dense::DenseIndex;
use miracle_experts::search::{LiteratureIndex, WordVectors, analyzer};

use crate::{Progress, Report};

/// The settings `miracle index --word-vectors` trains with (docs/BENCHMARKS.md, "Hybrid
/// retrieval and word vectors").
pub const WORD_VECTORS: Word2VecConfig = Word2VecConfig::DEFAULT;

/// The settings of hybrid search's encoder.
pub const ENCODER: EncoderConfig = EncoderConfig::DEFAULT;

/// Trains word vectors on every paper of `index` (title, abstract and keywords, each a
/// sentence), then hybrid search's encoder from them (titles against abstracts, sentences
/// against the rest of their abstract), and writes both into its folder; returns the word
/// vectors.
pub fn train_for_index(
    index: &LiteratureIndex,
    config: &Word2VecConfig,
    out: &mut dyn Report,
) -> anyhow::Result<WordVectors> {
    // In id order, not the index's (which depends on how its segments were written), so
    // the same papers give the same vectors however they were indexed.
    let mut papers = index.papers()?;
    papers.sort_by(|a, b| a.id.cmp(&b.id));
    let texts = Texts::read(&papers);
    let (words, corpus, vectors) = train_words(&texts, config, out)?;
    words.save(index.dir())?;
    let sentences = texts.sentence_rows(&corpus);
    match train_dense(
        &papers,
        texts.rows(&corpus),
        sentences,
        &corpus,
        &vectors,
        out,
    )? {
        Some(dense) => dense.save(index.dir())?,
        None => {
            let stale = index.dir().join(miracle_experts::search::dense::FILE);
            if stale.exists() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("cannot remove {}", stale.display()))?;
            }
        }
    }
    Ok(words)
}

/// Hybrid search's encoder, trained on each paper's title against its abstract, and every
/// paper's vector (title, abstract and keywords together); `None` for a catalogue with
/// fewer than two papers that have both (it has related terms, not hybrid search).
fn train_dense(
    papers: &[miracle_corpora::Paper],
    rows: Vec<[Vec<u32>; 3]>,
    sentences: Vec<Vec<Vec<u32>>>,
    corpus: &Corpus,
    vectors: &Vectors,
    out: &mut dyn Report,
) -> anyhow::Result<Option<DenseIndex>> {
    let mut pairs: Vec<(Vec<u32>, Vec<u32>)> = rows
        .iter()
        .map(|[title, text, _]| (title.clone(), text.clone()))
        .filter(|(title, text)| !title.is_empty() && !text.is_empty())
        .collect();
    let usable = pairs.len();
    if usable < 2 {
        writeln!(
            out,
            "no dense encoder (hybrid search): {usable} papers have both a title and an abstract of known words; it needs two or more"
        )?;
        return Ok(None);
    }
    for paper in &sentences {
        pairs.extend(sentence_pairs(paper, ENCODER.sentence_pairs));
    }
    writeln!(
        out,
        "dense encoder: {usable} title↔abstract pairs and {} of a sentence with the rest of its abstract",
        pairs.len() - usable
    )?;
    let encoder = train_encoder(
        vectors,
        &corpus.counts,
        &pairs,
        &ENCODER,
        &Device::flex(),
        &mut |p| out.progress(Progress::Words(&p)),
    )?;
    let papers = papers
        .iter()
        .zip(rows)
        .map(|(paper, fields)| {
            let rows = fields.iter().flatten().map(|&w| w as usize).collect();
            (paper.id.clone(), rows)
        })
        .collect();
    DenseIndex::encoding(
        encoder.dim,
        encoder.weights,
        encoder.vectors,
        papers,
        serde_json::to_value(ENCODER)?,
    )
    .map(Some)
    .map_err(|e| anyhow::anyhow!("the trained encoder: {e}"))
}

/// Up to `most` of an abstract's sentences (spread over it), each with the rest of the
/// abstract: the inverse cloze task's pairs. An abstract of one sentence has no rest.
fn sentence_pairs(sentences: &[Vec<u32>], most: usize) -> Vec<(Vec<u32>, Vec<u32>)> {
    if sentences.len() < 2 || most == 0 {
        return Vec::new();
    }
    let step = (sentences.len() / most).max(1);
    (0..sentences.len())
        .step_by(step)
        .take(most)
        .map(|at| {
            let rest = (sentences.iter().enumerate())
                .filter(|(i, _)| *i != at)
                .flat_map(|(_, s)| s.iter().copied())
                .collect();
            (sentences[at].clone(), rest)
        })
        .collect()
}

/// Every paper's title, abstract and keywords read once with the search's analyzer: the
/// index terms, and for each term the words it was made from.
struct Texts {
    /// Per paper: title, abstract, keywords.
    terms: Vec<[Vec<String>; 3]>,
    /// Per paper: its abstract's sentences.
    sentences: Vec<Vec<Vec<String>>>,
    /// Each term is shown as the word it most often came from ("retriev" → "retrieval").
    words: HashMap<String, HashMap<String, u64>>,
}

impl Texts {
    fn read(papers: &[miracle_corpora::Paper]) -> Self {
        let mut words: HashMap<String, HashMap<String, u64>> = HashMap::new();
        let mut read = |text: &str| -> Vec<String> {
            let pairs = analyzer::terms_and_words(text);
            for (term, word) in &pairs {
                *words
                    .entry(term.clone())
                    .or_default()
                    .entry(word.clone())
                    .or_default() += 1;
            }
            pairs.into_iter().map(|(term, _)| term).collect()
        };
        let terms = papers
            .iter()
            .map(|p| {
                [
                    read(&p.title),
                    read(&p.abstract_text),
                    read(&p.keywords.join(" ")),
                ]
            })
            .collect();
        let sentences = papers
            .iter()
            .map(|p| {
                split_sentences(&p.abstract_text)
                    .map(|s| {
                        analyzer::terms_and_words(s)
                            .into_iter()
                            .map(|(t, _)| t)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Texts {
            terms,
            sentences,
            words,
        }
    }

    /// Every paper's abstract sentences as rows of `corpus`'s vocabulary.
    fn sentence_rows(&self, corpus: &Corpus) -> Vec<Vec<Vec<u32>>> {
        let known = known_rows(corpus);
        (self.sentences.iter())
            .map(|paper| paper.iter().map(|s| known(s)).collect())
            .collect()
    }

    /// Every paper's title, abstract and keywords as rows of `corpus`'s vocabulary (terms
    /// without a vector left out).
    fn rows(&self, corpus: &Corpus) -> Vec<[Vec<u32>; 3]> {
        let known = known_rows(corpus);
        self.terms
            .iter()
            .map(|[title, text, keywords]| [known(title), known(text), known(keywords)])
            .collect()
    }
}

fn train_words(
    texts: &Texts,
    config: &Word2VecConfig,
    out: &mut dyn Report,
) -> anyhow::Result<(WordVectors, Corpus, Vectors)> {
    let corpus = Corpus::new(texts.terms.iter().flatten().cloned(), config.min_count);
    let (vocabulary, occurrences, kept) = corpus.sizes();
    writeln!(
        out,
        "word vectors: {} papers, {occurrences} occurrences of {vocabulary} terms seen {} times or more, {kept} sentences",
        texts.terms.len(),
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
            let shown = most_common(&texts.words[term]).unwrap_or(term).to_string();
            (term.clone(), shown, count)
        })
        .collect();
    let trained = serde_json::to_value(config)?;
    let words = WordVectors::new(listed, vectors.dim, vectors.data.clone(), trained)
        .map_err(|e| anyhow::anyhow!("the trained vectors: {e}"))?;
    Ok((words, corpus, vectors))
}

/// Terms as a row of `corpus`'s vocabulary, those without a vector left out.
fn known_rows(corpus: &Corpus) -> impl Fn(&[String]) -> Vec<u32> + '_ {
    let ids: HashMap<&str, u32> = (corpus.words.iter().enumerate())
        .map(|(i, w)| (w.as_str(), i as u32))
        .collect();
    move |terms| {
        (terms.iter())
            .filter_map(|w| ids.get(w.as_str()).copied())
            .collect()
    }
}

/// A text's sentences: split after a full stop, question or exclamation mark followed by a
/// space, or after a Chinese full stop.
fn split_sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = rest
            .char_indices()
            .find_map(|(i, c)| match c {
                '。' | '！' | '？' => Some(i + c.len_utf8()),
                '.' | '?' | '!' if rest[i + 1..].starts_with(' ') => Some(i + 2),
                _ => None,
            })
            .unwrap_or(rest.len());
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head.trim())
    })
    .filter(|s| !s.is_empty())
}

/// The most frequent key (the first in sorted order on a tie, so the choice is stable).
fn most_common(counts: &HashMap<String, u64>) -> Option<&str> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(word, _)| word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_full_stops_in_both_languages_but_not_inside_numbers() {
        let text = "Vitamin D was 2.5 times higher. Bone density rose! Why? 结果显著。样本为120例";
        let sentences: Vec<&str> = split_sentences(text).collect();
        assert_eq!(
            sentences,
            [
                "Vitamin D was 2.5 times higher.",
                "Bone density rose!",
                "Why?",
                "结果显著。",
                "样本为120例"
            ]
        );
    }

    #[test]
    fn a_sentence_is_paired_with_the_rest_of_its_abstract_only() {
        let abstract_ = vec![vec![1, 2], vec![3], vec![4, 5]];
        let pairs = sentence_pairs(&abstract_, 10);
        assert_eq!(
            pairs,
            [
                (vec![1, 2], vec![3, 4, 5]),
                (vec![3], vec![1, 2, 4, 5]),
                (vec![4, 5], vec![1, 2, 3])
            ]
        );
        assert_eq!(sentence_pairs(&abstract_, 1), [(vec![1, 2], vec![3, 4, 5])]);
        assert!(sentence_pairs(&abstract_, 0).is_empty());
        assert!(sentence_pairs(&abstract_[..1], 10).is_empty());
    }
}
