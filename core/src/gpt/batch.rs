//! Batch generation: several prompts decoded together, one forward pass per step for the
//! whole batch. Prompts of different lengths are left-padded in the cache; the padding is
//! masked out and does not count towards positions, so each row generates what
//! [`super::generate`] would generate for it alone (same decoding, same seed).

use burn::prelude::*;

use super::cache::KvCache;
use super::config::GptConfig;
use super::generate::{Finish, GenerateError, GenerateOptions, check_tokens, choose, last_logits};
use super::model::Gpt;
use crate::rng::SplitMix64 as Rng;

/// One row of the batch: its whole sequence, the tokens it generated, and whether it is done.
struct Row {
    tokens: Vec<u32>,
    generated: Vec<u32>,
    finish: Option<Finish>,
    rng: Option<Rng>,
}

/// Generates after each prompt, calling `on_token(row, token)` as tokens are chosen. Returns
/// every row's new tokens and why it ended, in prompt order.
///
/// While the longest prompt plus `max_new_tokens` fits the context, each row's output equals
/// [`super::generate`]'s for that prompt. Past the context, the batch slides together: every
/// row keeps its most recent half-context of tokens.
pub fn generate_batch(
    model: &Gpt,
    config: &GptConfig,
    device: &Device,
    prompts: &[Vec<u32>],
    options: &GenerateOptions,
    mut on_token: impl FnMut(usize, u32),
) -> Result<Vec<(Vec<u32>, Finish)>, GenerateError> {
    check_prompts(prompts, config)?;
    if prompts.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<Row> = prompts
        .iter()
        .map(|p| Row {
            tokens: p.clone(),
            generated: Vec::new(),
            finish: (options.max_new_tokens == 0).then_some(Finish::Length),
            rng: None,
        })
        .collect();
    let mut cache = KvCache::new(config, prompts.len(), device);
    let contexts: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
    let (mut pads, mut logits) = prefill(model, &mut cache, &contexts, device);

    while rows.iter().any(|r| r.finish.is_none()) {
        let mut step = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter_mut().enumerate() {
            let token = match row.finish {
                // A finished row still occupies its slot; its output is ignored.
                Some(_) => *row.tokens.last().expect("prompts are not empty"),
                None => {
                    let token = choose(&logits[i], &options.decoding, None, &mut row.rng)?;
                    row.tokens.push(token);
                    row.generated.push(token);
                    on_token(i, token);
                    row.finish = finish(&row.generated, options);
                    token
                }
            };
            step.push(token);
        }
        if rows.iter().all(|r| r.finish.is_some()) {
            break;
        }
        if cache.remaining() == 0 {
            let keep = (config.block_size / 2).max(1);
            let contexts: Vec<&[u32]> = rows
                .iter()
                .map(|r| &r.tokens[r.tokens.len().saturating_sub(keep)..])
                .collect();
            (pads, logits) = prefill(model, &mut cache, &contexts, device);
        } else {
            logits = last_logits(model, &mut cache, &step, rows.len(), &pads, device);
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| (r.generated, r.finish.expect("every row finished")))
        .collect())
}

fn check_prompts(prompts: &[Vec<u32>], config: &GptConfig) -> Result<(), GenerateError> {
    for prompt in prompts {
        if prompt.is_empty() {
            return Err(GenerateError::NoPrompt);
        }
        check_tokens(prompt, config.vocab_size, config.block_size)?;
    }
    Ok(())
}

fn finish(generated: &[u32], options: &GenerateOptions) -> Option<Finish> {
    if options.stops(generated) {
        Some(Finish::Stop)
    } else if generated.len() >= options.max_new_tokens {
        Some(Finish::Length)
    } else {
        None
    }
}

/// Clears the cache and runs the contexts through it, left-padded to the longest. Returns
/// the padding of each row and each row's next-token logits.
fn prefill(
    model: &Gpt,
    cache: &mut KvCache,
    contexts: &[&[u32]],
    device: &Device,
) -> (Vec<usize>, Vec<Vec<f32>>) {
    cache.clear();
    let width = contexts.iter().map(|c| c.len()).max().unwrap_or(0);
    let pads: Vec<usize> = contexts.iter().map(|c| width - c.len()).collect();
    // Padding slots hold token 0; what they compute is never seen.
    let ids: Vec<u32> = contexts
        .iter()
        .flat_map(|c| std::iter::repeat_n(0, width - c.len()).chain(c.iter().copied()))
        .collect();
    let logits = last_logits(model, cache, &ids, contexts.len(), &pads, device);
    (pads, logits)
}
