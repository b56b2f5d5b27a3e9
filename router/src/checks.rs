//! The answer checks: what a finished answer must hold for its turn, so that garbled text
//! ("The answer is 2. [4983] …") never reaches a user. An answer after a search cites a
//! paper the search found; an answer after a calculation or a program gives a number its
//! results hold and cites no paper; an answer without results cites none; every answer says
//! something. One that fails is replaced by the loop's own, made from the results alone.

use crate::agent::TracedStep;
use crate::demos::{LITERATURE, cited_ids};
use crate::grounding::numbers_in;
use crate::judge::answer_citations;
use crate::protocol::Step;

/// Why an answer was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No letter, digit or Chinese character beyond an answer frame ("The answer is () + ) * ?").
    Empty,
    /// After a search: cites no paper it found, or one it did not.
    CitesNothingFound,
    /// After a search: written as a calculation's answer ("The answer is 1. [4983] …").
    SearchAsCalculation,
    /// After a calculation or a program: no number of their results.
    NoResultNumber,
    /// Cites papers when the turn searched nothing.
    CitesWithoutSearch,
}

/// The last expert whose call succeeded this turn, every successful result's text, and
/// the papers the successful searches found, best first, each once.
struct Results<'s> {
    last_expert: Option<&'s str>,
    texts: Vec<&'s str>,
    papers: Vec<String>,
}

