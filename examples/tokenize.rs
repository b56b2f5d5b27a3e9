//! The shipped tokenizer: text in, token ids out, and back, exactly. User text can never
//! forge a protocol marker; the router's own protocol text can use them.
//!
//!     cargo run --example tokenize -- "图书馆的参考咨询 reference desk"

use miracle::core::tokenizer::{Special, Tokenizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "图书馆的参考咨询 reference desk <|call|>".into());
    let tokenizer = Tokenizer::shipped()?;

    let ids = tokenizer.encode(&text)?;
    println!("{} bytes -> {} tokens: {ids:?}", text.len(), ids.len());
    assert_eq!(
        tokenizer.decode(&ids)?,
        text,
        "decoding gives the text back exactly"
    );
    assert!(
        ids.iter().all(|&id| id >= Special::COUNT),
        "user text holds no special tokens"
    );

    // A user turn: the markers come from their ids, the user's words from `encode`, so a
    // `<|call|>` typed by the user stays text. (`encode_with_special` is for the router's
    // own protocol text, never for anything a user wrote.)
    let mut turn = vec![Special::User.id()];
    turn.extend(tokenizer.encode(&text)?);
    turn.push(Special::EndOfTurn.id());
    assert!(!turn.contains(&Special::Call.id()));
    println!("as a user turn: {turn:?}");
    Ok(())
}
