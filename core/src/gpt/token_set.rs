//! A set of token ids over a vocabulary, as a bitset: the tokens a constrained decoding step
//! allowed. PPO records one per action, so that the update scores the policy the agent
//! actually sampled from (the model renormalised over the allowed tokens), not the model
//! over the whole vocabulary. 8,192 tokens take 1 KB.

/// Token ids below a vocabulary size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenSet {
    words: Box<[u64]>,
    vocab: usize,
}

impl TokenSet {
    /// The set of `ids`; ids at or beyond `vocab` are left out (the decoder rejects them).
    pub fn new(ids: &[u32], vocab: usize) -> Self {
        let mut words = vec![0u64; vocab.div_ceil(64)].into_boxed_slice();
        for &id in ids.iter().filter(|&&id| (id as usize) < vocab) {
            words[id as usize / 64] |= 1 << (id % 64);
        }
        TokenSet { words, vocab }
    }

    /// The vocabulary size the set ranges over.
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    pub fn contains(&self, id: u32) -> bool {
        (id as usize) < self.vocab && self.words[id as usize / 64] & (1 << (id % 64)) != 0
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// The ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.vocab as u32).filter(|&id| self.contains(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_exactly_its_ids() {
        let set = TokenSet::new(&[0, 63, 64, 99, 200], 100);
        assert_eq!(set.ids().collect::<Vec<_>>(), vec![0, 63, 64, 99]);
        assert_eq!(set.len(), 4);
        assert!(set.contains(63) && set.contains(64) && !set.contains(62));
        assert!(!set.contains(100) && !set.contains(200));
        assert!(TokenSet::new(&[], 100).is_empty());
        assert_eq!(set.vocab(), 100);
    }
}
