//! Cross-language search: a bilingual lexicon turns a query's English words into Chinese
//! terms and its Chinese words into English ones, so that one request finds papers in both
//! languages. The shipped lexicon is ECDICT's (MIT), filtered by `scripts/lexicon/ecdict.py`
//! into `corpora/lexicon/en-zh.tsv`; a library may give its own in the same form.
//!
//! Translation is word by word, on the analyzer's own words: an English word is looked up
//! by its stem (so "tumors" finds "tumor"; a phrase such as "reference desk" by its stems in a
//! row, the longest first), a Chinese one by the word jieba cut, the longest that has an entry (jieba's search mode also emits the sub-words of a long word: 糖尿病,
//! 糖尿, 尿病; the sub-words of a translated word are not translated again). Each word's
//! translations share one unit of weight, the weight of one of the query's own terms, so that
//! a word with six glosses does not outweigh a word with one.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, LazyLock};

use miracle_corpora::is_han;

use super::analyzer;
use super::error::SearchError;

/// Chinese glosses kept per English stem (the shipped file has at most six per word).
const GLOSSES_PER_STEM: usize = 6;
/// English words kept per Chinese word: the glosses of many English words share a common
/// Chinese word (研究: study, research, investigate, …); the first few carry the sense.
const WORDS_PER_GLOSS: usize = 3;

/// A bilingual lexicon, read into both directions.
pub struct Lexicon {
    /// English stem (a phrase's stems, space-separated) → Chinese glosses, best first (the
    /// commonest headword's first).
    to_zh: HashMap<String, Vec<String>>,
    /// Terms in the longest English phrase of `to_zh`.
    longest_phrase: usize,
    /// Chinese word → English headwords, best first (commoner words, and words whose first
    /// gloss it is, first), one per stem.
    to_en: HashMap<String, Vec<String>>,
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexicon")
            .field("english_stems", &self.to_zh.len())
            .field("chinese_words", &self.to_en.len())
            .finish()
    }
}

/// Where a lexicon came from, for its errors.
const SHIPPED: &str = "corpora/lexicon/en-zh.tsv";

