//! Causal attention in tiles, as FlashAttention computes it: the scores of one block of
//! queries against one block of keys at a time, with a running maximum and sum per query
//! (an online softmax), so no `time × time` matrix is ever held. The forward keeps only
//! each query's log-sum-exp; the backward recomputes each tile's probabilities from it.
//! Every tile product runs on the core that runs the head ([`product`]).
//!
//! Shapes are one head's: queries, keys and values `t × d` each, row-major; query `i`
//! sees keys `0..=i`.

use super::flex::{dot, exp, max, sum};

/// Queries and keys per tile: a 64 × 64 tile of scores (16 KiB) and the 64 × d blocks
/// beside it stay in the core's L2 (2 MiB here) with room to spare.
const BLOCK: usize = 64;

/// One head's queries, keys and values.
#[derive(Clone, Copy)]
pub(super) struct Head<'a> {
    pub q: &'a [f32],
    pub k: &'a [f32],
    pub v: &'a [f32],
    pub t: usize,
    pub d: usize,
    pub scale: f32,
}

impl Head<'_> {
    /// How many of the `cols` keys from `j0` on query `i` sees.
    fn live(&self, i: usize, j0: usize, cols: usize) -> usize {
        (i + 1).saturating_sub(j0).min(cols)
    }

    fn block<'s>(&self, m: &'s [f32], start: usize, len: usize) -> View<'s> {
        View::rows(&m[start * self.d..(start + len) * self.d], len, self.d)
    }
}

/// The attention output (`t × d`, into `out`) and each query's log-sum-exp of its scaled
/// scores (into `lse`).
pub(super) fn forward(h: Head<'_>, out: &mut [f32], lse: &mut [f32]) {
    let d = h.d;
    let kt = transposed(h.k, h.t, d);
    let mut s = vec![0.0f32; BLOCK * BLOCK];
    for i0 in (0..h.t).step_by(BLOCK) {
        let rows = BLOCK.min(h.t - i0);
        let qi = h.block(h.q, i0, rows);
        let acc = &mut out[i0 * d..(i0 + rows) * d];
        acc.fill(0.0);
        let mut m = [f32::NEG_INFINITY; BLOCK];
        let mut l = [0.0f32; BLOCK];
        // The block's last query sees keys up to its own position.
        let end = i0 + rows;
        for j0 in (0..end).step_by(BLOCK) {
            let cols = BLOCK.min(end - j0);
            let s = &mut s[..rows * cols];
            product(s, cols, qi, columns(&kt, j0, cols, h.t), false, h.scale);
            for (r, row) in s.chunks_exact_mut(cols).enumerate() {
                let (seen, hidden) = row.split_at_mut(h.live(i0 + r, j0, cols));
                hidden.fill(0.0);
                if seen.is_empty() {
                    continue;
                }
                let top = m[r].max(max(seen));
                seen.iter_mut().for_each(|x| *x = exp(*x - top));
                // The earlier tiles' sum and output were weighed against the old maximum.
                let rescale = exp(m[r] - top);
                l[r] = l[r] * rescale + sum(seen);
                acc[r * d..(r + 1) * d]
                    .iter_mut()
                    .for_each(|a| *a *= rescale);
                m[r] = top;
            }
            let p = View::rows(s, rows, cols);
            product(acc, d, p, h.block(h.v, j0, cols), true, 1.0);
        }
        for (r, row) in acc.chunks_exact_mut(d).enumerate() {
            let inverse = 1.0 / l[r];
            row.iter_mut().for_each(|a| *a *= inverse);
            lse[i0 + r] = m[r] + l[r].ln();
        }
    }
}

