//! Supervised fine-tuning (instruction tuning) on demonstrations: cross-entropy on the
//! tokens the model is trained to write (the assistant's steps), plus λ times the
//! language-modelling loss on the whole text — GPT-1's L3 = L2 + λ·L1. What the model
//! writes is decided by the caller (the router's renderer marks it); results of expert
//! calls are context only and never a target.
//!
//! Demonstrations are packed whole into rows of `block_size + 1` tokens (never split
//! across rows); the rest of a row is padding that no loss sees.

use burn::prelude::*;

use super::pretrain::Objective;
use crate::gpt::Gpt;
use crate::kernels;
use crate::rng::SplitMix64;
use crate::tokenizer::Special;

/// One tokenized demonstration and, per token, whether the model is trained to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub ids: Vec<u32>,
    pub trained: Vec<bool>,
}

/// Packed rows: token ids `[rows, block + 1]` and, per target position `[rows, block]`,
/// the weight of the assistant loss and of the language-modelling loss (0 or 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub block: usize,
    ids: Vec<u32>,
    assistant: Vec<f32>,
    text: Vec<f32>,
}

/// Packing's outcome: the rows, and how many examples were longer than a row and left out.
#[derive(Debug, Clone, PartialEq)]
pub struct PackReport {
    pub rows: Rows,
    pub examples: usize,
    pub too_long: usize,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.ids.len() / (self.block + 1)
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Tokens that some loss sees.
    pub fn trained_tokens(&self) -> usize {
        self.text.iter().filter(|&&w| w > 0.0).count()
    }
}

/// Packs `examples` whole, in order, into rows for a model of context `block`.
pub fn pack(examples: &[Example], block: usize) -> PackReport {
    let width = block + 1;
    let mut rows = Rows {
        block,
        ids: Vec::new(),
        assistant: Vec::new(),
        text: Vec::new(),
    };
    // The row being filled: ids, and per token the weights of predicting it.
    let mut row: Vec<(u32, f32, f32)> = Vec::with_capacity(width);
    let mut too_long = 0;
    let flush = |row: &mut Vec<(u32, f32, f32)>, rows: &mut Rows| {
        if row.is_empty() {
            return;
        }
        row.resize(width, (Special::Pad.id(), 0.0, 0.0));
        rows.ids.extend(row.iter().map(|t| t.0));
        // Target position j predicts token j + 1.
        rows.assistant.extend(row[1..].iter().map(|t| t.1));
        rows.text.extend(row[1..].iter().map(|t| t.2));
        row.clear();
    };
    for example in examples {
        let n = example.ids.len();
        if n > width || n < 2 {
            too_long += usize::from(n > width);
            continue;
        }
        if row.len() + n > width {
            flush(&mut row, &mut rows);
        }
        // The first token of an example is never a target: what precedes it in the row
        // belongs to another demonstration.
        row.extend(example.ids.iter().zip(&example.trained).enumerate().map(
            |(k, (&id, &trained))| {
                let target = if k == 0 { 0.0 } else { 1.0 };
                (id, target * f32::from(u8::from(trained)), target)
            },
        ));
    }
    flush(&mut row, &mut rows);
    PackReport {
        rows,
        examples: examples.len(),
        too_long,
    }
}

/// The fine-tuning objective on packed rows: batches of `batch` rows drawn with a seed.
pub struct Finetuning<'r> {
    pub train: &'r Rows,
    pub val: &'r Rows,
    pub batch: usize,
    /// λ: the weight of the language-modelling loss beside the assistant loss.
    pub lm_weight: f64,
    pub seed: u64,
}

/// Input ids `[b, t]`, targets `[b, t]`, assistant and text weights `[b, t]`.
type Batch = (Tensor<2, Int>, Tensor<2, Int>, Tensor<2>, Tensor<2>);

fn batch_of(rows: &Rows, picks: &[usize], device: &Device) -> Batch {
    let (t, width) = (rows.block, rows.block + 1);
    let b = picks.len();
    let mut x = Vec::with_capacity(b * t);
    let mut y = Vec::with_capacity(b * t);
    let mut assistant = Vec::with_capacity(b * t);
    let mut text = Vec::with_capacity(b * t);
    for &r in picks {
        let ids = &rows.ids[r * width..(r + 1) * width];
        x.extend(ids[..t].iter().map(|&i| i as i64));
        y.extend(ids[1..].iter().map(|&i| i as i64));
        assistant.extend_from_slice(&rows.assistant[r * t..(r + 1) * t]);
        text.extend_from_slice(&rows.text[r * t..(r + 1) * t]);
    }
    let ints = |v: Vec<i64>| Tensor::<1, Int>::from_ints(v.as_slice(), device).reshape([b, t]);
    let floats = |v: Vec<f32>| Tensor::<1>::from_floats(v.as_slice(), device).reshape([b, t]);
    (ints(x), ints(y), floats(assistant), floats(text))
}

