//! Instruction data made by the experts themselves: task generators fill request templates
//! (many phrasings, Chinese and English, FLAN-style) with fresh numbers, topics and papers,
//! then write the assistant's turn by **running the real experts** — every result in a
//! demonstration is what the expert returned, never a hand-written one.
//!
//! Generalisation is measured on what training never sees: the last template of every
//! family and language is held out, and so are whole families ([`HELD_OUT_FAMILIES`]).
//! [`Split::HeldOut`] demos are written as an evaluation suite in the format of
//! `../shared/eval/dev.jsonl`, never as training data.

mod calc;
mod code;
mod direct;
pub mod gsm8k;
mod literature;
mod plugin;

pub use direct::{answer as direct_answer, replies as direct_replies};
pub use literature::{Topic, Topics, cited_ids, literature_answer};
pub use plugin::plugin_demos;

use miracle_core::rng::SplitMix64;
use miracle_experts::{Context, Registry};
use serde::{Deserialize, Serialize};

use crate::protocol::{Dialogue, Exchange, Step};

/// Families no training demo comes from: each one's operations or program appear in other
/// families, so the model can route them only by generalising across phrasings.
pub const HELD_OUT_FAMILIES: &[&str] = &["calc.word_left", "code.range_sum"];

/// The expert names the generated demonstrations call; [`crate::agent_registry`] registers
/// the built-in experts under them.
pub const CALCULATOR: &str = "calculator";
pub const CODE: &str = "code";
pub const LITERATURE: &str = "literature";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub const BOTH: [Lang; 2] = [Lang::En, Lang::Zh];
}

/// What the request needs, as in the evaluation suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Calc,
    Code,
    Literature,
    Direct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    HeldOut,
}

/// What a correct run does, in the evaluation suites' terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expect {
    pub expert: Option<String>,
    pub answer: Option<String>,
    #[serde(default)]
    pub docs: Vec<String>,
    /// For a social act, the replies that answer it (a greeting is not answered with a
    /// goodbye); empty where any reply without a call will do, as in a suite written by
    /// hand that does not say which act a request is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<String>,
}

/// One generated demonstration: a request, the assistant's turn, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demo {
    pub id: String,
    pub lang: Lang,
    pub category: Category,
    /// `calc.word_buy`, `code.prime_sum`, …
    pub family: String,
    /// The template's index within its family and language.
    pub template: usize,
    pub split: Split,
    pub expect: Expect,
    pub dialogue: Dialogue,
}

impl Demo {
    pub fn request(&self) -> &str {
        &self.dialogue.exchanges[0].user
    }

    /// The line of an evaluation suite (`../shared/eval/dev.jsonl`'s format).
    pub fn suite_line(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "lang": self.lang,
            "category": self.category,
            "query": self.request(),
            "expect": self.expect,
        })
    }
}

/// How many requests to generate per family and language (held-out ones included).
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub calc: usize,
    pub code: usize,
    pub literature: usize,
    pub direct: usize,
    /// Copies of each expert's own demonstrations.
    pub expert_demonstrations: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("generating {family}: the {expert} expert failed on {input:?}: {message}")]
    Expert {
        family: String,
        expert: String,
        input: String,
        message: String,
    },
    #[error("generating literature requests: {0}")]
    Corpus(String),
}

