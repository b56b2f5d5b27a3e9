//! Grounded spans: what the model writes is held to the conversation. Two holds:
//!
//! - [`Numbers`]: every number must be one of a known set — the user's numbers, the experts'
//!   results (an answer, a calculator expression) — and every bracketed reference (`[dev-606]`)
//!   one the conversation holds and the span has not cited yet, so an answer cites only
//!   papers a search returned, each once;
//! - [`Quote`]: the text must be a clause of the user's words, from its start to a clause
//!   end (a literature query): the model picks which clause, and may stop at an inner clause
//!   end.
//!
//! The model still chooses which number or passage, and where; it cannot make one up. This
//! is the symbolic half of the MRKL bargain: an answer restates what the experts computed, a
//! calculator computes on the request's quantities, a search looks for the user's topic.
//!
//! Numbers are runs of ASCII digits with an optional decimal part (`399.5`); thousands
//! separators in the conversation are read through (`2,350` is `2350`); digits inside a
//! word (`log10`, `x2`) are part of the word, not numbers.

use std::collections::BTreeSet;
use std::ops::{Bound, Range};
use std::sync::Arc;

/// The numbers and bracketed references a grounded span may contain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grounding {
    numbers: BTreeSet<String>,
    references: BTreeSet<String>,
}

impl Grounding {
    /// Adds every number and every bracketed reference that occurs in `text`.
    pub fn read(&mut self, text: &str) {
        self.numbers.extend(numbers_in(text));
        self.references
            .extend(references_in(text).map(str::to_string));
    }

    /// Adds what [`Grounding::read`] adds, and the numbers a request names in words
    /// ([`implied_numbers`]): for the user's words, not for results.
    pub fn read_request(&mut self, text: &str) {
        self.read(text);
        self.numbers.extend(implied_numbers(text));
    }

    /// Whether it holds any number at all.
    pub fn has_numbers(&self) -> bool {
        !self.numbers.is_empty()
    }

    /// Whether `text` begins a reference the grounding holds and `cited` does not.
    fn begins_reference(&self, text: &str, cited: &[String]) -> bool {
        self.references
            .range::<str, _>((Bound::Included(text), Bound::Unbounded))
            .take_while(|r| r.starts_with(text))
            .any(|r| !cited.contains(r))
    }

    fn continues(&self, run: &str) -> bool {
        self.numbers
            .range(run.to_string()..)
            .next()
            .is_some_and(|n| n.starts_with(run))
    }

    fn contains(&self, run: &str) -> bool {
        self.numbers.contains(run)
            || run
                .strip_suffix('.')
                .is_some_and(|whole| self.numbers.contains(whole))
    }
}

/// Where a grounded span stands: the number being written, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    /// Digits (and a decimal point) of the number being written.
    run: String,
    /// The last character was a letter: digits now belong to a word.
    in_word: bool,
    /// The first bytes of a character whose last bytes are still to come.
    pending: Vec<u8>,
    /// Inside `[…]`: the reference written so far.
    reference: Option<String>,
    /// The references this span has cited: a second citation of one adds nothing. Shared,
    /// because a span is cloned for every token of the vocabulary at every step.
    cited: Arc<Vec<String>>,
}

