//! The agent loop: the model writes its turn step by step — thinking, calls, an answer —
//! and whenever it closes a call, the router runs the expert and forces the result into
//! the sequence, where the model reads it and goes on. Calls are decoded under constraint
//! (a registered expert's name, an input its format accepts), so malformed calls cannot be
//! written; everything else is bounded (steps, tokens, time), and a run that hits a bound
//! ends with an honest answer saying so. Every run yields a [`Trace`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::prelude::*;
use miracle_core::gpt::{Decoder, Decoding, GenerateError, Gpt, GptConfig, TokenSet};
use miracle_core::tokenizer::{Special, Tokenizer};
use miracle_experts::search::Markup;
use miracle_experts::search::support::{Abstracts, names_a_topic};
use miracle_experts::{Context, Grammar, Grounded, InputFormat, Registry};
use serde::{Deserialize, Serialize};

use crate::constraint::Vocabulary;
use crate::coverage::{ARITHMETIC, Coverage};
use crate::grounding::{Grounding, Hold, Quote};
use crate::protocol::{Dialogue, Exchange, ProtocolError, Step, render_prompt};

/// Bounds on one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Expert calls in one turn.
    pub max_calls: usize,
    /// Tokens the model may generate in one turn, all steps together.
    pub max_tokens: usize,
    /// Tokens in one step (a thought, a call's input, the answer).
    pub max_step_tokens: usize,
    /// Wall-clock time for the whole turn, expert calls included.
    pub timeout: Duration,
    /// Wall-clock time for one expert call.
    pub expert_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_calls: 8,
            max_tokens: 1024,
            max_step_tokens: 256,
            timeout: Duration::from_secs(60),
            expert_timeout: Context::DEFAULT_TIMEOUT,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The model wrote an answer.
    Answered,
    /// The model went to answer after calls that all failed; the loop answered instead,
    /// saying which calls failed and why: an answer written from errors alone is made up.
    ExpertsFailed,
    /// A bound was reached first; the answer says which.
    TokenLimit,
    TimeLimit,
    /// The model's answer failed the answer checks ([`crate::checks`]): it cited nothing
    /// its search found, gave no number its calculations returned, or said nothing. The
    /// loop answered instead, with what the experts returned; the trace's answer step
    /// keeps the model's text.
    Replaced,
}

/// One step as it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracedStep {
    #[serde(flatten)]
    pub step: Step,
    /// Tokens the model generated for it (0 for results, which are forced).
    #[serde(default)]
    pub tokens: usize,
    #[serde(default)]
    pub ms: f64,
    /// For a result: the expert's error, when it failed (the text shown to the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a call: the router had the model make it, because a number of the request was
    /// unused by the calculations so far ([`crate::coverage`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pressed: bool,
}

/// Everything a run did, for `--trace`, `--json` and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    pub request: String,
    pub steps: Vec<TracedStep>,
    pub answer: String,
    pub outcome: Outcome,
    pub tokens_generated: usize,
    pub ms: f64,
    /// Every token of the run — prompt, forced and generated — for training on it (PPO);
    /// recorded only with [`Agent::record_actions`].
    #[serde(skip)]
    pub tokens: Vec<u32>,
    /// Per token of `tokens`: for one the model chose from more than one allowed token
    /// (an action), the set it chose from; `None` for forced tokens.
    #[serde(skip)]
    pub actions: Vec<Option<Arc<TokenSet>>>,
}

impl Trace {
    /// The experts called, in order.
    pub fn experts(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| match &s.step {
                Step::Call { expert, .. } => Some(expert.as_str()),
                _ => None,
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The reason is part of the message, not a source, so that a chain printed whole
    /// (`{:#}`) says it once.
    #[error("the model: {0}")]
    Model(GenerateError),
    #[error(transparent)]
    Tokenizer(#[from] miracle_core::tokenizer::TokenizerError),
    #[error("the model's vocabulary ({model}) does not match the tokenizer's ({tokenizer})")]
    VocabularyMismatch { model: usize, tokenizer: usize },
    #[error("the registry has no experts whose names can be written in a call")]
    NoExperts,
    #[error(
        "MIRACLE_PRESS_CONFIDENCE={0:?} is not a share: give a number from 0 to 1 (0.99 was measured), or unset it to press always"
    )]
    PressConfidence(String),
    #[error(
        "this model reads numbers as slots (N0, N1, …), which grounded decoding does not hold yet: run it ungrounded (`--ungrounded`)"
    )]
    SlotsGrounded,
}

impl From<GenerateError> for AgentError {
    fn from(error: GenerateError) -> Self {
        AgentError::Model(error)
    }
}

