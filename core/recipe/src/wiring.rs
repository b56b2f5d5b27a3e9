//! Where a training stage reads and writes. A stage config names its paths relative to
//! itself; the command line (`--out`) or a recipe may set any of them instead. So the stages
//! of a recipe pass their outputs on (no path is typed twice), and nothing is written where
//! the user did not say: a run goes to `--out`, else the config's own `out:`, else
//! `runs/<config name>` in the current directory. None of the shipped configs names an
//! `out:`, so running one never writes into the checkout's model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::Device;

/// Where a stage trains and a benchmark runs: burn-flex on the CPU, or burn-wgpu on the
/// default GPU (a build with `--features wgpu`). The model code is the same on both.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Backend {
    #[default]
    Flex,
    Wgpu,
}

impl Backend {
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => Err(anyhow::anyhow!(
                "--device wgpu: this miracle was built without GPU support; rebuild with \
                 `cargo build --release --features wgpu`, or train with --device flex"
            )),
        }
    }
}

/// The paths a caller sets over a stage config's own, and the device the stage trains on.
#[derive(Debug, Default, Clone)]
pub struct Wiring {
    out: Option<PathBuf>,
    inputs: BTreeMap<&'static str, PathBuf>,
    backend: Backend,
}

impl Wiring {
    /// Output to `out` (a `--out` option, when given).
    pub fn out(out: Option<PathBuf>) -> Self {
        Wiring {
            out,
            inputs: BTreeMap::new(),
            backend: Backend::Flex,
        }
    }

    /// Trains on `backend` (a `--device` option).
    pub fn on(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The device the stage trains on.
    pub fn device(&self) -> anyhow::Result<Device> {
        self.backend.device()
    }

    /// The config's `name` (init, demos, comparisons…) read from `path` instead.
    pub fn with(mut self, name: &'static str, path: impl Into<PathBuf>) -> Self {
        self.inputs.insert(name, path.into());
        self
    }

    /// The path of input `name`: wired, or the config's own (relative to the config).
    pub fn input(&self, name: &str, config: &Path, own: Option<&PathBuf>) -> Option<PathBuf> {
        self.inputs
            .get(name)
            .cloned()
            .or_else(|| own.map(|p| base(config).join(p)))
    }

    /// Like [`Wiring::input`], for an input the stage cannot do without.
    pub fn required(
        &self,
        name: &str,
        config: &Path,
        own: Option<&PathBuf>,
    ) -> anyhow::Result<PathBuf> {
        self.input(name, config, own).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: `{name}:` is missing; name the file or folder it reads",
                config.display()
            )
        })
    }

    /// The stage's output folder.
    pub fn out_dir(&self, config: &Path, own: Option<&PathBuf>) -> PathBuf {
        if let Some(out) = &self.out {
            return out.clone();
        }
        match own {
            Some(own) => base(config).join(own),
            None => default_out(config),
        }
    }
}

/// `runs/<file name without extension>` in the current directory.
pub fn default_out(config: &Path) -> PathBuf {
    let name = config.file_stem().and_then(|s| s.to_str()).unwrap_or("run");
    Path::new("runs").join(name)
}

fn base(config: &Path) -> &Path {
    config.parent().unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wired_paths_win_then_the_configs_then_runs() {
        let config = Path::new("corpora/recipes/default-sft.yaml");
        let own = PathBuf::from("../../x");
        let none = Wiring::default();
        assert_eq!(none.out_dir(config, None), Path::new("runs/default-sft"));
        assert_eq!(
            none.out_dir(config, Some(&own)),
            Path::new("corpora/recipes/../../x")
        );
        let wired = Wiring::out(Some("elsewhere".into())).with("init", "m");
        assert_eq!(wired.out_dir(config, Some(&own)), Path::new("elsewhere"));
        assert_eq!(wired.input("init", config, Some(&own)), Some("m".into()));
        assert!(wired.required("demos", config, None).is_err());
    }
}
