//! `miracle run FLOW.yaml --input key=value …`: check a workflow, run it, print its
//! outputs (`--json` for machines, `--trace` for every step).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use burn::prelude::Device;
use clap::Args;
use miracle_experts::Kinds;
use miracle_router::plugins::Plugins;
use miracle_router::workflow::{Host, LanguageModel, Run, StepStatus, Workflow, template};

use super::model;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow file (YAML; see docs/WORKFLOWS.md).
    flow: PathBuf,
    /// An input, as key=value (repeat for each); lists as a,b,c or a JSON array.
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE")]
    inputs: Vec<String>,
    /// Print the whole run as JSON: outputs and every step.
    #[arg(long)]
    json: bool,
    /// Show every step: what it was given, what it returned, how long it took.
    #[arg(long, conflicts_with = "json")]
    trace: bool,
    /// Only check the workflow (every problem, as file:line:column), run nothing.
    #[arg(long, conflicts_with_all = ["json", "trace"])]
    check: bool,
    /// A model directory for ask: and generate: steps; the embedded default model when absent.
    #[arg(long)]
    model: Option<PathBuf>,
    /// ask: steps without grounded decoding (see `miracle ask --ungrounded`).
    #[arg(long)]
    ungrounded: bool,
    /// A plugin file (docs/PLUGINS.md): its experts are the host's too (a workflow may list
    /// them by name), and its tuned model runs ask: steps unless --model is given.
    #[arg(long, value_name = "FILE")]
    experts: Option<PathBuf>,
}

impl RunArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let given = self.given()?;
        let device = Device::flex();
        let agent = miracle_router::setup::AgentOn {
            grounded: !self.ungrounded,
            plugins: self.experts.clone(),
            ..miracle_router::setup::AgentOn::new(self.model.clone())
        };
        let (plugins, model_dir) = agent.plugins()?;
        miracle_router::slots::refuse(model_dir.as_deref(), "run").map_err(anyhow::Error::msg)?;
        let loaded = model::load(model_dir.as_deref(), &device)?;
        let experts = Plugins::extend(miracle_router::workflow_registry(), plugins.as_ref());
        let kinds = Kinds::builtin();
        let host = Host {
            experts: &experts,
            kinds: &kinds,
            model: Some(LanguageModel {
                grounded: !self.ungrounded,
                ..LanguageModel::new(&loaded, &device)
            }),
        };
        let workflow = Workflow::load(&self.flow, &host).map_err(|e| {
            let n = e.problems.len();
            anyhow::anyhow!(
                "{e}\n{n} problem{} in the workflow; nothing was run",
                if n == 1 { "" } else { "s" }
            )
        })?;
        if self.check {
            writeln!(
                out,
                "{}: workflow `{}` is valid ({} steps; experts: {})",
                self.flow.display(),
                workflow.name,
                workflow.steps.len(),
                workflow.experts().join(", ")
            )?;
            return Ok(());
        }
        let inputs = workflow
            .inputs_from_text(&given)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime for expert calls")?;
        let run = runtime.block_on(workflow.run(&inputs, &host))?;
        if self.json {
            serde_json::to_writer_pretty(&mut *out, &run)?;
            writeln!(out)?;
            return Ok(());
        }
        if self.trace {
            write_trace(&run, out)?;
        }
        write_outputs(&run, out)
    }

    fn given(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.inputs
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
                _ => bail!(
                    "--input {kv:?}: write key=value, e.g. --input topic=\"digital libraries\""
                ),
            })
            .collect()
    }
}

fn write_outputs(run: &Run, out: &mut dyn Write) -> anyhow::Result<()> {
    for (name, value) in &run.outputs {
        let text = match value {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| format!("\n  - {}", template::text(i)))
                .collect::<String>(),
            other => format!(" {}", template::text(other)),
        };
        writeln!(out, "{name}:{text}")?;
    }
    Ok(())
}

fn write_trace(run: &Run, out: &mut dyn Write) -> anyhow::Result<()> {
    for step in &run.steps {
        match step.status {
            StepStatus::Skipped => {
                writeln!(out, "  step {}: skipped (when: did not hold)", step.id)?
            }
            StepStatus::Ran => {
                writeln!(out, "  step {} ({:.1} ms)", step.id, step.ms)?;
                for call in &step.calls {
                    let retried = if call.attempts > 1 {
                        format!(", {} attempts", call.attempts)
                    } else {
                        String::new()
                    };
                    writeln!(out, "    in   {}", one_line(&call.input))?;
                    // An `ask:` step's agent: its thoughts and calls, as `ask --trace`.
                    if let Some(trace) = &call.trace {
                        super::ask::write_steps(trace, "         ", out)?;
                    }
                    writeln!(
                        out,
                        "    out  {} ({:.1} ms{retried})",
                        one_line(&call.output),
                        call.ms
                    )?;
                }
            }
        }
    }
    writeln!(out, "  ({:.1} ms in all)", run.ms)?;
    Ok(())
}

fn one_line(text: &str) -> String {
    let flat = text.replace('\n', " ⏎ ");
    match flat.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &flat[..at]),
        None => flat,
    }
}
