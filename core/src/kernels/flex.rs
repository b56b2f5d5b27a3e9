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
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        let (rows, vocab) = last_two(&logits);
        let logits = contiguous(logits);
        let targets = target_ids(targets);
        let losses: Vec<f32> = values(&logits)
            .par_chunks(vocab)
            .zip(targets.par_iter())
            .map(|(row, &target)| {
                let lse = vectorised(|| log_sum_exp(row));
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
        losses: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (_, vocab) = last_two(&logits);
        let mut logits = contiguous(logits);
        let targets = target_ids(targets);
        let (losses, grad) = (contiguous(losses), contiguous(grad));
        values_mut(&mut logits)
            .par_chunks_mut(vocab)
            .zip(targets.par_iter())
            .zip(values(&losses).par_iter().zip(values(&grad).par_iter()))
            .for_each(|((row, &target), (&loss, &g))| {
                let target = usize::try_from(target).ok().filter(|&t| t < row.len());
                // A target outside the vocabulary has a NaN loss, and so a NaN gradient.
                let lse = target.map_or(f32::NAN, |t| loss + row[t]);
                vectorised(|| row.iter_mut().for_each(|x| *x = g * exp(*x - lse)));
                if let Some(t) = target {
                    row[t] -= g;
                }
            });
        logits
    }

    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let mut x = contiguous(x);
        values_mut(&mut x).par_chunks_mut(CHUNK).for_each(|chunk| {
            vectorised(|| chunk.iter_mut().for_each(|x| *x *= normal_cdf_pdf(*x).0))
        });
        x
    }

    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let x = contiguous(x);
        let mut grad = contiguous(grad);
        values_mut(&mut grad)
            .par_chunks_mut(CHUNK)
            .zip(values(&x).par_chunks(CHUNK))
            .for_each(|(g, x)| {
                vectorised(|| {
                    for (g, &x) in g.iter_mut().zip(x) {
                        let (cdf, pdf) = normal_cdf_pdf(x);
                        *g *= cdf + x * pdf;
                    }
                })
            });
        grad
    }

    fn flash_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let shape = q.layout().shape().clone();
        let (heads, t, d) = (shape[0] * shape[1], shape[2], shape[3]);
        let (q, k, v) = (contiguous(q), contiguous(k), contiguous(v));
        let (q, k, v) = (values_of(&q), values_of(&k), values_of(&v));
        let mut out = vec![0.0f32; heads * t * d];
        let mut lse = vec![0.0f32; heads * t];
        out.par_chunks_mut(t * d)
            .zip(lse.par_chunks_mut(t))
            .enumerate()
            .for_each(|(n, (out, lse))| {
                let head = one_head(n, (q, k, v), (t, d));
                vectorised(|| super::flash::forward(head, out, lse));
            });
        let lse_shape = [shape[0], shape[1], t];
        (
            FlexTensor::from_data(TensorData::new(out, shape)),
            FlexTensor::from_data(TensorData::new(lse, lse_shape)),
        )
    }

    fn flash_attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let shape = q.layout().shape().clone();
        let (heads, t, d) = (shape[0] * shape[1], shape[2], shape[3]);
        let [q, k, v, out, lse, grad] = [q, k, v, out, lse, grad].map(contiguous);
        let (q, k, v) = (values_of(&q), values_of(&k), values_of(&v));
        let (o, lse, grad) = (values_of(&out), values_of(&lse), values_of(&grad));
        let [mut dq, mut dk, mut dv] = [(); 3].map(|_| vec![0.0f32; heads * t * d]);
        dq.par_chunks_mut(t * d)
            .zip(dk.par_chunks_mut(t * d))
            .zip(dv.par_chunks_mut(t * d))
            .enumerate()
            .for_each(|(n, ((dq, dk), dv))| {
                let head = one_head(n, (q, k, v), (t, d));
                let rows = n * t * d..(n + 1) * t * d;
                let saved = (&o[rows.clone()], &lse[n * t..(n + 1) * t], &grad[rows]);
                vectorised(|| super::flash::backward(head, saved, (dq, dk, dv)));
            });
        let tensor = |g| FlexTensor::from_data(TensorData::new(g, shape.clone()));
        (tensor(dq), tensor(dk), tensor(dv))
    }

    fn cached_attention(
        q: FloatTensor<Self>,
        keys: FloatTensor<Self>,
        values: FloatTensor<Self>,
        len: usize,
    ) -> FloatTensor<Self> {
        let shape = keys.layout().shape().clone();
        let (batch, heads, capacity, hd) = (shape[0], shape[1], shape[2], shape[3]);
        let (q, keys, values) = (contiguous(q), contiguous(keys), contiguous(values));
        let (q, keys, values) = (values_of(&q), values_of(&keys), values_of(&values));
        let scale = 1.0 / (hd as f32).sqrt();
        let mut out = vec![0.0f32; batch * heads * hd];
        let mut scores = vec![0.0f32; len];
        // A few heads of at most a block's positions: one core, no hand-offs.
        for (row, y) in out.chunks_exact_mut(hd).enumerate() {
            let query = &q[row * hd..(row + 1) * hd];
            let base = row * capacity * hd;
            let keys = &keys[base..base + len * hd];
            let values = &values[base..base + len * hd];
            let scores = &mut scores[..];
            with_256_bit_vectors(AttendOne {
                query,
                keys,
                values,
                scale,
                scores,
                y,
            });
        }
        FlexTensor::from_data(TensorData::new(out, [batch, heads, 1, hd]))
    }

    fn row_product(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self> {
        let (_, n) = last_two(&w);
        let (x, w) = (contiguous(x), contiguous(w));
        let y = super::rows::product(values(&x), &w, n);
        FlexTensor::from_data(TensorData::new(y, [1, n]))
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
            .for_each(|(((w, m), v), g)| vectorised(|| adamw_chunk(w, m, v, g, &k)));
        (w, m, v)
    }
}

