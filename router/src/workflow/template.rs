//! `${…}` templates: text with references to the workflow's inputs, earlier steps' outputs
//! and, inside `foreach`, the current item — each optionally followed by filters.
//!
//! ```text
//! ${inputs.topic}                       an input
//! ${steps.papers.output}                an earlier step's output
//! ${steps.papers.output.year}           a field; on a list, that field of every element
//! ${steps.papers.output[0].title}       an element of a list
//! ${item}  ${index}                     inside foreach: the element and its position (0-based)
//! ${steps.papers.output | count}        filters: count, count(x), join(", "), lines,
//!                                       unique, sort
//! $${                                   a literal "${"
//! ```

use serde_json::Value;

/// A parsed template: literal text and expressions, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

/// A reference followed by filters: `steps.papers.output.year | count(item)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub reference: Reference,
    pub filters: Vec<Filter>,
}

/// Where a value comes from, and the path into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub root: Root,
    pub path: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    Input(String),
    Step(String),
    Item,
    Index,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Field(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Elements of a list, non-empty lines of a text (0 for nothing).
    Count,
    /// Elements equal to the argument.
    CountOf(Arg),
    /// A list's elements as text, with this separator.
    Join(String),
    /// A text's non-empty lines, trimmed, as a list.
    Lines,
    /// A list without repeats, in order of first appearance.
    Unique,
    /// A list in ascending order: numbers by value, then texts.
    Sort,
}

/// A filter's argument: a reference or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Reference(Reference),
    Literal(Value),
}

/// What a reference reads, for [`Template::render`].
pub trait Scope {
    /// The value of `root`, or why there is none.
    fn get(&self, root: &Root) -> Result<Value, String>;
}

impl Template {
    /// Parses `text`. The error says what is wrong, quoting the offending expression.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            let after = &rest[at..];
            if let Some(escaped) = after.strip_prefix("$${") {
                literal.push_str("${");
                rest = escaped;
            } else if let Some(open) = after.strip_prefix("${") {
                let close = open.find('}').ok_or_else(|| {
                    format!(
                        "`${{` without its closing `}}` in {text:?}; write $${{ for a literal ${{"
                    )
                })?;
                if !literal.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut literal)));
                }
                parts.push(Part::Expr(Expr::parse(&open[..close])?));
                rest = &open[close + 1..];
            } else {
                literal.push('$');
                rest = &after[1..];
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// Every expression, in order (for validation).
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Text(_) => None,
        })
    }

    /// The template's only expression, when it is nothing else (`${steps.a.output}`):
    /// such a template stands for the value itself, a list staying a list.
    pub fn sole(&self) -> Option<&Expr> {
        match self.parts.as_slice() {
            [Part::Expr(e)] => Some(e),
            _ => None,
        }
    }

    /// The value: the sole expression's own, or the text with every expression rendered.
    pub fn value(&self, scope: &dyn Scope) -> Result<Value, String> {
        match self.sole() {
            Some(expr) => expr.evaluate(scope),
            None => self.render(scope).map(Value::String),
        }
    }

    /// The text, every expression rendered ([`text`]).
    pub fn render(&self, scope: &dyn Scope) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => out.push_str(&text(&e.evaluate(scope)?)),
            }
        }
        Ok(out)
    }
}

/// A value as text: strings as they are, numbers and booleans as written, nothing as "",
/// lists as their elements' text joined by ", ", objects as JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

