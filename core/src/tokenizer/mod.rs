//! Miracle's tokenizer: byte-level BPE over Chinese and English together, stored as a
//! standard Hugging Face `tokenizer.json` (loadable by `tokenizers` in Python).
//!
//! Byte-level means every byte sequence has a spelling, so decoding an encoding gives the
//! input back exactly, whatever it holds. Plain text and protocol text are encoded apart:
//! a user who types `<|call|>` gets those characters, never the call token.

mod bytes;
mod special;
mod train;

use std::path::Path;

use tokenizers::Tokenizer as HfTokenizer;

pub use special::Special;
pub use train::{TrainConfig, train};

/// Why a tokenizer could not be loaded, saved or used.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The OS's reason is part of the message, not a source: a chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{origin}: not a tokenizer.json this library can read: {message}")]
    Parse { origin: String, message: String },
    #[error(
        "{origin}: not a Miracle tokenizer: {message}; train one with `miracle tokenizer train`"
    )]
    NotMiracle { origin: String, message: String },
    #[error("token id {id} is outside the vocabulary of {vocab_size} tokens")]
    UnknownId { id: u32, vocab_size: usize },
    #[error("tokenizer failed: {0}")]
    Internal(String),
}

/// A trained byte-level BPE tokenizer with Miracle's special tokens at their fixed ids.
#[derive(Clone)]
pub struct Tokenizer {
    inner: HfTokenizer,
    /// Each id's bytes, for exact streaming decode of partial UTF-8.
    token_bytes: Vec<Vec<u8>>,
}

impl Tokenizer {
    /// The tokenizer of the default model, embedded in the binary.
    pub fn shipped() -> Result<Tokenizer, TokenizerError> {
        Self::from_json(miracle_corpora::TOKENIZER_JSON, "the shipped tokenizer")
    }

    pub fn from_file(path: &Path) -> Result<Tokenizer, TokenizerError> {
        let json = std::fs::read_to_string(path).map_err(|error| TokenizerError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Self::from_json(&json, &path.display().to_string())
    }

    /// Parses a `tokenizer.json`; `origin` names it in errors.
    pub fn from_json(json: &str, origin: &str) -> Result<Tokenizer, TokenizerError> {
        let inner: HfTokenizer =
            json.parse()
                .map_err(
                    |e: Box<dyn std::error::Error + Send + Sync>| TokenizerError::Parse {
                        origin: origin.to_string(),
                        message: e.to_string(),
                    },
                )?;
        Self::from_hf(inner, origin)
    }

    pub(crate) fn from_hf(inner: HfTokenizer, origin: &str) -> Result<Tokenizer, TokenizerError> {
        let not_miracle = |message: String| TokenizerError::NotMiracle {
            origin: origin.to_string(),
            message,
        };
        for (id, text) in special::all_texts().iter().enumerate() {
            if inner.token_to_id(text) != Some(id as u32) {
                return Err(not_miracle(format!(
                    "special token {text} is not at id {id}"
                )));
            }
        }
        let vocab_size = inner.get_vocab_size(true);
        let mut token_bytes = Vec::with_capacity(vocab_size);
        for id in 0..vocab_size as u32 {
            let token = inner
                .id_to_token(id)
                .ok_or_else(|| not_miracle(format!("no token has id {id}")))?;
            let bytes = if id < Special::COUNT {
                token.into_bytes()
            } else {
                bytes::token_to_bytes(&token).ok_or_else(|| {
                    not_miracle(format!("token {id} ({token:?}) is not byte-level"))
                })?
            };
            token_bytes.push(bytes);
        }
        Ok(Tokenizer { inner, token_bytes })
    }

    pub fn vocab_size(&self) -> usize {
        self.token_bytes.len()
    }

    /// Encodes text as text: special-token strings in it are spelled out, never turned
    /// into special tokens (so user input cannot forge protocol markers).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        for piece in split_special_strings(text) {
            ids.extend(self.encode_raw(piece)?);
        }
        Ok(ids)
    }

    /// Encodes protocol text, where `<|call|>` and the other markers mean their tokens.
    pub fn encode_with_special(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.encode_raw(text)
    }

    fn encode_raw(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let encoding = self
            .inner
            .encode_fast(text, false)
            .map_err(|e| TokenizerError::Internal(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The exact bytes of a sequence of ids (special tokens spelled out). Concatenating the
    /// bytes of consecutive pieces equals the bytes of the whole: what streaming needs.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>, TokenizerError> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            out.extend_from_slice(self.bytes_of(id)?);
        }
        Ok(out)
    }

    /// Decodes ids to text. Ids from [`Tokenizer::encode`] give the input back exactly; an
    /// arbitrary sequence may split a character, and such bytes become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        Ok(String::from_utf8_lossy(&self.decode_bytes(ids)?).into_owned())
    }

    pub fn bytes_of(&self, id: u32) -> Result<&[u8], TokenizerError> {
        self.token_bytes
            .get(id as usize)
            .map(Vec::as_slice)
            .ok_or(TokenizerError::UnknownId {
                id,
                vocab_size: self.vocab_size(),
            })
    }

    /// The vocabulary entry of an id, as stored in `tokenizer.json`.
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// UTF-8 bytes per token over some texts: the tokenizer's compression.
    pub fn bytes_per_token<'a>(
        &self,
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<f64, TokenizerError> {
        let (mut bytes, mut tokens) = (0usize, 0usize);
        for text in texts {
            bytes += text.len();
            tokens += self.encode(text)?.len();
        }
        Ok(if tokens == 0 {
            0.0
        } else {
            bytes as f64 / tokens as f64
        })
    }

    pub fn to_json(&self) -> Result<String, TokenizerError> {
        self.inner
            .to_string(false)
            .map_err(|e| TokenizerError::Internal(e.to_string()))
    }

    /// Writes `tokenizer.json` atomically (see [`crate::fs::write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<(), TokenizerError> {
        let json = self.to_json()? + "\n";
        crate::fs::write_atomic(path, json.as_bytes()).map_err(|error| TokenizerError::Io {
            path: path.display().to_string(),
            error,
        })
    }
}

/// Cuts text so that no piece holds a whole special-token string: each occurrence is split
/// after its opening `<|`. BPE pre-tokenization splits there anyway (punctuation, then
/// letters), so the pieces encode exactly as the undivided text would without specials.
fn split_special_strings(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find("<|") {
        let at = search + found;
        // Compare against the (short) special texts only: searching onward for a closing
        // `|>` would make text full of `<|` quadratic.
        let rest = &text[at..];
        let is_special = special::all_texts()
            .iter()
            .any(|s| rest.starts_with(s.as_str()));
        if is_special {
            pieces.push(&text[start..at + 2]);
            start = at + 2;
        }
        search = at + 2;
    }
    pieces.push(&text[start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_strings_are_cut_after_their_opening() {
        assert_eq!(split_special_strings("a<|call|>b"), ["a<|", "call|>b"]);
        assert_eq!(split_special_strings("<|x|> <|"), ["<|x|> <|"]);
        assert_eq!(
            split_special_strings("<|user|><|end|>"),
            ["<|", "user|><|", "end|>"]
        );
    }
}
