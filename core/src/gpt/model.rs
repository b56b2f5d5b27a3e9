//! A GPT-2-style decoder, after nanoGPT's model.py: token and learned position embeddings,
//! pre-LayerNorm blocks of causal self-attention and a 4× GELU MLP, a final LayerNorm, and an
//! LM head tied to the token embedding. The same code runs on every burn device; training
//! is the same model on an autodiff device. One option departs from GPT-2: rotary positions
//! instead of learned ones ([`Position::Rotary`]).
//!
//! Weight names (burn-store, in `model.safetensors`): `wte.weight`, `wpe.weight` (learned
//! positions only),
//! `blocks.{i}.ln_1.{gamma,beta}`, `blocks.{i}.attn.c_attn.{weight,bias}`,
//! `blocks.{i}.attn.c_proj.{weight,bias}`, `blocks.{i}.ln_2.{gamma,beta}`,
//! `blocks.{i}.mlp.c_fc.{weight,bias}`, `blocks.{i}.mlp.c_proj.{weight,bias}`,
//! `ln_f.{gamma,beta}`. Linear weights are stored `[in, out]` (transposed from PyTorch).

use burn::module::{Module, Param};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::prelude::*;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use super::cache::{KvCache, filled};
use super::config::{GptConfig, Position};
use crate::kernels;

/// GPT-2's initialisation: N(0, 0.02) everywhere, residual projections scaled down by
/// sqrt(2 · n_layer) so the residual stream's variance does not grow with depth.
fn linear(d_in: usize, d_out: usize, std: f64, bias: bool, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(d_in, d_out)
        .with_bias(bias)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device);
    if let Some(b) = layer.bias.as_mut() {
        *b = Param::from_tensor(Tensor::zeros([d_out], device));
    }
    layer
}

fn layer_norm(c: usize, bias: bool, device: &Device) -> LayerNorm {
    LayerNormConfig::new(c)
        .with_epsilon(1e-5)
        .with_bias(bias)
        .init(device)
}

/// GPT-2's scaled initialisation of the projections into the residual stream.
fn residual_std(config: &GptConfig) -> f64 {
    0.02 / (2.0 * config.n_layer as f64).sqrt()
}

#[derive(Module, Debug)]
pub struct CausalSelfAttention {
    c_attn: Linear,
    c_proj: Linear,
    resid_dropout: Dropout,
    n_head: usize,
}

impl CausalSelfAttention {
    fn new(config: &GptConfig, device: &Device) -> Self {
        let (c, proj_std) = (config.n_embd, residual_std(config));
        CausalSelfAttention {
            c_attn: linear(c, 3 * c, 0.02, config.bias, device),
            c_proj: linear(c, c, proj_std, config.bias, device),
            resid_dropout: DropoutConfig::new(config.dropout).init(),
            n_head: config.n_head,
        }
    }

    /// `x`: `[batch, new, channels]`. With a cache, the new positions' keys and values are
    /// written into it and the queries attend to everything cached so far; the causal mask
    /// is aligned bottom-right, so new position i sees cached positions up to its own.
    /// With rotary positions, queries and keys are rotated before keys are cached.
    fn forward(
        &self,
        x: Tensor<3>,
        cache: Option<(&mut KvCache, usize)>,
        padding: Option<&Tensor<4, Bool>>,
        rotary: Option<&Rotary>,
    ) -> Tensor<3> {
        let [b, t, c] = x.dims();
        let (h, hd) = (self.n_head, c / self.n_head);
        let heads = |z: Tensor<3>| z.reshape([b, t, h, hd]).swap_dims(1, 2);
        let mut qkv = kernels::linear(&self.c_attn, x).chunk(3, 2);
        let v = heads(qkv.pop().expect("three chunks"));
        let mut k = heads(qkv.pop().expect("three chunks"));
        let mut q = heads(qkv.pop().expect("three chunks"));
        if let Some(rotary) = rotary {
            q = rotary.apply(q);
            k = rotary.apply(k);
        }
        let y = match (cache, padding) {
            // Training and whole-sequence passes: the fused kernel where the device has it.
            (None, None) => kernels::causal_attention(q, k, v),
            // Decoding one position of one unpadded batch: the cache read in place.
            (Some((cache, layer)), None) if t == 1 => {
                let (keys, values, len) = cache.append_whole(layer, k, v);
                match kernels::cached_attention(&q, &keys, &values, len) {
                    Some(y) => y,
                    None => burn_attention(q, filled(keys, len), filled(values, len), None),
                }
            }
            (cache, padding) => {
                let (k, v) = match cache {
                    Some((cache, layer)) => cache.append(layer, k, v),
                    None => (k, v),
                };
                burn_attention(q, k, v, padding)
            }
        };
        let y = y.swap_dims(1, 2).reshape([b, t, c]);
        self.resid_dropout.forward(kernels::linear(&self.c_proj, y))
    }
}

