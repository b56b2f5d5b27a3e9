//! `miracle train --recipe FILE.yaml`: the whole training of a model in InstructGPT's
//! order — the tokenizer, pretraining, demonstrations from the experts, supervised
//! fine-tuning — and the result copied where the recipe says, with its logs and curves.
//! Every stage resumes: rerunning the command after an interruption continues it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use miracle_router::demos::Counts;
use serde::Deserialize;

use super::demos::{DemoSpec, write_demos};
use super::pretrain::run_pretrain;
use super::sft::run_sft;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The recipe (YAML): tokenizer, pretrain, demos, sft and model; paths relative to it.
    #[arg(long)]
    recipe: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipe {
    /// The tokenizer every stage uses (the pretraining config must name the same one).
    tokenizer: PathBuf,
    /// A `miracle pretrain` config.
    pretrain: PathBuf,
    demos: DemosStage,
    /// A `miracle sft` config, or several run in order (each starting from the model of the
    /// one before: a warm restart of the learning-rate schedule); their `demos` is the
    /// demos stage's `train.jsonl`.
    sft: Passes,
    /// Where the finished model directory goes.
    model: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Passes {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl Passes {
    fn configs(&self) -> &[PathBuf] {
        match self {
            Passes::One(one) => std::slice::from_ref(one),
            Passes::Many(many) => many,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemosStage {
    calc: usize,
    code: usize,
    literature: usize,
    direct: usize,
    expert_demonstrations: usize,
    seed: u64,
    out: PathBuf,
}

impl DemosStage {
    fn spec(&self) -> DemoSpec {
        DemoSpec {
            counts: Counts {
                calc: self.calc,
                code: self.code,
                literature: self.literature,
                direct: self.direct,
                expert_demonstrations: self.expert_demonstrations,
            },
            seed: self.seed,
        }
    }
}

impl TrainArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let recipe: Recipe = super::read_yaml(&self.recipe, "recipe")?;
        let base = self.recipe.parent().unwrap_or(Path::new("."));
        let tokenizer = base.join(&recipe.tokenizer);
        if !tokenizer.is_file() {
            bail!(
                "tokenizer: {} is not a file; train one with `miracle tokenizer train`",
                tokenizer.display()
            );
        }
        writeln!(out, "== 1/4 tokenizer: {}", tokenizer.display())?;
        writeln!(out, "== 2/4 pretraining ({})", recipe.pretrain.display())?;
        let pretrain_out = run_pretrain(&base.join(&recipe.pretrain), None, out)?;
        writeln!(out, "== 3/4 demonstrations from the experts")?;
        write_demos(&recipe.demos.spec(), &base.join(&recipe.demos.out), out)?;
        let passes = recipe.sft.configs();
        if passes.is_empty() {
            bail!("sft: the list of passes is empty; name at least one `miracle sft` config");
        }
        let mut stages = vec![("pretrain".to_string(), pretrain_out)];
        for (i, config) in passes.iter().enumerate() {
            writeln!(
                out,
                "== 4/4 supervised fine-tuning, pass {} of {} ({})",
                i + 1,
                passes.len(),
                config.display()
            )?;
            let name = match passes.len() {
                1 => "sft".to_string(),
                _ => format!("sft-{}", i + 1),
            };
            stages.push((name, run_sft(&base.join(config), None, out)?));
        }
        let model = base.join(&recipe.model);
        let (_, last) = stages.last().expect("at least one pass");
        publish(&last.join("model"), &model)?;
        for (stage, dir) in &stages {
            for name in ["log.csv", "loss.png"] {
                copy(
                    &dir.join(name),
                    &model.join("training").join(format!("{stage}-{name}")),
                )?;
            }
        }
        copy(&self.recipe, &model.join("training").join("recipe.yaml"))?;
        writeln!(out, "done: the model is in {}", model.display())?;
        Ok(())
    }
}

/// Copies the model directory's files into `to` (each written atomically).
fn publish(from: &Path, to: &Path) -> anyhow::Result<()> {
    for name in [
        miracle_core::gpt::model_dir::CONFIG_FILE,
        miracle_core::gpt::model_dir::TOKENIZER_FILE,
        miracle_core::gpt::model_dir::WEIGHTS_FILE,
    ] {
        copy(&from.join(name), &to.join(name))?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    miracle_core::fs::write_atomic(to, &bytes)
        .with_context(|| format!("cannot write {}", to.display()))
}
