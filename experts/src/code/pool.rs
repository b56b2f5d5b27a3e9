//! The parent side: starting workers, keeping a few warm (spawned, sandboxed, waiting for a
//! program) so a call does not pay for the spawn, and running one program on one worker
//! under a wall-clock deadline with the reply's size capped. A worker serves one program and
//! exits; every worker is killed when its handle is dropped, so none outlives its use.
//!
//! A worker's pipes and timers belong to the runtime that spawned it, and a warm worker is
//! spawned ahead of the call that takes it. The service runs each model thread on a
//! current-thread runtime of its own, which is driven only while that thread serves a
//! request: a worker warmed there and taken by another thread waited on a reactor nobody
//! drove, and every other request timed out. So every worker is spawned, read and timed on
//! one runtime of the process ([`on_io`]), whichever runtime the caller runs on.

use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustix::process::Signal;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use super::Limits;
use super::protocol::{FLAG, Reply, SELF_TEST};
use super::sandbox::Report;

/// How much of a dying worker's stderr is kept for the error message.
const STDERR_KEPT: usize = 4 << 10;

/// How long a worker may take to start and sandbox itself.
const STARTUP: Duration = Duration::from_secs(10);

/// The runtime that owns every worker's process, pipes and timers: one thread, started on
/// first use, kept for the life of the process (a static is never dropped, so it is never
/// dropped inside an async context either).
fn io() -> &'static tokio::runtime::Runtime {
    static IO: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("miracle-code-io")
            .enable_all()
            .build()
            .expect("the code expert's I/O runtime starts")
    })
}

/// Runs `task` on the workers' runtime and awaits it from any runtime. Dropping the
/// returned future aborts the task, which kills the worker it holds.
pub async fn on_io<T: Send + 'static>(
    task: impl Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut handle = AbortOnDrop(io().spawn(task));
    (&mut handle.0)
        .await
        .map_err(|e| format!("the code expert's I/O task failed: {e}"))
}

/// A started worker that has said it is ready.
pub struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: ChildStderr,
    pub sandbox: Report,
}

/// How one program's run ended, from the parent's point of view.
pub enum Ending {
    Replied(Reply),
    /// The worker died or misbehaved; the message says how.
    Broken(String),
    TimedOut,
    Cancelled,
}

pub struct Pool {
    program: PathBuf,
    limits: Limits,
    limits_json: String,
    size: usize,
    warm: Mutex<Vec<Worker>>,
    starting: AtomicUsize,
}

impl Pool {
    pub fn new(program: PathBuf, limits: Limits, size: usize) -> Self {
        let limits_json = serde_json::to_string(&limits).expect("limits serialize");
        Pool {
            program,
            limits,
            limits_json,
            size,
            warm: Mutex::new(Vec::new()),
            starting: AtomicUsize::new(0),
        }
    }

    /// A warm worker if one is waiting, else a new one; tops the pool up in the background.
    pub async fn take(self: &Arc<Self>) -> Result<Worker, String> {
        let warm = self.warm.lock().expect("pool lock").pop();
        self.refill();
        // A warm worker that died while waiting (killed from outside) is replaced.
        match warm {
            Some(mut worker) => match worker.child.try_wait() {
                Ok(None) => Ok(worker),
                _ => self.start(false).await,
            },
            None => self.start(false).await,
        }
    }

    /// Starts workers in the background, on the workers' runtime, until the pool holds
    /// `size` (counting those already starting).
    fn refill(self: &Arc<Self>) {
        let runtime = io();
        let waiting = self.warm.lock().expect("pool lock").len();
        let starting = self.starting.load(Ordering::SeqCst);
        for _ in waiting + starting..self.size {
            self.starting.fetch_add(1, Ordering::SeqCst);
            let pool = Arc::clone(self);
            runtime.spawn(async move {
                if let Ok(worker) = pool.start(false).await {
                    pool.warm.lock().expect("pool lock").push(worker);
                }
                pool.starting.fetch_sub(1, Ordering::SeqCst);
            });
        }
    }

