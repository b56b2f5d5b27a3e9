//! Seeded choices that know the split. Every lexical choice comes from a [`Pool`] whose
//! entries are either training entries or held-out ones; a training request can only draw
//! training entries, and a held-out request records every held-out entry it drew, so the
//! split holds by construction and each held-out request says why it is held out.

use crate::Shares;
use miracle_core::rng::SplitMix64;
use miracle_router::demos::{Lang, Split};

/// Something a request can be written with, known by its surface forms.
pub trait Forms: Copy {
    /// The forms a training request must never contain when the entry is held out.
    fn forms(&self) -> Vec<&'static str>;
    /// How the entry is named in marks (its first form).
    fn label(&self) -> &'static str {
        self.forms()[0]
    }
}

/// A word, or a pattern with `{slots}`: its form is its longest run of text between slots
/// ("Point me to work on {x}." → "Point me to work on").
impl Forms for &'static str {
    fn forms(&self) -> Vec<&'static str> {
        let text: &'static str = self;
        let literal = text
            .split('{')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once('}').map_or(part, |(_, rest)| rest)
                }
            })
            .map(|part| part.trim_matches(|c: char| c.is_whitespace() || ",.，".contains(c)))
            .max_by_key(|part| part.chars().count())
            .unwrap_or(text);
        vec![literal]
    }

    fn label(&self) -> &'static str {
        self
    }
}

/// The forms of every held-out entry of `pools`.
pub fn held_forms<T: Forms>(pools: &[&Pool<T>]) -> Vec<&'static str> {
    pools
        .iter()
        .flat_map(|pool| pool.held.iter().flat_map(|entry| entry.forms()))
        .collect()
}

/// A lexical slot's entries: `train` ones anyone may use, `held` ones only held-out requests.
pub struct Pool<T: 'static> {
    pub name: &'static str,
    pub train: &'static [T],
    pub held: &'static [T],
}

/// The seeded generator of one request, with the split it is drawn for and what it drew.
pub struct Chooser {
    rng: SplitMix64,
    split: Split,
    /// Every feature of the request (`schema:share`, `order:question-first`), for the
    /// combinations that are held out.
    features: Vec<String>,
    /// The held-out entries and combinations drawn, with an entry's forms (none for a
    /// schema or a combination, which no text shows).
    marks: Vec<(String, Vec<&'static str>)>,
    /// The plan's shares for stories ([`crate::Shares`]).
    shares: Shares,
}

impl Chooser {
    pub fn new(seed: u64, split: Split) -> Self {
        Chooser {
            rng: SplitMix64::new(seed),
            split,
            features: Vec::new(),
            marks: Vec::new(),
            shares: Shares::default(),
        }
    }

    /// With stories drawn and told at these shares ([`crate::Plan::joins`] and the rest).
    pub fn with_shares(mut self, shares: Shares) -> Self {
        self.shares = shares;
        self
    }

    pub fn shares(&self) -> Shares {
        self.shares
    }

    pub fn split(&self) -> Split {
        self.split
    }

    /// Uniform in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.rng.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f32) -> bool {
        self.rng.next_f32() < p
    }

    /// True with probability `p` for an option of the plan; nothing is drawn when `p` is
    /// 0, so that a plan without the option draws what it drew before the option existed.
    pub fn option(&mut self, p: f32) -> bool {
        p > 0.0 && self.chance(p)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.int(0, items.len() as i64 - 1) as usize]
    }

    /// A number of 1 to `max_digits` digits, the digit count drawn first, so that small
    /// and large quantities are equally common.
    pub fn number(&mut self, max_digits: u32) -> i64 {
        let digits = self.int(1, i64::from(max_digits)) as u32;
        let lo = if digits == 1 {
            2
        } else {
            10i64.pow(digits - 1)
        };
        self.int(lo, 10i64.pow(digits) - 1)
    }

    /// An entry of `pool`: a training entry, or for a held-out request a held-out one half
    /// of the time (marked).
    pub fn from<T: Forms>(&mut self, pool: &Pool<T>) -> T {
        let held = self.split == Split::HeldOut && !pool.held.is_empty() && self.chance(0.5);
        let entry = if held {
            *self.pick(pool.held)
        } else {
            *self.pick(pool.train)
        };
        if held {
            let why = format!("{}:{}", pool.name, entry.label());
            self.marks.push((why, entry.forms()));
        }
        entry
    }

    /// An entry of `pool`, or for a training request at the plan's `wide_words` share one
    /// of `more`, the slot's wider list ([`crate::Plan::wide_words`]). A held-out request
    /// never draws from it, and nothing is drawn for it when the share is 0 or `more` is
    /// empty, so that such a plan draws what it drew before.
    pub fn from_wide<T: Forms>(&mut self, pool: &Pool<T>, more: &'static [T]) -> T {
        if self.split == Split::Train && !more.is_empty() && self.option(self.shares.wide_words) {
            return *self.pick(more);
        }
        self.from(pool)
    }

    /// Records a feature of the request (a schema, an order, a form).
    pub fn feature(&mut self, feature: impl Into<String>) {
        self.features.push(feature.into());
    }

    /// Records that the request is held out for `why` (a whole schema, say); only a
    /// held-out request may.
    pub fn hold(&mut self, why: impl Into<String>) {
        debug_assert_eq!(self.split, Split::HeldOut);
        self.marks.push((why.into(), Vec::new()));
    }

    /// Records that the request is held out for `why`, a frame the text shows by one of
    /// `forms`; only a held-out request may.
    pub fn hold_written(&mut self, why: impl Into<String>, forms: &[&'static str]) {
        debug_assert_eq!(self.split, Split::HeldOut);
        self.marks.push((why.into(), forms.to_vec()));
    }

    /// Whether the features drawn so far hold one of [`HELD_COMBINATIONS`]; a held-out
    /// request records it.
    pub fn held_combination(&mut self) -> bool {
        let found: Vec<(String, Vec<&'static str>)> = HELD_COMBINATIONS
            .iter()
            .filter(|(a, b)| self.has(a) && self.has(b))
            .map(|(a, b)| (format!("combination:{a}+{b}"), Vec::new()))
            .collect();
        let any = !found.is_empty();
        if self.split == Split::HeldOut {
            self.marks.extend(found);
        }
        any
    }

    fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// Why the request written as `text` is held out: the schemas and combinations it
    /// was drawn with, and the held-out entries `text` shows (an entry drawn but not
    /// written, or lost to a typo, is no reason).
    pub fn into_marks(self, text: &str, lang: Lang) -> Vec<String> {
        let mut marks: Vec<String> = Vec::new();
        for (why, forms) in self.marks {
            let shown =
                forms.is_empty() || forms.iter().any(|f| crate::contains_form(text, f, lang));
            if shown && !marks.contains(&why) {
                marks.push(why);
            }
        }
        marks
    }
}

/// Pairs of features that each appear in training, but never together.
pub const HELD_COMBINATIONS: &[(&str, &str)] = &[
    ("schema:share", "order:question-first"),
    ("schema:compare", "lang:zh"),
    ("program:gcd", "frame:request-code"),
    ("literature:purpose", "lang:zh"),
];
