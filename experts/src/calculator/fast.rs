//! The fast path: short expressions in the everyday subset — decimal numbers, + − × ÷ % ^,
//! parentheses, the allowlisted functions, pi and e — parsed by hand without allocating and
//! evaluated with the same arithmetic as the evalexpr path (`binary`, `call`, `finite`), so
//! both give the same numbers and the same errors. Anything outside the subset, or longer
//! than [`MAX_BYTES`] / [`MAX_TOKENS`], is left to evalexpr's parser, which also words the
//! syntax errors. A differential test holds the two paths to the same answers.

use evalexpr::Operator;

use super::eval::{FUNCTIONS, Number, binary, call, finite, negate};

/// Longer input goes to evalexpr: the fast path is for everyday expressions, and these
/// bounds keep its recursion shallow and its results identical (evalexpr's tree depth
/// limit cannot be reached within them).
const MAX_BYTES: usize = 256;
const MAX_TOKENS: usize = 64;
const MAX_NESTING: usize = 16;
/// Arguments of one function call (min and max take any number; more go to evalexpr).
const MAX_ARGS: usize = 8;

/// `None`: not in the subset, ask evalexpr. `Some`: the answer, or an arithmetic error.
pub fn evaluate(text: &str) -> Option<Result<Number, String>> {
    if text.len() > MAX_BYTES || !text.is_ascii() {
        return None;
    }
    // Twice over the bytes: first the grammar alone, so that a syntax error anywhere sends
    // the whole expression to evalexpr before any arithmetic error is reported; then the
    // arithmetic, left to right as evalexpr's tree is walked.
    let mut check = Parser::new(text, false);
    match check.expression().and_then(|_| check.end()) {
        Ok(()) => {}
        Err(_) => return None,
    }
    let mut run = Parser::new(text, true);
    match run.expression() {
        Ok(n) => Some(Ok(n)),
        Err(Fail::Arithmetic(message)) => Some(Err(message)),
        Err(Fail::Syntax) => None,
    }
}

enum Fail {
    /// Outside the subset (or malformed): evalexpr decides.
    Syntax,
    Arithmetic(String),
}

