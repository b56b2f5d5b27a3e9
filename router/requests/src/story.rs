//! Word problems: a story's meaning (who has what, what changes, what is asked) is drawn
//! first, then told in English or Chinese with the choices of [`crate::lexicon`]: tense,
//! sentence order, containers, verbs of change, number formats and sentences that do not
//! matter. The calculation comes from the meaning, never from the text.

use miracle_router::demos::{Lang, Split};

use crate::calc::{Calculation, Op, Operand};
use crate::choose::{Chooser, Pool};
use crate::lexicon::{
    Body, EN_AVERAGE_PERIODS, EN_BODIES, EN_BODY_GAIN, EN_BODY_LOSE, EN_CONTAINERS,
    EN_CONTAINERS_MORE, EN_GAIN, EN_GAIN_MORE, EN_HOLDERS, EN_LOSE, EN_LOSE_MORE, EN_MEASURES,
    EN_PARTS, EN_PEOPLE, EN_PERIODS, EN_SMALL, EN_TALLY, EN_THINGS, EN_THINGS_MORE, Noun, Person,
    Verb, ZH_AVERAGE_PERIODS, ZH_BODIES, ZH_BODY_GAIN, ZH_BODY_LOSE, ZH_CONTAINERS,
    ZH_CONTAINERS_MORE, ZH_GAIN, ZH_GAIN_MORE, ZH_HOLDERS, ZH_LOSE, ZH_LOSE_MORE, ZH_MEASURES,
    ZH_PARTS, ZH_PEOPLE, ZH_PERIODS, ZH_PLACES, ZH_SMALL, ZH_TALLY, ZH_THINGS, ZH_THINGS_MORE,
    ZhNoun,
};

/// A lexical slot: its pool and the wider list a training request may draw from
/// ([`crate::Plan::wide_words`]).
type Slot<T> = (&'static Pool<T>, &'static [T]);

/// What happens to a stock of things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Gain(i128),
    Lose(i128),
    /// `k` containers of `m` each, more.
    GainGroups(i128, i128),
    /// `k` containers of `m` each, given up.
    LoseGroups(i128, i128),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAsk {
    /// How many there are at the end.
    Now,
    /// How many came in, all told: the contrast question on the same story.
    Gained,
}

/// What a tally asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CombineAsk {
    /// All the parts together.
    Total,
    /// How many more the larger of two parts has than the smaller: the contrast question.
    Difference,
}

/// How an average is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AverageTold {
    /// Over a tally's parts, asked per period: "Tom sold 8 stamps on Monday, 5 on Tuesday
    /// and 11 on Wednesday. How many stamps did Tom sell per day on average over the 3
    /// days?" (taught at [`crate::Plan::averages`]).
    Tally,
    /// As a list of numbers, its count written or not: "What is the average of the 3
    /// numbers 12, 18 and 30?", "Find the mean of 12, 18, 30." (taught at
    /// [`crate::Plan::average_frames`], as are the two below; a mean grounds its count
    /// unwritten, [`miracle_router::grounding::implied_numbers`]).
    Listed,
    /// As measures of things: "Three parcels weigh 12 kg, 15 kg and 18 kg. What is their
    /// average weight?".
    Measures,
    /// As what each of several people has: "Ann has 12 stickers, Ben has 18 and Cal has 30.
    /// On average, how many stickers does each of the 3 of them have?".
    People,
    /// As test scores: "Ingrid scored 81, 67 and 92 on three tests. What is the average
    /// score?". Held out in every plan ([`crate::lexicon::EN_AVERAGE_HELD`]).
    Scores,
}

/// What a story over several values asks. An average told as a list, as measures or as
/// what people have asks for their mean; a share of them ([`crate::Plan::average_contrasts`])
/// asks another question of the same story, so that a list of numbers is not read as "add
/// them all up" whatever the question says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuesAsk {
    /// Their mean.
    Mean,
    /// Their total: "How many stickers do they have altogether?", "What is the sum of 12,
    /// 18 and 30?".
    Total,
    /// How many more one person has than another: the indices of the two values, the
    /// larger first (they differ). "How many more stickers does Cal have than Ann?".
    Gap(usize, usize),
}

/// `count` numbers of up to `max_digits` digits whose sum divides by `count`: the last one
/// makes it up.
fn divisible(ch: &mut Chooser, count: i128, max_digits: u32) -> Vec<i128> {
    let mut values: Vec<i128> = (0..count).map(|_| ch.number(max_digits) as i128).collect();
    let rest = values.iter().sum::<i128>() % count;
    if rest != 0 {
        values[count as usize - 1] += count - rest;
    }
    values
}