impl Span {
    /// The span after `bytes` are written, or `None` when they would write a number the
    /// grounding does not hold. A token may end inside a UTF-8 character (byte-level
    /// vocabularies split Han characters); those bytes wait for the next token.
    pub fn after(&self, bytes: &[u8], grounding: &Grounding) -> Option<Span> {
        let plain = |b: &u8| !b.is_ascii_digit() && *b != b'[';
        if self.run.is_empty()
            && self.pending.is_empty()
            && self.reference.is_none()
            && bytes.iter().all(plain)
        {
            // The common case, decided without copying: nothing here can write a digit or
            // open a reference.
            let mut span = self.clone();
            if let Some(&last) = bytes.last() {
                span.in_word = is_word_start(last as char) && last.is_ascii();
            }
            return Some(span);
        }
        let mut span = self.clone();
        if span.pending.is_empty()
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            return span.push_str(text, grounding);
        }
        let mut bytes = [std::mem::take(&mut span.pending).as_slice(), bytes].concat();
        loop {
            match std::str::from_utf8(&bytes) {
                Ok(text) => return span.push_str(text, grounding),
                Err(e) => {
                    let (valid, rest) = bytes.split_at(e.valid_up_to());
                    let valid = std::str::from_utf8(valid).unwrap_or_default();
                    span = span.push_str(valid, grounding)?;
                    match e.error_len() {
                        None => {
                            // A character has begun, and it is not a digit: whatever number
                            // was being written ends here.
                            span = span.push(char::REPLACEMENT_CHARACTER, grounding)?;
                            span.pending = rest.to_vec();
                            return Some(span);
                        }
                        Some(bad) => {
                            span = span.push(char::REPLACEMENT_CHARACTER, grounding)?;
                            bytes = rest[bad..].to_vec();
                        }
                    }
                }
            }
        }
    }

    fn push_str(mut self, mut text: &str, grounding: &Grounding) -> Option<Span> {
        while let Some(c) = text.chars().next() {
            if let Some(reference) = &mut self.reference {
                // Inside a reference, a token's text is checked at once, not per character
                // (this runs for every token of the vocabulary at every step).
                let end = text.find(']').unwrap_or(text.len());
                if end > 0 {
                    reference.push_str(&text[..end]);
                    if !grounding.begins_reference(reference, &self.cited) {
                        return None;
                    }
                    text = &text[end..];
                    continue;
                }
            }
            self = self.push(c, grounding)?;
            text = &text[c.len_utf8()..];
        }
        Some(self)
    }

    /// Whether the span may end here (no number or reference is left half written).
    pub fn can_end(&self, grounding: &Grounding) -> bool {
        self.reference.is_none() && (self.run.is_empty() || grounding.contains(&self.run))
    }

    fn push(mut self, c: char, grounding: &Grounding) -> Option<Span> {
        if let Some(reference) = &mut self.reference {
            // A reference is copied whole: `]` only once it is one the grounding holds and
            // the span has not cited.
            if c != ']' {
                reference.push(c);
                return grounding
                    .begins_reference(reference, &self.cited)
                    .then_some(self);
            }
            let reference = std::mem::take(reference);
            self.reference = None;
            if !grounding.references.contains(&reference) || self.cited.contains(&reference) {
                return None;
            }
            Arc::make_mut(&mut self.cited).push(reference);
            return Some(self);
        }
        if c.is_ascii_digit() && !self.in_word {
            self.run.push(c);
            return grounding.continues(&self.run).then_some(self);
        }
        if c == '.' && !self.run.is_empty() && !self.run.contains('.') {
            let decimal = format!("{}.", self.run);
            if grounding.continues(&decimal) {
                self.run = decimal;
                return Some(self);
            }
        }
        if c.is_ascii_digit() {
            return Some(self); // inside a word
        }
        // Any other character ends the number being written, which must then be whole.
        if !self.can_end(grounding) {
            return None;
        }
        self.run.clear();
        self.in_word = is_word_start(c);
        if c == '[' {
            self.reference = Some(String::new());
            return grounding.begins_reference("", &self.cited).then_some(self);
        }
        Some(self)
    }
}

/// The numbers of `text`, as a grounded span reads them.
pub fn numbers_in(text: &str) -> Vec<String> {
    number_spans(text)
        .into_iter()
        .map(|(_, number)| number)
        .collect()
}

