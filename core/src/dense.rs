//! A dense retriever trained with burn, without relevance judgments: a bag-of-words
//! bi-encoder (a text's vector is the weighted sum of its words' vectors, normalised), both
//! tables starting from word vectors ([`crate::words`]) and trained contrastively on pairs
//! of texts that belong together (a paper's title and its abstract; one sentence of an
//! abstract and the rest of it, the inverse cloze task), against the other pairs of the
//! batch (InfoNCE, both directions, as in CLIP and DPR's in-batch negatives).
//!
//! A word's weight starts at SIF's a/(a + p(w)) (Arora et al. 2017: frequent words count
//! less) and is learned with the vectors.

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use crate::rng::SplitMix64;
use crate::train::{AdamW, AdamWConfig};
use crate::words::{Progress, Vectors, WordsError};

/// How the encoder is trained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Pairs per batch: each pair's partner is the right one among this many.
    pub batch_size: usize,
    pub epochs: usize,
    pub lr: f64,
    /// Softmax temperature of the similarities.
    pub temperature: f64,
    /// SIF's a: a word of corpus share p starts with weight a/(a + p).
    pub sif: f64,
    pub seed: u64,
    /// Per paper, how many of its abstract's sentences are also paired with the rest of the
    /// abstract, beside its title (the inverse cloze task, Lee et al. 2019): a patron's
    /// claim reads more like one sentence of an abstract than like a title. 0 pairs titles
    /// only, as the encoder was trained before the field existed.
    #[serde(default)]
    pub sentence_pairs: usize,
}

impl EncoderConfig {
    /// What `miracle index --word-vectors` trains hybrid search's encoder with.
    pub const DEFAULT: EncoderConfig = EncoderConfig {
        batch_size: 128,
        epochs: 8,
        lr: 3e-3,
        temperature: 0.05,
        sif: 1e-3,
        seed: 1,
        sentence_pairs: 10,
    };
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The trained encoder: a vector and a weight per word of the vocabulary. A text's vector
/// is the normalised sum of its words' vectors times their weights (the literature search
/// encodes papers and queries so: miracle-experts' `search::dense`).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoder {
    pub dim: usize,
    pub vectors: Vec<f32>,
    pub weights: Vec<f32>,
}

#[derive(Module, Debug)]
struct BagOfWords {
    vectors: Param<Tensor<2>>,
    /// Log-weights, so that a weight stays positive.
    log_weights: Param<Tensor<1>>,
}

impl BagOfWords {
    /// Unit vectors of a batch of texts: `[texts, dim]`.
    fn encode(&self, texts: &[&[u32]], device: &Device) -> Tensor<2> {
        let longest = texts.iter().map(|t| t.len()).max().unwrap_or(1).max(1);
        let mut ids = vec![0i64; texts.len() * longest];
        let mut mask = vec![0.0f32; texts.len() * longest];
        for (r, text) in texts.iter().enumerate() {
            for (c, &w) in text.iter().enumerate() {
                ids[r * longest + c] = i64::from(w);
                mask[r * longest + c] = 1.0;
            }
        }
        let dim = self.vectors.dims()[1];
        let ids = Tensor::<1, Int>::from_ints(ids.as_slice(), device);
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [texts.len(), longest]), device);
        let weights = self
            .log_weights
            .val()
            .select(0, ids.clone())
            .exp()
            .reshape([texts.len(), longest])
            * mask;
        let rows = self
            .vectors
            .val()
            .select(0, ids)
            .reshape([texts.len(), longest, dim]);
        let sum = (rows * weights.unsqueeze_dim::<3>(2))
            .sum_dim(1)
            .reshape([texts.len(), dim]);
        let norm = sum.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-6);
        sum / norm
    }
}

/// Trains an encoder from `start` (word vectors of a vocabulary whose word `i` was seen
/// `counts[i]` times) on `pairs` of texts that belong together, as word indices.
pub fn train_encoder(
    start: &Vectors,
    counts: &[u64],
    pairs: &[(Vec<u32>, Vec<u32>)],
    config: &EncoderConfig,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Result<Encoder, WordsError> {
    for (name, value) in [("batch_size", config.batch_size), ("epochs", config.epochs)] {
        if value == 0 {
            return Err(WordsError::Zero(name));
        }
    }
    let usable: Vec<&(Vec<u32>, Vec<u32>)> = pairs
        .iter()
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .collect();
    // A batch of one pair has no negatives to learn from.
    if usable.len() < 2 {
        return Err(WordsError::TooFewPairs(usable.len()));
    }
    let batch_size = config.batch_size.min(usable.len()).max(2);
    let training = device.clone().autodiff();
    let total: u64 = counts.iter().sum::<u64>().max(1);
    let log_weights: Vec<f32> = counts
        .iter()
        .map(|&c| (config.sif / (config.sif + c as f64 / total as f64)).ln() as f32)
        .collect();
    let words = counts.len();
    let mut model = BagOfWords {
        vectors: Param::from_tensor(Tensor::from_data(
            TensorData::new(start.data.clone(), [words, start.dim]),
            &training,
        )),
        log_weights: Param::from_tensor(Tensor::from_data(
            TensorData::new(log_weights, [words]),
            &training,
        )),
    };
    let mut optimizer = AdamW::new(AdamWConfig {
        weight_decay: 0.0,
        grad_clip: None,
        ..AdamWConfig::default()
    });
    let mut rng = SplitMix64::new(config.seed);
    let mut order: Vec<usize> = (0..usable.len()).collect();
    let per_epoch = usable.len() / batch_size;
    let steps = per_epoch * config.epochs;
    let mut step = 0;
    for _ in 0..config.epochs {
        rng.shuffle(&mut order);
        for batch in order.chunks_exact(batch_size) {
            let left: Vec<&[u32]> = batch.iter().map(|&i| usable[i].0.as_slice()).collect();
            let right: Vec<&[u32]> = batch.iter().map(|&i| usable[i].1.as_slice()).collect();
            let similarities = model
                .encode(&left, &training)
                .matmul(model.encode(&right, &training).transpose())
                / config.temperature;
            // The right partner of row i is column i, read both ways.
            let diagonal = |logits: Tensor<2>| {
                let n = logits.dims()[0];
                let eye = Tensor::<2>::eye(n, &training);
                (log_softmax(logits, 1) * eye).sum().neg() / n as f64
            };
            let loss = (diagonal(similarities.clone()) + diagonal(similarities.transpose())) / 2.0;
            let value = loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = config.lr * (1.0 - 0.9 * step as f64 / steps.max(1) as f64);
            model = optimizer.step(lr, model, grads).0;
            step += 1;
            progress(Progress {
                step,
                steps,
                loss: value,
            });
        }
    }
    let read = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().expect("floats");
    let weights = model
        .log_weights
        .val()
        .exp()
        .into_data()
        .try_into_vec::<f32>()
        .expect("floats");
    Ok(Encoder {
        dim: start.dim,
        vectors: read(model.vectors.val()),
        weights,
    })
}
