//! The code executor: runs model-written programs in Rhai (a small scripting language in
//! pure Rust) inside a separate, sandboxed worker process — the `miracle` binary started
//! again in a hidden worker mode — because a stack overflow aborts a whole process and no
//! `catch_unwind` contains it. The worker limits itself (rlimits, Landlock, seccomp: see
//! [`sandbox`]) and Rhai limits the program ([`Limits`]); the parent enforces the wall clock
//! and the size of what comes back. A few workers are kept warm so a call does not wait for
//! a process to start.
//!
//! A binary other than `miracle` that uses this expert calls
//! [`run_worker_if_requested`] first thing in `main`, or points [`Code::worker`] at the
//! `miracle` binary.

mod engine;
pub mod grammar;
mod limits;
mod pool;
mod protocol;
pub mod sandbox;
mod worker;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde::Deserialize;

pub use engine::{Outcome, run as run_in_process};
pub use limits::Limits;
pub use worker::run_worker_if_requested;

use crate::{Context, Demonstration, Expert, ExpertError, InputFormat, Observation, Syntax};
use pool::{Ending, Pool};
use protocol::Reply;

/// Warm workers kept by default: one for the next call, one more for a burst.
const DEFAULT_POOL: usize = 2;

pub struct Code {
    name: String,
    format: InputFormat,
    demonstrations: Vec<Demonstration>,
    limits: Limits,
    worker: Option<PathBuf>,
    pool_size: usize,
    pool: OnceLock<Arc<Pool>>,
}

/// The YAML settings of `kind: code`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeSettings {
    pub name: Option<String>,
    /// Refused when present. A config file must not choose what runs unsandboxed: the worker
    /// is started before it sandboxes itself, as the invoking user. Only a Rust program that
    /// embeds the expert names another worker, with [`Code::worker`].
    pub worker: Option<serde_yaml::Value>,
    /// Workers kept warm (0: start one per call).
    pub pool: Option<usize>,
    #[serde(default)]
    pub limits: Limits,
}

impl Code {
    pub fn new() -> Self {
        let limits = Limits::default();
        Code {
            name: "code".into(),
            format: format(&limits),
            demonstrations: vec![
                Demonstration::new(
                    "What is the sum of the squares of the numbers from 1 to 10?",
                    "let s = 0; for i in 1..=10 { s += i * i; } s",
                    "385",
                ),
                Demonstration::new(
                    "What is the 20th Fibonacci number?",
                    "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fib(20)",
                    "6765",
                ),
                Demonstration::new(
                    "Spell 'library' backwards.",
                    "let c = \"library\".to_chars(); c.reverse(); let s = \"\"; for x in c { s += x; } print(s);",
                    "yrarbil",
                ),
            ],
            limits,
            worker: None,
            pool_size: DEFAULT_POOL,
            pool: OnceLock::new(),
        }
    }

    /// An expert from the YAML settings of `kind: code`.
    pub fn from_settings(settings: CodeSettings) -> Result<Self, String> {
        let mut code = Code::new().with_limits(settings.limits)?;
        if let Some(name) = settings.name {
            code = code.named(&name);
        }
        if settings.worker.is_some() {
            return Err(
                "`worker:` is not accepted: the code expert always runs Miracle's own sandboxed \
                 worker (this program); remove the line"
                    .into(),
            );
        }
        if let Some(size) = settings.pool {
            code = code.pool_size(size);
        }
        Ok(code)
    }

    /// The same expert under another name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Result<Self, String> {
        limits.check()?;
        self.format = format(&limits);
        self.limits = limits;
        self.pool = OnceLock::new();
        Ok(self)
    }

    /// The binary started as the worker (it must call [`run_worker_if_requested`]).
    pub fn worker(mut self, program: impl Into<PathBuf>) -> Self {
        self.worker = Some(program.into());
        self.pool = OnceLock::new();
        self
    }

    /// Workers kept warm; 0 starts a fresh one for every call.
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self.pool = OnceLock::new();
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn pool(&self) -> Result<&Arc<Pool>, ExpertError> {
        if let Some(pool) = self.pool.get() {
            return Ok(pool);
        }
        let program = match &self.worker {
            Some(program) => program.clone(),
            None => this_program().map_err(|e| {
                ExpertError::failed(&self.name, format!("cannot find this program: {e}"))
            })?,
        };
        let pool = Pool::new(program, self.limits.clone(), self.pool_size);
        Ok(self.pool.get_or_init(|| Arc::new(pool)))
    }

    /// Starts a worker and has it try, natively, what programs must never do: read a file,
    /// create one, open a socket, fork, signal another process, run a shell. Returns the
    /// sandbox's layers and what each attempt met.
    pub async fn self_test(
        &self,
    ) -> Result<(sandbox::Report, BTreeMap<String, String>), ExpertError> {
        let pool = Arc::clone(self.pool()?);
        let timeout = self.limits.timeout();
        let (report, ending) = pool::on_io(async move {
            let worker = pool.start(true).await?;
            let report = worker.sandbox.clone();
            let token = tokio_util::sync::CancellationToken::new();
            Ok::<_, String>((report, pool.run(worker, "", timeout, &token).await))
        })
        .await
        .and_then(|ran| ran)
        .map_err(|m| ExpertError::failed(&self.name, m))?;
        match ending {
            Ending::Replied(Reply::SelfTest { attempts }) => Ok((report, attempts)),
            _ => Err(ExpertError::failed(
                &self.name,
                "the worker's self-test did not answer",
            )),
        }
    }
}

