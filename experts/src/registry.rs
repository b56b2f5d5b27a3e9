//! The experts an agent may call, by name. Built in code (`Registry::new().with(…)`) or from
//! YAML naming each expert's `kind` and its settings; plugins add kinds of their own.
//!
//! ```yaml
//! experts:
//!   - kind: calculator
//!   - kind: calculator      # a second one under another name
//!     name: calc2
//!   - kind: search          # the shipped corpora, or `index: DIR` from `miracle index`
//!     top: 5
//!     style: gbt            # or apa; by default GB/T 7714 for Chinese queries
//!     format: json          # the papers as JSON (for workflows); numbered citations by default
//!   - kind: code            # Rhai programs in a sandboxed worker process
//!     pool: 2               # workers kept warm
//!     limits: { timeout_ms: 2000, memory_mb: 256 }
//!   - kind: http            # a remote JSON expert: see the `http` module
//!     name: catalogue
//!     description: looks a book up in the library catalogue
//!     url: http://127.0.0.1:8080/lookup
//!     response: record.title
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::code::{Code, CodeSettings};
use crate::http::{HttpExpert, HttpSettings};
use crate::search::{Search, Style};
use crate::{Calculator, Context, Expert, ExpertError, Observation};

/// Registered experts, in the order they were added (the order the model is shown them).
#[derive(Clone, Default)]
pub struct Registry {
    experts: Vec<Arc<dyn Expert>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Every built-in expert under its default name.
    pub fn builtin() -> Self {
        Registry::new()
            .with(Calculator::new())
            .with(Search::new())
            .with(Code::new())
    }

    /// Adds an expert; one of the same name is replaced.
    pub fn with(mut self, expert: impl Expert + 'static) -> Self {
        self.add(Arc::new(expert));
        self
    }

    /// Adds an expert; one of the same name is replaced.
    pub fn add(&mut self, expert: Arc<dyn Expert>) {
        match self.experts.iter().position(|e| e.name() == expert.name()) {
            Some(i) => self.experts[i] = expert,
            None => self.experts.push(expert),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Expert>> {
        self.experts.iter().find(|e| e.name() == name)
    }

    pub fn experts(&self) -> impl Iterator<Item = &Arc<dyn Expert>> {
        self.experts.iter()
    }

    pub fn names(&self) -> Vec<&str> {
        self.experts.iter().map(|e| e.name()).collect()
    }

    /// The longest an expert may take to ready itself ([`Expert::prepare`]): building the
    /// shipped index takes about 2 s on two cores.
    pub const PREPARE_LIMIT: Duration = Duration::from_secs(120);

    /// Calls `name` with `input`: checks the input against the expert's format, readies the
    /// expert, then waits for the answer until the context's deadline or its cancellation,
    /// whichever is first. Readying does not count against the deadline, which is moved on
    /// by as long as it took.
    pub async fn call(
        &self,
        name: &str,
        input: &str,
        ctx: &Context,
    ) -> Result<Observation, ExpertError> {
        let expert = self.get(name).ok_or_else(|| ExpertError::Unknown {
            name: name.to_string(),
            known: self.names().join(", "),
        })?;
        expert
            .input_format()
            .check(input)
            .map_err(|message| ExpertError::invalid(name, message))?;
        let readying = Instant::now();
        tokio::select! {
            biased;
            () = ctx.cancellation().cancelled() => return Err(ExpertError::Cancelled { expert: name.to_string() }),
            ready = tokio::time::timeout(Self::PREPARE_LIMIT, expert.prepare()) => {
                ready.map_err(|_| ExpertError::Timeout { expert: name.to_string(), after: Self::PREPARE_LIMIT })??
            }
        }
        let ctx = &ctx.postponed(readying.elapsed());
        let budget = ctx.remaining();
        tokio::select! {
            biased;
            () = ctx.cancellation().cancelled() => Err(ExpertError::Cancelled { expert: name.to_string() }),
            () = tokio::time::sleep_until(ctx.deadline().into()) => Err(ExpertError::Timeout {
                expert: name.to_string(),
                after: budget,
            }),
            answer = expert.call(input, ctx) => answer,
        }
    }

    /// A registry from YAML (`experts:` followed by a list of `kind:` entries), with the
    /// built-in kinds and any a plugin adds to `kinds`.
    pub fn from_yaml(text: &str, kinds: &Kinds) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            experts: Vec<serde_yaml::Value>,
            /// A plugin file's tuned model (miracle_router::plugins): the file is a registry
            /// config too, and the registry reads only its experts.
            #[serde(default, rename = "model")]
            _model: Option<serde_yaml::Value>,
        }
        let file: File =
            crate::yaml::from_str(text).map_err(|e| format!("not a registry config: {e}"))?;
        let mut registry = Registry::new();
        for (i, entry) in file.experts.into_iter().enumerate() {
            let expert = kinds
                .build(entry)
                .map_err(|message| format!("experts[{i}]: {message}"))?;
            registry.add(expert);
        }
        Ok(registry)
    }
}

