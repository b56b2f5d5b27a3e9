//! `miracle pretrain --config FILE.yaml`: language-model pretraining on the shipped corpora,
//! library exports and running text (prose), resumable, with a CSV log and checkpoints under
//! `out` (miracle_recipe::pretrain).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::progress::Console;
use super::stage::StageOptions;

#[derive(Debug, Args)]
pub struct PretrainArgs {
    /// The pretraining config (YAML): model, data, train and out sections.
    #[arg(long)]
    config: PathBuf,
    /// Stop after this step (a checkpoint is written there); rerun to resume.
    #[arg(long)]
    stop_after: Option<u64>,
    #[command(flatten)]
    stage: StageOptions,
}

impl PretrainArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let wiring = self.stage.wiring();
        miracle_recipe::pretrain::run_pretrain(
            &self.config,
            self.stop_after,
            &wiring,
            &mut Console::new(out),
        )
        .map(|_| ())
    }
}
