//! The kernels on Flex, burn's CPU backend: each one pass over rows or chunks, in parallel
//! with rayon, in place where the input's buffer is not shared. f32 only: the wrappers in
//! `mod.rs` send other dtypes to the composed versions.

use burn::backend::Flex;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::tensor::TensorData;
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::{AdamWStep, FusedOps};

/// Elements per parallel task of the element-wise kernels: large enough that rayon's
/// scheduling does not show, small enough to split a 1 M-element tensor over the cores.
const CHUNK: usize = 16 * 1024;

impl FusedOps for Flex {
    fn causal_softmax(scores: FloatTensor<Self>, scale: f32) -> FloatTensor<Self> {
        let (rows, cols) = last_two(&scores);
        let mut scores = contiguous(scores);
        values_mut(&mut scores)
            .par_chunks_mut(cols)
            .enumerate()
            .for_each(|(r, row)| softmax_row(row, visible(r % rows, rows, cols), scale));
        scores
    }

    fn causal_softmax_backward(
        probs: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self> {
        let (rows, cols) = last_two(&probs);
        let probs = contiguous(probs);
        let mut grad = contiguous(grad);
        values_mut(&mut grad)
            .par_chunks_mut(cols)
            .zip(values(&probs).par_chunks(cols))
            .enumerate()
            .for_each(|(r, (g, p))| {
                let live = visible(r % rows, rows, cols);
                let (g, dead) = g.split_at_mut(live);
                let p = &p[..live];
                let dot: f32 = g.iter().zip(p).map(|(g, p)| g * p).sum();
                for (g, p) in g.iter_mut().zip(p) {
                    *g = scale * p * (*g - dot);
                }
                dead.fill(0.0);
            });
        grad
    }

    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        let (rows, vocab) = last_two(&logits);
        let logits = contiguous(logits);
        let targets = target_ids(targets);
        let losses: Vec<f32> = values(&logits)
            .par_chunks(vocab)
            .zip(targets.par_iter())
            .map(|(row, &target)| {
                let lse = log_sum_exp(row);
                usize::try_from(target)
                    .ok()
                    .and_then(|t| row.get(t))
                    .map_or(f32::NAN, |x| lse - x)
            })
            .collect();
        FlexTensor::from_data(TensorData::new(losses, [rows]))
    }

    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (_, vocab) = last_two(&logits);
        let mut logits = contiguous(logits);
        let targets = target_ids(targets);
        let grad = contiguous(grad);
        values_mut(&mut logits)
            .par_chunks_mut(vocab)
            .zip(targets.par_iter())
            .zip(values(&grad).par_iter())
            .for_each(|((row, &target), &g)| {
                let lse = log_sum_exp(row);
                for x in row.iter_mut() {
                    *x = g * (*x - lse).exp();
                }
                if let Some(x) = usize::try_from(target).ok().and_then(|t| row.get_mut(t)) {
                    *x -= g;
                }
            });
        logits
    }

    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let mut x = contiguous(x);
        values_mut(&mut x)
            .par_chunks_mut(CHUNK)
            .for_each(|chunk| chunk.iter_mut().for_each(|x| *x *= normal_cdf_pdf(*x).0));
        x
    }

    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let x = contiguous(x);
        let mut grad = contiguous(grad);
        values_mut(&mut grad)
            .par_chunks_mut(CHUNK)
            .zip(values(&x).par_chunks(CHUNK))
            .for_each(|(g, x)| {
                for (g, &x) in g.iter_mut().zip(x) {
                    let (cdf, pdf) = normal_cdf_pdf(x);
                    *g *= cdf + x * pdf;
                }
            });
        grad
    }

    fn adamw(
        weights: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (mut w, grad, mut m, mut v) = (
            contiguous(weights),
            contiguous(grad),
            contiguous(m),
            contiguous(v),
        );
        let k = AdamWConstants::new(&step);
        values_mut(&mut w)
            .par_chunks_mut(CHUNK)
            .zip(values_mut(&mut m).par_chunks_mut(CHUNK))
            .zip(values_mut(&mut v).par_chunks_mut(CHUNK))
            .zip(values(&grad).par_chunks(CHUNK))
            .for_each(|(((w, m), v), g)| {
                for (((w, m), v), g) in w.iter_mut().zip(m).zip(v).zip(g) {
                    let g = g * k.grad_scale;
                    *m = k.beta1 * *m + k.one_minus_beta1 * g;
                    *v = k.beta2 * *v + k.one_minus_beta2 * g * g;
                    let denom = v.sqrt() / k.sqrt_bias2 + k.eps;
                    *w = *w * k.decay - k.step_size * *m / denom;
                }
            });
        (w, m, v)
    }
}