    /// Spawns a worker and waits for its ready line.
    pub async fn start(&self, self_test: bool) -> Result<Worker, String> {
        let mut command = Command::new(&self.program);
        command.arg(FLAG);
        if self_test {
            command.arg(SELF_TEST);
        }
        command
            .arg(&self.limits_json)
            // Nothing of the parent's environment (API keys, tokens) reaches untrusted code.
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            format!(
                "cannot start the worker {}: {e}; set `worker:` to the miracle binary",
                self.program.display()
            )
        })?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let (Some(stdin), Some(stdout), Some(stderr)) = (stdin, stdout, stderr) else {
            return Err("the worker's pipes were not set up".into());
        };
        let mut worker = Worker {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            stderr,
            sandbox: Report {
                rlimits: false,
                landlock: super::sandbox::Landlock::Unavailable,
                seccomp: false,
                notes: vec![],
            },
        };
        let ready = tokio::time::timeout(STARTUP, read_line(&mut worker.stdout, 64 << 10)).await;
        match ready {
            Ok(Line::Reply(Reply::Ready(report))) => {
                worker.sandbox = report;
                Ok(worker)
            }
            Ok(_) => Err(self.not_a_worker(worker).await),
            Err(_) => Err(format!(
                "the worker {} did not start within {STARTUP:?}",
                self.program.display()
            )),
        }
    }

    async fn not_a_worker(&self, mut worker: Worker) -> String {
        let _ = worker.child.start_kill();
        let status = worker.child.wait().await;
        let stderr = read_capped(&mut worker.stderr, STDERR_KEPT).await;
        let said = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        format!(
            "{} did not start as a code worker ({}{}{said}); point `worker:` at the miracle \
             binary, or call miracle_experts::code::run_worker_if_requested() first thing in \
             your main",
            self.program.display(),
            status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            if said.is_empty() { "" } else { ": " },
        )
    }

    /// Runs `program` on `worker`, for at most `budget` of wall-clock time or until
    /// `cancel` fires; the worker is gone afterwards either way.
    pub async fn run(
        &self,
        mut worker: Worker,
        program: &str,
        budget: Duration,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Ending {
        let ending = tokio::select! {
            biased;
            () = cancel.cancelled() => Ending::Cancelled,
            () = tokio::time::sleep(budget) => Ending::TimedOut,
            ending = self.exchange(&mut worker, program) => ending,
        };
        let _ = worker.child.start_kill();
        let _ = worker.child.wait().await;
        ending
    }

    async fn exchange(&self, worker: &mut Worker, program: &str) -> Ending {
        if let Some(mut stdin) = worker.stdin.take() {
            // A worker that dies early closes the pipe; its exit status says why, below.
            let _ = stdin.write_all(program.as_bytes()).await;
            drop(stdin);
        }
        // JSON escapes a control character in six bytes; the rest is the message's room.
        let cap = self.limits.max_output_bytes * 6 + (self.limits.max_program_bytes + (64 << 10));
        let (stdout, child, stderr) = (&mut worker.stdout, &mut worker.child, &mut worker.stderr);
        let (reply, stderr) = tokio::join!(
            async move {
                let line = read_line(stdout, cap).await;
                if matches!(line, Line::TooLong) {
                    // It is blocked writing the rest; its stderr closes once it is gone.
                    let _ = child.start_kill();
                }
                line
            },
            read_capped(stderr, STDERR_KEPT)
        );
        match reply {
            Line::Reply(reply) => return Ending::Replied(reply),
            Line::TooLong => {
                return Ending::Broken(format!(
                    "the worker's reply was over {cap} bytes, the limit; it was stopped"
                ));
            }
            Line::Ended => {}
        }
        match worker.child.wait().await {
            Ok(status) => Ending::Broken(explain_death(status, &stderr, &self.limits)),
            Err(e) => Ending::Broken(format!("cannot wait for the worker: {e}")),
        }
    }
}

/// What a worker wrote on its stdout.
enum Line {
    Reply(Reply),
    /// End of file or garbage: its exit status says why.
    Ended,
    /// Over the cap: the worker is still writing, and is stopped when its run ends.
    TooLong,
}

/// One JSON line of at most `cap` bytes.
async fn read_line(reader: &mut BufReader<ChildStdout>, cap: usize) -> Line {
    let mut line = Vec::new();
    let read = reader.take(cap as u64).read_until(b'\n', &mut line).await;
    match read {
        Ok(_) if line.ends_with(b"\n") => {
            serde_json::from_slice(&line).map_or(Line::Ended, Line::Reply)
        }
        Ok(n) if n >= cap => Line::TooLong,
        _ => Line::Ended,
    }
}

/// Reads to the end, keeping the first `cap` bytes (lossy UTF-8).
async fn read_capped(reader: &mut (impl AsyncRead + Unpin), cap: usize) -> String {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = reader.read(&mut chunk).await {
        let room = cap.saturating_sub(kept.len()).min(n);
        kept.extend_from_slice(&chunk[..room]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Why a worker ended without a reply, in the user's terms.
fn explain_death(status: ExitStatus, stderr: &str, limits: &Limits) -> String {
    if stderr.contains("overflowed its stack") {
        return "the program overflowed the worker's stack (nesting too deep)".into();
    }
    if stderr.contains("memory allocation of") {
        return format!(
            "the program used more than {} MiB, the memory limit",
            limits.memory_mb
        );
    }
    match status.signal() {
        Some(signal) if signal == Signal::XCPU.as_raw() => format!(
            "the program used more than {} s of CPU time, the limit",
            limits.cpu_seconds()
        ),
        Some(signal) if signal == Signal::KILL.as_raw() => {
            "the worker was killed (SIGKILL) before it answered".into()
        }
        Some(signal) if signal == Signal::SYS.as_raw() => {
            "the program made a forbidden system call".into()
        }
        Some(signal) => format!("the worker died of signal {signal} before it answered"),
        None => {
            let said = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            format!("the worker exited ({status}) without answering {said}")
                .trim_end()
                .to_string()
        }
    }
}
