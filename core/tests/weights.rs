//! Model directories in the forms that travel: shards of a given size and bf16 weights load
//! as the single f32 file does (bf16 within its rounding), and broken or mixed shard sets
//! are refused with the file and the reason.

use std::path::Path;

use burn::prelude::*;
use miracle_core::gpt::model_dir::{self, LoadedModel};
use miracle_core::gpt::weights::{Dtype, Layout};
use miracle_core::gpt::{Gpt, GptConfig};
use miracle_core::tokenizer::Tokenizer;

struct Saved {
    config: GptConfig,
    tokenizer: Tokenizer,
    f32_weights: Vec<u8>,
    model: Gpt,
}

fn model(seed: u64) -> Saved {
    let device = Device::flex();
    device.seed(seed);
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        n_layer: 2,
        n_head: 2,
        n_embd: 16,
        block_size: 16,
        vocab_size: tokenizer.vocab_size(),
        dropout: 0.0,
        bias: true,
        position: Default::default(),
    };
    let model = Gpt::new(&config, &device);
    let f32_weights = model_dir::weights_bytes(&model).unwrap();
    Saved {
        config,
        tokenizer,
        f32_weights,
        model,
    }
}

fn save(saved: &Saved, dir: &Path, layout: Layout) {
    model_dir::save_as(
        dir,
        &saved.config,
        &saved.tokenizer,
        &saved.f32_weights,
        layout,
    )
    .unwrap();
}

fn logits(model: &Gpt) -> Vec<f32> {
    let device = Device::flex();
    let prompt = Tensor::<1, Int>::from_ints([5, 900, 17, 4000].as_slice(), &device).unsqueeze();
    model
        .forward(prompt)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap()
}

fn load(dir: &Path) -> LoadedModel {
    model_dir::load(dir, &Device::flex()).unwrap_or_else(|e| panic!("{e}"))
}

fn files(dir: &Path) -> Vec<(String, u64)> {
    let mut names: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                e.metadata().unwrap().len(),
            )
        })
        .filter(|(name, _)| name.starts_with("model"))
        .collect();
    names.sort();
    names
}

const SHARD: u64 = 8 * 1024;

#[test]
fn shards_load_bit_for_bit_and_stay_within_their_size() {
    let saved = model(1);
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout {
        dtype: Dtype::F32,
        max_shard_bytes: Some(SHARD),
    };
    save(&saved, dir.path(), layout);
    let listing = files(dir.path());
    let shards: Vec<&(String, u64)> = listing
        .iter()
        .filter(|f| f.0.starts_with("model-"))
        .collect();
    assert!(shards.len() >= 3, "{listing:?}");
    assert!(
        shards[0]
            .0
            .ends_with(&format!("-of-{:05}.safetensors", shards.len()))
    );
    // Only the token embedding (8,192 × 16 f32) is larger than a shard: it is alone in its.
    let over: Vec<_> = shards.iter().filter(|f| f.1 > SHARD).collect();
    assert_eq!(over.len(), 1, "{listing:?}");
    assert!(
        listing
            .iter()
            .any(|f| f.0 == "model.safetensors.index.json")
    );
    assert!(!listing.iter().any(|f| f.0 == "model.safetensors"));

    let loaded = load(dir.path());
    assert_eq!(
        model_dir::weights_bytes(&loaded.model).unwrap(),
        saved.f32_weights
    );
    assert_eq!(logits(&loaded.model), logits(&saved.model));
}

#[test]
fn bf16_halves_the_weights_and_keeps_the_logits_within_its_rounding() {
    let saved = model(2);
    let reference = logits(&saved.model);
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    for max_shard_bytes in [None, Some(SHARD)] {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout {
            dtype: Dtype::Bf16,
            max_shard_bytes,
        };
        save(&saved, dir.path(), layout);
        let stored: u64 = files(dir.path())
            .iter()
            .filter(|f| f.0.ends_with(".safetensors"))
            .map(|f| f.1)
            .sum();
        let f32_size = saved.f32_weights.len() as u64;
        assert!(stored < f32_size * 52 / 100, "{stored} of {f32_size}");
        let got = logits(&load(dir.path()).model);
        let worst = got
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= 0.02 * scale + 1e-3,
            "{max_shard_bytes:?}: off by {worst} (scale {scale})"
        );
    }
}

