//! Miracle's request generator: a meaning is drawn first — a calculation over quantities in
//! a story or typed bare, a program task, a literature need, a social act, or a
//! conversation of two turns — and then realised in English or Chinese through a grammar of
//! many independent choices ([`lexicon`], [`story`], [`bare`], [`program`], [`literature`],
//! [`social`], [`surface`], [`talk`]). The request and its chain of thought come from the
//! same meaning, and every call is run on the real experts and checked against the value
//! the meaning implies, so a demonstration is correct by construction and by execution.
//!
//! **Held out by construction** ([`choose`]): every lexical slot has training entries and
//! held-out ones (names, things, containers, verbs of change, operation words, frames,
//! politeness), the average told as test scores is held out (and the whole schema, unless
//! [`Plan::averages`] teaches it over tallies), and some pairs of features
//! that training sees apart never meet in training (a share story asked question-first, a
//! comparison in Chinese, …: [`choose::HELD_COMBINATIONS`]). A held-out request carries at
//! least one of these, and says which ([`Composed::marks`]); a training request carries
//! none, and no training request's text contains a held-out form
//! ([`lexicon::held_forms`]).

pub mod bare;
pub mod calc;
pub mod choose;
pub mod lexicon;
pub mod literature;
pub mod program;
pub mod social;
pub mod story;
pub mod surface;
pub mod talk;

use miracle_core::rng::SplitMix64;
use miracle_experts::{Context, Registry};
use miracle_router::demos::{
    CALCULATOR, CODE, Category, Demo, Expect, LITERATURE, Lang, Split, Topics, cited_ids,
    direct_answer, direct_replies, literature_answer, number_answer,
};
use miracle_router::protocol::{Dialogue, Exchange, Step};

use calc::Calculation;
use choose::Chooser;
use program::Task;
use social::Act;
use story::{AverageTold, Story};

