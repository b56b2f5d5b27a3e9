//! The calculator's reader: one pass of recursive descent that evaluates as it parses.
//!
//! ```text
//! expression := term (('+' | '-') term)*
//! term       := signed (('*' | '/' | '%') signed)*
//! signed     := ('-' | '+')* power          -2 ^ 2 is -4; -7 % 3 is 2
//! power      := atom ('^' ('-' | '+')* atom)*   right-associative: 2 ^ 3 ^ 2 is 512
//! atom       := number | name | name '(' expression (',' expression)* ')' | '(' expression ')'
//! ```
//!
//! Chains of operators and signs are loops, not recursion, so a flat sum of any length
//! within [`MAX_BYTES`] is read; only parentheses and function calls nest, at most
//! [`MAX_DEPTH`] deep. People's symbols are read too: × ÷ −, full-width parentheses and
//! commas, and `**` for powers.
//!
//! One reading is generic over its arithmetic ([`Value`]): everyday exact expressions are
//! read first with small rationals ([`Small`], 128-bit, no allocation), and read again with
//! big ones only when a value outgrows them or a float appears, so both give the same
//! answers and the same errors.

use super::number::{self, Number, Op, checked, function_names, negate};
use super::small::Small;

/// Longest expression accepted: far beyond any real calculation.
pub const MAX_BYTES: usize = 4096;
/// Deepest nesting of parentheses and function calls accepted.
pub const MAX_DEPTH: usize = 64;

/// Evaluates an arithmetic expression. The error is one sentence for the person or model
/// that wrote the expression.
pub fn evaluate(expression: &str) -> Result<Number, String> {
    match read::<Small>(expression) {
        Ok(small) => Ok(small.number()),
        Err(Failure::Error(message)) => Err(message),
        Err(Failure::TooBig) => read::<Number>(expression).map_err(Failure::message),
    }
}

/// [`evaluate`] with big rationals only, skipping the small first reading: for the test
/// that holds the two readings to the same answers.
pub fn evaluate_big(expression: &str) -> Result<Number, String> {
    read::<Number>(expression).map_err(Failure::message)
}

/// What the calculator answers: [`evaluate`], printed by [`number::format`]'s rule. An
/// everyday exact result is printed from its small form, without big integers.
pub fn answer(expression: &str) -> Result<String, String> {
    match read::<Small>(expression) {
        Ok(small) => Ok(small.text()),
        Err(Failure::Error(message)) => Err(message),
        Err(Failure::TooBig) => read::<Number>(expression)
            .map(number::format)
            .map_err(Failure::message),
    }
}

/// Why a reading stopped.
pub(super) enum Failure {
    /// The answer: the expression or its arithmetic is wrong, and the message says how.
    Error(String),
    /// The value type cannot hold a value exactly: read again with big numbers.
    TooBig,
}