/// The indices of a two-part tally's larger part and its smaller one (they differ).
fn larger_first(parts: &[i128]) -> (usize, usize) {
    if parts[0] > parts[1] { (0, 1) } else { (1, 0) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diff {
    More(i128),
    Fewer(i128),
    Times(i128),
}

/// A word problem's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Story {
    Change {
        start: i128,
        events: Vec<Event>,
        ask: ChangeAsk,
    },
    Share {
        total: i128,
        parts: i128,
    },
    Price {
        count: i128,
        each: i128,
        /// What was paid, when the question is the change.
        paid: Option<i128>,
    },
    Compare {
        base: i128,
        diff: Diff,
        together: bool,
    },
    Rate {
        per: i128,
        units: i128,
        /// Days of `units` hours, when the rate is per hour of a working day.
        days: Option<i128>,
    },
    /// A tally told part by part, one part a time ("on Monday", "in the afternoon"): the
    /// combine schema, where "sold" adds ([`crate::Plan::combine`]).
    Combine {
        parts: Vec<i128>,
        ask: CombineAsk,
    },
    /// Equal groups: `count` containers of `each` things, how many in all
    /// ([`crate::Plan::groups`]).
    Groups {
        each: i128,
        count: i128,
    },
    /// Part and whole: a whole of `whole` things of two kinds, `part` of the one kind; how
    /// many of the other ([`crate::Plan::complements`]).
    Complement {
        whole: i128,
        part: i128,
    },
    /// The mean of `values` (their sum divides by their count). Told as scores it is held
    /// out; a plan that teaches no average ([`crate::Plan::averages`] 0) holds out the
    /// whole schema, whose operations (sums, one division) it teaches elsewhere. `ask` is
    /// the mean but in a contrast question ([`ValuesAsk`]).
    Average {
        values: Vec<i128>,
        told: AverageTold,
        ask: ValuesAsk,
    },
}

impl Story {
    pub fn schema(&self) -> &'static str {
        match self {
            Story::Change { .. } => "change",
            Story::Share { .. } => "share",
            Story::Price { .. } => "price",
            Story::Compare { .. } => "compare",
            Story::Rate { .. } => "rate",
            Story::Combine { .. } => "combine",
            Story::Groups { .. } => "groups",
            Story::Complement { .. } => "complement",
            Story::Average { .. } => "average",
        }
    }

    /// A story's meaning, drawn; an average told as scores only for held-out requests
    /// (`held_frame`).
    pub fn draw(ch: &mut Chooser, held_frame: bool) -> Story {
        if held_frame {
            let count = ch.int(3, 4) as usize;
            let mut values: Vec<i128> = (0..count).map(|_| ch.int(40, 100) as i128).collect();
            // The sum must divide by the count: the last value takes up the remainder.
            let rest = values.iter().sum::<i128>() % count as i128;
            values[count - 1] -= rest;
            return Story::Average {
                values,
                told: AverageTold::Scores,
                ask: ValuesAsk::Mean,
            };
        }
        let shares = ch.shares();
        if ch.option(shares.combine) {
            return Self::combine(ch);
        }
        if ch.option(shares.groups) {
            return Story::Groups {
                each: ch.number(2) as i128,
                count: ch.int(2, 30) as i128,
            };
        }
        if ch.option(shares.complements) {
            let whole = ch.number(3).max(3) as i128;
            let part = ch.int(1, whole as i64 - 1) as i128;
            return Story::Complement { whole, part };
        }
        if ch.option(shares.averages) {
            let told = if ch.option(shares.average_frames) {
                *ch.pick(&[
                    AverageTold::Listed,
                    AverageTold::Measures,
                    AverageTold::People,
                ])
            } else {
                AverageTold::Tally
            };
            let count = ch.int(2, 4) as i128;
            // Measures and what people have are told in two digits at most.
            let digits = if matches!(told, AverageTold::Listed | AverageTold::Tally) {
                3
            } else {
                2
            };
            let mut values = divisible(ch, count, digits);
            let ask = Self::values_ask(ch, told, &mut values);
            return Story::Average { values, told, ask };
        }
        match ch.int(0, 9) {
            0..=4 => Self::change(ch),
            5 => {
                let parts = ch.int(2, 12) as i128;
                Story::Share {
                    total: parts * ch.number(3) as i128,
                    parts,
                }
            }
            6 => {
                let (count, each) = (ch.int(2, 12) as i128, ch.number(2) as i128);
                let paid = ch
                    .chance(0.5)
                    .then(|| (count * each / 100 + 1 + ch.int(0, 3) as i128) * 100);
                Story::Price { count, each, paid }
            }
            7 => {
                let base = ch.number(3) as i128;
                let diff = match ch.int(0, 2) {
                    0 => Diff::More(ch.number(2) as i128),
                    1 => Diff::Fewer(ch.int(1, base as i64 - 1).max(1) as i128),
                    _ => Diff::Times(ch.int(2, 9) as i128),
                };
                Story::Compare {
                    base: base.max(2),
                    diff,
                    together: ch.chance(0.5),
                }
            }
            _ => Story::Rate {
                per: ch.number(3) as i128,
                units: ch.int(2, 12) as i128,
                days: ch.chance(0.4).then(|| ch.int(2, 30) as i128),
            },
        }
    }

    /// What an average's story asks: a contrast question, at the plan's share, where the
    /// frame has one (a total of lists, measures and people; a gap between two people,
    /// one of whom gets one more where the two have as many).
    fn values_ask(ch: &mut Chooser, told: AverageTold, values: &mut [i128]) -> ValuesAsk {
        let contrast = matches!(
            told,
            AverageTold::Listed | AverageTold::Measures | AverageTold::People
        ) && ch.option(ch.shares().average_contrasts);
        if !contrast {
            return ValuesAsk::Mean;
        }
        if told != AverageTold::People || ch.chance(0.5) {
            return ValuesAsk::Total;
        }
        let last = values.len() as i64 - 1;
        let (a, b) = (ch.int(0, last) as usize, ch.int(0, last - 1) as usize);
        // Two different people: b skips over a.
        let b = if b >= a { b + 1 } else { b };
        if values[a] == values[b] {
            values[a] += 1;
        }
        if values[a] > values[b] {
            ValuesAsk::Gap(a, b)
        } else {
            ValuesAsk::Gap(b, a)
        }
    }

    fn change(ch: &mut Chooser) -> Story {
        let start = ch.number(3) as i128;
        // Training stories only: the held-out suites stay as they were drawn.
        if ch.split() == Split::Train && ch.option(ch.shares().single_events) {
            // A loss needs something to lose and something left: 2 to start - 1 of it.
            let event = if start > 2 && ch.chance(0.5) {
                Event::Lose(ch.int(2, start as i64 - 1) as i128)
            } else {
                Event::Gain(ch.number(3) as i128)
            };
            return Story::Change {
                start,
                events: vec![event],
                ask: ChangeAsk::Now,
            };
        }
        let mut stock = start;
        let mut events = Vec::new();
        for _ in 0..ch.int(1, 3) {
            let event = match ch.int(0, 3) {
                0 => Event::Gain(ch.number(3) as i128),
                1 if stock > 2 => Event::Lose(ch.int(2, stock as i64 - 1) as i128),
                2 => Self::grouped_gain(ch),
                3 if stock > 4 => {
                    let k = ch.int(2, 6) as i128;
                    let most = (stock - 1) / k;
                    if most < 2 {
                        Event::Gain(ch.number(2) as i128)
                    } else {
                        Event::LoseGroups(k, ch.int(2, most.min(50) as i64) as i128)
                    }
                }
                _ => Event::Gain(ch.number(2) as i128),
            };
            stock += match event {
                Event::Gain(n) => n,
                Event::Lose(n) => -n,
                Event::GainGroups(k, m) => k * m,
                Event::LoseGroups(k, m) => -k * m,
            };
            events.push(event);
        }
        let gains = events
            .iter()
            .filter(|e| matches!(e, Event::Gain(_) | Event::GainGroups(..)))
            .count();
        let grouped = events.iter().any(|e| matches!(e, Event::GainGroups(..)));
        let ask = if (gains >= 2 || grouped) && ch.chance(0.25) {
            ChangeAsk::Gained
        } else {
            ChangeAsk::Now
        };
        Story::Change { start, events, ask }
    }

    /// Groups gained: 2 to 12 of 2 to 50 things, or at the plan's `group_sizes` 2 to 6 of
    /// one or two digits, as few and as small as a loss's groups mostly are. A loss's
    /// groups must fit the stock, so they are small whenever it is; gains drawn only from
    /// the wider range taught the model that small groups go away: it read "Roger has 5
    /// tennis balls. He buys 2 more cans … Each can has 3" as `5 - 6` and 4 cans of 12 as
    /// `5 + 48`.
    fn grouped_gain(ch: &mut Chooser) -> Event {
        if ch.option(ch.shares().group_sizes) {
            return Event::GainGroups(ch.int(2, 6) as i128, ch.number(2) as i128);
        }
        Event::GainGroups(ch.int(2, 12) as i128, ch.int(2, 50) as i128)
    }

    fn combine(ch: &mut Chooser) -> Story {
        let count = if ch.chance(0.3) { 3 } else { 2 };
        let mut parts: Vec<i128> = (0..count).map(|_| ch.number(3) as i128).collect();
        let ask = match count {
            2 if ch.chance(0.3) => {
                if parts[0] == parts[1] {
                    parts[1] += 1;
                }
                CombineAsk::Difference
            }
            _ => CombineAsk::Total,
        };
        Story::Combine { parts, ask }
    }

    /// A running total's notes, one per call ([`Calculation::notes`]): the event each call
    /// brings in, as the story reads it (`read`: [`Told::events`], one per event). A story
    /// asking what was gained makes no call for a loss, and its first gain is no call of its
    /// own unless it comes in groups: the call that adds the next gain to it notes both.
    /// `None` when the notes would not be one per call.
    pub fn notes(&self, read: &[String], calls: usize, lang: Lang) -> Option<Vec<String>> {
        let Story::Change { events, ask, .. } = self else {
            return None;
        };
        let notes = match ask {
            ChangeAsk::Now => read.to_vec(),
            ChangeAsk::Gained => {
                let gain = |e: &&Event| matches!(e, Event::Gain(_) | Event::GainGroups(..));
                let mut gains = events.iter().zip(read).filter(|(e, _)| gain(e));
                let (first, text) = gains.next()?;
                let first = match first {
                    Event::GainGroups(..) => text.clone(),
                    _ => {
                        format!("{text}{}{}", joiner(lang), gains.next()?.1)
                    }
                };
                std::iter::once(first)
                    .chain(gains.map(|(_, text)| text.clone()))
                    .collect()
            }
        };
        (notes.len() == calls).then_some(notes)
    }

    /// The calls that answer the story, in the order a person works them out; a change
    /// story `running` as a running total, one call per event ([`Calculation::running`]).
    pub fn calculation(&self, running: bool) -> Option<Calculation> {
        // Worked call by call with no plan: the caller asks it of change stories and
        // averages ([`crate::Plan::running_totals`]).
        let mut calc = Calculation {
            running,
            ..Calculation::default()
        };
        let given = Operand::Given;
        match self {
            Story::Change { start, events, ask } => {
                let mut acc = (*ask == ChangeAsk::Now).then_some(given(*start));
                for event in events {
                    let (op, amount) = match *event {
                        Event::Gain(n) => (Op::Add, given(n)),
                        Event::Lose(n) => (Op::Sub, given(n)),
                        Event::GainGroups(k, m) => (Op::Add, Operand::Groups(k, m)),
                        Event::LoseGroups(k, m) => (Op::Sub, Operand::Groups(k, m)),
                    };
                    // What was given up is no part of what was gained: no call for it (its
                    // product, worked out and left last, had been the answer).
                    if *ask == ChangeAsk::Gained && op == Op::Sub {
                        continue;
                    }
                    // A plan works a group out in a call of its own; a running total writes
                    // it inside its event's call, unless nothing comes before it.
                    let amount = match amount {
                        Operand::Groups(k, m) if !running || acc.is_none() => {
                            calc.op(given(k), Op::Mul, given(m))?
                        }
                        amount => amount,
                    };
                    acc = Some(match acc {
                        None => amount,
                        Some(acc) => calc.op(acc, op, amount)?,
                    });
                }
            }
            Story::Share { total, parts } => {
                calc.op(given(*total), Op::Div, given(*parts))?;
            }
            Story::Price { count, each, paid } => {
                let cost = calc.op(given(*count), Op::Mul, given(*each))?;
                if let Some(paid) = paid {
                    calc.op(given(*paid), Op::Sub, cost)?;
                }
            }
            Story::Compare {
                base,
                diff,
                together,
            } => {
                let other = match *diff {
                    Diff::More(n) => calc.op(given(*base), Op::Add, given(n))?,
                    Diff::Fewer(n) => calc.op(given(*base), Op::Sub, given(n))?,
                    Diff::Times(n) => calc.op(given(*base), Op::Mul, given(n))?,
                };
                if *together {
                    calc.op(given(*base), Op::Add, other)?;
                }
            }
            Story::Rate { per, units, days } => {
                let one = calc.op(given(*per), Op::Mul, given(*units))?;
                if let Some(days) = days {
                    calc.op(one, Op::Mul, given(*days))?;
                }
            }
            Story::Groups { each, count } => {
                calc.op(given(*each), Op::Mul, given(*count))?;
            }
            Story::Complement { whole, part } => {
                calc.op(given(*whole), Op::Sub, given(*part))?;
            }
            Story::Combine { parts, ask } => match ask {
                CombineAsk::Total => {
                    let mut sum = given(parts[0]);
                    for part in &parts[1..] {
                        sum = calc.op(sum, Op::Add, given(*part))?;
                    }
                }
                CombineAsk::Difference => {
                    let (big, small) = larger_first(parts);
                    calc.op(given(parts[big]), Op::Sub, given(parts[small]))?;
                }
            },
            Story::Average { values, ask, .. } => match *ask {
                ValuesAsk::Gap(big, small) => {
                    calc.op(given(values[big]), Op::Sub, given(values[small]))?;
                }
                ValuesAsk::Mean | ValuesAsk::Total => {
                    let mut sum = given(values[0]);
                    for value in &values[1..] {
                        sum = calc.op(sum, Op::Add, given(*value))?;
                    }
                    if *ask == ValuesAsk::Mean {
                        calc.op(sum, Op::Div, given(values.len() as i128))?;
                    }
                }
            },
        }
        (!calc.calls.is_empty()).then_some(calc)
    }

    /// The story told in `lang`.
    pub fn tell(&self, ch: &mut Chooser, lang: Lang) -> Told {
        ch.feature(format!("schema:{}", self.schema()));
        let question_first = ch.chance(0.25);
        if question_first {
            ch.feature("order:question-first");
        }
        let ((mut sentences, question), events) = match lang {
            Lang::En => {
                let mut en = En::new(ch, self);
                (en.tell(ch, self), en.events)
            }
            Lang::Zh => {
                let mut zh = Zh::new(ch, self);
                (zh.tell(ch, self), zh.events)
            }
        };
        let told = |text| Told { text, events };
        if sentences.is_empty() {
            // A question that tells its own numbers ("What is the average of the 3 numbers
            // 12, 18 and 30?") has no story to put it before or to hide a sentence in.
            return told(question);
        }
        if ch.chance(0.2) {
            let at = ch.int(1, sentences.len() as i64) as usize;
            sentences.insert(at, distractor(ch, lang));
        }
        let joiner = joiner(lang);
        let story = sentences.join(joiner);
        told(match (question_first, lang) {
            (false, _) => format!("{story}{joiner}{question}"),
            (true, Lang::En) => format!("{question} {story}"),
            (true, Lang::Zh) => format!("{question}已知：{story}"),
        })
    }
}

