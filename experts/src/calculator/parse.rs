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

use super::number::{self, Number, Op, checked, function_names, negate};

/// Longest expression accepted: far beyond any real calculation.
pub const MAX_BYTES: usize = 4096;
/// Deepest nesting of parentheses and function calls accepted.
pub const MAX_DEPTH: usize = 64;

/// Evaluates an arithmetic expression. The error is one sentence for the person or model
/// that wrote the expression.
pub fn evaluate(expression: &str) -> Result<Number, String> {
    let text = expression.trim();
    if text.is_empty() {
        return Err("the expression is empty".into());
    }
    if text.len() > MAX_BYTES {
        return Err(format!(
            "the expression is {} bytes; at most {MAX_BYTES} are accepted",
            text.len()
        ));
    }
    let tokens = tokens(text)?;
    let mut reader = Reader {
        text,
        tokens: &tokens,
        at: 0,
        depth: 0,
    };
    let value = reader.expression()?;
    match reader.peek() {
        Token::End => Ok(value),
        Token::Comma => Err("a list of values is not a number; use min(…) or max(…)".into()),
        Token::Close => Err(format!(
            "cannot parse `{}`: a `)` closes nothing",
            excerpt(text)
        )),
        other => Err(format!(
            "cannot parse `{}`: expected an operator, found {}",
            excerpt(text),
            other.describe()
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(Number),
    Name(String),
    Op(Op),
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(n) => format!("the number {}", number::format(n.clone())),
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

fn tokens(text: &str) -> Result<Vec<Token>, String> {
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
                Token::Number(literal(&text[at..end])?)
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
                Token::Name(text[at..end].to_string())
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

/// A decimal literal, exactly.
fn literal(text: &str) -> Result<Number, String> {
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
    number::decimal(mantissa, exponent)
}

struct Reader<'a> {
    text: &'a str,
    tokens: &'a [Token],
    at: usize,
    depth: usize,
}

impl Reader<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.at].clone();
        if token != Token::End {
            self.at += 1;
        }
        token
    }

    /// A binary operator of `ops` next, consumed.
    fn operator(&mut self, ops: &[Op]) -> Option<Op> {
        match self.peek() {
            Token::Op(op) if ops.contains(op) => {
                let op = *op;
                self.at += 1;
                Some(op)
            }
            _ => None,
        }
    }

    fn expression(&mut self) -> Result<Number, String> {
        let mut left = self.term(None)?;
        while let Some(op) = self.operator(&[Op::Add, Op::Sub]) {
            let right = self.term(Some(op))?;
            left = number::binary(op, left, right)?;
        }
        Ok(left)
    }

    fn term(&mut self, after: Option<Op>) -> Result<Number, String> {
        let mut left = self.signed(after)?;
        while let Some(op) = self.operator(&[Op::Mul, Op::Div, Op::Mod]) {
            let right = self.signed(Some(op))?;
            left = number::binary(op, left, right)?;
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

    fn signed(&mut self, after: Option<Op>) -> Result<Number, String> {
        let negative = self.signs();
        let value = self.power(after)?;
        Ok(if negative { negate(value) } else { value })
    }

    /// Right-associative: the atoms and the signs before each are read first, then folded
    /// from the right (`a ^ -b ^ c` is `a ^ (-(b ^ c))`).
    fn power(&mut self, after: Option<Op>) -> Result<Number, String> {
        let mut atoms = vec![(false, self.atom(after)?)];
        while self.operator(&[Op::Pow]).is_some() {
            let negative = self.signs();
            atoms.push((negative, self.atom(Some(Op::Pow))?));
        }
        let (mut negative, mut value) = atoms.pop().expect("one atom at least");
        while let Some((sign, base)) = atoms.pop() {
            let exponent = if negative { negate(value) } else { value };
            value = number::binary(Op::Pow, base, exponent)?;
            negative = sign;
        }
        Ok(value)
    }

    fn atom(&mut self, after: Option<Op>) -> Result<Number, String> {
        match self.next() {
            Token::Number(n) => Ok(n),
            Token::Name(name) => self.name(name),
            Token::Open => {
                if *self.peek() == Token::Close {
                    return Err("empty parentheses: there is nothing to compute".into());
                }
                let value = self.nested(Self::expression)?;
                match self.next() {
                    Token::Close => Ok(value),
                    Token::Comma => {
                        Err("a list of values is not a number; use min(…) or max(…)".into())
                    }
                    _ => Err(format!(
                        "cannot parse `{}`: a `(` is not closed",
                        excerpt(self.text)
                    )),
                }
            }
            found => Err(match after {
                Some(op) => format!("incomplete: `{}` needs 2 operands", op.symbol()),
                None if found == Token::End => "the expression is empty".into(),
                None => match found {
                    Token::Op(op) => format!("incomplete: `{}` needs 2 operands", op.symbol()),
                    other => format!(
                        "cannot parse `{}`: expected a number, found {}",
                        excerpt(self.text),
                        other.describe()
                    ),
                },
            }),
        }
    }

    fn nested<T>(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("parentheses are nested more than {MAX_DEPTH} deep"));
        }
        let result = inner(self);
        self.depth -= 1;
        result
    }

    /// A constant, or a function applied to its parenthesised arguments.
    fn name(&mut self, name: String) -> Result<Number, String> {
        if *self.peek() != Token::Open {
            return constant(&name);
        }
        if !number::FUNCTIONS.iter().any(|(known, _)| *known == name) {
            return Err(format!(
                "unknown function `{name}`; the calculator knows {}",
                function_names()
            ));
        }
        self.next();
        let mut args = Vec::new();
        if *self.peek() == Token::Close {
            self.next();
            return number::call(&name, args);
        }
        loop {
            args.push(self.nested(Self::expression)?);
            match self.next() {
                Token::Comma => {}
                Token::Close => break,
                _ => {
                    return Err(format!(
                        "cannot read the arguments of `{name}`: a `(` is not closed"
                    ));
                }
            }
        }
        number::call(&name, args)
    }
}

fn constant(name: &str) -> Result<Number, String> {
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
