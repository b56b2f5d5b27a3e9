//! Real requests: GSM8K's grade-school word problems (`../shared/data/gsm8k/train.jsonl`,
//! MIT licence). Their worked solutions mark each calculation as a calculator call,
//! `<<48/2=24>>`, which is our protocol's shape. A problem becomes a demonstration: its
//! question, one calculator call per annotation run on the real calculator (whose result
//! must equal the annotation's), and the answer, which must be one of those results.
//!
//! A fixed share of the problems (every n-th) is a validation split, never trained on, and
//! written as an evaluation suite whole: it is not filtered by what the converter can use,
//! so its accuracy is over real problems, not chosen ones. Only training problems that a
//! grounded agent could solve are kept as demonstrations: every operand is a number of the
//! question (digits or words, [`crate::grounding::implied_numbers`]) or an earlier result.

use std::collections::BTreeMap;

use miracle_experts::{Context, Registry};
use serde::Deserialize;

use super::{Category, Demo, Expect, Lang, Split, number_answer};
use crate::grounding::{Grounding, Span};
use crate::protocol::{Dialogue, Exchange, Step};

/// One GSM8K line.
#[derive(Debug, Deserialize)]
struct Line {
    question: String,
    answer: String,
}

/// A problem, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub index: usize,
    pub question: String,
    /// The annotated calculations: (expression, result), in order.
    pub calls: Vec<(String, String)>,
    /// The final answer (after `####`), without thousands separators.
    pub answer: String,
}

impl Problem {
    /// `gsm8k-N-Kstep`: the step count travels in the id, for reports by steps.
    pub fn id(&self) -> String {
        format!("gsm8k-{}-{}step", self.index, self.calls.len())
    }

    /// The line of an evaluation suite.
    pub fn suite_line(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id(),
            "lang": Lang::En,
            "category": Category::Calc,
            "query": self.question,
            "expect": {"expert": "calculator", "answer": self.answer, "docs": []},
        })
    }
}

/// Reads GSM8K's JSON Lines; the error names the line.
pub fn read(text: &str) -> Result<Vec<Problem>, String> {
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Line { question, answer } = serde_json::from_str(line)
            .map_err(|e| format!("line {}: not a GSM8K problem: {e}", i + 1))?;
        let (solution, final_answer) = answer
            .rsplit_once("####")
            .ok_or_else(|| format!("line {}: the solution has no `#### answer`", i + 1))?;
        problems.push(Problem {
            index: problems.len(),
            question: question.trim().to_string(),
            calls: annotations(solution),
            answer: final_answer.trim().replace(',', ""),
        });
    }
    Ok(problems)
}

/// The `<<expression=result>>` annotations of a solution, in order.
fn annotations(solution: &str) -> Vec<(String, String)> {
    let mut calls = Vec::new();
    let mut rest = solution;
    while let Some(open) = rest.find("<<") {
        let Some(close) = rest[open..].find(">>") else {
            break;
        };
        let inside = &rest[open + 2..open + close];
        if let Some((expression, result)) = inside.rsplit_once('=') {
            calls.push((expression.trim().to_string(), result.trim().to_string()));
        }
        rest = &rest[open + close + 2..];
    }
    calls
}

/// The demonstrations and validation suite made from GSM8K, with why problems were left
/// out of training.
#[derive(Debug, Default)]
pub struct Converted {
    pub train: Vec<Demo>,
    /// Every validation problem, whole.
    pub validation: Vec<Problem>,
    /// Reason → training problems left out for it.
    pub left_out: BTreeMap<&'static str, usize>,
}

/// Converts `problems`: every `heldout_every`-th is validation, the rest training.
pub async fn convert(problems: &[Problem], registry: &Registry, heldout_every: usize) -> Converted {
    let mut converted = Converted::default();
    for problem in problems {
        if problem.index % heldout_every.max(1) == 0 {
            converted.validation.push(problem.clone());
            continue;
        }
        match demonstration(problem, registry).await {
            Ok(demo) => converted.train.push(demo),
            Err(reason) => *converted.left_out.entry(reason).or_default() += 1,
        }
    }
    converted
}

