//! How a long command shows that it is working: one line on stderr, rewritten in place,
//! with a bar, the count and the time left; and, for a run that resumes, where it resumes.

use std::path::Path;
use std::time::Instant;

/// `[#########...........]  45%`: how far a run is, in 20 cells.
pub(super) fn bar(done: u64, total: u64) -> String {
    const CELLS: u64 = 20;
    let filled = (done * CELLS)
        .checked_div(total)
        .unwrap_or(CELLS)
        .min(CELLS);
    let percent = (done * 100).checked_div(total).unwrap_or(100).min(100);
    format!(
        "[{}{}] {percent:>3}%",
        "#".repeat(filled as usize),
        ".".repeat((CELLS - filled) as usize)
    )
}

/// `ETA 0:01:05`, from whole seconds.
pub(super) fn eta(seconds: u64) -> String {
    format!(
        "ETA {}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Progress over a known number of items (requests evaluated, prompts sampled): the time
/// left is the mean time per item so far times the items left.
pub(super) struct Counter {
    total: usize,
    what: &'static str,
    started: Instant,
}

impl Counter {
    /// `what` completes "3/10 …", e.g. "evaluated".
    pub(super) fn new(total: usize, what: &'static str) -> Self {
        Counter {
            total,
            what,
            started: Instant::now(),
        }
    }

    /// Shows that `done` items are finished.
    pub(super) fn show(&self, done: usize) {
        eprint!(
            "\r{}",
            self.line(done, self.started.elapsed().as_secs_f64())
        );
    }

    /// Ends the line, so that what follows starts on its own.
    pub(super) fn finish(&self) {
        eprintln!();
    }

    fn line(&self, done: usize, elapsed_s: f64) -> String {
        let left = self.total.saturating_sub(done);
        let per_item = if done == 0 {
            0.0
        } else {
            elapsed_s / done as f64
        };
        format!(
            "{} {done}/{} {}  {}",
            bar(done as u64, self.total as u64),
            self.total,
            self.what,
            eta((per_item * left as f64).round() as u64)
        )
    }
}

/// Says where a rerun of a resumable run picks up: the newest complete checkpoint in
/// `out`, if there is one (the run itself checks that it fits the config).
pub(super) fn say_if_resuming(out: &Path) {
    if let Some(name) = miracle_core::train::latest_checkpoint(out) {
        eprintln!(
            "resuming from the checkpoint {} (a new run needs a new output folder)",
            out.join("checkpoints").join(name).display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_steps() {
        assert_eq!(bar(0, 10), "[....................]   0%");
        assert_eq!(bar(5, 10), "[##########..........]  50%");
        assert_eq!(bar(10, 10), "[####################] 100%");
        assert_eq!(bar(0, 0), "[####################] 100%");
    }

    #[test]
    fn the_counter_projects_the_mean_time_per_item() {
        let counter = Counter::new(10, "evaluated");
        assert_eq!(
            counter.line(4, 8.0),
            "[########............]  40% 4/10 evaluated  ETA 0:00:12"
        );
        assert_eq!(
            counter.line(0, 0.0),
            "[....................]   0% 0/10 evaluated  ETA 0:00:00"
        );
        assert_eq!(
            counter.line(10, 3700.0).split("  ").last(),
            Some("ETA 0:00:00")
        );
    }

    #[test]
    fn eta_reads_as_hours_minutes_seconds() {
        assert_eq!(eta(3725), "ETA 1:02:05");
    }
}