type Step = Result<Number, Fail>;

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    tokens: usize,
    nesting: usize,
    /// false: check the grammar only (every value is a placeholder).
    compute: bool,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, compute: bool) -> Self {
        Parser {
            text: text.as_bytes(),
            at: 0,
            tokens: 0,
            nesting: 0,
            compute,
        }
    }

    fn peek(&mut self) -> Option<u8> {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
        self.text.get(self.at).copied()
    }

    /// Consumes the byte `peek` returned, counting it as a token.
    fn bump(&mut self) -> Result<(), Fail> {
        self.at += 1;
        self.token()
    }

    /// Counts a token (a number or a name, already consumed).
    fn token(&mut self) -> Result<(), Fail> {
        self.tokens += 1;
        if self.tokens > MAX_TOKENS {
            return Err(Fail::Syntax);
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Fail> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Fail::Syntax),
        }
    }

    fn nested<T>(&mut self, inner: impl FnOnce(&mut Self) -> Result<T, Fail>) -> Result<T, Fail> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(Fail::Syntax);
        }
        let result = inner(self);
        self.nesting -= 1;
        result
    }

    fn arithmetic(&self, result: Result<Number, String>) -> Step {
        if !self.compute {
            return Ok(Number::Int(0));
        }
        result.and_then(finite).map_err(Fail::Arithmetic)
    }

    /// expression := term (('+' | '-') term)*
    fn expression(&mut self) -> Step {
        let mut left = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.bump()?;
            let right = self.term()?;
            let op = if op == b'+' {
                Operator::Add
            } else {
                Operator::Sub
            };
            left = self.arithmetic(binary(&op, left, right))?;
        }
        Ok(left)
    }

    /// term := unary (('*' | '/' | '%') unary)*
    fn term(&mut self) -> Step {
        let mut left = self.unary()?;
        while let Some(op @ (b'*' | b'/' | b'%')) = self.peek() {
            self.bump()?;
            let right = self.unary()?;
            let op = match op {
                b'*' => Operator::Mul,
                b'/' => Operator::Div,
                _ => Operator::Mod,
            };
            left = self.arithmetic(binary(&op, left, right))?;
        }
        Ok(left)
    }

    /// unary := '-' unary | power — minus binds tighter than × ÷ % and looser than ^, as
    /// in evalexpr (`-7 % 3` is 2, `-2 ^ 2` is -4).
    fn unary(&mut self) -> Step {
        if self.peek() != Some(b'-') {
            return self.power();
        }
        self.bump()?;
        let value = self.nested(Self::unary)?;
        self.arithmetic(negate(value))
    }

    /// power := atom ('^' atom)? — a chain of powers or a signed exponent goes to evalexpr.
    fn power(&mut self) -> Step {
        let base = self.atom()?;
        if self.peek() != Some(b'^') {
            return Ok(base);
        }
        self.bump()?;
        if self.peek() == Some(b'-') {
            return Err(Fail::Syntax);
        }
        let exponent = self.atom()?;
        if self.peek() == Some(b'^') {
            return Err(Fail::Syntax);
        }
        self.arithmetic(binary(&Operator::Exp, base, exponent))
    }

    /// atom := number | name | function '(' expression (',' expression)* ')' | '(' expression ')'
    fn atom(&mut self) -> Step {
        match self.peek() {
            Some(b'0'..=b'9') => self.number(),
            Some(b'a'..=b'z') => self.name(),
            Some(b'(') => {
                self.bump()?;
                let value = self.nested(Self::expression)?;
                self.expect(b')')?;
                Ok(value)
            }
            _ => Err(Fail::Syntax),
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Fail> {
        if self.peek() != Some(byte) {
            return Err(Fail::Syntax);
        }
        self.bump()
    }

    /// `12` or `12.5`: no exponent, no leading zeros, no trailing dot (evalexpr's reading
    /// of those is left to evalexpr); integers beyond i64 too (it refuses them).
    fn number(&mut self) -> Step {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.text.get(p.at).is_some_and(u8::is_ascii_digit) {
                p.at += 1;
            }
            p.at - from
        };
        let whole = digits(self);
        let float = self.text.get(self.at) == Some(&b'.');
        if float {
            self.at += 1;
            if digits(self) == 0 {
                return Err(Fail::Syntax);
            }
        }
        let next = self.text.get(self.at);
        if next.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'_')
            || (whole > 1 && self.text[start] == b'0')
        {
            return Err(Fail::Syntax);
        }
        self.token()?;
        let literal = std::str::from_utf8(&self.text[start..self.at]).map_err(|_| Fail::Syntax)?;
        if float {
            let value: f64 = literal.parse().map_err(|_| Fail::Syntax)?;
            self.arithmetic(Ok(Number::Float(value)))
        } else {
            let value: i64 = literal.parse().map_err(|_| Fail::Syntax)?;
            self.arithmetic(Ok(Number::Int(value.into())))
        }
    }

    /// `pi`, `e`, or an allowlisted function applied to a parenthesised argument list.
    fn name(&mut self) -> Step {
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            self.at += 1;
        }
        let name = std::str::from_utf8(&self.text[start..self.at]).map_err(|_| Fail::Syntax)?;
        self.token()?;
        // The argument list must follow at once: `sqrt (2)` is evalexpr's to read.
        if self.text.get(self.at) != Some(&b'(') {
            return match name {
                "pi" => self.arithmetic(Ok(Number::Float(std::f64::consts::PI))),
                "e" => self.arithmetic(Ok(Number::Float(std::f64::consts::E))),
                _ => Err(Fail::Syntax),
            };
        }
        if !FUNCTIONS.iter().any(|(known, _)| *known == name) {
            return Err(Fail::Syntax);
        }
        self.bump()?;
        let mut args = [Number::Int(0); MAX_ARGS];
        let mut count = 0;
        loop {
            if count == MAX_ARGS {
                return Err(Fail::Syntax);
            }
            args[count] = self.nested(Self::expression)?;
            count += 1;
            match self.peek() {
                Some(b',') => self.bump()?,
                Some(b')') => break self.bump()?,
                _ => return Err(Fail::Syntax),
            }
        }
        self.arithmetic(call(name, &args[..count]))
    }
}
