//! The agent as users get it: the model (the default one, a folder, or a plugin file's tuned
//! model), the agent's experts and a plugin file's, grounded decoding, how many calls, how
//! citations write italics. `ask`, `chat`, `eval`, `run`, `serve` and RLHF's sampling all
//! start their agent from an [`AgentOn`].

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use miracle_core::gpt::model_dir::{self, LoadedModel};
use miracle_experts::search::Markup;
use miracle_experts::{Kinds, Registry};

use crate::agent::{Agent, AgentError};
use crate::plugins::Plugins;

/// An agent as users get it: a model (the default one when `None`), the expert calls
/// allowed in one answer, whether decoding is grounded, a plugin file whose experts it may
/// call too (and whose tuned model it runs, unless `model` names another), and how its
/// answers' citations write italics.
#[derive(Debug, Clone)]
pub struct AgentOn {
    pub model: Option<PathBuf>,
    pub max_calls: usize,
    pub grounded: bool,
    pub plugins: Option<PathBuf>,
    pub markup: Markup,
}

impl AgentOn {
    /// The agent as users get it (grounded, 8 calls, no plugins, plain citations), on
    /// `model` (the default model when `None`).
    pub fn new(model: Option<PathBuf>) -> Self {
        AgentOn {
            model,
            max_calls: 8,
            grounded: true,
            plugins: None,
            markup: Markup::Plain,
        }
    }

    /// The agent as users get it, on the model in `dir`.
    pub fn model(dir: &Path) -> Self {
        AgentOn::new(Some(dir.to_path_buf()))
    }

    /// The plugin file, read, and the model folder (`None`: the default model) this
    /// agent runs.
    pub fn plugins(&self) -> Result<(Option<Plugins>, Option<PathBuf>), SetupError> {
        let Some(path) = &self.plugins else {
            return Ok((None, self.model.clone()));
        };
        let plugins = Plugins::load(path, &Kinds::builtin()).map_err(SetupError::Plugins)?;
        let model = match (&self.model, &plugins.model) {
            (Some(model), _) => Some(model.clone()),
            (None, Some(tuned)) => {
                if !tuned.join(model_dir::CONFIG_FILE).is_file() {
                    return Err(SetupError::NotTuned {
                        file: path.clone(),
                        model: tuned.clone(),
                    });
                }
                Some(tuned.clone())
            }
            (None, None) => None,
        };
        Ok((Some(plugins), model))
    }

    /// The experts (the agent's and the plugins') and the model folder this agent runs.
    pub fn parts(&self) -> Result<(Registry, Option<PathBuf>), SetupError> {
        let (plugins, model) = self.plugins()?;
        let registry = Plugins::extend(crate::agent_registry(), plugins.as_ref());
        Ok((registry, model))
    }

    /// Runs `f` with this agent, its experts and a runtime for their calls.
    pub fn run<E: From<SetupError>>(
        &self,
        f: impl AsyncFnOnce(&mut Agent<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let device = Device::flex();
        let (registry, model) = self.parts()?;
        let loaded = load_model(model.as_deref(), &device).map_err(SetupError::Model)?;
        let mut agent = Agent::new(
            &loaded.model,
            &loaded.config,
            &device,
            &loaded.tokenizer,
            &registry,
        )
        .map_err(SetupError::Agent)?;
        agent.limits.max_calls = self.max_calls;
        agent.grounded = self.grounded;
        agent.markup = self.markup;
        agent.number_slots = model.as_deref().is_some_and(crate::slots::marked);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SetupError::Runtime)?;
        runtime.block_on(f(&mut agent))
    }
}

/// What keeps an agent from starting.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Plugins(String),
    #[error("{}: its model {} is not there yet; `miracle tune --experts {}` makes it", file.display(), model.display(), file.display())]
    NotTuned { file: PathBuf, model: PathBuf },
    #[error("{0}")]
    Model(String),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("cannot start the runtime for expert calls: {0}")]
    Runtime(std::io::Error),
}

/// Loads `dir`, or the default model (embedded by miracle-corpora) when `dir` is `None`.
pub fn load_model(dir: Option<&Path>, device: &Device) -> Result<LoadedModel, String> {
    match dir {
        Some(dir) => model_dir::load(dir, device)
            .map_err(|e| format!("cannot load the model in {}: {e}", dir.display())),
        None => model_dir::load_default(device),
    }
}
