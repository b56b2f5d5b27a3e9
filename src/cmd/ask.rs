//! `miracle ask "…"` and `miracle chat`: the agent with the default model (or `--model`)
//! and the built-in experts. `--trace` shows each step, `--json` prints the whole trace.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Args;
use miracle_experts::search::Markup;
use miracle_router::agent::{Agent, Trace};
use miracle_router::protocol::{Exchange, Step};

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
    /// A plugin file (YAML: `experts:`, and the `model:` tuned to call them by `miracle
    /// tune`): its experts join the agent's, and its model answers unless --model is given.
    #[arg(long, value_name = "FILE")]
    experts: Option<PathBuf>,
    /// How the APA citations an answer lists write italics: plain, markdown or html.
    #[arg(long, value_enum, default_value_t = MarkupArg::Plain)]
    markup: MarkupArg,
}

/// [`Markup`] as a command line names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum MarkupArg {
    Plain,
    Markdown,
    Html,
}

impl From<MarkupArg> for Markup {
    fn from(arg: MarkupArg) -> Markup {
        match arg {
            MarkupArg::Plain => Markup::Plain,
            MarkupArg::Markdown => Markup::Markdown,
            MarkupArg::Html => Markup::Html,
        }
    }
}

impl AgentOptions {
    /// The same agent, as the training pipeline builds it (to sample from).
    pub(super) fn agent(&self) -> miracle_router::setup::AgentOn {
        miracle_router::setup::AgentOn {
            model: self.model.clone(),
            max_calls: self.max_calls,
            grounded: !self.ungrounded,
            plugins: self.experts.clone(),
            markup: self.markup.into(),
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
    options.agent().run(f)
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

/// What a chat line asks of the program rather than of the model.
#[derive(Debug, PartialEq, Eq)]
enum ChatCommand<'a> {
    Exit,
    /// Forget the conversation so far.
    Reset,
    Help,
    /// A `/word` the chat does not know: said so, never sent to the model.
    Unknown(&'a str),
}

impl<'a> ChatCommand<'a> {
    fn read(line: &'a str) -> Option<ChatCommand<'a>> {
        let word = line
            .strip_prefix('/')?
            .split_whitespace()
            .next()
            .unwrap_or("");
        Some(match word {
            "exit" | "quit" => ChatCommand::Exit,
            "reset" | "new" => ChatCommand::Reset,
            "help" | "?" => ChatCommand::Help,
            _ => ChatCommand::Unknown(line),
        })
    }
}

const CHAT_HELP: &str = "One request per line, in Chinese or English; a request may refer to the ones before it.\n\
  /reset  forget the conversation and start a new one\n\
  /help   this list\n\
  /exit   stop (end of input stops too)";

impl ChatArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        with_agent(&self.options, async |agent| {
            let mut history: Vec<Exchange> = Vec::new();
            let stdin = std::io::stdin();
            writeln!(
                out,
                "Miracle chat: one request per line; /help for commands, /exit or end of input to stop."
            )?;
            loop {
                write!(out, "> ")?;
                out.flush()?;
                let mut line = String::new();
                if stdin.lock().read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let request = line.trim();
                match ChatCommand::read(request) {
                    Some(ChatCommand::Exit) => return Ok(()),
                    Some(ChatCommand::Reset) => {
                        history.clear();
                        writeln!(out, "(a new conversation)")?;
                        continue;
                    }
                    Some(ChatCommand::Help) => {
                        writeln!(out, "{CHAT_HELP}")?;
                        continue;
                    }
                    Some(ChatCommand::Unknown(command)) => {
                        writeln!(out, "unknown command {command:?}: /help lists the commands")?;
                        continue;
                    }
                    None if request.is_empty() => continue,
                    None => {}
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
        write_steps(trace, "  ", out)?;
    }
    writeln!(out, "{}", trace.answer)?;
    Ok(())
}

/// The agent's steps, one per line under `indent`: what it thought, each call with its
/// result and time, and what the run cost. `ask --trace`, `chat --trace` and the `ask:`
/// steps of `run --trace` show a run alike.
pub(super) fn write_steps(trace: &Trace, indent: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let go_on = format!("\n{indent}        ");
    for s in &trace.steps {
        match &s.step {
            Step::Think { text } => writeln!(out, "{indent}think   {text}")?,
            Step::Call { expert, input } => writeln!(
                out,
                "{indent}call    {expert}: {}{}",
                input.replace('\n', &go_on),
                if s.pressed {
                    "   (pressed: a number of the request was unused)"
                } else {
                    ""
                }
            )?,
            Step::Result { text } => writeln!(
                out,
                "{indent}result  ({:.1} ms) {}",
                s.ms,
                text.replace('\n', &go_on)
            )?,
            Step::Answer { .. } => {}
        }
    }
    writeln!(
        out,
        "{indent}({} tokens generated, {:.0} ms)",
        trace.tokens_generated, trace.ms
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_commands_are_read_by_the_program() {
        assert_eq!(ChatCommand::read("/exit"), Some(ChatCommand::Exit));
        assert_eq!(ChatCommand::read("/reset"), Some(ChatCommand::Reset));
        assert_eq!(ChatCommand::read("/help"), Some(ChatCommand::Help));
        assert_eq!(
            ChatCommand::read("/frobnicate"),
            Some(ChatCommand::Unknown("/frobnicate"))
        );
        assert_eq!(ChatCommand::read("What is 1/2?"), None);
        assert_eq!(ChatCommand::read("1/2 of 10"), None);
    }
}