/// burn's causal attention, the mask aligned bottom-right, with `padding` masked out.
fn burn_attention(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    padding: Option<&Tensor<4, Bool>>,
) -> Tensor<4> {
    let options = AttentionModuleOptions {
        scale: None,
        softcap: None,
        is_causal: true,
    };
    attention(q, k, v, padding.cloned(), None, options)
}

#[derive(Module, Debug)]
pub struct Mlp {
    c_fc: Linear,
    c_proj: Linear,
    dropout: Dropout,
}

impl Mlp {
    fn new(config: &GptConfig, device: &Device) -> Self {
        let (c, proj_std) = (config.n_embd, residual_std(config));
        Mlp {
            c_fc: linear(c, 4 * c, 0.02, config.bias, device),
            c_proj: linear(4 * c, c, proj_std, config.bias, device),
            dropout: DropoutConfig::new(config.dropout).init(),
        }
    }

    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.dropout.forward(kernels::linear(
            &self.c_proj,
            kernels::gelu(kernels::linear(&self.c_fc, x)),
        ))
    }
}

#[derive(Module, Debug)]
pub struct Block {
    ln_1: LayerNorm,
    attn: CausalSelfAttention,
    ln_2: LayerNorm,
    mlp: Mlp,
}

impl Block {
    fn new(config: &GptConfig, device: &Device) -> Self {
        Block {
            ln_1: layer_norm(config.n_embd, config.bias, device),
            attn: CausalSelfAttention::new(config, device),
            ln_2: layer_norm(config.n_embd, config.bias, device),
            mlp: Mlp::new(config, device),
        }
    }