impl Lexicon {
    /// The shipped English–Chinese lexicon, read on first use.
    pub fn shipped() -> Result<Arc<Lexicon>, SearchError> {
        static SHIPPED_LEXICON: LazyLock<Result<Arc<Lexicon>, String>> = LazyLock::new(|| {
            Lexicon::parse(miracle_corpora::LEXICON_EN_ZH, Path::new(SHIPPED))
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        SHIPPED_LEXICON.clone().map_err(SearchError::Query)
    }

    /// A lexicon file: one English word a line, a tab, its Chinese glosses separated by `|`,
    /// best first; commoner words on earlier lines.
    pub fn read(path: &Path) -> Result<Lexicon, SearchError> {
        let bytes = std::fs::read(path).map_err(|e| SearchError::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|e| SearchError::Lexicon {
            path: path.to_path_buf(),
            line: 0,
            detail: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        Self::parse(&text, path)
    }

    /// Reads lexicon text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Lexicon, SearchError> {
        let mut to_zh: HashMap<String, Vec<String>> = HashMap::new();
        let mut longest_phrase = 1;
        // Every headword kept, with its terms joined: what a line number stands for below.
        let mut words: Vec<(String, String)> = Vec::new();
        // Chinese word → (how good a translation, the English word's place in `words`).
        let mut to_en: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (at, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (word, glosses) = entry(line).map_err(|detail| SearchError::Lexicon {
                path: origin.to_path_buf(),
                line: at + 1,
                detail: detail.into(),
            })?;
            let terms = analyzer::terms(&word);
            if terms.is_empty() {
                continue; // a stop word ("a", "of"): it would search for nothing
            }
            // Looked up by its terms (stems), a phrase by them in a row.
            longest_phrase = longest_phrase.max(terms.len());
            let key = terms.join(" ");
            let known = to_zh.entry(key.clone()).or_default();
            for gloss in &glosses {
                if known.len() < GLOSSES_PER_STEM && !known.contains(gloss) {
                    known.push(gloss.clone());
                }
            }
            for (place, gloss) in glosses.into_iter().enumerate() {
                // A common word beats a rare one, a first gloss a later one: "cell" (单元|
                // 细胞|电池) before "cellulae" (细胞), "cancer" before "gann" for 癌症.
                let cost = (at + 1) * (place + 1);
                to_en.entry(gloss).or_default().push((cost, words.len()));
            }
            words.push((word, key));
        }
        if to_zh.is_empty() && to_en.is_empty() {
            return Err(SearchError::Lexicon {
                path: origin.to_path_buf(),
                line: 0,
                detail: "it holds no entries".into(),
            });
        }
        let to_en = to_en
            .into_iter()
            .map(|(gloss, mut candidates)| {
                candidates.sort_unstable();
                // One word per stem: "macrophage", not also "macrophages".
                let mut best: Vec<usize> = Vec::with_capacity(WORDS_PER_GLOSS);
                for (_, at) in candidates {
                    if best.len() == WORDS_PER_GLOSS {
                        break;
                    }
                    if !best.iter().any(|&b| words[b].1 == words[at].1) {
                        best.push(at);
                    }
                }
                (
                    gloss,
                    best.into_iter().map(|at| words[at].0.clone()).collect(),
                )
            })
            .collect();
        Ok(Lexicon {
            to_zh,
            to_en,
            longest_phrase,
        })
    }

    /// The Chinese glosses of an English word or phrase (any inflection), best first.
    pub fn chinese(&self, english: &str) -> &[String] {
        let terms = analyzer::terms(english);
        self.to_zh.get(&terms.join(" ")).map_or(&[], Vec::as_slice)
    }

    /// The English words a Chinese word translates into, best first.
    pub fn english(&self, chinese: &str) -> &[String] {
        self.to_en.get(chinese.trim()).map_or(&[], Vec::as_slice)
    }

    /// Each word of `text` the lexicon translates, once, with its translations, in text
    /// order: what a search with this lexicon adds, for showing to its reader too.
    pub fn words<'a>(&'a self, text: &str) -> Vec<Translation<'a>> {
        let pairs = analyzer::terms_and_words(text);
        let translated_han: Vec<&str> = pairs
            .iter()
            .map(|(_, word)| word.as_str())
            .filter(|word| word.chars().any(is_han) && self.to_en.contains_key(*word))
            .collect();
        let mut found: Vec<Translation> = Vec::new();
        let mut at = 0;
        while at < pairs.len() {
            let (taken, translation) = self.at(&pairs[at..], &translated_han);
            at += taken;
            if let Some(t) = translation
                && !found.iter().any(|seen| seen.word == t.word)
            {
                found.push(t);
            }
        }
        found
    }

    /// The translation of the words that `pairs` (terms and words) starts with, and how many
    /// pairs it covers: an English phrase the lexicon has (the longest), a Chinese word that
    /// is not part of a longer translated one, or one pair with no translation.
    fn at<'a>(
        &'a self,
        pairs: &[(String, String)],
        translated_han: &[&str],
    ) -> (usize, Option<Translation<'a>>) {
        let (term, word) = &pairs[0];
        if word.chars().any(is_han) {
            let inside_another = translated_han
                .iter()
                .any(|longer| longer.len() > word.len() && longer.contains(word.as_str()));
            let into = self.english(word);
            if inside_another || into.is_empty() {
                return (1, None);
            }
            let word = word.clone();
            return (1, Some(Translation { word, into }));
        }
        let latin = pairs
            .iter()
            .take(self.longest_phrase)
            .take_while(|(_, w)| !w.chars().any(is_han))
            .count();
        for len in (1..=latin).rev() {
            let key = if len == 1 {
                term.clone()
            } else {
                let terms: Vec<&str> = pairs[..len].iter().map(|(t, _)| t.as_str()).collect();
                terms.join(" ")
            };
            if let Some(into) = self.to_zh.get(&key) {
                let words: Vec<&str> = pairs[..len].iter().map(|(_, w)| w.as_str()).collect();
                let word = words.join(" ");
                return (len, Some(Translation { word, into }));
            }
        }
        (1, None)
    }

    /// The index terms `text` translates into, with their weights, in term order: English
    /// words into Chinese terms, Chinese words into English ones. Words without an entry
    /// add nothing; the query's own terms are not among these (the caller keeps them).
    pub fn translate(&self, text: &str) -> Vec<(String, f32)> {
        let mut weights: BTreeMap<String, f32> = BTreeMap::new();
        for translation in self.words(text) {
            let share = 1.0 / translation.into.len() as f32;
            for target in translation.into {
                for term in analyzer::terms(target) {
                    *weights.entry(term).or_default() += share;
                }
            }
        }
        weights.into_iter().collect()
    }
}

/// One word of a query and what the lexicon translates it into, best first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Translation<'a> {
    pub word: String,
    pub into: &'a [String],
}

