//! PPO's environment: the real agent loop. Rollouts run the policy on training prompts
//! with sampling (temperature 1 keeps PPO on-policy), the experts answer its calls, and
//! the reward model scores each finished conversation as it was trained to (the rendered
//! request and assistant turn). Held-out success runs the policy greedily, as users get it.

use burn::prelude::*;
use miracle_core::gpt::{Decoding, Gpt, GptConfig};
use miracle_core::rng::SplitMix64;
use miracle_core::tokenizer::Tokenizer;
use miracle_core::train::ppo::Rollout;
use miracle_core::train::ppo_training::Environment;
use miracle_core::train::reward::RewardModel;
use miracle_experts::Registry;

use super::comparison::{Prompt, Response, conversation};
use crate::agent::{Agent, Trace};
use crate::judge::succeeded;

/// The agent loop as PPO's environment.
pub struct AgentEnvironment<'a> {
    pub config: &'a GptConfig,
    pub tokenizer: &'a Tokenizer,
    pub registry: &'a Registry,
    pub reward: &'a RewardModel,
    /// Training prompts, visited in a seeded order, `rollouts` per iteration.
    pub prompts: &'a [Prompt],
    /// Held-out prompts with expectations, for task success.
    pub heldout: &'a [Prompt],
    pub rollouts: usize,
    pub temperature: f32,
    pub grounded: bool,
    pub seed: u64,
    pub device: Device,
    pub runtime: tokio::runtime::Runtime,
}

impl AgentEnvironment<'_> {
    fn agent<'m>(&'m self, policy: &'m Gpt) -> Result<Agent<'m>, String> {
        let mut agent = Agent::new(
            policy,
            self.config,
            &self.device,
            self.tokenizer,
            self.registry,
        )
        .map_err(|e| e.to_string())?;
        agent.grounded = self.grounded;
        agent.record_actions = true;
        Ok(agent)
    }

    /// The prompt of rollout `i` of `iteration`: every prompt once per pass, in an order
    /// drawn anew for each pass.
    fn prompt(&self, iteration: u64, i: usize) -> &Prompt {
        let n = self.prompts.len();
        let k = iteration as usize * self.rollouts + i;
        let (pass, at) = (k / n, k % n);
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = SplitMix64::new(self.seed ^ (pass as u64).wrapping_mul(0x9E37_79B9));
        for j in (1..n).rev() {
            let pick = (rng.next_u64() % (j as u64 + 1)) as usize;
            order.swap(j, pick);
        }
        &self.prompts[order[at]]
    }

    fn run(&self, agent: &Agent<'_>, query: &str) -> Result<Trace, String> {
        self.runtime
            .block_on(agent.run(query, &[]))
            .map_err(|e| e.to_string())
    }

    /// The reward model's scores of finished runs, a few at a time.
    fn scores(&self, runs: &[(&str, &Trace)]) -> Result<Vec<f32>, String> {
        let mut sequences = Vec::with_capacity(runs.len());
        for (query, trace) in runs {
            // Rendered from the trace's steps: the run itself is not copied.
            let (ids, _) =
                conversation(query, &trace.steps, self.tokenizer).map_err(|e| e.to_string())?;
            sequences.push(ids);
        }
        let mut scores = Vec::with_capacity(sequences.len());
        for chunk in sequences.chunks(16) {
            let s = self.reward.scores(chunk, &self.device);
            scores.extend(
                s.into_data()
                    .try_to_vec::<f32>()
                    .map_err(|e| format!("{e:?}"))?,
            );
        }
        Ok(scores)
    }
}

impl Environment for AgentEnvironment<'_> {
    fn rollouts(&mut self, policy: &Gpt, iteration: u64) -> Result<Vec<Rollout>, String> {
        if self.prompts.is_empty() {
            return Err("there are no training prompts".into());
        }
        let mut agent = self.agent(policy)?;
        let mut runs = Vec::with_capacity(self.rollouts);
        for i in 0..self.rollouts {
            let prompt = self.prompt(iteration, i);
            agent.decoding = Decoding::Sample {
                temperature: self.temperature,
                top_k: None,
                top_p: None,
                seed: self.seed ^ iteration.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i as u64) << 40,
            };
            runs.push((prompt.query.as_str(), self.run(&agent, &prompt.query)?));
        }
        let pairs: Vec<(&str, &Trace)> = runs.iter().map(|(q, t)| (*q, t)).collect();
        let scores = self.scores(&pairs)?;
        Ok(runs
            .into_iter()
            .zip(scores)
            .map(|((_, trace), score)| Rollout {
                ids: trace.tokens,
                actions: trace.actions,
                score,
            })
            .collect())
    }

    fn evaluate(&mut self, policy: &Gpt) -> Result<f64, String> {
        let agent = self.agent(policy)?;
        let mut done = 0usize;
        let mut judged = 0usize;
        for prompt in self.heldout {
            let Some(expect) = &prompt.expect else {
                continue;
            };
            let trace = self.run(&agent, &prompt.query)?;
            let response = Response::from(trace);
            judged += 1;
            done += usize::from(succeeded(
                expect,
                &response.plain_steps(),
                &response.failed(),
                &crate::papers::as_written(&response.answer),
            ));
        }
        Ok(done as f64 / judged.max(1) as f64)
    }
}
