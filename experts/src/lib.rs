//! Miracle's experts — the "knowledge and reasoning" half of a MRKL system.
//!
//! This crate will hold the `Expert` trait, the registry and the built-in experts
//! (calculator, literature search, sandboxed code executor, remote HTTP experts).
//! It is deliberately empty until the experts issue lands: nothing here pretends to work yet.
