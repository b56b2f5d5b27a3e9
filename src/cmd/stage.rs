//! What every training command (pretrain, sft, rm, ppo, dpo) takes besides its config:
//! where the run goes and where it trains.

use std::path::PathBuf;

use clap::Args;
use miracle_recipe::{Backend, Wiring};

#[derive(Debug, Args)]
pub struct StageOptions {
    /// Where the run goes (created; rerun with the same folder to resume): by default the
    /// config's `out:`, else runs/<config name> in the current directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where it trains: flex (the CPU) or wgpu (the default GPU; a build with
    /// `--features wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
}

impl StageOptions {
    /// The stage's output and device; its inputs are its config's own.
    pub fn wiring(self) -> Wiring {
        Wiring::out(self.out).on(self.device)
    }
}