impl Failure {
    fn message(self) -> String {
        match self {
            Failure::Error(message) => message,
            Failure::TooBig => "the expression is outside what the calculator computes".into(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Error(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::Error(message.to_string())
    }
}

/// The arithmetic a reading evaluates with.
pub(super) trait Value: Sized {
    fn literal(mantissa: &str, exponent: i64) -> Result<Self, Failure>;
    fn binary(op: Op, a: Self, b: Self) -> Result<Self, Failure>;
    fn negate(self) -> Result<Self, Failure>;
    fn constant(name: &str) -> Result<Self, Failure>;
    fn call(name: &str, args: Vec<Self>) -> Result<Self, Failure>;
}

impl Value for Number {
    fn literal(mantissa: &str, exponent: i64) -> Result<Self, Failure> {
        Ok(number::decimal(mantissa, exponent)?)
    }
    fn binary(op: Op, a: Self, b: Self) -> Result<Self, Failure> {
        Ok(number::binary(op, a, b)?)
    }
    fn negate(self) -> Result<Self, Failure> {
        Ok(negate(self))
    }
    fn constant(name: &str) -> Result<Self, Failure> {
        Ok(constant(name)?)
    }
    fn call(name: &str, args: Vec<Self>) -> Result<Self, Failure> {
        Ok(number::call(name, args)?)
    }
}

fn read<V: Value>(expression: &str) -> Result<V, Failure> {
    let text = expression.trim();
    if text.is_empty() {
        return Err("the expression is empty".into());
    }
    if text.len() > MAX_BYTES {
        return Err(Failure::Error(format!(
            "the expression is {} bytes; at most {MAX_BYTES} are accepted",
            text.len()
        )));
    }
    let tokens = tokens(text)?;
    let mut reader = Reader {
        text,
        tokens: &tokens,
        at: 0,
        depth: 0,
        value: std::marker::PhantomData::<V>,
    };
    let value = reader.expression()?;
    let wrong = match reader.peek() {
        Token::End => return Ok(value),
        Token::Comma => "a list of values is not a number; use min(…) or max(…)".to_string(),
        Token::Close => format!("cannot parse `{}`: a `)` closes nothing", excerpt(text)),
        other => format!(
            "cannot parse `{}`: expected an operator, found {}",
            excerpt(text),
            other.describe()
        ),
    };
    Err(Failure::Error(wrong))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'t> {
    /// A literal's mantissa and exponent (`2.5e-3`: `2.5` and -3), read by the value type.
    Number(&'t str, i64),
    Name(&'t str),
    Op(Op),
    Open,
    Close,
    Comma,
    End,
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self {
            Token::Number(mantissa, 0) => format!("the number {mantissa}"),
            Token::Number(mantissa, e) => format!("the number {mantissa}e{e}"),
            Token::Name(name) => format!("`{name}`"),
            Token::Op(op) => format!("`{}`", op.symbol()),
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::Comma => "`,`".into(),
            Token::End => "the end".into(),
        }
    }
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn tokens(text: &str) -> Result<Vec<Token<'_>>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let token = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '0'..='9' | '.' => {
                let end = literal_end(text, at);
                while chars.peek().is_some_and(|&(i, _)| i < end) {
                    chars.next();
                }
                let (mantissa, exponent) = literal(&text[at..end])?;
                Token::Number(mantissa, exponent)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = at;
                while let Some(&(i, c)) = chars.peek() {
                    if !(c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                Token::Name(&text[at..end])
            }
            _ => {
                chars.next();
                match c {
                    '+' => Token::Op(Op::Add),
                    '-' | '−' => Token::Op(Op::Sub),
                    '*' if chars.peek().is_some_and(|&(_, n)| n == '*') => {
                        chars.next();
                        Token::Op(Op::Pow)
                    }
                    '*' | '×' => Token::Op(Op::Mul),
                    '/' | '÷' => Token::Op(Op::Div),
                    '%' => Token::Op(Op::Mod),
                    '^' => Token::Op(Op::Pow),
                    '(' | '（' => Token::Open,
                    ')' | '）' => Token::Close,
                    ',' | '，' => Token::Comma,
                    '=' | '"' | '\'' | ';' | '&' | '|' | '!' | '<' | '>' => {
                        return Err(format!(
                            "`{c}` is not arithmetic: the calculator takes numbers, + - * / % ^, parentheses and functions ({})",
                            function_names()
                        ));
                    }
                    other => {
                        return Err(format!(
                            "cannot parse `{}`: `{}` is not part of arithmetic",
                            excerpt(text),
                            other.escape_debug()
                        ));
                    }
                }
            }
        };
        tokens.push(token);
    }
    tokens.push(Token::End);
    Ok(tokens)
}

/// Where the number starting at `at` ends: digits, a point, digits, and an exponent only
/// where digits follow the `e` (so `2e` is 2 then the constant e).
fn literal_end(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = at;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
        end += 1;
    }
    if end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
        let mut digits = end + 1;
        if digits < bytes.len() && matches!(bytes[digits], b'+' | b'-') {
            digits += 1;
        }
        if digits < bytes.len() && bytes[digits].is_ascii_digit() {
            end = digits;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
    }
    end
}

/// A decimal literal's mantissa and exponent, checked for shape.
fn literal(text: &str) -> Result<(&str, i64), String> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, "0"),
    };
    let points = mantissa.matches('.').count();
    if points > 1 || mantissa == "." {
        return Err(format!("`{}` is not a number", excerpt(text)));
    }
    let exponent: i64 = exponent
        .parse()
        .map_err(|_| format!("the exponent of `{}` is too large", excerpt(text)))?;
    Ok((mantissa, exponent))
}

struct Reader<'a, V> {
    text: &'a str,
    tokens: &'a [Token<'a>],
    at: usize,
    depth: usize,
    value: std::marker::PhantomData<V>,
}

type Step<V> = Result<V, Failure>;

