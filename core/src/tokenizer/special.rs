//! The special tokens Miracle reserves for its chat and tool-call protocol.
//!
//! They take the first ids of every Miracle vocabulary, in this order, so their ids are
//! constants the router and trainers can rely on. Spare ones are reserved now so that the
//! protocol can grow without retraining the tokenizer or resizing a model's embedding.

use std::sync::LazyLock;

/// A special token with a fixed meaning. Its id is its discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Special {
    /// Separates documents in pretraining and ends a generation.
    EndOfText = 0,
    /// Fills batches to one length; never trained on.
    Pad,
    /// Turn headers: who speaks next.
    System,
    User,
    Assistant,
    /// Ends a turn.
    EndOfTurn,
    /// The model's step-by-step reasoning.
    Think,
    ThinkEnd,
    /// A call to an expert: its name and input, written by the model.
    Call,
    CallEnd,
    /// An expert's result, forced into the sequence by the router (never generated).
    Result,
    ResultEnd,
    /// The final answer shown to the user.
    Answer,
    AnswerEnd,
}

impl Special {
    pub const ALL: [Special; 14] = [
        Special::EndOfText,
        Special::Pad,
        Special::System,
        Special::User,
        Special::Assistant,
        Special::EndOfTurn,
        Special::Think,
        Special::ThinkEnd,
        Special::Call,
        Special::CallEnd,
        Special::Result,
        Special::ResultEnd,
        Special::Answer,
        Special::AnswerEnd,
    ];

    /// Spare special tokens (`<|reserved_0|>` …) that follow the named ones.
    pub const RESERVED: u32 = 18;

    /// How many ids all special tokens take: the first ordinary token's id.
    pub const COUNT: u32 = Self::ALL.len() as u32 + Self::RESERVED;

    pub const fn id(self) -> u32 {
        self as u32
    }

    pub fn text(self) -> &'static str {
        match self {
            Special::EndOfText => "<|endoftext|>",
            Special::Pad => "<|pad|>",
            Special::System => "<|system|>",
            Special::User => "<|user|>",
            Special::Assistant => "<|assistant|>",
            Special::EndOfTurn => "<|end|>",
            Special::Think => "<|think|>",
            Special::ThinkEnd => "<|/think|>",
            Special::Call => "<|call|>",
            Special::CallEnd => "<|/call|>",
            Special::Result => "<|result|>",
            Special::ResultEnd => "<|/result|>",
            Special::Answer => "<|answer|>",
            Special::AnswerEnd => "<|/answer|>",
        }
    }

    pub fn from_id(id: u32) -> Option<Special> {
        Self::ALL.get(id as usize).copied()
    }
}

/// Every special token's text, in id order: the named ones, then the reserved ones.
pub fn all_texts() -> &'static [String] {
    static TEXTS: LazyLock<Vec<String>> = LazyLock::new(|| {
        Special::ALL
            .iter()
            .map(|s| s.text().to_string())
            .chain((0..Special::RESERVED).map(|i| format!("<|reserved_{i}|>")))
            .collect()
    });
    &TEXTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_declaration_order() {
        for (i, special) in Special::ALL.iter().enumerate() {
            assert_eq!(special.id(), i as u32);
            assert_eq!(Special::from_id(i as u32), Some(*special));
        }
        assert_eq!(all_texts().len() as u32, Special::COUNT);
        assert_eq!(Special::COUNT, 32);
    }
}