#[test]
fn a_conversion_leaves_one_form_and_publishing_over_shards_replaces_them() {
    let saved = model(3);
    let dir = tempfile::tempdir().unwrap();
    let sharded = Layout {
        dtype: Dtype::Bf16,
        max_shard_bytes: Some(SHARD),
    };
    save(&saved, dir.path(), sharded);
    save(&saved, dir.path(), Layout::default());
    assert_eq!(
        files(dir.path())
            .into_iter()
            .map(|f| f.0)
            .collect::<Vec<_>>(),
        ["model.safetensors"]
    );
    // Fewer shards than the save before: the old ones, which no index names, are gone.
    let smaller = Layout {
        max_shard_bytes: Some(SHARD / 4),
        ..sharded
    };
    save(&saved, dir.path(), smaller);
    let before = files(dir.path()).len();
    save(&saved, dir.path(), sharded);
    let shards: Vec<String> = files(dir.path())
        .into_iter()
        .map(|f| f.0)
        .filter(|name| name.starts_with("model-"))
        .collect();
    assert!(shards.len() + 1 < before, "{shards:?}");
    let count = format!("-of-{:05}.safetensors", shards.len());
    assert!(
        shards.iter().all(|name| name.ends_with(&count)),
        "{shards:?}"
    );
    assert_eq!(logits(&load(dir.path()).model), logits(&load_bf16(&saved)));
}

/// The model as a bf16 single file gives it: the reference for a bf16 shard set.
fn load_bf16(saved: &Saved) -> Gpt {
    let dir = tempfile::tempdir().unwrap();
    save(
        saved,
        dir.path(),
        Layout {
            dtype: Dtype::Bf16,
            max_shard_bytes: None,
        },
    );
    load(dir.path()).model
}

/// The error a broken directory gets, as a user reads it.
fn refusal(dir: &Path) -> String {
    match model_dir::load(dir, &Device::flex()) {
        Ok(_) => panic!("a broken model directory must be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn broken_and_mixed_shard_sets_are_refused_with_the_file_and_the_reason() {
    let (a, b) = (model(4), model(5));
    let sharded = Layout {
        dtype: Dtype::F32,
        max_shard_bytes: Some(SHARD),
    };
    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        save(&a, dir.path(), sharded);
        dir
    };
    let index = |dir: &Path| dir.join("model.safetensors.index.json");
    let shard = |dir: &Path| dir.join(&files(dir)[0].0);

    // A shard of another save of the same shape (an interrupted save).
    let dir = fresh();
    let other = tempfile::tempdir().unwrap();
    save(&b, other.path(), sharded);
    std::fs::copy(shard(other.path()), shard(dir.path())).unwrap();
    let message = refusal(dir.path());
    assert!(
        message.contains("model-00001-of-") && message.contains("belongs to another save"),
        "{message}"
    );

    let dir = fresh();
    std::fs::remove_file(shard(dir.path())).unwrap();
    let message = refusal(dir.path());
    assert!(
        message.contains("model-00001-of-") && message.contains("No such file"),
        "{message}"
    );

    let dir = fresh();
    std::fs::write(dir.path().join("model.safetensors"), &a.f32_weights).unwrap();
    assert!(refusal(dir.path()).contains("one of them is stale"));

    let dir = fresh();
    std::fs::write(index(dir.path()), "{\"weight_map\": ").unwrap();
    assert!(refusal(dir.path()).contains("not a shard index"));

    let dir = fresh();
    let text = std::fs::read_to_string(index(dir.path())).unwrap();
    std::fs::write(
        index(dir.path()),
        text.replacen("\"model-00001", "\"../model-00001", 1),
    )
    .unwrap();
    assert!(refusal(dir.path()).contains("is not a shard file name"));

    // The index places a tensor in a shard that does not hold it.
    let dir = fresh();
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(index(dir.path())).unwrap()).unwrap();
    let map = json["weight_map"].as_object_mut().unwrap();
    let last = files(dir.path())
        .iter()
        .rev()
        .find(|f| f.0.starts_with("model-"))
        .unwrap()
        .0
        .clone();
    let (name, _) = map
        .iter()
        .find(|(_, file)| file.as_str() != Some(&last))
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    map.insert(name.clone(), serde_json::Value::String(last));
    std::fs::write(index(dir.path()), json.to_string()).unwrap();
    let message = refusal(dir.path());
    assert!(
        message.contains(&name) && message.contains("the index places"),
        "{message}"
    );
}
