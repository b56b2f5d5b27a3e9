//! glibc's allocator, tuned for tensors: a training step frees its tensors and allocates
//! them again at the next step. By default glibc serves large blocks with fresh mmaps and
//! gives freed heap back to the kernel, so every step faulted in newly zeroed pages (7% of
//! training time in `perf`). Serving blocks up to glibc's 32 MiB ceiling from the heap and
//! never trimming it keeps that memory for reuse: training throughput +10–23%, peak
//! memory +3–6% (docs/BENCHMARKS.md, "The allocator").
//!
//! glibc reads these settings from the environment when the process starts, and setting
//! them from inside (`mallopt`) would take `unsafe`, which this workspace forbids. So the
//! process replaces itself once with the same program, arguments and process id, and the
//! settings in its environment. A user's own `MALLOC_*` settings are left alone.

/// The settings, as glibc's environment variables.
const SETTINGS: [(&str, &str); 3] = [
    ("MALLOC_MMAP_THRESHOLD_", "33554432"),
    ("MALLOC_TRIM_THRESHOLD_", "2147483647"),
    ("MALLOC_TOP_PAD_", "1073741824"),
];

/// Re-executes this process with [`SETTINGS`] unless they (or a user's own) are in place.
/// Returns only when nothing had to be done or the re-execution failed; either way the
/// program runs on, at worst with glibc's defaults.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    use std::os::unix::process::CommandExt;

    if SETTINGS
        .iter()
        .any(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    let Ok(program) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args
        .next()
        .unwrap_or_else(|| program.clone().into_os_string());
    // exec only returns on failure (the binary was replaced or removed under us, say).
    let _failed = std::process::Command::new(&program)
        .arg0(arg0)
        .args(args)
        .envs(SETTINGS)
        .exec();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