/// How many requests to compose, and what share of them is held out. The default composes
/// nothing and draws every option at 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub requests: usize,
    /// The share of requests drawn as held-out ones (the rest are training requests).
    pub held_out_share: f32,
    /// The share of two-turn conversations whose second turn is a fresh request of another
    /// kind (a search after a calculation, as a patron at a desk goes on) rather than a
    /// follow-up of the first. 0 leaves every draw as it was before the option existed.
    pub fresh_turns: f32,
    /// The chance that a story's event is told in one sentence with the sentence before
    /// it ("Tom had 40 stamps and bought 15 more."; [`story`]). 0 leaves every draw as it
    /// was before the option existed.
    pub joins: f32,
    /// The share of word problems drawn as a tally told part by part ("Tom sold 8 stamps
    /// on Monday and 6 on Tuesday. How many did he sell in all?"; [`story`]). 0 leaves
    /// every draw as it was before the option existed.
    pub combine: f32,
    /// The share of word problems drawn as equal groups ("Each box holds 6 eggs. How many
    /// eggs are in 8 boxes?", "一个篮子放9个苹果，2个篮子能放多少个？"; [`story`]). 0 leaves
    /// every draw as it was before the option existed.
    pub groups: f32,
    /// The share of change stories and tallies whose protagonist is an institution, "A
    /// library had 67 magazines. It discarded 5 and received 9 new ones." ([`story`]). 0
    /// leaves every draw as it was before the option existed.
    pub institutions: f32,
    /// The share of Chinese requests typed with a space between Chinese characters and
    /// digits or Latin letters (盘古之白: "计算 5 减去 1"), as many people type; searches
    /// keep their topic as written ([`surface`]). 0 leaves every draw as it was before the
    /// option existed.
    pub spacing: f32,
    /// The share of word problems drawn as a part and a whole ("A class has 42 students. 19
    /// of them are girls. How many are boys?", "一筐有60个苹果，其中红苹果有25个…"; [`story`]).
    /// 0 leaves every draw as it was before the option existed.
    pub complements: f32,
    /// The share of program requests that sum a range: 1 + 2 + … + n, its even numbers, its
    /// odd ones, its cubes ("Write a program that adds up the numbers from 1 to 100.";
    /// [`program`]). 0 leaves every draw as it was before the option existed.
    pub series: f32,
    /// The share of word problems drawn as an average over a tally's parts ("Tom sold 8
    /// stamps on Monday, 5 on Tuesday and 11 on Wednesday. How many stamps did Tom sell per
    /// day on average over the 3 days?"; [`story`]). The held-out split's averages, told as
    /// test scores, stay held out by their words. 0 leaves every draw as it was before the
    /// option existed.
    pub averages: f32,
    /// The share of those averages told in other frames than a tally: a list of numbers
    /// ("What is the average of 12, 18 and 30?", the count written half of the time), measures
    /// ("Three parcels weigh 12 kg, 15 kg and 18 kg. What is their average weight?") or what
    /// each of several people has ([`story::AverageTold`]). The scores stay held out. 0
    /// leaves every draw as it was before the option existed.
    pub average_frames: f32,
    /// The share of averages told in those other frames that ask another question of the
    /// same story: the total of the list, of the measures or of what the people have, or how
    /// many more one person has than another ([`story::ValuesAsk`]), so that listed numbers
    /// are not read as "add them up and divide" whatever the question asks. 0 leaves every
    /// draw as it was before the option existed.
    pub average_contrasts: f32,
    /// The share of training social acts whose phrase comes from a wider list (eight more
    /// per act and language: "Much appreciated", "See ya", "What is Miracle", "我先走了",
    /// …), so that an act is learnt from many phrases; held-out phrases stay held out. 0
    /// leaves every draw as it was before the option existed.
    pub social_phrases: f32,
    /// The share of equal-groups stories told by where the things are rather than by a
    /// container ("There are 24 books on a shelf. How many books are on 5 shelves?",
    /// "书架上有24本书，5个书架一共有多少本书？"; [`story`]), a place held out by its word. 0
    /// leaves every draw as it was before the option existed.
    pub group_places: f32,
    /// The share of grouped gains in change stories drawn as few and as small as grouped
    /// losses are ("He buys 2 more cans of tennis balls. Each can has 3 tennis balls."), so
    /// that the size of a group does not tell a gain from a loss ([`story`]). 0 leaves every
    /// draw as it was before the option existed.
    pub group_sizes: f32,
    /// The share of a training story's things, containers and verbs of change drawn from a
    /// wider list (ten more things per language, eight more verbs of getting and of giving
    /// up, four more containers: "balloons", "hands out", "cartons", 气球, 弄丢了, 筐, …;
    /// [`lexicon`]), so that a story is learnt over many words rather than a handful;
    /// held-out entries stay held out. 0 leaves every draw as it was before the option
    /// existed.
    pub wide_words: f32,
    /// The share of change stories worked as a running total, one call per event on the
    /// result before it ("133 - 5 * 7", then "98 - 14"), with no plan written first
    /// ([`Calculation::running`]). A plan must read the whole story before the first call,
    /// and the shipped model wrote wrong ones for two stories in three that hold groups,
    /// training stories included. An average's sum is worked the same way, with no plan
    /// ("Add 9 and 97, then add 8, then divide by 3." had taught plans that add where a
    /// template's plan multiplies). 0 leaves every draw as it was before the option existed.
    pub running_totals: f32,
    /// The share of running totals whose calls each follow a note copying the event from
    /// the story, its sentence or joined clause ([`Calculation::notes`]): the model stopped
    /// early or read an event twice in half the grouped change stories of its own training
    /// distribution, and copying a sentence is what a small transformer does well. A story
    /// asking what was gained ("How many … get in all?") notes its gains ([`Story::notes`]).
    /// 0 leaves every draw as it was before the option existed.
    pub running_notes: f32,
    /// The share of change stories told with one plain event, a gain or a loss ("Tom had
    /// 40 stamps and gave 15 to his sister."): the story a patron writes most, and the
    /// rarest of the generator's, whose events are one to three of four kinds, so that
    /// one-call stories of two numbers were multiplications four times as often as
    /// subtractions ([`story`]). 0 leaves every draw as it was before the option existed.
    pub single_events: f32,
    /// The share of training change stories told in everyday forms the generator's lists
    /// lacked: Chinese verbs of change without 了 ("书店有323本书，卖出71本。"), and what is
    /// left asked as patrons ask it ("How many shells remain?", "…还剩下多少本？"). 0 leaves
    /// every draw as it was before the option existed.
    pub plain_forms: f32,
}

