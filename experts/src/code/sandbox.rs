//! The worker's sandbox, applied by the worker to itself before it reads a program: rlimits
//! (CPU seconds, address space, processes, file size, open files, no core dumps), Landlock
//! (no file system, no TCP, no signals or abstract sockets outside) and a seccomp allowlist
//! (everything else fails with EPERM). Each layer is applied where the kernel allows; the
//! [`Report`] says which took effect. Rhai can do none of these things anyway; the layers
//! are for the day a bug in the interpreter lets a program do more than it should.

use serde::{Deserialize, Serialize};

use super::Limits;

/// Which layers took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub rlimits: bool,
    pub landlock: Landlock,
    pub seccomp: bool,
    /// Why a layer is missing or partial, for the operator.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Landlock {
    /// Every access right this kernel knows is denied.
    Full,
    /// The kernel knows only part of what we ask (an older Landlock ABI).
    Partial,
    /// Not available on this kernel (or not Linux).
    Unavailable,
}

/// Applies every layer it can, in the order they need: Landlock opens a file descriptor
/// (before the open-files limit), rlimits use a system call seccomp forbids.
#[cfg(target_os = "linux")]
pub fn apply(limits: &Limits) -> Report {
    let mut notes = Vec::new();
    let landlock = linux::landlock(&mut notes);
    let rlimits = linux::rlimits(limits, &mut notes);
    let seccomp = linux::seccomp(&mut notes);
    Report {
        rlimits,
        landlock,
        seccomp,
        notes,
    }
}

#[cfg(not(target_os = "linux"))]
pub fn apply(_limits: &Limits) -> Report {
    Report {
        rlimits: false,
        landlock: Landlock::Unavailable,
        seccomp: false,
        notes: vec!["the worker sandbox is implemented for Linux only".into()],
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::BTreeMap;

    use landlock::{ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope};
    use rustix::process::{Resource, Rlimit, setrlimit};
    use seccompiler::{
        SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };

    use super::{Landlock, Limits};

    /// Open files the worker may hold: stdin, stdout, stderr and a few for the runtime.
    const MAX_OPEN_FILES: u64 = 8;

    pub fn landlock(notes: &mut Vec<String>) -> Landlock {
        // No rules are added: every handled access is denied everywhere.
        let abi = ABI::V6;
        let status = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
            .and_then(|r| r.scope(Scope::from_all(abi)))
            .and_then(|r| r.create())
            .and_then(|r| r.restrict_self());
        match status {
            Ok(status) => match status.ruleset {
                RulesetStatus::FullyEnforced => Landlock::Full,
                RulesetStatus::PartiallyEnforced => {
                    notes.push(format!(
                        "Landlock partial (kernel status {:?})",
                        status.landlock
                    ));
                    Landlock::Partial
                }
                RulesetStatus::NotEnforced => {
                    notes.push(format!(
                        "Landlock not enforced (kernel status {:?})",
                        status.landlock
                    ));
                    Landlock::Unavailable
                }
            },
            Err(e) => {
                notes.push(format!("Landlock failed: {e}"));
                Landlock::Unavailable
            }
        }
    }

    pub fn rlimits(limits: &Limits, notes: &mut Vec<String>) -> bool {
        let cpu = limits.cpu_seconds();
        let memory = limits.memory_mb.saturating_mul(1 << 20);
        // CPU: SIGXCPU at the soft limit, SIGKILL a second later if it is ignored.
        let wanted = [
            (Resource::Cpu, cpu, cpu + 1, "CPU seconds"),
            (Resource::As, memory, memory, "address space"),
            (Resource::Nproc, 0, 0, "processes"),
            (Resource::Fsize, 0, 0, "file size"),
            (
                Resource::Nofile,
                MAX_OPEN_FILES,
                MAX_OPEN_FILES,
                "open files",
            ),
            (Resource::Core, 0, 0, "core dumps"),
        ];
        let mut all = true;
        for (resource, soft, hard, what) in wanted {
            let limit = Rlimit {
                current: Some(soft),
                maximum: Some(hard),
            };
            if let Err(e) = setrlimit(resource, limit) {
                notes.push(format!("rlimit on {what} failed: {e}"));
                all = false;
            }
        }
        all
    }

    /// System calls a single-threaded worker needs once it is running: memory, reading its
    /// stdin, writing its stdout and stderr, time, randomness for hash seeds, exiting, and
    /// signalling itself (abort). Everything else — open, socket, clone, execve, kill,
    /// ptrace, … — fails with EPERM.
    pub fn seccomp(notes: &mut Vec<String>) -> bool {
        let installed = allowlist()
            .and_then(seccompiler::BpfProgram::try_from)
            .map_err(seccompiler::Error::from)
            .and_then(|program| seccompiler::apply_filter(&program));
        match installed {
            Ok(()) => true,
            Err(e) => {
                notes.push(format!("seccomp failed: {e}"));
                false
            }
        }
    }

    fn allowlist() -> Result<SeccompFilter, seccompiler::BackendError> {
        let unconditional = [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_close,
            libc::SYS_mmap,
            libc::SYS_munmap,
            libc::SYS_mremap,
            libc::SYS_mprotect,
            libc::SYS_madvise,
            libc::SYS_brk,
            libc::SYS_futex,
            libc::SYS_getrandom,
            libc::SYS_clock_gettime,
            libc::SYS_clock_getres,
            libc::SYS_gettimeofday,
            libc::SYS_sched_yield,
            libc::SYS_getpid,
            libc::SYS_gettid,
            libc::SYS_rt_sigreturn,
            libc::SYS_rt_sigprocmask,
            libc::SYS_rt_sigaction,
            libc::SYS_sigaltstack,
            libc::SYS_restart_syscall,
            libc::SYS_exit,
            libc::SYS_exit_group,
        ];
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> = unconditional
            .into_iter()
            .map(|call| (call, vec![]))
            .collect();
        // abort() signals its own thread; no other process may be signalled.
        let own = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            std::process::id().into(),
        )?;
        rules.insert(libc::SYS_tgkill, vec![SeccompRule::new(vec![own])?]);
        SeccompFilter::new(
            rules,
            SeccompAction::Errno(libc::EPERM as u32),
            SeccompAction::Allow,
            std::env::consts::ARCH.try_into()?,
        )
    }
}
