//! `miracle bench`: throughput beside the PyTorch reference (`shared/bench/torch_gpt_reference.py`),
//! one JSON object per run, with the reference's fields plus peak resident memory.

use std::io::Write;

use anyhow::{Context as _, anyhow};
use burn::prelude::Device;
use clap::{Args, Subcommand};
use miracle_core::bench;

use miracle_recipe::Backend;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Where the GPT benchmarks run: burn-flex on the CPU, or burn-wgpu on the default GPU
    /// (needs a build with `--features wgpu`).
    #[arg(long, global = true, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// The training kernels: Miracle's fused ones (attention, cross-entropy, GELU, AdamW) on
    /// the CPU, or burn's composed operations, to measure one against the other.
    #[arg(long, global = true, value_enum, default_value_t = Kernels::Fused)]
    kernels: Kernels,
    #[command(subcommand)]
    what: BenchCommand,
}

impl BenchArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        miracle_core::kernels::set_enabled(self.kernels == Kernels::Fused);
        let json = self.what.run(&self.device.device()?)?;
        writeln!(out, "{json}")?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Kernels {
    Fused,
    Composed,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training tokens/s on random batches (AdamW, global clipping, as the reference).
    Train {
        #[command(flatten)]
        which: WhichConfig,
        /// Timed steps (the median is reported).
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Untimed steps first.
        #[arg(long, default_value_t = 3)]
        warmup: usize,
    },
    /// f32 matrix product GFLOP/s (the reference's `matmul`).
    Matmul {
        #[arg(long, default_value_t = 2048)]
        n: usize,
        #[arg(long, default_value_t = 10)]
        reps: usize,
    },
    /// Calculator evaluations/s on one thread, over simple expressions (parse, check,
    /// evaluate, format).
    Calculator {
        /// Seconds per round; the median of the rounds is reported.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Code executor round trip (take a worker, run `print(1+1)`, read the reply) in ms:
    /// warm pool, back-to-back calls, a fresh worker per call; beside the peer, spawning
    /// `python3 -c 'print(1+1)'`.
    Code {
        /// Calls per measurement; medians are reported.
        #[arg(long, default_value_t = 200)]
        calls: usize,
        /// The peer's interpreter (a real binary: a pyenv shim is a shell script).
        #[arg(long, default_value = "python3")]
        python: std::path::PathBuf,
    },
    /// Literature search queries/s on one thread (query analysis + top-k retrieval of ids and
    /// scores, as batch runs use it), as `shared/bench/bm25_reference.py` times its engines; plus index build time.
    Search {
        /// BEIR corpus to index (JSONL); the index is built in a temporary folder and timed.
        #[arg(long)]
        corpus: std::path::PathBuf,
        /// BEIR queries (JSONL, `_id` and `text`).
        #[arg(long)]
        queries: std::path::PathBuf,
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Timed passes over all queries; the best is reported (as the reference does).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Also train the index's word vectors and dense encoder (timed) and measure
        /// hybrid search at this weight beside BM25 alone, in the same run.
        #[arg(long, value_name = "W")]
        hybrid: Option<f32>,
    },
    /// The reranker experiment (docs/EVAL.md, "A reranker over BM25's top hits"): trains
    /// the reward model's pair scorer on an index's papers (a title over its own abstract,
    /// against the abstracts sharing most of its words and one at random), or reuses OUT/model, then writes BM25's top candidates for
    /// each query with both scores to OUT/scores.jsonl.
    Rerank {
        /// The index whose papers it trains on and searches.
        #[arg(long)]
        index: std::path::PathBuf,
        /// BEIR queries (JSONL, `_id` and `text`).
        #[arg(long)]
        queries: std::path::PathBuf,
        /// The model whose trunk the reranker starts from.
        #[arg(long)]
        init: std::path::PathBuf,
        #[arg(long)]
        out: std::path::PathBuf,
        /// BM25 hits re-scored per query.
        #[arg(long, default_value_t = 20)]
        candidates: usize,
        /// Hard negatives per title (the abstracts sharing most of its words), beside one
        /// drawn at random.
        #[arg(long, default_value_t = 2)]
        negatives: usize,
        #[arg(long, default_value_t = 600)]
        steps: u64,
        /// Comparisons per step.
        #[arg(long, default_value_t = 16)]
        pairs: usize,
        #[arg(long, default_value_t = 3e-4)]
        lr: f64,
    },
    /// `miracle ask` latency: model load time, then calculator requests answered by the
    /// agent with the model loaded (median and p90 ms), and peak resident memory.
    Ask {
        /// A model directory; the embedded default model when absent.
        #[arg(long)]
        model: Option<std::path::PathBuf>,
        /// Timed requests (after one untimed); they cycle through a fixed list.
        #[arg(long, default_value_t = 50)]
        requests: usize,
    },
    /// HTTP load on a running `miracle serve`: requests/s, p50/p99 latency, statuses, and
    /// the service's memory before and after.
    Serve {
        /// Where the service listens.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, value_enum, default_value_t = super::bench_serve::Endpoint::Search)]
        endpoint: super::bench_serve::Endpoint,
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// Clients sending at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The environment variable holding an API key, when the service asks for one
        /// (a key on the command line would show in `ps`).
        #[arg(long)]
        key_env: Option<String>,
    },
    /// Greedy decoding tokens/s, batch 1, with and without the KV cache.
    Generate {
        #[command(flatten)]
        which: WhichConfig,
        #[arg(long, default_value_t = 256)]
        new_tokens: usize,
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Skip the no-cache baseline (and the check that both decode the same tokens).
        #[arg(long)]
        skip_naive: bool,
    },
}

#[derive(Debug, Args)]
pub struct WhichConfig {
    /// A = 4×128 block 64 batch 12 vocab 65; B = 6×384 block 256 batch 16 vocab 65; C = B with
    /// vocab 8192, batch 8; D (for a GPU) = 12×512 block 512 batch 64 vocab 8192.
    #[arg(long, default_value = "A", value_parser = ["A", "B", "C", "D", "a", "b", "c", "d"])]
    config: String,
}

impl BenchCommand {
    fn run(self, device: &Device) -> anyhow::Result<String> {
        let json = match self {
            BenchCommand::Train {
                which,
                steps,
                warmup,
            } => {
                let (config, batch) = lookup(&which.config)?;
                serde_json::to_string(&bench::train(
                    &which.config,
                    &config,
                    batch,
                    warmup,
                    steps.max(1),
                    device,
                ))?
            }
            BenchCommand::Matmul { n, reps } => {
                serde_json::to_string(&bench::matmul(n.clamp(1, 8192), reps.max(1), device))?
            }
            BenchCommand::Generate {
                which,
                new_tokens,
                reps,
                skip_naive,
            } => {
                let (config, _) = lookup(&which.config)?;
                let new_tokens = new_tokens.clamp(1, config.block_size - 1);
                serde_json::to_string(&bench::generate(
                    &which.config,
                    &config,
                    new_tokens,
                    reps.max(1),
                    !skip_naive,
                    device,
                ))?
            }
            BenchCommand::Search {
                corpus,
                queries,
                top,
                repeat,
                hybrid,
            } => serde_json::to_string(&search(
                &corpus,
                &queries,
                top.max(1),
                repeat.max(1),
                hybrid,
            )?)?,
            BenchCommand::Rerank {
                index,
                queries,
                init,
                out,
                candidates,
                negatives,
                steps,
                pairs,
                lr,
            } => {
                let training = miracle_recipe::rerank::RerankTraining {
                    init: Some(init),
                    negatives: negatives.max(1),
                    schedule: miracle_core::train::reward_training::RewardSchedule {
                        steps: steps.max(1),
                        prompts_per_step: pairs.max(1),
                        lr,
                        min_lr: lr / 10.0,
                        ..Default::default()
                    },
                    out,
                };
                serde_json::to_string(&rerank(&index, &queries, &training, candidates, device)?)?
            }
            BenchCommand::Ask { model, requests } => {
                serde_json::to_string(&ask(model.as_deref(), requests.max(1), device)?)?
            }
            BenchCommand::Code { calls, python } => {
                serde_json::to_string(&code(calls.max(1), &python)?)?
            }
            BenchCommand::Serve {
                url,
                endpoint,
                requests,
                concurrency,
                key_env,
            } => {
                let key = key_env
                    .map(|var| {
                        std::env::var(&var).with_context(|| format!("--key-env: {var} is not set"))
                    })
                    .transpose()?;
                serde_json::to_string(&super::bench_serve::run(
                    &url,
                    endpoint,
                    requests.max(1),
                    concurrency.clamp(1, 4096),
                    key,
                )?)?
            }
            BenchCommand::Calculator { seconds, rounds } => {
                serde_json::to_string(&calculator(seconds.clamp(0.01, 60.0), rounds.max(1)))?
            }
        };
        Ok(json)
    }
}

/// Calculator requests of the kinds in the dev suite, one to three operations.
const ASK_REQUESTS: &[&str] = &[
    "What is 8 plus 3?",
    "What is 357 times 995?",
    "Calculate 66783 - 95244.",
    "Compute (6913 + 7266) * 1715.",
    "3加3等于多少？",
    "Sofia has 513 pencils and buys 329 boxes with 145 pencils in each. How many pencils does Sofia have now?",
];

fn ask(
    model: Option<&std::path::Path>,
    requests: usize,
    device: &Device,
) -> anyhow::Result<serde_json::Value> {
    use miracle_router::agent::Agent;
    let started = std::time::Instant::now();
    let loaded = super::model::load(model, device)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let registry = miracle_router::agent_registry();
    let agent = Agent::new(
        &loaded.model,
        &loaded.config,
        device,
        &loaded.tokenizer,
        &registry,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut ms = Vec::with_capacity(requests);
    let mut tokens = Vec::with_capacity(requests);
    runtime.block_on(async {
        agent.run(ASK_REQUESTS[0], &[]).await?;
        for i in 0..requests {
            let started = std::time::Instant::now();
            let trace = agent.run(ASK_REQUESTS[i % ASK_REQUESTS.len()], &[]).await?;
            ms.push(started.elapsed().as_secs_f64() * 1e3);
            tokens.push(trace.tokens_generated as f64);
        }
        anyhow::Ok(())
    })?;
    let quantile = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    Ok(serde_json::json!({
        "bench": "ask",
        "model_parameters": loaded.config.parameter_count(),
        "load_ms": load_ms,
        "requests": requests,
        "median_ms": quantile(&mut ms, 0.5),
        "p90_ms": quantile(&mut ms, 0.9),
        "median_tokens_generated": quantile(&mut tokens, 0.5),
        "peak_rss_bytes": bench::peak_rss_bytes(),
    }))
}

fn lookup(name: &str) -> anyhow::Result<(miracle_core::gpt::GptConfig, usize)> {
    bench::config(name).ok_or_else(|| anyhow!("unknown benchmark config `{name}`: use A, B or C"))
}

/// The expressions timed: what a model writes for everyday arithmetic.
const SIMPLE_EXPRESSIONS: &[&str] = &[
    "1 + 2 * 3",
    "2350 * 17 / 100",
    "(3 + 4) * 2",
    "366 * 24 * 60 * 60",
    "sqrt(2) * 10",
    "7 / 2 - 0.25",
];

/// Evaluations per second of `calculator::answer` (what the expert returns) on this thread, beside the
/// peer: evalexpr's own `eval` of the same expressions, rounds interleaved.
fn calculator(seconds: f64, rounds: usize) -> serde_json::Value {
    use miracle_experts::calculator::answer;
    let peer_expressions: Vec<String> = SIMPLE_EXPRESSIONS
        .iter()
        .map(|e| e.replace("sqrt", "math::sqrt"))
        .collect();
    let rate = |run: &dyn Fn(usize)| {
        let start = std::time::Instant::now();
        let mut done = 0u64;
        while start.elapsed().as_secs_f64() < seconds {
            (0..SIMPLE_EXPRESSIONS.len()).for_each(run);
            done += SIMPLE_EXPRESSIONS.len() as u64;
        }
        done as f64 / start.elapsed().as_secs_f64()
    };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(rate(&|i| {
            let value = answer(std::hint::black_box(SIMPLE_EXPRESSIONS[i]));
            std::hint::black_box(value).expect("the benchmark's expressions evaluate");
        }));
        peer.push(rate(&|i| {
            let value = evalexpr::eval(std::hint::black_box(&peer_expressions[i]));
            std::hint::black_box(value).expect("evalexpr evaluates the benchmark's expressions");
        }));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours, peer) = (median(ours), median(peer));
    serde_json::json!({
        "bench": "calculator",
        "expressions": SIMPLE_EXPRESSIONS,
        "evaluations_per_s_median": ours,
        "evalexpr_eval_per_s_median": peer,
        "ratio": ours / peer,
        "rounds": rounds,
        "threads": 1,
    })
}

/// Trains the reranker (or finds it trained) and scores every query's candidates.
fn rerank(
    index: &std::path::Path,
    queries: &std::path::Path,
    training: &miracle_recipe::rerank::RerankTraining,
    candidates: usize,
    device: &Device,
) -> anyhow::Result<serde_json::Value> {
    use miracle_experts::search::LiteratureIndex;
    use miracle_recipe::rerank;
    let index = LiteratureIndex::open(index)?;
    let model = training.out.join("model");
    let started = std::time::Instant::now();
    if !model.join(miracle_core::train::reward::HEAD_FILE).is_file() {
        let mut stderr = std::io::stderr();
        let mut progress = super::progress::Console::new(&mut stderr);
        rerank::train(&index, training, device, &mut progress)?;
    }
    let trained_s = started.elapsed().as_secs_f64();
    let queries: Vec<(String, String)> = std::fs::read_to_string(queries)
        .with_context(|| format!("cannot read {}", queries.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)?;
            let id = match &v["_id"] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Ok((id, v["text"].as_str().unwrap_or_default().to_string()))
        })
        .collect::<anyhow::Result<_>>()?;
    let started = std::time::Instant::now();
    let scored = rerank::score(&index, &model, &queries, candidates.max(1), device)?;
    let scored_s = started.elapsed().as_secs_f64();
    let path = training.out.join("scores.jsonl");
    let mut lines = String::new();
    for query in &scored {
        lines.push_str(&serde_json::to_string(query)?);
        lines.push('\n');
    }
    std::fs::write(&path, lines).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(serde_json::json!({
        "bench": "rerank",
        "queries": scored.len(),
        "candidates": candidates,
        "train_s": trained_s,
        "score_s": scored_s,
        "scores": path,
    }))
}

