//! `miracle eval SUITE.jsonl --out report.json`: every request of a suite (the format of
//! `../shared/eval/dev.jsonl`) through the agent; per request the experts called, the final
//! answer and the documents the literature calls returned; a summary by category and
//! language: routing accuracy, answer accuracy, nDCG@10 — and, for literature, the nDCG@10
//! of calling the search directly with the request, the agent's reference point.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use miracle_experts::Context as CallContext;
use miracle_router::agent::{Outcome, Trace};
use miracle_router::demos::{Expect, LITERATURE, cited_ids};
use miracle_router::judge::{found_papers, last_number, replies_fit, same_number};
use miracle_router::protocol::Step;
use miracle_router::rlhf::comparison::read_lines;
use serde::{Deserialize, Serialize};

use super::ask::{AgentOptions, with_agent};
use super::write_file;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The suite: one JSON object per line with id, lang, category, query and expect.
    suite: PathBuf,
    /// Where the report (JSON) goes.
    #[arg(long)]
    out: PathBuf,
    /// Evaluate every n-th request only (a quick look at a large suite).
    #[arg(long, default_value_t = 1)]
    every: usize,
    /// Also write every request's whole trace (its steps: each call's input and result),
    /// one JSON object per line with the request's id, to this file.
    #[arg(long)]
    traces: Option<PathBuf>,
    #[command(flatten)]
    options: AgentOptions,
}

/// A suite line (`../shared/eval/dev.jsonl`'s format): a prompt with its expectation.
#[derive(Debug, Deserialize)]
struct Request {
    id: String,
    lang: String,
    category: String,
    query: String,
    expect: Expect,
}

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    experts: Vec<String>,
    answer: String,
    /// Whose answer it is: the model's (`answered`) or the router's (`experts_failed`,
    /// `token_limit`, `time_limit`).
    outcome: Outcome,
    docs: Vec<String>,
    routed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    correct: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ndcg10: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direct_ndcg10: Option<f64>,
    ms: f64,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    requests: usize,
    routing: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    answer: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ndcg10: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direct_ndcg10: Option<f64>,
    median_ms: f64,
}

impl EvalArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let requests = read_suite(&self.suite)?;
        let every = self.every.max(1);
        let picked: Vec<&Request> = requests.iter().step_by(every).collect();
        let direct_search = miracle_router::agent_registry();
        let mut rows: Vec<(&Request, Row)> = Vec::new();
        let mut traces = String::new();
        let counter = super::progress::Counter::new(picked.len(), "evaluated");
        with_agent(&self.options, async |agent| {
            counter.show(0);
            for (i, request) in picked.iter().enumerate() {
                let trace = agent.run(&request.query, &[]).await?;
                if self.traces.is_some() {
                    let line = serde_json::json!({ "id": request.id, "trace": trace });
                    traces.push_str(&format!("{line}\n"));
                }
                let direct = if request.category == "literature" {
                    let seen = direct_search
                        .call(LITERATURE, &request.query, &CallContext::default())
                        .await;
                    Some(seen.map(|o| cited_ids(&o.text)).unwrap_or_default())
                } else {
                    None
                };
                rows.push((request, row(request, &trace, direct)));
                counter.show(i + 1);
            }
            counter.finish();
            Ok(())
        })?;
        if let Some(path) = &self.traces {
            write_file(path, traces.as_bytes())?;
        }
        let summary = summarise(&rows);
        let report = serde_json::json!({
            "suite": self.suite,
            "grounded": !self.options.ungrounded,
            "requests": rows.iter().map(|(_, r)| r).collect::<Vec<_>>(),
            "summary": summary,
        });
        write_file(&self.out, serde_json::to_string_pretty(&report)?.as_bytes())?;
        writeln!(
            out,
            "{:<24} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "category/lang", "n", "routing", "answer", "nDCG@10", "direct", "ms"
        )?;
        for (key, s) in &summary {
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
            let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
            writeln!(
                out,
                "{key:<24} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8.0}",
                s.requests,
                pct(Some(s.routing)),
                pct(s.answer),
                num(s.ndcg10),
                num(s.direct_ndcg10),
                s.median_ms
            )?;
        }
        writeln!(out, "report: {}", self.out.display())?;
        Ok(())
    }
}