/// The shares of a [`Plan`] that change how a story is drawn and told: what every
/// [`Chooser`] of the plan carries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shares {
    pub joins: f32,
    pub combine: f32,
    pub groups: f32,
    pub institutions: f32,
    pub spacing: f32,
    pub complements: f32,
    pub series: f32,
    pub averages: f32,
    pub average_frames: f32,
    pub average_contrasts: f32,
    pub social_phrases: f32,
    pub group_places: f32,
    pub group_sizes: f32,
    pub wide_words: f32,
    pub running_totals: f32,
    pub running_notes: f32,
    pub single_events: f32,
    pub plain_forms: f32,
}

impl Plan {
    fn shares(&self) -> Shares {
        Shares {
            joins: self.joins,
            combine: self.combine,
            groups: self.groups,
            institutions: self.institutions,
            spacing: self.spacing,
            complements: self.complements,
            series: self.series,
            averages: self.averages,
            average_frames: self.average_frames,
            average_contrasts: self.average_contrasts,
            social_phrases: self.social_phrases,
            group_places: self.group_places,
            group_sizes: self.group_sizes,
            wide_words: self.wide_words,
            running_totals: self.running_totals,
            running_notes: self.running_notes,
            single_events: self.single_events,
            plain_forms: self.plain_forms,
        }
    }

    /// Whether the plan can be composed: a share between 0 and 1.
    pub fn check(&self) -> Result<(), ComposeError> {
        for (what, value) in [
            ("held-out", self.held_out_share),
            ("fresh-turns", self.fresh_turns),
            ("joins", self.joins),
            ("combine", self.combine),
            ("groups", self.groups),
            ("institutions", self.institutions),
            ("spacing", self.spacing),
            ("complements", self.complements),
            ("series", self.series),
            ("averages", self.averages),
            ("average-frames", self.average_frames),
            ("average-contrasts", self.average_contrasts),
            ("social-phrases", self.social_phrases),
            ("group-places", self.group_places),
            ("group-sizes", self.group_sizes),
            ("wide-words", self.wide_words),
            ("running-totals", self.running_totals),
            ("running-notes", self.running_notes),
            ("single-events", self.single_events),
            ("plain-forms", self.plain_forms),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ComposeError::Share { what, value });
            }
        }
        Ok(())
    }
}

/// A composed demonstration and the held-out entries it was written with (none for a
/// training demonstration).
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub demo: Demo,
    pub marks: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("composing {request:?}: the {expert} expert failed on {input:?}: {message}")]
    Expert {
        request: String,
        expert: &'static str,
        input: String,
        message: String,
    },
    #[error(
        "composing {request:?}: the {expert} expert returned {got:?} for {input:?}, the meaning says {expected}"
    )]
    Disagrees {
        request: String,
        expert: &'static str,
        input: String,
        expected: String,
        got: String,
    },
    #[error("reading the shipped collections: {0}")]
    Corpus(String),
    #[error("request {0}: no held-out realisation in 200 draws")]
    NoHeldOut(usize),
    /// A share of the plan out of range, named (every share was called the held-out one).
    #[error("the {what} share must be between 0 and 1, not {value}")]
    Share { what: &'static str, value: f32 },
}

/// What one turn asks the assistant to do.
#[derive(Debug, Clone)]
pub enum Work {
    Calc(Calculation),
    Program(Task),
    /// A paper's id and the topic searched for.
    Search(String, String),
    Reply(Act),
}

