//! `miracle rm --config FILE.yaml`: trains a reward model on ranked comparisons (from the
//! labelling page or `miracle label rank`), starting from the SFT model, and reports its
//! pairwise accuracy on held-out comparisons (miracle_recipe::rm).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use miracle_recipe::rm::{evaluate_rm, run_rm};

use super::progress::Console;
use super::stage::StageOptions;

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The reward-model config (YAML): init, comparisons, val, train and out.
    #[arg(long)]
    config: PathBuf,
    /// Do not train: score these comparisons with the config's trained model (its
    /// `out/model`) and report the pairwise accuracy, overall and per category.
    #[arg(long)]
    evaluate: Option<PathBuf>,
    #[command(flatten)]
    stage: StageOptions,
}

impl RmArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let wiring = self.stage.wiring();
        let report = &mut Console::new(out);
        match &self.evaluate {
            Some(comparisons) => evaluate_rm(&self.config, &wiring, comparisons, report),
            None => run_rm(&self.config, &wiring, report).map(|_| ()),
        }
    }
}
