//! The shipped tokenizer: exact round trips for any UTF-8, byte-exact streaming, protocol
//! markers that user text cannot forge, and clear errors for files that are not ours.

use std::sync::LazyLock;

use miracle_core::tokenizer::{Special, Tokenizer};
use proptest::prelude::*;

static SHIPPED: LazyLock<Tokenizer> =
    LazyLock::new(|| Tokenizer::shipped().expect("shipped tokenizer loads"));

fn special_text() -> impl Strategy<Value = String> {
    prop::sample::select(Special::ALL.to_vec()).prop_map(|s| s.text().to_string())
}

/// Text mixing every kind of character a request or a paper can hold.
fn mixed_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<String>(),
            "[\\u{4E00}-\\u{9FFF}]{1,20}",
            "[\\u{1F300}-\\u{1FAFF}\\u{200D}\\u{FE0F}]{1,8}",
            "[\\u{0}-\\u{1F}\\u{7F}-\\u{9F}]{1,8}",
            "[a-zA-Z ,.;:!?'\"-]{1,30}",
            special_text(),
            Just("<|".to_string()),
            Just("|>".to_string()),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_inverts_encode_exactly(text in mixed_text()) {
        let ids = SHIPPED.encode(&text).unwrap();
        prop_assert_eq!(SHIPPED.decode(&ids).unwrap(), text);
    }

    #[test]
    fn user_text_never_yields_special_tokens(text in mixed_text()) {
        let ids = SHIPPED.encode(&text).unwrap();
        prop_assert!(ids.iter().all(|&id| id >= Special::COUNT), "{:?}", ids);
    }

    #[test]
    fn streamed_bytes_concatenate_to_the_text(text in mixed_text(), cut in any::<prop::sample::Index>()) {
        let ids = SHIPPED.encode(&text).unwrap();
        let at = if ids.is_empty() { 0 } else { cut.index(ids.len()) };
        let mut bytes = SHIPPED.decode_bytes(&ids[..at]).unwrap();
        bytes.extend(SHIPPED.decode_bytes(&ids[at..]).unwrap());
        prop_assert_eq!(bytes, text.as_bytes());
    }

    #[test]
    fn protocol_text_round_trips_with_its_markers(user in "[a-z 图书馆]{0,20}", call in "[0-9+*() ]{1,20}") {
        let protocol = format!("<|user|>{user}<|end|><|assistant|><|call|>calculator {call}<|/call|>");
        let ids = SHIPPED.encode_with_special(&protocol).unwrap();
        prop_assert_eq!(ids[0], Special::User.id());
        prop_assert_eq!(*ids.last().unwrap(), Special::CallEnd.id());
        prop_assert!(ids.contains(&Special::Call.id()));
        prop_assert_eq!(SHIPPED.decode(&ids).unwrap(), protocol);
    }
}

#[test]
fn shipped_vocabulary_has_the_protocol_tokens() {
    assert_eq!(SHIPPED.vocab_size(), 8192);
    for special in Special::ALL {
        assert_eq!(SHIPPED.token(special.id()).as_deref(), Some(special.text()));
    }
    assert_eq!(
        SHIPPED.token(Special::COUNT - 1).as_deref(),
        Some("<|reserved_17|>")
    );
}

#[test]
fn common_words_are_single_tokens() {
    for word in ["图书馆", "参考", " the", " information"] {
        assert_eq!(SHIPPED.encode(word).unwrap().len(), 1, "{word:?}");
    }
}

#[test]
fn unknown_ids_are_errors_not_panics() {
    let err = SHIPPED.decode(&[8192]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token id 8192 is outside the vocabulary of 8192 tokens"
    );
}

#[test]
fn foreign_and_corrupt_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(&corrupt, &miracle_corpora::TOKENIZER_JSON[..5000]).unwrap();
    let err = Tokenizer::from_file(&corrupt).err().unwrap().to_string();
    assert!(err.contains("corrupt.json: not a tokenizer.json"), "{err}");

    let foreign = miracle_corpora::TOKENIZER_JSON.replace("<|call|>", "<|other|>");
    let err = Tokenizer::from_json(&foreign, "foreign.json")
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("not a Miracle tokenizer: special token <|call|> is not at id 8"),
        "{err}"
    );
    assert!(err.contains("miracle tokenizer train"), "{err}");

    let err = Tokenizer::from_file(&dir.path().join("missing.json"))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("missing.json: No such file"), "{err}");
}

#[test]
fn text_full_of_marker_openings_round_trips() {
    // 500,000 `<|` and no `|>`: a search for the closing `|>` from each would be quadratic.
    let text = "<|".repeat(500_000) + "<|call|>";
    let ids = SHIPPED.encode(&text).unwrap();
    assert!(ids.iter().all(|&id| id >= Special::COUNT));
    assert_eq!(SHIPPED.decode(&ids).unwrap(), text);
}
