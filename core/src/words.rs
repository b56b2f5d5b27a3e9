//! Word vectors trained with burn: skip-gram with negative sampling (Mikolov et al. 2013,
//! "Distributed Representations of Words and Phrases and their Compositionality", the
//! word2vec paper). A word's vector is trained to score high against the words around it
//! and low against words drawn from the unigram distribution raised to ¾, so words used in
//! the same contexts ("tumour", "tumor"; "检索", "查询") end up close.
//!
//! The corpus is a list of sentences of words; which words (stems, jieba's segments) is the
//! caller's choice: the literature search trains on its own index terms, so that a
//! neighbour is a term it can search for. Everything random (sub-sampling, windows, the
//! order of pairs, negatives, the initial vectors) is drawn from one seeded
//! [`SplitMix64`], so a run is reproducible from its config.

use std::collections::HashMap;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;

use crate::rng::SplitMix64;
use crate::train::{AdamW, AdamWConfig};

/// What a run trains: its hyperparameters, word2vec's names where it has them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word2VecConfig {
    /// Vector size.
    pub dim: usize,
    /// Largest distance between a word and a context word; each position draws its own
    /// window from 1 to this, so near words count more (word2vec's `-window`).
    pub window: usize,
    /// Words drawn from the noise distribution per (word, context) pair (`-negative`).
    pub negatives: usize,
    /// Words seen fewer times than this get no vector (`-min-count`).
    pub min_count: u64,
    /// Frequent words are kept with probability (√(f/t) + 1)·t/f, f the word's share of
    /// the corpus (`-sample`; 0 keeps every word).
    pub subsample: f64,
    /// Passes over the corpus: at least this many, and more while fewer than `min_steps`
    /// steps have been drawn (a small catalogue, most of whose words sub-sampling drops,
    /// still gets trained), at most 1,000.
    pub epochs: usize,
    pub min_steps: usize,
    /// (word, context) pairs per optimisation step.
    pub batch_size: usize,
    /// Adam's learning rate at the start; it falls linearly to a hundredth at the end.
    pub lr: f64,
    pub seed: u64,
}

impl Word2VecConfig {
    /// What `miracle index --word-vectors` trains with (docs/BENCHMARKS.md, "Hybrid
    /// retrieval and word vectors").
    pub const DEFAULT: Word2VecConfig = Word2VecConfig {
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
}

impl Default for Word2VecConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WordsError {
    #[error(
        "no two words seen {min_count} times or more share a sentence ({sentences} sentences given): nothing to train on (index more text, or lower min_count)"
    )]
    EmptyVocabulary { sentences: usize, min_count: u64 },
    #[error("{0}: must be at least 1")]
    Zero(&'static str),
    #[error("{0} pairs of texts with known words: a contrastive encoder needs two or more")]
    TooFewPairs(usize),
}

/// The sentences, as indices into a vocabulary of the words seen `min_count` times or more
/// (most frequent first; ties in order of first appearance, so the order is reproducible).
#[derive(Debug, Clone)]
pub struct Corpus {
    pub words: Vec<String>,
    pub counts: Vec<u64>,
    sentences: Vec<Vec<u32>>,
}

impl Corpus {
    pub fn new<S, W>(sentences: S, min_count: u64) -> Corpus
    where
        S: IntoIterator<Item = Vec<W>>,
        W: AsRef<str>,
    {
        let sentences: Vec<Vec<W>> = sentences.into_iter().collect();
        let mut seen: HashMap<&str, (u64, usize)> = HashMap::new();
        for word in sentences.iter().flatten() {
            let next = seen.len();
            seen.entry(word.as_ref()).or_insert((0, next)).0 += 1;
        }
        let mut kept: Vec<(&str, u64, usize)> = seen
            .into_iter()
            .filter(|(_, (count, _))| *count >= min_count.max(1))
            .map(|(word, (count, first))| (word, count, first))
            .collect();
        kept.sort_by_key(|&(_, count, first)| (std::cmp::Reverse(count), first));
        let id: HashMap<&str, u32> = kept
            .iter()
            .enumerate()
            .map(|(i, (word, ..))| (*word, i as u32))
            .collect();
        let encoded = sentences
            .iter()
            .map(|s| {
                s.iter()
                    .filter_map(|w| id.get(w.as_ref()).copied())
                    .collect()
            })
            .filter(|s: &Vec<u32>| s.len() > 1)
            .collect();
        Corpus {
            words: kept.iter().map(|(w, ..)| w.to_string()).collect(),
            counts: kept.iter().map(|&(_, c, _)| c).collect(),
            sentences: encoded,
        }
    }

