//! Training a Miracle tokenizer: byte-level BPE, GPT-2 pre-tokenization, no normalizer
//! (normalizing would break exact round trips), special tokens first.

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer as HfTokenizer};

use super::special::{self, Special};
use super::{Tokenizer, TokenizerError};

/// How to train.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainConfig {
    /// Total vocabulary, special tokens and the 256 byte symbols included.
    pub vocab_size: usize,
    /// A pair must occur this often to be merged.
    pub min_frequency: u64,
}

impl TrainConfig {
    /// The smallest vocabulary that can hold the special tokens and every byte.
    pub const MIN_VOCAB: usize = Special::COUNT as usize + 256;
}

impl Default for TrainConfig {
    /// 8,192 tokens: the vocabulary of the GPT benchmark config C, small enough for a model
    /// trained on two cores, large enough for common Chinese characters and English words.
    fn default() -> Self {
        TrainConfig {
            vocab_size: 8192,
            min_frequency: 2,
        }
    }
}

/// Trains a tokenizer on texts (Chinese and English together). Deterministic: the same
/// texts and config give the same `tokenizer.json`.
pub fn train<I, S>(texts: I, config: &TrainConfig) -> Result<Tokenizer, TokenizerError>
where
    I: Iterator<Item = S> + Send,
    S: AsRef<str> + Send,
{
    if config.vocab_size < TrainConfig::MIN_VOCAB {
        return Err(TokenizerError::Internal(format!(
            "a vocabulary of {} is too small: it must hold {} special tokens and 256 byte symbols (at least {})",
            config.vocab_size,
            Special::COUNT,
            TrainConfig::MIN_VOCAB
        )));
    }
    let specials: Vec<AddedToken> = special::all_texts()
        .iter()
        .map(|t| AddedToken::from(t.clone(), true))
        .collect();
    let mut trainer = TrainerWrapper::BpeTrainer(
        BpeTrainerBuilder::new()
            .show_progress(false)
            .vocab_size(config.vocab_size)
            .min_frequency(config.min_frequency)
            .special_tokens(specials)
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build(),
    );
    // No prefix space: a leading space the input did not have would break exact decoding.
    let byte_level = ByteLevel::new(false, false, true);
    let mut inner = HfTokenizer::new(BPE::default());
    inner.with_pre_tokenizer(Some(PreTokenizerWrapper::ByteLevel(byte_level)));
    inner.with_decoder(Some(ByteLevelDecoder::new(false, false, true)));
    inner
        .train(&mut trainer, texts)
        .map_err(|e| TokenizerError::Internal(e.to_string()))?;
    // Then digits one by one: a number is the same tokens wherever it appears (after a
    // space, after a Chinese character, at the start of a call), which is what lets a small
    // model copy operands from a request into an expert call; LLaMA splits digits too. The
    // merges are learned before the split, so the multi-digit tokens stay in the vocabulary
    // unused, and the vocabulary of the shipped tokenizer did not change.
    inner.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(Sequence::new(vec![
        PreTokenizerWrapper::Digits(Digits::new(true)),
        PreTokenizerWrapper::ByteLevel(byte_level),
    ]))));
    Tokenizer::from_hf(inner, "the trained tokenizer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<String> {
        let lines = [
            "图书馆参考咨询服务的智能化转型。",
            "The probabilistic relevance framework: BM25 and beyond.",
            "基于知识图谱的问答系统研究",
            "Chain-of-thought prompting elicits reasoning in large language models.",
        ];
        lines
            .iter()
            .cycle()
            .take(200)
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn trains_with_specials_first_and_round_trips() {
        let config = TrainConfig {
            vocab_size: 400,
            min_frequency: 2,
        };
        let tokenizer = train(sample().into_iter(), &config).unwrap();
        assert!(tokenizer.vocab_size() <= 400);
        assert_eq!(
            tokenizer.token(Special::Call.id()).as_deref(),
            Some("<|call|>")
        );
        for text in [
            "图书馆 BM25",
            "unseen bytes: \u{0}\u{7f} 🦀 ñ",
            "<|call|> in user text",
        ] {
            let ids = tokenizer.encode(text).unwrap();
            assert_eq!(tokenizer.decode(&ids).unwrap(), text);
            assert!(
                ids.iter().all(|&id| id >= Special::COUNT),
                "{text}: {ids:?}"
            );
        }
        let protocol = tokenizer.encode_with_special("<|user|>hi<|end|>").unwrap();
        assert_eq!(protocol.first(), Some(&Special::User.id()));
        assert_eq!(protocol.last(), Some(&Special::EndOfTurn.id()));
    }

    #[test]
    fn training_is_deterministic() {
        let config = TrainConfig {
            vocab_size: 400,
            min_frequency: 2,
        };
        let a = train(sample().into_iter(), &config)
            .unwrap()
            .to_json()
            .unwrap();
        let b = train(sample().into_iter(), &config)
            .unwrap()
            .to_json()
            .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn too_small_a_vocabulary_is_refused() {
        let err = train(
            sample().into_iter(),
            &TrainConfig {
                vocab_size: 100,
                min_frequency: 2,
            },
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("at least 288"), "{err}");
    }
}
