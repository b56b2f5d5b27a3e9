//! The one literature record type every reader produces and every later stage consumes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One paper, book chapter or article, whatever format it was read from.
///
/// `id` is the source's own identifier, kept exactly (SciFact `_id`, CSL `id`, a BibTeX
/// citation key, a RIS `ID`); readers only invent one when the source has none.
/// Fields the record type does not model are kept, untouched, in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paper {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    #[serde(rename = "abstract", default)]
    pub abstract_text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    pub lang: Lang,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Paper {
    /// Title and abstract as one passage: what the tokenizer and the language model read.
    pub fn text(&self) -> String {
        match (self.title.is_empty(), self.abstract_text.is_empty()) {
            (false, false) => format!("{}\n{}", self.title, self.abstract_text),
            (false, true) => self.title.clone(),
            _ => self.abstract_text.clone(),
        }
    }

    /// The paper as a pretraining document: its id and [`Paper::text`].
    pub fn as_text(&self) -> crate::Text {
        crate::Text {
            id: self.id.clone(),
            text: self.text(),
        }
    }
}

/// The language a record is written in. Chinese and English are the ones Miracle analyses
/// specially; anything else keeps its code so nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    En,
    Zh,
    /// Another language, by the code or name the source gave ("und" when undetermined).
    Other(String),
}

impl Lang {
    pub const UNDETERMINED: &'static str = "und";

    /// Reads a language as sources write it: ISO 639-1/2 codes, English or Chinese names.
    pub fn from_code(code: &str) -> Lang {
        let lower = code.trim().to_lowercase();
        match lower.as_str() {
            "en" | "eng" | "english" | "en-us" | "en-gb" | "英文" | "英语" => Lang::En,
            "zh" | "zho" | "chi" | "chinese" | "zh-cn" | "zh-hans" | "zh-tw" | "zh-hant"
            | "中文" | "汉语" => Lang::Zh,
            "" => Lang::Other(Self::UNDETERMINED.to_string()),
            _ => Lang::Other(lower),
        }
    }

    /// Guesses the language of a text from its script: Chinese when Han characters make up
    /// at least a fifth of its letters (CSL abstracts carry Latin terms such as "SOS"),
    /// English when it has Latin letters, undetermined otherwise.
    pub fn detect(text: &str) -> Lang {
        let (mut han, mut latin) = (0usize, 0usize);
        for c in text.chars() {
            if is_han(c) {
                han += 1;
            } else if c.is_ascii_alphabetic() {
                latin += 1;
            }
        }
        if han > 0 && han * 5 >= han + latin {
            Lang::Zh
        } else if latin > 0 {
            Lang::En
        } else {
            Lang::Other(Self::UNDETERMINED.to_string())
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
            Lang::Other(code) => code,
        }
    }
}

/// CJK Unified Ideographs, their extensions A to H and the compatibility block: what Chinese
/// running text is made of.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}' | '\u{30000}'..='\u{323AF}')
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Lang {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Lang::from_code(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_chinese_with_latin_terms() {
        assert_eq!(
            Lang::detect("采用修正的Rodrigues参数(MRP),建立了飞行器姿态控制系统"),
            Lang::Zh
        );
        assert_eq!(
            Lang::detect("Diffusion tensor imaging of 北京 infants"),
            Lang::En
        );
        assert_eq!(Lang::detect("1234 !!"), Lang::Other("und".into()));
    }

    #[test]
    fn codes_and_names_map_to_one_language() {
        for code in ["zh", "CHI", "Chinese", "中文", "zh-CN"] {
            assert_eq!(Lang::from_code(code), Lang::Zh, "{code}");
        }
        assert_eq!(Lang::from_code("eng"), Lang::En);
        assert_eq!(Lang::from_code("de"), Lang::Other("de".into()));
    }

    #[test]
    fn text_joins_title_and_abstract() {
        let mut p = Paper {
            id: "1".into(),
            title: "T".into(),
            authors: vec![],
            abstract_text: "A".into(),
            keywords: vec![],
            year: None,
            venue: None,
            doi: None,
            lang: Lang::En,
            extra: BTreeMap::new(),
        };
        assert_eq!(p.text(), "T\nA");
        p.title.clear();
        assert_eq!(p.text(), "A");
    }
}
