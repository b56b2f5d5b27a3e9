//! `miracle ask "…"` and `miracle chat`: the agent with the default model (or `--model`)
//! and the built-in experts. `--trace` shows each step, `--json` prints the whole trace.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;
use clap::Args;
use miracle_router::agent::{Agent, Trace};
use miracle_router::protocol::{Exchange, Step};

use super::model;

#[derive(Debug, Args)]
pub struct AgentOptions {
    /// A model directory; the embedded default model when absent.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Expert calls allowed in one answer.
    #[arg(long, default_value_t = 8)]
    max_calls: usize,
    /// Let the model write any number in answers and calculator expressions (by default
    /// they may hold only numbers of the conversation: the request's and the experts').
    #[arg(long)]
    pub(super) ungrounded: bool,
}

impl AgentOptions {
    /// The agent as users get it (grounded, 8 calls), on the model in `dir`.
    pub(super) fn on_model(dir: &Path) -> Self {
        AgentOptions {
            model: Some(dir.to_path_buf()),
            max_calls: 8,
            ungrounded: false,
        }
    }
}

/// How `ask` and `chat` show a run.
#[derive(Debug, Args)]
pub struct ShowOptions {
    /// Show the chain of thought: every step, each expert call with its result and time.
    #[arg(long)]
    trace: bool,
    /// Print the trace as JSON (one object per request).
    #[arg(long, conflicts_with = "trace")]
    json: bool,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The request, in Chinese or English.
    request: String,
    #[command(flatten)]
    options: AgentOptions,
    #[command(flatten)]
    show: ShowOptions,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(flatten)]
    options: AgentOptions,
    #[command(flatten)]
    show: ShowOptions,
}

/// Runs `f` with an agent built from `options` and a runtime for its expert calls.
pub(super) fn with_agent(
    options: &AgentOptions,
    f: impl AsyncFnOnce(&mut Agent<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let device = Device::flex();
    let loaded = model::load(options.model.as_deref(), &device)?;
    let registry = miracle_router::agent_registry();
    let mut agent = Agent::new(
        &loaded.model,
        &loaded.config,
        &device,
        &loaded.tokenizer,
        &registry,
    )?;
    agent.limits.max_calls = options.max_calls;
    agent.grounded = !options.ungrounded;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime for expert calls")?;
    runtime.block_on(f(&mut agent))
}

impl AskArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        if self.request.trim().is_empty() {
            anyhow::bail!(
                "the request is empty: write it in quotes, e.g. miracle ask \"What is 17 * 23?\""
            );
        }
        with_agent(&self.options, async |agent| {
            let trace = agent.run(&self.request, &[]).await?;
            show(&trace, &self.show, out)
        })
    }
}

impl ChatArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        with_agent(&self.options, async |agent| {
            let mut history: Vec<Exchange> = Vec::new();
            let stdin = std::io::stdin();
            writeln!(
                out,
                "Miracle chat: one request per line; /exit or end of input to stop."
            )?;
            loop {
                write!(out, "> ")?;
                out.flush()?;
                let mut line = String::new();
                if stdin.lock().read_line(&mut line)? == 0 || line.trim() == "/exit" {
                    return Ok(());
                }
                let request = line.trim();
                if request.is_empty() {
                    continue;
                }
                let trace = agent.run(request, &history).await?;
                show(&trace, &self.show, out)?;
                history.push(Exchange {
                    user: request.to_string(),
                    steps: trace.steps.iter().map(|s| s.step.clone()).collect(),
                });
            }
        })
    }
}

fn show(trace: &Trace, options: &ShowOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if options.json {
        writeln!(out, "{}", serde_json::to_string(trace)?)?;
        return Ok(());
    }
    if options.trace {
        for s in &trace.steps {
            match &s.step {
                Step::Think { text } => writeln!(out, "  think   {text}")?,
                Step::Call { expert, input } => writeln!(
                    out,
                    "  call    {expert}: {}{}",
                    input.replace('\n', "\n          "),
                    if s.pressed {
                        "   (pressed: a number of the request was unused)"
                    } else {
                        ""
                    }
                )?,
                Step::Result { text } => writeln!(
                    out,
                    "  result  ({:.1} ms) {}",
                    s.ms,
                    text.replace('\n', "\n          ")
                )?,
                Step::Answer { .. } => {}
            }
        }
        writeln!(
            out,
            "  ({} tokens generated, {:.0} ms)",
            trace.tokens_generated, trace.ms
        )?;
    }
    writeln!(out, "{}", trace.answer)?;
    Ok(())
}
