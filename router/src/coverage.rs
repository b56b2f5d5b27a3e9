//! Coverage: a calculation that leaves out a quantity the user gave has not finished.
//!
//! A word problem's quantities are all there to be used ("What is 408 multiplied by 955,
//! minus 685?"). The default model often makes a first call and answers from it: of the
//! calculator requests it got wrong, 27 of 37 on the dev suite and 47 of 169 on the held-out
//! suite left a number of the request out of every calculation, while none it got right
//! did. So once an expert that calculates (the calculator) has returned a result, the router
//! withholds the answer while a number of the request is unused, and the model must call
//! again: a [`Carry`], arithmetic that goes on from the results with the numbers left. The
//! router stops pressing when a pressed call could not be finished, and when calls run out.
//! The model still writes every call, its operator and its order: the router decides only
//! that one more is due and what it may be written with.
//!
//! The price: a number that is no operand ("Room 3 holds 120 books…") gets a call too many.
//! The default model alone used such numbers as often; ordinals ("the 2nd time") are left
//! out, being places, not quantities. `Agent::press_confidence` (off by default) lets a model
//! that is sure it is done answer: a question may leave a number out by design ("How many
//! pencils did Tom get in all?").

use std::collections::BTreeSet;

use crate::grounding::{numbers_in, spelled_numbers};

/// The bytes a pressed call's input is written in: a [`Carry`] is arithmetic.
pub const ARITHMETIC: &[u8] = b"0123456789.+-*/^%() ";

/// The request's numbers that no calculation of this turn has used yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    unused: BTreeSet<String>,
    /// The numbers of this turn's calculated results, in order (with repeats).
    results: Vec<String>,
    /// When the router last pressed for a call: how many numbers were unused then.
    pressed: Option<usize>,
    /// The numbers the request writes as words ("eleven jars") that no call has written
    /// yet: a pressed call may write them, and none must ("one of them" is no quantity).
    spelled: Vec<String>,
}

impl Coverage {
    /// Nothing of `request` used yet. An ordinal ("the 2nd time", "the 80th term") names a
    /// place, not a quantity, so it is no number a calculation must use.
    pub fn of(request: &str) -> Self {
        Coverage {
            unused: numbers_in(&without_ordinals(request)).into_iter().collect(),
            results: Vec::new(),
            pressed: None,
            spelled: spelled_numbers(request),
        }
    }

    /// A calculation was written with `input`; `result` is its expert's answer, `None` when
    /// it failed.
    pub fn called(&mut self, input: &str, result: Option<&str>) {
        for number in numbers_in(input) {
            self.unused.remove(&number);
            if let Some(at) = self.spelled.iter().position(|n| *n == number) {
                self.spelled.remove(at);
            }
        }
        if let Some(result) = result {
            self.results.extend(numbers_in(result));
        }
    }

    /// Whether the model must call again before it answers (with calls left to make): a
    /// calculation has returned a number, and the last pressed call, if any, used a number
    /// left. A `true` counts as pressing, so ask once per opener.
    pub fn press(&mut self) -> bool {
        let press = self.due();
        if press {
            self.pressed = Some(self.unused.len());
        }
        press
    }

    /// Whether [`Coverage::press`] would press now, without pressing.
    pub fn due(&self) -> bool {
        let left = self.unused.len();
        let progressed = self.pressed.is_none_or(|before| left < before);
        !self.results.is_empty() && left > 0 && progressed
    }

    /// How a pressed call is written.
    pub fn carry(&self) -> Carry {
        Carry {
            numbers: (self.results.iter().chain(&self.unused).chain(&self.spelled))
                .cloned()
                .collect(),
            left: self.unused.clone(),
        }
    }
}

/// A pressed call's input: arithmetic that carries the calculation on from this turn's
/// results with the numbers left, each written at most once (the model, held only to the
/// conversation's numbers, wrote `129 + 129` and worse for "…deleted 4 and added 338"
/// after `125 + 4`), and closing only once it has brought a number left in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carry {
    /// What may be written, one use each: the results', the numbers left, then those the
    /// request spells.
    numbers: Vec<String>,
    left: BTreeSet<String>,
}

impl Carry {
    /// Whether `text` may begin a pressed call's input.
    pub fn allows(&self, text: &str) -> bool {
        if arithmetic(text).is_none() {
            return false;
        }
        if text.matches('(').count() > self.numbers.len() {
            return false;
        }
        let (whole, writing) = runs(text);
        let Some(rest) = self.after(&whole) else {
            return false;
        };
        match writing {
            Some(run) => rest.iter().any(|n| n.starts_with(run)),
            // An operator, `(` or a sign waits for a number: one must be left to write
            // (the model, its numbers spent, went on with `* ((((- (-(-(-…`).
            None => {
                !text
                    .trim_end()
                    .ends_with(['+', '-', '*', '/', '^', '%', '('])
                    || !rest.is_empty()
            }
        }
    }

