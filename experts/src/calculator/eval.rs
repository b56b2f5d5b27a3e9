//! Exact arithmetic over evalexpr's parse tree. evalexpr only parses; the walk is ours, so
//! the allowlist is enforced node by node, integers stay exact (i128, checked), and nothing
//! but numbers can come out.

use evalexpr::{Node, Operator, Value};

/// Longest expression accepted: far beyond any real calculation, small enough that parsing
/// and walking it cannot exhaust a thread's stack.
pub const MAX_BYTES: usize = 4096;
/// Deepest nesting of parentheses, unary signs and operators accepted.
pub const MAX_DEPTH: usize = 64;

/// The functions the calculator knows, with how many arguments each takes.
pub const FUNCTIONS: &[(&str, Arity)] = &[
    ("sqrt", Arity::One),
    ("pow", Arity::Two),
    ("abs", Arity::One),
    ("min", Arity::AtLeastOne),
    ("max", Arity::AtLeastOne),
    ("round", Arity::One),
    ("floor", Arity::One),
    ("ceil", Arity::One),
    ("ln", Arity::One),
    ("log10", Arity::One),
    ("exp", Arity::One),
    ("sin", Arity::One),
    ("cos", Arity::One),
    ("tan", Arity::One),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    One,
    Two,
    AtLeastOne,
}

/// A number: an exact integer, or a finite float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    fn float(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Evaluates an arithmetic expression. The error is one sentence for the person or model
/// that wrote the expression.
///
/// Stack: evalexpr's parser recurses once per operator, so the worst input within
/// [`MAX_BYTES`] needs about 1 MiB (every Rust thread gets 2 MiB by default; `Calculator`
/// runs this on a 4 MiB thread of its own).
pub fn evaluate(expression: &str) -> Result<Number, String> {
    let text = normalise(expression);
    if let Some(answer) = super::fast::evaluate(&text) {
        return answer;
    }
    general(&text, expression)
}

/// The fast path alone: `None` when the expression is outside its subset.
pub fn evaluate_fast(expression: &str) -> Option<Result<Number, String>> {
    super::fast::evaluate(&normalise(expression))
}

/// The general path alone (evalexpr's parser, our walk), which `evaluate` takes for
/// whatever the fast path leaves; the two must agree wherever both answer.
pub fn evaluate_general(expression: &str) -> Result<Number, String> {
    general(&normalise(expression), expression)
}

fn general(text: &str, expression: &str) -> Result<Number, String> {
    check_shape(text)?;
    let tree = evalexpr::build_operator_tree(text)
        .map_err(|e| format!("cannot parse `{}`: {e}", excerpt(expression)))?;
    eval(&tree, 0)
}

/// Accepts the symbols people type: × ÷ − and full-width parentheses and commas, `**` for
/// powers.
fn normalise(expression: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = expression.trim();
    if trimmed.is_ascii() && !trimmed.contains("**") {
        return std::borrow::Cow::Borrowed(trimmed);
    }
    let owned = trimmed
        .replace('×', "*")
        .replace('÷', "/")
        .replace('−', "-")
        .replace('（', "(")
        .replace('）', ")")
        .replace('，', ",")
        .replace("**", "^");
    std::borrow::Cow::Owned(owned)
}

/// Checks what must hold before evalexpr sees the text: length, nesting, no silently
/// rounded literals.
fn check_shape(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the expression is empty".into());
    }
    if text.len() > MAX_BYTES {
        return Err(format!(
            "the expression is {} bytes; at most {MAX_BYTES} are accepted",
            text.len()
        ));
    }
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Err(format!("parentheses are nested more than {MAX_DEPTH} deep"));
        }
    }
    if let Some(c) = text
        .chars()
        .find(|c| matches!(c, '=' | '"' | ';' | '&' | '|' | '!' | '<' | '>'))
    {
        return Err(format!(
            "`{c}` is not arithmetic: the calculator takes numbers, + - * / % ^, parentheses and functions ({})",
            function_names()
        ));
    }
    // evalexpr reads an integer literal beyond i64 as a float, which would round it.
    for literal in text.split(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_') {
        if !literal.is_empty()
            && literal.bytes().all(|b| b.is_ascii_digit())
            && literal.parse::<i64>().is_err()
        {
            return Err(format!(
                "the integer {} is too large to read exactly (at most {})",
                excerpt(literal),
                i64::MAX
            ));
        }
    }
    Ok(())
}

