//! The data side of RLHF (InstructGPT's steps 2 and 3): candidate responses sampled from
//! the real agent, rankings of them — by staff on the labelling page or by the
//! programmatic ranker — and their rendering into the token sequences the reward model,
//! PPO and DPO train on (in `miracle_core::train`).

pub mod comparison;
pub mod environment;
pub mod ranker;
pub mod sample;
