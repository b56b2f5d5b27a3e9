//! The model the agent commands run: a model directory, or the default model embedded in
//! the binary (`corpora/models/default/`), so `miracle ask` needs nothing on disk.

use std::path::Path;

use anyhow::Context;
use burn::prelude::Device;
use miracle_core::gpt::model_dir::{self, LoadedModel};

/// Loads `dir`, or the embedded default model when `dir` is `None`.
pub fn load(dir: Option<&Path>, device: &Device) -> anyhow::Result<LoadedModel> {
    match dir {
        Some(dir) => model_dir::load(dir, device)
            .with_context(|| format!("cannot load the model in {}", dir.display())),
        None => model_dir::load_default(device).map_err(|e| anyhow::anyhow!(e)),
    }
}
