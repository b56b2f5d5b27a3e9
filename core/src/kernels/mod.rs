//! Fused kernels for training on the CPU: the operations where burn's composed versions spend
//! the most passes over memory (docs/BENCHMARKS.md, "Where the time goes").
//!
//! - [`causal_attention`]: softmax(QKᵀ/√d)·V in tiles, FlashAttention's way (`flash.rs`):
//!   no `time × time` matrix of scores or probabilities is built, the backward recomputes
//!   each tile's probabilities from the forward's log-sum-exps. burn's autodiff attention is
//!   the composed fallback: it builds a mask tensor, fills the scores, and runs max,
//!   subtract, exp, sum and divide as separate tensors, each saved for its backward.
//! - [`cross_entropy`]: per-row softmax cross-entropy over the vocabulary in one pass, and
//!   its gradient, softmax minus the one-hot target, in one more.
//! - [`gelu`]: the exact GELU and its gradient with a fast, branch-free erf.
//! - [`adamw_update`]: AdamW's moment and weight update in one pass instead of ~12 tensors.
//! - [`linear`]: for decoding one sequence, a one-row product that streams each weight row
//!   once (gemm's AVX-512 path is slower at that shape on the machine measured), split over
//!   helper threads of its own when the weights are large (`rows.rs`).
//! - [`cached_attention`]: decoding's attention of one new position over the KV cache,
//!   read in place instead of copied out.
//!
//! Each is a burn backend extension ([`FusedOps`]): implemented for Flex (the CPU backend)
//! by hand, and for `Autodiff<B>` with a handwritten backward. On every other device (wgpu)
//! the functions here run the composed version instead, so a caller never asks whether a
//! device has the kernels. `composed_*` are those versions, and the tests hold each fused
//! kernel to its composed twin in values and gradients.

mod autodiff;
mod composed;
mod flash;
mod flex;
mod rows;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::prelude::*;
use burn::tensor::DType;

pub use composed::{
    adamw_update as composed_adamw_update, causal_attention as composed_causal_attention,
    cross_entropy as composed_cross_entropy, gelu as composed_gelu,
};

/// One AdamW step's constants for one parameter: PyTorch's update, with the bias
/// corrections and the clipping scale already worked out by the optimizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Decoupled weight decay for this parameter (0 for biases, gains and 1-D tensors).
    pub weight_decay: f64,
    /// `1 - beta1^t` and `1 - beta2^t`.
    pub bias1: f64,
    pub bias2: f64,
    /// The global clipping factor applied to the gradient first.
    pub grad_scale: f64,
}

/// The fused operations as a burn backend extension. The inner kernels
/// (`flash_attention_backward`, `cross_entropy_backward`, `gelu_backward`) serve the
/// autodiff backward passes; they are not themselves differentiable.
#[backend_extension(Flex, Autodiff)]
pub trait FusedOps: Backend {
    /// Causal self-attention of `[batch, heads, time, head_dim]` queries, keys and values,
    /// scaled by 1/√head_dim.
    fn causal_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::flash_attention(q, k, v).0
    }

    /// [`FusedOps::causal_attention`] computed in tiles, without a `time × time` matrix: the
    /// output, and each query's log-sum-exp of its scaled scores (`[batch, heads, time]`),
    /// which is all the backward keeps.
    fn flash_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// The gradients of `q`, `k` and `v` from the forward's output and log-sum-exps and the
    /// output's gradient, each tile's probabilities recomputed from the log-sum-exps.
    fn flash_attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// Per-row cross-entropy of `[rows, vocab]` logits against `[rows]` target ids:
    /// `logsumexp(row) − row[target]`, `[rows]`. A target outside the vocabulary gives NaN.
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self>;

    /// The logits' gradient for the rows' loss gradients `grad` (`[rows]`):
    /// `grad · (softmax(row) − onehot(target))`. `losses` are the forward's: each row's
    /// log-sum-exp is its loss plus its target's logit, so the backward does not sum the
    /// row again.
    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        losses: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The exact GELU, `x · Φ(x)`.
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `grad · (Φ(x) + x · φ(x))`.
    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self>;

    /// Decoding's attention: one new position per row, queries `[batch, heads, 1,
    /// head_dim]`, against the first `len` positions of a cache's keys and values
    /// (`[batch, heads, capacity, head_dim]`), read in place. Scaled by 1/√head_dim; the new
    /// position sees every cached one (its own included).
    fn cached_attention(
        q: FloatTensor<Self>,
        keys: FloatTensor<Self>,
        values: FloatTensor<Self>,
        len: usize,
    ) -> FloatTensor<Self>;

    /// `x · w` for one row `x` (`[1, k]`) and `w` `[k, n]`: decoding's matrix × vector
    /// products.
    fn row_product(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self>;

    /// AdamW on one flattened parameter: the new `(weights, m, v)`.
    fn adamw(
        weights: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the fused kernels off (`false`) or on for the whole process: benchmarks measure
/// both paths in one binary with it. On by default.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether the fused kernels are on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether `tensor` runs on the kernels: f32 on Flex, with or without autodiff.
fn fused<const D: usize>(tensor: &Tensor<D>) -> bool {
    enabled()
        && tensor.dtype() == DType::F32
        && matches!(
            tensor.device().inner().as_dispatch(),
            burn::backend::DispatchDevice::Flex(_)
        )
}

/// Causal self-attention, `[batch, heads, time, head_dim]` each. The kernel serves
/// training; without autodiff, burn's own attention on Flex is already fused.
pub fn causal_attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
    if !fused(&q) || !q.device().is_autodiff() || q.dims() != k.dims() {
        return composed::causal_attention(q, k, v);
    }
    let out = <Dispatch as FusedOps>::causal_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
    );
    Tensor::from_dispatch(out)
}