type Builder = Box<dyn Fn(serde_yaml::Value) -> Result<Arc<dyn Expert>, String> + Send + Sync>;

/// The expert kinds a YAML registry may name, each with a builder from its settings.
pub struct Kinds {
    builders: BTreeMap<String, Builder>,
}

impl Kinds {
    /// The kinds this crate provides.
    pub fn builtin() -> Self {
        Kinds {
            builders: BTreeMap::new(),
        }
        .with("calculator", |settings| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Settings {
                name: Option<String>,
            }
            let s: Settings = self::settings(settings)?;
            let calculator = Calculator::new();
            Ok(Arc::new(match s.name {
                Some(name) => calculator.named(&name),
                None => calculator,
            }))
        })
        .with("code", |settings| {
            Ok(Arc::new(Code::from_settings(self::settings::<
                CodeSettings,
            >(settings)?)?))
        })
        .with("http", |settings| {
            Ok(Arc::new(HttpExpert::new(self::settings::<HttpSettings>(
                settings,
            )?)?))
        })
        .with("search", |settings| {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Settings {
                name: Option<String>,
                /// An index built with `miracle index`; the shipped corpora's by default.
                index: Option<std::path::PathBuf>,
                top: Option<usize>,
                style: Option<Style>,
                /// `false`: citations without their highlighted fragments.
                snippets: Option<bool>,
                /// `json`: a JSON array of the papers (for workflows); `text` by default.
                format: Option<Format>,
            }
            #[derive(Deserialize, PartialEq)]
            #[serde(rename_all = "lowercase")]
            enum Format {
                Text,
                Json,
            }
            let s: Settings = self::settings(settings)?;
            let mut search = Search::new();
            if let Some(name) = s.name {
                search = search.named(&name);
            }
            if let Some(dir) = s.index {
                search = search.with_index(dir);
            }
            if let Some(top) = s.top {
                search = search.top(top);
            }
            if let Some(style) = s.style {
                search = search.style(style);
            }
            if s.snippets == Some(false) {
                search = search.without_snippets();
            }
            if s.format == Some(Format::Json) {
                search = search.json();
            }
            Ok(Arc::new(search))
        })
    }

    /// Adds a kind. `build` gets the entry's settings (the mapping without `kind`).
    pub fn with(
        mut self,
        kind: &str,
        build: impl Fn(serde_yaml::Value) -> Result<Arc<dyn Expert>, String> + Send + Sync + 'static,
    ) -> Self {
        self.builders.insert(kind.to_string(), Box::new(build));
        self
    }

    /// Builds the expert an entry (`kind:` and its settings) describes.
    pub fn build(&self, entry: serde_yaml::Value) -> Result<Arc<dyn Expert>, String> {
        let serde_yaml::Value::Mapping(mut map) = entry else {
            return Err("each expert is a mapping with a `kind`, e.g. `- kind: calculator`".into());
        };
        let kind = match map.remove("kind") {
            Some(serde_yaml::Value::String(kind)) => kind,
            _ => return Err("missing `kind` (a string, e.g. `kind: calculator`)".into()),
        };
        let build = self.builders.get(&kind).ok_or_else(|| {
            let known: Vec<&str> = self.builders.keys().map(String::as_str).collect();
            format!("unknown kind `{kind}`; known kinds: {}", known.join(", "))
        })?;
        build(serde_yaml::Value::Mapping(map)).map_err(|e| format!("{kind}: {e}"))
    }
}

impl Default for Kinds {
    fn default() -> Self {
        Kinds::builtin()
    }
}

/// Deserializes an entry's settings, turning serde's message into one line.
pub fn settings<T: serde::de::DeserializeOwned>(settings: serde_yaml::Value) -> Result<T, String> {
    serde_yaml::from_value(settings).map_err(|e| e.to_string())
}
