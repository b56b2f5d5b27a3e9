//! A real key/value cache: per layer, keys and values preallocated for the whole context,
//! filled one slice at a time, so each decoding step computes attention for its one new
//! query against what is cached instead of re-running the whole sequence.

use burn::prelude::*;

use super::config::GptConfig;

/// Keys and values of every layer for a batch of sequences, `[batch, heads, block_size,
/// head_dim]` each, of which the first `len` positions are filled.
pub struct KvCache {
    layers: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    len: usize,
    capacity: usize,
}

impl KvCache {
    pub fn new(config: &GptConfig, batch: usize, device: &Device) -> Self {
        let shape = [batch, config.n_head, config.block_size, config.head_dim()];
        let layers = (0..config.n_layer)
            .map(|_| Some((Tensor::zeros(shape, device), Tensor::zeros(shape, device))))
            .collect();
        KvCache {
            layers,
            len: 0,
            capacity: config.block_size,
        }
    }

    /// Positions cached so far.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Positions that can still be added.
    pub fn remaining(&self) -> usize {
        self.capacity - self.len
    }

    /// Forgets everything; the memory stays allocated for reuse.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Writes one layer's new keys and values `[batch, heads, new, head_dim]` after the
    /// cached positions, and returns the keys and values of all positions so far.
    ///
    /// # Panics
    /// If the new positions do not fit: callers check [`KvCache::remaining`] first.
    pub(crate) fn append(
        &mut self,
        layer: usize,
        k: Tensor<4>,
        v: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>) {
        let (keys, values, end) = self.append_whole(layer, k, v);
        (filled(keys, end), filled(values, end))
    }

    /// [`KvCache::append`] that returns the layer's whole key and value tensors
    /// (`[batch, heads, capacity, head_dim]`) and how many positions of them count now, for
    /// a kernel that reads the filled prefix in place.
    pub(crate) fn append_whole(
        &mut self,
        layer: usize,
        k: Tensor<4>,
        v: Tensor<4>,
    ) -> (Tensor<4>, Tensor<4>, usize) {
        let [b, h, t, hd] = k.dims();
        let end = self.len + t;
        assert!(
            end <= self.capacity,
            "KV cache overflow: {end} positions in a cache of {}",
            self.capacity
        );
        let (keys, values) = self.layers[layer].take().expect("layer cache present");
        // slice_assign writes in place when the tensor is not shared (burn-flex copy-on-write).
        let keys = keys.slice_assign([0..b, 0..h, self.len..end, 0..hd], k);
        let values = values.slice_assign([0..b, 0..h, self.len..end, 0..hd], v);
        // The caller's handles share the buffers until it drops them, before the next
        // append (which would otherwise copy on write).
        self.layers[layer] = Some((keys.clone(), values.clone()));
        (keys, values, end)
    }

    /// Commits the positions every layer has just written.
    pub(crate) fn advance(&mut self, t: usize) {
        self.len += t;
    }
}

/// The first `len` positions of a layer's `[batch, heads, capacity, head_dim]` keys or
/// values: a strided view (the prefix of each head is followed by its unfilled rest).
pub(crate) fn filled(t: Tensor<4>, len: usize) -> Tensor<4> {
    let [b, h, _, hd] = t.dims();
    t.slice([0..b, 0..h, 0..len, 0..hd])
}
