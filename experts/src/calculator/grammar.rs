//! The calculator's grammar, one character at a time, for decoding a call under it: a
//! [`Prefix`] accepts a character only if what has been written can still be completed into
//! an expression the calculator reads (`parse.rs`), with every function given as many
//! arguments as it takes. So a model that writes under it cannot leave a malformed call
//! such as `(s - .`; [`Prefix::complete`] says when the text is already a whole expression.
//!
//! It is stricter than the reader, which people type into: no exponents (`1e3`), no
//! leading point (`.5`), no word that is not a function or a constant.

use super::number::{Arity, FUNCTIONS};
use super::parse::MAX_DEPTH;

/// Constants the grammar knows besides the functions.
const CONSTANTS: [&str; 2] = ["pi", "e"];

/// Where an expression being written stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prefix {
    /// The parentheses open now, innermost last.
    open: Vec<Open>,
    at: At,
    /// The number or name being written.
    word: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Group,
    /// A function's argument list: its arity and the arguments begun so far.
    Call(Arity, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum At {
    /// An operand comes next (signs may precede it).
    #[default]
    Operand,
    /// After `*`: an operand, or a second `*` (a power).
    Star,
    Number,
    Name,
    /// A function's name is written; its `(` comes next.
    Function,
    /// An operand is complete: an operator, `,` or `)` may follow.
    Operator,
}

impl Prefix {
    /// The prefix after `text`, or `None` if no expression starts so.
    pub fn after(&self, text: &str) -> Option<Prefix> {
        let mut next = self.clone();
        for c in text.chars() {
            next.push(c)?;
        }
        Some(next)
    }

    /// Whether the text so far is a whole expression.
    pub fn complete(&self) -> bool {
        if !self.open.is_empty() {
            return false;
        }
        match self.at {
            At::Operator => true,
            At::Number => true,
            At::Name => CONSTANTS.contains(&self.word.as_str()),
            _ => false,
        }
    }

    fn push(&mut self, c: char) -> Option<()> {
        match self.at {
            At::Number if c.is_ascii_digit() => {
                self.word.push(c);
                return Some(());
            }
            At::Number if c == '.' && !self.word.contains('.') => {
                self.word.push(c);
                return Some(());
            }
            At::Number if c.is_alphanumeric() || c == '.' || c == '_' => return None,
            At::Number => self.at = At::Operator,
            At::Name if c.is_ascii_lowercase() || c.is_ascii_digit() => {
                self.word.push(c);
                return known_prefix(&self.word).then_some(());
            }
            At::Name if c.is_alphanumeric() || c == '_' => return None,
            At::Name => {
                self.at = if function(&self.word).is_some() {
                    At::Function
                } else if CONSTANTS.contains(&self.word.as_str()) {
                    At::Operator
                } else {
                    return None;
                };
            }
            _ => {}
        }
        if c.is_whitespace() {
            if self.at == At::Star {
                self.at = At::Operand;
            }
            return Some(());
        }
        match self.at {
            At::Operand | At::Star => self.operand(c),
            At::Function => self.call(c),
            At::Operator => self.operator(c),
            At::Number | At::Name => unreachable!("ended above"),
        }
    }

    /// `c` where an operand (or, after `*`, a second `*`) is expected.
    fn operand(&mut self, c: char) -> Option<()> {
        let after_star = self.at == At::Star;
        self.at = At::Operand;
        match c {
            '*' if after_star => Some(()),
            '+' | '-' | '−' => Some(()),
            '0'..='9' => {
                self.word = c.to_string();
                self.at = At::Number;
                Some(())
            }
            'a'..='z' => {
                self.word = c.to_string();
                self.at = At::Name;
                known_prefix(&self.word).then_some(())
            }
            '(' | '（' if self.open.len() < MAX_DEPTH => {
                self.open.push(Open::Group);
                Some(())
            }
            _ => None,
        }
    }

    /// `c` after a function's name: only its `(`.
    fn call(&mut self, c: char) -> Option<()> {
        if !matches!(c, '(' | '（') || self.open.len() >= MAX_DEPTH {
            return None;
        }
        let arity = function(&self.word)?;
        self.open.push(Open::Call(arity, 1));
        self.at = At::Operand;
        Some(())
    }

    /// `c` after a complete operand.
    fn operator(&mut self, c: char) -> Option<()> {
        match c {
            '*' => self.at = At::Star,
            '+' | '-' | '−' | '/' | '%' | '^' | '×' | '÷' => self.at = At::Operand,
            ')' | '）' => {
                match self.open.pop()? {
                    Open::Group => {}
                    Open::Call(arity, args) => {
                        let enough = match arity {
                            Arity::Two => args == 2,
                            Arity::One | Arity::AtLeastOne => args >= 1,
                        };
                        if !enough {
                            return None;
                        }
                    }
                }
                self.at = At::Operator;
            }
            ',' | '，' => {
                let Some(Open::Call(arity, args)) = self.open.last_mut() else {
                    return None;
                };
                let room = match arity {
                    Arity::One => false,
                    Arity::Two => *args < 2,
                    Arity::AtLeastOne => true,
                };
                if !room {
                    return None;
                }
                *args += 1;
                self.at = At::Operand;
            }
            _ => return None,
        }
        Some(())
    }
}

fn function(name: &str) -> Option<Arity> {
    FUNCTIONS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|&(_, arity)| arity)
}