/// A request's template, filled: `{a}`-style slots replaced in order.
pub(crate) fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (name, value) in slots {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

/// Seeded choices for the generators.
pub(crate) struct Draw(SplitMix64);

impl Draw {
    pub(crate) fn new(seed: u64) -> Self {
        Draw(SplitMix64::new(seed))
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.0.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// A number of `1..=max_digits` digits, the digit count drawn uniformly first (so small
    /// and large operands are equally common, as in the MRKL calculator study).
    pub(crate) fn operand(&mut self, max_digits: u32) -> i64 {
        let digits = self.int(1, i64::from(max_digits)) as u32;
        let lo = if digits == 1 {
            1
        } else {
            10i64.pow(digits - 1)
        };
        self.int(lo, 10i64.pow(digits) - 1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.int(0, items.len() as i64 - 1) as usize]
    }

    /// One surface form of a template: every `[x|y|z]` group becomes one of its
    /// alternatives (an alternative may be empty), so one frame yields many phrasings.
    pub(crate) fn vary(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find(']').map(|c| open + c) else {
                break;
            };
            out.push_str(&rest[..open]);
            let alternatives: Vec<&str> = rest[open + 1..close].split('|').collect();
            let alternative: &&str = self.pick(&alternatives);
            out.push_str(alternative);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// A training request's surface form: its template varied, and one time in three a
    /// lead-in a person might type first (the same for every family), so that routing keys
    /// on the task, not on how the request happens to begin. Held-out templates stay as
    /// written (they hold no groups).
    pub(crate) fn phrase(&mut self, template: &str, lang: Lang, split: Split) -> String {
        let text = self.vary(template);
        if split == Split::HeldOut || self.int(0, 2) != 0 {
            return text;
        }
        let lead = match lang {
            Lang::En => *self.pick(EN_LEADS),
            Lang::Zh => *self.pick(ZH_LEADS),
        };
        format!("{lead}{text}")
    }
}

/// Lead-ins carry no task: every family gets them alike, so none can be a cue.
const EN_LEADS: &[&str] = &[
    "Please help: ",
    "Quick question: ",
    "Hi! ",
    "Hello, ",
    "Excuse me, ",
    "One more thing: ",
];
const ZH_LEADS: &[&str] = &[
    "请问：",
    "你好！",
    "问一下，",
    "麻烦你，",
    "您好，",
    "还有一个问题：",
];

/// The assistant's turn under construction; calls run the real expert.
pub(crate) struct Script<'r> {
    registry: &'r Registry,
    family: &'r str,
    steps: Vec<Step>,
}

impl<'r> Script<'r> {
    pub(crate) fn new(registry: &'r Registry, family: &'r str) -> Self {
        Script {
            registry,
            family,
            steps: Vec::new(),
        }
    }

    pub(crate) fn think(&mut self, text: impl Into<String>) {
        self.steps.push(Step::Think { text: text.into() });
    }

    /// Calls `expert` with `input` and records the call and what it returned.
    pub(crate) async fn call(&mut self, expert: &str, input: &str) -> Result<String, DemoError> {
        let observed = self
            .registry
            .call(expert, input, &Context::default())
            .await
            .map_err(|e| DemoError::Expert {
                family: self.family.to_string(),
                expert: expert.to_string(),
                input: input.to_string(),
                message: e.to_string(),
            })?;
        self.steps.push(Step::Call {
            expert: expert.to_string(),
            input: input.to_string(),
        });
        self.steps.push(Step::Result {
            text: observed.text.clone(),
        });
        Ok(observed.text)
    }

    pub(crate) fn answer(mut self, text: impl Into<String>) -> Vec<Step> {
        self.steps.push(Step::Answer { text: text.into() });
        self.steps
    }
}

/// A family's request templates per language; the last of each list is held out.
pub(crate) struct Templates {
    pub en: &'static [&'static str],
    pub zh: &'static [&'static str],
}

impl Templates {
    fn of(&self, lang: Lang) -> &'static [&'static str] {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }
}

/// The `i`-th request of a family in `lang`: its template index and split. Templates cycle
/// so that every one, the held-out last one included, gets its share.
pub(crate) fn template_for(
    family: &str,
    templates: &Templates,
    lang: Lang,
    i: usize,
) -> (usize, &'static str, Split) {
    let list = templates.of(lang);
    let index = i % list.len();
    let split = if HELD_OUT_FAMILIES.contains(&family) || index + 1 == list.len() {
        Split::HeldOut
    } else {
        Split::Train
    };
    (index, list[index], split)
}

/// Everything a generator needs to make one demo.
pub(crate) struct Made {
    pub template: usize,
    pub split: Split,
    pub user: String,
    pub steps: Vec<Step>,
    pub expect: Expect,
}

impl Made {
    /// A request answered with a number: the expert's final result, in the answer sentence.
    pub(crate) fn number(
        script: Script<'_>,
        expert: &str,
        lang: Lang,
        (template, split): (usize, Split),
        user: String,
        result: String,
    ) -> Made {
        Made {
            template,
            split,
            user,
            steps: script.answer(number_answer(lang, &result)),
            expect: Expect {
                expert: Some(expert.into()),
                answer: Some(result),
                docs: Vec::new(),
                replies: Vec::new(),
            },
        }
    }
}

/// Generates every family's demos with the experts in `registry` (which must hold
/// [`CALCULATOR`], [`CODE`] and [`LITERATURE`]). `running_totals` is the share of the
/// bought-boxes demos (`calc.word_buy`) worked as the request generator works a stock and
/// a grouped gain under its `running_totals` option: one call from the stock, with no plan
/// written first. Beside composed running totals, a planned story of the same meaning
/// teaches two writings of one story, and the model blends them (docs/EVAL.md, "One
/// writing per story").
pub async fn generate(
    registry: &Registry,
    counts: &Counts,
    seed: u64,
    running_totals: f32,
) -> Result<Vec<Demo>, DemoError> {
    let mut draw = Draw::new(seed);
    let mut demos = Vec::new();
    let mut push = |family: &str, lang: Lang, category: Category, i: usize, made: Made| {
        demos.push(Demo {
            id: format!("{family}.{}.{i}", lang_code(lang)),
            lang,
            category,
            family: family.to_string(),
            template: made.template,
            split: made.split,
            expect: made.expect,
            dialogue: Dialogue {
                system: None,
                exchanges: vec![Exchange {
                    user: made.user,
                    steps: made.steps,
                }],
            },
        });
    };
    for lang in Lang::BOTH {
        for family in calc::FAMILIES {
            for i in 0..counts.calc {
                // The first share of `i`: templates cycle with `i`, so each gets its share,
                // and no draw is taken, so a share of 0 leaves every demo as it was.
                let running = (i as f32) < running_totals * counts.calc as f32;
                let made = calc::make(registry, family, lang, i, running, &mut draw).await?;
                push(family.name, lang, Category::Calc, i, made);
            }
        }
        for family in code::FAMILIES {
            for i in 0..counts.code {
                let made = code::make(registry, family, lang, i, &mut draw).await?;
                push(family.name, lang, Category::Code, i, made);
            }
        }
        let topics = literature::Topics::shipped(lang)?;
        for i in 0..counts.literature {
            let made = literature::make(registry, &topics, lang, i, &mut draw).await?;
            push(literature::FAMILY, lang, Category::Literature, i, made);
        }
        for i in 0..counts.direct {
            let (family, made) = direct::make(lang, i, &mut draw);
            push(family, lang, Category::Direct, i, made);
        }
    }
    let demonstrations = expert_demonstrations(registry, counts.expert_demonstrations).await?;
    for (i, made) in demonstrations.into_iter().enumerate() {
        push(
            "demonstration",
            made_lang(&made.user),
            category_of(&made),
            i,
            made,
        );
    }
    Ok(demos)
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Zh => "zh",
    }
}

