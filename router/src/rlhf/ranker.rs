//! The programmatic ranker: rules a reference librarian would apply, standing in for
//! labellers in automated runs. Each rule adds or takes points; responses are ranked by
//! their total. Responses that score the same (or are the same) are kept once, so no pair
//! of a comparison is a coin toss.
//!
//! Rules: it finished; it called the right expert (or none, for a direct request); its
//! answer uses the expert's result and agrees with it; the answer is the expected one;
//! it cites the papers its search found (and the relevant ones), and no paper it did not
//! find; no number in the answer comes from nowhere; it is concise; no call failed.
//!
//! Three of the rules read the suite's reference for the prompt (the expected expert, the
//! expected answer, the relevant papers); a reward model sees only the request and the
//! response, so it can match those rules only by solving the request itself. [`decider`]
//! says, per pair, whether the other rules (the response's form) already order it.
//!
//! Noise stands in for disagreeing labellers: with probability `noise` a comparison's
//! ranking is reversed, which flips every one of its pairs, so a fraction `noise` of all
//! pairwise labels is wrong.

use miracle_core::rng::SplitMix64;

use super::comparison::{Candidates, Comparison, Prompt, Response};
use crate::agent::Outcome;
use crate::demos::LITERATURE;
use crate::grounding::numbers_in;
use crate::judge::{answer_citations, found_papers, last_number, replies_fit, same_number};
use crate::protocol::Step;

/// One rule's verdict on a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub rule: &'static str,
    pub points: f64,
    /// The rule reads the suite's reference for the prompt, not only the response.
    pub reference: bool,
}

/// The verdicts of one response, as the rules give them.
#[derive(Default)]
struct Tally(Vec<Verdict>);

impl Tally {
    /// A rule that reads only the request and the response.
    fn form(&mut self, rule: &'static str, points: f64) {
        self.push(rule, points, false);
    }

    /// A rule that reads the reference (expected expert, answer or papers).
    fn reference(&mut self, rule: &'static str, points: f64) {
        self.push(rule, points, true);
    }

    fn push(&mut self, rule: &'static str, points: f64, reference: bool) {
        if points != 0.0 {
            self.0.push(Verdict {
                rule,
                points,
                reference,
            });
        }
    }
}

/// The rules' verdicts on `response` to `prompt`, and their total.
pub fn score(prompt: &Prompt, response: &Response) -> (f64, Vec<Verdict>) {
    let mut tally = Tally::default();
    let steps = response.plain_steps();
    let failed = response.failed();
    let calls: Vec<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Call { expert, .. } => Some(expert.as_str()),
            _ => None,
        })
        .collect();
    let results: Vec<&str> = steps
        .iter()
        .zip(&failed)
        .filter_map(|(s, &f)| match s {
            Step::Result { text } if !f => Some(text.as_str()),
            _ => None,
        })
        .collect();
    // The model's words: the citation lines the loop adds for the user are not its claims.
    let written = crate::papers::as_written(&response.answer);
    let answer = written.as_str();

    tally.form(
        "finished",
        if response.outcome == Outcome::Answered {
            0.0
        } else {
            -5.0
        },
    );
    tally.form(
        "failed calls",
        -(failed.iter().filter(|&&f| f).count() as f64),
    );
    if let Some(expect) = &prompt.expect {
        let routed = calls.first().copied() == expect.expert.as_deref();
        tally.reference(
            "right expert",
            match (routed, calls.is_empty()) {
                (true, _) => 4.0,
                (false, true) => -3.0,
                (false, false) => -2.0,
            },
        );
        if let Some(expected) = &expect.answer {
            let right = last_number(answer).is_some_and(|n| same_number(&n, expected));
            tally.reference("expected answer", if right { 4.0 } else { -1.0 });
        }
        if !expect.replies.is_empty() {
            let fits = replies_fit(expect, answer);
            tally.reference("the reply to the act", if fits { 4.0 } else { -1.0 });
        }
        let cited = answer_citations(answer);
        if expect.docs.iter().any(|d| cited.contains(d)) {
            tally.reference("cites a relevant paper", 2.0);
        }
    }
    if let (Some(result), Some(given)) = (results.last(), last_number(answer))
        && calls.last().is_some_and(|&c| c != LITERATURE)
    {
        let agrees = numbers_in(result).iter().any(|n| same_number(&given, n));
        tally.form("agrees with the expert", if agrees { 2.0 } else { -2.0 });
    }
    literature_rules(&steps, &failed, answer, &mut tally);
    let known: Vec<String> = std::iter::once(prompt.query.as_str())
        .chain(results.iter().copied())
        .flat_map(numbers_in)
        .collect();
    let invented = numbers_in(answer)
        .iter()
        .filter(|n| !known.iter().any(|k| same_number(n, k)))
        .count();
    tally.form("invented numbers", -2.0 * invented.min(3) as f64);
    tally.form("extra calls", -0.5 * calls.len().saturating_sub(2) as f64);
    let long = answer.chars().count().saturating_sub(200);
    tally.form("long answer", -(long as f64 / 100.0));
    let total = tally.0.iter().map(|v| v.points).sum();
    (total, tally.0)
}

