//! What makes a finished run right, shared by evaluation (`miracle eval`) and the
//! programmatic ranker: the number an answer gives, whether two numbers agree, the papers
//! a literature result and an answer cite.

use crate::demos::{Expect, LITERATURE, cited_ids};
use crate::protocol::Step;

/// Whether a run did its task: it called the expected expert first (none, for a direct
/// request), gave the expected number or one of the expected replies when there is one, and — for literature — cited at
/// least one paper its search found and none it did not.
pub fn succeeded(expect: &Expect, steps: &[Step], failed: &[bool], answer: &str) -> bool {
    let first_call = steps.iter().find_map(|s| match s {
        Step::Call { expert, .. } => Some(expert.as_str()),
        _ => None,
    });
    if first_call != expect.expert.as_deref() {
        return false;
    }
    if let Some(expected) = &expect.answer
        && !last_number(answer).is_some_and(|n| same_number(&n, expected))
    {
        return false;
    }
    if !replies_fit(expect, answer) {
        return false;
    }
    if expect.expert.as_deref() == Some(LITERATURE) {
        let found = found_papers(steps, failed);
        let cited = answer_citations(answer);
        return !cited.is_empty() && cited.iter().all(|c| found.contains(c));
    }
    true
}

/// Whether `answer` is one of the replies a social act expects (any answer, where the
/// suite names none).
pub fn replies_fit(expect: &Expect, answer: &str) -> bool {
    expect.replies.is_empty() || expect.replies.iter().any(|r| r == answer.trim())
}

/// The last number written in `text` (`-12`, `3.5`, `1,234` read as 1234).
pub fn last_number(text: &str) -> Option<String> {
    let mut numbers = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let digit_follows = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        let in_number = !current.is_empty();
        if c.is_ascii_digit()
            || (c == '-' && !in_number && digit_follows)
            || ((c == '.' || c == ',') && in_number && digit_follows)
        {
            if c != ',' {
                current.push(c);
            }
        } else if in_number {
            numbers.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        numbers.push(current);
    }
    numbers.pop()
}

/// Whether two written numbers are the same number (to a relative 1e-9).
pub fn same_number(found: &str, expected: &str) -> bool {
    found == expected
        || matches!((found.parse::<f64>(), expected.parse::<f64>()), (Ok(a), Ok(b)) if (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

/// The papers the literature calls of a run returned, best first, each once; failed
/// calls return none.
pub fn found_papers(steps: &[Step], errors: &[bool]) -> Vec<String> {
    let mut docs: Vec<String> = Vec::new();
    let mut calling_literature = false;
    for (step, &failed) in steps.iter().zip(errors) {
        match step {
            Step::Call { expert, .. } => calling_literature = expert == LITERATURE,
            Step::Result { text } if calling_literature && !failed => {
                for id in cited_ids(text) {
                    if !docs.contains(&id) {
                        docs.push(id);
                    }
                }
            }
            _ => {}
        }
    }
    docs
}

/// The ids an answer cites in brackets (`[27768226]`), in order.
pub fn answer_citations(answer: &str) -> Vec<String> {
    answer
        .split('[')
        .skip(1)
        .filter_map(|rest| rest.split_once(']').map(|(id, _)| id.trim().to_string()))
        .filter(|id| !id.is_empty() && !id.contains(char::is_whitespace))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_number_is_the_answer() {
        assert_eq!(
            last_number("The answer is 48218.").as_deref(),
            Some("48218")
        );
        assert_eq!(last_number("答案是-3。").as_deref(), Some("-3"));
        assert_eq!(
            last_number("2 * 3 = 6, so 1,234.5 in all").as_deref(),
            Some("1234.5")
        );
        assert_eq!(last_number("no number"), None);
        assert!(same_number("11", "11") && same_number("11.0", "11") && !same_number("12", "11"));
    }

    #[test]
    fn success_needs_the_route_the_number_the_reply_and_honest_citations() {
        let expect = |expert: Option<&str>, answer: Option<&str>| Expect {
            expert: expert.map(String::from),
            answer: answer.map(String::from),
            docs: vec![],
            replies: Vec::new(),
        };
        let call = |expert: &str, result: &str| {
            vec![
                Step::Call {
                    expert: expert.into(),
                    input: "x".into(),
                },
                Step::Result {
                    text: result.into(),
                },
            ]
        };
        let calc = expect(Some("calculator"), Some("391"));
        let steps = call("calculator", "391");
        assert!(succeeded(&calc, &steps, &[false, false], "It is 391."));
        assert!(!succeeded(&calc, &steps, &[false, false], "It is 390."));
        assert!(!succeeded(
            &calc,
            &call("code", "391"),
            &[false, false],
            "It is 391."
        ));
        let direct = expect(None, None);
        assert!(succeeded(&direct, &[], &[], "Hello!"));
        assert!(!succeeded(&direct, &steps, &[false, false], "Hello!"));
        let greeting = Expect {
            replies: crate::demos::direct_replies("direct.greeting", crate::demos::Lang::En),
            ..expect(None, None)
        };
        let hello = &greeting.replies[0];
        assert!(succeeded(&greeting, &[], &[], &format!("{hello}\n")));
        let goodbye = crate::demos::direct_answer("direct.farewell", crate::demos::Lang::En);
        assert!(!succeeded(&greeting, &[], &[], goodbye.unwrap()));
        // A question about the assistant is answered by its own reply or the greeting's.
        let about = crate::demos::direct_replies("direct.about", crate::demos::Lang::Zh);
        assert_eq!(about.len(), 2);
        let lit = expect(Some(LITERATURE), None);
        let found = call(LITERATURE, "1. [a1] One.");
        assert!(succeeded(&lit, &found, &[false, false], "See [a1]."));
        assert!(!succeeded(&lit, &found, &[false, false], "See [a1], [zz]."));
        assert!(!succeeded(&lit, &found, &[false, false], "Nothing."));
    }

    #[test]
    fn papers_come_from_successful_literature_results_and_bracketed_answers() {
        let steps = vec![
            Step::Call {
                expert: LITERATURE.into(),
                input: "x".into(),
            },
            Step::Result {
                text: "1. [a1] One.\n2. [b2] Two.".into(),
            },
            Step::Call {
                expert: LITERATURE.into(),
                input: "y".into(),
            },
            Step::Result {
                text: "1. [c3] Failed.".into(),
            },
        ];
        assert_eq!(
            found_papers(&steps, &[false, false, false, true]),
            ["a1", "b2"]
        );
        assert_eq!(
            answer_citations("The most relevant papers: [a1], [b2]. See [ x y ]."),
            ["a1", "b2"]
        );
    }
}