/// Index build seconds and one-thread queries/s over a BEIR collection.
fn search(
    corpus: &std::path::Path,
    queries: &std::path::Path,
    top: usize,
    repeat: usize,
    hybrid: Option<f32>,
) -> anyhow::Result<serde_json::Value> {
    use miracle_corpora::{ReadOptions, read_path};
    use miracle_experts::search::{LiteratureIndex, SearchRequest};
    let papers = read_path(corpus, &ReadOptions::default())?.papers;
    let texts: Vec<String> = std::fs::read_to_string(queries)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l)?;
            Ok(v["text"].as_str().unwrap_or_default().to_string())
        })
        .collect::<anyhow::Result<_>>()?;
    let dir = std::env::temp_dir().join(format!("miracle-bench-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let started = std::time::Instant::now();
    let index = LiteratureIndex::create_or_open(&dir)?;
    let mut writer = index.writer()?;
    for paper in &papers {
        writer.add(paper)?;
    }
    writer.commit()?;
    let index_s = started.elapsed().as_secs_f64();
    // The best of `repeat` passes over every query, as `hybrid` asks.
    let timed = |hybrid: Option<f32>| -> anyhow::Result<f64> {
        let requests: Vec<SearchRequest> = texts
            .iter()
            .map(|t| SearchRequest {
                snippets: false,
                hybrid,
                ..SearchRequest::new(t, top)
            })
            .collect();
        let mut best = f64::MAX;
        for _ in 0..repeat {
            let started = std::time::Instant::now();
            for request in &requests {
                std::hint::black_box(index.search_ids(request)?);
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        Ok(best)
    };
    let best = timed(None)?;
    let mut report = serde_json::json!({
        "bench": "search",
        "docs": papers.len(),
        "queries": texts.len(),
        "top": top,
        "index_s": index_s,
        "search_s_best": best,
        "queries_per_s": texts.len() as f64 / best,
        "threads": 1,
    });
    if let Some(weight) = hybrid {
        let started = std::time::Instant::now();
        miracle_recipe::words::train_for_index(
            &index,
            &miracle_recipe::words::WORD_VECTORS,
            &mut std::io::sink(),
        )?;
        report["vectors_s"] = started.elapsed().as_secs_f64().into();
        let hybrid_s = timed(Some(weight))?;
        report["hybrid_weight"] = weight.into();
        report["hybrid_queries_per_s"] = (texts.len() as f64 / hybrid_s).into();
        report["hybrid_ratio"] = (best / hybrid_s).into();
    }
    drop(index);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// Median milliseconds of `calls` code-expert round trips in three settings, and of the peer.
fn code(calls: usize, python: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    use miracle_experts::{Code, Context, Expert};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let round_trips = |code: &Code, pause: std::time::Duration| -> anyhow::Result<Vec<f64>> {
        runtime.block_on(async {
            let mut times = Vec::with_capacity(calls);
            code.call("print(1+1)", &Context::default()).await?; // starts the pool
            for _ in 0..calls {
                tokio::time::sleep(pause).await; // the pool refills while the model writes
                let started = std::time::Instant::now();
                let seen = code.call("print(1+1)", &Context::default()).await?;
                times.push(started.elapsed().as_secs_f64() * 1e3);
                anyhow::ensure!(seen.text == "2", "unexpected answer {seen}");
            }
            Ok(times)
        })
    };
    let pause = std::time::Duration::from_millis(50);
    let warm = round_trips(&Code::new(), pause)?;
    let back_to_back = round_trips(&Code::new(), std::time::Duration::ZERO)?;
    let cold = round_trips(&Code::new().pool_size(0), std::time::Duration::ZERO)?;
    let mut peer = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = std::time::Instant::now();
        let output = std::process::Command::new(python)
            .args(["-I", "-S", "-c", "print(1+1)"])
            .output()?;
        peer.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(output.stdout == b"2\n", "python3 did not print 2");
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (warm, peer) = (median(warm), median(peer));
    Ok(serde_json::json!({
        "bench": "code",
        "calls": calls,
        "warm_ms_median": warm,
        "back_to_back_ms_median": median(back_to_back),
        "fresh_worker_ms_median": median(cold),
        "python_spawn_ms_median": peer,
        "python_over_warm": peer / warm,
    }))
}