/// A model, its tokenizer and the experts it may call.
pub struct Agent<'a> {
    model: &'a Gpt,
    config: &'a GptConfig,
    device: Device,
    tokenizer: &'a Tokenizer,
    registry: &'a Registry,
    vocabulary: Vocabulary,
    text_tokens: Vec<u32>,
    /// [`Vocabulary::western_text_tokens`]: an English request is answered in English (the
    /// model, after a Chinese turn or a calculation, sometimes opened "最相关的论文：").
    western_tokens: Vec<u32>,
    pub system: Option<String>,
    pub limits: Limits,
    pub decoding: Decoding,
    /// Hold what the model writes to the conversation (see [`crate::grounding`]): an
    /// answer may contain only numbers the experts returned in this turn (the user's, when
    /// it called none), and an expert's input is held as its format asks ([`Grounded`]);
    /// a request that asks for papers opens with a search ([`crate::intent`]), and an
    /// English request's answer is written without CJK characters.
    /// On by default; off measures what the model writes on its own.
    pub grounded: bool,
    /// Record every token of a run and the set each action was chosen from
    /// ([`Trace::tokens`], [`Trace::actions`]), for PPO. Off by default: serving has no
    /// use for them.
    pub record_actions: bool,
    /// Told of each step as soon as it is complete, before the run goes on: a service
    /// streams the calls while the agent works.
    pub on_step: Option<StepWatcher>,
    /// A literature call also searches the patron's whole request, and the model is shown
    /// both rankings fused ([`crate::papers::fuse`]): the model's query can cut a claim
    /// short or pick the wrong clause, the whole request keeps every word of it. A query
    /// taken from a sentence that asks for nothing while another asks for papers
    /// ([`crate::papers::from_framing`]) is not fused: the whole request's ranking is shown
    /// alone. On by default (docs/EVAL.md, "Searching with the whole request too").
    pub fuse_request: bool,
    /// With a share, coverage ([`crate::coverage`]) does not press for another call when
    /// the model gives answering at least that share of the probability among thinking,
    /// answering and calling: a question can leave a number out by design ("How many pencils
    /// did Tom get in all?" leaves out the pencils he had) and a sentence that does not
    /// matter can hold one ("Their teacher is 73 years old."). `None` (the default) presses
    /// always: at 0.99 the shipped model also stops early where it should not ("41乘9的结果减去4"),
    /// and as many requests are lost as won (docs/EVAL.md, "A press that lets a sure answer
    /// through"). `MIRACLE_PRESS_CONFIDENCE` sets it for a process.
    pub press_confidence: Option<f32>,
    /// Where a cited paper's abstract is read, to quote the sentence that supports the
    /// request ([`crate::papers::with_citations`]): the default index, opened when an
    /// answer first cites a paper. `None` shows citations without quotes.
    pub abstracts: Option<Abstracts>,
    /// How APA's italics are written in the citations an answer lists: plain by default
    /// (terminals), Markdown for chat front-ends, HTML for web pages.
    pub markup: Markup,
    /// The model reads and writes the conversation's numbers as slots ([`crate::slots`]):
    /// it is shown the conversation so, and what it writes is filled in before an expert
    /// runs or a user reads it. Set from the model directory ([`crate::slots::marked`]).
    pub number_slots: bool,
}

/// [`Agent::press_confidence`] from `MIRACLE_PRESS_CONFIDENCE`; unset, `None`.
fn press_confidence_from_env() -> Result<Option<f32>, AgentError> {
    match std::env::var("MIRACLE_PRESS_CONFIDENCE") {
        Err(_) => Ok(None),
        Ok(text) => match text.trim().parse::<f32>() {
            Ok(share) if (0.0..=1.0).contains(&share) => Ok(Some(share)),
            _ => Err(AgentError::PressConfidence(text)),
        },
    }
}

/// What [`Agent::on_step`] calls.
pub type StepWatcher = Arc<dyn Fn(&TracedStep) + Send + Sync>;

impl<'a> Agent<'a> {
    pub fn new(
        model: &'a Gpt,
        config: &'a GptConfig,
        device: &Device,
        tokenizer: &'a Tokenizer,
        registry: &'a Registry,
    ) -> Result<Self, AgentError> {
        if config.vocab_size != tokenizer.vocab_size() {
            return Err(AgentError::VocabularyMismatch {
                model: config.vocab_size,
                tokenizer: tokenizer.vocab_size(),
            });
        }
        let press_confidence = press_confidence_from_env()?;
        let vocabulary = Vocabulary::new(tokenizer);
        let text_tokens = vocabulary.text_tokens();
        let western_tokens = vocabulary.western_text_tokens();
        Ok(Agent {
            model,
            config,
            device: device.clone(),
            tokenizer,
            registry,
            vocabulary,
            text_tokens,
            western_tokens,
            system: None,
            limits: Limits::default(),
            decoding: Decoding::Greedy,
            grounded: true,
            record_actions: false,
            on_step: None,
            fuse_request: true,
            press_confidence,
            abstracts: Some(Abstracts::default()),
            markup: Markup::Plain,
            number_slots: false,
        })
    }

