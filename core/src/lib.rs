//! Miracle's language core: the bilingual byte-level BPE tokenizer (the GPT, generation
//! and training come with the GPT-core issue).

pub mod fs;
pub mod tokenizer;
