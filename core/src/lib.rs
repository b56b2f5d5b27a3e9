//! Miracle's language core: the bilingual byte-level BPE tokenizer, the GPT (model,
//! key/value cache, generation) and its training, in InstructGPT's order (pretraining,
//! SFT, the reward model, PPO-ptx; DPO beside them).
//!
//! A program that trains with this crate runs 10–23% faster on glibc with the allocator
//! settings the `miracle` binary gives itself (its `src/allocator.rs`; docs/BENCHMARKS.md,
//! "The allocator"): glibc reads them only from the environment at start-up, so start the
//! program with `MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647
//! MALLOC_TOP_PAD_=1073741824`. A library cannot set them for you without `unsafe`.

pub mod bench;
pub mod dense;
pub mod fs;
pub mod gpt;
pub mod kernels;
pub mod rng;
pub mod tokenizer;
pub mod train;
pub mod words;