/// One new position's attention per row over the first `len` positions of a KV cache's
/// keys and values (`[batch, heads, capacity, head_dim]`), reading the cache in place: a
/// slice of its filled prefix is strided along time, and burn's attention copied it for
/// every layer at every step (14% of decoding's time, docs/BENCHMARKS.md). `None` where
/// the kernels do not run (autodiff, another device or dtype, more than one new position):
/// the caller slices the cache and uses burn's attention.
pub fn cached_attention(
    q: &Tensor<4>,
    keys: &Tensor<4>,
    values: &Tensor<4>,
    len: usize,
) -> Option<Tensor<4>> {
    if !fused(q) || q.device().is_autodiff() || q.dims()[2] != 1 || len == 0 {
        return None;
    }
    let out = <Dispatch as FusedOps>::cached_attention(
        q.clone().into_dispatch(),
        keys.clone().into_dispatch(),
        values.clone().into_dispatch(),
        len,
    );
    Some(Tensor::from_dispatch(out))
}

/// Per-row cross-entropy of `[rows, vocab]` logits against `[rows]` targets, `[rows]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    if !fused(&logits) {
        return composed::cross_entropy(logits, targets);
    }
    let out =
        <Dispatch as FusedOps>::cross_entropy(logits.into_dispatch(), targets.into_dispatch());
    Tensor::from_dispatch(out)
}

/// The exact GELU.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !fused(&x) {
        return composed::gelu(x);
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::exact_gelu(x.into_dispatch()))
}

/// A linear layer on `[batch, time, in]`. On Flex without autodiff, a single row (decoding
/// one sequence) takes [`FusedOps::row_product`]: gemm's AVX-512 path is slower than its
/// AVX2 one for one-row products (docs/BENCHMARKS.md). Everything else is burn's `linear`.
pub fn linear(layer: &burn::nn::Linear, x: Tensor<3>) -> Tensor<3> {
    let [b, t, k] = x.dims();
    if b * t != 1 || !fused(&x) || x.device().is_autodiff() {
        return layer.forward(x);
    }
    let weight = layer.weight.val();
    let n = weight.dims()[1];
    let row = x.reshape([1, k]).into_dispatch();
    let y: Tensor<2> = Tensor::from_dispatch(<Dispatch as FusedOps>::row_product(
        row,
        weight.into_dispatch(),
    ));
    let y = match &layer.bias {
        Some(bias) => y + bias.val().reshape([1, n]),
        None => y,
    };
    y.reshape([1, 1, n])
}

/// One AdamW update of a flattened parameter (no autodiff): the new weights and moments.
pub fn adamw_update(
    weights: Tensor<1>,
    grad: Tensor<1>,
    m: Tensor<1>,
    v: Tensor<1>,
    step: AdamWStep,
) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
    if !fused(&weights) {
        return composed::adamw_update(weights, grad, m, v, step);
    }
    let (w, m, v) = <Dispatch as FusedOps>::adamw(
        weights.into_dispatch(),
        grad.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        step,
    );
    (
        Tensor::from_dispatch(w),
        Tensor::from_dispatch(m),
        Tensor::from_dispatch(v),
    )
}
