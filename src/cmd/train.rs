//! `miracle train --recipe FILE.yaml`: the whole training of a model in InstructGPT's
//! order — the tokenizer, pretraining, demonstrations from the experts, supervised
//! fine-tuning, then (when the recipe has an `rlhf` section) comparisons, a reward model
//! and PPO-ptx or DPO. Every stage writes under one folder (`--out`, `runs/<recipe name>` by
//! default) and passes its output on to the next; the finished model lands in `model/`
//! there, with its logs. Nothing in the checkout changes: replacing a model directory (the
//! shipped one included) is the explicit `--publish DIR`. Every stage resumes: rerunning
//! the command with the same `--out` continues it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use miracle_router::demos::Counts;
use serde::Deserialize;

use miracle_router::rlhf::ranker::Rules;
use miracle_router::rlhf::sample::Sampling;

use super::ask::AgentOptions;
use super::demos::{DemoSpec, write_demos};
use super::label::{rank_file, sample_file};
use super::ppo::run_ppo;
use super::pretrain::run_pretrain;
use super::sft::run_sft;
use super::wiring::{Backend, Wiring};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recipe {
    /// The tokenizer every stage uses (the pretraining config must name the same one).
    tokenizer: PathBuf,
    /// A `miracle pretrain` config.
    pretrain: PathBuf,
    demos: DemosStage,
    /// A `miracle sft` config, or several run in order (each starting from the model of the
    /// one before: a warm restart of the learning-rate schedule). A pass trains on the demos
    /// stage's `train.jsonl`, or on demonstrations of its own (`{config, demos}`).
    sft: Passes,
    /// RLHF after SFT: comparisons, a reward model, then PPO-ptx or DPO.
    #[serde(default)]
    rlhf: Option<RlhfStage>,
    /// No longer read: a recipe does not choose where the model goes (`--out`), and
    /// replacing a model directory is the explicit `--publish`. Named so that an old recipe
    /// gets that said.
    #[serde(default)]
    model: Option<serde_yaml::Value>,
}

/// InstructGPT's steps 2 and 3: prompts from the experts' generators, K responses sampled
/// from the SFT model for each, ranked by the rules, a reward model, then the policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RlhfStage {
    prompts: DemosStage,
    #[serde(default = "k")]
    k: usize,
    #[serde(default = "max_draws")]
    max_draws: usize,
    #[serde(default)]
    noise: f64,
    #[serde(default = "one")]
    seed: u64,
    /// A `miracle rm` config (its comparisons: the stage's train-comparisons.jsonl).
    rm: PathBuf,
    /// A `miracle ppo` config, or
    #[serde(default)]
    ppo: Option<PathBuf>,
    /// a `miracle dpo` config: exactly one of the two.
    #[serde(default)]
    dpo: Option<PathBuf>,
}

fn k() -> usize {
    4
}
fn max_draws() -> usize {
    8
}
fn one() -> u64 {
    1
}

/// The recipe's `sft`: one config, or a list of passes (read as a list either way).
#[derive(Debug)]
struct Passes(Vec<Pass>);

impl Passes {
    fn passes(&self) -> &[Pass] {
        &self.0
    }
}

/// One SFT pass of a recipe.
#[derive(Debug)]
enum Pass {
    /// Trained on the recipe's demos stage.
    Config(PathBuf),
    /// Trained on demonstrations of its own, written to `demos-<pass>/`.
    OwnDemos(OwnDemos),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnDemos {
    config: PathBuf,
    demos: DemosStage,
}

// By hand rather than `untagged`, so that a mistake inside a pass (an unknown field, a
// missing count) is named instead of "did not match any variant".
impl<'de> Deserialize<'de> for Passes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(config) => Ok(Passes(vec![Pass::Config(config.into())])),
            serde_yaml::Value::Sequence(passes) => passes
                .into_iter()
                .enumerate()
                .map(|(i, pass)| {
                    serde_yaml::from_value(pass)
                        .map_err(|e| D::Error::custom(format!("sft pass {}: {e}", i + 1)))
                })
                .collect::<Result<_, _>>()
                .map(Passes),
            _ => Err(D::Error::custom(
                "sft: name a `miracle sft` config, or a list of passes",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Pass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(config) => Ok(Pass::Config(config.into())),
            own @ serde_yaml::Value::Mapping(_) => serde_yaml::from_value(own)
                .map(Pass::OwnDemos)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom(
                "a pass is a `miracle sft` config, or `{config: FILE, demos: {...}}`",
            )),
        }
    }
}