/// The numbers of `text` as [`numbers_in`] reads them, each with the bytes it spans (number
/// slots, `crate::slots`, rewrite them in place).
pub(crate) fn number_spans(text: &str) -> Vec<(Range<usize>, String)> {
    let chars: Vec<char> = text.chars().collect();
    let bytes: Vec<usize> = (text.char_indices().map(|(at, _)| at))
        .chain([text.len()])
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_word_start(chars[i]) {
            // A word with its digits (`log10`, `x2`).
            while i < chars.len() && (is_word_start(chars[i]) || chars[i].is_ascii_digit()) {
                i += 1;
            }
        } else if chars[i].is_ascii_digit() {
            let (number, end) = number_at(&chars, i);
            found.push((bytes[i]..bytes[end], number));
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// Numbers a request names in words rather than digits, each admitted because the request
/// wrote its word (a number no word names stays out):
/// - number words: "twelve", "twenty-five", "十二", "两", "三百五十";
/// - multiples and fractions: "half" (2 and 0.5), "twice", "double", "triple", "a dozen",
///   "a quarter" (4 and 0.25), "a third", "percent" and `%` (100), "一半", "倍";
/// - powers: "squared", "cubed", "平方", "立方";
/// - what a unit implies: an hour or a minute has 60 of the next, a day 24 hours, a week 7
///   days, a year 12 months, 52 weeks or 365 days, a dollar 100 cents; "小时", "分钟", "天",
///   "星期", "周", "年" alike.
///
/// - how many values a mean is taken over: a request that asks for an average ("average",
///   "mean", "平均") admits every count from 2 to the numbers it writes, since "the average
///   of 12, 20 and 28" divides by a 3 it never writes.
///
/// GSM8K's worked solutions use such numbers in most multi-step problems ("half as many":
/// `48/2`; "$12 an hour … 50 minutes": `12/60`).
pub fn implied_numbers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = text.to_lowercase();
    if asks_a_mean(&lower) {
        // Values may be digits or words ("八个", "five"); counting every word that reads as
        // a number can only admit a count too many, never one too few.
        let in_words = (lower.split(|c: char| !c.is_ascii_alphabetic()))
            .filter(|w| english_number(w).is_some())
            .count()
            + chinese_numbers(text).len();
        let written = (numbers_in(text).len() + in_words).min(MAX_MEAN_COUNT);
        found.extend((2..=written).map(|n| n.to_string()));
    }
    found.extend(spelled_numbers(text));
    for part in lower.split(|c: char| !c.is_ascii_alphabetic()) {
        found.extend(english_implied(part).iter().map(|n| n.to_string()));
    }
    if text.contains('%') {
        found.push("100".into());
    }
    for (word, numbers) in CHINESE_IMPLIED {
        if text.contains(word) {
            found.extend(numbers.iter().map(|n| n.to_string()));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The numbers `text` writes as words, in order: "eleven", "twenty-five", "十二", "两",
/// "三百五十".
pub fn spelled_numbers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphabetic() && c != '-')
    {
        let parts: Vec<&str> = word.split('-').filter(|p| !p.is_empty()).collect();
        if let [tens, unit] = parts[..]
            && let (Some(t), Some(u)) = (english_number(tens), english_number(unit))
            && (20..=90).contains(&t)
            && t % 10 == 0
            && (1..=9).contains(&u)
        {
            found.push((t + u).to_string());
        }
        found.extend((parts.iter()).filter_map(|p| Some(english_number(p)?.to_string())));
    }
    found.extend(chinese_numbers(text));
    found
}

/// The most values a mean's unwritten count is admitted for: a request that lists more
/// tends to write how many.
const MAX_MEAN_COUNT: usize = 12;

/// Whether a request (lower-cased) asks for a mean: "average", "mean", "平均".
fn asks_a_mean(lower: &str) -> bool {
    lower.contains("平均")
        || (lower.split(|c: char| !c.is_ascii_alphabetic()))
            .any(|w| matches!(w, "average" | "averages" | "averaged" | "mean"))
}

fn english_number(word: &str) -> Option<u64> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    if let Some(n) = SMALL.iter().position(|w| *w == word) {
        return Some(n as u64);
    }
    if let Some(n) = TENS.iter().position(|w| *w == word) {
        return Some(20 + 10 * n as u64);
    }
    match word {
        "hundred" | "hundreds" => Some(100),
        "thousand" | "thousands" => Some(1000),
        "million" | "millions" => Some(1_000_000),
        _ => None,
    }
}

fn english_implied(word: &str) -> &'static [&'static str] {
    match word {
        "half" | "halves" | "halved" => &["2", "0.5"],
        "twice" | "double" | "doubled" | "doubles" | "pair" | "pairs" | "couple" => &["2"],
        "triple" | "tripled" | "triples" | "thrice" | "third" | "thirds" => &["3"],
        "quadruple" | "quadrupled" | "fourth" | "fourths" => &["4"],
        "quarter" | "quarters" => &["4", "0.25"],
        "fifth" | "fifths" => &["5"],
        "tenth" | "tenths" => &["10"],
        "dozen" | "dozens" => &["12"],
        // A power written in words: "13 squared" is `13 ^ 2`.
        "squared" => &["2"],
        "cubed" => &["3"],
        "percent" | "percentage" | "cent" | "cents" | "dollar" | "dollars" => &["100"],
        "hour" | "hours" | "minute" | "minutes" | "hourly" => &["60"],
        "day" | "days" | "daily" => &["24"],
        "week" | "weeks" | "weekly" => &["7"],
        "year" | "years" | "yearly" | "annual" | "annually" => &["12", "52", "365"],
        _ => &[],
    }
}

