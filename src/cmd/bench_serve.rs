//! `miracle bench serve`: HTTP load on a running `miracle serve` — a fixed number of
//! requests from a fixed number of concurrent clients (reqwest), with requests/s, median and
//! p99 latency, every status seen, and the service's resident memory before and after
//! (read from its /metrics).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Endpoint {
    /// POST /v1/search, topics in English and Chinese.
    Search,
    /// POST /v1/ask, calculator requests.
    Ask,
    /// POST /v1/chat/completions, calculator requests.
    Chat,
}

const TOPICS: &[&str] = &[
    "diffusion tensor imaging of white matter",
    "图书馆 信息服务",
    "vitamin D and bone density",
    "飞行器 姿态 控制",
    "microglia activation",
    "数字图书馆 用户",
];

const SUMS: &[&str] = &[
    "What is 8 plus 3?",
    "What is 9 times 2?",
    "Compute (2 + 2) * 7.",
    "3加3等于多少？",
];

#[derive(Serialize)]
pub struct Load {
    bench: &'static str,
    endpoint: String,
    requests: usize,
    concurrency: usize,
    statuses: BTreeMap<u16, usize>,
    /// Requests that got no HTTP answer at all (connection refused or reset).
    transport_errors: usize,
    seconds: f64,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    server_rss_mb_before: f64,
    server_rss_mb_after: f64,
}

pub fn run(
    url: &str,
    endpoint: Endpoint,
    requests: usize,
    concurrency: usize,
    key: Option<String>,
) -> anyhow::Result<Load> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the load generator's runtime")?;
    runtime.block_on(load(
        url.trim_end_matches('/'),
        endpoint,
        requests,
        concurrency,
        key,
    ))
}

async fn load(
    url: &str,
    endpoint: Endpoint,
    requests: usize,
    concurrency: usize,
    key: Option<String>,
) -> anyhow::Result<Load> {
    miracle_experts::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(60))
        .build()?;
    let before = rss_mb(&client, url).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, key, url) = (client.clone(), next.clone(), key.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return seen;
                }
                let (path, body) = request(endpoint, i);
                let mut call = client.post(format!("{url}{path}")).json(&body);
                if let Some(key) = &key {
                    call = call.bearer_auth(key);
                }
                let t = Instant::now();
                let status = match call.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let _ = response.bytes().await;
                        Some(status)
                    }
                    Err(_) => None,
                };
                seen.push((status, t.elapsed().as_secs_f64() * 1e3));
            }
        }));
    }
    let mut results = Vec::with_capacity(requests);
    for task in tasks {
        results.extend(task.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = rss_mb(&client, url).await?;
    let mut statuses = BTreeMap::new();
    let mut transport_errors = 0;
    let mut ms: Vec<f64> = Vec::with_capacity(results.len());
    for (status, took) in results {
        match status {
            Some(s) => *statuses.entry(s).or_default() += 1,
            None => transport_errors += 1,
        }
        ms.push(took);
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(Load {
        bench: "serve",
        endpoint: format!("{endpoint:?}").to_lowercase(),
        requests,
        concurrency,
        statuses,
        transport_errors,
        seconds,
        requests_per_s: requests as f64 / seconds,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: at(1.0),
        server_rss_mb_before: before,
        server_rss_mb_after: after,
    })
}

fn request(endpoint: Endpoint, i: usize) -> (&'static str, Value) {
    match endpoint {
        Endpoint::Search => (
            "/v1/search",
            json!({"query": TOPICS[i % TOPICS.len()], "top": 10}),
        ),
        Endpoint::Ask => ("/v1/ask", json!({"request": SUMS[i % SUMS.len()]})),
        Endpoint::Chat => (
            "/v1/chat/completions",
            json!({"model": "miracle", "messages": [{"role": "user", "content": SUMS[i % SUMS.len()]}]}),
        ),
    }
}

/// The service's resident memory in MB, from its /metrics.
async fn rss_mb(client: &reqwest::Client, url: &str) -> anyhow::Result<f64> {
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .with_context(|| {
            format!("cannot reach the service at {url}: start it with `miracle serve`")
        })?
        .text()
        .await?;
    let bytes = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .context("the service's /metrics has no process_resident_memory_bytes")?;
    Ok(bytes / 1e6)
}