    fn forward(
        &self,
        x: Tensor<3>,
        cache: Option<(&mut KvCache, usize)>,
        padding: Option<&Tensor<4, Bool>>,
        rotary: Option<&Rotary>,
    ) -> Tensor<3> {
        let x = x.clone()
            + self
                .attn
                .forward(self.ln_1.forward(x), cache, padding, rotary);
        x.clone() + self.mlp.forward(self.ln_2.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct Gpt {
    wte: Embedding,
    /// Learned positions; `None` with rotary ones.
    wpe: Option<Embedding>,
    drop: Dropout,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    block_size: usize,
}

impl Gpt {
    /// A freshly initialised model. The config must be valid ([`GptConfig::validate`]).
    pub fn new(config: &GptConfig, device: &Device) -> Self {
        let embedding = |n: usize| {
            EmbeddingConfig::new(n, config.n_embd)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 0.02,
                })
                .init(device)
        };
        Gpt {
            wte: embedding(config.vocab_size),
            wpe: (config.position == Position::Learned).then(|| embedding(config.block_size)),
            drop: DropoutConfig::new(config.dropout).init(),
            blocks: (0..config.n_layer)
                .map(|_| Block::new(config, device))
                .collect(),
            ln_f: layer_norm(config.n_embd, config.bias, device),
            block_size: config.block_size,
        }
    }

    pub fn block_size(&self) -> usize {
        self.block_size
    }

    fn head_dim(&self) -> usize {
        let n_embd = self.wte.weight.dims()[1];
        n_embd / self.blocks.first().map_or(1, |b| b.attn.n_head)
    }

    /// Logits `[batch, time, vocab]` for token ids `[batch, time]`, time ≤ block_size.
    pub fn forward(&self, idx: Tensor<2, Int>) -> Tensor<3> {
        self.lm_head(self.hidden(idx, None, &[]))
    }

    /// The final hidden states `[batch, time, n_embd]` (after the last LayerNorm): what the
    /// LM head reads, and what a reward or value head reads instead.
    pub fn features(&self, idx: Tensor<2, Int>) -> Tensor<3> {
        self.hidden(idx, None, &[])
    }

    /// Logits for new tokens that continue what the cache holds; their keys and values are
    /// added to the cache.
    ///
    /// # Panics
    /// If the tokens do not fit the cache ([`KvCache::remaining`]); [`super::Decoder`] checks
    /// and slides the context instead, so code driving generation should use it.
    pub fn forward_cached(&self, idx: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<3> {
        self.lm_head(self.hidden(idx, Some(cache), &[]))
    }

    /// Logits `[batch, vocab]` of the last new position only: all that decoding needs, and
    /// it skips the LM head (the largest matmul at vocab 8,192) for the other positions.
    pub fn forward_cached_last(&self, idx: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<2> {
        self.forward_padded_last(idx, &[], cache)
    }

    /// [`Gpt::forward_cached_last`] for a batch of left-padded rows: row `i`'s first
    /// `pads[i]` cache slots hold padding, which no real position attends to and which does
    /// not count towards positions, so each row computes what it would alone. An empty
    /// `pads` means no padding.
    pub fn forward_padded_last(
        &self,
        idx: Tensor<2, Int>,
        pads: &[usize],
        cache: &mut KvCache,
    ) -> Tensor<2> {
        let hidden = self.hidden(idx, Some(cache), pads);
        let [b, t, c] = hidden.dims();
        let last = hidden.slice([0..b, t - 1..t, 0..c]);
        let vocab = self.wte.weight.dims()[0];
        self.lm_head(last).reshape([b, vocab])
    }

    fn hidden(
        &self,
        idx: Tensor<2, Int>,
        mut cache: Option<&mut KvCache>,
        pads: &[usize],
    ) -> Tensor<3> {
        let [b, t] = idx.dims();
        let start = cache.as_ref().map_or(0, |c| c.len());
        let device = idx.device();
        let padded = pads.iter().any(|&p| p > 0);
        let positions = if padded {
            let ids: Vec<i64> = pads
                .iter()
                .flat_map(|&pad| {
                    (start..start + t).map(move |slot| slot.saturating_sub(pad) as i64)
                })
                .collect();
            Tensor::<1, Int>::from_ints(ids.as_slice(), &device).reshape([b, t])
        } else {
            Tensor::<1, Int>::arange(start as i64..(start + t) as i64, &device).reshape([1, t])
        };
        let padding = padded.then(|| padding_mask(pads, start, t, &device));
        let tokens = self.wte.forward(idx);
        let (x, rotary) = match &self.wpe {
            Some(wpe) => (tokens + wpe.forward(positions), None),
            None => (tokens, Some(Rotary::new(positions, self.head_dim()))),
        };
        let mut x = self.drop.forward(x);
        for (layer, block) in self.blocks.iter().enumerate() {
            x = block.forward(
                x,
                cache.as_deref_mut().map(|c| (c, layer)),
                padding.as_ref(),
                rotary.as_ref(),
            );
        }
        if let Some(cache) = cache {
            cache.advance(t);
        }
        self.ln_f.forward(x)
    }

    /// The LM head, tied to the token embedding: logits = h · wteᵀ, for features from
    /// [`Gpt::features`].
    pub fn lm_head(&self, hidden: Tensor<3>) -> Tensor<3> {
        let [b, t, c] = hidden.dims();
        let weight = self.wte.weight.val();
        let vocab = weight.dims()[0];
        hidden
            .reshape([b * t, c])
            .matmul(weight.transpose())
            .reshape([b, t, vocab])
    }
}

/// Rotary position embeddings (GPT-NeoX's half-split form): channel pairs (i, i + d/2) of
/// every head's queries and keys are rotated by position · 10000^(-2i/d), so a query–key
/// score depends on their offset, not on where they are.
struct Rotary {
    /// `[batch or 1, 1, time, head_dim / 2]`.
    cos: Tensor<4>,
    sin: Tensor<4>,
}

impl Rotary {
    /// `positions`: `[batch or 1, time]`.
    fn new(positions: Tensor<2, Int>, head_dim: usize) -> Self {
        let [b, t] = positions.dims();
        let half = head_dim / 2;
        let device = positions.device();
        let inverse: Vec<f32> = (0..half)
            .map(|i| 10000f32.powf(-2.0 * i as f32 / head_dim as f32))
            .collect();
        let inverse = Tensor::<1>::from_floats(inverse.as_slice(), &device).reshape([1, 1, half]);
        let angles = positions.float().reshape([b, t, 1]) * inverse;
        let angles = angles.reshape([b, 1, t, half]);
        Rotary {
            cos: angles.clone().cos(),
            sin: angles.sin(),
        }
    }

    /// `x`: `[batch, heads, time, head_dim]`.
    fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, h, t, d] = x.dims();
        let half = d / 2;
        let x1 = x.clone().slice([0..b, 0..h, 0..t, 0..half]);
        let x2 = x.slice([0..b, 0..h, 0..t, half..d]);
        let (cos, sin) = (self.cos.clone(), self.sin.clone());
        Tensor::cat(
            vec![
                x1.clone() * cos.clone() - x2.clone() * sin.clone(),
                x2 * cos + x1 * sin,
            ],
            3,
        )
    }
}

/// The attention mask `[batch, 1, new, start + new]` (true = hidden) that keeps every row's
/// padding slots out of sight. A padding position itself still sees its own slot, so no
/// softmax row is empty (an empty one is NaN on some backends, and NaN would leak through
/// the zero weights into real positions).
fn padding_mask(pads: &[usize], start: usize, t: usize, device: &Device) -> Tensor<4, Bool> {
    let end = start + t;
    let hidden: Vec<bool> = pads
        .iter()
        .flat_map(|&pad| {
            (start..end).flat_map(move |query| (0..end).map(move |key| key < pad && key != query))
        })
        .collect();
    Tensor::from_data(TensorData::new(hidden, [pads.len(), 1, t, end]), device)
}
