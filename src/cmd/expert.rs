//! `miracle expert NAME INPUT`: call one expert directly and print its observation;
//! `miracle expert --list` shows the experts with their input formats and demonstrations.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use miracle_experts::{Context, Kinds, Registry};

#[derive(Debug, Args)]
pub struct ExpertArgs {
    /// The expert to call (see --list).
    #[arg(required_unless_present_any = ["list", "check_sandbox"])]
    name: Option<String>,
    /// Its input, e.g. "(3 + 4) * 2" for the calculator; `-` reads it from stdin.
    #[arg(required_unless_present_any = ["list", "check_sandbox"])]
    input: Option<String>,
    /// List the experts, their input formats and demonstrations.
    #[arg(long, conflicts_with_all = ["name", "input"])]
    list: bool,
    /// Start a code-executor worker and show which sandbox layers this kernel enforces
    /// and what each forbidden attempt (files, sockets, processes, signals) meets.
    #[arg(long, conflicts_with_all = ["name", "input", "list"])]
    check_sandbox: bool,
    /// A registry config (YAML, `experts:` with one `kind:` entry each); the built-in
    /// experts when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seconds the expert gets before the call is abandoned.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
}

impl ExpertArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let registry = self.registry()?;
        if self.list {
            return list(&registry, out);
        }
        if self.check_sandbox {
            return check_sandbox(out);
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 86_400.0) {
            bail!(
                "--timeout: expected seconds between 0 and 86400, got {}",
                self.timeout
            );
        }
        let (Some(name), Some(input)) = (&self.name, &self.input) else {
            bail!("name an expert and its input, e.g. `miracle expert calculator \"2 + 2\"`");
        };
        let input = if input == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the input from stdin")?;
            text
        } else {
            input.clone()
        };
        let ctx = Context::with_timeout(Duration::from_secs_f64(self.timeout));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let seen = runtime.block_on(registry.call(name, &input, &ctx))?;
        writeln!(out, "{seen}")?;
        Ok(())
    }

    fn registry(&self) -> anyhow::Result<Registry> {
        let Some(path) = &self.config else {
            return Ok(Registry::builtin());
        };
        let text = miracle_experts::yaml::read_file(path, miracle_experts::yaml::MAX_FILE_BYTES)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Registry::from_yaml(&text, &Kinds::builtin())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

fn check_sandbox(out: &mut dyn Write) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (report, attempts) = runtime.block_on(miracle_experts::Code::new().self_test())?;
    let on = |yes: bool| if yes { "on" } else { "OFF" };
    writeln!(out, "rlimits:  {}", on(report.rlimits))?;
    writeln!(out, "landlock: {:?}", report.landlock)?;
    writeln!(out, "seccomp:  {}", on(report.seccomp))?;
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    for (attempt, outcome) in &attempts {
        writeln!(out, "{attempt}: {outcome}")?;
    }
    Ok(())
}

fn list(registry: &Registry, out: &mut dyn Write) -> anyhow::Result<()> {
    for expert in registry.experts() {
        let format = expert.input_format();
        writeln!(out, "{}: {}", expert.name(), expert.description())?;
        writeln!(
            out,
            "  input: {} (at most {} bytes)",
            format.summary, format.max_bytes
        )?;
        for d in expert.demonstrations() {
            writeln!(out, "  e.g. {} → {} → {}", d.request, d.input, d.result)?;
        }
    }
    Ok(())
}
