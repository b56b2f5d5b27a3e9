//! Number slots: the model reads and writes a conversation's quantities as `N0`, `N1`, …
//! instead of their digits, and the router fills the digits in (the Math23K family's number
//! mapping; ../shared/notes/router-generalisation.md, item 3). A request's numbers take
//! slots in the order they first appear; every expert result but a search's takes the next
//! slot, so a later call names it as well. A call or a note writes a slot for a number the
//! conversation holds, and digits only for a number it does not (a constant such as the 2 of
//! `k % 2`). Which number is the bound and which the divisor is then a choice among a few
//! names, not a string of digits to copy.
//!
//! One table per conversation ([`Slots`]) does both directions: training renders each
//! demonstration through [`encode`], and the agent shows the model the same text and
//! [`Slots::decode`]s what it writes before an expert runs or a user reads it. A model
//! directory that was fine-tuned so carries [`MARKER`].

use std::path::Path;

use crate::grounding::number_spans;
use crate::protocol::{Dialogue, Step};

/// The file in a model directory that says its model reads number slots.
pub const MARKER: &str = "number-slots";

/// Whether the model in `dir` reads number slots ([`MARKER`]).
pub fn marked(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

/// Refuses a model that reads number slots where `command` would run it without them (it
/// would read digits it never saw as numbers, and answer wrongly without a word of why).
pub fn refuse(dir: Option<&Path>, command: &str) -> Result<(), String> {
    match dir.filter(|dir| marked(dir)) {
        Some(dir) => Err(format!(
            "{}: this model reads numbers as slots (docs/TRAINING.md, \"Number slots\"), which `{command}` does not run yet; run it with `miracle ask --ungrounded` or `miracle eval --ungrounded`",
            dir.display()
        )),
        None => Ok(()),
    }
}

/// Marks the model in `dir` as one that reads number slots.
pub fn mark(dir: &Path) -> std::io::Result<()> {
    std::fs::write(
        dir.join(MARKER),
        "This model reads and writes numbers as slots N0, N1, … (miracle_router::slots).\n",
    )
}

/// A conversation's numbers, slot `Nk` holding the k-th, as the calculator writes it (no
/// thousands separator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    numbers: Vec<String>,
}

impl Slots {
    /// The slot of `value`, if the conversation holds it.
    fn slot_of(&self, value: &str) -> Option<usize> {
        self.numbers.iter().position(|n| n == value)
    }

