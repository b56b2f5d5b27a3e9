//! The same model on burn-wgpu computes what it computes on burn-flex. Run by
//! `scripts/test-wgpu` (not by `cargo test --workspace`: a cold burn-wgpu build takes about
//! 40 minutes on two cores, and the first kernel call compiles and autotunes for minutes on
//! a software Vulkan driver). Kept to one tiny forward pass for that reason.
#![cfg(feature = "wgpu")]

use burn::prelude::*;
use burn::tensor::DeviceKind;
use miracle_core::gpt::model_dir::{load_weights, weights_bytes};
use miracle_core::gpt::{Gpt, GptConfig, KvCache};

fn tiny() -> GptConfig {
    GptConfig {
        n_layer: 2,
        n_head: 2,
        n_embd: 32,
        block_size: 16,
        vocab_size: 64,
        dropout: 0.0,
        bias: true,
        position: Default::default(),
    }
}

fn ids(tokens: &[u32], device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
    Tensor::<1, Int>::from_ints(data.as_slice(), device).reshape([1, tokens.len()])
}

fn logits(model: &Gpt, tokens: &[u32], device: &Device) -> Vec<f32> {
    let logits = model.forward(ids(tokens, device));
    logits.into_data().try_to_vec::<f32>().unwrap()
}

fn worst_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max)
}

#[test]
fn wgpu_logits_equal_flex_logits() {
    let config = tiny();
    let flex = Device::flex();
    flex.seed(7);
    let model = Gpt::new(&config, &flex);
    let bytes = weights_bytes(&model).unwrap();

    let gpu = Device::wgpu(DeviceKind::DefaultDevice);
    let on_gpu = load_weights(&config, bytes, &gpu).unwrap();

    let tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
    let want = logits(&model, &tokens, &flex);
    let got = logits(&on_gpu, &tokens, &gpu);
    let worst = worst_difference(&want, &got);
    assert!(worst < 1e-3, "wgpu and flex logits differ by {worst}");

    // One cached decoding step on the GPU agrees with the full forward pass's last row.
    let mut cache = KvCache::new(&config, 1, &gpu);
    let last = on_gpu.forward_cached_last(ids(&tokens, &gpu), &mut cache);
    let last = last.into_data().try_to_vec::<f32>().unwrap();
    let worst = worst_difference(&want[want.len() - config.vocab_size..], &last);
    assert!(worst < 1e-3, "cached wgpu logits differ by {worst}");
}