impl Pass {
    fn config(&self) -> &Path {
        match self {
            Pass::Config(config) | Pass::OwnDemos(OwnDemos { config, .. }) => config,
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
    /// Requests from the compositional generator as well (docs/TRAINING.md).
    #[serde(default)]
    compose: Option<ComposeStage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComposeStage {
    requests: usize,
    /// The share held out (written to heldout-composed.jsonl, never trained on).
    #[serde(default = "held_out_share")]
    heldout_share: f32,
}

fn held_out_share() -> f32 {
    0.15
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
            compose: self.compose.as_ref().map(|c| miracle_requests::Plan {
                requests: c.requests,
                held_out_share: c.heldout_share,
            }),
        }
    }
}

impl TrainArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        // A device this build cannot use stops the recipe before any stage writes.
        self.device.device()?;
        let recipe: Recipe = super::read_yaml(&self.recipe, "recipe")?;
        if recipe.model.is_some() {
            bail!(
                "{}: `model:` is no longer read: the model goes to <--out>/model; to replace a model directory (the shipped one too), add --publish DIR",
                self.recipe.display()
            );
        }
        let base = self.recipe.parent().unwrap_or(Path::new("."));
        let run = self
            .out
            .clone()
            .unwrap_or_else(|| super::wiring::default_out(&self.recipe));
        let tokenizer = base.join(&recipe.tokenizer);
        if !tokenizer.is_file() {
            bail!(
                "tokenizer: {} is not a file; train one with `miracle tokenizer train`",
                tokenizer.display()
            );
        }
        let passes = recipe.sft.passes();
        if passes.is_empty() {
            bail!("sft: the list of passes is empty; name at least one `miracle sft` config");
        }
        let first = self.first_pass(passes.len())?;
        writeln!(out, "== writing to {}", run.display())?;
        // The model the next pass starts from, and the stages trained here (for their logs).
        let (mut model, mut stages) = match &self.init {
            Some(init) => {
                writeln!(
                    out,
                    "== starting at SFT pass {} from {}",
                    first + 1,
                    init.display()
                )?;
                (init.clone(), Vec::new())
            }
            None => {
                writeln!(out, "== 1/4 tokenizer: {}", tokenizer.display())?;
                writeln!(out, "== 2/4 pretraining ({})", recipe.pretrain.display())?;
                let pretrain_out = run_pretrain(
                    &base.join(&recipe.pretrain),
                    None,
                    &Wiring::out(Some(run.join("pretrain"))).on(self.device),
                    out,
                )?;
                (
                    pretrain_out.join("model"),
                    vec![("pretrain".to_string(), pretrain_out)],
                )
            }
        };
        let shared_demos = run.join("demos");
        if passes[first..].iter().any(|p| matches!(p, Pass::Config(_))) {
            writeln!(out, "== 3/4 demonstrations from the experts")?;
            write_demos(&recipe.demos.spec(), &shared_demos, out)?;
        }
        for (i, pass) in passes.iter().enumerate().skip(first) {
            let name = match passes.len() {
                1 => "sft".to_string(),
                _ => format!("sft-{}", i + 1),
            };
            let demos = match pass {
                Pass::Config(_) => shared_demos.join("train.jsonl"),
                Pass::OwnDemos(own) => {
                    writeln!(out, "== 4/4 demonstrations of pass {}", i + 1)?;
                    let dir = run.join(format!("demos-{name}"));
                    write_demos(&own.demos.spec(), &dir, out)?;
                    dir.join("train.jsonl")
                }
            };
            writeln!(
                out,
                "== 4/4 supervised fine-tuning, pass {} of {} ({})",
                i + 1,
                passes.len(),
                pass.config().display()
            )?;
            let wiring = Wiring::out(Some(run.join(&name)))
                .on(self.device)
                .with("init", &model)
                .with("demos", demos);
            let done = run_sft(&base.join(pass.config()), None, &wiring, out)?;
            model = done.join("model");
            stages.push((name, done));
        }
        if let Some(rlhf) = &recipe.rlhf {
            stages.extend(run_rlhf(rlhf, base, &run, (&model, self.device), out)?);
        }
        let (_, last) = stages.last().expect("at least one pass");
        let model = run.join("model");
        publish(&last.join("model"), &model)?;
        // A model that started from another keeps that one's training logs as well.
        if let Some(init) = &self.init {
            copy_logs(init, &model)?;
        }
        for (stage, dir) in &stages {
            for name in ["log.csv", "loss.png"] {
                let from = dir.join(name);
                // Reward-model and RLHF runs draw no loss curve.
                if name == "loss.png" && !from.is_file() {
                    continue;
                }
                copy(
                    &from,
                    &model.join("training").join(format!("{stage}-{name}")),
                )?;
            }
        }
        copy(&self.recipe, &model.join("training").join("recipe.yaml"))?;
        writeln!(out, "done: the model is in {}", model.display())?;
        if let Some(to) = &self.publish {
            publish_with_logs(&model, to)?;
            writeln!(out, "published: {} now holds this model", to.display())?;
        }
        Ok(())
    }
}

