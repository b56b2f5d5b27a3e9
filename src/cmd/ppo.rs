//! `miracle ppo --config FILE.yaml`: PPO-ptx on the real agent loop — the policy starts as
//! the SFT model, the reward model scores its rollouts, a per-token KL penalty keeps it
//! near SFT and the pretraining loss keeps its language; rerun to resume
//! (miracle_recipe::ppo).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::progress::Console;
use super::stage::StageOptions;

#[derive(Debug, Args)]
pub struct PpoArgs {
    /// The PPO config (YAML): init, reward, prompts, heldout, train and out.
    #[arg(long)]
    config: PathBuf,
    /// Stop after this iteration (a checkpoint is written there); rerun to resume.
    #[arg(long)]
    stop_after: Option<u64>,
    #[command(flatten)]
    stage: StageOptions,
}

impl PpoArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let wiring = self.stage.wiring();
        miracle_recipe::ppo::run_ppo(
            &self.config,
            self.stop_after,
            &wiring,
            &mut Console::new(out),
        )
        .map(|_| ())
    }
}