const CHINESE_IMPLIED: [(&str, &[&str]); 10] = [
    ("半", &["2", "0.5"]),
    ("倍", &["2"]),
    ("百分之", &["100"]),
    ("小时", &["60"]),
    ("分钟", &["60"]),
    ("天", &["24"]),
    ("星期", &["7"]),
    ("年", &["12", "52", "365"]),
    ("平方", &["2"]),
    ("立方", &["3"]),
];

/// The values of the runs of Chinese numerals in `text` ("十二", "两", "三百五十", "一万").
fn chinese_numbers(text: &str) -> Vec<String> {
    let digit = |c: char| {
        "零一二三四五六七八九"
            .find(c)
            .map(|i| (i / 3) as u64)
            .or((c == '两').then_some(2))
    };
    let unit = |c: char| match c {
        '十' => Some(10),
        '百' => Some(100),
        '千' => Some(1000),
        '万' => Some(10_000),
        _ => None,
    };
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() && unit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let (mut total, mut section, mut pending) = (0u64, 0u64, None::<u64>);
        while i < chars.len() {
            let c = chars[i];
            if let Some(d) = digit(c) {
                pending = Some(d);
            } else if let Some(u) = unit(c) {
                if u == 10_000 {
                    total = (total + section + pending.unwrap_or(0)).max(1) * u;
                    section = 0;
                } else {
                    section += pending.unwrap_or(1) * u;
                }
                pending = None;
            } else {
                break;
            }
            i += 1;
        }
        found.push((total + section + pending.unwrap_or(0)).to_string());
    }
    found
}

/// The bracketed references of `text` (`[dev-606]`, `[21746539]`): what lies between `[`
/// and the next `]` on the same line, when it is short enough to be a name.
pub fn references_in(text: &str) -> impl Iterator<Item = &str> {
    text.split('[').skip(1).filter_map(|after| {
        let (inside, _) = after.split_once(']')?;
        let name = !inside.is_empty() && inside.chars().count() <= 64;
        (name && !inside.contains('\n')).then_some(inside)
    })
}

/// Letters after which digits belong to a name. Only Latin ones: in `半径为3` the 3 is a
/// number.
fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// The number starting at `start`: digits, thousands groups (`,` and three digits, read
/// through) and a decimal part. Returns it and the index after it.
fn number_at(chars: &[char], start: usize) -> (String, usize) {
    let digits_from = |i: usize| chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut number = String::new();
    let mut i = start;
    let n = digits_from(i);
    number.extend(&chars[i..i + n]);
    i += n;
    while i + 1 < chars.len() && chars[i] == ',' && digits_from(i + 1) == 3 {
        number.extend(&chars[i + 1..i + 4]);
        i += 4;
    }
    if i + 1 < chars.len() && chars[i] == '.' && digits_from(i + 1) > 0 {
        let n = digits_from(i + 1);
        number.push('.');
        number.extend(&chars[i + 1..i + 1 + n]);
        i += 1 + n;
    }
    (number, i)
}

/// A passage of one of `sources`, being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    sources: Vec<Vec<u8>>,
    /// Where the bytes written so far can continue: (source, byte index).
    live: Vec<(usize, usize)>,
    /// The bytes that can come next (a token is checked in full only when its first byte
    /// is one of them).
    next: ByteSet,
    written: usize,
}

impl Quote {
    /// A passage of one of `sources` that starts where a clause does.
    pub fn of(sources: &[String]) -> Self {
        let live = sources
            .iter()
            .enumerate()
            .flat_map(|(s, text)| clause_starts(text).into_iter().map(move |i| (s, i)))
            .collect();
        let sources = sources.iter().map(|s| s.as_bytes().to_vec()).collect();
        let mut quote = Quote {
            sources,
            live,
            next: ByteSet::default(),
            written: 0,
        };
        quote.next = quote.next_bytes();
        quote
    }