/// One chunk of AdamW's update, element by element.
#[inline(always)]
fn adamw_chunk(w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: &AdamWConstants) {
    for (((w, m), v), g) in w.iter_mut().zip(m).zip(v).zip(g) {
        let g = g * k.grad_scale;
        *m = k.beta1 * *m + k.one_minus_beta1 * g;
        *v = k.beta2 * *v + k.one_minus_beta2 * g * g;
        let denom = v.sqrt() / k.sqrt_bias2 + k.eps;
        *w = *w * k.decay - k.step_size * *m / denom;
    }
}

/// Head `n` of `[batch · heads]` heads, `t × d` each of queries, keys and values.
fn one_head<'a>(
    n: usize,
    (q, k, v): (&'a [f32], &'a [f32], &'a [f32]),
    (t, d): (usize, usize),
) -> super::flash::Head<'a> {
    let rows = n * t * d..(n + 1) * t * d;
    super::flash::Head {
        q: &q[rows.clone()],
        k: &k[rows.clone()],
        v: &v[rows],
        t,
        d,
        scale: 1.0 / (d as f32).sqrt(),
    }
}

/// Runs `kernel` with 256-bit vectors where the CPU has them: faster than 512-bit ones for
/// decoding's memory-bound loops on the AMD EPYC (AVX-512) of docs/BENCHMARKS.md.
fn with_256_bit_vectors<K: pulp::WithSimd>(kernel: K) -> K::Output {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    if let Some(v3) = pulp::x86::V3::try_new() {
        return v3.vectorize(|| kernel.with_simd(v3));
    }
    pulp::Arch::new().dispatch(kernel)
}

/// `y += x · w` for `w` `[x.len(), y.len()]`, row by row (each row of `w` is read once,
/// front to back), in the CPU's vector registers: written with pulp's vector types, since
/// left to the compiler this loop came out as 128-bit SSE.
struct RowsProduct<'a> {
    x: &'a [f32],
    w: &'a [f32],
    y: &'a mut [f32],
}

impl pulp::WithSimd for RowsProduct<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let RowsProduct { x, w, y } = self;
        let n = y.len();
        let (y_vectors, y_rest) = S::as_mut_simd_f32s(y);
        for (&xi, row) in x.iter().zip(w.chunks_exact(n)) {
            let (w_vectors, w_rest) = S::as_simd_f32s(row);
            let xs = simd.splat_f32s(xi);
            for (y, &w) in y_vectors.iter_mut().zip(w_vectors) {
                *y = simd.mul_add_f32s(xs, w, *y);
            }
            for (y, w) in y_rest.iter_mut().zip(w_rest) {
                *y += xi * w;
            }
        }
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

/// Runs `f` compiled with the widest vector instructions this CPU has (AVX-512 or AVX2 on
/// x86) enabled; the crate itself is built for baseline x86-64 (SSE2). Whether a loop uses
/// them is the compiler's choice: these came out partly 512-bit, and measured faster (A:
/// 0.93× to 1.08× PyTorch with the exp and sums below), but the one-row product did not,
/// and is written with pulp's vector types instead.
#[inline(always)]
fn vectorised<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

#[inline(always)]
fn log_sum_exp(row: &[f32]) -> f32 {
    let max = max(row);
    max + sum_map(row, |x| exp(x - max)).ln()
}

/// Lanes of the partial sums and maxima below: sixteen independent accumulators let the
/// compiler keep them in one vector register (a single running sum is a serial chain).
const LANES: usize = 16;

#[inline(always)]
pub(super) fn sum(xs: &[f32]) -> f32 {
    sum_map(xs, |x| x)
}