impl TrainArgs {
    /// The index of the first SFT pass to train, out of `passes`.
    fn first_pass(&self, passes: usize) -> anyhow::Result<usize> {
        match self.from_pass {
            None => Ok(0),
            Some(n) if (1..=passes).contains(&n) => {
                let init = self.init.as_ref().expect("clap requires --init");
                if !init
                    .join(miracle_core::gpt::model_dir::CONFIG_FILE)
                    .is_file()
                {
                    bail!(
                        "--init {}: not a model directory (no {}); name the model that pass {n} starts from",
                        init.display(),
                        miracle_core::gpt::model_dir::CONFIG_FILE
                    );
                }
                Ok(n - 1)
            }
            Some(n) => bail!(
                "--from-pass {n}: {} has {passes} SFT pass(es); name one from 1 to {passes}",
                self.recipe.display()
            ),
        }
    }
}

/// Copies a finished model directory, with its `training/` logs, into `to`.
fn publish_with_logs(model: &Path, to: &Path) -> anyhow::Result<()> {
    publish(model, to)?;
    copy_logs(model, to)
}

/// Copies `from/training/*` into `to/training/`; a model without logs has none to copy.
fn copy_logs(from: &Path, to: &Path) -> anyhow::Result<()> {
    let logs = from.join("training");
    if !logs.is_dir() {
        return Ok(());
    }
    for entry in
        std::fs::read_dir(&logs).with_context(|| format!("cannot read {}", logs.display()))?
    {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            copy(&entry.path(), &to.join("training").join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The RLHF stages; returns (stage, output folder) of the reward model and the policy.
/// Sampled and ranked files are kept and not made again when rerun (they are written
/// whole or not at all); the reward model, PPO and DPO resume from their checkpoints.
fn run_rlhf(
    rlhf: &RlhfStage,
    base: &Path,
    run: &Path,
    (sft_model, backend): (&Path, Backend),
    out: &mut dyn Write,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let policy = match (&rlhf.ppo, &rlhf.dpo) {
        (Some(config), None) => Policy::Ppo(config),
        (None, Some(config)) => Policy::Dpo(config),
        _ => bail!("rlhf: name exactly one of `ppo` (a miracle ppo config) and `dpo`"),
    };
    writeln!(out, "== RLHF 1/4: prompts from the experts' generators")?;
    let dir = run.join("rlhf");
    write_demos(&rlhf.prompts.spec(), &dir, out)?;
    writeln!(
        out,
        "== RLHF 2/4: sampling {} responses per prompt from the SFT model, ranking them",
        rlhf.k
    )?;
    let sampling = Sampling {
        k: rlhf.k,
        max_draws: rlhf.max_draws,
        temperature: 1.0,
        seed: rlhf.seed,
    };
    let options = AgentOptions::on_model(sft_model);
    // Held-out comparisons are always clean: they measure the reward model.
    for (suite, name, noise) in [
        ("prompts.jsonl", "train", rlhf.noise),
        ("heldout.jsonl", "heldout", 0.0),
    ] {
        let candidates = dir.join(format!("{name}-candidates.jsonl"));
        if !candidates.is_file() {
            sample_file(&dir.join(suite), &candidates, &sampling, 1, &options, out)?;
        }
        let rules = Rules {
            noise,
            seed: rlhf.seed,
        };
        rank_file(
            &candidates,
            &dir.join(format!("{name}-comparisons.jsonl")),
            &rules,
            out,
        )?;
    }
    writeln!(out, "== RLHF 3/4: reward model ({})", rlhf.rm.display())?;
    let rm_config = base.join(&rlhf.rm);
    let comparisons = |name: &str| dir.join(format!("{name}-comparisons.jsonl"));
    let rm_wiring = Wiring::out(Some(run.join("rm")))
        .on(backend)
        .with("init", sft_model)
        .with("comparisons", comparisons("train"))
        .with("val", comparisons("heldout"));
    let rm_out = super::rm::run_rm(&rm_config, &rm_wiring, out)?;
    let rm_dir = rm_out.parent().unwrap_or(&rm_out).to_path_buf();
    let policy_stage = match policy {
        Policy::Ppo(config) => {
            writeln!(out, "== RLHF 4/4: PPO-ptx ({})", config.display())?;
            let wiring = Wiring::out(Some(run.join("ppo")))
                .on(backend)
                .with("init", sft_model)
                .with("reward", &rm_out)
                .with("prompts", dir.join("prompts.jsonl"))
                .with("heldout", dir.join("heldout.jsonl"));
            (
                "ppo".to_string(),
                run_ppo(&base.join(config), None, &wiring, out)?,
            )
        }
        Policy::Dpo(config) => {
            writeln!(out, "== RLHF 4/4: DPO ({})", config.display())?;
            let wiring = Wiring::out(Some(run.join("dpo")))
                .on(backend)
                .with("init", sft_model)
                .with("comparisons", comparisons("train"))
                .with("val", comparisons("heldout"));
            let model = super::dpo::run_dpo(&base.join(config), &wiring, out)?;
            let dir = model.parent().unwrap_or(&model).to_path_buf();
            ("dpo".to_string(), dir)
        }
    };
    Ok(vec![("rm".to_string(), rm_dir), policy_stage])
}

/// How the RLHF stage tunes the policy, and the config for it.
enum Policy<'a> {
    Ppo(&'a Path),
    Dpo(&'a Path),
}

/// Copies the model directory's files into `to` (each written atomically); the weights
/// replace whatever form `to` held (one f32 file, as training writes).
fn publish(from: &Path, to: &Path) -> anyhow::Result<()> {
    use miracle_core::gpt::{model_dir, weights};
    for name in [model_dir::CONFIG_FILE, model_dir::TOKENIZER_FILE] {
        copy(&from.join(name), &to.join(name))?;
    }
    let f32_weights = weights::read(from)?;
    weights::write(to, &f32_weights, weights::Layout::default())?;
    Ok(())
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    super::write_file(to, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpora/recipes")
            .join(name)
    }

    #[test]
    fn the_shipped_recipe_and_stage_configs_read() {
        let recipe: Recipe = super::super::read_yaml(&shipped("default.yaml"), "recipe").unwrap();
        assert!(
            recipe.rlhf.is_none(),
            "the shipped model is not trained with RLHF"
        );
        // Every pass's config reads; the last pass trains on composed requests as well.
        let passes = recipe.sft.passes();
        for pass in passes {
            let _: super::super::sft::SftFile =
                super::super::read_yaml(&shipped(&pass.config().display().to_string()), "sft")
                    .unwrap();
        }
        match passes.last() {
            Some(Pass::OwnDemos(own)) => assert!(own.demos.compose.is_some()),
            other => panic!("the last pass has no demos of its own: {other:?}"),
        }
        let _: super::super::rm::RmFile =
            super::super::read_yaml(&shipped("default-rm.yaml"), "rm").unwrap();
        let _: super::super::ppo::PpoFile =
            super::super::read_yaml(&shipped("default-ppo.yaml"), "ppo").unwrap();
        let _: super::super::dpo::DpoFile =
            super::super::read_yaml(&shipped("default-dpo.yaml"), "dpo").unwrap();
        // The documented rlhf section, uncommented, is a valid one.
        let text = std::fs::read_to_string(shipped("default.yaml")).unwrap();
        let at = text.find("# rlhf:").unwrap();
        let section: String = text[at..]
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l)))
            .collect();
        let uncommented = format!("{}{section}", &text[..at]);
        let recipe: Recipe = serde_yaml::from_str(&uncommented).unwrap();
        let rlhf = recipe.rlhf.unwrap();
        assert_eq!(
            (rlhf.k, rlhf.ppo.is_some(), rlhf.dpo.is_some()),
            (4, true, false)
        );
    }

    /// A mistake inside a pass is named: which pass, and what is wrong there.
    #[test]
    fn a_bad_pass_is_named() {
        let counts = "{calc: 1, code: 1, literature: 1, direct: 1, expert_demonstrations: 0";
        for (sft, says) in [
            (
                format!("[a.yaml, {{config: b.yaml, demos: {counts}, sead: 1}}}}]"),
                "sft pass 2: unknown field `sead`",
            ),
            (
                format!("[{{config: b.yaml, demos: {counts}}}}}]"),
                "sft pass 1: missing field `seed`",
            ),
            (
                "[[a.yaml]]".to_string(),
                "sft pass 1: a pass is a `miracle sft` config",
            ),
            (
                "{a: 1}".to_string(),
                "name a `miracle sft` config, or a list",
            ),
        ] {
            let text = format!(
                "tokenizer: t.json\npretrain: p.yaml\ndemos: {counts}, seed: 1}}\nsft: {sft}\n"
            );
            let err = serde_yaml::from_str::<Recipe>(&text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{sft}: {err}");
        }
        let text = format!(
            "tokenizer: t.json\npretrain: p.yaml\ndemos: {counts}, seed: 1}}\nsft: [a.yaml, {{config: b.yaml, demos: {counts}, seed: 2}}}}]\n"
        );
        let recipe: Recipe = serde_yaml::from_str(&text).unwrap();
        let passes = recipe.sft.passes();
        assert!(matches!(&passes[0], Pass::Config(c) if c == Path::new("a.yaml")));
        assert!(matches!(&passes[1], Pass::OwnDemos(o) if o.demos.seed == 2));
    }
}