    /// Answers `request` (after `history`, earlier exchanges of the same conversation).
    pub async fn run(&self, request: &str, history: &[Exchange]) -> Result<Trace, AgentError> {
        let names: Vec<&str> = self
            .registry
            .names()
            .into_iter()
            .filter(|n| crate::protocol::is_expert_name(n))
            .collect();
        if names.is_empty() {
            return Err(AgentError::NoExperts);
        }
        let calculators = (names.iter().copied())
            .filter(|n| {
                self.registry
                    .get(n)
                    .is_some_and(|e| calculates(e.input_format()))
            })
            .collect();
        let started = Instant::now();
        let mut exchanges = history.to_vec();
        exchanges.push(Exchange {
            user: request.to_string(),
            steps: Vec::new(),
        });
        let dialogue = Dialogue {
            system: self.system.clone(),
            exchanges,
        };
        if self.number_slots && self.grounded {
            return Err(AgentError::SlotsGrounded);
        }
        let (prompt, slots) = match self.number_slots {
            true => {
                let (seen, slots) = crate::slots::encode(&dialogue);
                (render_prompt(&seen, self.tokenizer)?, Some(slots))
            }
            false => (render_prompt(&dialogue, self.tokenizer)?, None),
        };
        let grounding = conversation_numbers(&dialogue);
        // A follow-up that names its own topic ("Now about vitamin D.") is searched for in
        // its own words; one that points back ("And papers on that?") may quote any turn.
        let quotable = if names_a_topic(request) {
            vec![request.to_string()]
        } else {
            dialogue.exchanges.iter().map(|e| e.user.clone()).collect()
        };
        // A request for papers in so many words, or a follow-up that moves a search on to
        // a topic of its own ("Now about vitamin D."), opens with a search.
        let searched_before = history.last().is_some_and(|e| {
            e.steps.iter().any(
                |s| matches!(s, Step::Call { expert, .. } if expert == crate::demos::LITERATURE),
            )
        });
        let search_first = self.grounded
            && names.contains(&crate::demos::LITERATURE)
            && (crate::intent::asks_for_papers(request)
                || (searched_before && crate::intent::moves_on(request)));
        // Thanks or a farewell alone is answered, not computed or searched for.
        let calls_allowed = if self.grounded && crate::intent::only_social(request) {
            0
        } else {
            self.limits.max_calls
        };
        let mut turn = Turn {
            agent: self,
            search_first,
            calls_allowed,
            decoder: Decoder::new(self.model, self.config, &self.device),
            names,
            calculators,
            steps: Vec::new(),
            generated: 0,
            actions: Vec::new(),
            last_set: None,
            calls: 0,
            chinese: request.chars().any(miracle_corpora::is_han),
            started,
            grounding,
            results: Grounding::default(),
            quotable,
            coverage: Coverage::of(request),
            request: request.to_string(),
            slots,
        };
        turn.force(&prompt)?;
        let (answer, outcome) = turn.steps_until_answer().await?;
        let (answer, outcome) = match outcome {
            Outcome::Answered if crate::checks::check(&answer, &turn.steps).is_some() => (
                crate::checks::honest_answer(&turn.steps, turn.chinese),
                Outcome::Replaced,
            ),
            _ => (answer, outcome),
        };
        // What the user reads names the papers it cites; the model's step keeps its words.
        let answer = match outcome {
            Outcome::Answered | Outcome::Replaced => {
                let abstracts = self.abstracts.as_ref().map(|a| move |id: &str| a.of(id));
                crate::papers::with_citations(
                    &answer,
                    &turn.steps,
                    request,
                    abstracts
                        .as_ref()
                        .map(|f| f as &dyn Fn(&str) -> Option<String>),
                )
            }
            _ => answer,
        };
        let answer = match &self.abstracts {
            Some(records) => crate::papers::marked(&answer, self.markup, &|id| records.paper(id)),
            None => answer,
        };
        Ok(Trace {
            request: request.to_string(),
            steps: turn.steps,
            answer,
            outcome,
            tokens_generated: turn.generated,
            ms: started.elapsed().as_secs_f64() * 1e3,
            tokens: if self.record_actions {
                turn.decoder.tokens().to_vec()
            } else {
                Vec::new()
            },
            actions: turn.actions,
        })
    }
}