fn results(steps: &[TracedStep]) -> Results<'_> {
    let mut expert = None;
    let mut out = Results {
        last_expert: None,
        texts: Vec::new(),
        papers: Vec::new(),
    };
    for traced in steps {
        match &traced.step {
            Step::Call { expert: name, .. } => expert = Some(name.as_str()),
            Step::Result { text } if traced.error.is_none() => {
                out.last_expert = expert;
                out.texts.push(text);
                if expert == Some(LITERATURE) {
                    for id in cited_ids(text) {
                        if !out.papers.contains(&id) {
                            out.papers.push(id);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The frames a calculation's answer is written in.
const ANSWER_FRAMES: [&str; 2] = ["the answer is", "答案是"];

/// Whether `answer` says anything beyond its frame: a letter, a digit or a Chinese character
/// (Han characters are alphanumeric too).
fn says_something(answer: &str) -> bool {
    let rest = ANSWER_FRAMES
        .iter()
        .fold(answer.to_lowercase(), |text, frame| text.replace(frame, ""));
    rest.chars().any(char::is_alphanumeric)
}

/// What is wrong with `answer` as the end of a turn of `steps`, if anything.
pub fn check(answer: &str, steps: &[TracedStep]) -> Option<Fault> {
    if !says_something(answer) {
        return Some(Fault::Empty);
    }
    let cited = answer_citations(answer);
    let results = results(steps);
    match results.last_expert {
        Some(LITERATURE) => {
            let lower = answer.to_lowercase();
            if ANSWER_FRAMES.iter().any(|frame| lower.contains(frame)) {
                return Some(Fault::SearchAsCalculation);
            }
            // A search that found nothing is answered by citing nothing.
            let found = &results.papers;
            let fine =
                cited.iter().all(|c| found.contains(c)) && cited.is_empty() == found.is_empty();
            (!fine).then_some(Fault::CitesNothingFound)
        }
        Some(_) => {
            // An expert that returns words (a plugin's definition, say) asks for no number.
            let returned: Vec<String> = results.texts.iter().flat_map(|t| numbers_in(t)).collect();
            let gives_one =
                returned.is_empty() || numbers_in(answer).iter().any(|n| returned.contains(n));
            (!gives_one || !cited.is_empty()).then_some(Fault::NoResultNumber)
        }
        None => (!cited.is_empty()).then_some(Fault::CitesWithoutSearch),
    }
}

/// The loop's answer in place of one that failed its checks: what the last successful
/// expert returned, said as such, in the request's language (a program that printed
/// nothing and returned `()` gave no value); without results, that the request was not
/// understood.
pub fn honest_answer(steps: &[TracedStep], chinese: bool) -> String {
    let results = results(steps);
    let last = results.texts.last().copied().unwrap_or_default();
    match (results.last_expert, chinese) {
        (Some(LITERATURE), _) => {
            let found: Vec<String> = (results.papers.iter())
                .take(3)
                .map(|id| format!("[{id}]"))
                .collect();
            match (found.is_empty(), chinese) {
                (true, false) => "The search found no papers for this request.".into(),
                (true, true) => "没有检索到相关的论文。".into(),
                (false, false) => format!("The search found these papers: {}.", found.join(", ")),
                (false, true) => format!("检索到的论文：{}。", found.join("、")),
            }
        }
        (Some(expert), false) if !last.chars().any(char::is_alphanumeric) => {
            format!("The {expert} expert ran but returned no value, so there is no answer to give.")
        }
        (Some(expert), true) if !last.chars().any(char::is_alphanumeric) => {
            format!("{expert}专家运行了，但没有返回值，所以没有答案。")
        }
        (Some(expert), false) => format!(
            "I could not put an answer into words; the {expert} returned: {}",
            crate::clip(last.trim(), 200)
        ),
        (Some(expert), true) => format!(
            "未能写出答案；{expert}返回的结果是：{}",
            crate::clip(last.trim(), 200)
        ),
        (None, false) => "I am not sure how to answer that. Could you say it another way?".into(),
        (None, true) => "我不确定该如何回答，能换一种说法吗？".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_steps::call;

    #[test]
    fn answers_that_fit_their_turn_pass() {
        let search = call(LITERATURE, "1. [4983] A paper. (1998).\n2. [77] B.", None);
        assert_eq!(
            check("The most relevant papers: [4983], [77].", &search),
            None
        );
        let sum = call("calculator", "391", None);
        assert_eq!(check("17 times 23 is 391.", &sum), None);
        assert_eq!(check("你好！", &[]), None);
    }

    #[test]
    fn garbled_answers_fail_with_their_fault() {
        let search = call(LITERATURE, "1. [4983] A paper. (1998).", None);
        assert_eq!(
            check("The answer is 2.", &search),
            Some(Fault::SearchAsCalculation)
        );
        assert_eq!(
            check("Two papers.", &search),
            Some(Fault::CitesNothingFound)
        );
        assert_eq!(check("See [12].", &search), Some(Fault::CitesNothingFound));
        assert_eq!(
            check("The answer is 1. [4983] A paper.", &search),
            Some(Fault::SearchAsCalculation)
        );
        let sum = call("calculator", "391", None);
        assert_eq!(
            check("The answer is 2. [4983]", &sum),
            Some(Fault::NoResultNumber)
        );
        assert_eq!(check("It is 400.", &sum), Some(Fault::NoResultNumber));
        assert_eq!(
            check("[4983] is relevant.", &[]),
            Some(Fault::CitesWithoutSearch)
        );
        assert_eq!(check(" ].", &[]), Some(Fault::Empty));
        // A program that returned nothing leaves a frame around nothing.
        let unit = call("code", "()", None);
        assert_eq!(check("The answer is () + ) * ?", &unit), Some(Fault::Empty));
        assert_eq!(check("答案是（）。", &unit), Some(Fault::Empty));
        assert_eq!(
            check("The answer is 42.", &sum),
            Some(Fault::NoResultNumber)
        );
        assert_eq!(check("The answer is 391.", &sum), None);
    }

    #[test]
    fn an_expert_of_words_asks_for_no_number() {
        let words = call("dictionary", "a small book of maps", None);
        assert_eq!(check("It is a small book of maps.", &words), None);
    }

    #[test]
    fn a_failed_call_is_no_result_to_answer_from() {
        let mut steps = call("calculator", "391", None);
        steps.extend(call(LITERATURE, "error: timeout", Some("timeout")));
        assert_eq!(check("It is 391.", &steps), None, "the calculation stands");
    }

    #[test]
    fn the_honest_answer_says_what_the_experts_returned() {
        let search = call(
            LITERATURE,
            "1. [4983] A.\n2. [77] B.\n3. [5] C.\n4. [6] D.",
            None,
        );
        assert_eq!(
            honest_answer(&search, false),
            "The search found these papers: [4983], [77], [5]."
        );
        assert_eq!(
            honest_answer(&search, true),
            "检索到的论文：[4983]、[77]、[5]。"
        );
        let sum = call("calculator", "391", None);
        assert_eq!(
            honest_answer(&sum, false),
            "I could not put an answer into words; the calculator returned: 391"
        );
        assert!(honest_answer(&[], true).starts_with("我不确定"));
        let nothing = call(LITERATURE, "No papers matched.", None);
        assert_eq!(
            honest_answer(&nothing, false),
            "The search found no papers for this request."
        );
        assert_eq!(check("Nothing matched.", &nothing), None);
        let unit = call("code", "()", None);
        assert_eq!(
            honest_answer(&unit, false),
            "The code expert ran but returned no value, so there is no answer to give."
        );
        assert_eq!(
            honest_answer(&unit, true),
            "code专家运行了，但没有返回值，所以没有答案。"
        );
        // The honest answer passes its own checks.
        for steps in [search, sum, nothing, unit, Vec::new()] {
            assert_eq!(check(&honest_answer(&steps, false), &steps), None);
            assert_eq!(check(&honest_answer(&steps, true), &steps), None);
        }
    }
}