/// What goes between two sentences of a request: a space in English, nothing in Chinese.
fn joiner(lang: Lang) -> &'static str {
    if lang == Lang::En { " " } else { "" }
}

/// A story as told: the request's text, and a change story's events as it reads them, one
/// per event in order: a sentence, or a clause where the event was joined to the sentence
/// before it ("bought 15 more.").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub text: String,
    pub events: Vec<String>,
}

/// Joins some of a change story's sentences into one ("Tom had 40 stamps and bought 15
/// more.", "李华有16个松果，又买了5个。"): `sentences` are the start and then one per event
/// of `events`. A joined clause that takes things away ("… and gave 15 to his sister") is
/// held out whole: training joins only gains, so a held-out request tests whether the model
/// reads the compound form of a loss it knows only as a sentence of its own. Returns each
/// event as the story reads it: its sentence, or its clause where it was joined ("bought
/// 15 more.").
fn compound(
    ch: &mut Chooser,
    sentences: &mut Vec<String>,
    events: &[Event],
    join: impl Fn(&str, &str) -> Option<Joined>,
) -> Vec<String> {
    let mut read = sentences[1..].to_vec();
    let rate = ch.shares().joins;
    if rate <= 0.0 {
        // No draw at all, so that a plan without joins draws what it drew before.
        return read;
    }
    let mut told = vec![sentences[0].clone()];
    // Whether the last sentence told is a joined one already (one join per sentence).
    let mut joined = false;
    for (i, (event, next)) in events.iter().zip(&sentences[1..]).enumerate() {
        let loss = matches!(event, Event::Lose(_) | Event::LoseGroups(..));
        let allowed = !loss || ch.split() == miracle_router::demos::Split::HeldOut;
        let last = told.last().expect("the start is told");
        match (!joined && allowed && ch.chance(rate))
            .then(|| join(last, next))
            .flatten()
        {
            Some(both) => {
                if loss {
                    ch.hold("clause:compound-loss");
                }
                *told.last_mut().expect("the start is told") = both.sentence;
                read[i] = both.clause;
                joined = true;
            }
            None => {
                told.push(next.clone());
                joined = false;
            }
        }
    }
    *sentences = told;
    read
}

/// Two sentences joined into one, and the second as it reads there.
struct Joined {
    sentence: String,
    clause: String,
}

/// "Tom had 40 stamps." and "He gave 15 to his sister." as "Tom had 40 stamps and gave 15
/// to his sister.": the second must open with one of `subjects`, the first be one sentence.
fn join_en(first: &str, next: &str, subjects: &[&str]) -> Option<Joined> {
    let first = first.strip_suffix('.')?;
    if first.contains(". ") {
        return None;
    }
    let rest = subjects
        .iter()
        .find_map(|s| next.strip_prefix(s)?.strip_prefix(' '))?;
    Some(Joined {
        sentence: format!("{first} and {rest}"),
        clause: rest.to_string(),
    })
}

/// "李华有16个松果。" and "又买了5个。" as "李华有16个松果，又买了5个。".
fn join_zh(first: &str, next: &str) -> Option<Joined> {
    let first = first.strip_suffix('。')?;
    if first.contains('。') {
        return None;
    }
    Some(Joined {
        sentence: format!("{first}，{next}"),
        clause: next.to_string(),
    })
}

/// Whether the story's last event takes things away ("How many are left?").
fn ends_with_loss(events: &[Event]) -> bool {
    matches!(events.last(), Some(Event::Lose(_) | Event::LoseGroups(..)))
}

/// A sentence that changes nothing: a fact without a quantity, or an age nobody asks about.
fn distractor(ch: &mut Chooser, lang: Lang) -> String {
    let age = ch.int(6, 80);
    let en: [String; 5] = [
        "It is a sunny day.".into(),
        "The shop is near the park.".into(),
        "Everyone is in a good mood.".into(),
        format!("Their teacher is {age} years old."),
        "Blue is their favourite colour.".into(),
    ];
    let zh: [String; 5] = [
        "今天天气很好。".into(),
        "商店就在公园旁边。".into(),
        "大家都很高兴。".into(),
        format!("他们的老师今年{age}岁。"),
        "他们最喜欢蓝色。".into(),
    ];
    let i = ch.int(0, 4) as usize;
    match lang {
        Lang::En => en[i].clone(),
        Lang::Zh => zh[i].clone(),
    }
}

/// A quantity as a person writes it: digits, digits with a thousands separator, or a word
/// for a small count.
fn en_number(ch: &mut Chooser, n: i128) -> String {
    if (2..=12).contains(&n) && ch.chance(0.15) {
        ch.feature("number:words");
        return EN_SMALL[n as usize - 2].to_string();
    }
    if n >= 1000 && ch.chance(0.3) {
        let digits = n.to_string();
        let (head, tail) = digits.split_at(digits.len() - 3);
        return format!("{head},{tail}");
    }
    n.to_string()
}

/// A count as a person writes it before a noun: a word half the time ("the three numbers").
fn en_count(ch: &mut Chooser, n: usize) -> String {
    if ch.chance(0.5) {
        EN_SMALL[n - 2].to_string()
    } else {
        n.to_string()
    }
}

/// "a", "a and b", "a, b and c".
fn en_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "a和b", "a、b和c".
fn zh_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{}和{last}", rest.join("、")),
    }
}

/// `first` and `count - 1` more people drawn by `draw`, each named once.
fn others(
    ch: &mut Chooser,
    first: String,
    count: usize,
    draw: impl Fn(&mut Chooser) -> String,
) -> Vec<String> {
    let mut names = vec![first];
    while names.len() < count {
        let name = draw(ch);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn zh_number(ch: &mut Chooser, n: i128) -> String {
    if (2..=10).contains(&n) && ch.chance(0.15) {
        ch.feature("number:words");
        return ZH_SMALL[n as usize - 2].to_string();
    }
    n.to_string()
}

/// A sequence of times with one for each of `parts` parts ("last week, this week" holds only
/// two).
fn pick_periods(
    ch: &mut Chooser,
    all: &[&'static [&'static str]],
    parts: usize,
) -> &'static [&'static str] {
    let long_enough: Vec<&'static [&'static str]> =
        all.iter().copied().filter(|p| p.len() >= parts).collect();
    let at = ch.int(0, long_enough.len() as i64 - 1) as usize;
    long_enough[at]
}

/// Whether a story of this kind may be told of an institution: one that keeps a stock
/// (change stories and tallies), at the plan's share ([`crate::Plan::institutions`]).
fn of_institution(ch: &mut Chooser, story: &Story) -> bool {
    matches!(story, Story::Change { .. } | Story::Combine { .. })
        && ch.option(ch.shares().institutions)
}

/// Who a story is about: a person, or an institution that keeps a stock.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Person(Person),
    Body(Body),
}

/// An English telling: one protagonist, one thing, one tense.
struct En {
    who: Owner,
    what: Noun,
    past: bool,
    /// A change story's events as the story reads them ([`compound`]): what a running
    /// total's notes copy ([`Calculation::notes`]).
    events: Vec<String>,
    /// Told in everyday forms ([`crate::Plan::plain_forms`]).
    plain: bool,
}

/// Whether a training story is told in everyday forms ([`crate::Plan::plain_forms`]); a
/// held-out one never is, so the held-out suites stay as they were drawn.
fn plain(ch: &mut Chooser) -> bool {
    ch.split() == Split::Train && ch.option(ch.shares().plain_forms)
}

impl En {
    fn new(ch: &mut Chooser, story: &Story) -> En {
        let who = if of_institution(ch, story) {
            Owner::Body(ch.from(&EN_BODIES))
        } else {
            Owner::Person(ch.from(&EN_PEOPLE))
        };
        En {
            who,
            what: ch.from_wide(&EN_THINGS, EN_THINGS_MORE),
            past: ch.chance(0.4),
            events: Vec::new(),
            plain: plain(ch),
        }
    }

