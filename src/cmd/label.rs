//! `miracle label`: the labelling side of RLHF. `sample` runs the agent K times per
//! request of a suite and writes the distinct responses as candidates; `rank` ranks
//! candidates with the programmatic ranker (rules, optional noise) into comparisons.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use miracle_recipe::rlhf::{rank_file, sample_file};
use miracle_router::rlhf::ranker::Rules;
use miracle_router::rlhf::sample::Sampling;

use super::ask::AgentOptions;
use super::progress::Console;

#[derive(Debug, Subcommand)]
pub enum LabelCommand {
    /// Sample K distinct responses per request of a suite (JSONL: id, query, expect…).
    Sample(SampleArgs),
    /// Rank candidates with the programmatic ranker, writing comparisons.
    Rank(RankArgs),
    /// The labelling page: people rank candidates in a browser; rankings are appended.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Candidates from `miracle label sample`.
    candidates: PathBuf,
    /// The comparisons file rankings are appended to (created if absent; what it holds
    /// already is not handed out again).
    #[arg(long)]
    out: PathBuf,
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: std::net::SocketAddr,
    /// A labeller who may rank (repeat for each): each gets a link with a secret token, and
    /// their rankings are recorded under this name.
    #[arg(long = "labeller", value_name = "NAME", default_value = "staff")]
    labellers: Vec<String>,
    /// Another host name the desk is reached by (e.g. the machine's name on your network);
    /// requests naming any other host are refused.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The requests: a suite in the format of ../shared/eval/dev.jsonl.
    suite: PathBuf,
    /// Where the candidates go (JSONL; replaced).
    #[arg(long)]
    out: PathBuf,
    /// Distinct responses wanted per request.
    #[arg(long, default_value_t = 4)]
    k: usize,
    /// Draws allowed per request (a confident model repeats itself).
    #[arg(long, default_value_t = 8)]
    max_draws: usize,
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sample for every n-th request only.
    #[arg(long, default_value_t = 1)]
    every: usize,
    #[command(flatten)]
    options: AgentOptions,
}

#[derive(Debug, Args)]
pub struct RankArgs {
    /// Candidates from `miracle label sample`.
    candidates: PathBuf,
    /// Where the comparisons go (JSONL; replaced).
    #[arg(long)]
    out: PathBuf,
    /// The fraction of comparisons whose ranking is reversed (every pair flipped), as
    /// disagreeing labellers would.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl LabelCommand {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self {
            LabelCommand::Sample(args) => args.run(out),
            LabelCommand::Rank(args) => args.run(out),
            LabelCommand::Serve(args) => crate::label::serve(
                &args.candidates,
                args.out.clone(),
                args.listen,
                &crate::label::Access {
                    labellers: args.labellers.clone(),
                    hosts: args.allow_hosts.clone(),
                },
                |addr, left, total, links| {
                    let _ = writeln!(
                        out,
                        "labelling desk on http://{addr}/ — {left} of {total} requests to rank; rankings go to {}",
                        args.out.display()
                    );
                    let _ = writeln!(
                        out,
                        "each labeller opens their own link (it holds their token; keep it to them):"
                    );
                    for link in links {
                        let _ = writeln!(out, "  {}: {}", link.labeller, link.url);
                    }
                    let _ = out.flush();
                },
            ),
        }
    }
}

impl SampleArgs {
    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.k >= 2 && self.max_draws >= self.k,
            "--k must be at least 2 and --max-draws at least --k"
        );
        anyhow::ensure!(
            self.temperature > 0.0 && self.temperature.is_finite(),
            "--temperature must be a positive number"
        );
        let sampling = Sampling {
            k: self.k,
            max_draws: self.max_draws,
            temperature: self.temperature,
            seed: self.seed,
        };
        sample_file(
            &self.suite,
            &self.out,
            &sampling,
            self.every,
            &self.options.agent(),
            &mut Console::new(out),
        )
    }
}

impl RankArgs {
    fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.noise),
            "--noise is a fraction, from 0 to 1"
        );
        let rules = Rules {
            noise: self.noise,
            seed: self.seed,
        };
        rank_file(&self.candidates, &self.out, &rules, out)
    }
}