fn function_names() -> String {
    let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
    format!("{}, pi, e", names.join(", "))
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn eval(node: &Node, depth: usize) -> Result<Number, String> {
    if depth > MAX_DEPTH * 2 {
        return Err(format!(
            "the expression is nested more than {} deep",
            MAX_DEPTH * 2
        ));
    }
    let args = |n: usize| -> Result<Vec<Number>, String> {
        let children = node.children();
        if children.len() != n {
            let noun = if n == 1 { "operand" } else { "operands" };
            return Err(format!(
                "incomplete: `{}` needs {n} {noun}",
                node.operator()
            ));
        }
        children.iter().map(|c| eval(c, depth + 1)).collect()
    };
    let number = match node.operator() {
        Operator::RootNode => match node.children() {
            [] => return Err("empty parentheses: there is nothing to compute".into()),
            [only] => eval(only, depth + 1)?,
            _ => return Err("a list of values is not a number; use min(…) or max(…)".into()),
        },
        Operator::Const { value } => constant(value)?,
        Operator::VariableIdentifierRead { identifier } => match identifier.as_str() {
            "pi" => Number::Float(std::f64::consts::PI),
            "e" => Number::Float(std::f64::consts::E),
            other => {
                return Err(format!(
                    "unknown name `{other}`: the calculator has no variables; it knows {}",
                    function_names()
                ));
            }
        },
        Operator::FunctionIdentifier { identifier } => {
            let children = node.children();
            // `f(a, b)` parses as the function over a root node holding a tuple.
            let children = match children {
                [root] if *root.operator() == Operator::RootNode && root.children().len() == 1 => {
                    root.children()
                }
                _ => children,
            };
            let arguments: Vec<Number> = match children {
                [only] if *only.operator() == Operator::Tuple => only
                    .children()
                    .iter()
                    .map(|c| eval(c, depth + 1))
                    .collect::<Result<_, _>>()?,
                [only]
                    if matches!(only.operator(), Operator::RootNode)
                        && only.children().is_empty() =>
                {
                    Vec::new()
                }
                [only] => vec![eval(only, depth + 1)?],
                _ => return Err(format!("cannot read the arguments of `{identifier}`")),
            };
            call(identifier, &arguments)?
        }
        Operator::Neg => {
            let [a] = args(1)?[..] else { unreachable!() };
            negate(a)?
        }
        op @ (Operator::Add
        | Operator::Sub
        | Operator::Mul
        | Operator::Div
        | Operator::Mod
        | Operator::Exp) => {
            let [a, b] = args(2)?[..] else { unreachable!() };
            binary(op, a, b)?
        }
        Operator::Tuple => {
            return Err("a list of values is not a number; use min(…) or max(…)".into());
        }
        other => {
            return Err(format!(
                "`{other}` is not arithmetic: the calculator takes numbers, + - * / % ^, parentheses and functions ({})",
                function_names()
            ));
        }
    };
    finite(number)
}

fn constant(value: &Value) -> Result<Number, String> {
    match value {
        Value::Int(i) => Ok(Number::Int(i128::from(*i))),
        Value::Float(f) => finite(Number::Float(*f)),
        Value::Boolean(_) => Err("true and false are not numbers".into()),
        Value::String(_) => Err("text is not a number".into()),
        Value::Tuple(_) | Value::Empty => Err("only numbers can be computed".into()),
    }
}

pub(super) fn negate(n: Number) -> Result<Number, String> {
    match n {
        Number::Int(i) => Ok(Number::Int(i.checked_neg().ok_or_else(overflow)?)),
        Number::Float(f) => Ok(Number::Float(-f)),
    }
}

pub(super) fn finite(n: Number) -> Result<Number, String> {
    match n {
        Number::Float(f) if !f.is_finite() => {
            Err("the result is not a finite number (it overflows, or is undefined)".into())
        }
        n => Ok(n),
    }
}

fn overflow() -> String {
    format!(
        "integer overflow: the exact result lies beyond ±{} (about 1.7e38)",
        i128::MAX
    )
}

pub(super) fn binary(op: &Operator, a: Number, b: Number) -> Result<Number, String> {
    use Number::{Float, Int};
    let int = |r: Option<i128>| r.map(Int).ok_or_else(overflow);
    match (op, a, b) {
        (Operator::Add, Int(x), Int(y)) => int(x.checked_add(y)),
        (Operator::Sub, Int(x), Int(y)) => int(x.checked_sub(y)),
        (Operator::Mul, Int(x), Int(y)) => int(x.checked_mul(y)),
        (Operator::Div | Operator::Mod, _, Int(0)) => Err("division by zero".into()),
        (Operator::Div | Operator::Mod, _, Float(0.0)) => Err("division by zero".into()),
        (Operator::Div, Int(x), Int(y)) if x % y == 0 => int(x.checked_div(y)),
        // Floor modulo, as in Python: the result takes the divisor's sign.
        (Operator::Mod, Int(x), Int(y)) => {
            let r = x.checked_rem(y).ok_or_else(overflow)?;
            Ok(Int(if r != 0 && (r < 0) != (y < 0) {
                r + y
            } else {
                r
            }))
        }
        (Operator::Exp, Int(x), Int(y)) if y >= 0 => {
            let y = u32::try_from(y).map_err(|_| overflow())?;
            int(x.checked_pow(y))
        }
        (Operator::Add, x, y) => Ok(Float(x.float() + y.float())),
        (Operator::Sub, x, y) => Ok(Float(x.float() - y.float())),
        (Operator::Mul, x, y) => Ok(Float(x.float() * y.float())),
        (Operator::Div, x, y) => Ok(Float(x.float() / y.float())),
        (Operator::Mod, x, y) => {
            let (x, y) = (x.float(), y.float());
            Ok(Float(x - y * (x / y).floor()))
        }
        (Operator::Exp, x, y) => Ok(Float(x.float().powf(y.float()))),
        _ => Err(format!("`{op}` is not arithmetic")),
    }
}

pub(super) fn call(name: &str, args: &[Number]) -> Result<Number, String> {
    use Number::{Float, Int};
    let Some(&(_, arity)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
        return match (name, args) {
            ("pi", []) => Ok(Float(std::f64::consts::PI)),
            ("e", []) => Ok(Float(std::f64::consts::E)),
            _ => Err(format!(
                "unknown function `{name}`; the calculator knows {}",
                function_names()
            )),
        };
    };
    let fits = match arity {
        Arity::One => args.len() == 1,
        Arity::Two => args.len() == 2,
        Arity::AtLeastOne => !args.is_empty(),
    };
    if !fits {
        let wanted = match arity {
            Arity::One => "one argument",
            Arity::Two => "two arguments",
            Arity::AtLeastOne => "at least one argument",
        };
        return Err(format!("{name} takes {wanted}, not {}", args.len()));
    }
    let x = args[0];
    let rounded = |f: f64| {
        // Whole floats that fit are exact integers again (round(2.5) is 3, not 3.0).
        if f.abs() < 1.7e38 {
            Int(f as i128)
        } else {
            Float(f)
        }
    };
    Ok(match (name, x) {
        ("abs", Int(i)) => Int(i.checked_abs().ok_or_else(overflow)?),
        ("abs", Float(f)) => Float(f.abs()),
        ("round" | "floor" | "ceil", Int(i)) => Int(i),
        ("round", Float(f)) => rounded(f.round()),
        ("floor", Float(f)) => rounded(f.floor()),
        ("ceil", Float(f)) => rounded(f.ceil()),
        ("min" | "max", _) => {
            let pick = |a: Number, b: Number| {
                let less = match (a, b) {
                    (Int(p), Int(q)) => p < q,
                    _ => a.float() < b.float(),
                };
                if less == (name == "min") { a } else { b }
            };
            args.iter()
                .copied()
                .reduce(pick)
                .expect("at least one argument")
        }
        ("pow", _) => binary(&Operator::Exp, x, args[1])?,
        ("sqrt", _) if x.float() < 0.0 => return Err("sqrt of a negative number".into()),
        ("ln" | "log10", _) if x.float() <= 0.0 => {
            return Err(format!("{name} is defined for positive numbers only"));
        }
        ("sqrt", _) => Float(x.float().sqrt()),
        ("ln", _) => Float(x.float().ln()),
        ("log10", _) => Float(x.float().log10()),
        ("exp", _) => Float(x.float().exp()),
        ("sin", _) => Float(x.float().sin()),
        ("cos", _) => Float(x.float().cos()),
        ("tan", _) => Float(x.float().tan()),
        _ => unreachable!("every function in FUNCTIONS is handled"),
    })
}

/// The canonical text of a number: integers in full; floats to 12 significant digits with
/// trailing zeros dropped (`399.5`, `0.3`, not `0.30000000000000004`), whole floats as
/// integers, and scientific notation beyond 1e15 or below 1e-6.
pub fn format(n: Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => {
            let f: f64 = format!("{f:.11e}")
                .parse()
                .expect("a formatted float parses");
            let magnitude = f.abs();
            if f == 0.0 {
                "0".into()
            } else if (1e-6..1e15).contains(&magnitude) {
                format!("{f}")
            } else {
                format!("{f:e}")
            }
        }
    }
}
