//! A reranker over BM25's top hits, as the reference-desk issue asks to try: the reward
//! model's pair scorer (a GPT trunk and a scalar head, `miracle_core::train::reward`) used as
//! a cross-encoder that reads an abstract and a query together.
//!
//! It is trained without judgments, as the dense encoder is: a paper's title should score
//! its own abstract above the abstracts that share the most of the title's words (hard
//! negatives, BM25 over abstracts) and above one drawn at random, each (own, other) pair one
//! comparison for the reward model's pairwise loss. The abstract comes
//! first and the query last, so that the score, read at the final token, is computed after
//! the query has been read against the whole abstract. Titles never appear in a document
//! side, or matching a title to itself would be all it learns.
//!
//! An experiment (`miracle bench rerank`): measured in docs/EVAL.md, not used by search.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::prelude::Device;
use miracle_core::rng::SplitMix64;
use miracle_core::tokenizer::{Special, Tokenizer};
use miracle_core::train::reward::{Ranked, RewardModel};
use miracle_core::train::reward_training::{RewardRun, RewardSchedule, train_reward};
use miracle_corpora::Paper;
use miracle_experts::search::{LiteratureIndex, SearchRequest, analyzer};

use crate::{Progress, Report, say_if_resuming};

/// Query tokens kept (the rest of a long query is cut).
const QUERY_TOKENS: usize = 64;
/// One paper in this many is held out of training, for the pairwise accuracy.
const HELD_OUT_EVERY: usize = 50;

/// How to train the reranker.
#[derive(Debug, Clone)]
pub struct RerankTraining {
    /// The model whose trunk it starts from (a pretrained one reads abstracts best).
    pub init: Option<PathBuf>,
    /// The abstracts BM25 ranks first for a title (its own aside) taken as its wrong
    /// abstracts, beside one drawn at random.
    pub negatives: usize,
    pub schedule: RewardSchedule,
    pub out: PathBuf,
}

/// One query's candidates: BM25's top hits, each with its BM25 score and the reranker's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reranked {
    pub query: String,
    pub hits: Vec<(String, f32, f32)>,
}

/// Trains the reranker on `index`'s papers; returns the reward directory.
pub fn train(
    index: &LiteratureIndex,
    training: &RerankTraining,
    device: &Device,
    out: &mut dyn Report,
) -> anyhow::Result<PathBuf> {
    let device = device.clone().autodiff();
    let start = crate::load_model(training.init.as_deref(), &device).context("init")?;
    let papers = usable_papers(index)?;
    let block = start.config.block_size;
    let (mut train, mut val) = (Vec::new(), Vec::new());
    let by_id: HashMap<&str, &Paper> = papers.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut rng = SplitMix64::new(training.schedule.seed);
    for (at, paper) in papers.iter().enumerate() {
        let own = pair_tokens(&start.tokenizer, block, &paper.title, &paper.abstract_text)?;
        let groups = if at % HELD_OUT_EVERY == 0 {
            &mut val
        } else {
            &mut train
        };
        let mut wrong: Vec<&Paper> = hard_negatives(index, paper, training.negatives)?
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        // And one drawn at random: what any reader tells apart.
        let drawn = papers[(rng.next_u64() % papers.len() as u64) as usize]
            .id
            .as_str();
        if drawn != paper.id {
            wrong.extend(by_id.get(drawn).copied());
        }
        for other in wrong {
            let wrong = pair_tokens(&start.tokenizer, block, &paper.title, &other.abstract_text)?;
            groups.push(Ranked {
                written: vec![vec![true; own.len()], vec![true; wrong.len()]],
                sequences: vec![own.clone(), wrong],
                ranking: vec![0, 1],
            });
        }
    }
    say_if_resuming(&training.out, out);
    writeln!(
        out,
        "reranker on {} papers: {} comparisons (their own abstract over one BM25 ranks next), {} held out; writing to {}",
        papers.len(),
        train.len(),
        val.len(),
        training.out.display()
    )?;
    let run = RewardRun {
        config: &start.config,
        tokenizer: &start.tokenizer,
        start: RewardModel::new(start.model, &start.config, &device),
        train: &train,
        val: &val,
        schedule: &training.schedule,
        out: &training.out,
    };
    let (_, held_out) = train_reward(run, |r| out.progress(Progress::Pairs(r)))?;
    writeln!(
        out,
        "held-out: the own abstract first in {:.1}% of {} pairs",
        held_out.accuracy * 100.0,
        held_out.pairs
    )?;
    Ok(training.out.join("model"))
}

