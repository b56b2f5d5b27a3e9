//! What a program may use. The parent enforces the wall clock and the size of the reply;
//! the worker's kernel enforces CPU time, memory and files (rlimits); Rhai enforces the rest
//! (operations, nesting, data sizes) and says which limit was hit.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock time for one program, spawn excluded (a warm worker is already running).
    pub timeout_ms: u64,
    /// The worker's address space (RLIMIT_AS), the binary and its libraries included.
    pub memory_mb: u64,
    /// What the program prints plus its value, in bytes.
    pub max_output_bytes: usize,
    /// The program's source, in bytes.
    pub max_program_bytes: usize,
    /// Rhai operations (roughly: statements and expression nodes evaluated).
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_depth: usize,
    /// Nesting of expressions and blocks when the program is parsed.
    pub max_expr_depth: usize,
    pub max_string_bytes: usize,
    /// Elements of an array, nested arrays counted in full.
    pub max_array_len: usize,
    /// Entries of an object map, nested maps counted in full.
    pub max_map_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout_ms: 5_000,
            memory_mb: 512,
            max_output_bytes: 64 << 10,
            max_program_bytes: 64 << 10,
            max_operations: 50_000_000,
            max_call_depth: 64,
            max_expr_depth: 64,
            max_string_bytes: 1 << 20,
            max_array_len: 1 << 20,
            max_map_len: 1 << 16,
        }
    }
}

impl Limits {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// CPU seconds for RLIMIT_CPU: the wall-clock budget rounded up, plus one, so the wall
    /// clock (which names the problem better) normally fires first.
    pub fn cpu_seconds(&self) -> u64 {
        self.timeout_ms.div_ceil(1000) + 1
    }

    /// Why these limits cannot work, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("timeout_ms", self.timeout_ms),
            ("memory_mb", self.memory_mb),
            ("max_output_bytes", self.max_output_bytes as u64),
            ("max_program_bytes", self.max_program_bytes as u64),
            ("max_operations", self.max_operations),
            ("max_call_depth", self.max_call_depth as u64),
            ("max_expr_depth", self.max_expr_depth as u64),
            ("max_string_bytes", self.max_string_bytes as u64),
            ("max_array_len", self.max_array_len as u64),
            ("max_map_len", self.max_map_len as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be at least 1"));
        }
        if self.timeout_ms > 3_600_000 {
            return Err(format!(
                "timeout_ms is {}; at most 3600000 (an hour)",
                self.timeout_ms
            ));
        }
        if self.memory_mb < 64 {
            return Err(format!(
                "memory_mb is {}; the worker needs at least 64 to start",
                self.memory_mb
            ));
        }
        // Rhai's parser and evaluator recurse on the native stack; past these depths a
        // hostile program could overflow it (the worker would die, the parent would not).
        if self.max_call_depth > 256 || self.max_expr_depth > 256 {
            return Err("max_call_depth and max_expr_depth are at most 256".into());
        }
        Ok(())
    }
}