    fn next_bytes(&self) -> ByteSet {
        let mut next = ByteSet::default();
        for &at in &self.live {
            if let Some(&b) = self.rest(at).first() {
                next.insert(b);
            }
        }
        next
    }

    fn rest(&self, (s, i): (usize, usize)) -> &[u8] {
        &self.sources[s][i..]
    }

    pub fn allows(&self, bytes: &[u8]) -> bool {
        bytes.first().is_some_and(|&b| self.next.contains(b))
            && self.live.iter().any(|&at| self.rest(at).starts_with(bytes))
    }

    /// After `bytes`, which [`Quote::allows`].
    pub fn advance(&mut self, bytes: &[u8]) {
        let live = self
            .live
            .iter()
            .filter(|&&at| self.rest(at).starts_with(bytes))
            .map(|&(s, i)| (s, i + bytes.len()))
            .collect();
        self.live = live;
        self.next = self.next_bytes();
        self.written += bytes.len();
    }

    /// Something was quoted and it ends where a clause of the source does. A small model
    /// stops a copied topic early ("The DESMOND", "SRL in ba") and starts it late ("Chinese
    /// citizens" of "…exercise increases cancer mortality rates among Chinese citizens?",
    /// "论文" of "查找关于制止措施的论文"); whole clauses keep the topic whole, and the
    /// search reads past the request's own words ("find papers about", "的论文") as common
    /// terms.
    pub fn can_end(&self) -> bool {
        self.written > 0 && self.live.iter().any(|&at| ends_quote(self.rest(at)))
    }
}

/// A set of bytes, as a 256-bit mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn insert(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }

    fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }
}

/// Where the clauses of `text` start: its first non-blank character and the first
/// non-blank one after each mark that opens a clause.
fn clause_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut starting = true;
    for (i, c) in text.char_indices() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if std::mem::take(&mut starting) {
            starts.push(i);
        }
        starting = opens_clause(&text.as_bytes()[i..]);
    }
    starts
}

/// The clause mark `rest` starts with: `. , ; : ? ! )` before a space or the end, or a
/// Chinese one.
fn clause_mark(rest: &[u8]) -> Option<char> {
    const CHINESE: [char; 8] = ['。', '，', '；', '：', '？', '！', '、', '）'];
    match rest {
        [
            m @ (b'.' | b',' | b';' | b':' | b'?' | b'!' | b')'),
            after @ ..,
        ] => after
            .first()
            .is_none_or(u8::is_ascii_whitespace)
            .then_some(char::from(*m)),
        _ => CHINESE
            .into_iter()
            .find(|c| rest.starts_with(c.encode_utf8(&mut [0; 4]).as_bytes())),
    }
}

/// A quote may end before `rest` (what follows it in its source): at the end, or before a
/// clause mark other than a colon — the words before a colon announce what follows ("Find
/// papers about: …", "主题：…"), they are not the topic.
fn ends_quote(rest: &[u8]) -> bool {
    rest.is_empty() || clause_mark(rest).is_some_and(|m| !matches!(m, ':' | '：'))
}

/// A clause starts after the mark `rest` starts with, unless it closes a parenthesis: what
/// follows one continues the sentence.
fn opens_clause(rest: &[u8]) -> bool {
    clause_mark(rest).is_some_and(|m| !matches!(m, ')' | '）'))
}

/// A grounded span being written, whichever the hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    Numbers(Grounding, Span),
    Quote(Quote),
}

impl Hold {
    pub fn numbers(grounding: Grounding) -> Self {
        Hold::Numbers(grounding, Span::default())
    }

    /// Whether a token with these bytes may come next.
    pub fn allows(&self, bytes: &[u8]) -> bool {
        match self {
            Hold::Numbers(grounding, span) => span.after(bytes, grounding).is_some(),
            Hold::Quote(quote) => quote.allows(bytes),
        }
    }

    /// After a token that [`Hold::allows`].
    pub fn advance(&mut self, bytes: &[u8]) {
        match self {
            Hold::Numbers(grounding, span) => {
                if let Some(next) = span.after(bytes, grounding) {
                    *span = next;
                }
            }
            Hold::Quote(quote) => quote.advance(bytes),
        }
    }

