//! The model the agent commands run: a model directory, or the default model embedded in
//! the binary (`corpora/models/default/`), so `miracle ask` needs nothing on disk.

use std::path::Path;

use anyhow::Context;
use burn::prelude::Device;
use miracle_core::gpt::GptConfig;
use miracle_core::gpt::model_dir::{self, LoadedModel};
use miracle_core::tokenizer::Tokenizer;

/// Loads `dir`, or the embedded default model when `dir` is `None`.
pub fn load(dir: Option<&Path>, device: &Device) -> anyhow::Result<LoadedModel> {
    match dir {
        Some(dir) => model_dir::load(dir, device)
            .with_context(|| format!("cannot load the model in {}", dir.display())),
        None => embedded(device),
    }
}

fn embedded(device: &Device) -> anyhow::Result<LoadedModel> {
    use miracle_corpora::default_model as shipped;
    let config: GptConfig = serde_json::from_str(shipped::CONFIG_JSON)
        .context("the embedded default model's config.json")?;
    let tokenizer = Tokenizer::from_json(shipped::TOKENIZER_JSON, "the embedded default model")?;
    let model = model_dir::load_weights(&config, shipped::WEIGHTS.to_vec(), device)
        .map_err(|e| anyhow::anyhow!("the embedded default model's weights: {e}"))?;
    Ok(LoadedModel {
        config,
        tokenizer,
        model,
    })
}

/// The tokenizer of `dir`'s model, or of the embedded default model.
pub fn tokenizer(dir: Option<&Path>) -> anyhow::Result<Tokenizer> {
    match dir {
        Some(dir) => Tokenizer::from_file(&dir.join("tokenizer.json"))
            .with_context(|| format!("cannot load the tokenizer in {}", dir.display())),
        None => Ok(Tokenizer::from_json(
            miracle_corpora::default_model::TOKENIZER_JSON,
            "the embedded default model",
        )?),
    }
}