fn known_prefix(word: &str) -> bool {
    FUNCTIONS
        .iter()
        .map(|(name, _)| *name)
        .chain(CONSTANTS)
        .any(|name| name.starts_with(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(text: &str) -> bool {
        Prefix::default().after(text).is_some()
    }

    fn whole(text: &str) -> bool {
        Prefix::default().after(text).is_some_and(|p| p.complete())
    }

    #[test]
    fn whole_expressions_and_their_prefixes() {
        for text in [
            "1",
            "357 * 995",
            "(3 + 4) * 2",
            "2 ** 10",
            "-2 ^ -3",
            "sqrt(2) * 10",
            "max(3, 10, 2)",
            "pow(2, 10)",
            "pi * 3 ^ 2",
            "e",
            "exp(1)",
            "log10(1000)",
            "3 × 4 ÷ 2 − 1",
            "（1 + 2）× 3",
            "7.5 / 2.",
        ] {
            assert!(whole(text), "{text}");
            for (at, _) in text.char_indices() {
                assert!(accepts(&text[..at]), "{text}: prefix {:?}", &text[..at]);
            }
        }
        for prefix in [
            "(",
            "sq",
            "sqrt",
            "sqrt(",
            "1 +",
            "pow(2,",
            "max(1, 2,",
            "2 *",
        ] {
            assert!(accepts(prefix) && !whole(prefix), "{prefix}");
        }
    }

    #[test]
    fn malformed_calls_cannot_be_written() {
        for text in [
            "(s - .",
            "s",
            "x + 1",
            "1 2",
            "()",
            "1 +* 2",
            "2 * * 3",
            ".5",
            "1e3",
            "3..2",
            "sqrt(1, 2)",
            "pow(1)",
            "pow(1, 2, 3)",
            "e(2)",
            "1)",
            "(1))",
            "1,2",
            "a = 1",
            "2 3",
            "3 ^^ 2",
            "**2",
            "1 _",
        ] {
            assert!(!whole(text), "{text}");
        }
        for text in [
            "(s -", "x", "1 2", "()", "1 +*", ".", "1e", "sqrt(1,", "e(", "1)", "1,",
        ] {
            assert!(!accepts(text), "{text}");
        }
    }

    /// Every whole expression the grammar lets a model write, the calculator reads: walks
    /// of the grammar over a small alphabet never give a parse error.
    #[test]
    fn what_the_grammar_completes_the_calculator_reads() {
        let alphabet: Vec<char> =
            "0123456789.+-*/%^(), sqrtpowabsminmaxroundfloorceillnlogexpsincostanpie"
                .chars()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let mut checked = 0;
        for _ in 0..20_000 {
            let mut prefix = Prefix::default();
            let mut text = String::new();
            for _ in 0..24 {
                let options: Vec<char> = alphabet
                    .iter()
                    .copied()
                    .filter(|&c| prefix.after(&c.to_string()).is_some())
                    .collect();
                if options.is_empty() {
                    break;
                }
                let c = options[next(options.len())];
                prefix = prefix.after(&c.to_string()).unwrap();
                text.push(c);
                if prefix.complete() && next(4) == 0 {
                    break;
                }
            }
            if !prefix.complete() {
                continue;
            }
            checked += 1;
            if let Err(message) = super::super::evaluate(&text) {
                let syntax = [
                    "parse",
                    "incomplete",
                    "takes",
                    "unknown",
                    "list of values",
                    "empty",
                ];
                assert!(
                    !syntax.iter().any(|s| message.contains(s)),
                    "`{text}`: {message}"
                );
            }
        }
        assert!(checked > 1_000, "only {checked} walks ended whole");
    }
}