/// One assistant turn in progress.
struct Turn<'t, 'a> {
    agent: &'t Agent<'a>,
    /// The request asks for papers in so many words ([`crate::intent`]): the turn's first
    /// step is a literature search, whatever the conversation before it was about.
    search_first: bool,
    /// The calls this turn may make: the agent's limit, or none for a social act alone
    /// ([`crate::intent::only_social`]).
    calls_allowed: usize,
    decoder: Decoder<'a>,
    names: Vec<&'t str>,
    /// Those of `names` that calculate ([`calculates`]).
    calculators: Vec<&'t str>,
    steps: Vec<TracedStep>,
    generated: usize,
    /// Per token of the decoder, with [`Agent::record_actions`]: see [`Trace::actions`].
    actions: Vec<Option<Arc<TokenSet>>>,
    /// The last allowed set recorded, shared by the actions that were allowed the same
    /// tokens (free text allows the same set at every step).
    last_set: Option<(Vec<u32>, Arc<TokenSet>)>,
    calls: usize,
    /// Whether the request is in Chinese: the loop's own answers follow its language.
    chinese: bool,
    started: Instant,
    /// Numbers of the conversation so far: the user's, and every result's.
    grounding: Grounding,
    /// Numbers of this turn's results.
    results: Grounding,
    /// The user's words, every request of the conversation.
    quotable: Vec<String>,
    /// The request's numbers that no calculation has used yet (see [`crate::coverage`]).
    coverage: Coverage,
    /// This turn's request, as the user wrote it.
    request: String,
    /// The conversation's number slots, for a model that reads them
    /// ([`Agent::number_slots`]).
    slots: Option<crate::slots::Slots>,
}

impl Turn<'_, '_> {
    /// Feeds tokens the model did not choose, in pieces the context can take.
    fn force(&mut self, ids: &[u32]) -> Result<(), AgentError> {
        for piece in ids.chunks((self.agent.config.block_size / 2).max(1)) {
            self.decoder.feed(piece)?;
        }
        if self.agent.record_actions {
            self.actions.extend(std::iter::repeat_n(None, ids.len()));
        }
        Ok(())
    }

    fn choose(&mut self, allowed: &[u32]) -> Result<u32, AgentError> {
        self.generated += 1;
        let token = self
            .decoder
            .next_token(&self.agent.decoding, Some(allowed))?;
        if self.agent.record_actions {
            let action = (allowed.len() > 1).then(|| self.allowed_set(allowed));
            self.actions.push(action);
        }
        Ok(token)
    }

    /// `allowed` as a set, shared with the previous action's when they are equal.
    fn allowed_set(&mut self, allowed: &[u32]) -> Arc<TokenSet> {
        match &self.last_set {
            Some((ids, set)) if ids.as_slice() == allowed => set.clone(),
            _ => {
                let set = Arc::new(TokenSet::new(allowed, self.agent.config.vocab_size));
                self.last_set = Some((allowed.to_vec(), set.clone()));
                set
            }
        }
    }

    /// Whether the model gives answering at least [`Agent::press_confidence`] of the
    /// probability among thinking, answering and calling, at the next position.
    fn sure_to_answer(&self) -> bool {
        let (Some(share), Some([think, answer, call])) =
            (self.agent.press_confidence, self.opener_logits())
        else {
            return false;
        };
        let top = think.max(answer).max(call);
        let [think, answer, call] = [think, answer, call].map(|l| (l - top).exp());
        answer / (think + answer + call) >= share
    }

    /// Whether the model's likeliest opener at the next position is a think.
    fn about_to_think(&self) -> bool {
        self.opener_logits()
            .is_some_and(|[think, answer, call]| think > answer && think > call)
    }

    /// The logits of thinking, answering and calling at the next position.
    fn opener_logits(&self) -> Option<[f32; 3]> {
        let logits = self.decoder.next_logits()?;
        Some([Special::Think, Special::Answer, Special::Call].map(|s| logits[s.id() as usize]))
    }

    fn over_limit(&self) -> Option<Outcome> {
        let limits = &self.agent.limits;
        if self.started.elapsed() >= limits.timeout {
            Some(Outcome::TimeLimit)
        } else if self.generated >= limits.max_tokens {
            Some(Outcome::TokenLimit)
        } else {
            None
        }
    }

    /// The loop's own answer when the run ends without the model's, in the request's
    /// language; the experts' errors are quoted as they came (in English), each cut short.
    fn honest_failure(&self, outcome: Outcome) -> String {
        let mut errors: Vec<String> = Vec::new();
        for error in self.steps.iter().filter_map(|s| s.error.as_deref()) {
            let error = crate::clip(error, 200);
            if !errors.contains(&error) {
                errors.push(error);
            }
        }
        let errors = errors.join("; ");
        match (outcome, self.chinese) {
            (Outcome::ExpertsFailed, false) => {
                format!("I could not answer this: every expert call failed ({errors}).")
            }
            (Outcome::ExpertsFailed, true) => format!("无法回答：专家调用都失败了（{errors}）。"),
            (Outcome::TimeLimit, false) => {
                "I could not finish in the time allowed, so I have no answer.".into()
            }
            (Outcome::TimeLimit, true) => "未能在限定时间内完成，没有答案。".into(),
            (Outcome::TokenLimit, false) => {
                "I could not finish within my step budget, so I have no answer.".into()
            }
            (Outcome::TokenLimit, true) => "未能在步骤预算内完成，没有答案。".into(),
            (Outcome::Answered | Outcome::Replaced, _) => String::new(),
        }
    }