/// Σ f(x), summed in [`LANES`] interleaved partial sums.
#[inline(always)]
fn sum_map(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += f(x);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Σ a·b.
#[inline(always)]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in a_chunks.zip(b_chunks) {
        for ((lane, a), b) in lanes.iter_mut().zip(a).zip(b) {
            *lane += a * b;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The largest element (−∞ for none); NaN if any is NaN, as the composed softmax gives.
#[inline(always)]
pub(super) fn max(xs: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let mut max = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| bigger(m, x));
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane = bigger(*lane, x);
        }
    }
    for lane in lanes {
        max = bigger(max, lane);
    }
    max
}

/// `x` if it is larger or NaN, else `m` (a comparison and a select, which vectorise).
#[inline(always)]
fn bigger(m: f32, x: f32) -> f32 {
    if x > m || x.is_nan() { x } else { m }
}

/// Φ(x) and φ(x) of the standard normal, sharing one exp: erf by Abramowitz and Stegun
/// 7.1.26 (absolute error below 1.5e-7, under f32's resolution of Φ near 1), which is
/// branch-free where libm's erf is not.
#[inline(always)]
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
    let gauss = exp(-z * z);
    let erf = 1.0 - poly * gauss;
    let cdf = 0.5 * (1.0 + erf.copysign(x));
    let pdf = gauss * (0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2);
    (cdf, pdf)
}

/// eˣ in f32 without a libm call, so that loops over it vectorise: Cephes' `expf`
/// (x = n·ln 2 + r, a degree-6 polynomial for eʳ, 2ⁿ from the exponent bits), within 2 ulp
/// of libm's. Saturates below −87.3 (to ~1e-38, not 0) and above 88; NaN stays NaN (the
/// clamps are comparisons, which NaN fails).
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer, branch-free.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = if x > 88.0 { 88.0 } else { x };
    let x = if x < -87.3 { -87.3 } else { x };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_65;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
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

/// One query's attention over `keys` and `values` (`len × head_dim` each, row-major) into
/// `y`, with `scores` as room for the `len` probabilities: in pulp's vector types, since
/// left to the compiler (inside `vectorised`) it came out as 128-bit SSE.
struct AttendOne<'a> {
    query: &'a [f32],
    keys: &'a [f32],
    values: &'a [f32],
    scale: f32,
    scores: &'a mut [f32],
    y: &'a mut [f32],
}

impl pulp::WithSimd for AttendOne<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let AttendOne {
            query,
            keys,
            values,
            scale,
            scores,
            y,
        } = self;
        let hd = query.len();
        let (q_vectors, q_rest) = S::as_simd_f32s(query);
        let mut max = f32::NEG_INFINITY;
        for (score, key) in scores.iter_mut().zip(keys.chunks_exact(hd)) {
            let (k_vectors, k_rest) = S::as_simd_f32s(key);
            let mut acc = simd.splat_f32s(0.0);
            for (&q, &k) in q_vectors.iter().zip(k_vectors) {
                acc = simd.mul_add_f32s(q, k, acc);
            }
            let tail: f32 = q_rest.iter().zip(k_rest).map(|(q, k)| q * k).sum();
            *score = (simd.reduce_sum_f32s(acc) + tail) * scale;
            max = max.max(*score);
        }
        let mut sum = 0.0;
        for score in scores.iter_mut() {
            *score = exp(*score - max);
            sum += *score;
        }
        let inverse = 1.0 / sum;
        let (y_vectors, y_rest) = S::as_mut_simd_f32s(y);
        for (&p, value) in scores.iter().zip(values.chunks_exact(hd)) {
            let p = p * inverse;
            let ps = simd.splat_f32s(p);
            let (v_vectors, v_rest) = S::as_simd_f32s(value);
            for (y, &v) in y_vectors.iter_mut().zip(v_vectors) {
                *y = simd.mul_add_f32s(ps, v, *y);
            }
            for (y, v) in y_rest.iter_mut().zip(v_rest) {
                *y += p * v;
            }
        }
    }
}

/// The elements of a contiguous tensor, which may be a prefix of a larger buffer.
pub(super) fn values_of(t: &FlexTensor) -> &[f32] {
    let n = t.layout().shape().num_elements();
    &values(t)[..n]
}

/// `y += x · w` for `w` `[x.len(), y.len()]`, on this thread.
pub(super) fn rows_product(x: &[f32], w: &[f32], y: &mut [f32]) {
    with_256_bit_vectors(RowsProduct { x, w, y });
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

#[cfg(test)]
mod tests {
    use super::exp;

    #[test]
    fn exp_is_within_two_ulp_of_libm() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let (ours, libm) = (exp(x), x.exp());
            let ulp = (libm.to_bits() as i64 - ours.to_bits() as i64).abs();
            assert!(ulp <= 2, "exp({x}) = {ours}, libm {libm}: {ulp} ulp apart");
            x += 0.001_37;
        }
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(-1e9) < 1e-37 && exp(f32::NEG_INFINITY) < 1e-37);
    }
}