/// One user turn and its meaning's work.
#[derive(Debug, Clone)]
pub struct Turn {
    pub user: String,
    pub work: Work,
}

impl Work {
    fn category(&self) -> Category {
        match self {
            Work::Calc(_) => Category::Calc,
            Work::Program(_) => Category::Code,
            Work::Search(..) => Category::Literature,
            Work::Reply(_) => Category::Direct,
        }
    }
}

/// Composes `plan.requests` demonstrations with the experts in `registry` (which must hold
/// [`CALCULATOR`], [`CODE`] and [`LITERATURE`]). The same seed gives the same demos.
pub async fn compose(
    registry: &Registry,
    plan: &Plan,
    seed: u64,
) -> Result<Vec<Composed>, ComposeError> {
    plan.check()?;
    let shipped = |lang| Topics::shipped(lang).map_err(|e| ComposeError::Corpus(e.to_string()));
    let (en, zh) = (shipped(Lang::En)?, shipped(Lang::Zh)?);
    let mut seeds = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(plan.requests);
    for i in 0..plan.requests {
        let lang = if i % 2 == 0 { Lang::En } else { Lang::Zh };
        let topics = if lang == Lang::En { &en } else { &zh };
        let split = if seeds.next_f32() < plan.held_out_share {
            Split::HeldOut
        } else {
            Split::Train
        };
        let request_seed = seeds.next_u64();
        let draw = Draw {
            topics,
            lang,
            split,
            fresh_turns: plan.fresh_turns,
            shares: plan.shares(),
        };
        out.push(one(registry, &draw, i, request_seed).await?);
    }
    Ok(out)
}

/// The `i`-th demonstration: drafts are drawn until one fits its split and its experts
/// agree with it.
async fn one(
    registry: &Registry,
    draw: &Draw<'_>,
    i: usize,
    seed: u64,
) -> Result<Composed, ComposeError> {
    let Draw { lang, split, .. } = *draw;
    let mut seeds = SplitMix64::new(seed);
    for _ in 0..200 {
        let mut ch = Chooser::new(seeds.next_u64(), split).with_shares(draw.shares);
        ch.feature(format!(
            "lang:{}",
            if lang == Lang::En { "en" } else { "zh" }
        ));
        let Some((family, turns)) = draft(&mut ch, draw) else {
            continue;
        };
        let held_combination = ch.held_combination();
        let text: Vec<&str> = turns.iter().map(|t| t.user.as_str()).collect();
        let marks = ch.into_marks(&text.join("\n"), lang);
        let fits = match split {
            Split::Train => !held_combination && marks.is_empty(),
            Split::HeldOut => !marks.is_empty(),
        };
        if !fits {
            continue;
        }
        let mut exchanges = Vec::new();
        let mut expect = None;
        for turn in &turns {
            let Some((steps, expected)) = perform(registry, turn, lang).await? else {
                break;
            };
            expect.get_or_insert(expected);
            exchanges.push(Exchange {
                user: turn.user.clone(),
                steps,
            });
        }
        let (Some(expect), true) = (expect, exchanges.len() == turns.len()) else {
            continue;
        };
        let code = if lang == Lang::En { "en" } else { "zh" };
        let demo = Demo {
            id: format!("compose.{code}.{i}"),
            lang,
            category: turns[0].work.category(),
            family: format!("compose.{family}"),
            template: 0,
            split,
            expect,
            dialogue: Dialogue {
                system: None,
                exchanges,
            },
        };
        return Ok(Composed { demo, marks });
    }
    Err(ComposeError::NoHeldOut(i))
}

/// What one demonstration is drawn for.
#[derive(Clone, Copy)]
struct Draw<'t> {
    topics: &'t Topics,
    lang: Lang,
    split: Split,
    /// [`Plan::fresh_turns`].
    fresh_turns: f32,
    shares: Shares,
}

