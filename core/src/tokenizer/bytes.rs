//! GPT-2's byte-level alphabet: every byte is written as one printable character, so a BPE
//! vocabulary of strings can spell any byte sequence. `tokenizers` keeps its table private;
//! this is the same table (printable Latin-1 bytes stand for themselves, the other 68 are
//! shifted to U+0100 and up), used to recover a token's exact bytes.

use std::sync::LazyLock;

/// The byte each alphabet character stands for, indexed by the character's code point.
static CHAR_TO_BYTE: LazyLock<[Option<u8>; 324]> = LazyLock::new(|| {
    let mut table = [None; 324];
    let mut shifted = 0u32;
    for byte in 0..=255u8 {
        let printable = matches!(byte, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        let code = if printable {
            u32::from(byte)
        } else {
            shifted += 1;
            255 + shifted
        };
        table[code as usize] = Some(byte);
    }
    table
});

/// The bytes a byte-level token spells, or `None` if it holds a character outside the alphabet.
pub(super) fn token_to_bytes(token: &str) -> Option<Vec<u8>> {
    token
        .chars()
        .map(|c| CHAR_TO_BYTE.get(c as usize).copied().flatten())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_gpt2_table() {
        assert_eq!(token_to_bytes("Ġ"), Some(vec![b' ']), "U+0120 is the space");
        assert_eq!(
            token_to_bytes("Ċ"),
            Some(vec![b'\n']),
            "U+010A is the newline"
        );
        assert_eq!(token_to_bytes("Ā"), Some(vec![0]), "U+0100 is NUL");
        assert_eq!(token_to_bytes("hi"), Some(b"hi".to_vec()));
        assert_eq!(token_to_bytes("中"), None);
        let alphabet: std::collections::HashSet<char> =
            tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet()
                .into_iter()
                .collect();
        assert_eq!(alphabet.len(), 256);
        assert!(
            alphabet
                .iter()
                .all(|&c| token_to_bytes(&c.to_string()).is_some())
        );
    }
}
