//! Each fused kernel against its composed twin from burn's own operations: the same values,
//! and under autodiff the same gradients for every input, on shapes that are not multiples
//! of anything (odd time steps, a vocabulary of 37, a parameter of 40,001 elements).

use burn::prelude::*;
use burn::tensor::Distribution;
use miracle_core::kernels::{self, AdamWStep};

fn device() -> Device {
    Device::flex().autodiff()
}

/// Standard normal values. (The tests run in parallel on one device, so its seed would not
/// make them reproducible; none needs more than random values.)
fn normal<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// The largest absolute difference, after both are read back.
fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    let a: Vec<f32> = a.into_data().try_to_vec::<f32>().unwrap();
    let b: Vec<f32> = b.into_data().try_to_vec::<f32>().unwrap();
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(
            0.0,
            |m, d| if d.is_nan() { f32::INFINITY } else { m.max(d) },
        )
}

fn assert_close<const D: usize>(what: &str, fused: Tensor<D>, composed: Tensor<D>, tol: f32) {
    let diff = max_diff(fused, composed);
    assert!(
        diff <= tol,
        "{what}: fused and composed differ by {diff} (> {tol})"
    );
}

/// `f`'s output and the gradients of `Σ out ⊙ weights` for each input.
fn value_and_grads<const I: usize, const O: usize, const N: usize>(
    inputs: [Tensor<I>; N],
    weights: &Tensor<O>,
    f: impl Fn([Tensor<I>; N]) -> Tensor<O>,
) -> (Tensor<O>, [Tensor<I>; N]) {
    let tracked = inputs.map(|t| t.detach().require_grad());
    let out = f(tracked.clone());
    let grads = (out.clone() * weights.clone()).sum().backward();
    let grads = tracked.map(|t| t.grad(&grads).expect("every input gets a gradient"));
    (out, grads.map(Tensor::from_inner))
}

/// The fused attention against burn's composed one on `[batch, heads, time, head_dim]`
/// inputs: the values within 1e-5, the gradients of q, k and v within `grad_tol`.
fn assert_attention_matches_composed(shape: [usize; 4], grad_tol: f32) {
    let device = device();
    let inputs = [(); 3].map(|_| normal(shape, &device));
    let weights = normal(shape, &device);
    let (fused, fused_grads) = value_and_grads(inputs.clone(), &weights, |[q, k, v]| {
        kernels::causal_attention(q, k, v)
    });
    let (composed, composed_grads) = value_and_grads(inputs, &weights, |[q, k, v]| {
        kernels::composed_causal_attention(q, k, v)
    });
    assert_close("attention", fused, composed, 1e-5);
    for ((name, fused), composed) in ["dq", "dk", "dv"]
        .into_iter()
        .zip(fused_grads)
        .zip(composed_grads)
    {
        assert_close(name, fused, composed, grad_tol);
    }
}

#[test]
fn attention_matches_composed_in_values_and_gradients() {
    assert_attention_matches_composed([2, 3, 7, 5], 1e-5);
}

#[test]
fn attention_in_tiles_matches_composed_across_tile_edges() {
    // 150 positions: two whole tiles of 64 and a part of one; a head of 24 is not a whole
    // number of vectors on any CPU.
    assert_attention_matches_composed([1, 2, 150, 24], 1e-4);
}

#[test]
fn attention_is_causal() {
    // Changing the last position's key and value leaves every earlier output unchanged.
    let device = Device::flex().autodiff();
    let [q, k, v] = [(); 3].map(|_| normal([1, 2, 6, 4], &device));
    let before = kernels::causal_attention(q.clone(), k.clone(), v.clone());
    let bump = Tensor::<4>::zeros([1, 2, 6, 4], &device).slice_assign(
        [0..1, 0..2, 5..6, 0..4],
        Tensor::ones([1, 2, 1, 4], &device).mul_scalar(10.0),
    );
    let after = kernels::causal_attention(q, k + bump.clone(), v + bump);
    let early = |t: Tensor<4>| t.slice([0..1, 0..2, 0..5, 0..4]);
    assert_eq!(max_diff(early(before.clone()), early(after.clone())), 0.0);
    assert!(
        max_diff(before, after) > 0.1,
        "the last position must change"
    );
}

#[test]
fn cross_entropy_matches_composed_in_values_and_gradients() {
    let device = device();
    let (rows, vocab) = (11, 37);
    let logits = normal([rows, vocab], &device).mul_scalar(3.0);
    let targets = Tensor::<1, Int>::from_ints(
        (0..rows as i64)
            .map(|i| (i * 7) % vocab as i64)
            .collect::<Vec<_>>()
            .as_slice(),
        &device,
    );
    let weights = normal([rows], &device);
    let (fused, [fused_grad]) = value_and_grads([logits.clone()], &weights, |[x]| {
        kernels::cross_entropy(x, targets.clone())
    });
    let (composed, [composed_grad]) = value_and_grads([logits], &weights, |[x]| {
        kernels::composed_cross_entropy(x, targets.clone())
    });
    assert_close("cross-entropy", fused, composed, 1e-5);
    // The gradients are weights (normal, up to about 3 here) times softmax differences:
    // at that size a float's step is 2.4e-7, and an absolute 1e-6 failed a CI run
    // (2026-12-07) at 1.2e-6, five steps apart. A wrong gradient is off by far more.
    assert_close("dlogits", fused_grad, composed_grad, 1e-5);
}