    /// Words kept, occurrences of them, and sentences of two or more such words.
    pub fn sizes(&self) -> (usize, u64, usize) {
        (
            self.words.len(),
            self.counts.iter().sum(),
            self.sentences.len(),
        )
    }
}

/// The trained vectors, `dim` floats per word of the corpus's vocabulary, in its order.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    pub dim: usize,
    pub data: Vec<f32>,
}

/// One step's report, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub step: usize,
    pub steps: usize,
    pub loss: f32,
}

/// A word's vector and a context vector for every word: skip-gram's two tables.
#[derive(Module, Debug)]
struct SkipGram {
    input: Param<Tensor<2>>,
    output: Param<Tensor<2>>,
}

impl SkipGram {
    /// word2vec's start: input vectors uniform in ±0.5/dim, context vectors zero.
    fn new(words: usize, dim: usize, rng: &mut SplitMix64, device: &Device) -> Self {
        let input: Vec<f32> = (0..words * dim)
            .map(|_| (rng.next_f32() - 0.5) / dim as f32)
            .collect();
        SkipGram {
            input: Param::from_tensor(Tensor::from_data(
                TensorData::new(input, [words, dim]),
                device,
            )),
            output: Param::from_tensor(Tensor::zeros([words, dim], device)),
        }
    }

    /// Mean over the batch of −log σ(u_c·v_w) − Σ_k log σ(−u_k·v_w).
    fn loss(&self, batch: &Batch, device: &Device) -> Tensor<1> {
        let ints = |v: &[i64]| Tensor::<1, Int>::from_ints(v, device);
        let n = batch.words.len();
        let k = batch.negatives.len() / n;
        let dim = self.input.dims()[1];
        let words = self.input.val().select(0, ints(&batch.words));
        let contexts = self.output.val().select(0, ints(&batch.contexts));
        let noise = self
            .output
            .val()
            .select(0, ints(&batch.negatives))
            .reshape([n, k, dim]);
        let positive = (words.clone() * contexts).sum_dim(1).reshape([n]);
        let negative = (noise * words.unsqueeze_dim::<3>(1))
            .sum_dim(2)
            .reshape([n, k]);
        let loss =
            log_sigmoid(positive).neg() - log_sigmoid(negative.neg()).sum_dim(1).reshape([n]);
        loss.mean()
    }
}

/// One step's pairs and their negatives (`negatives` per pair, flattened).
struct Batch {
    words: Vec<i64>,
    contexts: Vec<i64>,
    negatives: Vec<i64>,
}

/// Draws noise words from the unigram distribution raised to ¾, as word2vec's table does.
struct Noise {
    table: Vec<u32>,
}

impl Noise {
    const SIZE: usize = 1 << 20;

    fn new(counts: &[u64]) -> Self {
        let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
        let total: f64 = weights.iter().sum();
        let mut table = Vec::with_capacity(Self::SIZE);
        let mut cumulative = 0.0;
        for (word, w) in weights.iter().enumerate() {
            cumulative += w / total;
            let until = ((cumulative * Self::SIZE as f64).round() as usize).min(Self::SIZE);
            table.resize(until.max(table.len()), word as u32);
        }
        table.resize(Self::SIZE, (counts.len() - 1) as u32);
        Noise { table }
    }

    fn draw(&self, rng: &mut SplitMix64) -> u32 {
        self.table[(rng.next_u64() >> 44) as usize]
    }
}

