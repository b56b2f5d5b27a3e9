//! Which tokens the model may write next while it writes a call: the expert's name must
//! become one of the registered names, and the input must stay inside that expert's
//! [`InputFormat`] (its alphabet and size). Computed over the vocabulary's bytes, so any
//! tokenization of a name or an input is allowed, and nothing else is.

use miracle_core::tokenizer::{Special, Tokenizer};
use miracle_experts::InputFormat;

/// The vocabulary's ordinary tokens as bytes, and per-expert token sets, computed once.
pub struct Vocabulary {
    /// Bytes of each ordinary token, indexed by `id - Special::COUNT`.
    bytes: Vec<Vec<u8>>,
}

impl Vocabulary {
    pub fn new(tokenizer: &Tokenizer) -> Self {
        let bytes = (Special::COUNT..tokenizer.vocab_size() as u32)
            .map(|id| {
                tokenizer
                    .bytes_of(id)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            })
            .collect();
        Vocabulary { bytes }
    }

    fn ordinary(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.bytes
            .iter()
            .enumerate()
            .map(|(i, b)| (i as u32 + Special::COUNT, b.as_slice()))
    }

    /// Every ordinary token: free text (thinking, answers).
    pub fn text_tokens(&self) -> Vec<u32> {
        self.ordinary()
            .filter(|(_, b)| !b.is_empty())
            .map(|(id, _)| id)
            .collect()
    }

    /// Ordinary tokens with no character from U+3000 on (CJK, kana, hangul, fullwidth
    /// punctuation: UTF-8 lead bytes 0xE3 to 0xEF): what an answer to an English request
    /// is written in.
    pub fn western_text_tokens(&self) -> Vec<u32> {
        self.ordinary()
            .filter(|(_, b)| !b.is_empty() && !b.iter().any(|b| (0xE3..=0xEF).contains(b)))
            .map(|(id, _)| id)
            .collect()
    }

    /// Tokens that keep `written` (the bytes of the name so far) on the way to one of
    /// `names` followed by a newline; the newline ends the name.
    pub fn name_tokens(&self, written: &[u8], names: &[&str]) -> Vec<u32> {
        self.ordinary()
            .filter(|(_, b)| !b.is_empty())
            .filter(|(_, b)| {
                names.iter().any(|name| {
                    let target = [name.as_bytes(), b"\n"].concat();
                    let total = written.len() + b.len();
                    total <= target.len()
                        && target.starts_with(written)
                        && target[written.len()..].starts_with(b)
                })
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Tokens an input in `format` may contain: whole UTF-8 characters of its alphabet (any
    /// token at all when it has none).
    pub fn input_tokens(&self, format: &InputFormat) -> Vec<u32> {
        self.ordinary()
            .filter(|(_, b)| !b.is_empty())
            .filter(|(_, b)| match &format.alphabet {
                None => true,
                Some(_) => {
                    std::str::from_utf8(b).is_ok_and(|s| s.chars().all(|c| format.allows(c)))
                }
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// How many ids there are, special tokens included.
    pub fn size(&self) -> usize {
        self.bytes.len() + Special::COUNT as usize
    }

    /// The bytes of a token (none for special tokens).
    pub fn bytes(&self, id: u32) -> &[u8] {
        id.checked_sub(Special::COUNT)
            .and_then(|i| self.bytes.get(i as usize))
            .map_or(&[], Vec::as_slice)
    }

    pub fn len_of(&self, id: u32) -> usize {
        self.bytes(id).len()
    }
}

#[cfg(test)]
mod tests {
    use super::Vocabulary;
    use miracle_core::tokenizer::Tokenizer;

    #[test]
    fn western_tokens_spell_english_but_no_chinese() {
        let tokenizer = Tokenizer::shipped().unwrap();
        let vocabulary = Vocabulary::new(&tokenizer);
        let western = vocabulary.western_text_tokens();
        let spells = |text: &str| {
            let ids = tokenizer.encode(text).unwrap();
            ids.iter().all(|id| western.contains(id))
        };
        assert!(spells(
            "The most relevant papers: [12899460], “quoted” — 391."
        ));
        assert!(!spells("答案是182。"));
        assert!(!spells("The answer is 5："));
        assert!(western.len() < vocabulary.text_tokens().len());
    }
}