#[test]
fn cross_entropy_of_a_target_outside_the_vocabulary_is_nan() {
    let device = Device::flex();
    let logits = normal([2, 4], &device);
    let targets = Tensor::<1, Int>::from_ints([1, 9], &device);
    let losses: Vec<f32> = kernels::cross_entropy(logits, targets)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(losses[0].is_finite() && losses[1].is_nan(), "{losses:?}");
}

#[test]
fn gelu_matches_composed_in_values_and_gradients() {
    let device = device();
    // Wide enough to reach both tails, where erf saturates.
    let x = normal([3, 5, 41], &device).mul_scalar(4.0);
    let weights = normal([3, 5, 41], &device);
    let (fused, [fused_grad]) = value_and_grads([x.clone()], &weights, |[x]| kernels::gelu(x));
    let (composed, [composed_grad]) =
        value_and_grads([x], &weights, |[x]| kernels::composed_gelu(x));
    assert_close("gelu", fused, composed, 2e-6 * 4.0);
    assert_close("dgelu", fused_grad, composed_grad, 1e-5);
}

#[test]
fn adamw_matches_composed() {
    let device = Device::flex();
    let n = 40_001;
    let [w, g, m] = [(); 3].map(|_| normal([n], &device));
    let v = normal([n], &device).abs().mul_scalar(0.01);
    let original = w.to_data();
    for weight_decay in [0.0, 0.1] {
        let step = AdamWStep {
            lr: 6e-4,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay,
            bias1: 1.0 - 0.9f64.powi(3),
            bias2: 1.0 - 0.99f64.powi(3),
            grad_scale: 0.5,
        };
        let fused = kernels::adamw_update(w.clone(), g.clone(), m.clone(), v.clone(), step);
        let composed =
            kernels::composed_adamw_update(w.clone(), g.clone(), m.clone(), v.clone(), step);
        assert_close("weights", fused.0, composed.0, 1e-6);
        assert_close("m", fused.1, composed.1, 1e-6);
        assert_close("v", fused.2, composed.2, 1e-6);
    }
    // The inputs are untouched: the kernel wrote into copies of shared buffers.
    assert_eq!(w.into_data(), original);
}

#[test]
fn one_row_linear_matches_burns() {
    let device = Device::flex();
    for (k, n, bias) in [(384, 1152, true), (37, 300, false), (5, 3, true)] {
        let layer = burn::nn::LinearConfig::new(k, n)
            .with_bias(bias)
            .init(&device);
        let x = normal([1, 1, k], &device);
        let fused = kernels::linear(&layer, x.clone());
        assert_eq!(fused.dims(), [1, 1, n]);
        assert_close("one-row linear", fused, layer.forward(x), 1e-4);
    }
}

/// Products large enough to be split over the helper threads, from four threads at once:
/// one of them gets the helpers, the others work alone, and every one gets its own sums.
#[test]
fn one_row_products_split_over_threads_match_burns_from_many_callers() {
    let device = Device::flex();
    let layers: Vec<_> = [(1536, 384), (385, 1537), (384, 1152)]
        .into_iter()
        .map(|(k, n)| burn::nn::LinearConfig::new(k, n).init(&device))
        .collect();
    std::thread::scope(|scope| {
        for caller in 0..4 {
            let (layers, device) = (&layers, &device);
            scope.spawn(move || {
                for round in 0..20 {
                    let layer = &layers[(caller + round) % layers.len()];
                    let k = layer.weight.dims()[0];
                    let x = normal([1, 1, k], device);
                    let fused = kernels::linear(layer, x.clone());
                    assert_close("split one-row linear", fused, layer.forward(x), 1e-4);
                }
            });
        }
    });
}

#[test]
fn attention_over_the_cache_in_place_matches_burns_over_its_slice() {
    use burn::tensor::module::attention;
    use burn::tensor::ops::AttentionModuleOptions;
    let device = Device::flex();
    // Head sizes that are and are not a multiple of the vector width; a cache filled to 1,
    // to part of it and to the end.
    for (b, h, capacity, hd, len) in [(1, 6, 256, 64, 131), (2, 3, 17, 5, 1), (1, 2, 9, 12, 9)] {
        let q = normal([b, h, 1, hd], &device);
        let keys = normal([b, h, capacity, hd], &device);
        let values = normal([b, h, capacity, hd], &device);
        let fused = kernels::cached_attention(&q, &keys, &values, len).expect("Flex, f32");
        let options = AttentionModuleOptions {
            scale: None,
            softcap: None,
            is_causal: true,
        };
        let seen = |t: &Tensor<4>| t.clone().slice([0..b, 0..h, 0..len, 0..hd]);
        let composed = attention(q, seen(&keys), seen(&values), None, None, options);
        assert_close("cached attention", fused, composed, 1e-5);
    }
    // Where the kernels do not run, the caller is told to slice.
    let training = self::device();
    let q = normal([1, 2, 1, 4], &training);
    let cache = normal([1, 2, 8, 4], &training);
    assert!(kernels::cached_attention(&q, &cache, &cache, 3).is_none());
}