impl<'a, V: Value> Reader<'a, V> {
    fn peek(&self) -> Token<'a> {
        self.tokens[self.at]
    }

    fn next(&mut self) -> Token<'a> {
        let token = self.tokens[self.at];
        if token != Token::End {
            self.at += 1;
        }
        token
    }

    /// A binary operator of `ops` next, consumed.
    fn operator(&mut self, ops: &[Op]) -> Option<Op> {
        match self.peek() {
            Token::Op(op) if ops.contains(&op) => {
                self.at += 1;
                Some(op)
            }
            _ => None,
        }
    }

    fn expression(&mut self) -> Step<V> {
        let mut left = self.term(None)?;
        while let Some(op) = self.operator(&[Op::Add, Op::Sub]) {
            let right = self.term(Some(op))?;
            left = V::binary(op, left, right)?;
        }
        Ok(left)
    }

    fn term(&mut self, after: Option<Op>) -> Step<V> {
        let mut left = self.signed(after)?;
        while let Some(op) = self.operator(&[Op::Mul, Op::Div, Op::Mod]) {
            let right = self.signed(Some(op))?;
            left = V::binary(op, left, right)?;
        }
        Ok(left)
    }

    /// Leading signs: whether they make the operand negative.
    fn signs(&mut self) -> bool {
        let mut negative = false;
        while let Some(op) = self.operator(&[Op::Sub, Op::Add]) {
            negative ^= op == Op::Sub;
        }
        negative
    }

    /// `after` is the operator whose operand this is, for the message when it is missing.
    fn signed(&mut self, after: Option<Op>) -> Step<V> {
        let negative = self.signs();
        let value = self.power(after)?;
        if negative { value.negate() } else { Ok(value) }
    }

    /// Right-associative: the atoms and the signs before each are read first, then folded
    /// from the right (`a ^ -b ^ c` is `a ^ (-(b ^ c))`).
    fn power(&mut self, after: Option<Op>) -> Step<V> {
        let mut atoms = vec![(false, self.atom(after)?)];
        while self.operator(&[Op::Pow]).is_some() {
            let negative = self.signs();
            atoms.push((negative, self.atom(Some(Op::Pow))?));
        }
        let (mut negative, mut value) = atoms.pop().expect("one atom at least");
        while let Some((sign, base)) = atoms.pop() {
            let exponent = if negative { value.negate()? } else { value };
            value = V::binary(Op::Pow, base, exponent)?;
            negative = sign;
        }
        Ok(value)
    }

    fn atom(&mut self, after: Option<Op>) -> Step<V> {
        match self.next() {
            Token::Number(mantissa, exponent) => V::literal(mantissa, exponent),
            Token::Name(name) => self.name(name),
            Token::Open => {
                if self.peek() == Token::Close {
                    return Err("empty parentheses: there is nothing to compute".into());
                }
                let value = self.nested(Self::expression)?;
                match self.next() {
                    Token::Close => Ok(value),
                    Token::Comma => {
                        Err("a list of values is not a number; use min(…) or max(…)".into())
                    }
                    _ => Err(Failure::Error(format!(
                        "cannot parse `{}`: a `(` is not closed",
                        excerpt(self.text)
                    ))),
                }
            }
            found => Err(Failure::Error(match (after, found) {
                (Some(op), _) | (None, Token::Op(op)) => {
                    format!("incomplete: `{}` needs 2 operands", op.symbol())
                }
                (None, Token::End) => "the expression is empty".into(),
                (None, other) => format!(
                    "cannot parse `{}`: expected a number, found {}",
                    excerpt(self.text),
                    other.describe()
                ),
            })),
        }
    }

    fn nested(&mut self, inner: impl FnOnce(&mut Self) -> Step<V>) -> Step<V> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Failure::Error(format!(
                "parentheses are nested more than {MAX_DEPTH} deep"
            )));
        }
        let result = inner(self);
        self.depth -= 1;
        result
    }

    /// A constant, or a function applied to its parenthesised arguments.
    fn name(&mut self, name: &str) -> Step<V> {
        if self.peek() != Token::Open {
            return V::constant(name);
        }
        if !number::FUNCTIONS.iter().any(|(known, _)| *known == name) {
            return Err(Failure::Error(format!(
                "unknown function `{name}`; the calculator knows {}",
                function_names()
            )));
        }
        self.next();
        let mut args = Vec::new();
        if self.peek() == Token::Close {
            self.next();
            return V::call(name, args);
        }
        loop {
            args.push(self.nested(Self::expression)?);
            match self.next() {
                Token::Comma => {}
                Token::Close => break,
                _ => {
                    return Err(Failure::Error(format!(
                        "cannot read the arguments of `{name}`: a `(` is not closed"
                    )));
                }
            }
        }
        V::call(name, args)
    }
}

/// `pi`, `e`, or why a name is no number.
pub(super) fn constant(name: &str) -> Result<Number, String> {
    match name {
        "pi" => Ok(Number::Float(std::f64::consts::PI)),
        "e" => Ok(Number::Float(std::f64::consts::E)),
        "true" | "false" => Err("true and false are not numbers".into()),
        _ if ["inf", "infinity", "nan"].contains(&name.to_ascii_lowercase().as_str()) => {
            Err(format!("`{name}` is not a finite number"))
        }
        _ if number::FUNCTIONS.iter().any(|(known, _)| *known == name) => {
            Err(format!("`{name}` is a function: write {name}(…)"))
        }
        other => Err(format!(
            "unknown name `{other}`: the calculator has no variables; it knows {}",
            function_names()
        )),
    }
    .and_then(checked)
}