    /// What is left, asked of `it`: "How many shells does Tom have left?", and in everyday
    /// forms also "How many shells remain?", "… are left?", "… does Tom still have?".
    fn left(&self, ch: &mut Chooser, things: &str, it: &str) -> String {
        let does = self.does();
        match if self.plain { ch.int(0, 3) } else { 0 } {
            0 => format!("How many {things} {does} {it} have left?"),
            1 => format!("How many {things} remain?"),
            2 => format!("How many {things} are left?"),
            _ => format!("How many {things} {does} {it} still have?"),
        }
    }

    /// The protagonist inside a sentence, after its first mention: "Tom", "the library".
    fn name(&self) -> String {
        match self.who {
            Owner::Person(p) => p.name.to_string(),
            Owner::Body(b) => format!("the {}", b.noun),
        }
    }

    /// The protagonist's first mention, opening a sentence: "Tom", "A library".
    fn opener(&self) -> String {
        match self.who {
            Owner::Person(p) => p.name.to_string(),
            Owner::Body(b) => format!("A {}", b.noun),
        }
    }

    fn pronoun(&self) -> &'static str {
        match self.who {
            Owner::Person(p) => p.pronoun(),
            Owner::Body(_) => "it",
        }
    }

    /// The subject of a later sentence: the name again, or the pronoun.
    fn subject(&self, ch: &mut Chooser) -> String {
        if ch.chance(0.6) {
            capitalise(self.pronoun())
        } else {
            capitalise(&self.name())
        }
    }

    /// Where the protagonist keeps its things: "at home", "on its shelves".
    fn keeps(&self) -> &'static str {
        match self.who {
            Owner::Person(_) => "at home",
            Owner::Body(body) => body.keeps,
        }
    }

    /// The verbs of getting more and of giving up, each with its wider list
    /// ([`crate::Plan::wide_words`]; an institution's verbs have none).
    fn changes(&self) -> (Slot<Verb>, Slot<Verb>) {
        match self.who {
            Owner::Person(_) => ((&EN_GAIN, EN_GAIN_MORE), (&EN_LOSE, EN_LOSE_MORE)),
            Owner::Body(_) => ((&EN_BODY_GAIN, &[]), (&EN_BODY_LOSE, &[])),
        }
    }

    fn has(&self) -> &'static str {
        if self.past { "had" } else { "has" }
    }

    fn does(&self) -> &'static str {
        if self.past { "did" } else { "does" }
    }

    fn verb(&self, verb: Verb) -> &'static str {
        if self.past { verb.past } else { verb.now }
    }

    fn tell(&mut self, ch: &mut Chooser, story: &Story) -> (Vec<String>, String) {
        let (name, things) = (self.name(), self.what.many);
        match story {
            Story::Change { start, events, ask } if matches!(self.who, Owner::Body(_)) => {
                self.stock(ch, *start, events, *ask)
            }
            Story::Change { start, events, ask } => {
                let start = en_number(ch, *start);
                let mut sentences = vec![match ch.int(0, 2) {
                    0 => format!("{name} {} {start} {things}.", self.has()),
                    1 if self.past => format!("At first {name} had {start} {things}."),
                    1 => format!("{name} starts with {start} {things}."),
                    _ => format!("{name} {} {start} {things} {}.", self.has(), self.keeps()),
                }];
                for event in events {
                    sentences.push(self.event(ch, *event));
                }
                let pronoun = capitalise(self.pronoun());
                let subjects = [name.as_str(), pronoun.as_str()];
                self.events = compound(ch, &mut sentences, events, |first, next| {
                    join_en(first, next, &subjects)
                });
                let question = match (ask, self.past) {
                    (ChangeAsk::Gained, false) => {
                        format!("How many {things} does {name} get in all?")
                    }
                    (ChangeAsk::Gained, true) => {
                        format!("How many {things} did {name} get in all?")
                    }
                    (ChangeAsk::Now, _) if ends_with_loss(events) && ch.chance(0.5) => {
                        self.left(ch, things, &name)
                    }
                    (ChangeAsk::Now, _) => match ch.int(0, 2) {
                        0 => format!("How many {things} does {name} have now?"),
                        1 => format!("How many {things} does {name} end up with?"),
                        _ => format!("What is the number of {things} {name} has now?"),
                    },
                };
                (sentences, question)
            }
            Story::Share { total, parts } => {
                let (total, parts) = (en_number(ch, *total), en_number(ch, *parts));
                let container = ch.from_wide(&EN_CONTAINERS, EN_CONTAINERS_MORE);
                let (bins, bin) = (container.many, container.one);
                match ch.int(0, 1) {
                    0 => (
                        vec![format!(
                            "{name} shares {total} {things} equally among {parts} friends."
                        )],
                        format!("How many {things} does each friend get?"),
                    ),
                    _ => (
                        vec![format!(
                            "{name} puts {total} {things} into {parts} {bins}, the same number in each."
                        )],
                        format!("How many {things} are in each {bin}?"),
                    ),
                }
            }
            Story::Price { count, each, paid } => {
                let (count, each) = (en_number(ch, *count), en_number(ch, *each));
                let buys = if self.past { "bought" } else { "buys" };
                let mut sentences = vec![match ch.int(0, 1) {
                    0 => format!("{name} {buys} {count} {things} at {each} dollars each."),
                    _ => format!(
                        "One {} costs {each} dollars. {name} {buys} {count}.",
                        self.what.one
                    ),
                }];
                let question = match paid {
                    Some(paid) => {
                        let paid = en_number(ch, *paid);
                        let pays = if self.past { "paid" } else { "pays" };
                        sentences.push(format!("{} {pays} with {paid} dollars.", self.subject(ch)));
                        format!("How much change does {name} get?")
                    }
                    None => format!("How much does {name} spend?"),
                };
                (sentences, question)
            }
            Story::Compare {
                base,
                diff,
                together,
            } => {
                let other = loop {
                    let other = ch.from(&EN_PEOPLE);
                    if other.name != name.as_str() {
                        break other.name;
                    }
                };
                let base = en_number(ch, *base);
                let relation = match *diff {
                    Diff::More(n) => format!("{} more {things} than {name}", en_number(ch, n)),
                    Diff::Fewer(n) => format!("{} fewer {things} than {name}", en_number(ch, n)),
                    Diff::Times(n) => {
                        format!("{} times as many {things} as {name}", en_number(ch, n))
                    }
                };
                let question = if *together {
                    format!("How many {things} do they have together?")
                } else {
                    format!("How many {things} does {other} have?")
                };
                (
                    vec![
                        format!("{name} {} {base} {things}.", self.has()),
                        format!("{other} {} {relation}.", self.has()),
                    ],
                    question,
                )
            }
            Story::Rate { per, units, days } => {
                let (per, units) = (en_number(ch, *per), en_number(ch, *units));
                match days {
                    None => match ch.int(0, 1) {
                        0 => (
                            vec![format!("A train travels {per} kilometres per hour.")],
                            format!("How far does it go in {units} hours?"),
                        ),
                        _ => (
                            vec![format!("{name} reads {per} pages a day.")],
                            format!("How many pages does {name} read in {units} days?"),
                        ),
                    },
                    Some(days) => (
                        vec![format!(
                            "{name} earns {per} dollars an hour and works {units} hours a day."
                        )],
                        format!(
                            "How much does {name} earn in {} days?",
                            en_number(ch, *days)
                        ),
                    ),
                }
            }
            Story::Combine { parts, ask } => self.tally(ch, parts, *ask),
            Story::Groups { each, count } => self.groups(ch, *each, *count),
            Story::Complement { whole, part } => self.complement(ch, *whole, *part),
            Story::Average { values, told, ask } => match told {
                AverageTold::Tally => self.average(ch, values),
                AverageTold::Listed => self.listed_mean(ch, values, *ask),
                AverageTold::Measures => self.measured_mean(ch, values, *ask),
                AverageTold::People => self.people_mean(ch, values, *ask),
                AverageTold::Scores => self.scores(values),
            },
        }
    }

    /// The held-out telling: "Ingrid scored 81, 67 and 92 on three tests. What is the
    /// average score?".
    fn scores(&self, values: &[i128]) -> (Vec<String>, String) {
        let count = EN_SMALL[values.len() - 2];
        let listed: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let (last, rest) = listed.split_last().expect("three values or more");
        (
            vec![format!(
                "{} scored {} and {last} on {count} tests.",
                self.name(),
                rest.join(", ")
            )],
            "What is the average score?".to_string(),
        )
    }

    /// Equal groups: "Each box holds 6 eggs. How many eggs are in 8 boxes?".
    fn groups(&self, ch: &mut Chooser, each: i128, count: i128) -> (Vec<String>, String) {
        if ch.option(ch.shares().group_places) {
            return self.groups_at(ch, each, count);
        }
        let (name, things) = (self.name(), self.what.many);
        let bin = ch.from_wide(&EN_CONTAINERS, EN_CONTAINERS_MORE);
        let (bins, one) = (bin.many, bin.one);
        let (m, k) = (en_number(ch, each), en_number(ch, count));
        let all = *ch.pick(&["in all", "altogether", "in total"]);
        match ch.int(0, 4) {
            0 => (
                vec![format!("Each {one} holds {m} {things}.")],
                format!("How many {things} are in {k} {bins}?"),
            ),
            1 => (
                vec![format!("One {one} holds {m} {things}.")],
                format!("How many {things} do {k} {bins} hold?"),
            ),
            2 => (
                vec![
                    format!("A {one} has {m} {things} in it."),
                    format!("{name} {} {k} {bins}.", self.has()),
                ],
                format!("How many {things} {} {name} have?", self.does()),
            ),
            3 => (
                vec![format!(
                    "{name} {} {k} {bins} with {m} {things} in each.",
                    self.has()
                )],
                format!("How many {things} is that {all}?"),
            ),
            _ => (
                vec![format!(
                    "There are {m} {things} in every {one}, and {k} {bins}."
                )],
                format!("How many {things} are there {all}?"),
            ),
        }
    }

    /// Equal groups told by where the things are, not by a container: "There are 24 books
    /// on a shelf. How many books are on 5 shelves?" ([`crate::Plan::group_places`]).
    fn groups_at(&self, ch: &mut Chooser, each: i128, count: i128) -> (Vec<String>, String) {
        let (name, things) = (self.name(), self.what.many);
        let spot = ch.from(&EN_HOLDERS);
        let (many, one, at) = (spot.many, spot.one, spot.at);
        let (m, k) = (en_number(ch, each), en_number(ch, count));
        let all = *ch.pick(&["in all", "altogether", "in total"]);
        match ch.int(0, 3) {
            0 => (
                vec![format!("There are {m} {things} {at} a {one}.")],
                format!("How many {things} are {at} {k} {many}?"),
            ),
            1 => (
                vec![format!("A {one} has {m} {things} {at} it.")],
                format!("How many {things} are there {at} {k} {many}?"),
            ),
            2 => (
                vec![format!(
                    "{name} {} {k} {many}, and every {one} has {m} {things} {at} it.",
                    self.has()
                )],
                format!("How many {things} {} {name} have {all}?", self.does()),
            ),
            _ => (
                vec![format!("{} {things} fit {at} one {one}.", capitalise(&m))],
                format!("How many fit {at} {k} {many}?"),
            ),
        }
    }

    /// Part and whole: "A class has 42 students. 19 of them are girls. How many are boys?".
    fn complement(&self, ch: &mut Chooser, whole: i128, part: i128) -> (Vec<String>, String) {
        let p = ch.from(&EN_PARTS);
        let (n, k) = (en_number(ch, whole), en_number(ch, part));
        let (things, place, at, known, other) = (p.whole, p.place, p.at, p.known, p.other);
        match ch.int(0, 3) {
            0 => (
                vec![
                    format!("A {place} has {n} {things}."),
                    format!("{k} of the {things} are {known}."),
                ],
                format!("How many are {other}?"),
            ),
            1 => (
                vec![format!(
                    "There are {n} {things} {at} the {place}, and {k} of them are {known}."
                )],
                format!("How many of the {things} are {other}?"),
            ),
            2 => (
                vec![format!(
                    "Of the {n} {things} {at} a {place}, {k} are {known} and the rest are {other}."
                )],
                format!("How many {things} are {other}?"),
            ),
            _ => (
                vec![
                    format!("{k} of the {things} {at} the {place} are {known}."),
                    format!("The {place} has {n} {things} in all."),
                ],
                format!("How many of them are {other}?"),
            ),
        }
    }

    /// A tally: "Tom sold 8 stamps on Monday and 6 on Tuesday. How many stamps did Tom
    /// sell in all?", each part in one clause or in a sentence of its own.
    fn tally(&self, ch: &mut Chooser, parts: &[i128], ask: CombineAsk) -> (Vec<String>, String) {
        let (name, things) = (self.name(), self.what.many);
        let periods = pick_periods(ch, EN_PERIODS, parts.len());
        let (verb, did) = *ch.pick(EN_TALLY);
        let sentences = self.parts(ch, parts, periods, did);
        let question = match ask {
            CombineAsk::Total => {
                let all = ch.pick(&["in all", "altogether", "in total"]);
                format!("How many {things} did {name} {verb} {all}?")
            }
            CombineAsk::Difference => {
                let (big, small) = larger_first(parts);
                format!(
                    "How many more {things} did {name} {verb} {} than {}?",
                    periods[big], periods[small]
                )
            }
        };
        (sentences, question)
    }

    /// The mean of a tally's parts, per period: "… How many stamps did Tom sell per day on
    /// average over the 3 days?". The count is written, since a call may use only numbers
    /// the request wrote.
    fn average(&self, ch: &mut Chooser, values: &[i128]) -> (Vec<String>, String) {
        let (name, things) = (self.name(), self.what.many);
        let fitting: Vec<_> = (EN_AVERAGE_PERIODS.iter())
            .filter(|(periods, _)| periods.len() >= values.len())
            .collect();
        let (periods, unit) = **ch.pick(&fitting);
        let (verb, did) = *ch.pick(EN_TALLY);
        let sentences = self.parts(ch, values, periods, did);
        // Not "over the 3 days": "over" is a held-out word for division ("12 over 4").
        let span = format!("the {} {unit}s", en_number(ch, values.len() as i128));
        let question = match ch.int(0, 3) {
            0 => format!("How many {things} did {name} {verb} per {unit} on average in {span}?"),
            1 => format!(
                "On average, how many {things} did {name} {verb} each {unit} across {span}?"
            ),
            2 => {
                format!("What is the average number of {things} {name} {did} per {unit} in {span}?")
            }
            _ => {
                format!("Across {span}, how many {things} did {name} {verb} per {unit} on average?")
            }
        };
        (sentences, question)
    }

    /// The mean of listed numbers, their count written half of the time (a mean admits
    /// its count unwritten, [`miracle_router::grounding::implied_numbers`]): "What is the
    /// average of the 3 numbers 12, 18 and 30?", "Find the mean of 12, 18, 30.".
    fn listed_mean(
        &self,
        ch: &mut Chooser,
        values: &[i128],
        ask: ValuesAsk,
    ) -> (Vec<String>, String) {
        let told: Vec<String> = values.iter().map(|&v| en_number(ch, v)).collect();
        let (list, commas) = (en_and(&told), told.join(", "));
        let n = en_count(ch, values.len());
        let counted = ch.chance(0.5);
        let some = if counted {
            format!("{n} numbers")
        } else {
            "some numbers".into()
        };
        if ask != ValuesAsk::Mean {
            return match ch.int(0, 2) {
                0 => (vec![], format!("What is the sum of {list}?")),
                1 => (vec![], format!("Add up {commas}.")),
                _ => (
                    vec![format!("Here are {some}: {list}.")],
                    "What is their total?".to_string(),
                ),
            };
        }
        let (opener, name) = (self.opener(), self.name());
        match ch.int(0, 4) {
            0 if counted => (
                vec![],
                format!("What is the average of the {n} numbers {list}?"),
            ),
            0 => (vec![], format!("What is the average of {list}?")),
            1 if counted => (
                vec![],
                format!("Find the mean of these {n} numbers: {commas}."),
            ),
            1 => (vec![], format!("Find the mean of {commas}.")),
            2 => (
                vec![format!("Here are {some}: {list}.")],
                "What is their mean?".to_string(),
            ),
            3 => (
                vec![format!("{opener} wrote down {some}: {list}.")],
                format!("What is the average of {name}'s numbers?"),
            ),
            _ => (
                vec![format!(
                    "The {} are {list}.",
                    if counted { &some } else { "numbers" }
                )],
                "On average, how big is each number?".to_string(),
            ),
        }
    }

    /// The mean of things measured one by one, counted half of the time: "Three parcels
    /// weigh 12 kg, 15 kg and 18 kg. What is their average weight?".
    fn measured_mean(
        &self,
        ch: &mut Chooser,
        values: &[i128],
        ask: ValuesAsk,
    ) -> (Vec<String>, String) {
        // Heights make no total.
        let fitting: Vec<_> = (EN_MEASURES.iter())
            .filter(|m| ask == ValuesAsk::Mean || m.quantity != "height")
            .collect();
        let m = **ch.pick(&fitting);
        let told: Vec<String> = (values.iter())
            // Digits before a unit: "12 kg", not "twelve kg".
            .map(|&v| format!("{v} {}", m.unit))
            .collect();
        let measures = m.told.replace("{}", &en_and(&told));
        let n = en_count(ch, values.len());
        // "the 3 parcels" or "the parcels".
        let the = if ch.chance(0.5) {
            format!("the {n}")
        } else {
            "the".into()
        };
        let sentence = match ch.int(0, 1) {
            0 => format!("{} {} {measures}.", capitalise(&the), m.many),
            _ => format!(
                "{} measured {the} {}: they {measures}.",
                self.opener(),
                m.many
            ),
        };
        let question = match (ask, ch.int(0, 2)) {
            (ValuesAsk::Mean, 0) => format!("What is their average {}?", m.quantity),
            (ValuesAsk::Mean, 1) => {
                format!("What is the average {} of {the} {}?", m.quantity, m.many)
            }
            (ValuesAsk::Mean, _) => format!("On average, {}?", m.each),
            (_, 0) => format!("What is their total {}?", m.quantity),
            _ => format!("What is the total {} of {the} {}?", m.quantity, m.many),
        };
        (vec![sentence], question)
    }

    /// The mean of what several people have, counted half of the time: "Ann has 12
    /// stickers, Ben has 18 and Cal has 30. On average, how many stickers does each of the 3
    /// of them have?".
    fn people_mean(
        &self,
        ch: &mut Chooser,
        values: &[i128],
        ask: ValuesAsk,
    ) -> (Vec<String>, String) {
        let things = self.what.many;
        let names = others(ch, self.name(), values.len(), |ch| {
            ch.from(&EN_PEOPLE).name.to_string()
        });
        let (has, does) = (self.has(), self.does());
        let clauses: Vec<String> = (names.iter().zip(values).enumerate())
            .map(|(i, (who, &v))| {
                let v = en_number(ch, v);
                match i {
                    0 => format!("{who} {has} {v} {things}"),
                    _ => format!("{who} {has} {v}"),
                }
            })
            .collect();
        let n = en_count(ch, values.len());
        let the = if ch.chance(0.5) {
            format!("the {n}")
        } else {
            "the".into()
        };
        let question = match (ask, ch.int(0, 2)) {
            (ValuesAsk::Total, _) => {
                let all = ch.pick(&["altogether", "in all", "in total"]);
                let they = if self.past { "did" } else { "do" };
                format!("How many {things} {they} they have {all}?")
            }
            (ValuesAsk::Gap(big, small), _) => format!(
                "How many more {things} {does} {} have than {}?",
                names[big], names[small]
            ),
            (_, 0) if the == "the" => {
                format!("On average, how many {things} {does} each of them have?")
            }
            (_, 0) => format!("On average, how many {things} {does} each of {the} of them have?"),
            (_, 1) => {
                let have = if self.past { "had" } else { "have" };
                format!("What is the average number of {things} {the} friends {have}?")
            }
            // Sharing is no mean to grounding: its count is always written.
            _ => format!(
                "If the {n} friends shared them equally, how many {things} would each have?"
            ),
        };
        (vec![format!("{}.", en_and(&clauses))], question)
    }

    /// A tally's parts told over `periods`, in one sentence or one a part: "Tom sold 8
    /// stamps on Monday, 5 on Tuesday and 6 on Wednesday."
    fn parts(&self, ch: &mut Chooser, parts: &[i128], periods: &[&str], did: &str) -> Vec<String> {
        let (opener, name, things) = (self.opener(), self.name(), self.what.many);
        let told: Vec<String> = parts.iter().map(|&n| en_number(ch, n)).collect();
        if ch.chance(0.5) {
            // One sentence: "… 8 stamps on Monday, 5 on Tuesday and 6 on Wednesday."
            let mut clauses: Vec<String> = (told.iter().zip(periods))
                .map(|(n, when)| format!("{n} {when}"))
                .collect();
            clauses[0] = format!("{} {things} {}", told[0], periods[0]);
            let last = clauses.pop().expect("two parts or more");
            vec![format!("{opener} {did} {} and {last}.", clauses.join(", "))]
        } else {
            let mut sentences = vec![format!(
                "{opener} {did} {} {things} {}.",
                told[0], periods[0]
            )];
            for (n, when) in told.iter().zip(periods).skip(1) {
                let who = self.subject(ch);
                sentences.push(match ch.int(0, 1) {
                    0 => format!("{who} {did} {n} {when}."),
                    _ => {
                        // "On Tuesday, he sold 6 stamps.": a pronoun inside the sentence
                        // ("the shop" too).
                        let who = if who == name { who } else { who.to_lowercase() };
                        format!("{}, {who} {did} {n} {things}.", capitalise(when))
                    }
                });
            }
            sentences
        }
    }

    fn event(&self, ch: &mut Chooser, event: Event) -> String {
        let who = self.subject(ch);
        let things = self.what.many;
        let (gain, lose) = self.changes();
        match (event, self.who) {
            (Event::Gain(n), Owner::Person(_)) => {
                let (verb, n) = (self.verb(ch.from_wide(gain.0, gain.1)), en_number(ch, n));
                match ch.int(0, 2) {
                    0 => format!("{who} {verb} {n} more."),
                    1 => format!("Then {} {verb} {n} {things}.", after_then(who)),
                    _ => format!("{who} {verb} {n} more {things}."),
                }
            }
            (Event::Gain(n), Owner::Body(_)) => {
                let (verb, n) = (self.verb(ch.from_wide(gain.0, gain.1)), en_number(ch, n));
                match ch.int(0, 3) {
                    0 => format!("{who} {verb} {n} more."),
                    1 => format!("{who} {verb} {n} new ones."),
                    2 => format!("{who} {verb} {n} new {things}."),
                    _ => format!("Then {} {verb} {n} {things}.", after_then(who)),
                }
            }
            (Event::Lose(n), Owner::Person(person)) => {
                let (verb, n) = (self.verb(ch.from_wide(lose.0, lose.1)), en_number(ch, n));
                let gives = if self.past { "gave" } else { "gives" };
                let whom = *ch.pick(&[
                    "a friend",
                    "a neighbour",
                    "the school",
                    if person.she {
                        "her sister"
                    } else {
                        "his sister"
                    },
                    if person.she {
                        "her brother"
                    } else {
                        "his brother"
                    },
                ]);
                match ch.int(0, 2) {
                    0 => format!("{who} {verb} {n} of them."),
                    1 => format!("{who} {gives} {n} to {whom}."),
                    _ => format!("{who} {verb} {n} {things}."),
                }
            }
            (Event::Lose(n), Owner::Body(_)) => {
                let (verb, n) = (self.verb(ch.from_wide(lose.0, lose.1)), en_number(ch, n));
                let gives = if self.past { "gave" } else { "gives" };
                let whom = *ch.pick(&["a charity", "a hospital", "a shelter"]);
                match ch.int(0, 3) {
                    0 => format!("{who} {verb} {n}."),
                    1 => format!("{who} {verb} {n} of them."),
                    2 => format!("{who} {verb} {n} {things}."),
                    _ => format!("{who} {gives} {n} to {whom}."),
                }
            }
            (Event::GainGroups(k, m) | Event::LoseGroups(k, m), _) => {
                let pool = if matches!(event, Event::GainGroups(..)) {
                    gain
                } else {
                    lose
                };
                let verb = self.verb(ch.from_wide(pool.0, pool.1));
                let container = ch.from_wide(&EN_CONTAINERS, EN_CONTAINERS_MORE);
                let (k, m) = (en_number(ch, k), en_number(ch, m));
                let (bins, bin) = (container.many, container.one);
                let has = self.has();
                match ch.int(0, 2) {
                    0 => format!(
                        "{who} {verb} {k} {bins} of {things}. Each {bin} {has} {m} {things}."
                    ),
                    1 => format!("{who} {verb} {k} {bins} with {m} {things} in each."),
                    _ => format!("{who} {verb} {k} {bins}, each holding {m} {things}."),
                }
            }
        }
    }

    /// A change story told of an institution: "A library had 67 magazines. It discarded 81
    /// and received 99 new ones. How many magazines does it have?".
    fn stock(
        &mut self,
        ch: &mut Chooser,
        start: i128,
        events: &[Event],
        ask: ChangeAsk,
    ) -> (Vec<String>, String) {
        let (opener, name, things) = (self.opener(), self.name(), self.what.many);
        let (start, has, does) = (en_number(ch, start), self.has(), self.does());
        let keeps = self.keeps();
        let mut sentences = vec![match ch.int(0, 2) {
            0 => format!("{opener} {has} {start} {things}."),
            1 => format!("{} {has} {start} {things} {keeps}.", capitalise(&name)),
            _ if self.past => format!("At first {name} had {start} {things}."),
            _ => format!("{opener} starts with {start} {things}."),
        }];
        for event in events {
            sentences.push(self.event(ch, *event));
        }
        let (the, pronoun) = (capitalise(&name), capitalise(self.pronoun()));
        let subjects = [the.as_str(), pronoun.as_str()];
        self.events = compound(ch, &mut sentences, events, |first, next| {
            join_en(first, next, &subjects)
        });
        let it = if ch.chance(0.5) { "it" } else { name.as_str() };
        let question = match ask {
            ChangeAsk::Gained => format!("How many {things} {does} {it} get in all?"),
            ChangeAsk::Now if ends_with_loss(events) && ch.chance(0.5) => self.left(ch, things, it),
            ChangeAsk::Now => match ch.int(0, 3) {
                0 => format!("How many {things} does {it} have now?"),
                1 => format!("How many {things} does {it} have?"),
                2 => format!("How many {things} are in {name} now?"),
                _ => format!("What is the number of {things} {it} has now?"),
            },
        };
        (sentences, question)
    }
}

