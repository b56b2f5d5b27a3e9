//! How a long command shows that it is working: one line on stderr, rewritten in place,
//! with a bar, the count and the time left; and, for a run that resumes, where it resumes.
//! [`Console`] shows the training pipeline's report so.

use std::io::Write;
use std::time::Instant;

use miracle_core::train::ppo_training::PpoReport;
use miracle_core::train::pretrain::StepReport;
use miracle_core::train::reward_training::PairReport;
use miracle_recipe::{Progress, Report};

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

/// The pipeline's report on a terminal: its lines go to `out` (stdout), its progress to
/// stderr as one line rewritten in place, which the next line of text first ends.
pub(super) struct Console<'a> {
    out: &'a mut dyn Write,
    /// Whether stderr's last line is a progress line still open.
    open: bool,
    /// The counter of the sampling under way.
    sampling: Option<Counter>,
}

impl<'a> Console<'a> {
    pub(super) fn new(out: &'a mut dyn Write) -> Self {
        Console {
            out,
            open: false,
            sampling: None,
        }
    }

    /// Shows `line` in place, or ends it there when `done` (a validation step stays).
    fn show(&mut self, line: &str, done: bool) {
        match done {
            true => eprintln!("\r{line}"),
            false => eprint!("\r{line}"),
        }
        self.open = !done;
    }

    fn close(&mut self) {
        if std::mem::take(&mut self.open) {
            eprintln!();
        }
    }
}

impl Write for Console<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.close();
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for Console<'_> {
    fn drop(&mut self) {
        self.close();
    }
}

impl Report for Console<'_> {
    fn progress(&mut self, event: Progress<'_>) {
        match event {
            Progress::Resuming { checkpoint } => {
                self.close();
                eprintln!(
                    "resuming from the checkpoint {} (a new run needs a new output folder)",
                    checkpoint.display()
                );
            }
            Progress::Step(r) => self.show(&step_line(r), r.val_loss.is_some()),
            Progress::Pairs(r) => self.show(&pairs_line(r), r.val.is_some()),
            Progress::Words(p) => {
                let line = format!(
                    "{} word vectors: step {}/{}  loss {:.4}",
                    bar(p.step as u64, p.steps as u64),
                    p.step,
                    p.steps,
                    p.loss
                );
                self.show(&line, p.step == p.steps);
            }
            // Each iteration takes long enough to keep its own line.
            Progress::Ppo {
                report,
                sft_val_loss,
            } => self.show(&ppo_line(report, sft_val_loss), true),
            Progress::Sampled { done, total } => {
                let counter = self
                    .sampling
                    .get_or_insert_with(|| Counter::new(total, "requests sampled"));
                let line = counter.line(done, counter.started.elapsed().as_secs_f64());
                self.show(&line, done == total);
                if done == total {
                    self.sampling = None;
                }
            }
            Progress::Warning(warning) => {
                self.close();
                eprintln!("warning: {warning}");
            }
        }
    }
}

/// A step of pretraining or SFT; a validated step adds its validation loss.
fn step_line(r: &StepReport) -> String {
    let left = ((r.steps - r.step) as f64 * r.seconds) as u64;
    let line = format!(
        "{} step {}/{}  loss {:.4}  lr {:.2e}  |g| {:.2}  {:.0} tok/s  {}",
        bar(r.step, r.steps),
        r.step,
        r.steps,
        r.loss,
        r.lr,
        r.grad_norm,
        r.tokens_per_s,
        eta(left)
    );
    match r.val_loss {
        Some(val) => format!("{line}  val {val:.4} (ppl {:.1})", f64::from(val).exp()),
        None => line,
    }
}

/// A step on comparisons (reward model, DPO); a validated step adds the held-out score.
fn pairs_line(r: &PairReport) -> String {
    let line = format!(
        "{} step {}/{}  loss {:.4}  pairs right {:.1}%  lr {:.2e}  {:.2} s/step  {}",
        bar(r.step, r.steps),
        r.step,
        r.steps,
        r.train.loss,
        r.train.accuracy * 100.0,
        r.lr,
        r.seconds,
        eta((r.steps.saturating_sub(r.step) as f64 * r.seconds) as u64)
    );
    match r.val {
        Some(v) => format!(
            "{line}  held out: loss {:.4}, pairs right {:.1}%",
            v.loss,
            v.accuracy * 100.0
        ),
        None => line,
    }
}

/// An iteration of PPO; one that evaluated adds its held-out success and LM loss.
fn ppo_line(r: &PpoReport, sft_val: f32) -> String {
    let line = format!(
        "{} iteration {}/{}  reward {:.3}  KL {:.4}  clip {:.2}  entropy {:.2}  ptx {:.3}  rollouts {:.1}s ({:.0} tok/s)  update {:.1}s ({:.0} tok/s)",
        bar(r.iteration, r.iterations),
        r.iteration,
        r.iterations,
        r.reward,
        r.kl,
        r.clip_fraction,
        r.entropy,
        r.ptx_loss,
        r.rollout_s,
        r.rollout_tokens_per_s,
        r.update_s,
        r.tokens_per_s
    );
    match (r.heldout_success, r.val_lm_loss) {
        (Some(success), Some(val)) => format!(
            "{line}  held-out success {:.1}%  val LM {val:.4} ({:+.1}%)",
            success * 100.0,
            (val / sft_val - 1.0) * 100.0
        ),
        _ => line,
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