/// A request's meaning and its telling: the family's name and the turns.
fn draft(ch: &mut Chooser, draw: &Draw<'_>) -> Option<(String, Vec<Turn>)> {
    let (topics, lang) = (draw.topics, draw.lang);
    let (family, first, meaning) = request(ch, topics, lang)?;
    // One training request in six goes on for a second turn.
    if ch.split() == Split::Train && ch.chance(1.0 / 6.0) {
        if ch.option(draw.fresh_turns) {
            let second = fresh(ch, topics, lang, &first)?;
            return Some((format!("talk.fresh.{family}"), vec![first, second]));
        }
        let second = talk::follow(ch, &first, meaning.as_ref(), topics, lang)?;
        return Some((format!("talk.{family}"), vec![first, second]));
    }
    Some((family, vec![first]))
}

/// A second turn that is a request of its own, of another kind than `first`: what a
/// patron asks next at a desk, with the first turn's work done.
fn fresh(ch: &mut Chooser, topics: &Topics, lang: Lang, first: &Turn) -> Option<Turn> {
    for _ in 0..8 {
        let (_, turn, _) = request(ch, topics, lang)?;
        if turn.work.category() != first.work.category() {
            return Some(turn);
        }
    }
    None
}

/// One request: the family's name, the turn, and a story's meaning (for follow-ups).
fn request(ch: &mut Chooser, topics: &Topics, lang: Lang) -> Option<(String, Turn, Option<Story>)> {
    let held = ch.split() == Split::HeldOut;
    let roll = ch.int(0, 99);
    let (family, text, work, meaning) = match roll {
        0..=39 => {
            let held_frame = held && ch.chance(0.25);
            let story = Story::draw(ch, held_frame);
            if let Story::Average {
                told: AverageTold::Scores,
                ..
            } = story
            {
                // Held out by its words in every plan, and whole where no average is taught.
                if ch.shares().averages <= 0.0 {
                    ch.hold("schema:average");
                }
                ch.hold_written("frame:average score", lexicon::held_average(lang));
            }
            // Held-out requests are drawn as before: how a story is worked is the
            // training's choice, and the suites stay the same.
            let running = !held
                && matches!(story, Story::Change { .. } | Story::Average { .. })
                && ch.option(ch.shares().running_totals);
            let mut calc = story.calculation(running)?;
            let told = story.tell(ch, lang);
            if running
                && let Some(notes) = story.notes(&told.events, calc.calls.len(), lang)
                && ch.option(ch.shares().running_notes)
            {
                calc.notes = notes;
            }
            let family = format!("story.{}", story.schema());
            (family, told.text, Work::Calc(calc), Some(story))
        }
        40..=59 => {
            let meaning = bare::draw(ch);
            let (text, calc) = bare::tell(ch, &meaning, lang);
            ("bare".into(), text, Work::Calc(calc), None)
        }
        60..=74 => {
            let task = Task::draw(ch);
            let text = task.tell(ch, lang);
            (
                format!("program.{}", task.name()),
                text,
                Work::Program(task),
                None,
            )
        }
        75..=89 => {
            let topic = literature::draw(ch, topics, lang);
            let query = literature::query(topic);
            let text = literature::tell(ch, query, lang);
            let work = Work::Search(topic.id().to_string(), query.to_string());
            ("literature".into(), text, work, None)
        }
        _ => {
            let act = Act::draw(ch);
            let text = act.tell(ch, lang);
            let family = format!("social.{}", &act.family()["direct.".len()..]);
            (family, text, Work::Reply(act), None)
        }
    };
    // Politeness and typing slips dress every request but a social act (which is one);
    // a search topic is left as written.
    let user = match &work {
        Work::Reply(_) => text,
        Work::Search(_, query) => surface::dress(ch, &text, lang, &[query]),
        _ => surface::dress(ch, &text, lang, &[]),
    };
    Some((family, Turn { user, work }, meaning))
}

