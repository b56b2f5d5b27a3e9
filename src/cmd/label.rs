//! `miracle label`: the labelling side of RLHF. `sample` runs the agent K times per
//! request of a suite and writes the distinct responses as candidates; `rank` ranks
//! candidates with the programmatic ranker (rules, optional noise) into comparisons.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use miracle_router::rlhf::comparison::{Prompt, now_utc, read_candidates, read_prompts};
use miracle_router::rlhf::ranker::{Rules, rank};
use miracle_router::rlhf::sample::{Sampling, sample};

use super::ask::{AgentOptions, with_agent};

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
            &self.options,
            out,
        )
    }
}

/// Samples candidates for every `every`-th request of `suite` into `to`.
pub(super) fn sample_file(
    suite: &Path,
    to: &Path,
    sampling: &Sampling,
    every: usize,
    options: &AgentOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let prompts = read_prompts(suite)?;
    let picked: Vec<(usize, &Prompt)> = prompts.iter().enumerate().step_by(every.max(1)).collect();
    let mut lines = String::new();
    let (mut responses, mut comparable) = (0, 0);
    let counter = super::progress::Counter::new(picked.len(), "requests sampled");
    with_agent(options, async |agent| {
        counter.show(0);
        for (n, (index, prompt)) in picked.iter().enumerate() {
            let candidates = sample(agent, prompt, sampling, *index as u64).await?;
            responses += candidates.responses.len();
            comparable += usize::from(candidates.responses.len() >= 2);
            lines.push_str(&serde_json::to_string(&candidates)?);
            lines.push('\n');
            counter.show(n + 1);
        }
        counter.finish();
        Ok(())
    })?;
    super::write_file(to, lines.as_bytes())?;
    writeln!(
        out,
        "{} requests, {responses} distinct responses; {comparable} requests have two or more to compare; written to {}",
        picked.len(),
        to.display()
    )?;
    Ok(())
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

/// Ranks the candidates in `from` with `rules` into the comparisons file `to`.
pub(super) fn rank_file(
    from: &Path,
    to: &Path,
    rules: &Rules,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let candidates = read_candidates(from)?;
    let at = now_utc();
    let mut lines = String::new();
    let (mut ranked, mut pairs) = (0, 0);
    for (i, c) in candidates.iter().enumerate() {
        if let Some(comparison) = rank(c, rules, i as u64, &at) {
            let k = comparison.ranking.len();
            pairs += k * (k - 1) / 2;
            ranked += 1;
            lines.push_str(&serde_json::to_string(&comparison)?);
            lines.push('\n');
        }
    }
    anyhow::ensure!(
        ranked > 0,
        "{}: no request has two responses the rules can tell apart; sample more (--k, --max-draws, --temperature)",
        from.display()
    );
    super::write_file(to, lines.as_bytes())?;
    writeln!(
        out,
        "ranked {ranked} of {} requests ({pairs} pairs; the rest had no two responses the rules tell apart) as {:?}; written to {}",
        candidates.len(),
        rules.name(),
        to.display()
    )?;
    Ok(())
}
