//! The steps behind the answers this service gave, so that a conversation sent back as
//! history (`/v1/ask`'s `history`, a chat front-end's messages: texts only) reaches the
//! model as it happened, with its expert calls and results.
//!
//! Every earlier turn the model was trained on carries its steps; a turn of bare text does
//! not, and the model then takes the conversation's numbers up again: "And add 9 to that?"
//! after "What is 17 * 23?" (answered 391) was calculated as `17 * 9` over `/v1/ask` and as
//! `391 + 9` in `miracle chat`, which keeps the steps. A turn this service did not answer
//! (another instance, a restart, an edited answer) stays bare text.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use miracle_router::agent::Trace;
use miracle_router::protocol::{Exchange, Step};

/// Turns remembered; the oldest is forgotten first.
const CAPACITY: usize = 1024;

/// The steps of recent answers, by the request and the answer text as the caller saw them.
#[derive(Default)]
pub struct Recent {
    turns: Mutex<Turns>,
}

#[derive(Default)]
struct Turns {
    steps: HashMap<(String, String), Vec<Step>>,
    order: VecDeque<(String, String)>,
}

impl Recent {
    /// Remembers that `request` was answered with `answer` (the text sent) by `steps`.
    pub fn remember(&self, request: &str, answer: &str, steps: Vec<Step>) {
        let key = (request.to_string(), answer.to_string());
        let mut turns = self.lock();
        if turns.steps.insert(key.clone(), steps).is_none() {
            turns.order.push_back(key);
        }
        while turns.order.len() > CAPACITY {
            if let Some(oldest) = turns.order.pop_front() {
                turns.steps.remove(&oldest);
            }
        }
    }

    /// Remembers the steps of `trace`, which answered `request` with `answer` (the text
    /// sent, which a stop sequence may have cut).
    pub fn remember_trace(&self, request: &str, answer: &str, trace: &Trace) {
        let steps = trace.steps.iter().map(|s| s.step.clone()).collect();
        self.remember(request, answer, steps);
    }

    /// An earlier turn as the agent's history: with its steps when this service gave that
    /// answer to that request, as bare text otherwise.
    pub fn exchange(&self, user: String, answer: String) -> Exchange {
        let steps = self
            .lock()
            .steps
            .get(&(user.clone(), answer.clone()))
            .cloned();
        match steps {
            Some(steps) => Exchange { user, steps },
            None => super::api::exchange(user, answer),
        }
    }

    /// The turns, even if a thread panicked while holding them (they stay consistent: each
    /// change is one insert or one removal).
    fn lock(&self) -> std::sync::MutexGuard<'_, Turns> {
        self.turns.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(answer: &str) -> Vec<Step> {
        vec![
            Step::Call {
                expert: "calculator".into(),
                input: "17 * 23".into(),
            },
            Step::Result { text: "391".into() },
            Step::Answer {
                text: answer.into(),
            },
        ]
    }

    #[test]
    fn an_answer_given_comes_back_with_its_steps_and_others_as_text() {
        let recent = Recent::default();
        recent.remember(
            "What is 17 * 23?",
            "The answer is 391.",
            steps("The answer is 391."),
        );
        let known = recent.exchange("What is 17 * 23?".into(), "The answer is 391.".into());
        assert_eq!(known.steps.len(), 3);
        // Another answer to the same request (edited by the caller) is only text.
        let edited = recent.exchange("What is 17 * 23?".into(), "It is 391.".into());
        assert_eq!(edited.steps.len(), 1);
        assert!(matches!(edited.steps[0], Step::Answer { .. }));
    }

    #[test]
    fn the_oldest_turns_are_forgotten_first() {
        let recent = Recent::default();
        for i in 0..CAPACITY + 5 {
            recent.remember(&format!("request {i}"), "answer", steps("answer"));
        }
        let first = recent.exchange("request 0".into(), "answer".into());
        assert_eq!(first.steps.len(), 1, "forgotten");
        let last = recent.exchange(format!("request {}", CAPACITY + 4), "answer".into());
        assert_eq!(last.steps.len(), 3);
        assert_eq!(recent.lock().steps.len(), CAPACITY);
    }
}
