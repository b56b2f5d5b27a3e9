//! What the end-to-end tests of the `miracle` binary share.
#![allow(dead_code)] // each test file uses its own subset

pub mod browser;

use std::path::Path;
use std::process::{Command, Output};

/// The binary, without the shell's RUST_BACKTRACE (users see errors without one).
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_miracle"));
    command.env_remove("RUST_BACKTRACE");
    // A developer's own choice of default index must not change what the tests search.
    command.env_remove("MIRACLE_INDEX");
    command.env_remove("MIRACLE_HYBRID");
    command.env_remove("MIRACLE_PRESS_CONFIDENCE");
    command
}

pub fn miracle(args: &[&str]) -> Output {
    command()
        .args(args)
        .output()
        .expect("the miracle binary runs")
}

/// The binary with `MIRACLE_HOME` at `home` (where the default literature index is built on
/// first use).
pub fn miracle_with_home(args: &[&str], home: &Path) -> Output {
    command()
        .args(args)
        .env("MIRACLE_HOME", home)
        .output()
        .expect("the miracle binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpora/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A failure as a user must see it: exit code 1 and one line naming the problem.
pub fn assert_clear_failure(output: &Output, expected: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in {err}");
    assert!(!err.contains("panicked"), "{err}");
}
