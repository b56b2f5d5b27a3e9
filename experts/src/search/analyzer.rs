//! The one analyzer every text field and every query goes through, so that Chinese and
//! English papers (and mixed text such as "BM25 检索") share one index and one query path.
//!
//! Han runs are segmented by jieba (tantivy-jieba, search mode, which also emits the
//! sub-words of long words); everything else is split into alphanumeric words, as Lucene's
//! and tantivy's simple tokenizers do. Then: drop tokens over 40 bytes, lower-case, remove
//! English (Lucene's list) and Chinese function words, and stem English (Snowball).

use std::sync::LazyLock;

use miracle_corpora::is_han;
use tantivy::tokenizer::{
    Language, LowerCaser, RawTokenizer, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer,
    Token, TokenStream, Tokenizer,
};
use tantivy_jieba::JiebaTokenizer;

/// The name the text fields' analyzer is registered under in the index.
pub const TEXT: &str = "miracle_bilingual";
/// Exact-match keys (venue, language filters): the whole value, lower-cased.
pub const KEY: &str = "miracle_key";

/// Lucene's English stop words (the list tantivy ships) plus Chinese function words that
/// jieba emits as words of their own.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with", //
    "的", "了", "和", "与", "及", "或", "是", "在", "对", "于", "为", "以", "之", "其", "把", "被",
    "也", "都", "而", "并", "从", "由", "这", "那", "将", "中", "等", "及其", "以及",
];

/// The text analyzer (tokenizer and filters).
pub fn text() -> TextAnalyzer {
    TextAnalyzer::builder(BilingualTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The text analyzer less its stemmer: the words a person wrote, one per term of [`text`].
fn surface() -> TextAnalyzer {
    TextAnalyzer::builder(BilingualTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .build()
}

/// The key analyzer: one lower-cased token per value.
pub fn key() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .build()
}

/// The terms `text` is indexed and searched as, in order (repeats kept).
pub fn terms(text: &str) -> Vec<String> {
    static ANALYZER: LazyLock<TextAnalyzer> = LazyLock::new(self::text);
    let mut analyzer = ANALYZER.clone();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        terms.push(stream.token().text.clone());
    }
    terms
}

/// Each term of `text` with the word it was made from ("retriev", "retrieval"): the text
/// read once without the stemmer, each word then stemmed alone. Stemming is the chain's
/// last filter and maps one token to one, so this is [`terms`] with the words kept.
pub fn terms_and_words(text: &str) -> Vec<(String, String)> {
    static SURFACE: LazyLock<TextAnalyzer> = LazyLock::new(surface);
    static STEM: LazyLock<TextAnalyzer> = LazyLock::new(|| {
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(Stemmer::new(Language::English))
            .build()
    });
    let (mut surface, mut stem) = (SURFACE.clone(), STEM.clone());
    let mut stream = surface.token_stream(text);
    let mut pairs = Vec::new();
    while stream.advance() {
        let word = stream.token().text.clone();
        let term = {
            let mut stemmed = stem.token_stream(&word);
            match stemmed.advance() {
                true => stemmed.token().text.clone(),
                false => word.clone(),
            }
        };
        pairs.push((term, word));
    }
    pairs
}

/// Splits text into Han runs (segmented by jieba) and alphanumeric words.
#[derive(Clone, Default)]
pub struct BilingualTokenizer {
    jieba: JiebaTokenizer,
    tokens: Vec<Token>,
}

impl Tokenizer for BilingualTokenizer {
    type TokenStream<'a> = Tokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens<'a> {
        self.tokens.clear();
        let mut position = 0;
        let mut rest = text.char_indices().peekable();
        while let Some(&(start, c)) = rest.peek() {
            if is_han(c) {
                let end = run_end(&mut rest, is_han, text.len());
                position = self.push_han(&text[start..end], start, position);
            } else if c.is_alphanumeric() {
                let end = run_end(&mut rest, |c| c.is_alphanumeric() && !is_han(c), text.len());
                self.tokens.push(Token {
                    offset_from: start,
                    offset_to: end,
                    position,
                    text: text[start..end].to_string(),
                    position_length: 1,
                });
                position += 1;
            } else {
                rest.next();
            }
        }
        Tokens {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl BilingualTokenizer {
    /// Jieba's words of one Han run; positions are the run's character offsets (jieba's own
    /// convention, so overlapping search-mode sub-words keep phrase positions consistent).
    ///
    /// Search mode emits a word's sub-words before the word (确定, 定性, 确定性, then 不确定性);
    /// they are put back in text order, which tantivy's snippets rely on: a token that starts
    /// before the one ahead of it made fragment offsets wrap around and the highlight panic.
    fn push_han(&mut self, run: &str, offset: usize, position: usize) -> usize {
        let first = self.tokens.len();
        let mut stream = self.jieba.token_stream(run);
        while stream.advance() {
            let word = stream.token();
            self.tokens.push(Token {
                offset_from: offset + word.offset_from,
                offset_to: offset + word.offset_to,
                position: position + word.position,
                text: word.text.clone(),
                position_length: word.position_length.max(1),
            });
        }
        self.tokens[first..].sort_by_key(|t| (t.offset_from, t.offset_to));
        position + run.chars().count()
    }
}

/// Consumes the run of characters satisfying `keep`; returns the byte offset after it.
fn run_end(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    keep: impl Fn(char) -> bool,
    len: usize,
) -> usize {
    while let Some(&(_, c)) = chars.peek() {
        if !keep(c) {
            break;
        }
        chars.next();
    }
    chars.peek().map_or(len, |&(at, _)| at)
}

/// The tokens of one text, handed out in order.
pub struct Tokens<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn english_is_stemmed_and_stop_words_go() {
        assert_eq!(
            terms("The Retrieval of scientific documents"),
            ["retriev", "scientif", "document"]
        );
    }

    #[test]
    fn chinese_is_segmented_and_mixed_text_kept() {
        let t = terms("基于BM25的信息检索");
        assert!(t.contains(&"基于".to_string()), "{t:?}");
        assert!(t.contains(&"bm25".to_string()), "{t:?}");
        assert!(t.contains(&"信息".to_string()), "{t:?}");
        assert!(t.contains(&"检索".to_string()), "{t:?}");
        assert!(!t.contains(&"的".to_string()), "{t:?}");
    }

    #[test]
    fn tokens_come_in_text_order() {
        // Jieba's search mode yields 确定 before 不确定性; snippets need text order.
        let mut analyzer = super::text();
        let mut stream = analyzer.token_stream("研究了不确定性的指标体系 and more");
        let mut offsets = Vec::new();
        while stream.advance() {
            offsets.push(stream.token().offset_from);
        }
        assert!(offsets.len() > 5, "{offsets:?}");
        assert!(offsets.is_sorted(), "{offsets:?}");
    }

    #[test]
    fn every_term_keeps_the_word_it_came_from() {
        let text = "The Retrieval of 信息检索 in libraries, 2024 studies";
        let terms: Vec<String> = super::terms_and_words(text)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(terms, super::terms(text));
        assert_eq!(
            super::terms_and_words("The Retrieval of 信息检索"),
            [
                ("retriev".to_string(), "retrieval".to_string()),
                ("信息".to_string(), "信息".to_string()),
                ("信息检索".to_string(), "信息检索".to_string()),
                ("检索".to_string(), "检索".to_string()),
            ]
        );
    }

    #[test]
    fn punctuation_and_only_stop_words_give_nothing() {
        assert!(terms("the of and, 的 ... !!").is_empty());
        assert!(terms("").is_empty());
    }
}
