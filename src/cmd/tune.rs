//! `miracle tune --experts FILE`: teaches the model a plugin's experts (miracle_recipe::tune)
//! and writes it where the plugin file's `model:` says, so that `ask`, `chat`, `eval`, `run`
//! and `serve` given the file call them.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use miracle_recipe::Backend;
use miracle_recipe::tune::{Tuning, default_work};

use super::progress::Console;

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The plugin file (YAML): `experts:` with their `demonstrations:`, and `model:`, the
    /// folder the tuned model goes to.
    #[arg(long, value_name = "FILE")]
    experts: PathBuf,
    /// The model to tune; the embedded default model when absent.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Where the demonstrations and the run go (rerun to resume); runs/tune-<file name> by
    /// default.
    #[arg(long)]
    work: Option<PathBuf>,
    /// Optimizer steps of the pass.
    #[arg(long, default_value_t = 300)]
    steps: u64,
    /// Demonstrations told from each one the plugin declares (with other numbers).
    #[arg(long, default_value_t = 40)]
    variants: usize,
    /// The share of the model's own demonstrations replayed beside the plugin's (1: the
    /// default recipe's templates and 4,000 composed requests; less for a quick trial).
    #[arg(long, default_value_t = 1.0)]
    replay: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where it trains: flex (the CPU) or wgpu (the default GPU; a build with
    /// `--features wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
}

impl TuneArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let work = self.work.unwrap_or_else(|| default_work(&self.experts));
        let tuning = Tuning {
            init: self.init,
            steps: self.steps,
            variants: self.variants,
            replay: self.replay,
            seed: self.seed,
            backend: self.device,
            ..Tuning::new(self.experts, work)
        };
        tuning.run(&mut Console::new(out)).map(|_| ())
    }
}
