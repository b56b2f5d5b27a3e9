//! A recipe: the whole training of a model in InstructGPT's order — the tokenizer,
//! pretraining, demonstrations from the experts, supervised fine-tuning, then (when the
//! recipe has an `rlhf` section) comparisons, a reward model and PPO-ptx or DPO. Every
//! stage writes under one folder and passes its output on to the next; the finished model
//! lands in `model/` there, with its logs. Nothing else changes: replacing a model
//! directory (the shipped one included) is an explicit [`RecipeRun::publish_to`]. Every
//! stage resumes: the same run on the same folder continues it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use miracle_router::demos::Counts;
use miracle_router::slots;
use serde::Deserialize;

use crate::demos::{DemoSpec, write_demos};
use crate::dpo::DpoFile;
use crate::ppo::PpoFile;
use crate::pretrain::PretrainFile;
use crate::pretrain::run_pretrain;
use crate::rlhf::run_rlhf;
use crate::rm::RmFile;
use crate::sft::SftFile;
use crate::sft::run_sft;
use crate::wiring::{Backend, Wiring};
use crate::{Report, StageConfig};

/// One run of a recipe: which, where it writes, on what device, where it starts, and
/// whether its model replaces a model directory at the end.
#[derive(Debug, Clone)]
pub struct RecipeRun {
    recipe: PathBuf,
    out: PathBuf,
    backend: Backend,
    start: Start,
    publish: Option<PathBuf>,
}

/// Where a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// From nothing: the tokenizer, pretraining, then every SFT pass.
    Scratch,
    /// At SFT pass `pass` (1 for the first) from the model in `init`, instead of training the
    /// stages before it: a further pass on top of a model already made.
    Pass { pass: usize, init: PathBuf },
}

impl RecipeRun {
    /// The recipe in `recipe` (YAML; its paths are relative to it), written under `out`.
    pub fn new(recipe: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        RecipeRun {
            recipe: recipe.into(),
            out: out.into(),
            backend: Backend::Flex,
            start: Start::Scratch,
            publish: None,
        }
    }