/// The gradients of the queries, keys and values (into `dq`, `dk`, `dv`) from the
/// forward's output `o`, its log-sum-exps and the output's gradient `dout`.
pub(super) fn backward(
    h: Head<'_>,
    (o, lse, dout): (&[f32], &[f32], &[f32]),
    (dq, dk, dv): (&mut [f32], &mut [f32], &mut [f32]),
) {
    let d = h.d;
    dq.fill(0.0);
    dk.fill(0.0);
    dv.fill(0.0);
    // rowsum(P ⊙ dP) = dO · O for each query: the softmax backward's one reduction.
    let delta: Vec<f32> = (dout.chunks_exact(d).zip(o.chunks_exact(d)))
        .map(|(g, o)| dot(g, o))
        .collect();
    let (kt, vt) = (transposed(h.k, h.t, d), transposed(h.v, h.t, d));
    let (mut p, mut ds) = (vec![0.0f32; BLOCK * BLOCK], vec![0.0f32; BLOCK * BLOCK]);
    for j0 in (0..h.t).step_by(BLOCK) {
        let cols = BLOCK.min(h.t - j0);
        let kj = h.block(h.k, j0, cols);
        let (kjt, vjt) = (columns(&kt, j0, cols, h.t), columns(&vt, j0, cols, h.t));
        // Query j0 is the first that sees key j0.
        for i0 in (j0..h.t).step_by(BLOCK) {
            let rows = BLOCK.min(h.t - i0);
            let (qi, gi) = (h.block(h.q, i0, rows), h.block(dout, i0, rows));
            let (p, ds) = (&mut p[..rows * cols], &mut ds[..rows * cols]);
            product(p, cols, qi, kjt, false, h.scale);
            for (r, row) in p.chunks_exact_mut(cols).enumerate() {
                let (seen, hidden) = row.split_at_mut(h.live(i0 + r, j0, cols));
                let lse = lse[i0 + r];
                seen.iter_mut().for_each(|x| *x = exp(*x - lse));
                hidden.fill(0.0);
            }
            let pv = View::rows(p, rows, cols);
            product(&mut dv[j0 * d..(j0 + cols) * d], d, pv.t(), gi, true, 1.0);
            product(ds, cols, gi, vjt, false, 1.0);
            for (r, (ds, p)) in ds
                .chunks_exact_mut(cols)
                .zip(p.chunks_exact(cols))
                .enumerate()
            {
                let delta = delta[i0 + r];
                for (g, &p) in ds.iter_mut().zip(p) {
                    *g = h.scale * p * (*g - delta);
                }
            }
            let dsv = View::rows(ds, rows, cols);
            product(&mut dq[i0 * d..(i0 + rows) * d], d, dsv, kj, true, 1.0);
            product(&mut dk[j0 * d..(j0 + cols) * d], d, dsv.t(), qi, true, 1.0);
        }
    }
}

/// A `t × d` row-major matrix transposed: `d × t`, packed.
fn transposed(m: &[f32], t: usize, d: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; t * d];
    for (i, row) in m[..t * d].chunks_exact(d).enumerate() {
        for (c, &x) in row.iter().enumerate() {
            out[c * t + i] = x;
        }
    }
    out
}

/// Columns `j0..j0 + cols` of a `d × t` packed matrix.
fn columns(mt: &[f32], j0: usize, cols: usize, t: usize) -> View<'_> {
    View::strided(&mt[j0..], mt.len() / t, cols, t)
}