/// What orders a pair of responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decider {
    /// The rules that read only the responses rank the better one higher: a reward model
    /// can learn the order from the text.
    Form,
    /// Those rules tie the pair or prefer the worse response; the reference rules (the
    /// expected expert, answer or papers) decide it, so a reward model must solve the
    /// request to order it.
    Reference,
}

/// What orders `better` above `worse` (as the rules rank them) for `prompt`.
pub fn decider(prompt: &Prompt, better: &Response, worse: &Response) -> Decider {
    let form = |r: &Response| -> f64 {
        let (_, verdicts) = score(prompt, r);
        verdicts
            .iter()
            .filter(|v| !v.reference)
            .map(|v| v.points)
            .sum()
    };
    if form(better) > form(worse) {
        Decider::Form
    } else {
        Decider::Reference
    }
}

/// Citations: every paper found is cited (in proportion), none that was not found.
fn literature_rules(steps: &[Step], failed: &[bool], answer: &str, tally: &mut Tally) {
    let found = found_papers(steps, failed);
    let cited = answer_citations(answer);
    if !found.is_empty() {
        let covered = found.iter().filter(|d| cited.contains(d)).count();
        tally.form(
            "cites what it found",
            2.0 * covered as f64 / found.len() as f64,
        );
    }
    let invented = cited.iter().filter(|d| !found.contains(d)).count();
    tally.form(
        "cites papers it did not find",
        -2.0 * invented.min(3) as f64,
    );
}

/// How the ranker labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// The probability of reversing a comparison's ranking.
    pub noise: f64,
    pub seed: u64,
}

impl Rules {
    pub fn name(&self) -> String {
        if self.noise > 0.0 {
            format!("rules (noise {})", self.noise)
        } else {
            "rules".to_string()
        }
    }
}

/// Ranks the distinct-scoring responses of `candidates`, best first; `None` when fewer
/// than two remain. `index` (the candidates' position in their file) seeds the noise, so
/// a run labels the same way every time.
pub fn rank(candidates: &Candidates, rules: &Rules, index: u64, at: &str) -> Option<Comparison> {
    let mut scored: Vec<(f64, &Response)> = Vec::new();
    for response in &candidates.responses {
        let (total, _) = score(&candidates.prompt, response);
        let duplicate = scored
            .iter()
            .any(|(s, r)| (s - total).abs() < 1e-9 || r.looks_the_same(response));
        if !duplicate {
            scored.push((total, response));
        }
    }
    if scored.len() < 2 {
        return None;
    }
    // Responses stay in the order they were sampled; the ranking orders them.
    let mut ranking: Vec<usize> = (0..scored.len()).collect();
    ranking.sort_by(|&a, &b| scored[b].0.total_cmp(&scored[a].0));
    let responses: Vec<Response> = scored.into_iter().map(|(_, r)| r.clone()).collect();
    let mut rng = SplitMix64::new(rules.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    if f64::from(rng.next_f32()) < rules.noise {
        ranking.reverse();
    }
    Some(Comparison {
        candidates: Candidates {
            prompt: candidates.prompt.clone(),
            responses,
        },
        ranking,
        ranker: rules.name(),
        at: at.to_string(),
    })
}