    /// Trains on `backend`.
    pub fn on(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Starts as `start` says.
    pub fn starting(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// At the end, also copies the model, with its training logs, into the model
    /// directory `dir` (the shipped one is `corpora/models/default`; a rebuild embeds it).
    pub fn publish_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.publish = Some(dir.into());
        self
    }
}

/// Where a recipe's run goes unless told: `runs/<recipe name>` in the current directory.
pub fn default_out(recipe: &Path) -> PathBuf {
    crate::wiring::default_out(recipe)
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

impl Recipe {
    /// Every composed plan of the recipe (its demos, each pass's own, the RLHF prompts),
    /// checked before any stage runs; the error says which stage holds the bad one.
    fn check_plans(&self) -> Result<(), String> {
        let mut stages = vec![("demos".to_string(), &self.demos)];
        for (i, pass) in self.sft.passes().iter().enumerate() {
            if let Pass::OwnDemos(own) = pass {
                stages.push((format!("sft pass {}: demos", i + 1), &own.demos));
            }
        }
        if let Some(rlhf) = &self.rlhf {
            stages.push(("rlhf: prompts".to_string(), &rlhf.prompts));
        }
        for (at, stage) in stages {
            if let Some(plan) = stage.spec().compose {
                plan.check().map_err(|e| format!("{at}: compose: {e}"))?;
            }
        }
        Ok(())
    }

    /// Every config the stages from SFT pass `first` on will read (and the pretraining's,
    /// when the run starts from scratch), relative to `base`: each must be a file that reads
    /// as its stage's config, so that a typo in the last pass's file is found before the
    /// pretraining, not two hours in.
    fn check_files(&self, base: &Path, first: usize, scratch: bool) -> Result<(), String> {
        let mut files: Vec<(String, &Path, ReadsAs)> = Vec::new();
        if scratch {
            files.push(("pretrain".into(), &self.pretrain, reads::<PretrainFile>));
        }
        for (i, pass) in self.sft.passes().iter().enumerate().skip(first) {
            files.push((
                format!("sft pass {}", i + 1),
                pass.config(),
                reads::<SftFile>,
            ));
        }
        if let Some(rlhf) = &self.rlhf {
            files.push(("rlhf: rm".into(), &rlhf.rm, reads::<RmFile>));
            if let Some(ppo) = &rlhf.ppo {
                files.push(("rlhf: ppo".into(), ppo, reads::<PpoFile>));
            }
            if let Some(dpo) = &rlhf.dpo {
                files.push(("rlhf: dpo".into(), dpo, reads::<DpoFile>));
            }
        }
        for (at, file, reads_as) in files {
            let path = base.join(file);
            if !path.is_file() {
                return Err(format!("{at}: {} is not a file", path.display()));
            }
            reads_as(&path).map_err(|e| format!("{at}: {e}"))?;
        }
        Ok(())
    }
}

/// Whether a file reads as one stage's config (the error names the file and the mistake).
type ReadsAs = fn(&Path) -> anyhow::Result<()>;

fn reads<T: StageConfig>(path: &Path) -> anyhow::Result<()> {
    crate::read_config::<T>(path).map(drop)
}

/// InstructGPT's steps 2 and 3: prompts from the experts' generators, K responses sampled
/// from the SFT model for each, ranked by the rules, a reward model, then the policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RlhfStage {
    pub prompts: DemosStage,
    #[serde(default = "k")]
    pub k: usize,
    #[serde(default = "max_draws")]
    pub max_draws: usize,
    #[serde(default)]
    pub noise: f64,
    #[serde(default = "one")]
    pub seed: u64,
    /// A `miracle rm` config (its comparisons: the stage's train-comparisons.jsonl).
    pub rm: PathBuf,
    /// A `miracle ppo` config, or
    #[serde(default)]
    pub ppo: Option<PathBuf>,
    /// a `miracle dpo` config: exactly one of the two.
    #[serde(default)]
    pub dpo: Option<PathBuf>,
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
pub(crate) struct DemosStage {
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
    /// The share of two-turn conversations whose second turn is a fresh request of
    /// another kind (0 by default, as the shipped model was trained).
    #[serde(default)]
    fresh_turns: f32,
    /// The chance that a story's event is joined to the sentence before it (0 by default,
    /// as the shipped model was trained).
    #[serde(default)]
    joins: f32,
    /// The share of word problems told as a tally, part by part (0 by default, as the
    /// shipped model was trained).
    #[serde(default)]
    combine: f32,
    /// The share of word problems told as equal groups (0 by default, as the shipped
    /// model was trained).
    #[serde(default)]
    groups: f32,
    /// The share of change stories and tallies told of an institution (0 by default).
    #[serde(default)]
    institutions: f32,
    /// The share of Chinese requests typed with spaces around digits (0 by default).
    #[serde(default)]
    spacing: f32,
    /// The share of word problems told as a part and a whole (0 by default).
    #[serde(default)]
    complements: f32,
    /// The share of program requests that sum a range (0 by default).
    #[serde(default)]
    series: f32,
    /// The share of word problems told as an average over a tally's parts (0 by default).
    #[serde(default)]
    averages: f32,
    /// The share of those averages told as lists, measures or what people have (0 by
    /// default).
    #[serde(default)]
    average_frames: f32,
    /// The share of those asked their total or a gap instead of their mean (0 by default).
    #[serde(default)]
    average_contrasts: f32,
    /// The share of training social acts told with a phrase from a wider list (0 by
    /// default).
    #[serde(default)]
    social_phrases: f32,
    /// The share of equal groups told by where the things are, a shelf or a basket,
    /// rather than by a container (0 by default).
    #[serde(default)]
    group_places: f32,
    /// The share of grouped gains drawn as few and as small as grouped losses, so that a
    /// group's size does not tell a gain from a loss (0 by default).
    #[serde(default)]
    group_sizes: f32,
    /// The share of a training story's things, containers and verbs of change drawn from
    /// a wider list (0 by default).
    #[serde(default)]
    wide_words: f32,
    /// The share of change stories worked as a running total, one call per event, with no
    /// plan written first (0 by default).
    #[serde(default)]
    running_totals: f32,
    /// The share of running totals whose calls each follow a note copying the event from
    /// the story, its sentence or joined clause (0 by default).
    #[serde(default)]
    running_notes: f32,
    /// The share of change stories told with one plain event, a gain or a loss (0 by
    /// default).
    #[serde(default)]
    single_events: f32,
    /// The share of change stories told in everyday forms: Chinese verbs without 了, and
    /// "How many … remain?" (0 by default).
    #[serde(default)]
    plain_forms: f32,
}

fn held_out_share() -> f32 {
    0.15
}

impl DemosStage {
    pub(crate) fn spec(&self) -> DemoSpec {
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
                fresh_turns: c.fresh_turns,
                joins: c.joins,
                combine: c.combine,
                groups: c.groups,
                institutions: c.institutions,
                spacing: c.spacing,
                complements: c.complements,
                series: c.series,
                averages: c.averages,
                average_frames: c.average_frames,
                average_contrasts: c.average_contrasts,
                social_phrases: c.social_phrases,
                group_places: c.group_places,
                group_sizes: c.group_sizes,
                wide_words: c.wide_words,
                running_totals: c.running_totals,
                running_notes: c.running_notes,
                single_events: c.single_events,
                plain_forms: c.plain_forms,
            }),
        }
    }
}

