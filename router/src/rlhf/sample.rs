//! Candidates for labelling: K distinct responses to a prompt, sampled from the agent as
//! it runs for users — the same loop, the same expert calls, the same grounding — only
//! with a draw at `temperature` instead of the most likely token.

use miracle_core::gpt::Decoding;

use super::comparison::{Candidates, Prompt, Response};
use crate::agent::{Agent, AgentError};

/// How to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Distinct responses wanted per prompt.
    pub k: usize,
    /// Draws allowed per prompt; a confident model repeats itself, so fewer than `k`
    /// distinct responses may come back.
    pub max_draws: usize,
    pub temperature: f32,
    pub seed: u64,
}

/// Samples up to `sampling.k` distinct responses to `prompt`; `index` (the prompt's
/// position in its suite) makes every prompt's draws its own and repeatable.
pub async fn sample(
    agent: &mut Agent<'_>,
    prompt: &Prompt,
    sampling: &Sampling,
    index: u64,
) -> Result<Candidates, AgentError> {
    let original = std::mem::replace(&mut agent.decoding, Decoding::Greedy);
    let mut responses: Vec<Response> = Vec::new();
    let mut outcome = Ok(());
    for draw in 0..sampling.max_draws as u64 {
        if responses.len() == sampling.k {
            break;
        }
        agent.decoding = Decoding::Sample {
            temperature: sampling.temperature,
            top_k: None,
            top_p: None,
            seed: sampling.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (draw << 48),
        };
        match agent.run(&prompt.query, &[]).await {
            Ok(trace) => {
                let response = Response::from(trace);
                if !responses.iter().any(|r| r.looks_the_same(&response)) {
                    responses.push(response);
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    agent.decoding = original;
    outcome?;
    Ok(Candidates {
        prompt: prompt.clone(),
        responses,
    })
}
