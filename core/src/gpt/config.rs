//! The shape of a GPT, checked before any tensor is made.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A GPT-2-style decoder's hyperparameters (nanoGPT's `GPTConfig`); stored as `config.json`
/// in a model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GptConfig {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    /// Longest context, in tokens.
    pub block_size: usize,
    pub vocab_size: usize,
    /// Dropout on embeddings, residual branches and the MLP, in [0, 1).
    #[serde(default)]
    pub dropout: f64,
    /// Biases in linear layers and LayerNorms (GPT-2: true).
    #[serde(default = "yes")]
    pub bias: bool,
    /// How attention knows where tokens are (GPT-2: learned).
    #[serde(default)]
    pub position: Position,
}

/// How the model encodes positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// GPT-2's learned position embeddings (`wpe`), added to the token embeddings.
    #[default]
    Learned,
    /// Rotary embeddings (RoFormer, Su et al. 2021) on every head's queries and keys, with
    /// no weights: attention scores depend on relative offsets, so "the token k places
    /// back" is one head's job at every position. Copying a number or a topic from the
    /// request, which an agent's calls are made of, needs exactly that.
    Rotary,
}

fn yes() -> bool {
    true
}

/// A config that cannot make a model, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("`{0}` must be at least 1")]
    Zero(&'static str),
    #[error(
        "n_embd ({n_embd}) must be divisible by n_head ({n_head}) so every head has the same width"
    )]
    HeadsDoNotDivide { n_embd: usize, n_head: usize },
    #[error("dropout ({0}) must be in [0, 1)")]
    Dropout(f64),
    #[error(
        "rotary positions rotate channel pairs: the head width (n_embd / n_head = {0}) must be even"
    )]
    OddHeads(usize),
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

impl GptConfig {
    /// The smallest model worth testing on: one layer of 16 channels, 8 positions, a
    /// vocabulary of 300 (byte tokens and a few more). Tests that need another context or
    /// vocabulary change those fields: `GptConfig { block_size: 64, ..GptConfig::tiny() }`.
    pub fn tiny() -> Self {
        GptConfig {
            n_layer: 1,
            n_head: 2,
            n_embd: 16,
            block_size: 8,
            vocab_size: 300,
            dropout: 0.0,
            bias: true,
            position: Default::default(),
        }
    }

    /// Benchmark config A of `shared/bench/torch_gpt_reference.py` (no biases, as there).
    pub fn bench_a() -> Self {
        GptConfig {
            n_layer: 4,
            n_head: 4,
            n_embd: 128,
            block_size: 64,
            vocab_size: 65,
            dropout: 0.0,
            bias: false,
            position: Default::default(),
        }
    }

    /// Benchmark config B.
    pub fn bench_b() -> Self {
        GptConfig {
            n_layer: 6,
            n_head: 6,
            n_embd: 384,
            block_size: 256,
            vocab_size: 65,
            dropout: 0.0,
            bias: false,
            position: Default::default(),
        }
    }

    /// Benchmark config C: B with the shipped tokenizer's vocabulary.
    pub fn bench_c() -> Self {
        GptConfig {
            vocab_size: 8192,
            ..Self::bench_b()
        }
    }

    /// Benchmark config D, sized for a GPU: 12 layers × 512 wide, block 512, the shipped
    /// tokenizer's vocabulary (batch 64 in the benchmark).
    pub fn bench_d() -> Self {
        GptConfig {
            n_layer: 12,
            n_head: 8,
            n_embd: 512,
            block_size: 512,
            vocab_size: 8192,
            ..Self::bench_b()
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_embd", self.n_embd),
            ("block_size", self.block_size),
            ("vocab_size", self.vocab_size),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return Err(ConfigError::HeadsDoNotDivide {
                n_embd: self.n_embd,
                n_head: self.n_head,
            });
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ConfigError::Dropout(self.dropout));
        }
        if self.position == Position::Rotary && !self.head_dim().is_multiple_of(2) {
            return Err(ConfigError::OddHeads(self.head_dim()));
        }
        Ok(())
    }

    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Reads and validates a `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let file_error = |message: String| ConfigError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let config: GptConfig =
            serde_json::from_str(&text).map_err(|e| file_error(e.to_string()))?;
        config.validate().map_err(|e| file_error(e.to_string()))?;
        Ok(config)
    }

    /// Parameters, with the LM head tied to the token embedding (counted once).
    pub fn parameter_count(&self) -> usize {
        let (c, bias) = (self.n_embd, usize::from(self.bias));
        let layer_norm = c * (1 + bias);
        let attention = c * 3 * c + 3 * c * bias + c * c + c * bias;
        let mlp = c * 4 * c + 4 * c * bias + 4 * c * c + c * bias;
        let block = 2 * layer_norm + attention + mlp;
        let positions = match self.position {
            Position::Learned => self.block_size * c,
            Position::Rotary => 0,
        };
        self.vocab_size * c + positions + self.n_layer * block + layer_norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configs_are_named() {
        let zero_heads = GptConfig {
            n_head: 0,
            ..GptConfig::bench_a()
        };
        assert_eq!(
            zero_heads.validate().unwrap_err().to_string(),
            "`n_head` must be at least 1"
        );
        let uneven = GptConfig {
            n_head: 3,
            ..GptConfig::bench_a()
        };
        assert!(
            uneven
                .validate()
                .unwrap_err()
                .to_string()
                .contains("n_embd (128) must be divisible by n_head (3)")
        );
        let dropout = GptConfig {
            dropout: 1.0,
            ..GptConfig::bench_a()
        };
        assert!(dropout.validate().is_err());
        assert!(GptConfig::bench_c().validate().is_ok());
        assert!(GptConfig::bench_d().validate().is_ok());
    }

    #[test]
    fn unknown_fields_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"n_layer":1,"n_head":1,"n_embd":8,"block_size":8,"vocab_size":8,"n_heads":2}"#,
        )
        .unwrap();
        let err = GptConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("unknown field `n_heads`"), "{err}");
        let err = GptConfig::from_file(&dir.path().join("none.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.json"), "{err}");
    }

    #[test]
    fn parameter_count_matches_nanogpt() {
        // As torch_gpt_reference.py's n_params() (wpe counted, the tied head once).
        let a = GptConfig::bench_a();
        assert_eq!(
            a.parameter_count(),
            65 * 128
                + 64 * 128
                + 4 * (2 * 128 + 128 * 384 + 128 * 128 + 128 * 512 + 512 * 128)
                + 128
        );
        // Config D as the CUDA wrapper adds it to the reference: 12 × 512, block 512.
        assert_eq!(
            GptConfig::bench_d().parameter_count(),
            8192 * 512
                + 512 * 512
                + 12 * (2 * 512 + 512 * 1536 + 512 * 512 + 512 * 2048 + 2048 * 512)
                + 512
        );
        let with_bias = GptConfig { bias: true, ..a };
        assert_eq!(
            with_bias.parameter_count(),
            a.parameter_count() + 4 * (2 * 128 + 384 + 128 + 512 + 128) + 128
        );
    }
}