    /// `text` with each number the table holds written as its slot; with `add`, a number it
    /// does not hold takes the next slot, otherwise it stays in digits.
    fn encode_text(&mut self, text: &str, add: bool) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        // The numbers a grounded span reads: thousands groups read through (`1,240` is
        // 1240), none inside a word (`N95`, `H2O`), so a slot is never read as a number.
        for (span, value) in number_spans(text) {
            let slot = match self.slot_of(&value) {
                Some(slot) => Some(slot),
                None if add => {
                    self.numbers.push(value);
                    Some(self.numbers.len() - 1)
                }
                None => None,
            };
            if let Some(slot) = slot {
                out.push_str(&text[at..span.start]);
                out.push_str(&format!("N{slot}"));
                at = span.end;
            }
        }
        out.push_str(&text[at..]);
        out
    }

    /// A user's words: every number takes a slot.
    pub fn request(&mut self, text: &str) -> String {
        self.encode_text(text, true)
    }

    /// What the model writes (a note, a call's input, an answer), or an error it is shown:
    /// the conversation's numbers as slots, any other in digits.
    pub fn known(&mut self, text: &str) -> String {
        self.encode_text(text, false)
    }

    /// What `expert` returned: a search's result holds paper ids and is shown as it is; an
    /// error's numbers are no facts, so they take no slot; any other result's numbers do.
    pub fn result(&mut self, expert: &str, text: &str) -> String {
        if expert == crate::demos::LITERATURE {
            text.to_string()
        } else if text.starts_with(crate::agent::ERROR_PREFIX) {
            self.known(text)
        } else {
            self.encode_text(text, true)
        }
    }

    /// `text` with each slot it names written as its number; a name the table does not
    /// hold (`N95` of a mask, a slot never given) stays as it is.
    pub fn decode(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < bytes.len() {
            let glued = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            if bytes[i] != b'N' || glued {
                i += 1;
                continue;
            }
            let mut end = i + 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let number = (end > i + 1)
                .then(|| text[i + 1..end].parse::<usize>().ok())
                .flatten()
                .and_then(|k| self.numbers.get(k));
            if let Some(number) = number {
                out.push_str(&text[at..i]);
                out.push_str(number);
                at = end;
            }
            i = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// A dialogue as a model that reads number slots sees it, and the table that fills them in.
/// The system prompt stays as it is.
pub fn encode(dialogue: &Dialogue) -> (Dialogue, Slots) {
    let mut slots = Slots::default();
    let mut out = Dialogue {
        system: dialogue.system.clone(),
        exchanges: Vec::with_capacity(dialogue.exchanges.len()),
    };
    for exchange in &dialogue.exchanges {
        let user = slots.request(&exchange.user);
        let mut expert = "";
        let steps = (exchange.steps.iter())
            .map(|step| match step {
                Step::Think { text } => Step::Think {
                    text: slots.known(text),
                },
                Step::Answer { text } => Step::Answer {
                    text: slots.known(text),
                },
                Step::Call {
                    expert: name,
                    input,
                } => {
                    expert = name;
                    Step::Call {
                        expert: name.clone(),
                        input: slots.known(input),
                    }
                }
                Step::Result { text } => Step::Result {
                    text: slots.result(expert, text),
                },
            })
            .collect();
        out.exchanges
            .push(crate::protocol::Exchange { user, steps });
    }
    (out, slots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Exchange;

    fn dialogue(user: &str, steps: Vec<Step>) -> Dialogue {
        Dialogue {
            system: None,
            exchanges: vec![Exchange {
                user: user.into(),
                steps,
            }],
        }
    }

    fn call(expert: &str, input: &str) -> Step {
        Step::Call {
            expert: expert.into(),
            input: input.into(),
        }
    }

    fn result(text: &str) -> Step {
        Step::Result { text: text.into() }
    }

    #[test]
    fn a_story_and_its_calls_are_told_in_slots_and_filled_back() {
        let story = dialogue(
            "Tom had 1,240 stamps. He gave 15 to his sister and 15 to Ann. How many are left?",
            vec![
                call("calculator", "1240 - 15 * 2"),
                result("1210"),
                Step::Answer {
                    text: "The answer is 1210.".into(),
                },
            ],
        );
        let (seen, slots) = encode(&story);
        let exchange = &seen.exchanges[0];
        assert_eq!(
            exchange.user,
            "Tom had N0 stamps. He gave N1 to his sister and N1 to Ann. How many are left?"
        );
        assert_eq!(exchange.steps[0], call("calculator", "N0 - N1 * 2"));
        assert_eq!(exchange.steps[1], result("N2"));
        assert_eq!(
            exchange.steps[2],
            Step::Answer {
                text: "The answer is N2.".into()
            }
        );
        assert_eq!(slots.decode("N0 - N1 * 2"), "1240 - 15 * 2");
        assert_eq!(slots.decode("The answer is N2."), "The answer is 1210.");
    }

    #[test]
    fn names_glued_to_letters_and_slots_never_given_stay_as_written() {
        let mut slots = Slots::default();
        let seen = slots.request("N95 masks cost 3.5 dollars; COVID-19 and H2O, 12km.");
        assert_eq!(seen, "N95 masks cost N0 dollars; COVID-N1 and H2O, N2km.");
        assert_eq!(
            slots.decode("N95 N0 N2 N7 N2x xN0"),
            "N95 3.5 12 N7 12x xN0"
        );
        assert_eq!(
            slots.decode(&seen),
            "N95 masks cost 3.5 dollars; COVID-19 and H2O, 12km."
        );
    }

    #[test]
    fn a_search_keeps_its_paper_ids_and_an_error_adds_no_slot() {
        let story = dialogue(
            "Papers on 5G from 2019?",
            vec![
                call("literature", "5G 2019"),
                result("1. [2019] A study (2019)"),
                call("calculator", "2019 / 0"),
                result("error: calculator: division by zero in 2019 / 0"),
            ],
        );
        let (seen, slots) = encode(&story);
        let steps = &seen.exchanges[0].steps;
        assert_eq!(seen.exchanges[0].user, "Papers on N0G from N1?");
        assert_eq!(steps[0], call("literature", "N0G N1"));
        assert_eq!(steps[1], result("1. [2019] A study (2019)"));
        assert_eq!(
            steps[3],
            result("error: calculator: division by zero in N1 / 0")
        );
        assert_eq!(slots.decode("N0G N1 N2"), "5G 2019 N2");
    }

    #[test]
    fn chinese_requests_and_decimals_take_slots_in_order() {
        let mut slots = Slots::default();
        assert_eq!(
            slots.request("1至3383里8或13的倍数共有几个？平均2.5"),
            "N0至N1里N2或N3的倍数共有几个？平均N4"
        );
        assert_eq!(
            slots.decode("for i in N0..=N1 { i % N2 }"),
            "for i in 1..=3383 { i % 8 }"
        );
        assert_eq!(slots.result("code", "-416"), "-N5");
        assert_eq!(slots.decode("-N5"), "-416");
    }
}
