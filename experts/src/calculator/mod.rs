//! The calculator expert: exact arithmetic. Numbers, + − × ÷ % ^, parentheses and an
//! allowlist of functions; no assignment, strings or variables. What the input writes is read
//! exactly (decimals are rationals, not floats), exact results stay exact to 1,000 digits,
//! and whatever cannot be exact (pi, roots, logarithms) is a float printed to 12 significant
//! digits: [`number`] says which is which. Results are printed canonically.

mod grammar;
mod number;
mod parse;
mod small;

use async_trait::async_trait;

pub use grammar::Prefix;
pub use number::{FUNCTIONS, MAX_DIGITS, Number, format};
pub use parse::{MAX_BYTES, MAX_DEPTH, answer, evaluate, evaluate_big};

use crate::{
    Context, Demonstration, Expert, ExpertError, Grounded, InputFormat, Observation, Syntax,
};

pub struct Calculator {
    name: String,
    format: InputFormat,
    demonstrations: Vec<Demonstration>,
}

impl Calculator {
    pub fn new() -> Self {
        Calculator {
            name: "calculator".into(),
            // Operands come from the conversation. A request with unstated constants (the
            // seconds of a leap year below) then needs an ungrounded agent; we measured that
            // offering common constants (2, 12, 100…) lets a small model write `12 * 12` for
            // "357 times 995".
            format: InputFormat::alphabet(
                "an arithmetic expression, e.g. (3 + 4) * 2 or sqrt(2) ^ 10",
                MAX_BYTES,
                "0123456789.+-*/%^(), \t\nabcdefghijklmnopqrstuvwxyz×÷−（），",
            )
            .grounded(Grounded::Numbers)
            .syntax(Syntax::Arithmetic),
            demonstrations: vec![
                Demonstration::new("What is 17% of 2,350?", "2350 * 17 / 100", "399.5"),
                Demonstration::new(
                    "How many seconds are in a leap year?",
                    "366 * 24 * 60 * 60",
                    "31622400",
                ),
                Demonstration::new("一个半径为3的圆面积是多少？", "pi * 3 ^ 2", "28.2743338823"),
            ],
        }
    }

    /// The same calculator under another name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Evaluates `expression`; a refusal is [`ExpertError::InvalidInput`] with the reason.
    /// Runs on the caller's thread: only parentheses and calls recurse, at most
    /// [`MAX_DEPTH`] deep, and every value is held to [`MAX_DIGITS`].
    pub fn evaluate(&self, expression: &str) -> Result<String, ExpertError> {
        answer(expression).map_err(|message| ExpertError::invalid(&self.name, message))
    }
}

impl Default for Calculator {
    fn default() -> Self {
        Calculator::new()
    }
}

#[async_trait]
impl Expert for Calculator {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        "exact arithmetic: + - * / % ^, parentheses, sqrt pow abs min max round floor ceil ln log10 exp sin cos tan, pi, e"
    }

    fn input_format(&self) -> &InputFormat {
        &self.format
    }

    fn demonstrations(&self) -> &[Demonstration] {
        &self.demonstrations
    }

    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        self.evaluate(input).map(Observation::new)
    }
}
