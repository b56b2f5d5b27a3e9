//! The worker side: runs in the child process, never in the parent. It parses its limits,
//! sandboxes itself, says it is ready, reads one program from stdin, runs it, replies on
//! stdout and exits. A crash here (a stack overflow, an allocation failure) ends only this
//! process; the parent reads the exit status and stderr and says what happened.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};

use super::protocol::{FLAG, Reply, SELF_TEST};
use super::{Limits, engine, sandbox};

/// If this process was started as a code worker ([`FLAG`] as its first argument), serves as
/// one and exits; otherwise returns at once. Call it first thing in `main` of any binary the
/// code expert runs as its worker (the `miracle` binary does).
pub fn run_worker_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|first| first != FLAG) {
        return;
    }
    std::process::exit(serve(args.collect()));
}

fn serve(args: Vec<OsString>) -> i32 {
    std::panic::set_hook(Box::new(|info| eprintln!("worker panic: {info}")));
    let (self_test, limits) = match args.as_slice() {
        [limits] => (false, limits),
        [flag, limits] if flag == SELF_TEST => (true, limits),
        _ => return usage(),
    };
    let limits: Limits = match limits.to_str().map(serde_json::from_str) {
        Some(Ok(limits)) => limits,
        _ => return usage(),
    };
    let report = sandbox::apply(&limits);
    if reply(&Reply::Ready(report)).is_err() {
        return 1;
    }
    let answer = if self_test {
        Reply::SelfTest {
            attempts: forbidden_attempts(),
        }
    } else {
        // A panic inside the engine is a failed program with a one-line reason, not a dead
        // worker whose stderr shows the user a Rust panic.
        let run = |program: String| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine::run(&program, &limits)
            }))
            .unwrap_or_else(|panic| {
                let said = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(engine::one_line(&format!(
                    "the program stopped on an internal error of the interpreter: {said}"
                )))
            })
        };
        match read_program(&limits).and_then(run) {
            Ok(outcome) => Reply::Done {
                output: outcome.output,
                value: outcome.value,
            },
            Err(message) => Reply::Failed { message },
        }
    };
    if reply(&answer).is_err() { 1 } else { 0 }
}

fn usage() -> i32 {
    eprintln!("usage: {FLAG} [{SELF_TEST}] LIMITS-JSON (started by the code expert, not by hand)");
    2
}

fn reply(reply: &Reply) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, reply)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn read_program(limits: &Limits) -> Result<String, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(limits.max_program_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the program: {e}"))?;
    if bytes.len() > limits.max_program_bytes {
        return Err(format!(
            "the program is over {} bytes, the limit",
            limits.max_program_bytes
        ));
    }
    String::from_utf8(bytes).map_err(|e| format!("the program is not UTF-8: {e}"))
}

/// Tries what a program must never do, natively (below Rhai), and records what happened.
#[cfg(target_os = "linux")]
fn forbidden_attempts() -> BTreeMap<String, String> {
    use rustix::fs::{Mode, OFlags, open};
    use rustix::net::{AddressFamily, SocketType, socket};
    use rustix::process::{Pid, test_kill_process};

    fn outcome<T, E: std::fmt::Display>(result: Result<T, E>) -> String {
        match result {
            Ok(_) => "allowed".into(),
            Err(e) => format!("denied: {e}"),
        }
    }
    let read = open("/etc/passwd", OFlags::RDONLY, Mode::empty());
    let create = open(
        "/tmp/miracle-worker-probe",
        OFlags::WRONLY | OFlags::CREATE,
        Mode::RUSR | Mode::WUSR,
    );
    let shell = std::process::Command::new("/bin/sh")
        .args(["-c", "true"])
        .status();
    BTreeMap::from([
        ("read /etc/passwd".into(), outcome(read)),
        ("create a file".into(), outcome(create)),
        (
            "open a socket".into(),
            outcome(socket(AddressFamily::INET, SocketType::STREAM, None)),
        ),
        (
            "signal another process".into(),
            outcome(test_kill_process(Pid::INIT)),
        ),
        ("run /bin/sh".into(), outcome(shell)),
    ])
}

#[cfg(not(target_os = "linux"))]
fn forbidden_attempts() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "sandbox".to_string(),
        "not implemented on this OS".to_string(),
    )])
}
