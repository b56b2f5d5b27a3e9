//! Pretraining data: documents (papers and prose) tokenized and packed into one stream per split, stored as
//! nanoGPT's `train.bin`/`val.bin` (little-endian uint16), and batches drawn from it.
//!
//! A batch depends only on (seed, step), never on what came before, so a run resumed at
//! step s draws exactly the batches an uninterrupted run would have.

use std::path::Path;

use burn::prelude::*;
use miracle_corpora::Text;
use miracle_corpora::split::is_held_out;

use crate::rng::SplitMix64;
use crate::tokenizer::{Special, Tokenizer, TokenizerError};

/// Token streams for training and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub train: Vec<u32>,
    pub val: Vec<u32>,
}

/// Tokenizes every document (a paper's title and abstract, or prose) and packs them, each
/// followed by `<|endoftext|>`; held-out ids (`corpora/src/split.rs`) go to validation.
pub fn pack(tokenizer: &Tokenizer, texts: &[Text]) -> Result<Packed, TokenizerError> {
    let mut packed = Packed {
        train: Vec::new(),
        val: Vec::new(),
    };
    for text in texts {
        let stream = if is_held_out(&text.id) {
            &mut packed.val
        } else {
            &mut packed.train
        };
        stream.extend(tokenizer.encode(&text.text)?);
        stream.push(Special::EndOfText.id());
    }
    Ok(packed)
}

/// Writes tokens as nanoGPT does: uint16, little-endian, no header.
pub fn write_bin(path: &Path, tokens: &[u32]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(tokens.len() * 2);
    for &token in tokens {
        let token = u16::try_from(token).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("token {token} does not fit uint16"),
            )
        })?;
        bytes.extend_from_slice(&token.to_le_bytes());
    }
    crate::fs::write_atomic(path, &bytes)
}

pub fn read_bin(path: &Path) -> std::io::Result<Vec<u32>> {
    let bytes = std::fs::read(path)?;
    if bytes.len() % 2 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "odd length: not a uint16 token file",
        ));
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
        .collect())
}

/// Draws `batch` windows of `block + 1` tokens at positions chosen from (seed, step).
pub struct Batches<'a> {
    tokens: &'a [u32],
    batch: usize,
    block: usize,
    seed: u64,
}

impl<'a> Batches<'a> {
    /// `None` when the stream is too short for one window.
    pub fn new(tokens: &'a [u32], batch: usize, block: usize, seed: u64) -> Option<Self> {
        (tokens.len() > block + 1).then_some(Batches {
            tokens,
            batch,
            block,
            seed,
        })
    }

    /// Inputs and targets `[batch, block]` for a step.
    pub fn get(&self, step: u64, device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
        let mut rng = SplitMix64::new(self.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let span = (self.tokens.len() - self.block - 1) as u64;
        let (mut x, mut y) = (
            Vec::with_capacity(self.batch * self.block),
            Vec::with_capacity(self.batch * self.block),
        );
        for _ in 0..self.batch {
            let start = (rng.next_u64() % span) as usize;
            let window = &self.tokens[start..start + self.block + 1];
            x.extend(window[..self.block].iter().map(|&t| i64::from(t)));
            y.extend(window[1..].iter().map(|&t| i64::from(t)));
        }
        let shape = [self.batch, self.block];
        (
            Tensor::<1, Int>::from_ints(x.as_slice(), device).reshape(shape),
            Tensor::<1, Int>::from_ints(y.as_slice(), device).reshape(shape),
        )
    }
}

/// nanoGPT's schedule: linear warm-up to `lr`, then cosine decay to `min_lr` at `steps`.
pub fn learning_rate(step: u64, warmup: u64, steps: u64, lr: f64, min_lr: f64) -> f64 {
    if step < warmup {
        return lr * (step + 1) as f64 / warmup as f64;
    }
    let ratio = ((step - warmup) as f64 / steps.saturating_sub(warmup).max(1) as f64).min(1.0);
    min_lr + 0.5 * (1.0 + (std::f64::consts::PI * ratio).cos()) * (lr - min_lr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_matches_the_reference() {
        // torch_gpt_reference.py get_lr(it, iters=2000): warm-up 100, 1e-3 → 1e-4.
        assert!((learning_rate(0, 100, 2000, 1e-3, 1e-4) - 1e-5).abs() < 1e-12);
        assert!((learning_rate(99, 100, 2000, 1e-3, 1e-4) - 1e-3).abs() < 1e-12);
        assert!((learning_rate(1050, 100, 2000, 1e-3, 1e-4) - 5.5e-4).abs() < 1e-9);
        assert!((learning_rate(2000, 100, 2000, 1e-3, 1e-4) - 1e-4).abs() < 1e-12);
    }

    #[test]
    fn bins_round_trip_and_refuse_large_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.bin");
        write_bin(&path, &[0, 1, 65535, 42]).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), [0, 0, 1, 0, 255, 255, 42, 0]);
        assert_eq!(read_bin(&path).unwrap(), [0, 1, 65535, 42]);
        assert!(write_bin(&path, &[65536]).is_err());
    }

    #[test]
    fn batches_depend_only_on_seed_and_step() {
        let device = Device::flex();
        let tokens: Vec<u32> = (0..500).collect();
        let batches = Batches::new(&tokens, 3, 8, 7).unwrap();
        let (x1, y1) = batches.get(5, &device);
        let (x2, _) = batches.get(5, &device);
        let (x3, _) = batches.get(6, &device);
        let ints = |t: Tensor<2, Int>| t.into_data().convert::<i64>().try_to_vec::<i64>().unwrap();
        let (a, b, c, y) = (ints(x1), ints(x2), ints(x3), ints(y1));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(
            a.iter().zip(&y).all(|(x, y)| y - x == 1),
            "targets are inputs shifted by one"
        );
        assert!(Batches::new(&tokens[..9], 1, 8, 0).is_none());
    }
}
