//! The composed versions of the fused kernels, from burn's own tensor operations: what runs
//! on devices without the kernels, and what the tests hold the kernels to.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use super::AdamWStep;

/// burn's attention with the causal mask (its autodiff version is the composed fallback).
pub fn causal_attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
    let options = AttentionModuleOptions {
        scale: None,
        softcap: None,
        is_causal: true,
    };
    attention(q, k, v, None, None, options)
}

/// `-log_softmax(logits)[target]` per row.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [rows, _] = logits.dims();
    log_softmax(logits, 1)
        .gather(1, targets.reshape([rows, 1]))
        .reshape([rows])
        .neg()
}

/// burn's exact GELU.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    burn::tensor::activation::gelu(x)
}

/// `torch.optim.AdamW`'s update, one tensor operation at a time.
pub fn adamw_update(
    weights: Tensor<1>,
    grad: Tensor<1>,
    m: Tensor<1>,
    v: Tensor<1>,
    step: AdamWStep,
) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
    let grad = grad.mul_scalar(step.grad_scale);
    let m = m.mul_scalar(step.beta1) + grad.clone().mul_scalar(1.0 - step.beta1);
    let v = v.mul_scalar(step.beta2) + grad.powi_scalar(2).mul_scalar(1.0 - step.beta2);
    let weights = if step.weight_decay > 0.0 {
        weights.mul_scalar(1.0 - step.lr * step.weight_decay)
    } else {
        weights
    };
    let denom = v
        .clone()
        .sqrt()
        .div_scalar(step.bias2.sqrt())
        .add_scalar(step.eps);
    let weights = weights - m.clone().div(denom).mul_scalar(step.lr / step.bias1);
    (weights, m, v)
}
