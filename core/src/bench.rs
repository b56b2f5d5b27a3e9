//! Benchmarks beside `shared/bench/torch_gpt_reference.py`: the same configs, the same
//! measurements, the same JSON fields, so the two can be read side by side.

use std::time::Instant;

use burn::prelude::*;
use serde::Serialize;

use crate::gpt::{Decoder, Decoding, Gpt, GptConfig, KvCache};
use crate::rng::SplitMix64;
use crate::train::{AdamW, AdamWConfig, train_step};

/// A benchmark config by the reference's name, with its batch size.
pub fn config(name: &str) -> Option<(GptConfig, usize)> {
    match name.to_ascii_uppercase().as_str() {
        "A" => Some((GptConfig::bench_a(), 12)),
        "B" => Some((GptConfig::bench_b(), 16)),
        "C" => Some((GptConfig::bench_c(), 8)),
        "D" => Some((GptConfig::bench_d(), 64)),
        _ => None,
    }
}

#[derive(Debug, Serialize)]
pub struct TrainReport {
    pub config: String,
    pub attn: &'static str,
    pub params: usize,
    pub batch: usize,
    pub block: usize,
    pub step_s_median: f64,
    pub step_s_min: f64,
    pub step_s_max: f64,
    pub tokens_per_s: f64,
    pub steps: usize,
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Timing {
    pub seconds_median: f64,
    pub tokens_per_s: f64,
    pub reps: usize,
}

#[derive(Debug, Serialize)]
pub struct GenerateReport {
    pub config: String,
    pub attn: &'static str,
    pub batch: usize,
    pub new_tokens: usize,
    pub prompt_tokens: usize,
    /// Absent when skipped (`with_naive` false).
    pub naive: Option<Timing>,
    pub kv_cache: Timing,
    pub kv_matches_naive_greedy: Option<bool>,
    pub peak_rss_bytes: Option<u64>,
}

/// Uniform random token ids.
fn random_tokens(n: usize, vocab: usize, rng: &mut SplitMix64) -> Vec<i64> {
    (0..n)
        .map(|_| (rng.next_u64() % vocab as u64) as i64)
        .collect()
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The process's peak resident memory (Linux `VmHWM`).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Training throughput: random batches, AdamW as the reference, `warmup` untimed steps.
pub fn train(
    name: &str,
    config: &GptConfig,
    batch: usize,
    warmup: usize,
    steps: usize,
    device: &Device,
) -> TrainReport {
    let device = device.clone().autodiff();
    device.seed(0);
    let mut model = Gpt::new(config, &device);
    let mut optimizer = AdamW::new(AdamWConfig::default());
    let (b, t) = (batch, config.block_size);
    let mut rng = SplitMix64::new(0);
    let mut times = Vec::with_capacity(steps);
    for i in 0..warmup + steps {
        let x = Tensor::<1, Int>::from_ints(
            random_tokens(b * t, config.vocab_size, &mut rng).as_slice(),
            &device,
        )
        .reshape([b, t]);
        let y = Tensor::<1, Int>::from_ints(
            random_tokens(b * t, config.vocab_size, &mut rng).as_slice(),
            &device,
        )
        .reshape([b, t]);
        let started = Instant::now();
        let (next, _loss, _) = train_step(model, &mut optimizer, 1e-3, x, y);
        model = next;
        if i >= warmup {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    let (min, max) = (
        times.iter().copied().fold(f64::MAX, f64::min),
        times.iter().copied().fold(0.0, f64::max),
    );
    let med = median(&mut times);
    TrainReport {
        config: name.to_string(),
        attn: if crate::kernels::enabled() {
            "fused"
        } else {
            "burn"
        },
        params: config.parameter_count(),
        batch: b,
        block: t,
        step_s_median: med,
        step_s_min: min,
        step_s_max: max,
        tokens_per_s: (b * t) as f64 / med,
        steps,
        peak_rss_bytes: peak_rss_bytes(),
    }
}

/// Greedy decoding of `new_tokens` from a one-token prompt, with the KV cache and without
/// (re-running the whole sequence each step, as the reference's "naive").
pub fn generate(
    name: &str,
    config: &GptConfig,
    new_tokens: usize,
    reps: usize,
    with_naive: bool,
    device: &Device,
) -> GenerateReport {
    device.seed(0);
    let model = Gpt::new(config, device);
    let kv = || {
        let mut decoder = Decoder::new(&model, config, device);
        decoder.feed(&[0]).expect("prompt fits");
        (0..new_tokens)
            .map(|_| {
                decoder
                    .next_token(&Decoding::Greedy, None)
                    .expect("in vocabulary")
            })
            .collect::<Vec<u32>>()
    };
    let naive = || {
        let mut tokens = vec![0i64];
        for _ in 0..new_tokens {
            let start = tokens.len().saturating_sub(config.block_size);
            let window = &tokens[start..];
            let idx = Tensor::<1, Int>::from_ints(window, device).reshape([1, window.len()]);
            let mut cache = KvCache::new(config, 1, device);
            let logits = model
                .forward_cached_last(idx, &mut cache)
                .into_data()
                .try_to_vec::<f32>()
                .expect("f32");
            let next = (0..logits.len())
                .fold(0, |best, i| if logits[i] > logits[best] { i } else { best });
            tokens.push(next as i64);
        }
        tokens[1..].iter().map(|&t| t as u32).collect::<Vec<u32>>()
    };
    let matches = with_naive.then(|| kv() == naive());
    let time = |f: &dyn Fn() -> Vec<u32>| {
        f();
        let mut times: Vec<f64> = (0..reps)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed().as_secs_f64()
            })
            .collect();
        let med = median(&mut times);
        Timing {
            seconds_median: med,
            tokens_per_s: new_tokens as f64 / med,
            reps,
        }
    };
    GenerateReport {
        config: name.to_string(),
        attn: "burn",
        batch: 1,
        new_tokens,
        prompt_tokens: 1,
        naive: with_naive.then(|| time(&naive)),
        kv_cache: time(&kv),
        kv_matches_naive_greedy: matches,
        peak_rss_bytes: peak_rss_bytes(),
    }
}

#[derive(Debug, Serialize)]
pub struct MatmulReport {
    pub n: usize,
    pub s_median: f64,
    pub gflops_median: f64,
    pub gflops_best: f64,
}

/// `n`×`n` f32 matrix product, as the reference's `matmul`: the floor under every GPT number.
pub fn matmul(n: usize, reps: usize, device: &Device) -> MatmulReport {
    use burn::tensor::Distribution;
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    let run = || {
        let started = Instant::now();
        // Wait for the device with the product still alive: on an asynchronous GPU backend a
        // read-back of one element (or a sum) returned in constant time whatever n was.
        let c = a.clone().matmul(b.clone());
        let _ = device.sync();
        drop(std::hint::black_box(c));
        started.elapsed().as_secs_f64()
    };
    for _ in 0..3 {
        run();
    }
    let mut times: Vec<f64> = (0..reps).map(|_| run()).collect();
    let best = times.iter().copied().fold(f64::MAX, f64::min);
    let med = median(&mut times);
    let flops = 2.0 * (n as f64).powi(3);
    MatmulReport {
        n,
        s_median: med,
        gflops_median: flops / med / 1e9,
        gflops_best: flops / best / 1e9,
    }
}