/// A training problem as a demonstration, or why it cannot be one.
async fn demonstration(problem: &Problem, registry: &Registry) -> Result<Demo, &'static str> {
    if problem.calls.is_empty() {
        return Err("no calculator annotation");
    }
    let mut grounding = Grounding::default();
    grounding.read_request(&problem.question);
    let mut steps = Vec::new();
    let mut answer = None;
    for (expression, annotated) in &problem.calls {
        let grounded = Span::default()
            .after(expression.as_bytes(), &grounding)
            .is_some_and(|span| span.can_end(&grounding));
        if !grounded {
            return Err("an operand is neither in the question nor an earlier result");
        }
        let seen = registry
            .call("calculator", expression, &Context::default())
            .await
            .map_err(|_| "the calculator refuses an annotated expression")?;
        if !same_number(&seen.text, annotated) {
            return Err("an annotation's result disagrees with the calculator");
        }
        grounding.read(&seen.text);
        if same_number(&seen.text, &problem.answer) {
            answer = Some(seen.text.clone());
        }
        steps.push(Step::Call {
            expert: "calculator".into(),
            input: expression.clone(),
        });
        steps.push(Step::Result { text: seen.text });
    }
    let answer = answer.ok_or("the answer is no calculator result")?;
    steps.push(Step::Answer {
        text: number_answer(Lang::En, &answer),
    });
    Ok(Demo {
        id: problem.id(),
        lang: Lang::En,
        category: Category::Calc,
        family: format!("gsm8k.{}step", problem.calls.len().min(8)),
        template: 0,
        split: Split::Train,
        expect: Expect {
            expert: Some("calculator".into()),
            answer: Some(problem.answer.clone()),
            docs: Vec::new(),
            replies: Vec::new(),
        },
        dialogue: Dialogue {
            system: None,
            exchanges: vec![Exchange {
                user: problem.question.clone(),
                steps,
            }],
        },
    })
}

/// Whether two texts are the same number (GSM8K rounds some annotated results).
fn same_number(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        s.trim()
            .trim_start_matches('$')
            .replace(',', "")
            .parse::<f64>()
    };
    match (parse(a), parse(b)) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-6 * y.abs().max(1.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"{"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?", "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"}
{"question": "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?", "answer": "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10"}
{"question": "A shop has 7 pens and sells 3. How many are left?", "answer": "7-5=<<7-5=2>>2\n#### 2"}"#;

    #[test]
    fn solutions_become_calls_checked_by_the_calculator() {
        let problems = read(TWO).unwrap();
        assert_eq!(
            problems[0].calls,
            [("48/2".into(), "24".into()), ("48+24".into(), "72".into())]
        );
        assert_eq!(problems[1].answer, "10");
        assert_eq!(problems[0].id(), "gsm8k-0-2step");
        let registry = crate::agent_registry();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Every problem a training one (heldout_every larger than the count, index 0 aside).
        let converted = runtime.block_on(convert(&problems, &registry, 1000));
        assert_eq!(converted.validation.len(), 1, "problem 0 is validation");
        // "half" admits the 2 of 48/2; "an hour" the 60 of 12/60.
        assert_eq!(converted.train.len(), 1, "{:?}", converted.left_out);
        let weng = &converted.train[0];
        assert_eq!(
            weng.dialogue.exchanges[0].steps,
            [
                Step::Call {
                    expert: "calculator".into(),
                    input: "12/60".into()
                },
                Step::Result { text: "0.2".into() },
                Step::Call {
                    expert: "calculator".into(),
                    input: "0.2*50".into()
                },
                Step::Result { text: "10".into() },
                Step::Answer {
                    text: "The answer is 10.".into()
                },
            ]
        );
        // 5 is in no sentence of the third problem: not a demonstration a grounded agent
        // could give.
        assert_eq!(
            converted.left_out["an operand is neither in the question nor an earlier result"],
            1
        );
    }

    #[test]
    fn broken_lines_are_named() {
        assert!(
            read("{\"question\": 1}")
                .unwrap_err()
                .starts_with("line 1:")
        );
        assert!(
            read("{\"question\": \"q\", \"answer\": \"no marker\"}")
                .unwrap_err()
                .contains("####")
        );
    }
}