/// One epoch's (word, context) pairs, shuffled: frequent words sub-sampled, each position
/// with its own window.
fn pairs(corpus: &Corpus, config: &Word2VecConfig, rng: &mut SplitMix64) -> Vec<(u32, u32)> {
    let total: u64 = corpus.counts.iter().sum();
    let keep: Vec<f32> = corpus
        .counts
        .iter()
        .map(|&c| {
            if config.subsample <= 0.0 {
                return 1.0;
            }
            let z = c as f64 / total as f64;
            (((z / config.subsample).sqrt() + 1.0) * config.subsample / z).min(1.0) as f32
        })
        .collect();
    let mut pairs = Vec::new();
    let mut kept = Vec::new();
    for sentence in &corpus.sentences {
        kept.clear();
        kept.extend(
            sentence
                .iter()
                .copied()
                .filter(|&w| rng.next_f32() < keep[w as usize]),
        );
        for (i, &word) in kept.iter().enumerate() {
            let window = 1 + (rng.next_u64() % config.window as u64) as usize;
            let from = i.saturating_sub(window);
            let to = (i + window + 1).min(kept.len());
            for (j, &context) in kept.iter().enumerate().take(to).skip(from) {
                if j != i {
                    pairs.push((word, context));
                }
            }
        }
    }
    // Batches of consecutive pairs would each hold one passage.
    rng.shuffle(&mut pairs);
    pairs
}

/// Trains vectors for `corpus`'s vocabulary on `device` (an autodiff device is made of it).
pub fn train(
    corpus: &Corpus,
    config: &Word2VecConfig,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vectors, WordsError> {
    for (name, value) in [
        ("dim", config.dim),
        ("window", config.window),
        ("negatives", config.negatives),
        ("epochs", config.epochs),
        ("batch_size", config.batch_size),
    ] {
        if value == 0 {
            return Err(WordsError::Zero(name));
        }
    }
    if corpus.words.is_empty() || corpus.sentences.is_empty() {
        return Err(WordsError::EmptyVocabulary {
            sentences: corpus.sentences.len(),
            min_count: config.min_count,
        });
    }
    let training = device.clone().autodiff();
    let mut rng = SplitMix64::new(config.seed);
    let mut model = SkipGram::new(corpus.words.len(), config.dim, &mut rng, &training);
    let mut optimizer = AdamW::new(AdamWConfig {
        weight_decay: 0.0,
        grad_clip: None,
        ..AdamWConfig::default()
    });
    let noise = Noise::new(&corpus.counts);
    // The pairs of every epoch are drawn up front, so the schedule knows its length.
    let mut epochs: Vec<Vec<(u32, u32)>> = Vec::new();
    let mut drawn = 0;
    while epochs.len() < config.epochs
        || (drawn < config.min_steps * config.batch_size && epochs.len() < 1_000)
    {
        let epoch = pairs(corpus, config, &mut rng);
        drawn += epoch.len();
        epochs.push(epoch);
    }
    let steps: usize = epochs
        .iter()
        .map(|p| p.len().div_ceil(config.batch_size))
        .sum();
    for (done, chunk) in epochs
        .iter()
        .flat_map(|p| p.chunks(config.batch_size))
        .enumerate()
    {
        let batch = Batch {
            words: chunk.iter().map(|&(w, _)| i64::from(w)).collect(),
            contexts: chunk.iter().map(|&(_, c)| i64::from(c)).collect(),
            negatives: (0..chunk.len() * config.negatives)
                .map(|_| i64::from(noise.draw(&mut rng)))
                .collect(),
        };
        let loss = model.loss(&batch, &training);
        let value = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = config.lr * (1.0 - 0.99 * done as f64 / steps as f64);
        model = optimizer.step(lr, model, grads).0;
        progress(Progress {
            step: done + 1,
            steps,
            loss: value,
        });
    }
    let data = model
        .input
        .val()
        .into_data()
        .try_into_vec::<f32>()
        .expect("float vectors");
    Ok(Vectors {
        dim: config.dim,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_is_the_frequent_words_most_frequent_first() {
        let corpus = Corpus::new(
            [vec!["b", "a", "a", "c"], vec!["a", "b", "d"], vec!["e"]],
            2,
        );
        assert_eq!(corpus.words, ["a", "b"]);
        assert_eq!(corpus.counts, [3, 2]);
        // "e" alone is no sentence; "c" and "d" are dropped.
        assert_eq!(corpus.sentences, [vec![1, 0, 0], vec![0, 1]]);
    }

    #[test]
    fn noise_follows_the_three_quarter_power() {
        let noise = Noise::new(&[81, 1]);
        let first = noise.table.iter().filter(|&&w| w == 0).count() as f64;
        // 81^¾ = 27 against 1.
        assert!((first / Noise::SIZE as f64 - 27.0 / 28.0).abs() < 1e-3);
    }
}