    pub fn can_end(&self) -> bool {
        match self {
            Hold::Numbers(grounding, span) => span.can_end(grounding),
            Hold::Quote(quote) => quote.can_end(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_named_in_words_are_admitted_and_no_others() {
        let implied = |text: &str| implied_numbers(text);
        assert_eq!(
            implied(
                "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."
            ),
            ["0.5", "2"]
        );
        assert_eq!(implied("Weng earns $12 an hour for babysitting."), ["60"]);
        assert_eq!(
            implied("Twenty-five eggs, a dozen each"),
            ["12", "20", "25", "5"]
        );
        assert_eq!(
            implied("He runs twice a week, 15% faster."),
            ["100", "2", "7"]
        );
        assert_eq!(implied("书架上有二十四本书，两个书架"), ["2", "24"]);
        assert_eq!(
            implied("一百二十人，三千五百元，一万"),
            ["10000", "120", "3500"]
        );
        assert_eq!(implied("用了一半的时间"), ["0.5", "1", "2"]);
        assert_eq!(implied("What is 13 squared?"), ["2"]);
        assert_eq!(implied("8 cubed"), ["3"]);
        assert_eq!(implied("13的平方，9的立方"), ["2", "3"]);
        assert_eq!(implied("What's the average of 12, 20 and 28?"), ["2", "3"]);
        assert_eq!(implied("求3、7、11的平均值。"), ["2", "3"]);
        assert_eq!(implied("The mean of 4 and 9?"), ["2"]);
        assert!(implied("By all means, explain the meaning of 12, 20 and 28.").is_empty());
        assert!(implied("What is 357 times 995?").is_empty());
        assert!(implied("Find papers about graphene batteries.").is_empty());
        let mut grounding = Grounding::default();
        grounding.read_request("She sold half as many.");
        let span = Span::default();
        assert!(
            span.after(b"48 / 2", &grounding).is_none(),
            "48 is not in the request"
        );
        assert!(span.after(b"2", &grounding).is_some());
        let mut results = Grounding::default();
        results.read("half of the 7 groups");
        assert!(!results.contains("2"), "results admit only their digits");
    }

    fn grounding(text: &str) -> Grounding {
        let mut g = Grounding::default();
        g.read(text);
        g
    }

    fn writes(text: &str, g: &Grounding) -> bool {
        Span::default()
            .after(text.as_bytes(), g)
            .is_some_and(|s| s.can_end(g))
    }

    #[test]
    fn numbers_are_read_with_thousands_and_decimals_but_not_inside_words() {
        assert_eq!(
            numbers_in("What is 17% of 2,350? 399.5, log10(x2) and 1,2 or 12."),
            ["17", "2350", "399.5", "1", "2", "12"]
        );
        assert_eq!(numbers_in("半径为3的圆"), ["3"]);
        assert_eq!(numbers_in("-5e10 1.5"), ["5", "1.5"]);
    }

    #[test]
    fn only_numbers_of_the_conversation_can_be_written() {
        let g = grounding("What is 357 times 995? 355215");
        assert!(writes("357 * 995", &g));
        assert!(writes("The answer is 355215.", &g));
        assert!(writes("log10(357)", &g));
        assert!(!writes("111 * 111", &g));
        assert!(!writes("3575", &g));
        // A prefix of a number is not a number.
        assert!(!writes("35 * 995", &g));
        assert!(Span::default().after(b"35", &g).is_some());
        assert!(!Span::default().after(b"35", &g).unwrap().can_end(&g));
    }

    #[test]
    fn only_references_of_the_conversation_can_be_cited() {
        let g = grounding("1. [dev-606] On retrieval [J].\n2. [21746539] Trials\n[open");
        assert_eq!(
            references_in("1. [dev-606] x [J]. [] [a\nb] [21746539]").collect::<Vec<_>>(),
            ["dev-606", "J", "21746539"]
        );
        assert!(writes("Papers: [dev-606], [21746539].", &g));
        assert!(writes("最相关的论文：[dev-606]、[21746539]。", &g));
        // Another collection's prefix on a returned number, a made-up id, an unclosed one.
        assert!(!writes("[test-606]", &g));
        assert!(!writes("[2174653]", &g));
        assert!(!writes("[dev-606", &g));
        assert!(!writes("[open", &g));
        // Split across tokens, a reference is checked as it grows.
        let span = Span::default().after(b"[de", &g).unwrap();
        assert!(span.after(b"v-6", &g).is_some());
        assert!(span.after(b"x", &g).is_none());
        // Without references to copy, no bracket opens.
        assert!(!writes("[1]", &grounding("1 and 2")));
    }

    #[test]
    fn a_reference_is_cited_once() {
        let g = grounding("1. [12584053] A\n2. [12584] B\n3. [2787558] C");
        assert!(!writes("[12584053], [12584053]", &g));
        assert!(writes("[12584053], [12584], [2787558]", &g));
        // Once both are cited, nothing begins with their common prefix.
        let span = Span::default().after(b"[12584053] [12584] ", &g).unwrap();
        assert!(span.after(b"[1258", &g).is_none());
        assert!(span.after(b"[27", &g).is_some());
        // With every reference cited, no bracket opens.
        let all = span.after(b"[2787558]", &g).unwrap();
        assert!(all.after(b"[", &g).is_none());
    }

    #[test]
    fn decimals_and_a_full_stop_after_a_number() {
        let g = grounding("399.5 and 12");
        assert!(writes("It is 399.5.", &g));
        assert!(writes("It is 12.", &g));
        assert!(!writes("It is 399.", &g));
        assert!(!writes("It is 12.5", &g));
    }

    fn quotes(pieces: &[&[u8]], quote: &Quote) -> bool {
        let mut quote = quote.clone();
        for piece in pieces {
            if !quote.allows(piece) {
                return false;
            }
            quote.advance(piece);
        }
        quote.can_end()
    }

    #[test]
    fn a_quote_is_a_clause_of_the_users_words() {
        let quote = Quote::of(&[
            "Find papers about: diffusion tensor imaging (DTI) of newborns.".into(),
            "有哪些关于飞行器控制的论文？要中文的。".into(),
        ]);
        let topic = b"diffusion tensor imaging (DTI) of newborns";
        assert!(quotes(&[b"diff", b"usion", &topic[9..]], &quote));
        assert!(!quotes(&[b"Find papers about"], &quote));
        assert!(quotes(&[b"Find papers about: ", topic, b"."], &quote));
        // It may stop at an inner clause end: before the parenthesis closes.
        assert!(quotes(&[&topic[..29]], &quote));
        // It starts where a clause does, and runs to a clause's end.
        assert!(!quotes(&[b"newborns"], &quote));
        assert!(!quotes(&[b"of newborns"], &quote));
        assert!(!quotes(&[b"papers about: ", topic], &quote));
        assert!(!quotes(&[b"diffusion", b" tensor"], &quote));
        assert!(!quotes(&[b"neural"], &quote));
        assert!(!quotes(&[], &quote));
        let han = "有哪些关于飞行器控制的论文".as_bytes();
        assert!(quotes(&[&han[..2], &han[2..]], &quote));
        assert!(quotes(&["要中文的".as_bytes()], &quote));
        assert!(!quotes(&["飞行器控制的论文".as_bytes()], &quote));
        assert!(!quotes(&[&han[..9]], &quote));
        // A quote cannot start or end inside a character.
        assert!(!quotes(&[&han[..2]], &quote));
        assert!(!quotes(&[&han[1..]], &quote));
        // Passages do not join across sources.
        assert!(!quotes(&[topic, b".", "有".as_bytes()], &quote));
    }

    #[test]
    fn clauses_start_after_their_punctuation_and_blanks() {
        assert_eq!(clause_starts("  a, b.c (d) e? f"), vec![2, 5, 16]);
        assert_eq!(clause_starts("甲，乙。丙"), vec![0, 6, 12]);
        assert!(clause_starts(" \n").is_empty());
    }

    #[test]
    fn a_character_split_across_tokens_is_read_when_whole() {
        let g = grounding("3");
        let han = "的".as_bytes();
        let span = Span::default().after(&han[..1], &g).unwrap();
        let span = span.after(&han[1..], &g).unwrap();
        let span = span.after(b"3", &g).unwrap();
        assert!(span.can_end(&g));
        assert!(
            Span::default()
                .after(b"x", &g)
                .unwrap()
                .after(b"9", &g)
                .is_some()
        );
        assert!(
            Span::default()
                .after(&han[..1], &g)
                .unwrap()
                .after(b"9", &g)
                .is_none()
        );
    }
}
