//! The model threads: each holds its own copy of the model (4.2 M parameters by default, 17
//! MB) and runs one request at a time — an agent request or a workflow — on a runtime of
//! its own. Requests wait in a bounded queue; when it is full they are refused at once (503)
//! rather than left to time out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use burn::prelude::Device;
use miracle_core::gpt::Decoding;
use miracle_core::gpt::model_dir::LoadedModel;
use miracle_core::tokenizer::Tokenizer;
use miracle_experts::search::Markup;
use miracle_experts::{Kinds, Registry};
use miracle_router::agent::{Agent, StepWatcher, Trace};
use miracle_router::plugins::Plugins;
use miracle_router::protocol::Exchange;
use miracle_router::setup::AgentOn;
use miracle_router::workflow::{Host, LanguageModel, Run, Values, Workflow};
use tokio::sync::oneshot;

use crate::cmd::model;

pub enum Work {
    Ask {
        request: String,
        history: Vec<Exchange>,
        system: Option<String>,
        options: AskOptions,
    },
    Workflow {
        name: String,
        inputs: Values,
    },
}

/// How one request is decoded, where a client chooses (the OpenAI endpoint's `max_tokens`,
/// `temperature`, `top_p`, `seed`); the service's own settings otherwise.
#[derive(Clone, Default)]
pub struct AskOptions {
    /// At most this many generated tokens in the turn (never more than the agent's bound).
    pub max_tokens: Option<usize>,
    /// Greedy when absent.
    pub decoding: Option<Decoding>,
    /// Told of each step as it completes (a stream shows the calls while the agent works).
    pub progress: Option<StepWatcher>,
    /// How the answer's citations write italics; the service's `markup` when absent.
    pub markup: Option<Markup>,
}

pub enum Done {
    Trace(Trace),
    Run(Run),
}

pub enum WorkError {
    /// Every model thread is busy and the queue is full.
    Busy,
    /// The request ran and failed on what it asked for (a workflow step refused its input).
    Rejected(String),
    /// The service could not run it.
    Internal(String),
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Done, WorkError>>,
}

pub struct Agents {
    queue: SyncSender<Job>,
    pub workflows: Arc<BTreeMap<String, Workflow>>,
    /// The model's tokenizer, for counting tokens in replies.
    pub tokenizer: Tokenizer,
}

impl Agents {
    /// Loads the workflows (every problem reported), then starts `workers` model threads.
    pub fn start(
        agent: &AgentOn,
        workflows_dir: Option<&Path>,
        workers: usize,
        queue: usize,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let device = Device::flex();
        // The plugin file is read once; every thread calls the same experts.
        let (plugins, model_dir) = agent.plugins()?;
        miracle_router::slots::refuse(model_dir.as_deref(), "serve").map_err(anyhow::Error::msg)?;
        let served = Arc::new(Served {
            plugins,
            model_dir,
            markup: agent.markup,
        });
        let loaded = model::load(served.model_dir.as_deref(), &device)?;
        let workflows = Arc::new(match workflows_dir {
            Some(dir) => load_workflows(dir, &served.host_experts(), &loaded, &device)?,
            None => BTreeMap::new(),
        });
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let (rx, workflows, served) = (rx.clone(), workflows.clone(), served.clone());
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            std::thread::Builder::new()
                .name(format!("model-{i}"))
                .spawn(move || worker(&served, rx, workflows, timeout, ready_tx))
                .context("cannot start a model thread")?;
            ready_rx
                .recv()
                .context("a model thread stopped while starting")??;
        }
        Ok(Agents {
            queue: tx,
            workflows,
            tokenizer: loaded.tokenizer,
        })
    }

    pub async fn submit(&self, work: Work) -> Result<Done, WorkError> {
        self.enqueue(work)?.await
    }

    /// Queues `work` at once (refused at once when the queue is full) and returns what
    /// waits for it to be done.
    pub fn enqueue(
        &self,
        work: Work,
    ) -> Result<impl Future<Output = Result<Done, WorkError>> + Send + use<>, WorkError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { work, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(WorkError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(WorkError::Internal("the model threads have stopped".into()));
            }
        }
        Ok(async move {
            answer
                .await
                .unwrap_or_else(|_| Err(WorkError::Internal("the model thread stopped".into())))
        })
    }
}

