//! `miracle train --recipe FILE.yaml`: the whole training of a model in InstructGPT's
//! order (miracle_recipe::recipe) — the tokenizer, pretraining, demonstrations from the
//! experts, supervised fine-tuning, then (when the recipe has an `rlhf` section)
//! comparisons, a reward model and PPO-ptx or DPO. Every stage writes under one folder
//! (`--out`, `runs/<recipe name>` by default); the finished model lands in `model/` there,
//! with its logs. Replacing a model directory (the shipped one included) is the explicit
//! `--publish DIR`. Rerunning the command with the same `--out` continues it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use miracle_recipe::recipe::{Start, default_out};
use miracle_recipe::{Backend, RecipeRun};

use super::progress::Console;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The recipe (YAML): tokenizer, pretrain, demos, sft and rlhf; paths relative to it.
    #[arg(long)]
    recipe: PathBuf,
    /// Where every stage's run and the finished model (`model/`) go; rerun with the same
    /// folder to resume. Default: runs/<recipe name> in the current directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also copy the finished model, with its training logs, into this model directory:
    /// `--publish corpora/models/default` replaces the shipped model (a rebuild embeds it).
    #[arg(long)]
    publish: Option<PathBuf>,
    /// Where it trains: flex (the CPU) or wgpu (the default GPU; a build with
    /// `--features wgpu`).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Start at this SFT pass (1 for the first) from the model in --init, instead of
    /// training the stages before it: a further pass on top of a model already made (the
    /// shipped one's last pass was trained so, on the two passes before it).
    #[arg(long, value_name = "N", requires = "init")]
    from_pass: Option<usize>,
    /// The model directory that --from-pass starts from.
    #[arg(long, value_name = "DIR", requires = "from_pass")]
    init: Option<PathBuf>,
}

impl TrainArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let start = match (self.from_pass, self.init) {
            (Some(pass), Some(init)) => Start::Pass { pass, init },
            _ => Start::Scratch,
        };
        let run_out = self.out.unwrap_or_else(|| default_out(&self.recipe));
        let mut run = RecipeRun::new(self.recipe, run_out)
            .on(self.device)
            .starting(start);
        if let Some(dir) = self.publish {
            run = run.publish_to(dir);
        }
        run.run(&mut Console::new(out)).map(|_| ())
    }
}
