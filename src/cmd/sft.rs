//! `miracle sft --config FILE.yaml`: instruction tuning of a pretrained model on generated
//! demonstrations (`miracle demos`), resumable, with the same log, checkpoints and loss
//! curve as pretraining (miracle_recipe::sft).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::progress::Console;
use super::stage::StageOptions;

#[derive(Debug, Args)]
pub struct SftArgs {
    /// The fine-tuning config (YAML): init, demos, lm_weight, train and out.
    #[arg(long)]
    config: PathBuf,
    /// Stop after this step (a checkpoint is written there); rerun to resume.
    #[arg(long)]
    stop_after: Option<u64>,
    #[command(flatten)]
    stage: StageOptions,
}

impl SftArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let wiring = self.stage.wiring();
        miracle_recipe::sft::run_sft(
            &self.config,
            self.stop_after,
            &wiring,
            &mut Console::new(out),
        )
        .map(|_| ())
    }
}
