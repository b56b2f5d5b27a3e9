//! Decoding with the key/value cache: greedy or sampled (temperature, top-k, top-p, seeded),
//! stop sequences, streaming, and the two hooks the router needs — forcing a span of tokens
//! into the sequence (an expert's result) and restricting the next token to an allowed set
//! (constrained decoding).

use burn::prelude::*;

use super::cache::KvCache;
use super::config::GptConfig;
use super::model::Gpt;
use crate::rng::SplitMix64 as Rng;

/// How the next token is chosen from the logits.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoding {
    /// The most likely token.
    Greedy,
    /// A draw from the softmax at `temperature`, kept to the `top_k` most likely tokens and
    /// to the smallest set whose probability reaches `top_p`; reproducible from `seed`.
    Sample {
        temperature: f32,
        top_k: Option<usize>,
        top_p: Option<f32>,
        seed: u64,
    },
}

/// Why a decoding step could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    #[error("token id {id} is outside the vocabulary of {vocab} tokens")]
    UnknownToken { id: u32, vocab: usize },
    #[error("the allowed set is empty or holds no token of the vocabulary")]
    NothingAllowed,
    #[error("nothing has been fed yet: a prompt comes first")]
    NoPrompt,
    #[error("{0} tokens at once cannot fit a context of {1}")]
    TooLong(usize, usize),
}

/// One sequence being decoded: the tokens so far, their cached keys and values, and the
/// logits for the next position.
pub struct Decoder<'m> {
    model: &'m Gpt,
    cache: KvCache,
    device: Device,
    tokens: Vec<u32>,
    next_logits: Option<Vec<f32>>,
    vocab: usize,
    rng: Option<Rng>,
}

impl<'m> Decoder<'m> {
    pub fn new(model: &'m Gpt, config: &GptConfig, device: &Device) -> Self {
        Decoder {
            model,
            cache: KvCache::new(config, 1, device),
            device: device.clone(),
            tokens: Vec::new(),
            next_logits: None,
            vocab: config.vocab_size,
            rng: None,
        }
    }

    /// Every token of the sequence: prompt, forced and generated.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Appends tokens the model did not choose — the prompt, or an expert's result — and
    /// runs them through the model in one pass. When the context is full, the sequence
    /// slides: the cache is rebuilt from the most recent half-context of tokens.
    pub fn feed(&mut self, tokens: &[u32]) -> Result<(), GenerateError> {
        let block = self.model.block_size();
        check_tokens(tokens, self.vocab, block)?;
        if tokens.is_empty() {
            return Ok(());
        }
        self.tokens.extend_from_slice(tokens);
        if tokens.len() <= self.cache.remaining() {
            self.run(tokens.to_vec());
            return Ok(());
        }
        let keep = (block / 2).max(1).max(tokens.len());
        self.cache.clear();
        self.run(self.tokens[self.tokens.len() - keep..].to_vec());
        Ok(())
    }

    /// The model's logits for the next position (`None` before any token was fed).
    pub fn next_logits(&self) -> Option<&[f32]> {
        self.next_logits.as_deref()
    }

    fn run(&mut self, tokens: Vec<u32>) {
        let mut rows = last_logits(self.model, &mut self.cache, &tokens, 1, &[], &self.device);
        self.next_logits = rows.pop();
    }

    /// Chooses the next token (restricted to `allowed` when given), appends it and runs it
    /// through the model.
    pub fn next_token(
        &mut self,
        decoding: &Decoding,
        allowed: Option<&[u32]>,
    ) -> Result<u32, GenerateError> {
        let logits = self.next_logits.as_ref().ok_or(GenerateError::NoPrompt)?;
        let token = choose(logits, decoding, allowed, &mut self.rng)?;
        self.feed(&[token])?;
        Ok(token)
    }
}

/// Checks tokens about to enter the model: all in the vocabulary, no more than a context.
pub(crate) fn check_tokens(
    tokens: &[u32],
    vocab: usize,
    block: usize,
) -> Result<(), GenerateError> {
    if let Some(&id) = tokens.iter().find(|&&id| id as usize >= vocab) {
        return Err(GenerateError::UnknownToken { id, vocab });
    }
    if tokens.len() > block {
        return Err(GenerateError::TooLong(tokens.len(), block));
    }
    Ok(())
}

/// Runs `rows` equal-length rows of token ids (flattened in `ids`, left-padded by `pads`;
/// empty for none) through the model and the cache; returns each row's next-token logits.
pub(crate) fn last_logits(
    model: &Gpt,
    cache: &mut KvCache,
    ids: &[u32],
    rows: usize,
    pads: &[usize],
    device: &Device,
) -> Vec<Vec<f32>> {
    let data: Vec<i64> = ids.iter().map(|&t| i64::from(t)).collect();
    let idx =
        Tensor::<1, Int>::from_ints(data.as_slice(), device).reshape([rows, ids.len() / rows]);
    let logits = model.forward_padded_last(idx, pads, cache);
    let flat = logits.into_data().try_to_vec::<f32>().expect("f32 logits");
    flat.chunks(flat.len() / rows)
        .map(<[f32]>::to_vec)
        .collect()
}

