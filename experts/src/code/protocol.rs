//! What the parent and a worker say to each other. The parent starts the worker with
//! [`FLAG`] and the limits as JSON; the worker sandboxes itself and writes one [`Reply::Ready`]
//! line; the parent writes the program to its stdin and closes it; the worker writes one
//! more line, [`Reply::Done`] or [`Reply::Failed`], and exits. One program per process: no
//! state survives from one program to the next.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sandbox::Report;

/// The first argument that turns a binary into a code worker. A long option, so that a
/// binary that is not a worker (a test harness, another CLI) rejects it and exits instead
/// of doing something else with it.
pub const FLAG: &str = "--miracle-code-worker";

/// After [`FLAG`]: probe the sandbox instead of running a program.
pub const SELF_TEST: &str = "--self-test";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Sandboxed and waiting for the program.
    Ready(Report),
    Done {
        output: String,
        value: Option<String>,
    },
    /// The program failed or hit a limit; the message says which, and where.
    Failed { message: String },
    /// What the sandbox did to each forbidden attempt (`--self-test`).
    SelfTest { attempts: BTreeMap<String, String> },
}