impl RecipeRun {
    /// Runs every stage (those done already are resumed or kept); returns the folder of
    /// the finished model.
    pub fn run(&self, out: &mut dyn Report) -> anyhow::Result<PathBuf> {
        // A device this build cannot use stops the recipe before any stage writes.
        self.backend.device()?;
        let recipe: Recipe = crate::read_yaml(&self.recipe, "recipe")?;
        if recipe.model.is_some() {
            bail!(
                "{}: `model:` is no longer read: the model goes to <--out>/model; to replace a model directory (the shipped one too), add --publish DIR",
                self.recipe.display()
            );
        }
        // A share out of range in a later pass's demonstrations would otherwise stop the
        // recipe only when that pass begins, after the pretraining and the passes before it.
        recipe
            .check_plans()
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.recipe.display()))?;
        let base = self.recipe.parent().unwrap_or(Path::new("."));
        let run = self.out.clone();
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
        // Likewise a config name with a typo: found before the first stage, not when its
        // stage begins.
        let scratch = matches!(self.start, Start::Scratch);
        recipe
            .check_files(base, first, scratch)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.recipe.display()))?;
        writeln!(out, "== writing to {}", run.display())?;
        // The model the next pass starts from, and the stages trained here (for their logs).
        let (mut model, mut stages) = match &self.start {
            Start::Pass { init, .. } => {
                writeln!(
                    out,
                    "== starting at SFT pass {} from {}",
                    first + 1,
                    init.display()
                )?;
                (init.clone(), Vec::new())
            }
            Start::Scratch => {
                writeln!(out, "== 1/4 tokenizer: {}", tokenizer.display())?;
                writeln!(out, "== 2/4 pretraining ({})", recipe.pretrain.display())?;
                let pretrain_out = run_pretrain(
                    &base.join(&recipe.pretrain),
                    None,
                    &Wiring::out(Some(run.join("pretrain"))).on(self.backend),
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
                .on(self.backend)
                .with("init", &model)
                .with("demos", demos);
            let done = run_sft(&base.join(pass.config()), None, &wiring, out)?;
            model = done.join("model");
            stages.push((name, done));
        }
        if let Some(rlhf) = &recipe.rlhf {
            stages.extend(run_rlhf(rlhf, base, &run, (&model, self.backend), out)?);
        }
        let (_, last) = stages.last().expect("at least one pass");
        let model = run.join("model");
        publish(&last.join("model"), &model)?;
        // A model that started from another keeps that one's training logs as well.
        if let Start::Pass { init, .. } = &self.start {
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
        Ok(model)
    }
}

impl RecipeRun {
    /// The index of the first SFT pass to train, out of `passes`.
    fn first_pass(&self, passes: usize) -> anyhow::Result<usize> {
        match &self.start {
            Start::Scratch => Ok(0),
            &Start::Pass { pass: n, ref init } if (1..=passes).contains(&n) => {
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
            Start::Pass { pass: n, .. } => bail!(
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

/// Copies the model directory's files into `to` (each written atomically); the weights
/// replace whatever form `to` held (one f32 file, as training writes).
pub(crate) fn publish(from: &Path, to: &Path) -> anyhow::Result<()> {
    use miracle_core::gpt::{model_dir, weights};
    for name in [model_dir::CONFIG_FILE, model_dir::TOKENIZER_FILE] {
        copy(&from.join(name), &to.join(name))?;
    }
    let f32_weights = weights::read(from)?;
    weights::write(to, &f32_weights, weights::Layout::default())?;
    // A model that reads number slots stays one; one that does not leaves no mark behind.
    let marker = to.join(slots::MARKER);
    if slots::marked(from) {
        copy(&from.join(slots::MARKER), &marker)?;
    } else if marker.is_file() {
        std::fs::remove_file(&marker)
            .with_context(|| format!("cannot remove {}", marker.display()))?;
    }
    Ok(())
}

pub(crate) fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    crate::write_file(to, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../corpora/recipes")
            .join(name)
    }

    #[test]
    fn publishing_carries_the_number_slot_mark_and_drops_a_stale_one() {
        let shipped_model =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/models/default");
        let dir = tempfile::tempdir().unwrap();
        let (slotted, published) = (dir.path().join("slotted"), dir.path().join("published"));
        publish(&shipped_model, &slotted).unwrap();
        assert!(!slots::marked(&slotted));
        slots::mark(&slotted).unwrap();
        publish(&slotted, &published).unwrap();
        assert!(
            slots::marked(&published),
            "the copy of a slot model reads slots"
        );
        publish(&shipped_model, &published).unwrap();
        assert!(
            !slots::marked(&published),
            "a digit model published over it does not"
        );
    }

    #[test]
    fn the_shipped_recipe_and_stage_configs_read() {
        let recipe: Recipe = crate::read_yaml(&shipped("default.yaml"), "recipe").unwrap();
        assert!(
            recipe.rlhf.is_none(),
            "the shipped model is not trained with RLHF"
        );
        // Every pass's config reads; the last pass trains on composed requests as well.
        let passes = recipe.sft.passes();
        for pass in passes {
            let _: crate::sft::SftFile =
                crate::read_yaml(&shipped(&pass.config().display().to_string()), "sft").unwrap();
        }
        match passes.last() {
            Some(Pass::OwnDemos(own)) => assert!(own.demos.compose.is_some()),
            other => panic!("the last pass has no demos of its own: {other:?}"),
        }
        let _: crate::rm::RmFile = crate::read_yaml(&shipped("default-rm.yaml"), "rm").unwrap();
        let _: crate::ppo::PpoFile = crate::read_yaml(&shipped("default-ppo.yaml"), "ppo").unwrap();
        let _: crate::dpo::DpoFile = crate::read_yaml(&shipped("default-dpo.yaml"), "dpo").unwrap();
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