/// The next token from one position's logits, restricted to `allowed` when given. The
/// generator is created from the decoding's seed on first use, so a sequence's draws
/// depend only on its seed and its own logits.
pub(crate) fn choose(
    logits: &[f32],
    decoding: &Decoding,
    allowed: Option<&[u32]>,
    rng: &mut Option<Rng>,
) -> Result<u32, GenerateError> {
    let mut candidates: Vec<(u32, f32)> = match allowed {
        Some(ids) => ids
            .iter()
            .filter(|&&id| (id as usize) < logits.len())
            .map(|&id| (id, logits[id as usize]))
            .collect(),
        None => logits
            .iter()
            .enumerate()
            .map(|(id, &l)| (id as u32, l))
            .collect(),
    };
    if candidates.is_empty() {
        return Err(GenerateError::NothingAllowed);
    }
    Ok(match decoding {
        Decoding::Greedy => greedy(&candidates),
        Decoding::Sample {
            temperature,
            top_k,
            top_p,
            seed,
        } => {
            let rng = rng.get_or_insert_with(|| Rng::new(*seed));
            sample(&mut candidates, *temperature, *top_k, *top_p, rng)
        }
    })
}

/// The highest logit; the lowest id among equals, so ties break the same way every time.
fn greedy(candidates: &[(u32, f32)]) -> u32 {
    candidates
        .iter()
        .fold(None::<(u32, f32)>, |best, &(id, l)| match best {
            Some((_, bl)) if bl >= l => best,
            _ => Some((id, l)),
        })
        .map_or(0, |(id, _)| id)
}

fn sample(
    candidates: &mut Vec<(u32, f32)>,
    temperature: f32,
    top_k: Option<usize>,
    top_p: Option<f32>,
    rng: &mut Rng,
) -> u32 {
    if temperature <= 0.0 {
        return greedy(candidates);
    }
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(k) = top_k {
        candidates.truncate(k.max(1));
    }
    let max = candidates[0].1;
    let mut probs: Vec<f32> = candidates
        .iter()
        .map(|&(_, l)| ((l - max) / temperature).exp())
        .collect();
    let total: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= total);
    if let Some(p) = top_p {
        let mut mass = 0.0;
        let keep = probs.iter().position(|&q| {
            mass += q;
            mass >= p
        });
        let keep = keep.map_or(probs.len(), |i| i + 1);
        probs.truncate(keep);
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|q| *q /= total);
    }
    let draw = rng.next_f32();
    let mut mass = 0.0;
    for (i, q) in probs.iter().enumerate() {
        mass += q;
        if draw < mass {
            return candidates[i].0;
        }
    }
    candidates[probs.len() - 1].0
}

/// What a [`generate`] call asks for.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub max_new_tokens: usize,
    pub decoding: Decoding,
    /// Generation stops after any of these token sequences (which are kept in the output).
    pub stop: Vec<Vec<u32>>,
}

/// Why generation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Stop,
    Length,
}

/// Generates after `prompt`, calling `on_token` with each new token as it is chosen.
/// Returns the new tokens and why generation ended.
pub fn generate(
    model: &Gpt,
    config: &GptConfig,
    device: &Device,
    prompt: &[u32],
    options: &GenerateOptions,
    mut on_token: impl FnMut(u32),
) -> Result<(Vec<u32>, Finish), GenerateError> {
    let mut decoder = Decoder::new(model, config, device);
    decoder.feed(prompt)?;
    let mut generated = Vec::with_capacity(options.max_new_tokens);
    for _ in 0..options.max_new_tokens {
        let token = decoder.next_token(&options.decoding, None)?;
        generated.push(token);
        on_token(token);
        if options.stops(&generated) {
            return Ok((generated, Finish::Stop));
        }
    }
    Ok((generated, Finish::Length))
}

impl GenerateOptions {
    /// Whether `generated` ends with one of the stop sequences.
    pub(crate) fn stops(&self, generated: &[u32]) -> bool {
        self.stop
            .iter()
            .any(|s| !s.is_empty() && generated.ends_with(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_breaks_ties_by_lowest_id() {
        assert_eq!(greedy(&[(5, 1.0), (2, 3.0), (9, 3.0)]), 2);
    }

    #[test]
    fn sampling_respects_top_k_and_seed() {
        let base: Vec<(u32, f32)> = (0..10).map(|i| (i, i as f32)).collect();
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let token = sample(&mut base.clone(), 1.0, Some(2), None, &mut rng);
            assert!(token == 9 || token == 8, "{token}");
        }
        let draws = |seed| {
            let mut rng = Rng::new(seed);
            (0..20)
                .map(|_| sample(&mut base.clone(), 2.0, None, Some(0.9), &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
    }
}
