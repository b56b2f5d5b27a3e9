//! `when:` conditions: comparisons of references and literals joined by `and`, `or`, `not`
//! (`not` binds tightest, then `and`, then `or`; no parentheses).
//!
//! ```text
//! when: ${inputs.lang} == 'zh'
//! when: ${steps.papers.output | count} > 0 and not ${inputs.brief}
//! when: ${steps.answer.output} contains 'error'
//! ```
//!
//! Values are compared as numbers when both sides read as numbers, as text otherwise. A
//! lone operand is true unless it is nothing, empty, `false` or `0`.

use serde_json::Value;

use super::template::{self, Expr, Scope, Template, unquote};

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Alternatives (`or`) of conjunctions (`and`) of possibly negated comparisons.
    any: Vec<Vec<Clause>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Clause {
    negated: bool,
    left: Operand,
    compare: Option<(Op, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Expr(Expr),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

const OPS: &[(&str, Op)] = &[
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("<", Op::Lt),
    (">", Op::Gt),
    ("contains", Op::Contains),
];

impl Condition {
    pub fn parse(source: &str) -> Result<Self, String> {
        let words = tokens(source)?;
        if words.is_empty() {
            return Err("the condition is empty".into());
        }
        let mut any = Vec::new();
        for alternative in words.split(|w| w == "or") {
            let mut all = Vec::new();
            for clause in alternative.split(|w| w == "and") {
                all.push(Clause::parse(clause, source)?);
            }
            any.push(all);
        }
        Ok(Condition { any })
    }

    /// Every expression, for validation.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.any.iter().flatten().flat_map(|c| {
            [Some(&c.left), c.compare.as_ref().map(|(_, r)| r)]
                .into_iter()
                .flatten()
                .filter_map(|o| match o {
                    Operand::Expr(e) => Some(e),
                    Operand::Literal(_) => None,
                })
        })
    }

    pub fn holds(&self, scope: &dyn Scope) -> Result<bool, String> {
        for all in &self.any {
            let mut holds = true;
            for clause in all {
                if !clause.holds(scope)? {
                    holds = false;
                    break;
                }
            }
            if holds {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Clause {
    fn parse(words: &[String], source: &str) -> Result<Self, String> {
        let (negated, words) = match words {
            [first, rest @ ..] if first == "not" => (true, rest),
            _ => (false, words),
        };
        let operand = |w: &String| Operand::parse(w);
        match words {
            [left] => Ok(Clause {
                negated,
                left: operand(left)?,
                compare: None,
            }),
            [left, op, right] => {
                let op = OPS
                    .iter()
                    .find(|(s, _)| s == op)
                    .map(|&(_, op)| op)
                    .ok_or_else(|| {
                        format!("`{op}` is not a comparison; use == != < <= > >= or contains")
                    })?;
                Ok(Clause {
                    negated,
                    left: operand(left)?,
                    compare: Some((op, operand(right)?)),
                })
            }
            _ => Err(format!(
                "cannot read the condition `{source}`: write comparisons such as \
                 ${{inputs.lang}} == 'zh', joined by and / or"
            )),
        }
    }

    fn holds(&self, scope: &dyn Scope) -> Result<bool, String> {
        let left = self.left.value(scope)?;
        let holds = match &self.compare {
            None => truthy(&left),
            Some((op, right)) => compare(*op, &left, &right.value(scope)?),
        };
        Ok(holds != self.negated)
    }
}

impl Operand {
    fn parse(word: &str) -> Result<Self, String> {
        if word.starts_with("${") {
            let template = Template::parse(word)?;
            return match template.sole() {
                Some(expr) => Ok(Operand::Expr(expr.clone())),
                None => Err(format!("`{word}`: one ${{…}} per operand")),
            };
        }
        if let Some(s) = unquote(word) {
            return Ok(Operand::Literal(Value::String(s)));
        }
        match word {
            "true" => return Ok(Operand::Literal(Value::Bool(true))),
            "false" => return Ok(Operand::Literal(Value::Bool(false))),
            _ => {}
        }
        word.parse::<f64>()
            .map(|n| Operand::Literal(Value::from(n)))
            .map_err(|_| {
                format!(
                    "`{word}` is neither a ${{reference}}, a quoted text, a number nor true/false"
                )
            })
    }

    fn value(&self, scope: &dyn Scope) -> Result<Value, String> {
        match self {
            Operand::Expr(e) => e.evaluate(scope),
            Operand::Literal(v) => Ok(v.clone()),
        }
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Array(items) => !items.is_empty(),
        other => {
            let t = template::text(other);
            let t = t.trim();
            !(t.is_empty() || t == "false" || t.parse::<f64>() == Ok(0.0))
        }
    }
}

fn compare(op: Op, left: &Value, right: &Value) -> bool {
    let (l, r) = (template::text(left), template::text(right));
    if op == Op::Contains {
        return match left {
            Value::Array(items) => items.iter().any(|i| template::text(i) == r),
            _ => l.contains(&r),
        };
    }
    let order = match (l.trim().parse::<f64>(), r.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(l.cmp(&r)),
    };
    let Some(order) = order else { return false };
    match op {
        Op::Eq => order.is_eq(),
        Op::Ne => order.is_ne(),
        Op::Lt => order.is_lt(),
        Op::Le => order.is_le(),
        Op::Gt => order.is_gt(),
        Op::Ge => order.is_ge(),
        Op::Contains => unreachable!("handled above"),
    }
}

/// Words: `${…}` as one, quoted text as one, else split on whitespace.
fn tokens(source: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let end = if source[start..].starts_with("${") {
            source[start..]
                .find('}')
                .map(|e| start + e + 1)
                .ok_or_else(|| format!("`${{` without `}}` in `{source}`"))?
        } else if c == '\'' || c == '"' {
            source[start + 1..]
                .find(c)
                .map(|e| start + 1 + e + 1)
                .ok_or_else(|| format!("a quote is not closed in `{source}`"))?
        } else {
            source[start..]
                .find(char::is_whitespace)
                .map_or(source.len(), |e| start + e)
        };
        words.push(source[start..end].to_string());
        while chars.peek().is_some_and(|&(i, _)| i < end) {
            chars.next();
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::template::Root;
    use serde_json::json;

    struct Fixed;
    impl Scope for Fixed {
        fn get(&self, root: &Root) -> Result<Value, String> {
            Ok(match root {
                Root::Input(n) if n == "lang" => json!("zh"),
                Root::Input(n) if n == "n" => json!(12),
                Root::Input(n) if n == "empty" => json!(""),
                Root::Step(_) => json!(["a b", "c"]),
                _ => Value::Null,
            })
        }
    }

    fn holds(c: &str) -> bool {
        Condition::parse(c).unwrap().holds(&Fixed).unwrap()
    }

    #[test]
    fn compares_numbers_as_numbers_and_joins_clauses() {
        assert!(holds("${inputs.lang} == 'zh'"));
        assert!(holds("${inputs.lang} != \"en\""));
        assert!(holds("${inputs.n} > 9"), "12 > 9 as numbers, not as text");
        assert!(!holds("${inputs.n} < 9"));
        assert!(holds("${inputs.empty} or ${inputs.n} >= 12"));
        assert!(!holds("${inputs.empty} and ${inputs.n} >= 12"));
        assert!(holds("not ${inputs.empty}"));
        assert!(holds("${steps.s.output} contains 'c'"));
        assert!(
            !holds("${steps.s.output} contains 'b'"),
            "lists contain elements"
        );
        assert!(holds("${steps.s.output | count} == 2"));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        for bad in [
            "",
            "${inputs.lang} = 'zh'",
            "${inputs.lang} == zh",
            "${inputs.lang == 'zh'",
            "'open",
            "${inputs.a} == 1 2",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
    }
}