    async fn steps_until_answer(&mut self) -> Result<(String, Outcome), AgentError> {
        loop {
            if let Some(outcome) = self.over_limit() {
                return Ok((self.honest_failure(outcome), outcome));
            }
            let mut openers = vec![Special::Think.id(), Special::Answer.id()];
            let mut pressed = false;
            if self.calls < self.calls_allowed {
                openers.push(Special::Call.id());
                // A sure model is asked first: `press` counts as pressing.
                if self.agent.grounded && !self.sure_to_answer() && self.coverage.due() {
                    if self.about_to_think() {
                        // A note before the call (a running total copies each event before
                        // its call): the model may think, not answer; the press comes next.
                        openers = vec![Special::Think.id()];
                    } else {
                        // A quantity of the request is still unused: the calculation goes on.
                        self.coverage.press();
                        openers = vec![Special::Call.id()];
                        pressed = true;
                    }
                }
            } else if self.calls > 0 && self.last_is_result() {
                // Out of calls: the model must answer from what it has.
                openers = vec![Special::Answer.id()];
            }
            if self.searches_now() {
                // The request asked for papers: its first step is that search, which no
                // calculation presses (`expert_name` offers only the search).
                openers = vec![Special::Call.id()];
                pressed = false;
            }
            let opener = self.choose(&openers)?;
            let started = Instant::now();
            let before = self.generated;
            match Special::from_id(opener) {
                Some(Special::Think) => {
                    // Reasoning plans on the request's quantities and the results so far,
                    // held as a calculator's input is, not on numbers of its own.
                    let hold = self.input_hold(Grounded::Numbers);
                    let words = &self.agent.text_tokens;
                    let text = self.free_text(Special::ThinkEnd, hold, words)?;
                    let text = self.filled(text);
                    self.record(Step::Think { text }, before, started, None);
                }
                Some(Special::Answer) if self.calls > 0 && self.failed_calls() == self.calls => {
                    let text = self.honest_failure(Outcome::ExpertsFailed);
                    let mut forced = self.agent.tokenizer.encode(&text)?;
                    forced.extend([Special::AnswerEnd.id(), Special::EndOfTurn.id()]);
                    self.force(&forced)?;
                    self.record(Step::Answer { text: text.clone() }, before, started, None);
                    return Ok((text, Outcome::ExpertsFailed));
                }
                Some(Special::Answer) => {
                    let hold = self.agent.grounded.then(|| self.answer_hold());
                    let words = if self.chinese || !self.agent.grounded {
                        &self.agent.text_tokens
                    } else {
                        &self.agent.western_tokens
                    };
                    let text = self.free_text(Special::AnswerEnd, hold, words)?;
                    let text = self.filled(text);
                    self.force(&[Special::EndOfTurn.id()])?;
                    self.record(Step::Answer { text: text.clone() }, before, started, None);
                    return Ok((text, Outcome::Answered));
                }
                _ => {
                    self.call(before, started, pressed).await?;
                }
            }
        }
    }

    /// What the model wrote, with its number slots filled in (as it is without slots).
    fn filled(&self, text: String) -> String {
        match &self.slots {
            Some(slots) => slots.decode(&text),
            None => text,
        }
    }

    /// Whether the next step must be the search the request asked for.
    fn searches_now(&self) -> bool {
        self.search_first && self.calls == 0 && self.calls_allowed > 0
    }

    /// This turn's calls that failed (their results carry the error).
    fn failed_calls(&self) -> usize {
        self.steps.iter().filter(|s| s.error.is_some()).count()
    }

    fn last_is_result(&self) -> bool {
        matches!(
            self.steps.last(),
            Some(TracedStep {
                step: Step::Result { .. },
                ..
            })
        )
    }

    fn record(&mut self, step: Step, before: usize, started: Instant, error: Option<String>) {
        self.push(TracedStep {
            step,
            tokens: self.generated - before,
            ms: started.elapsed().as_secs_f64() * 1e3,
            error,
            pressed: false,
        });
    }

    /// A finished step: into the trace, and to whoever watches the run.
    fn push(&mut self, step: TracedStep) {
        if let Some(watch) = &self.agent.on_step {
            watch(&step);
        }
        self.steps.push(step);
    }

