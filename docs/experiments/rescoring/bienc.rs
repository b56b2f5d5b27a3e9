//! Lab: the shipped GPT's trunk as a contextual bi-encoder for SciFact (mean-pooled final
//! hidden states), trained contrastively on title↔abstract and sentence↔rest pairs (two
//! sentences a paper) with in-batch negatives; then the cosine of every query with its BM25
//! candidates (docs/BENCHMARKS.md, "What else re-scoring can use"). Not part of the build:
//!
//!   mkdir -p core/examples && cp docs/experiments/rescoring/bienc.rs core/examples/bienc.rs
//!   cargo build --release -p miracle-core --example bienc
//!   target/release/examples/bienc corpora/models/default ../shared/data/scifact/corpus.jsonl \
//!       ../shared/data/scifact/queries.jsonl /tmp/bm25.trec 400 > /tmp/ctx.tsv   # 22 min on 2 cores, 18 of them training
//!   python3 docs/experiments/rescoring/fuse.py third /tmp/rescoring/seed1.tsv /tmp/ctx.tsv
use std::collections::HashMap;
use std::path::Path;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use miracle_core::gpt::Gpt;
use miracle_core::gpt::model_dir;
use miracle_core::rng::SplitMix64;
use miracle_core::train::{AdamW, AdamWConfig};

const QUERY_LEN: usize = 48;
const DOC_LEN: usize = 160;
const BATCH: usize = 32;

fn pooled(model: &Gpt, texts: &[&[u32]], device: &Device) -> Tensor<2> {
    let t = texts.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
    let mut ids = vec![0i64; texts.len() * t];
    let mut mask = vec![0.0f32; texts.len() * t];
    for (r, s) in texts.iter().enumerate() {
        for (c, &w) in s.iter().enumerate() {
            ids[r * t + c] = i64::from(w);
            mask[r * t + c] = 1.0;
        }
    }
    let ids = Tensor::<1, Int>::from_ints(ids.as_slice(), device).reshape([texts.len(), t]);
    let mask = Tensor::<2>::from_data(TensorData::new(mask, [texts.len(), t]), device);
    let h = model.features(ids);
    let c = h.dims()[2];
    let count = mask.clone().sum_dim(1).clamp_min(1.0);
    let sum = (h * mask.unsqueeze_dim::<3>(2)).sum_dim(1).reshape([texts.len(), c]);
    let mean = sum / count;
    let norm = mean.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-6);
    mean / norm
}

fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|&(_, n)| n.is_whitespace()) {
            out.push(text[start..at + 1].trim());
            start = at + 1;
        }
    }
    out.push(text[start..].trim());
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, model_dir_path, corpus, queries, run, steps] = args.as_slice() else {
        panic!("usage: bienc MODEL_DIR CORPUS QUERIES RUN STEPS");
    };
    let steps: usize = steps.parse().unwrap();
    let lr: f64 = std::env::var("LR").ok().and_then(|s| s.parse().ok()).unwrap_or(1e-4);
    let temperature: f64 = 0.05;
    let flex = Device::flex();
    let training = flex.clone().autodiff();
    let loaded = model_dir::load(Path::new(model_dir_path), &training).unwrap();
    let tok = loaded.tokenizer;
    let enc = |s: &str, n: usize| -> Vec<u32> {
        let mut v = tok.encode(s).unwrap();
        v.truncate(n);
        v
    };
    // Papers.
    let mut papers: Vec<(String, String, String)> = Vec::new();
    for line in std::fs::read_to_string(corpus).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        papers.push((
            v["_id"].as_str().unwrap().to_string(),
            v["title"].as_str().unwrap_or("").to_string(),
            v["text"].as_str().unwrap_or("").to_string(),
        ));
    }
    let mut rng = SplitMix64::new(1);
    let mut pairs: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
    for (_, title, text) in &papers {
        if title.is_empty() || text.is_empty() {
            continue;
        }
        pairs.push((enc(title, QUERY_LEN), enc(text, DOC_LEN)));
        let s = sentences(text);
        if s.len() >= 2 {
            for _ in 0..2 {
                let at = (rng.next_u64() % s.len() as u64) as usize;
                let rest: Vec<&str> = s.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, x)| *x).collect();
                pairs.push((enc(s[at], QUERY_LEN), enc(&rest.join(" "), DOC_LEN)));
            }
        }
    }
    eprintln!("{} pairs", pairs.len());
    let mut model = loaded.model;
    let mut optimizer = AdamW::new(AdamWConfig {
        weight_decay: 0.0,
        grad_clip: Some(1.0),
        ..AdamWConfig::default()
    });
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    let mut at = order.len();
    let started = std::time::Instant::now();
    for step in 0..steps {
        if at + BATCH > order.len() {
            rng.shuffle(&mut order);
            at = 0;
        }
        let batch = &order[at..at + BATCH];
        at += BATCH;
        let left: Vec<&[u32]> = batch.iter().map(|&i| pairs[i].0.as_slice()).collect();
        let right: Vec<&[u32]> = batch.iter().map(|&i| pairs[i].1.as_slice()).collect();
        let l = pooled(&model, &left, &training);
        let r = pooled(&model, &right, &training);
        let sims = l.matmul(r.transpose()) / temperature;
        let eye = Tensor::<2>::eye(BATCH, &training);
        let loss = ((log_softmax(sims.clone(), 1) * eye.clone()).sum().neg()
            + (log_softmax(sims.transpose(), 1) * eye).sum().neg())
            / (2.0 * BATCH as f64);
        let value = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let rate = lr * (1.0 - 0.9 * step as f64 / steps.max(1) as f64);
        model = optimizer.step(rate, model, grads).0;
        if step % 20 == 0 {
            eprintln!("step {step} loss {value:.4} {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    // Inference on the plain device.
    let bytes = model_dir::weights_bytes(&model).unwrap();
    let model = model_dir::load_weights(&loaded.config, bytes, &flex).unwrap();
    let read = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
    let dim = loaded.config.n_embd;
    let mut doc_vec: HashMap<String, Vec<f32>> = HashMap::new();
    let docs: Vec<(String, Vec<u32>)> = papers
        .iter()
        .map(|(id, title, text)| (id.clone(), enc(&format!("{title} {text}"), 256)))
        .collect();
    for chunk in docs.chunks(32) {
        let texts: Vec<&[u32]> = chunk.iter().map(|(_, t)| t.as_slice()).collect();
        let v = read(pooled(&model, &texts, &flex));
        for (i, (id, _)) in chunk.iter().enumerate() {
            doc_vec.insert(id.clone(), v[i * dim..(i + 1) * dim].to_vec());
        }
    }
    eprintln!("encoded {} papers {:.0} s", doc_vec.len(), started.elapsed().as_secs_f64());
    let mut qtext = HashMap::new();
    for line in std::fs::read_to_string(queries).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        qtext.insert(v["_id"].as_str().unwrap().to_string(), v["text"].as_str().unwrap().to_string());
    }
    let mut qvec: HashMap<String, Vec<f32>> = HashMap::new();
    for line in std::fs::read_to_string(run).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (qid, doc, score) = (f[0], f[2], f[4]);
        let q = qvec.entry(qid.to_string()).or_insert_with(|| {
            let t = enc(&qtext[qid], QUERY_LEN);
            read(pooled(&model, &[t.as_slice()], &flex))
        });
        let d = doc_vec.get(doc).map_or(0.0, |d| d.iter().zip(q.iter()).map(|(a, b)| a * b).sum());
        println!("{qid}\t{doc}\t{score}\t{d}");
    }
}
