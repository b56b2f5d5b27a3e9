//! The model the agent commands run: a model directory, or the default model embedded in
//! the binary (`corpora/models/default/`), so `miracle ask` needs nothing on disk. And
//! `miracle model convert`: the same model in the form that travels (bf16, shards).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;
use clap::{Subcommand, ValueEnum};
use miracle_core::gpt::GptConfig;
use miracle_core::gpt::model_dir;
use miracle_core::gpt::weights::{self, Dtype, Layout};
use miracle_core::tokenizer::Tokenizer;

pub use miracle_recipe::load_model as load;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Write a model directory again in another form: bf16 weights (half the size) and/or
    /// shards of at most a given size (model-00001-of-0000N.safetensors and an index).
    /// Every command that takes --model reads every form.
    Convert {
        /// The model directory to read; the embedded default model when absent.
        model: Option<PathBuf>,
        /// The model directory to write (created; may be the one read).
        #[arg(long, short)]
        out: PathBuf,
        /// The number type the weights are stored in.
        #[arg(long, value_enum, default_value_t = StoredAs::F32)]
        dtype: StoredAs,
        /// Shards of at most this size: bytes, or with KB, MB, GB, KiB, MiB or GiB ("16MiB").
        #[arg(long, value_parser = parse_size)]
        max_shard_size: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StoredAs {
    F32,
    Bf16,
}

impl ModelCommand {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let ModelCommand::Convert {
            model,
            out: dir,
            dtype,
            max_shard_size,
        } = self;
        let layout = Layout {
            dtype: match dtype {
                StoredAs::F32 => Dtype::F32,
                StoredAs::Bf16 => Dtype::Bf16,
            },
            max_shard_bytes: max_shard_size,
        };
        let (config, tokenizer, f32_weights) = read_parts(model.as_deref())?;
        model_dir::save_as(&dir, &config, &tokenizer, &f32_weights, layout)
            .with_context(|| format!("cannot write the model to {}", dir.display()))?;
        // What was written must load: read it back as every loader will.
        model_dir::load(&dir, &Device::default())
            .with_context(|| format!("the model written to {} does not load", dir.display()))?;
        // A model that reads number slots stays one (router/src/slots.rs).
        if model.as_deref().is_some_and(miracle_router::slots::marked) {
            miracle_router::slots::mark(&dir).with_context(|| {
                format!("cannot mark {} as reading number slots", dir.display())
            })?;
        }
        report(out, &dir)
    }
}

/// A model's config, tokenizer and f32 weights, checked by loading them whole first.
fn read_parts(model: Option<&Path>) -> anyhow::Result<(GptConfig, Tokenizer, Vec<u8>)> {
    let loaded = load(model, &Device::default())?;
    let f32_weights = match model {
        Some(dir) => weights::read(dir)?,
        None => miracle_corpora::default_model::WEIGHTS.to_vec(),
    };
    Ok((loaded.config, loaded.tokenizer, f32_weights))
}

fn report(out: &mut dyn Write, dir: &Path) -> anyhow::Result<()> {
    let mut files: Vec<(String, u64)> = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("model") {
            files.push((name, entry.metadata()?.len()));
        }
    }
    files.sort();
    for (name, size) in &files {
        writeln!(out, "{size:>12}  {}", dir.join(name).display())?;
    }
    Ok(())
}

/// "16MiB", "500 KB", "1048576": a size in bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size: write bytes, or e.g. 16MiB or 500KB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "`{other}` is not a unit: B, KB, MB, GB, KiB, MiB or GiB"
            ));
        }
    };
    match number.checked_mul(scale) {
        Some(0) => Err("a shard must be allowed at least one byte".into()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("500 KB"), Ok(500_000));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        for bad in ["", "MiB", "16 furlongs", "0", "99999999999GiB", "-1"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