    /// Tokens of `words` until the model writes `end` or the step's budget is spent (then
    /// `end` is forced); with a hold, only what it allows.
    fn free_text(
        &mut self,
        end: Special,
        mut hold: Option<Hold>,
        words: &[u32],
    ) -> Result<String, AgentError> {
        // Free text allows the same tokens at every step; only a hold narrows them.
        let mut free = words.to_vec();
        free.push(end.id());
        let mut ids = Vec::new();
        for _ in 0..self.agent.limits.max_step_tokens {
            if self.over_limit().is_some() {
                break;
            }
            let held: Vec<u32>;
            let allowed = match &hold {
                None => &free,
                Some(hold) => {
                    held = free
                        .iter()
                        .copied()
                        .filter(|&id| {
                            if id == end.id() {
                                hold.can_end()
                            } else {
                                hold.allows(self.agent.vocabulary.bytes(id))
                            }
                        })
                        .collect();
                    &held
                }
            };
            let token = self.choose(allowed)?;
            if token == end.id() {
                return Ok(self.agent.tokenizer.decode(&ids)?);
            }
            if let Some(hold) = &mut hold {
                hold.advance(self.agent.vocabulary.bytes(token));
            }
            ids.push(token);
        }
        self.force(&[end.id()])?;
        Ok(self.agent.tokenizer.decode(&ids)?)
    }

    /// A call: the name under constraint, then the input under the expert's format, then
    /// the expert runs and its result (or error) is forced into the sequence. A `pressed`
    /// call ([`crate::coverage`]) goes to an expert that calculates and brings in a number left.
    async fn call(
        &mut self,
        before: usize,
        started: Instant,
        pressed: bool,
    ) -> Result<(), AgentError> {
        let expert = self.expert_name(pressed)?;
        let (input, finished) = self.input(&expert, pressed)?;
        let input = self.filled(input);
        self.push(TracedStep {
            step: Step::Call {
                expert: expert.clone(),
                input: input.clone(),
            },
            tokens: self.generated - before,
            ms: started.elapsed().as_secs_f64() * 1e3,
            error: None,
            pressed,
        });
        self.calls += 1;
        let started = Instant::now();
        let budget = self.agent.limits.expert_timeout.min(
            self.agent
                .limits
                .timeout
                .saturating_sub(self.started.elapsed()),
        );
        let ctx = Context::with_timeout(budget);
        let fusing = expert == crate::demos::LITERATURE && self.agent.fuse_request;
        // A query the model took from a sentence that asks for nothing finds papers about
        // that sentence: the whole request is searched instead, and shown alone.
        let framing = fusing && crate::papers::from_framing(&input, &self.request);
        let query = if framing { &self.request } else { &input };
        let answer = if finished {
            self.agent
                .registry
                .call(&expert, query, &ctx)
                .await
                .map_err(|e| e.to_string())
        } else if let Some(outcome) = self.over_limit() {
            // The turn's bound, not the step's, cut the input short.
            let bound = match outcome {
                Outcome::TimeLimit => "time",
                _ => "token budget",
            };
            Err(format!(
                "{expert}: the model did not finish its input before the turn's {bound} ran out"
            ))
        } else {
            Err(format!(
                "{expert}: the model did not finish its input within {} tokens",
                self.agent.limits.max_step_tokens
            ))
        };
        let (mut text, error) = match answer {
            Ok(seen) => (seen.text, None),
            Err(e) => (format!("{ERROR_PREFIX}{e}"), Some(e)),
        };
        // A query of the request's own terms would find the same papers: no second search.
        let terms = miracle_experts::search::analyzer::terms;
        if error.is_none() && fusing && !framing && terms(&input) != terms(&self.request) {
            let whole = self.agent.registry.call(&expert, &self.request, &ctx).await;
            if let Ok(whole) = whole {
                text = crate::papers::fuse(&text, &whole.text);
            }
        }
        if self.calculators.contains(&expert.as_str()) {
            let result = error.is_none().then_some(text.as_str());
            self.coverage.called(&input, result);
        }
        if error.is_none() {
            // An error is not a result: its numbers (an operand count, a limit) are no
            // facts about the request, so neither a later call nor the answer may use them.
            // A search's numbers are paper ids and titles' figures, which an answer cites
            // but no calculation takes as operands.
            if expert != crate::demos::LITERATURE {
                self.grounding.read(&text);
            }
            self.results.read(&text);
        }
        // A slot model is shown the result in slots; the trace keeps its digits.
        let shown = (self.slots.as_mut()).map(|slots| slots.result(&expert, &text));
        let mut forced = vec![Special::Result.id()];
        forced.extend(
            self.agent
                .tokenizer
                .encode(shown.as_deref().unwrap_or(&text))?,
        );
        forced.push(Special::ResultEnd.id());
        self.force(&forced)?;
        self.record(Step::Result { text }, self.generated, started, error);
        Ok(())
    }