impl Expr {
    fn parse(source: &str) -> Result<Self, String> {
        let mut pieces = split_top_level(source, '|').into_iter();
        let head = pieces.next().unwrap_or_default();
        let reference =
            Reference::parse(head.trim()).map_err(|e| format!("in ${{{source}}}: {e}"))?;
        let filters = pieces
            .map(|f| Filter::parse(f.trim()).map_err(|e| format!("in ${{{source}}}: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(Expr { reference, filters })
    }

    /// Every reference the expression reads (its own and its filters' arguments).
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        std::iter::once(&self.reference).chain(self.filters.iter().filter_map(|f| match f {
            Filter::CountOf(Arg::Reference(r)) => Some(r),
            _ => None,
        }))
    }

    pub fn evaluate(&self, scope: &dyn Scope) -> Result<Value, String> {
        let mut value = self.reference.evaluate(scope)?;
        for filter in &self.filters {
            value = filter.apply(value, scope)?;
        }
        Ok(value)
    }
}

impl Reference {
    fn parse(source: &str) -> Result<Self, String> {
        let (head, mut rest) = take_ident(source);
        let root = match head {
            "item" => Root::Item,
            "index" => Root::Index,
            "inputs" | "steps" => {
                let name = rest
                    .strip_prefix('.')
                    .map(take_ident)
                    .filter(|(n, _)| !n.is_empty());
                let Some((name, after)) = name else {
                    return Err(format!("`{head}` must be followed by a name: {head}.NAME"));
                };
                rest = after;
                if head == "inputs" {
                    Root::Input(name.to_string())
                } else {
                    let (field, after) = rest.strip_prefix('.').map(take_ident).unwrap_or_default();
                    if field != "output" {
                        return Err(format!("write steps.{name}.output for the step's output"));
                    }
                    rest = after;
                    Root::Step(name.to_string())
                }
            }
            "" => return Err("an empty ${} references nothing".into()),
            other => {
                return Err(format!(
                    "unknown name `{other}`; a reference starts with inputs., steps., item or index"
                ));
            }
        };
        let mut path = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let (field, after) = take_ident(after);
                if field.is_empty() {
                    return Err(format!("a field name must follow `.` in `{source}`"));
                }
                path.push(Segment::Field(field.to_string()));
                rest = after;
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after
                    .find(']')
                    .ok_or_else(|| format!("`[` without `]` in `{source}`"))?;
                let n = after[..close].trim().parse().map_err(|_| {
                    format!(
                        "`[{}]` is not an index: write a number, e.g. [0]",
                        &after[..close]
                    )
                })?;
                path.push(Segment::Index(n));
                rest = &after[close + 1..];
            } else {
                return Err(format!(
                    "unexpected `{rest}` after the reference in `{source}`"
                ));
            }
        }
        Ok(Reference { root, path })
    }

