//! Conversations of two turns: a request, then one that refers back to it ("what if she
//! had started with 40?", "now multiply that by 3", "and papers on …?") or closes it
//! ("thanks!"). The second turn's work comes from the first turn's meaning.

use miracle_router::demos::{Lang, Topics};

use crate::calc::{Calculation, Op, Operand};
use crate::choose::Chooser;
use crate::social::Act;
use crate::story::{ChangeAsk, Story};
use crate::{Turn, Work};

/// The second turn after `first`, when one can follow it; `None` draws another request.
pub fn follow(
    ch: &mut Chooser,
    first: &Turn,
    meaning: Option<&Story>,
    topics: &Topics,
    lang: Lang,
) -> Option<Turn> {
    if ch.chance(0.3) {
        let act = *ch.pick(&[Act::Thanks, Act::Farewell]);
        return Some(Turn {
            user: act.tell(ch, lang),
            work: Work::Reply(act),
        });
    }
    match (&first.work, meaning) {
        (Work::Calc(told), Some(Story::Change { start, events, ask }))
            if *ask == ChangeAsk::Now =>
        {
            let mut other = ch.number(3) as i128;
            if other == *start {
                other += 1;
            }
            let story = Story::Change {
                start: other,
                events: events.clone(),
                ask: *ask,
            };
            // Worked as the first turn was.
            let calc = story.calculation(told.running)?;
            // The stock must never go below nothing on the way.
            if calc.calls.iter().any(|c| c.value < 0) {
                return None;
            }
            let user = match (lang, ch.int(0, 2)) {
                (Lang::En, 0) => format!("What if it had started with {other}?"),
                (Lang::En, 1) => format!("And if the start were {other}?"),
                (Lang::En, _) => format!("Now the same with {other} at the beginning."),
                (Lang::Zh, 0) => format!("如果一开始有{other}个呢？"),
                (Lang::Zh, 1) => format!("那要是原来有{other}个呢？"),
                (Lang::Zh, _) => format!("换成一开始{other}个，再算一次。"),
            };
            Some(Turn {
                user,
                work: Work::Calc(calc),
            })
        }
        (Work::Calc(calc), None) => {
            let previous = calc.answer()?;
            let (op, c) = match ch.int(0, 2) {
                0 => (Op::Mul, ch.int(2, 12) as i128),
                1 => (Op::Add, ch.number(3) as i128),
                _ => (Op::Sub, ch.number(2) as i128),
            };
            let mut next = Calculation::default();
            next.op(Operand::Given(previous), op, Operand::Given(c))?;
            let user = match (lang, op) {
                (Lang::En, Op::Mul) => format!("Now multiply that by {c}."),
                (Lang::En, Op::Add) => format!("And add {c} to that?"),
                (Lang::En, _) => format!("Then take away {c}."),
                (Lang::Zh, Op::Mul) => format!("再乘以{c}呢？"),
                (Lang::Zh, Op::Add) => format!("再加上{c}是多少？"),
                (Lang::Zh, _) => format!("然后减去{c}。"),
            };
            Some(Turn {
                user,
                work: Work::Calc(next),
            })
        }
        (Work::Search(..), _) => {
            let topic = crate::literature::draw(ch, topics, lang);
            let text = crate::literature::query(topic);
            let user = match (lang, ch.int(0, 1)) {
                (Lang::En, 0) => format!("And papers on {text}?"),
                (Lang::En, _) => format!("What about {text}?"),
                (Lang::Zh, 0) => format!("那{text}方面的呢？"),
                (Lang::Zh, _) => format!("再查一下{text}。"),
            };
            Some(Turn {
                user,
                work: Work::Search(topic.id().to_string(), text.to_string()),
            })
        }
        _ => None,
    }
}