    fn expert_name(&mut self, pressed: bool) -> Result<String, AgentError> {
        let names = if self.searches_now() {
            vec![crate::demos::LITERATURE]
        } else if pressed {
            self.calculators.clone()
        } else if self.grounding.has_numbers() {
            self.names.clone()
        } else {
            // A calculation needs a quantity: without one in the conversation, no
            // calculator is offered (its grammar could only be finished with pi or e).
            (self.names.iter().copied())
                .filter(|name| !self.calculators.contains(name))
                .collect()
        };
        let mut written = Vec::new();
        loop {
            let allowed = self.agent.vocabulary.name_tokens(&written, &names);
            let token = self.choose(&allowed)?;
            written.extend_from_slice(self.agent.tokenizer.bytes_of(token)?);
            if written.ends_with(b"\n") {
                written.pop();
                return Ok(String::from_utf8_lossy(&written).into_owned());
            }
        }
    }

    /// The input and whether the model closed it itself with a valid input.
    fn input(&mut self, expert: &str, pressed: bool) -> Result<(String, bool), AgentError> {
        let format = self
            .agent
            .registry
            .get(expert)
            .expect("the name was constrained to registered experts")
            .input_format()
            .clone();
        // A model that reads number slots writes `N0 * N1`, which the expert's alphabet and
        // grammar (digits, lowercase names) refuse: its input is written freely and checked
        // whole, filled in, before the call may close. Slots under the grammar are not built.
        let slots = self.slots.clone();
        let mut base = match &slots {
            Some(_) => self.agent.text_tokens.clone(),
            None => self.agent.vocabulary.input_tokens(&format),
        };
        // A pressed call's name was held to the calculators (`expert_name`).
        let carry = pressed.then(|| self.coverage.carry());
        let mut hold = match carry {
            Some(_) => {
                // Carrying a calculation on is arithmetic on the numbers the carry holds:
                // no words, which the model would otherwise spell out when the number it
                // wants is not allowed.
                let vocabulary = &self.agent.vocabulary;
                base.retain(|&id| vocabulary.bytes(id).iter().all(|b| ARITHMETIC.contains(b)));
                None
            }
            None => self.input_hold(format.grounded),
        };
        // Under the expert's grammar, every token keeps the input completable, and the call
        // closes only on a whole one: a malformed call cannot be written.
        let mut syntax = match &slots {
            Some(_) => None,
            None => format.syntax.start(),
        };
        let agent = self.agent;
        let trie = syntax.as_ref().map(|_| Trie::of(&base, &agent.vocabulary));
        let mut ids: Vec<u32> = Vec::new();
        let mut bytes = 0usize;
        // The input so far, for the carry (arithmetic is ASCII, so whole characters).
        let mut written = String::new();
        let close =
            |ids: &[u32], tokenizer: &Tokenizer, written: &str, syntax: &Option<Grammar>| {
                let carried = carry.as_ref().is_none_or(|c| c.can_close(written));
                carried
                    && syntax.as_ref().is_none_or(Grammar::complete)
                    && tokenizer.decode(ids).is_ok_and(|text| {
                        let text = match &slots {
                            Some(slots) => slots.decode(&text),
                            None => text,
                        };
                        format.check(&text).is_ok()
                    })
            };
        for _ in 0..self.agent.limits.max_step_tokens {
            if self.over_limit().is_some() {
                break;
            }
            let admitted = (syntax.as_ref())
                .zip(trie.as_ref())
                .map(|(s, trie)| trie.admitted(s, agent.vocabulary.size()));
            let mut allowed: Vec<u32> = base
                .iter()
                .copied()
                .filter(|&id| bytes + self.agent.vocabulary.len_of(id) <= format.max_bytes)
                .filter(|&id| {
                    hold.as_ref()
                        .is_none_or(|h| h.allows(self.agent.vocabulary.bytes(id)))
                })
                .filter(|&id| admitted.as_ref().is_none_or(|a| a[id as usize]))
                .filter(|&id| {
                    carry.as_ref().is_none_or(|c| {
                        let token = String::from_utf8_lossy(self.agent.vocabulary.bytes(id));
                        c.allows(&format!("{written}{token}"))
                    })
                })
                .collect();
            if close(&ids, self.agent.tokenizer, &written, &syntax)
                && hold.as_ref().is_none_or(Hold::can_end)
            {
                allowed.push(Special::CallEnd.id());
            }
            if allowed.is_empty() {
                break;
            }
            let token = self.choose(&allowed)?;
            if token == Special::CallEnd.id() {
                return Ok((self.agent.tokenizer.decode(&ids)?, true));
            }
            bytes += self.agent.vocabulary.len_of(token);
            if let Some(hold) = &mut hold {
                hold.advance(self.agent.vocabulary.bytes(token));
            }
            if let Some(prefix) = &mut syntax
                && let Ok(text) = std::str::from_utf8(self.agent.vocabulary.bytes(token))
                && let Some(next) = prefix.after(text)
            {
                *prefix = next;
            }
            if carry.is_some() {
                written.push_str(&String::from_utf8_lossy(self.agent.vocabulary.bytes(token)));
            }
            ids.push(token);
        }
        // Out of budget: the call is closed as it stands. It runs only if what was written
        // is a valid input (with no number or quote left half written); otherwise the
        // model is told it did not finish.
        self.force(&[Special::CallEnd.id()])?;
        let text = self.agent.tokenizer.decode(&ids)?;
        let valid = format.check(&text).is_ok()
            && syntax.as_ref().is_none_or(Grammar::complete)
            && hold.as_ref().is_none_or(Hold::can_end)
            && carry.as_ref().is_none_or(|c| c.can_close(&written));
        Ok((text, valid))
    }
}