/// BM25's top `candidates` for each query, each also scored by the reranker in `model`.
pub fn score(
    index: &LiteratureIndex,
    model: &Path,
    queries: &[(String, String)],
    candidates: usize,
    device: &Device,
) -> anyhow::Result<Vec<Reranked>> {
    let (model, config, tokenizer) = RewardModel::load(model, device)
        .with_context(|| format!("cannot load the reranker in {}", model.display()))?;
    let papers = usable_papers(index)?;
    let by_id: HashMap<&str, &Paper> = papers.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut scored = Vec::with_capacity(queries.len());
    for (id, text) in queries {
        let request = SearchRequest {
            snippets: false,
            ..SearchRequest::new(text, candidates + 1)
        };
        // BEIR's convention, as `search --trec` keeps it: a query is not its own hit.
        let hits: Vec<(f32, String)> = index
            .search_ids(&request)?
            .into_iter()
            .filter(|(_, doc)| doc != id)
            .take(candidates)
            .collect();
        let mut sequences = Vec::with_capacity(hits.len());
        for (_, doc) in &hits {
            let abstract_text = by_id.get(doc.as_str()).map_or("", |p| &p.abstract_text);
            sequences.push(pair_tokens(
                &tokenizer,
                config.block_size,
                text,
                abstract_text,
            )?);
        }
        let mut rm = Vec::with_capacity(hits.len());
        for chunk in sequences.chunks(32) {
            let values = model.scores(chunk, device).into_data().try_to_vec::<f32>();
            rm.extend(values.map_err(|e| anyhow::anyhow!("reranker scores: {e:?}"))?);
        }
        scored.push(Reranked {
            query: id.clone(),
            hits: hits
                .into_iter()
                .zip(rm)
                .map(|((bm25, doc), rm)| (doc, bm25, rm))
                .collect(),
        });
    }
    Ok(scored)
}

/// The papers whose abstracts best match `paper`'s title, the paper itself left out: the
/// title's terms searched in abstracts only. Searched over titles too (as plain search
/// does), a paper's own title puts it first while its abstract may share fewer of the
/// title's words than the next hits' abstracts do; a reranker trained on those learns to
/// prefer abstracts that share fewer words with the query (it ranked SciFact at 0.19).
fn hard_negatives(index: &LiteratureIndex, paper: &Paper, n: usize) -> anyhow::Result<Vec<String>> {
    let terms = analyzer::terms(&paper.title);
    if terms.is_empty() || n == 0 {
        return Ok(Vec::new());
    }
    let query: Vec<String> = terms.iter().map(|t| format!("abstract:{t}")).collect();
    let request = SearchRequest {
        snippets: false,
        ..SearchRequest::new(&query.join(" "), n + 1)
    };
    let found = match index.search_ids(&request) {
        Err(e) if e.is_query_error() => return Ok(Vec::new()),
        found => found?,
    };
    Ok(found
        .into_iter()
        .map(|(_, id)| id)
        .filter(|id| *id != paper.id)
        .take(n)
        .collect())
}

/// The index's papers with a title and an abstract, in id order.
fn usable_papers(index: &LiteratureIndex) -> anyhow::Result<Vec<Paper>> {
    let mut papers: Vec<Paper> = index
        .papers()?
        .into_iter()
        .filter(|p| !p.title.trim().is_empty() && !p.abstract_text.trim().is_empty())
        .collect();
    papers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(papers)
}

/// An abstract, a newline, the query and `<|endoftext|>`, within `block` tokens: the query
/// (at most [`QUERY_TOKENS`]) is kept whole and the abstract cut to fit.
fn pair_tokens(
    tokenizer: &Tokenizer,
    block: usize,
    query: &str,
    abstract_text: &str,
) -> anyhow::Result<Vec<u32>> {
    let mut query = tokenizer.encode(&format!("\n{}", query.trim()))?;
    query.truncate(QUERY_TOKENS);
    let room = block.saturating_sub(query.len() + 1);
    let mut tokens = tokenizer.encode(abstract_text.trim())?;
    tokens.truncate(room);
    tokens.extend(query);
    tokens.push(Special::EndOfText.id());
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_fits_the_context_with_the_query_whole_and_last() {
        let tokenizer = Tokenizer::from_json(miracle_corpora::TOKENIZER_JSON, "shipped").unwrap();
        let long = "word ".repeat(2000);
        let tokens = pair_tokens(&tokenizer, 64, "vitamin D and depression", &long).unwrap();
        assert_eq!(tokens.len(), 64);
        assert_eq!(*tokens.last().unwrap(), Special::EndOfText.id());
        let query = tokenizer.encode("\nvitamin D and depression").unwrap();
        assert_eq!(&tokens[64 - 1 - query.len()..63], query.as_slice());
    }
}