fn made_lang(text: &str) -> Lang {
    if text.chars().any(miracle_corpora::is_han) {
        Lang::Zh
    } else {
        Lang::En
    }
}

fn category_of(made: &Made) -> Category {
    match made.expect.expert.as_deref() {
        Some(CALCULATOR) => Category::Calc,
        Some(CODE) => Category::Code,
        Some(LITERATURE) => Category::Literature,
        _ => Category::Direct,
    }
}

/// Each registered expert's own demonstrations, rerun: the request, one call with the
/// demonstrated input, and an answer from what the expert returns now (its first line).
async fn expert_demonstrations(registry: &Registry, copies: usize) -> Result<Vec<Made>, DemoError> {
    let mut out = Vec::new();
    for expert in registry.experts() {
        for demo in expert.demonstrations() {
            let mut script = Script::new(registry, "demonstration");
            let result = script.call(expert.name(), &demo.input).await?;
            let first = result.lines().next().unwrap_or_default();
            let answer = number_answer(made_lang(&demo.request), first);
            let steps = script.answer(answer);
            for _ in 0..copies {
                out.push(Made {
                    template: 0,
                    split: Split::Train,
                    user: demo.request.clone(),
                    steps: steps.clone(),
                    expect: Expect {
                        expert: Some(expert.name().to_string()),
                        answer: None,
                        docs: Vec::new(),
                        replies: Vec::new(),
                    },
                });
            }
        }
    }
    Ok(out)
}

/// The answer sentence for a number.
pub fn number_answer(lang: Lang, value: &str) -> String {
    match lang {
        Lang::En => format!("The answer is {value}."),
        Lang::Zh => format!("答案是{value}。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_yields_each_of_its_alternatives() {
        let mut draw = Draw::new(3);
        let forms: std::collections::BTreeSet<String> = (0..200)
            .map(|_| draw.vary("[A|The] shop sold {a}[| books][.|?]"))
            .collect();
        assert_eq!(forms.len(), 8, "{forms:?}");
        assert!(forms.contains("A shop sold {a}."));
        assert!(forms.contains("The shop sold {a} books?"));
    }

    #[test]
    fn text_without_groups_is_left_as_written() {
        let mut draw = Draw::new(3);
        assert_eq!(draw.vary("What is {a} plus {b}?"), "What is {a} plus {b}?");
        assert_eq!(draw.vary("an open [bracket"), "an open [bracket");
        for _ in 0..20 {
            assert_eq!(
                draw.phrase("What is {a}?", Lang::En, Split::HeldOut),
                "What is {a}?"
            );
        }
    }

    #[test]
    fn training_requests_sometimes_open_with_a_lead_in() {
        let mut draw = Draw::new(5);
        let texts: Vec<String> = (0..90)
            .map(|_| draw.phrase("{a}加{b}等于多少？", Lang::Zh, Split::Train))
            .collect();
        let led = texts.iter().filter(|t| !t.starts_with("{a}")).count();
        assert!((15..=45).contains(&led), "{led} of 90 have a lead-in");
        assert!(texts.iter().all(|t| t.ends_with("{a}加{b}等于多少？")));
    }

    /// The held-out template of every list (its last) is measured as written, so it holds
    /// no group; every group elsewhere is closed and has two alternatives or more.
    #[test]
    fn templates_are_well_formed() {
        let lists = calc::FAMILIES
            .iter()
            .map(|f| &f.templates)
            .chain(code::FAMILIES.iter().map(|f| &f.templates))
            .chain([&literature::TEMPLATES]);
        for templates in lists {
            for list in [templates.en, templates.zh] {
                let (last, rest) = list.split_last().unwrap();
                assert!(!last.contains('['), "held-out template {last:?} varies");
                for template in rest {
                    let (opens, closes) =
                        (template.matches('[').count(), template.matches(']').count());
                    assert_eq!(opens, closes, "{template:?}");
                    for group in template.split('[').skip(1) {
                        let inside = group.split(']').next().unwrap();
                        assert!(
                            inside.contains('|'),
                            "{template:?}: [{inside}] has one alternative"
                        );
                    }
                }
            }
        }
    }
}