/// The suite, read by the reader of every JSONL file of the RLHF loop: each problem names
/// the file and line.
fn read_suite(path: &Path) -> anyhow::Result<Vec<Request>> {
    Ok(read_lines(path, "suite", |r: &Request| {
        if r.query.trim().is_empty() {
            Err("the query is empty".into())
        } else {
            Ok(())
        }
    })?)
}

fn row(request: &Request, trace: &Trace, direct: Option<Vec<String>>) -> Row {
    let experts: Vec<String> = trace.experts().into_iter().map(String::from).collect();
    let steps: Vec<Step> = trace.steps.iter().map(|s| s.step.clone()).collect();
    let errors: Vec<bool> = trace.steps.iter().map(|s| s.error.is_some()).collect();
    let docs = found_papers(&steps, &errors);
    let routed = experts.first().map(String::as_str) == request.expect.expert.as_deref();
    // The loop's own answers (limits, failed calls) quote no result, only errors.
    let answered = trace.outcome == Outcome::Answered;
    let correct = match (&request.expect.answer, request.expect.replies.is_empty()) {
        (Some(expected), _) => {
            Some(answered && last_number(&trace.answer).is_some_and(|n| same_number(&n, expected)))
        }
        // A social act: no call, and a reply to what was said.
        (None, false) => Some(answered && routed && replies_fit(&request.expect, &trace.answer)),
        (None, true) => None,
    };
    let literature = request.category == "literature";
    Row {
        id: request.id.clone(),
        ndcg10: literature.then(|| ndcg10(&docs, &request.expect.docs)),
        direct_ndcg10: direct.map(|d| ndcg10(&d, &request.expect.docs)),
        experts,
        answer: trace.answer.clone(),
        outcome: trace.outcome,
        docs,
        routed,
        correct,
        ms: trace.ms,
    }
}

/// nDCG@10 with binary relevance: the judged documents are the relevant ones.
fn ndcg10(ranked: &[String], relevant: &[String]) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, id)| relevant.contains(id))
        .map(|(i, _)| 1.0 / (i as f64 + 2.0).log2())
        .fold(0.0, |a, b| a + b); // not sum(): an empty f64 sum is -0.0
    let ideal: f64 = (0..relevant.len().min(10))
        .map(|i| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

fn summarise(rows: &[(&Request, Row)]) -> BTreeMap<String, Summary> {
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for (request, row) in rows {
        for key in [
            "all".to_string(),
            request.category.clone(),
            format!("{}/{}", request.category, request.lang),
        ] {
            groups.entry(key).or_default().push(row);
        }
    }
    groups
        .into_iter()
        .map(|(key, rows)| {
            let n = rows.len() as f64;
            let mean = |values: Vec<f64>| {
                (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
            };
            let mut ms: Vec<f64> = rows.iter().map(|r| r.ms).collect();
            ms.sort_by(f64::total_cmp);
            let summary = Summary {
                requests: rows.len(),
                routing: rows.iter().filter(|r| r.routed).count() as f64 / n,
                answer: mean(
                    rows.iter()
                        .filter_map(|r| r.correct.map(|c| f64::from(u8::from(c))))
                        .collect(),
                ),
                ndcg10: mean(rows.iter().filter_map(|r| r.ndcg10).collect()),
                direct_ndcg10: mean(rows.iter().filter_map(|r| r.direct_ndcg10).collect()),
                median_ms: ms[ms.len() / 2],
            };
            (key, summary)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_rewards_the_relevant_document_near_the_top() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(ndcg10(&ids(&["a", "b"]), &ids(&["a"])), 1.0);
        assert!((ndcg10(&ids(&["b", "a"]), &ids(&["a"])) - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(ndcg10(&ids(&["b"]), &ids(&["a"])), 0.0);
    }
}