/// What every model thread serves with: the plugin file's experts (read once), the model
/// folder (`None`: the default model), how answers write italics.
struct Served {
    plugins: Option<Plugins>,
    model_dir: Option<PathBuf>,
    markup: Markup,
}

impl Served {
    /// The agent's experts, with the plugins'.
    fn registry(&self) -> Registry {
        Plugins::extend(miracle_router::agent_registry(), self.plugins.as_ref())
    }

    /// The experts workflows may name: the host's, and the plugins'.
    fn host_experts(&self) -> Registry {
        Plugins::extend(miracle_router::workflow_registry(), self.plugins.as_ref())
    }
}

fn load_workflows(
    dir: &Path,
    experts: &Registry,
    loaded: &LoadedModel,
    device: &Device,
) -> anyhow::Result<BTreeMap<String, Workflow>> {
    let kinds = Kinds::builtin();
    let host = host(experts, &kinds, loaded, device);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("workflows: cannot read the folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut workflows = BTreeMap::new();
    let mut problems = Vec::new();
    for file in files {
        match Workflow::load(&file, &host) {
            Ok(flow) => {
                if workflows.contains_key(&flow.name) {
                    problems.push(format!(
                        "{}: a second workflow named `{}`",
                        file.display(),
                        flow.name
                    ));
                } else {
                    workflows.insert(flow.name.clone(), flow);
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        bail!("workflows in {}:\n{}", dir.display(), problems.join("\n"));
    }
    Ok(workflows)
}

fn host<'a>(
    experts: &'a miracle_experts::Registry,
    kinds: &'a Kinds,
    loaded: &'a LoadedModel,
    device: &Device,
) -> Host<'a> {
    Host {
        experts,
        kinds,
        model: Some(LanguageModel::new(loaded, device)),
    }
}

fn worker(
    served: &Served,
    rx: Arc<Mutex<Receiver<Job>>>,
    workflows: Arc<BTreeMap<String, Workflow>>,
    timeout: Duration,
    ready: std::sync::mpsc::Sender<anyhow::Result<()>>,
) {
    let started = (|| -> anyhow::Result<_> {
        let device = Device::flex();
        let loaded = model::load(served.model_dir.as_deref(), &device)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a model thread's runtime")?;
        Ok((device, loaded, runtime))
    })();
    let (device, loaded, runtime) = match started {
        Ok(parts) => parts,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let (registry, experts) = (served.registry(), served.host_experts());
    let kinds = Kinds::builtin();
    let host = host(&experts, &kinds, &loaded, &device);
    // One agent per thread, built once (it indexes the vocabulary for constrained decoding).
    let made = Agent::new(
        &loaded.model,
        &loaded.config,
        &device,
        &loaded.tokenizer,
        &registry,
    );
    let mut agent = match made {
        Ok(agent) => agent,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    agent.limits.timeout = timeout;
    let max_tokens = agent.limits.max_tokens;
    let _ = ready.send(Ok(()));
    loop {
        // One thread waits on the queue at a time; the others wait for the lock.
        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return, // the service is shutting down
        };
        let done = match job.work {
            Work::Ask {
                request,
                history,
                system,
                options,
            } => {
                agent.system = system;
                agent.limits.max_tokens =
                    options.max_tokens.map_or(max_tokens, |m| m.min(max_tokens));
                agent.decoding = options.decoding.unwrap_or(Decoding::Greedy);
                agent.on_step = options.progress;
                agent.markup = options.markup.unwrap_or(served.markup);
                let run = runtime.block_on(agent.run(&request, &history));
                agent.on_step = None;
                run.map(Done::Trace)
                    .map_err(|e| WorkError::Internal(e.to_string()))
            }
            Work::Workflow { name, inputs } => match workflows.get(&name) {
                Some(flow) => runtime
                    .block_on(flow.run(&inputs, &host))
                    .map(Done::Run)
                    .map_err(|e| WorkError::Rejected(e.to_string())),
                None => Err(WorkError::Rejected(format!("no workflow `{name}`"))),
            },
        };
        let _ = job.reply.send(done);
    }
}
