//! `miracle dpo --config FILE.yaml`: direct preference optimisation of the SFT model on
//! ranked comparisons — no reward model, no rollouts — reporting how often its implicit
//! reward orders held-out pairs as the labellers did (miracle_recipe::dpo).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::progress::Console;
use super::stage::StageOptions;

#[derive(Debug, Args)]
pub struct DpoArgs {
    /// The DPO config (YAML): init, comparisons, val, train and out.
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    stage: StageOptions,
}

impl DpoArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let wiring = self.stage.wiring();
        miracle_recipe::dpo::run_dpo(&self.config, &wiring, &mut Console::new(out)).map(|_| ())
    }
}