impl std::fmt::Display for Translation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} → {}", self.word, self.into.join(" | "))
    }
}

/// The language a query's translation is in: English for a query written mostly in Han
/// characters, Chinese otherwise (as index language codes).
pub fn target_language(text: &str) -> &'static str {
    let han = text.chars().filter(|&c| is_han(c)).count();
    let latin = text.chars().filter(char::is_ascii_alphabetic).count();
    if han >= latin { "en" } else { "zh" }
}

/// One line: the headword (lower-cased) and its glosses.
fn entry(line: &str) -> Result<(String, Vec<String>), &'static str> {
    let (word, glosses) = line
        .split_once('\t')
        .ok_or("no tab between the English word and its Chinese glosses")?;
    let word = word.trim().to_lowercase();
    if word.is_empty() || word.chars().any(is_han) {
        return Err("the first column must be an English word");
    }
    let glosses: Vec<String> = glosses
        .split('|')
        .map(str::trim)
        .filter(|gloss| !gloss.is_empty())
        .map(str::to_string)
        .collect();
    if glosses.is_empty() {
        return Err("no Chinese gloss after the tab (give them as 词一|词二)");
    }
    if glosses.iter().any(|gloss| !gloss.chars().any(is_han)) {
        return Err("a gloss holds no Chinese character");
    }
    Ok((word, glosses))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon(text: &str) -> Lexicon {
        Lexicon::parse(text, Path::new("test.tsv")).unwrap()
    }

    #[test]
    fn english_words_find_chinese_by_stem_and_chinese_words_find_english() {
        let l = lexicon("tumor\t肿瘤|肿块\ndiabetes\t糖尿病\nstudy\t研究|学习\nresearch\t研究\n");
        assert_eq!(l.chinese("Tumors"), ["肿瘤", "肿块"]);
        assert_eq!(l.english("糖尿病"), ["diabetes"]);
        // First glosses before later ones, then earlier (commoner) lines.
        assert_eq!(l.english("研究"), ["study", "research"]);
        assert!(l.chinese("unknown").is_empty());
    }

    #[test]
    fn an_english_phrase_is_translated_whole_the_longest_first() {
        let l = lexicon("reference\t参考\nreference desk\t参考咨询\ndesk\t书桌\n");
        let words = l.words("Ask the reference desks, or a reference book");
        let shown: Vec<String> = words.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["reference desks → 参考咨询", "reference → 参考"]);
    }

    #[test]
    fn a_translated_word_shares_one_unit_of_weight_and_its_sub_words_add_nothing() {
        let l = lexicon("tumor\t肿瘤|肿块\ndiabetes\t糖尿病\nglycosuria\t糖尿\n");
        // jieba's search mode cuts 糖尿 out of 糖尿病 too; it is not translated again.
        assert!(analyzer::terms("糖尿病").contains(&"糖尿".to_string()));
        let weights: HashMap<String, f32> = l.translate("糖尿病 tumors").into_iter().collect();
        assert_eq!(weights["diabet"], 1.0);
        assert!(!weights.contains_key("glycosuria"), "{weights:?}");
        assert_eq!(l.translate("糖尿")[0].0, "glycosuria");
        let total: f32 = ["肿瘤", "肿块"]
            .iter()
            .flat_map(|g| analyzer::terms(g))
            .map(|t| weights[&t])
            .sum::<f32>();
        assert!(total >= 1.0, "{weights:?}");
        assert!(weights["肿块"] < 1.0);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for (text, says) in [
            ("tumor 肿瘤\n", "no tab"),
            ("tumor\t\n", "no Chinese gloss"),
            ("tumor\ttumour\n", "no Chinese character"),
            ("肿瘤\t肿瘤\n", "English word"),
        ] {
            let e = Lexicon::parse(&format!("cell\t细胞\n{text}"), Path::new("x.tsv"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("x.tsv") && e.contains("line 2") && e.contains(says),
                "{e}"
            );
        }
        let empty = Lexicon::parse("\n\n", Path::new("x.tsv")).unwrap_err();
        assert!(empty.to_string().contains("no entries"), "{empty}");
    }

    #[test]
    fn the_shipped_lexicon_reads_and_knows_the_desk_s_words() {
        let l = Lexicon::shipped().unwrap();
        assert!(l.chinese("diabetes").contains(&"糖尿病".to_string()));
        assert!(l.chinese("retrieval").contains(&"检索".to_string()));
        assert!(l.english("糖尿病").contains(&"diabetes".to_string()));
        assert!(l.english("图书馆").contains(&"library".to_string()));
    }
}