/// A matrix over a slice: element `(r, c)` at `r · rs + c · cs`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    /// `rows × cols`, row-major and packed.
    fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols)
    }

    /// `rows × cols`, row-major, each row `stride` elements after the one before.
    fn strided(data: &'a [f32], rows: usize, cols: usize, stride: usize) -> Self {
        assert!(
            rows == 0 || (rows - 1) * stride + cols <= data.len(),
            "a view inside its slice"
        );
        View {
            data,
            rows,
            cols,
            rs: stride,
            cs: 1,
        }
    }

    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.rs + c * self.cs]
    }

    /// The transpose, over the same elements.
    fn t(self) -> Self {
        View {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

/// `dst = a · b · scale`, or `dst += a · b · scale` when `accumulate`, where `b`'s rows are
/// contiguous, `dst` is packed row-major with `dst_cols` columns, and `a` is any view. The
/// workspace forbids `unsafe`, so gemm's raw-pointer entry point is out of reach; this is a
/// register-blocked kernel of its own: four rows of `dst` by up to four vectors of columns
/// at a time, each element of `a` broadcast once per block, each vector of `b` loaded once
/// for four rows.
fn product(
    dst: &mut [f32],
    dst_cols: usize,
    a: View<'_>,
    b: View<'_>,
    accumulate: bool,
    scale: f32,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions agree");
    assert_eq!(b.cols, dst_cols, "the product fills the destination's rows");
    assert_eq!(b.cs, 1, "the right factor's rows are contiguous");
    let dst = &mut dst[..a.rows * dst_cols];
    if !accumulate {
        dst.fill(0.0);
    }
    pulp::Arch::new().dispatch(Product { a, b, dst, scale });
}

struct Product<'a> {
    a: View<'a>,
    b: View<'a>,
    dst: &'a mut [f32],
    scale: f32,
}

impl pulp::WithSimd for Product<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Product { a, b, dst, scale } = self;
        let mut i = 0;
        while i + 4 <= a.rows {
            rows_times_b::<S, 4>(simd, a, i, b, dst, scale);
            i += 4;
        }
        while i < a.rows {
            rows_times_b::<S, 1>(simd, a, i, b, dst, scale);
            i += 1;
        }
    }
}

/// Rows `i..i + R` of `dst += scale · a · b`: the columns in blocks of 4, 2 or 1 vectors,
/// the few left over one by one.
#[inline(always)]
fn rows_times_b<S: pulp::Simd, const R: usize>(
    simd: S,
    a: View<'_>,
    i: usize,
    b: View<'_>,
    dst: &mut [f32],
    scale: f32,
) {
    let n = b.cols;
    let lanes = std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>();
    let vectors = n / lanes;
    let mut v = 0;
    while v < vectors {
        let left = vectors - v;
        let at = v * lanes;
        if left >= 4 {
            block::<S, R, 4>(simd, a, i, (b, at), dst, scale);
            v += 4;
        } else if left >= 2 {
            block::<S, R, 2>(simd, a, i, (b, at), dst, scale);
            v += 2;
        } else {
            block::<S, R, 1>(simd, a, i, (b, at), dst, scale);
            v += 1;
        }
    }
    for r in i..i + R {
        for j in vectors * lanes..n {
            let total: f32 = (0..a.cols).map(|k| a.at(r, k) * b.at(k, j)).sum();
            dst[r * n + j] += scale * total;
        }
    }
}

/// An `R × V`-vector block of `dst += scale · a · b` from column `at`, its sums in
/// registers.
#[inline(always)]
fn block<S: pulp::Simd, const R: usize, const V: usize>(
    simd: S,
    a: View<'_>,
    i: usize,
    (b, at): (View<'_>, usize),
    dst: &mut [f32],
    scale: f32,
) {
    let n = b.cols;
    let lanes = std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>();
    let mut sums = [[simd.splat_f32s(0.0); V]; R];
    for k in 0..a.cols {
        let start = k * b.rs + at;
        let (row, _) = S::as_simd_f32s(&b.data[start..start + V * lanes]);
        for (r, sums) in sums.iter_mut().enumerate() {
            let x = simd.splat_f32s(a.at(i + r, k));
            for (sum, &y) in sums.iter_mut().zip(row) {
                *sum = simd.mul_add_f32s(x, y, *sum);
            }
        }
    }
    let scale = simd.splat_f32s(scale);
    for (r, sums) in sums.iter().enumerate() {
        let start = (i + r) * n + at;
        let (out, _) = S::as_mut_simd_f32s(&mut dst[start..start + V * lanes]);
        for (out, &sum) in out.iter_mut().zip(sums) {
            *out = simd.mul_add_f32s(scale, sum, *out);
        }
    }
}