/// AdamW's constants in f32, as the composed version's scalar operations round them.
struct AdamWConstants {
    grad_scale: f32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    sqrt_bias2: f32,
    eps: f32,
    decay: f32,
    step_size: f32,
}

impl AdamWConstants {
    fn new(step: &AdamWStep) -> Self {
        AdamWConstants {
            grad_scale: step.grad_scale as f32,
            beta1: step.beta1 as f32,
            one_minus_beta1: (1.0 - step.beta1) as f32,
            beta2: step.beta2 as f32,
            one_minus_beta2: (1.0 - step.beta2) as f32,
            sqrt_bias2: step.bias2.sqrt() as f32,
            eps: step.eps as f32,
            decay: (1.0 - step.lr * step.weight_decay) as f32,
            step_size: (step.lr / step.bias1) as f32,
        }
    }
}

/// Columns `..visible` of row `i` of a `rows × cols` causal score matrix are unmasked: the
/// mask is aligned bottom-right, so the last row sees every column.
fn visible(i: usize, rows: usize, cols: usize) -> usize {
    (i + 1 + cols).saturating_sub(rows).min(cols)
}

/// softmax(row[..live] · scale) in place, zeros after.
fn softmax_row(row: &mut [f32], live: usize, scale: f32) {
    let (live, dead) = row.split_at_mut(live);
    let max = live.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in live.iter_mut() {
        *x = ((*x - max) * scale).exp();
        sum += *x;
    }
    let inverse = 1.0 / sum;
    live.iter_mut().for_each(|x| *x *= inverse);
    dead.fill(0.0);
}

fn log_sum_exp(row: &[f32]) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|x| (x - max).exp()).sum();
    max + sum.ln()
}

/// Φ(x) and φ(x) of the standard normal, sharing one exp: erf by Abramowitz and Stegun
/// 7.1.26 (absolute error below 1.5e-7, under f32's resolution of Φ near 1), which is
/// branch-free where libm's erf is not.
fn normal_cdf_pdf(x: f32) -> (f32, f32) {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [
        0.254_829_6,
        -0.284_496_74,
        1.421_413_7,
        -1.453_152_1,
        1.061_405_4,
    ];
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + P * z);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let gauss = (-z * z).exp();
    let erf = 1.0 - poly * gauss;
    let cdf = 0.5 * (1.0 + erf.copysign(x));
    let pdf = gauss * (0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2);
    (cdf, pdf)
}

/// The last two dimensions.
fn last_two(t: &FlexTensor) -> (usize, usize) {
    let shape = t.layout().shape();
    let n = shape.num_dims();
    (shape[n - 2], shape[n - 1])
}

/// `t` with its elements in order from the start of its buffer.
fn contiguous(t: FlexTensor) -> FlexTensor {
    match t.layout().contiguous_offsets() {
        Some((0, _)) => t,
        _ => t.to_contiguous(),
    }
}

fn values(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("the wrappers send only contiguous f32 tensors to the kernels")
}

/// The elements of a contiguous tensor, copied first if its buffer is shared.
fn values_mut(t: &mut FlexTensor) -> &mut [f32] {
    let n = t.layout().shape().num_elements();
    &mut t.storage_mut::<f32>()[..n]
}

fn target_ids(targets: FlexTensor) -> Vec<i64> {
    targets.into_data().iter::<i64>().collect()
}