/// A program is written under the grammar of `grammar.rs`: the router decodes a call so
/// that it parses and uses only the names it declares.
fn format(limits: &Limits) -> InputFormat {
    InputFormat::text(
        "a Rhai program; what it prints and its last value come back, e.g. `let x = 6 * 7; print(x)`",
        limits.max_program_bytes,
    )
    .syntax(Syntax::Program)
}

/// This very program, to start again as a worker. On Linux, `/proc/self/exe`: it names the
/// running binary even after the file was replaced on disk (a rebuild during a long run),
/// where the path `current_exe` returns would by then be gone.
fn this_program() -> std::io::Result<PathBuf> {
    let own = PathBuf::from("/proc/self/exe");
    if cfg!(target_os = "linux") && own.exists() {
        return Ok(own);
    }
    std::env::current_exe()
}

impl Default for Code {
    fn default() -> Self {
        Code::new()
    }
}

/// The observation: what the program printed, then its value (if not `()`).
fn observation(output: String, value: Option<String>) -> String {
    let mut text = output;
    if text.ends_with('\n') {
        text.pop();
    }
    match value {
        Some(value) if text.is_empty() => value,
        Some(value) => text + "\n" + value.as_str(),
        None if text.is_empty() => "()".into(),
        None => text,
    }
}

#[async_trait]
impl Expert for Code {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        "runs a short Rhai program in a sandbox and returns what it printed and its value"
    }

    fn input_format(&self) -> &InputFormat {
        &self.format
    }

    fn demonstrations(&self) -> &[Demonstration] {
        &self.demonstrations
    }

    async fn call(&self, input: &str, ctx: &Context) -> Result<Observation, ExpertError> {
        let pool = Arc::clone(self.pool()?);
        // The program's time starts once it has a worker (a cold start is not its time),
        // and never runs past the call's deadline.
        let deadline = std::time::Instant::now() + ctx.remaining();
        let timeout = self.limits.timeout();
        let cancel = ctx.cancellation().clone();
        let program = input.to_string();
        let (ending, budget) = pool::on_io(async move {
            let worker = tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok((Ending::Cancelled, timeout)),
                worker = pool.take() => worker?,
            };
            let budget = deadline
                .saturating_duration_since(std::time::Instant::now())
                .min(timeout);
            Ok::<_, String>((pool.run(worker, &program, budget, &cancel).await, budget))
        })
        .await
        .and_then(|ran| ran)
        .map_err(|m| ExpertError::failed(&self.name, m))?;
        match ending {
            Ending::Replied(Reply::Done { output, value }) => {
                Ok(Observation::new(observation(output, value)))
            }
            Ending::Replied(Reply::Failed { message }) => Err(ExpertError::failed(
                &self.name,
                format!("the program failed: {message}"),
            )),
            Ending::Replied(other) => Err(ExpertError::failed(
                &self.name,
                format!("the worker answered out of turn: {other:?}"),
            )),
            Ending::Broken(message) => Err(ExpertError::failed(&self.name, message)),
            Ending::TimedOut => Err(ExpertError::Timeout {
                expert: self.name.clone(),
                after: budget,
            }),
            Ending::Cancelled => Err(ExpertError::Cancelled {
                expert: self.name.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demonstrations_give_their_results() {
        let code = Code::new();
        for demo in code.demonstrations() {
            let outcome = run_in_process(&demo.input, code.limits()).unwrap();
            assert_eq!(
                observation(outcome.output, outcome.value),
                demo.result,
                "{}",
                demo.input
            );
        }
    }

    #[test]
    fn observation_joins_output_and_value() {
        assert_eq!(observation("2\n".into(), None), "2");
        assert_eq!(observation("a\nb\n".into(), Some("3".into())), "a\nb\n3");
        assert_eq!(observation(String::new(), Some("42".into())), "42");
        assert_eq!(observation(String::new(), None), "()");
    }
}