/// Runs a turn's work on the experts and writes the assistant's steps: `None` when the
/// search refuses the topic or does not find the paper it came from (another request is
/// drawn).
async fn perform(
    registry: &Registry,
    turn: &Turn,
    lang: Lang,
) -> Result<Option<(Vec<Step>, Expect)>, ComposeError> {
    let mut steps = Vec::new();
    let expect = |expert: Option<&str>, answer: Option<String>, docs: Vec<String>| Expect {
        expert: expert.map(str::to_string),
        answer,
        docs,
        replies: Vec::new(),
    };
    let done = match &turn.work {
        Work::Calc(calc) => {
            if let Some(plan) = calc.plan(lang) {
                steps.push(Step::Think { text: plan });
            }
            let mut result = String::new();
            for (i, call) in calc.calls.iter().enumerate() {
                if let Some(note) = calc.note(i) {
                    steps.push(Step::Think { text: note.into() });
                }
                let input = calc.input(i);
                result = call_checked(
                    registry, &turn.user, CALCULATOR, &input, call.value, &mut steps,
                )
                .await?;
            }
            steps.push(Step::Answer {
                text: number_answer(lang, &result),
            });
            expect(Some(CALCULATOR), Some(result), Vec::new())
        }
        Work::Program(task) => {
            let result = call_checked(
                registry,
                &turn.user,
                CODE,
                &task.program(),
                task.answer(),
                &mut steps,
            )
            .await?;
            steps.push(Step::Answer {
                text: number_answer(lang, &result),
            });
            expect(Some(CODE), Some(result), Vec::new())
        }
        Work::Search(id, topic) => {
            // A title the search reads as broken syntax ("… AND … IN CHINA") is no topic to
            // teach: another request is drawn.
            let Ok(result) = call(registry, &turn.user, LITERATURE, topic, &mut steps).await else {
                return Ok(None);
            };
            let ids = cited_ids(&result);
            if !ids.contains(id) {
                return Ok(None);
            }
            steps.push(Step::Answer {
                text: literature_answer(lang, &ids),
            });
            expect(Some(LITERATURE), None, vec![id.clone()])
        }
        Work::Reply(act) => {
            let answer = direct_answer(act.family(), lang).expect("every act has a shipped answer");
            steps.push(Step::Answer {
                text: answer.to_string(),
            });
            Expect {
                replies: direct_replies(act.family(), lang),
                ..expect(None, None, Vec::new())
            }
        }
    };
    Ok(Some((steps, done)))
}

/// Calls `expert` and records the call and its result.
async fn call(
    registry: &Registry,
    request: &str,
    expert: &'static str,
    input: &str,
    steps: &mut Vec<Step>,
) -> Result<String, ComposeError> {
    let observed = registry
        .call(expert, input, &Context::default())
        .await
        .map_err(|e| ComposeError::Expert {
            request: request.to_string(),
            expert,
            input: input.to_string(),
            message: e.to_string(),
        })?;
    steps.push(Step::Call {
        expert: expert.to_string(),
        input: input.to_string(),
    });
    steps.push(Step::Result {
        text: observed.text.clone(),
    });
    Ok(observed.text)
}

/// [`call`], then checks that the expert returned `expected`.
async fn call_checked(
    registry: &Registry,
    request: &str,
    expert: &'static str,
    input: &str,
    expected: i128,
    steps: &mut Vec<Step>,
) -> Result<String, ComposeError> {
    let got = call(registry, request, expert, input, steps).await?;
    if got.trim() != expected.to_string() {
        return Err(ComposeError::Disagrees {
            request: request.to_string(),
            expert,
            input: input.to_string(),
            expected: expected.to_string(),
            got,
        });
    }
    Ok(got.trim().to_string())
}

/// Whether `text` contains `form` as written: in English as whole words, ignoring case;
/// in Chinese anywhere.
pub fn contains_form(text: &str, form: &str, lang: Lang) -> bool {
    if lang == Lang::Zh || !form.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return text.contains(form);
    }
    let (text, form) = (text.to_lowercase(), form.to_lowercase());
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    text.match_indices(&form).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + form.len()..].chars().next())
    })
}