    /// Whether `text` may stand as the whole input.
    pub fn can_close(&self, text: &str) -> bool {
        if arithmetic(text) != Some(true) {
            return false;
        }
        let (mut whole, writing) = runs(text);
        whole.extend(writing);
        self.after(&whole).is_some() && whole.iter().any(|n| self.left.contains(*n))
    }

    /// The numbers still free after `written` took theirs, or `None` when one was not
    /// there to take.
    fn after(&self, written: &[&str]) -> Option<Vec<&str>> {
        let mut free: Vec<&str> = self.numbers.iter().map(String::as_str).collect();
        for number in written {
            let at = free.iter().position(|n| n == number)?;
            free.remove(at);
        }
        Some(free)
    }
}

/// `text` with its English ordinals (`2nd`, `80th`) blanked out.
fn without_ordinals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let digits = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len(), |end| start + end);
        let after = &rest[digits..];
        let ordinal = ["st", "nd", "rd", "th"].iter().any(|suffix| {
            // Compared as bytes: `after` may begin with a Han character.
            after
                .as_bytes()
                .get(..2)
                .is_some_and(|b| b.eq_ignore_ascii_case(suffix.as_bytes()))
                && !after[2..].starts_with(|c: char| c.is_alphanumeric())
        });
        if ordinal {
            out.push(' ');
            rest = &after[2..];
        } else {
            out.push_str(&rest[start..digits]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text` begins an arithmetic expression (numbers, `+ - * / ^ %`, a sign before an
/// operand, balanced parentheses): `None` when it cannot, `Some(true)` when it is whole.
/// The model, pressed, wrote `(((( + 7033788) * 911)`: a carry is arithmetic or nothing.
fn arithmetic(text: &str) -> Option<bool> {
    let mut depth = 0usize;
    // After an operand (a number or `)`): an operator or `)` may follow; before one, a
    // number, `(` or a sign.
    let mut operand = false;
    let mut in_number = false;
    let mut signed = false;
    let mut pointed = false;
    for c in text.chars() {
        let digit = c.is_ascii_digit() || (c == '.' && in_number && !pointed);
        if in_number && !digit {
            in_number = false;
        }
        match c {
            _ if digit => {
                if operand && !in_number {
                    return None;
                }
                if !in_number {
                    pointed = false;
                }
                pointed |= c == '.';
                in_number = true;
                operand = true;
                signed = false;
            }
            ' ' => {}
            '(' if !operand => {
                depth += 1;
                signed = false;
            }
            ')' if operand && depth > 0 => depth -= 1,
            '-' if !operand && !signed => signed = true,
            '+' | '-' | '*' | '/' | '^' | '%' if operand => operand = false,
            _ => return None,
        }
    }
    Some(operand && depth == 0)
}

/// The numbers of `text` (runs of digits and points), and the one still being written
/// when `text` ends inside it.
fn runs(text: &str) -> (Vec<&str>, Option<&str>) {
    let mut runs: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|run| !run.is_empty())
        .collect();
    let writing = text
        .ends_with(|c: char| c.is_ascii_digit() || c == '.')
        .then(|| runs.pop())
        .flatten();
    (runs, writing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_until_every_number_is_used() {
        let mut coverage = Coverage::of("What is 7 multiplied by 9, minus 6?");
        assert!(!coverage.press(), "nothing computed yet: the model decides");
        coverage.called("7 * 9", Some("63"));
        assert!(coverage.press(), "6 is unused");
        coverage.called("63 - 6", Some("57"));
        assert!(!coverage.press());
    }

    #[test]
    fn stops_pressing_when_a_pressed_call_adds_nothing() {
        let mut coverage =
            Coverage::of("A library had 67 magazines. It discarded 81 and received 99.");
        coverage.called("67 + 81", Some("148"));
        assert!(coverage.press());
        coverage.called("148 + 148", Some("296"));
        assert!(!coverage.press(), "no progress: pressing again would loop");
    }

    #[test]
    fn keeps_pressing_while_calls_make_progress() {
        let mut coverage = Coverage::of("1 and 2 and 3 and 4");
        coverage.called("1 + 2", Some("3"));
        assert!(coverage.press());
        coverage.called("3 + 3", Some("6"));
        assert!(
            coverage.press(),
            "4 is still unused, and the last call used 3"
        );
        coverage.called("6 + 4", Some("10"));
        assert!(!coverage.press());
        assert!(coverage.unused.is_empty());
    }

    #[test]
    fn ordinals_are_places_not_quantities() {
        let coverage = Coverage::of("What is 15 plus 27? I ask for the 2nd time, 3RD day.");
        assert_eq!(Vec::from_iter(&coverage.unused), ["15", "27"]);
        let coverage = Coverage::of("Add 4th and 2 things: 5thousand, 10 th");
        assert_eq!(Vec::from_iter(&coverage.unused), ["10", "2", "5"]);
        let coverage = Coverage::of("2加3等于多少？第1个，4");
        assert_eq!(Vec::from_iter(&coverage.unused), ["1", "2", "3", "4"]);
    }

    #[test]
    fn failed_calls_alone_press_for_nothing() {
        let mut coverage = Coverage::of("Good evening 2 you");
        coverage.called("", None);
        assert!(!coverage.press());
        let mut coverage = Coverage::of("no numbers here");
        coverage.called("1 + 1", Some("2"));
        assert!(!coverage.press());
    }

    /// "eleven jars … 37 in each" after `497 - 206`: the press must let the model write the
    /// 11 the request spells (it wrote `291 + 37` when only digits were allowed).
    #[test]
    fn a_carry_may_write_the_numbers_a_request_spells() {
        let mut coverage = Coverage::of(
            "Mia has 497 stickers. She lends out 206 stickers. She finds eleven jars of \
             stickers. Each jar has 37 stickers.",
        );
        coverage.called("497 - 206", Some("291"));
        assert!(coverage.press());
        let carry = coverage.carry();
        assert!(carry.allows("291 + 11 * 37") && carry.can_close("291 + 11 * 37"));
        assert!(!carry.can_close("291 + 11"), "11 is no number left to use");
        assert!(!carry.allows("291 + 12"));
        let mut seven =
            Coverage::of("Grace has seven oranges. She collects 8 more. She is given 57.");
        seven.called("7 + 57", Some("64"));
        assert!(!seven.carry().allows("64 + 7"), "seven is written already");
        let mut zh = Coverage::of("小明有30张卡片，送给弟弟8张，又买了两包，每包6张。");
        zh.called("30 - 8", Some("22"));
        assert!(zh.press() && zh.carry().can_close("22 + 2 * 6"));
    }

    #[test]
    fn a_carry_goes_on_from_the_results_with_the_numbers_left() {
        let mut coverage = Coverage::of("What is 77 multiplied by 40, minus 53?");
        coverage.called("77 * 40", Some("3080"));
        let carry = coverage.carry();
        assert!(
            !carry.allows("40"),
            "40 is used: the calculation goes on from 3080"
        );
        assert!(carry.allows("30"), "a number being written");
        assert!(carry.allows("3080 - 5"));
        assert!(!carry.can_close("3080 - 5"), "5 is no number here");
        assert!(carry.can_close("3080 - 53"));
        assert!(!carry.can_close("3080"), "it must bring a number left in");
        assert!(!carry.allows("3080 - 3080"), "each number once");
        assert!(carry.allows("(3080 - 53) "));
        assert!(
            !carry.allows("(3080 - 53) *"),
            "no number is left to multiply by"
        );
        assert!(!carry.allows("(((3080"), "more parentheses than numbers");
    }

    #[test]
    fn a_carry_is_arithmetic() {
        assert_eq!(arithmetic("(12 + 3) * -4"), Some(true));
        assert_eq!(arithmetic("(12 + 3"), Some(false));
        assert_eq!(arithmetic("12 +"), Some(false));
        assert_eq!(arithmetic("1.5 ^ 2"), Some(true));
        for broken in [
            "(((( + 7",
            "970050 + * 0",
            "12 3",
            "12)",
            "--3",
            "()",
            "1..2 + ",
        ] {
            assert_eq!(arithmetic(broken), None, "{broken}");
        }
        let mut coverage = Coverage::of("What is 6406 times 1098, plus 911?");
        coverage.called("6406 * 1098", Some("7033788"));
        let carry = coverage.carry();
        assert!(!carry.allows("(((( +"));
        assert!(carry.can_close("-7033788 + 911"));
    }

    #[test]
    fn a_number_held_twice_may_be_written_twice() {
        let mut coverage = Coverage::of("What is 2 times 3, plus 6?");
        coverage.called("2 * 3", Some("6"));
        let carry = coverage.carry();
        assert!(
            carry.can_close("6 + 6"),
            "the result 6 and the request's 6 left"
        );
        assert!(!carry.allows("6 + 6 + 6"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Requests and inputs are untrusted text: any of it is read without a panic.
        #[test]
        fn any_text_is_read(
            request in "[0-9a-zA-Z加第个 .,+*()-]{0,24}|\\PC{0,24}",
            input in "[0-9 .+*/^%()-]{0,16}|\\PC{0,16}",
        ) {
            let mut coverage = Coverage::of(&request);
            coverage.called(&input, Some(&input));
            let carry = coverage.carry();
            let _ = (carry.allows(&input), carry.can_close(&input), coverage.press());
        }
    }
}
