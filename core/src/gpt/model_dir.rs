//! A model directory: everything needed to run a model, self-contained.
//!
//! ```text
//! config.json        GptConfig
//! tokenizer.json     the tokenizer it was trained with (Hugging Face format)
//! model.safetensors  the weights, named as in `model.rs` (loadable with Python `safetensors`)
//! ```
//!
//! The weights may instead be bf16, or sharded (`model-00001-of-0000N.safetensors` with
//! `model.safetensors.index.json`): `weights.rs`. Every loader reads every form.
//!
//! Every file is written to a temporary name and renamed into place, so an interrupted save
//! leaves the previous version whole.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use super::config::{ConfigError, GptConfig};
use super::model::Gpt;
use super::weights::{self, Layout, WeightsError};
use crate::tokenizer::{Tokenizer, TokenizerError};

pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const WEIGHTS_FILE: &str = weights::SINGLE_FILE;

#[derive(Debug, thiserror::Error)]
pub enum ModelDirError {
    /// The OS's reason is part of the message, not a source: a chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("{path}: cannot read the weights: {message}")]
    Weights { path: PathBuf, message: String },
    /// The model's weights could not be serialised for writing.
    #[error("{path}: cannot write the weights: {message}")]
    WeightsOut { path: PathBuf, message: String },
    #[error(transparent)]
    Form(#[from] WeightsError),
    #[error(
        "{path}: vocabulary sizes differ: config.json says {config}, tokenizer.json has {tokenizer}"
    )]
    VocabMismatch {
        path: PathBuf,
        config: usize,
        tokenizer: usize,
    },
}

/// A loaded model with its config and tokenizer.
pub struct LoadedModel {
    pub config: GptConfig,
    pub tokenizer: Tokenizer,
    pub model: Gpt,
}

/// Writes `model`, its config and its tokenizer into `dir` (created if needed), the weights
/// as one f32 file.
pub fn save(
    dir: &Path,
    config: &GptConfig,
    tokenizer: &Tokenizer,
    model: &Gpt,
) -> Result<(), ModelDirError> {
    let weights = weights_bytes(model).map_err(|message| ModelDirError::WeightsOut {
        path: dir.join(WEIGHTS_FILE),
        message,
    })?;
    save_as(dir, config, tokenizer, &weights, Layout::default())
}

/// Writes a model directory from f32 safetensors bytes, the weights in `layout`'s form (and
/// no other: files of another form are removed).
pub fn save_as(
    dir: &Path,
    config: &GptConfig,
    tokenizer: &Tokenizer,
    f32_weights: &[u8],
    layout: Layout,
) -> Result<(), ModelDirError> {
    let io = |path: PathBuf| move |error| ModelDirError::Io { path, error };
    std::fs::create_dir_all(dir).map_err(io(dir.to_path_buf()))?;
    let config_json = serde_json::to_string_pretty(config).expect("config serialises") + "\n";
    crate::fs::write_atomic(&dir.join(CONFIG_FILE), config_json.as_bytes())
        .map_err(io(dir.join(CONFIG_FILE)))?;
    tokenizer.save(&dir.join(TOKENIZER_FILE))?;
    Ok(weights::write(dir, f32_weights, layout)?)
}

/// The weights as a safetensors file. The same weights always give the same bytes (burn's
/// default metadata is a hash map whose order varies; ours is one fixed entry).
pub fn weights_bytes<M: Module>(model: &M) -> Result<Vec<u8>, String> {
    let mut store = SafetensorsStore::from_bytes(None)
        .clear_metadata()
        .metadata("producer", "miracle");
    model.save_into(&mut store).map_err(|e| e.to_string())?;
    store.get_bytes().map_err(|e| e.to_string())
}

/// Reads a model directory onto `device`. Every weight the model needs must be present with
/// its shape: a partial or corrupt file is an error, never a half-initialised model.
pub fn load(dir: &Path, device: &Device) -> Result<LoadedModel, ModelDirError> {
    let config = GptConfig::from_file(&dir.join(CONFIG_FILE))?;
    let tokenizer = Tokenizer::from_file(&dir.join(TOKENIZER_FILE))?;
    if tokenizer.vocab_size() != config.vocab_size {
        return Err(ModelDirError::VocabMismatch {
            path: dir.to_path_buf(),
            config: config.vocab_size,
            tokenizer: tokenizer.vocab_size(),
        });
    }
    let bytes = weights::read(dir)?;
    let model = load_weights(&config, bytes, device).map_err(|message| ModelDirError::Weights {
        path: dir.to_path_buf(),
        message,
    })?;
    Ok(LoadedModel {
        config,
        tokenizer,
        model,
    })
}

/// The default model compiled into the binary (`corpora/models/default/`), so that it
/// needs nothing on disk. The error says which of its three parts failed.
pub fn load_default(device: &Device) -> Result<LoadedModel, String> {
    use miracle_corpora::default_model as shipped;
    let what = "the embedded default model";
    let config: GptConfig = serde_json::from_str(shipped::CONFIG_JSON)
        .map_err(|e| format!("{what}'s config.json: {e}"))?;
    let tokenizer =
        Tokenizer::from_json(shipped::TOKENIZER_JSON, what).map_err(|e| e.to_string())?;
    let model = load_weights(&config, shipped::WEIGHTS.to_vec(), device)
        .map_err(|e| format!("{what}'s weights: {e}"))?;
    Ok(LoadedModel {
        config,
        tokenizer,
        model,
    })
}

/// Builds a model of `config` and fills it from safetensors bytes.
pub fn load_weights(config: &GptConfig, bytes: Vec<u8>, device: &Device) -> Result<Gpt, String> {
    fill(Gpt::new(config, device), bytes)
}

/// Fills every weight of `model` (a freshly built module of the right shape) from
/// safetensors bytes; anything missing, unexpected or misshapen is an error.
pub fn fill<M: Module>(mut model: M, bytes: Vec<u8>) -> Result<M, String> {
    // Partial loads are allowed by the store so that what is missing can be reported here,
    // in one line; a partial result is still refused.
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .validate(true)
        .allow_partial(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| first_line(&e.to_string()))?;
    if !result.missing.is_empty() || !result.errors.is_empty() || !result.unused.is_empty() {
        let missing: Vec<&str> = result
            .missing
            .iter()
            .map(|(p, _)| p.as_str())
            .take(3)
            .collect();
        return Err(format!(
            "the weights do not fit this config: {} tensors missing {missing:?}, {} unexpected, {} of the wrong shape \
             (was the file saved with another config.json?)",
            result.missing.len(),
            result.unused.len(),
            result.errors.len()
        ));
    }
    Ok(model)
}

/// burn's store errors can be multi-line tables; a user gets their first line.
fn first_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unreadable")
        .to_string()
}
