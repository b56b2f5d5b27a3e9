//! Plugins: experts a deployment adds to the agent's own, from a YAML file, with the model
//! tuned to call them (docs/PLUGINS.md, "Teaching the model a plugin").
//!
//! ```yaml
//! experts:                     # registry entries, as `miracle expert --config` reads them
//!   - kind: http
//!     name: units
//!     description: converts lengths and masses between units
//!     url: http://127.0.0.1:8099/convert
//!     demonstrations:          # what the model learns from: request, input, result
//!       - {request: "How many metres is 3.5 km?", input: "3.5 km in m", result: "3500 m"}
//! model: units-model           # the model tuned for them (`miracle tune` writes it)
//! ```
//!
//! The model of such a file is the one `ask`, `chat`, `eval` and `serve` run wherever the
//! file is given, so the plugin and the model that knows it go together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miracle_experts::{Expert, Kinds, Registry};
use serde::Deserialize;

/// A plugin file, read and checked: its experts, and where its tuned model lives.
pub struct Plugins {
    /// The file it was read from.
    pub path: PathBuf,
    pub experts: Vec<Arc<dyn Expert>>,
    /// The tuned model's folder (relative paths are the file's), if the file names one.
    pub model: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    experts: Vec<serde_yaml::Value>,
    #[serde(default)]
    model: Option<PathBuf>,
}

impl Plugins {
    /// Reads `path`, building each expert with `kinds`. A plugin may not take the name of
    /// one of the agent's experts (calculator, literature, code): the model already calls
    /// those for what they do.
    pub fn load(path: &Path, kinds: &Kinds) -> Result<Plugins, String> {
        let at = |message: String| format!("{}: {message}", path.display());
        let text = miracle_experts::yaml::read_file(path, miracle_experts::yaml::MAX_FILE_BYTES)
            .map_err(at)?;
        let file: File = miracle_experts::yaml::from_str(&text)
            .map_err(|e| at(format!("not a plugin file: {e}")))?;
        if file.experts.is_empty() {
            return Err(at("experts: name at least one expert".into()));
        }
        let own = crate::agent_registry();
        let mut experts: Vec<Arc<dyn Expert>> = Vec::new();
        for (i, entry) in file.experts.into_iter().enumerate() {
            let expert = kinds
                .build(entry)
                .map_err(|message| at(format!("experts[{i}]: {message}")))?;
            let name = expert.name().to_string();
            if own.get(&name).is_some() || experts.iter().any(|e| e.name() == name) {
                return Err(at(format!(
                    "experts[{i}]: `{name}` is taken (the agent's own: {}); give the plugin another name",
                    own.names().join(", ")
                )));
            }
            experts.push(expert);
        }
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(Plugins {
            path: path.to_path_buf(),
            experts,
            model: file.model.map(|m| base.join(m)),
        })
    }

    /// The agent's experts and these.
    pub fn registry(&self) -> Registry {
        self.add_to(crate::agent_registry())
    }

    /// `registry` with these experts added.
    pub fn add_to(&self, mut registry: Registry) -> Registry {
        for expert in &self.experts {
            registry.add(expert.clone());
        }
        registry
    }

    /// `registry` with the experts of `plugins`, when there is a plugin file.
    pub fn extend(registry: Registry, plugins: Option<&Plugins>) -> Registry {
        match plugins {
            Some(plugins) => plugins.add_to(registry),
            None => registry,
        }
    }

    /// The names of these experts, for messages.
    pub fn names(&self) -> Vec<&str> {
        self.experts.iter().map(|e| e.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Plugins, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugins.yaml");
        std::fs::write(&path, text).unwrap();
        Plugins::load(&path, &Kinds::builtin())
    }

    const UNITS: &str = "  - kind: http\n    name: units\n    description: converts units\n    url: http://127.0.0.1:9/convert\n";

    #[test]
    fn a_plugin_file_adds_experts_and_names_its_model() {
        let plugins = load(&format!("experts:\n{UNITS}model: tuned\n")).unwrap();
        assert_eq!(plugins.names(), ["units"]);
        assert!(plugins.model.unwrap().ends_with("tuned"));
        let registry = load(&format!("experts:\n{UNITS}")).unwrap().registry();
        assert_eq!(
            registry.names(),
            ["calculator", "literature", "code", "units"]
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (text, says) in [
            ("experts: []\n", "name at least one expert"),
            (
                "experts:\n  - kind: calculator\n",
                "`calculator` is taken (the agent's own: calculator, literature, code)",
            ),
            (
                &format!("experts:\n{UNITS}{UNITS}"),
                "experts[1]: `units` is taken",
            ),
            (
                &format!("experts:\n{UNITS}modle: x\n"),
                "unknown field `modle`",
            ),
            (
                "experts:\n  - kind: unit\n",
                "experts[0]: unknown kind `unit`",
            ),
        ] {
            let err = load(text).err().unwrap();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
