//! All YAML reading for workflows: the file's shape (serde, through the maintained
//! `serde_yaml` fork), and where a node sits in the file, for messages about it.
//!
//! serde reports the line and column of what it rejects itself (an unknown field, a wrong
//! type). The checks that come after (an undefined reference, an unlisted expert) find
//! their node's position with [`locate`]: serde_yaml marks an error with the position of
//! the node being read when it was raised, so walking to the node and failing there reads
//! its position back.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Workflow files are small; a larger file is refused before it is parsed.
pub const MAX_BYTES: usize = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a workflow: a mapping with name, steps and outputs"
)]
pub struct RawWorkflow {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// In the file's order (a mapping keeps it).
    #[serde(default, deserialize_with = "in_order")]
    pub inputs: Vec<(String, RawInput)>,
    #[serde(default)]
    pub experts: Vec<serde_yaml::Value>,
    pub steps: Vec<RawStep>,
    #[serde(deserialize_with = "in_order")]
    pub outputs: Vec<(String, String)>,
}

/// A mapping's entries in the file's order; a key given twice is an error.
fn in_order<'de, D, T>(d: D) -> Result<Vec<(String, T)>, D::Error>
where
    D: de::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Entries<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
        type Value = Vec<(String, T)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping of names")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, T)> = Vec::new();
            while let Some((key, value)) = map.next_entry::<String, T>()? {
                if entries.iter().any(|(k, _)| *k == key) {
                    return Err(de::Error::custom(format!("`{key}` is given twice")));
                }
                entries.push((key, value));
            }
            Ok(entries)
        }
    }
    d.deserialize_map(Entries(std::marker::PhantomData))
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an input: a mapping with type (and default, description)"
)]
pub struct RawInput {
    #[serde(rename = "type")]
    pub kind: super::Type,
    #[serde(default)]
    pub default: Option<serde_yaml::Value>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a step: a mapping with id and one of expert, ask, generate"
)]
pub struct RawStep {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub expert: Option<String>,
    pub input: Option<String>,
    pub ask: Option<String>,
    pub generate: Option<String>,
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub parse: super::Parse,
    pub when: Option<String>,
    pub foreach: Option<String>,
    pub timeout: Option<String>,
    #[serde(default)]
    pub retries: u32,
}

/// A position in the file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One step of a path into the document: a mapping's key or a sequence's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Name(String),
    Index(usize),
}

impl From<&str> for Key {
    fn from(name: &str) -> Self {
        Key::Name(name.to_string())
    }
}

impl From<usize> for Key {
    fn from(i: usize) -> Self {
        Key::Index(i)
    }
}

/// Parses the file, or says where and why it is not a workflow.
pub fn parse(text: &str) -> Result<RawWorkflow, (Option<Location>, String)> {
    if text.len() > MAX_BYTES {
        return Err((
            None,
            format!(
                "the file is {} bytes; a workflow may be at most {MAX_BYTES} (1 MiB)",
                text.len()
            ),
        ));
    }
    let text = miracle_experts::yaml::without_bom(text);
    miracle_experts::yaml::check_nesting(text).map_err(|at| {
        let location = Location {
            line: at.line,
            column: at.column,
        };
        (Some(location), at.to_string())
    })?;
    serde_yaml::from_str(text).map_err(|e| {
        let at = e.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        (at, explained(without_position(&e.to_string())))
    })
}

/// serde_yaml's guards against hostile files, said in words a workflow author can act on.
fn explained(message: String) -> String {
    if message.contains("repetition limit exceeded") {
        "aliases (*name) expand to too many nodes, as in an alias bomb; write the values out".into()
    } else if message.contains("recursion limit exceeded") {
        "the file is nested too deeply (over 128 levels)".into()
    } else {
        message
    }
}

/// serde_yaml's message ends with "at line L column C", which the caller prints first.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Where the node at `path` starts, if the file has it.
pub fn locate(text: &str, path: &[Key]) -> Option<Location> {
    let found = Walk { path }.deserialize(serde_yaml::Deserializer::from_str(text));
    match found {
        Err(e) if e.to_string().contains(HERE) => e.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        }),
        _ => None,
    }
}

const HERE: &str = "miracle:here";

/// Walks `path`, skipping everything else; fails (with serde_yaml's position) on arrival.
struct Walk<'p> {
    path: &'p [Key],
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Key::Name(want), rest)) = self.path.split_first() else {
            return Err(de::Error::custom(HERE));
        };
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if key.as_str() == Some(want.as_str()) {
                return map.next_value_seed(Walk { path: rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Key::Index(want), rest)) = self.path.split_first() else {
            return Err(de::Error::custom(HERE));
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Walk { path: rest }).map(|_| ())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

impl Walk<'_> {
    fn scalar<E: de::Error>(&self) -> Result<(), E> {
        if self.path.is_empty() {
            Err(E::custom(HERE))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: demo\nsteps:\n  - id: a\n    expert: calculator\n    input: 1 + 2\n  - id: b\n    ask: \"${steps.a.output}\"\noutputs:\n  sum: ${steps.b.output}\n";

    #[test]
    fn locates_nodes_by_path() {
        let at = |path: &[Key]| locate(TEXT, path).map(|l| (l.line, l.column));
        assert_eq!(at(&["steps".into(), 1.into(), "ask".into()]), Some((7, 10)));
        assert_eq!(at(&["steps".into(), 0.into()]), Some((3, 5)));
        assert_eq!(at(&["outputs".into(), "sum".into()]), Some((9, 8)));
        assert_eq!(at(&["steps".into(), 5.into()]), None);
        assert_eq!(at(&["nothing".into()]), None);
    }

    #[test]
    fn shape_errors_come_with_their_position() {
        let (at, message) = parse("name: x\nsteps: []\noutputs: {}\nstep: 1\n").unwrap_err();
        assert_eq!(at.map(|l| l.line), Some(4));
        assert!(message.contains("unknown field `step`"), "{message}");
    }
}
