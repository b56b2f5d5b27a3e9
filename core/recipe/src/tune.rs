//! Teaching a model a plugin's experts (`miracle tune --experts FILE`): demonstrations of the
//! plugin's experts (each declared one, and more told with other numbers, all answered by
//! calling the expert for real), repeated among a replay of the model's own, so that it keeps
//! what it knew; then one short SFT pass from the model (the default one unless told),
//! written where the plugin file's `model:` says, so that every command given the file runs
//! it. Measured in docs/PLUGINS.md, "What it buys".
//!
//! ```text
//! WORK/own/                   the model's own demonstrations (made once)
//! WORK/demos/train.jsonl      what the pass trains on
//! WORK/sft.yaml, WORK/sft/    the pass, resumable
//! MODEL/                      the tuned model, with its training log
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use miracle_experts::Kinds;
use miracle_router::demos::{Counts, plugin_demos};
use miracle_router::plugins::Plugins;

use crate::Report;
use crate::demos::{DemoSpec, write_demos};
use crate::wiring::{Backend, Wiring};

/// How to tune: the plugin file, where the work goes, and the pass's size.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub plugins: PathBuf,
    /// The model to tune; the default model when `None`.
    pub init: Option<PathBuf>,
    /// The demonstrations and the SFT run (resumable).
    pub work: PathBuf,
    /// Optimizer steps of the pass (16 demonstrations each).
    pub steps: u64,
    /// Variants told of each declared demonstration.
    pub variants: usize,
    /// How much of the model's own data is replayed: 1 is the default recipe's template
    /// demonstrations and 4,000 composed requests; less, a share of each (quick trials).
    pub replay: f64,
    pub seed: u64,
    pub backend: Backend,
}

impl Tuning {
    /// The plugin file `plugins`, with what was measured to teach a plugin in a few minutes
    /// on two cores without losing what the model knew (docs/PLUGINS.md).
    pub fn new(plugins: impl Into<PathBuf>, work: impl Into<PathBuf>) -> Self {
        Tuning {
            plugins: plugins.into(),
            init: None,
            work: work.into(),
            steps: 300,
            variants: 40,
            replay: 1.0,
            seed: 1,
            backend: Backend::Flex,
        }
    }

    /// Tunes and writes the model where the plugin file's `model:` says; returns that folder.
    pub fn run(&self, out: &mut dyn Report) -> anyhow::Result<PathBuf> {
        self.backend.device()?;
        if self.steps == 0 || self.variants == 0 {
            bail!("steps and variants must be at least 1");
        }
        if !(self.replay > 0.0 && self.replay <= 1.0) {
            bail!("replay is a share: above 0, at most 1");
        }
        let plugins =
            Plugins::load(&self.plugins, &Kinds::builtin()).map_err(anyhow::Error::msg)?;
        let Some(target) = plugins.model.clone() else {
            bail!(
                "{}: name the folder the tuned model goes to, e.g. `model: {}-model` beside `experts:`",
                self.plugins.display(),
                self.plugins
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("plugin")
            );
        };
        let train = self.demos(&plugins, out)?;
        let base = self.base()?;
        let config = self.work.join("sft.yaml");
        crate::write_file(&config, self.sft_config().as_bytes())?;
        let wiring = Wiring::out(Some(self.work.join("sft")))
            .on(self.backend)
            .with("init", &base)
            .with("demos", train);
        let done = crate::sft::run_sft(&config, None, &wiring, out)?;
        crate::recipe::publish(&done.join("model"), &target)?;
        crate::recipe::copy(
            &done.join("log.csv"),
            &target.join("training").join("tune-log.csv"),
        )?;
        writeln!(
            out,
            "tuned: {} now holds the model that calls {}; every command given --experts {} runs it",
            target.display(),
            plugins.names().join(", "),
            self.plugins.display()
        )?;
        Ok(target)
    }