/// A sentence's subject after "Then": "He" becomes "he", "The library" "the library"; a
/// name stays as written.
fn after_then(subject: String) -> String {
    match subject.as_str() {
        "He" | "She" | "It" => subject.to_lowercase(),
        _ => match subject.strip_prefix("The ") {
            Some(rest) => format!("the {rest}"),
            None => subject,
        },
    }
}

pub fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A Chinese telling: one protagonist, one thing.
struct Zh {
    who: &'static str,
    /// Whether `who` is an institution (图书馆) rather than a person.
    body: bool,
    what: ZhNoun,
    /// As [`En::events`].
    events: Vec<String>,
    /// As [`En::plain`].
    plain: bool,
}

impl Zh {
    fn new(ch: &mut Chooser, story: &Story) -> Zh {
        let body = of_institution(ch, story);
        Zh {
            who: ch.from(if body { &ZH_BODIES } else { &ZH_PEOPLE }),
            body,
            what: ch.from_wide(&ZH_THINGS, ZH_THINGS_MORE),
            events: Vec::new(),
            plain: plain(ch),
        }
    }

    /// What is left, asked: "图书馆还剩多少本书？", and in everyday forms also "还剩下多少本？",
    /// "图书馆还有多少本书？", "还剩几本？" (as [`En::left`]).
    fn left(&self, ch: &mut Chooser) -> String {
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        match if self.plain { ch.int(0, 3) } else { 0 } {
            0 => format!("{who}还剩多少{m}{noun}？"),
            1 => format!("还剩下多少{m}？"),
            2 => format!("{who}还有多少{m}{noun}？"),
            _ => format!("还剩几{m}？"),
        }
    }

