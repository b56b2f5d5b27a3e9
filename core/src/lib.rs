//! Miracle's language core: the bilingual byte-level BPE tokenizer and the GPT (model,
//! key/value cache; generation and training follow).

pub mod bench;
pub mod fs;
pub mod gpt;
pub mod rng;
pub mod tokenizer;
pub mod train;
