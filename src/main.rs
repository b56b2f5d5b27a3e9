//! The `miracle` command line. Errors are one line on stderr and exit code 1; a backtrace
//! only when RUST_BACKTRACE asks for one.

use std::io::{self, Write};
use std::process::ExitCode;

mod allocator;
mod cmd;
mod label;
mod serve;

fn main() -> ExitCode {
    // The code expert runs programs in this same binary, started again as a sandboxed
    // worker; in that case this serves one program and exits here.
    miracle_experts::code::run_worker_if_requested();
    allocator::tune();
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error, please report it as a bug: {info}");
    }));
    let cli = cmd::parse();
    let mut stdout = io::stdout().lock();
    let result = cli.run(&mut stdout).and_then(|()| Ok(stdout.flush()?));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `miracle … | head` closing the pipe early is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                eprintln!("{}", err.backtrace());
            }
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, as `{:#}` writes them, except that a cause whose
/// message already ends the line is not said again (an error that shows its source in its
/// own message and also returns it as its `source()`).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if line.ends_with(&message) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&message);
    }
    line
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