    /// A verb of change as told: "卖出了", or in everyday forms "卖出" ("卖出71本。").
    fn verb(&self, verb: &'static str) -> &'static str {
        match verb.strip_suffix('了') {
            Some(bare) if self.plain => bare,
            _ => verb,
        }
    }

    /// The verbs of getting more and of giving up, each with its wider list (an
    /// institution's verbs have none).
    fn changes(&self) -> (Slot<&'static str>, Slot<&'static str>) {
        if self.body {
            ((&ZH_BODY_GAIN, &[]), (&ZH_BODY_LOSE, &[]))
        } else {
            ((&ZH_GAIN, ZH_GAIN_MORE), (&ZH_LOSE, ZH_LOSE_MORE))
        }
    }

    fn tell(&mut self, ch: &mut Chooser, story: &Story) -> (Vec<String>, String) {
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        match story {
            Story::Change { start, events, ask } => {
                let start = zh_number(ch, *start);
                // An institution keeps a stock: "图书馆原有4本书".
                let frames = if self.body { 3 } else { 2 };
                let mut sentences = vec![match ch.int(0, frames) {
                    0 => format!("{who}有{start}{m}{noun}。"),
                    1 => format!("{who}原来有{start}{m}{noun}。"),
                    2 => format!("{who}一开始有{start}{m}{noun}。"),
                    _ => format!("{who}原有{start}{m}{noun}。"),
                }];
                for event in events {
                    sentences.push(self.event(ch, *event));
                }
                self.events = compound(ch, &mut sentences, events, join_zh);
                let question = match ask {
                    ChangeAsk::Gained => format!("{who}一共得到了多少{m}{noun}？"),
                    ChangeAsk::Now if ends_with_loss(events) && ch.chance(0.5) => self.left(ch),
                    ChangeAsk::Now => match ch.int(0, 2) {
                        0 => format!("{who}现在有多少{m}{noun}？"),
                        1 => format!("现在一共有多少{m}？"),
                        _ => format!("{who}最后有几{m}{noun}？"),
                    },
                };
                (sentences, question)
            }
            Story::Share { total, parts } => {
                let (total, parts) = (zh_number(ch, *total), zh_number(ch, *parts));
                match ch.int(0, 1) {
                    0 => (
                        vec![format!("{who}把{total}{m}{noun}平均分给{parts}个同学。")],
                        format!("每人分到多少{m}？"),
                    ),
                    _ => {
                        let bin = ch.from_wide(&ZH_CONTAINERS, ZH_CONTAINERS_MORE);
                        (
                            vec![format!("{total}{m}{noun}平均装进{parts}{bin}。")],
                            format!("每{bin}装多少{m}？"),
                        )
                    }
                }
            }
            Story::Price { count, each, paid } => {
                let (count, each) = (zh_number(ch, *count), zh_number(ch, *each));
                let mut sentences = vec![format!("每{m}{noun}{each}元，{who}买了{count}{m}。")];
                let question = match paid {
                    Some(paid) => {
                        sentences.push(format!("{who}付了{}元。", zh_number(ch, *paid)));
                        "应该找回多少元？".to_string()
                    }
                    None => "一共要付多少元？".to_string(),
                };
                (sentences, question)
            }
            Story::Compare {
                base,
                diff,
                together,
            } => {
                let other = loop {
                    let other = ch.from(&ZH_PEOPLE);
                    if other != who {
                        break other;
                    }
                };
                let base = zh_number(ch, *base);
                let relation = match *diff {
                    Diff::More(n) => format!("{other}比{who}多{}{m}", zh_number(ch, n)),
                    Diff::Fewer(n) => format!("{other}比{who}少{}{m}", zh_number(ch, n)),
                    Diff::Times(n) => format!("{other}的{noun}是{who}的{}倍", zh_number(ch, n)),
                };
                let question = if *together {
                    format!("他们一共有多少{m}{noun}？")
                } else {
                    format!("{other}有多少{m}{noun}？")
                };
                (
                    vec![format!("{who}有{base}{m}{noun}，"), format!("{relation}。")],
                    question,
                )
            }
            Story::Rate { per, units, days } => {
                let (per, units) = (zh_number(ch, *per), zh_number(ch, *units));
                match days {
                    None => match ch.int(0, 1) {
                        0 => (
                            vec![format!("一列火车每小时行驶{per}千米。")],
                            format!("{units}小时行驶多少千米？"),
                        ),
                        _ => (
                            vec![format!("{who}每天读{per}页书。")],
                            format!("{units}天能读多少页？"),
                        ),
                    },
                    Some(days) => (
                        vec![format!("{who}每小时挣{per}元，每天工作{units}小时。")],
                        format!("{}天一共挣多少元？", zh_number(ch, *days)),
                    ),
                }
            }
            Story::Combine { parts, ask } => self.tally(ch, parts, *ask),
            Story::Groups { each, count } => self.groups(ch, *each, *count),
            Story::Complement { whole, part } => self.complement(ch, *whole, *part),
            Story::Average { values, told, ask } => match told {
                AverageTold::Tally => self.average(ch, values),
                AverageTold::Listed => self.listed_mean(ch, values, *ask),
                AverageTold::Measures => self.measured_mean(ch, values, *ask),
                AverageTold::People => self.people_mean(ch, values, *ask),
                AverageTold::Scores => self.scores(values),
            },
        }
    }

    /// The held-out telling: "小明三次考试的成绩分别是81分、67分、92分。平均分是多少？".
    fn scores(&self, values: &[i128]) -> (Vec<String>, String) {
        let count = ZH_SMALL[values.len() - 2];
        let listed: Vec<String> = values.iter().map(|v| format!("{v}分")).collect();
        (
            vec![format!(
                "{}{count}次考试的成绩分别是{}。",
                self.who,
                listed.join("、")
            )],
            "平均分是多少？".to_string(),
        )
    }

    /// Part and whole: "一筐有60个苹果，其中红苹果有25个，青苹果有多少个？".
    fn complement(&self, ch: &mut Chooser, whole: i128, part: i128) -> (Vec<String>, String) {
        let p = ch.from(&ZH_PARTS);
        let (n, k) = (zh_number(ch, whole), zh_number(ch, part));
        let (things, place, known, other, m) = (p.whole, p.place, p.known, p.other, p.measure);
        match ch.int(0, 2) {
            0 => (
                vec![format!("{place}有{n}{m}{things}，其中{known}有{k}{m}。")],
                format!("{other}有多少{m}？"),
            ),
            1 => (
                vec![format!(
                    "{place}一共有{n}{m}{things}，{known}{k}{m}，其余的是{other}。"
                )],
                format!("{other}有几{m}？"),
            ),
            _ => (
                vec![
                    format!("{place}有{known}{k}{m}。"),
                    format!("{known}和{other}一共{n}{m}。"),
                ],
                format!("{other}有多少{m}？"),
            ),
        }
    }

    /// Equal groups: "一个篮子放9个苹果，2个篮子能放多少个苹果？", "每盒有8支铅笔，5盒一共有多少支？".
    fn groups(&self, ch: &mut Chooser, each: i128, count: i128) -> (Vec<String>, String) {
        if ch.option(ch.shares().group_places) {
            return self.groups_at(ch, each, count);
        }
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        let (n, k) = (zh_number(ch, each), zh_number(ch, count));
        match ch.int(0, 3) {
            0 => {
                let place = *ch.pick(ZH_PLACES);
                (
                    vec![format!("一个{place}放{n}{m}{noun}。")],
                    format!("{k}个{place}能放多少{m}{noun}？"),
                )
            }
            1 => {
                let bin = ch.from_wide(&ZH_CONTAINERS, ZH_CONTAINERS_MORE);
                (
                    vec![format!("每{bin}装{n}{m}{noun}。")],
                    format!("{k}{bin}一共装多少{m}？"),
                )
            }
            2 => {
                let bin = ch.from_wide(&ZH_CONTAINERS, ZH_CONTAINERS_MORE);
                (
                    vec![format!("一{bin}有{n}{m}{noun}。")],
                    format!("{k}{bin}{}有多少{m}？", ch.pick(&["一共", "总共"])),
                )
            }
            _ => {
                let bin = ch.from_wide(&ZH_CONTAINERS, ZH_CONTAINERS_MORE);
                (
                    vec![format!("{who}有{k}{bin}{noun}，每{bin}{n}{m}。")],
                    format!("{who}一共有多少{m}{noun}？"),
                )
            }
        }
    }

    /// Equal groups told by where the things are: "书架上有24本书，5个书架一共有多少本书？"
    /// ([`crate::Plan::group_places`]).
    fn groups_at(&self, ch: &mut Chooser, each: i128, count: i128) -> (Vec<String>, String) {
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        let spot = ch.from(&ZH_HOLDERS);
        let (place, at) = (spot.one, spot.at);
        let (n, k) = (zh_number(ch, each), zh_number(ch, count));
        let all = *ch.pick(&["一共", "总共"]);
        match ch.int(0, 3) {
            // The whole request in one sentence, as people write it: no story to reorder.
            0 => (
                Vec::new(),
                format!("{place}{at}有{n}{m}{noun}，{k}个{place}{all}有多少{m}{noun}？"),
            ),
            1 => (
                vec![format!("一个{place}{at}有{n}{m}{noun}。")],
                format!("{k}个{place}{at}{all}有多少{m}{noun}？"),
            ),
            2 => (
                vec![format!(
                    "{who}有{k}个{place}，每个{place}{at}有{n}{m}{noun}。"
                )],
                format!("{who}{all}有多少{m}{noun}？"),
            ),
            _ => (
                vec![format!("每个{place}{at}放着{n}{m}{noun}。")],
                format!("{k}个{place}{at}{all}放着多少{m}{noun}？"),
            ),
        }
    }

    /// A tally: "李华星期一卖出了8本书，星期二卖出了6本。李华一共卖出了多少本书？".
    fn tally(&self, ch: &mut Chooser, parts: &[i128], ask: CombineAsk) -> (Vec<String>, String) {
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        let periods = pick_periods(ch, ZH_PERIODS, parts.len());
        let (verb, did) = *ch.pick(ZH_TALLY);
        let told = self.parts(ch, parts, periods, did);
        let question = match ask {
            CombineAsk::Total => {
                let all = ch.pick(&["一共", "总共", "合起来一共"]);
                format!("{who}{all}{verb}了多少{m}{noun}？")
            }
            CombineAsk::Difference => {
                let (big, small) = larger_first(parts);
                format!("{}比{}多{verb}了多少{m}？", periods[big], periods[small])
            }
        };
        (vec![told], question)
    }

    /// The mean of a tally's parts, per period: "…这3天平均每天卖出了多少个苹果？".
    fn average(&self, ch: &mut Chooser, values: &[i128]) -> (Vec<String>, String) {
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        let fitting: Vec<_> = (ZH_AVERAGE_PERIODS.iter())
            .filter(|(periods, _)| periods.len() >= values.len())
            .collect();
        let (periods, unit) = **ch.pick(&fitting);
        let (verb, did) = *ch.pick(ZH_TALLY);
        let told = self.parts(ch, values, periods, did);
        let count = zh_number(ch, values.len() as i128);
        let question = match ch.int(0, 2) {
            0 => format!("{who}这{count}{unit}平均每{unit}{verb}了多少{m}{noun}？"),
            1 => format!("这{count}{unit}里，{who}平均每{unit}{verb}多少{m}？"),
            _ => format!("平均下来，{who}这{count}{unit}每{unit}{verb}了多少{m}{noun}？"),
        };
        (vec![told], question)
    }

    /// The mean of listed numbers, their count written half of the time:
    /// "12、18和30这3个数的平均数是多少？", "求3、7、11的平均数。".
    fn listed_mean(
        &self,
        ch: &mut Chooser,
        values: &[i128],
        ask: ValuesAsk,
    ) -> (Vec<String>, String) {
        let told: Vec<String> = values.iter().map(|&v| zh_number(ch, v)).collect();
        let (list, commas) = (zh_and(&told), told.join("、"));
        let n = zh_number(ch, values.len() as i128);
        // "这3个数" or nothing; "3个数" or "几个数".
        let (these, some) = if ch.chance(0.5) {
            (format!("这{n}个数"), format!("{n}个数"))
        } else {
            (String::new(), "几个数".to_string())
        };
        if ask != ValuesAsk::Mean {
            return match ch.int(0, 2) {
                0 => (vec![], format!("{list}{these}的和是多少？")),
                1 => (vec![], format!("求{commas}{these}的和。")),
                _ => (
                    vec![format!("有{some}，分别是{list}。")],
                    "它们的和是多少？".to_string(),
                ),
            };
        }
        match ch.int(0, 3) {
            0 => (vec![], format!("{list}{these}的平均数是多少？")),
            1 => (vec![], format!("求{commas}{these}的平均数。")),
            2 => (
                vec![format!("{}写下了{some}：{commas}。", self.who)],
                "这些数的平均数是多少？".to_string(),
            ),
            _ => (
                vec![format!("有{some}，分别是{list}。")],
                "它们平均是多少？".to_string(),
            ),
        }
    }

    /// The mean of things measured one by one, counted half of the time: "3个箱子分别重12千克、
    /// 15千克和18千克，平均每个箱子重多少千克？".
    fn measured_mean(
        &self,
        ch: &mut Chooser,
        values: &[i128],
        ask: ValuesAsk,
    ) -> (Vec<String>, String) {
        // Heights make no total.
        let fitting: Vec<_> = (ZH_MEASURES.iter())
            .filter(|(.., quantity)| ask == ValuesAsk::Mean || *quantity != "高度")
            .collect();
        let (noun, m, verb, unit, quantity) = **ch.pick(&fitting);
        let told: Vec<String> = (values.iter())
            // Digits: "八千克" would read as 8,000 and 克.
            .map(|&v| format!("{v}{unit}"))
            .collect();
        let n = zh_number(ch, values.len() as i128);
        // "3个箱子 … 这3个箱子" or "几个箱子 … 这些箱子".
        let (some, these) = if ch.chance(0.5) {
            (format!("{n}{m}"), format!("这{n}{m}"))
        } else {
            (format!("几{m}"), "这些".to_string())
        };
        let sentence = format!("{some}{noun}分别{verb}{}。", zh_and(&told));
        let question = match (ask, ch.int(0, 2)) {
            (ValuesAsk::Mean, 0) => format!("平均每{m}{noun}{verb}多少{unit}？"),
            (ValuesAsk::Mean, 1) => format!("{these}{noun}的平均{quantity}是多少{unit}？"),
            (ValuesAsk::Mean, _) => format!("它们平均{verb}多少{unit}？"),
            (_, 0) => format!("{these}{noun}一共{verb}多少{unit}？"),
            (_, 1) => format!("{these}{noun}的总{quantity}是多少{unit}？"),
            _ => format!("它们一共{verb}多少{unit}？"),
        };
        (vec![sentence], question)
    }

    /// The mean of what several people have, counted half of the time: "小明有12张贴纸，小红有
    /// 18张，小刚有30张。他们3人平均每人有多少张贴纸？".
    fn people_mean(
        &self,
        ch: &mut Chooser,
        values: &[i128],
        ask: ValuesAsk,
    ) -> (Vec<String>, String) {
        let (m, noun) = (self.what.measure, self.what.noun);
        let names = others(ch, self.who.to_string(), values.len(), |ch| {
            ch.from(&ZH_PEOPLE).to_string()
        });
        let clauses: Vec<String> = (names.iter().zip(values).enumerate())
            .map(|(i, (who, &v))| {
                let v = zh_number(ch, v);
                match i {
                    0 => format!("{who}有{v}{m}{noun}"),
                    _ => format!("{who}有{v}{m}"),
                }
            })
            .collect();
        let n = zh_number(ch, values.len() as i128);
        let counted = ch.chance(0.5);
        let question = match (ask, ch.int(0, 2)) {
            (ValuesAsk::Total, 0) => format!("他们一共有多少{m}{noun}？"),
            (ValuesAsk::Total, _) => format!("这几个人合起来一共有多少{m}？"),
            (ValuesAsk::Gap(big, small), _) => {
                format!("{}比{}多多少{m}？", names[big], names[small])
            }
            (_, 0) if counted => format!("他们{n}人平均每人有多少{m}{noun}？"),
            (_, 0) => format!("他们平均每人有多少{m}{noun}？"),
            (_, 1) if counted => format!("这{n}个人平均每人有多少{m}？"),
            (_, 1) => format!("这几个人平均每人有多少{m}？"),
            // Sharing is no mean to grounding: its count is always written.
            _ => format!("如果{n}个人平分这些{noun}，每人能分到多少{m}？"),
        };
        (vec![format!("{}。", clauses.join("，"))], question)
    }

    /// A tally's parts told over `periods` in one sentence: "李华星期一卖出了8个苹果，星期二
    /// 卖出了5个。".
    fn parts(&self, ch: &mut Chooser, parts: &[i128], periods: &[&str], did: &str) -> String {
        let (who, m, noun) = (self.who, self.what.measure, self.what.noun);
        let clauses: Vec<String> = (parts.iter().zip(periods).enumerate())
            .map(|(i, (&n, when))| {
                let n = zh_number(ch, n);
                match i {
                    0 => format!("{who}{when}{did}{n}{m}{noun}"),
                    _ => format!("{when}{did}{n}{m}"),
                }
            })
            .collect();
        format!("{}。", clauses.join("，"))
    }

    fn event(&self, ch: &mut Chooser, event: Event) -> String {
        let m = self.what.measure;
        let (gain, lose) = self.changes();
        match event {
            Event::Gain(n) => {
                let verb = self.verb(ch.from_wide(gain.0, gain.1));
                format!("又{verb}{}{m}。", zh_number(ch, n))
            }
            Event::Lose(n) => {
                let verb = self.verb(ch.from_wide(lose.0, lose.1));
                format!("{verb}{}{m}。", zh_number(ch, n))
            }
            Event::GainGroups(k, per) | Event::LoseGroups(k, per) => {
                let verb = if matches!(event, Event::GainGroups(..)) {
                    format!("又{}", self.verb(ch.from_wide(gain.0, gain.1)))
                } else {
                    self.verb(ch.from_wide(lose.0, lose.1)).to_string()
                };
                let bin = ch.from_wide(&ZH_CONTAINERS, ZH_CONTAINERS_MORE);
                let (k, per) = (zh_number(ch, k), zh_number(ch, per));
                format!("{verb}{k}{bin}，每{bin}{per}{m}。")
            }
        }
    }
}