    /// Writes the pass's demonstrations: the plugin's, repeated, then the model's own
    /// (replayed). Returns the training file.
    fn demos(&self, plugins: &Plugins, out: &mut dyn Report) -> anyhow::Result<PathBuf> {
        let registry = plugins.registry();
        let names = plugins.names();
        let taught = crate::runtime()?
            .block_on(plugin_demos(&registry, &names, self.variants, self.seed))
            .context("demonstrations of the plugin's experts")?;
        if taught.is_empty() {
            bail!(
                "{}: the experts declare no demonstration that they answer; give each \
                 `demonstrations:` (request, input, result) that it answers when called",
                self.plugins.display()
            );
        }
        let replayed = self.replayed(out)?;
        // The plugin's few are repeated to a tenth of the whole, so that the pass sees each
        // a few times among the replayed ones.
        let times = (replayed.lines().count() / 9 / taught.len()).max(1);
        let mut lines = String::new();
        for demo in &taught {
            lines.push_str(&(serde_json::to_string(demo)? + "\n").repeat(times));
        }
        lines.push_str(&replayed);
        let path = self.work.join("demos").join("train.jsonl");
        crate::write_file(&path, lines.as_bytes())?;
        writeln!(
            out,
            "{} demonstrations of {} (each answered by the expert; each {times} times) and {} of the model's own; written to {}",
            taught.len(),
            names.join(", "),
            replayed.lines().count(),
            path.display()
        )?;
        Ok(path)
    }

    /// The model's own demonstrations, made once: the default recipe's templates and a
    /// quarter of its last pass's composed requests, so that it keeps what it was taught.
    fn replayed(&self, out: &mut dyn Report) -> anyhow::Result<String> {
        let share = |n: f64| (n * self.replay).ceil() as usize;
        let spec = DemoSpec {
            counts: Counts {
                calc: share(600.0),
                code: share(200.0),
                literature: share(1500.0),
                direct: share(300.0),
                expert_demonstrations: 0,
            },
            seed: self.seed,
            compose: Some(miracle_requests::Plan {
                requests: share(4000.0),
                ..Default::default()
            }),
        };
        let dir = self.work.join("own");
        let file = dir.join("train.jsonl");
        if !file.is_file() {
            write_demos(&spec, &dir, out)?;
        }
        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))
    }

    /// The model to tune, as a folder: `init`, or the default model written out once.
    fn base(&self) -> anyhow::Result<PathBuf> {
        if let Some(init) = &self.init {
            return Ok(init.clone());
        }
        let dir = self.work.join("base");
        if !dir
            .join(miracle_core::gpt::model_dir::CONFIG_FILE)
            .is_file()
        {
            let device = burn::prelude::Device::flex();
            let loaded = crate::load_model(None, &device)?;
            miracle_core::gpt::model_dir::save(
                &dir,
                &loaded.config,
                &loaded.tokenizer,
                &loaded.model,
            )
            .with_context(|| format!("cannot write {}", dir.display()))?;
        }
        Ok(dir)
    }

    /// One short SFT pass, at 0.6 of the third pass's learning rate (docs/PLUGINS.md,
    /// "What it buys").
    fn sft_config(&self) -> String {
        let warmup = (self.steps / 15).max(1);
        let every = (self.steps / 3).max(1);
        format!(
            "# written by `miracle tune`: one pass on the plugin's and the model's own demonstrations\n\
             lm_weight: 0.2\nval_fraction: 0.02\ntrain:\n  batch_size: 16\n  steps: {}\n  \
             lr: 3.0e-4\n  min_lr: 3.0e-5\n  warmup_steps: {warmup}\n  eval_interval: {every}\n  \
             eval_iters: 10\n  checkpoint_interval: {every}\n  seed: {}\n",
            self.steps, self.seed
        )
    }
}

/// Where `miracle tune` works unless told: `runs/tune-<plugin file name>`.
pub fn default_work(plugins: &Path) -> PathBuf {
    let name = plugins
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin");
    Path::new("runs").join(format!("tune-{name}"))
}
