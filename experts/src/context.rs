//! The per-call context: a deadline and a cancellation token. The registry enforces both
//! from outside (a call that overruns is dropped); experts that hold resources — a worker
//! process, a connection — also watch them to stop early and clean up.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Context {
    deadline: Instant,
    cancel: CancellationToken,
}

impl Context {
    /// The default time an expert gets: long enough for a literature search or a short
    /// program, short enough that an agent answering a person does not hang.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// A context whose call must finish within `timeout` from now.
    pub fn with_timeout(timeout: Duration) -> Self {
        Context {
            deadline: Instant::now() + timeout,
            cancel: CancellationToken::new(),
        }
    }

    /// The same context, cancelled when `token` is (or when this context's own token is).
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = token;
        self
    }

    /// The same context with its deadline `by` later: time spent before the call started
    /// (readying the expert) is not the call's.
    pub fn postponed(&self, by: Duration) -> Context {
        Context {
            deadline: self.deadline + by,
            cancel: self.cancel.clone(),
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The token to cancel this call (and every call sharing the context).
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::with_timeout(Self::DEFAULT_TIMEOUT)
    }
}