    fn evaluate(&self, scope: &dyn Scope) -> Result<Value, String> {
        let mut value = scope.get(&self.root)?;
        for segment in &self.path {
            value = step_into(value, segment).map_err(|e| format!("{self}: {e}"))?;
        }
        Ok(value)
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.root {
            Root::Input(n) => write!(f, "inputs.{n}")?,
            Root::Step(n) => write!(f, "steps.{n}.output")?,
            Root::Item => f.write_str("item")?,
            Root::Index => f.write_str("index")?,
        }
        for segment in &self.path {
            match segment {
                Segment::Field(n) => write!(f, ".{n}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

fn step_into(value: Value, segment: &Segment) -> Result<Value, String> {
    match (value, segment) {
        (Value::Array(items), Segment::Index(i)) => {
            let n = items.len();
            items
                .into_iter()
                .nth(*i)
                .ok_or_else(|| format!("index {i} is past the end of a list of {n}"))
        }
        // On a list, a field is taken from every element (a projection).
        (Value::Array(items), Segment::Field(_)) => items
            .into_iter()
            .map(|item| step_into(item, segment))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        (Value::Object(mut map), Segment::Field(name)) => {
            Ok(map.remove(name).unwrap_or(Value::Null))
        }
        (Value::Null, _) => Ok(Value::Null),
        (other, Segment::Field(name)) => Err(format!(
            "a {} has no field `{name}` (use `parse: json` on the step for structured output)",
            kind(&other)
        )),
        (other, Segment::Index(_)) => Err(format!("a {} cannot be indexed", kind(&other))),
    }
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "text",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

impl Filter {
    fn parse(source: &str) -> Result<Self, String> {
        let (name, rest) = take_ident(source);
        let rest = rest.trim();
        let arg = if rest.is_empty() {
            None
        } else {
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("filter `{source}`: write its argument in parentheses"))?;
            Some(Arg::parse(inner.trim())?)
        };
        match (name, arg) {
            ("count", None) => Ok(Filter::Count),
            ("count", Some(arg)) => Ok(Filter::CountOf(arg)),
            ("join", Some(Arg::Literal(Value::String(sep)))) => Ok(Filter::Join(sep)),
            ("join", None) => Ok(Filter::Join(", ".into())),
            ("join", Some(_)) => Err("join takes a quoted separator, e.g. join(\"; \")".into()),
            ("lines", None) => Ok(Filter::Lines),
            ("unique", None) => Ok(Filter::Unique),
            ("sort", None) => Ok(Filter::Sort),
            ("lines" | "unique" | "sort", Some(_)) => Err(format!("{name} takes no argument")),
            _ => Err(format!(
                "unknown filter `{source}`; the filters are count, count(x), join(\"sep\"), lines, unique, sort"
            )),
        }
    }

    fn apply(&self, value: Value, scope: &dyn Scope) -> Result<Value, String> {
        Ok(match self {
            Filter::Count => Value::from(match &value {
                Value::Null => 0,
                Value::Array(items) => items.len(),
                Value::String(s) => s.lines().filter(|l| !l.trim().is_empty()).count(),
                _ => 1,
            }),
            Filter::CountOf(arg) => {
                let wanted = text(&arg.evaluate(scope)?);
                Value::from(list(value).iter().filter(|v| text(v) == wanted).count())
            }
            Filter::Join(sep) => match value {
                Value::Array(items) => {
                    Value::String(items.iter().map(text).collect::<Vec<_>>().join(sep))
                }
                other => Value::String(text(&other)),
            },
            Filter::Lines => lines(&text(&value)),
            Filter::Unique => {
                let mut seen = Vec::new();
                for item in list(value) {
                    if !seen.contains(&item) {
                        seen.push(item);
                    }
                }
                Value::Array(seen)
            }
            Filter::Sort => {
                let mut items = list(value);
                items.sort_by(|a, b| match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => text(a).cmp(&text(b)),
                });
                Value::Array(items)
            }
        })
    }
}

/// A text's non-empty lines, trimmed, as a list (the `lines` filter, `parse: lines`).
pub fn lines(text: &str) -> Value {
    Value::Array(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| Value::String(l.to_string()))
            .collect(),
    )
}

/// A value as a list: a list as it is, nothing as none, anything else as one element.
fn list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

impl Arg {
    fn parse(source: &str) -> Result<Self, String> {
        if let Some(s) = unquote(source) {
            return Ok(Arg::Literal(Value::String(s)));
        }
        if let Ok(n) = source.parse::<i64>() {
            return Ok(Arg::Literal(Value::from(n)));
        }
        if let Ok(n) = source.parse::<f64>() {
            return Ok(Arg::Literal(Value::from(n)));
        }
        Reference::parse(source).map(Arg::Reference)
    }

    fn evaluate(&self, scope: &dyn Scope) -> Result<Value, String> {
        match self {
            Arg::Literal(v) => Ok(v.clone()),
            Arg::Reference(r) => r.evaluate(scope),
        }
    }
}

/// The text inside matching single or double quotes.
pub fn unquote(source: &str) -> Option<String> {
    ['"', '\''].into_iter().find_map(|q| {
        source
            .strip_prefix(q)
            .and_then(|s| s.strip_suffix(q))
            .filter(|s| !s.contains(q))
            .map(str::to_string)
    })
}

/// A leading identifier (letters, digits, `_`, `-`) and what follows it.
fn take_ident(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// Splits on `sep` outside quotes.
fn split_top_level(s: &str, sep: char) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut quote = None;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == sep => {
                pieces.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            None => {}
        }
    }
    pieces.push(&s[start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed;
    impl Scope for Fixed {
        fn get(&self, root: &Root) -> Result<Value, String> {
            Ok(match root {
                Root::Input(n) if n == "topic" => json!("retrieval"),
                Root::Step(n) if n == "papers" => {
                    json!([{"year": 1975, "title": "A"}, {"year": 1972}, {"year": 1975}])
                }
                Root::Item => json!(1975),
                Root::Index => json!(0),
                _ => return Err("undefined".into()),
            })
        }
    }

    fn render(t: &str) -> String {
        Template::parse(t).unwrap().render(&Fixed).unwrap()
    }

    #[test]
    fn renders_references_paths_and_filters() {
        assert_eq!(render("about ${inputs.topic}!"), "about retrieval!");
        assert_eq!(render("${steps.papers.output.year}"), "1975, 1972, 1975");
        assert_eq!(render("${steps.papers.output[0].title}"), "A");
        assert_eq!(render("${steps.papers.output | count}"), "3");
        assert_eq!(render("${steps.papers.output.year | count(item)}"), "2");
        assert_eq!(
            render("${steps.papers.output.year | join(' + ')}"),
            "1975 + 1972 + 1975"
        );
        assert_eq!(
            render("${steps.papers.output.year | unique | sort}"),
            "1972, 1975"
        );
        assert_eq!(render("cost: $5, $${x}"), "cost: $5, ${x}");
        let sole = Template::parse("${steps.papers.output.year}").unwrap();
        assert_eq!(sole.value(&Fixed).unwrap(), json!([1975, 1972, 1975]));
    }

    #[test]
    fn rejects_malformed_expressions_with_the_reason() {
        for (bad, says) in [
            ("${inputs.topic", "without its closing"),
            ("${}", "references nothing"),
            ("${steps.a}", "steps.a.output"),
            ("${step.a.output}", "unknown name `step`"),
            ("${inputs.topic | upper}", "unknown filter"),
            ("${inputs.topic[x]}", "not an index"),
            ("${inputs.}", "followed by a name"),
        ] {
            let err = Template::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