impl Turn<'_, '_> {
    /// The numbers an answer may contain: after expert calls, those of their results (an
    /// answer reports what the experts found); without calls, the conversation's.
    fn answer_hold(&self) -> Hold {
        Hold::numbers(if self.calls > 0 {
            self.results.clone()
        } else {
            self.grounding.clone()
        })
    }

    /// How an input is held, as its format asks.
    fn input_hold(&self, grounded: Grounded) -> Option<Hold> {
        if !self.agent.grounded {
            return None;
        }
        match grounded {
            Grounded::No => None,
            Grounded::Numbers => Some(Hold::numbers(self.grounding.clone())),
            Grounded::Quote => Some(Hold::Quote(Quote::of(&self.quotable))),
        }
    }
}

/// The tokens an input may be written with, as a trie of their characters. A grammar reads
/// one character at a time, so a prefix it refuses rules out every token under it, and the
/// tokens that share a prefix share its reading: a step reads each admitted prefix once.
struct Trie {
    /// Node 0 is the root; each node lists its children and the tokens that end there.
    nodes: Vec<TrieNode>,
}

#[derive(Default)]
struct TrieNode {
    children: Vec<(char, u32)>,
    tokens: Vec<u32>,
}

impl Trie {
    fn of(tokens: &[u32], vocabulary: &Vocabulary) -> Self {
        let mut nodes = vec![TrieNode::default()];
        for &id in tokens {
            let Ok(text) = std::str::from_utf8(vocabulary.bytes(id)) else {
                continue; // part of a character: no grammar admits it
            };
            let mut at = 0usize;
            for c in text.chars() {
                at = match nodes[at].children.iter().find(|(k, _)| *k == c) {
                    Some(&(_, child)) => child as usize,
                    None => {
                        nodes.push(TrieNode::default());
                        let child = nodes.len() - 1;
                        nodes[at].children.push((c, child as u32));
                        child
                    }
                };
            }
            nodes[at].tokens.push(id);
        }
        Trie { nodes }
    }

    /// The tokens the grammar admits next, by id (`size` ids in all).
    fn admitted(&self, grammar: &Grammar, size: usize) -> Vec<bool> {
        let mut admitted = vec![false; size];
        let mut stack = vec![(0usize, grammar.clone())];
        while let Some((at, state)) = stack.pop() {
            let node = &self.nodes[at];
            for &id in &node.tokens {
                admitted[id as usize] = true;
            }
            for &(c, child) in &node.children {
                if let Some(next) = state.after(c.encode_utf8(&mut [0; 4])) {
                    stack.push((child as usize, next));
                }
            }
        }
        admitted
    }
}

/// Whether an expert with this input format calculates: its input is held to the
/// conversation's numbers and the format takes arithmetic (the calculator). Coverage counts
/// its calls, and presses for them.
fn calculates(format: &InputFormat) -> bool {
    format.grounded == Grounded::Numbers && format.check("(1 + 2) * 3").is_ok()
}

/// How an expert's error reads in the token stream, where the model sees it as the result.
pub(crate) const ERROR_PREFIX: &str = "error: ";

/// The numbers of a conversation before the model's turn: the system's and user's words,
/// and the results of earlier turns.
fn conversation_numbers(dialogue: &Dialogue) -> Grounding {
    let mut grounding = Grounding::default();
    if let Some(system) = &dialogue.system {
        grounding.read(system);
    }
    for exchange in &dialogue.exchanges {
        grounding.read_request(&exchange.user);
        // As within a turn: a search's numbers (paper ids) are no operands.
        let mut searched = false;
        for step in &exchange.steps {
            match step {
                Step::Call { expert, .. } => searched = expert == crate::demos::LITERATURE,
                Step::Result { text } if !searched && !text.starts_with(ERROR_PREFIX) => {
                    grounding.read(text);
                }
                _ => {}
            }
        }
    }
    grounding
}
