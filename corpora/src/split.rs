//! The one rule that decides which papers are held out of training (the tokenizer now,
//! pretraining later) so that evaluation text is never trained on.

/// One paper in this many is held out.
pub const HELD_OUT_ONE_IN: u64 = 20;

/// Whether the paper with this id is held out: a stable hash (FNV-1a) of the id, so the
/// split is the same on every machine and does not shift when a collection grows.
pub fn is_held_out(id: &str) -> bool {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % HELD_OUT_ONE_IN == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_one_in_twenty_is_held_out() {
        let held = (0..10_000).filter(|i| is_held_out(&i.to_string())).count();
        assert!((400..600).contains(&held), "{held}");
        assert_eq!(is_held_out("dev-0"), is_held_out("dev-0"));
    }
}