/// Σ w·nll / max(Σ w, 1): a weighted mean that is 0, not NaN, for a batch without targets.
fn weighted_mean(nll: Tensor<2>, weights: Tensor<2>) -> Tensor<1> {
    let total = weights.clone().sum().clamp_min(1.0);
    (nll * weights).sum().div(total)
}

/// Per-position negative log-likelihood of the targets, `[b, t]`.
fn nll(model: &Gpt, x: Tensor<2, Int>, y: Tensor<2, Int>) -> Tensor<2> {
    let [b, t] = x.dims();
    let logits = model.forward(x);
    let vocab = logits.dims()[2];
    kernels::cross_entropy(logits.reshape([b * t, vocab]), y.reshape([b * t])).reshape([b, t])
}

impl Finetuning<'_> {
    fn picks(&self, rows: &Rows, index: u64, salt: u64) -> Vec<usize> {
        let mut rng = SplitMix64::new(self.seed ^ salt ^ index.wrapping_mul(0x9E37_79B9));
        (0..self.batch)
            .map(|_| (rng.next_u64() % rows.len() as u64) as usize)
            .collect()
    }

    /// The assistant loss alone, on validation rows: what fine-tuning is for.
    pub fn assistant_loss(
        &self,
        model: &Gpt,
        rows: &Rows,
        picks: &[usize],
        device: &Device,
    ) -> Tensor<1> {
        let (x, y, assistant, _) = batch_of(rows, picks, device);
        weighted_mean(nll(model, x, y), assistant)
    }
}

impl Objective for Finetuning<'_> {
    fn train_loss(&self, model: &Gpt, index: u64, device: &Device) -> Tensor<1> {
        let picks = self.picks(self.train, index, 0);
        let (x, y, assistant, text) = batch_of(self.train, &picks, device);
        let nll = nll(model, x, y);
        weighted_mean(nll.clone(), assistant)
            .add(weighted_mean(nll, text).mul_scalar(self.lm_weight))
    }

    fn val_loss(&self, model: &Gpt, index: u64, device: &Device) -> Tensor<1> {
        let picks = self.picks(self.val, index, 0xA5A5);
        self.assistant_loss(model, self.val, &picks, device)
    }

    fn tokens_per_batch(&self) -> usize {
        self.batch * self.train.block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(ids: &[u32], trained: &[bool]) -> Example {
        Example {
            ids: ids.to_vec(),
            trained: trained.to_vec(),
        }
    }

    #[test]
    fn packs_whole_examples_and_weights_only_their_own_targets() {
        let a = example(&[20, 21, 22], &[false, true, true]);
        let b = example(&[30, 31], &[false, true]);
        let long = example(&[1; 6], &[true; 6]);
        let report = pack(&[a, b, long], 4);
        assert_eq!(report.too_long, 1);
        // Row 0: a and then b would need 5 + … tokens; a (3) + b (2) = 5 = width.
        assert_eq!(report.rows.len(), 1);
        assert_eq!(report.rows.ids, vec![20, 21, 22, 30, 31]);
        // Targets 21, 22 (trained, a's own), 30 (b's first token: never), 31 (trained).
        assert_eq!(report.rows.assistant, vec![1.0, 1.0, 0.0, 1.0]);
        assert_eq!(report.rows.text, vec![1.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn pads_a_row_that_the_next_example_does_not_fit() {
        let a = example(&[20, 21, 22], &[false, false, true]);
        let b = example(&[30, 31, 32], &[false, true, true]);
        let report = pack(&[a, b], 4);
        assert_eq!(report.rows.len(), 2);
        let pad = Special::Pad.id();
        assert_eq!(
            report.rows.ids,
            vec![20, 21, 22, pad, pad, 30, 31, 32, pad, pad]
        );
        assert_eq!(
            report.rows.assistant,
            vec![0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(
            report.rows.text,
            vec![1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(report.rows.trained_tokens(), 4);
    }
}
