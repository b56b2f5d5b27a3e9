//! Miracle: a modular neuro-symbolic agent framework in the MRKL style.
//!
//! This crate is the `miracle` command line; as a library it re-exports the crates that do
//! the work, so a plugin or an application depends on one name.

pub use miracle_core as core;
pub use miracle_corpora as corpora;
pub use miracle_experts as experts;
pub use miracle_router as router;
