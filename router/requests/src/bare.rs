//! Arithmetic as people type it: one or two operations, each written with one of many
//! operation words or symbols ("x", "×", "times", "to the power of", "squared", "倍",
//! "乘以"), inside a question frame. Each operation is one calculator call.

use miracle_router::demos::Lang;

use crate::calc::{Calculation, Op, Operand};
use crate::choose::{self, Chooser, Forms, Pool};
use crate::story::capitalise;

/// One way to write `a op b`: a pattern over `{a}` and `{b}`, and for a power, the
/// exponent it implies ("squared": 2).
#[derive(Debug, Clone, Copy)]
pub struct Form {
    pub pattern: &'static str,
    pub exponent: Option<i128>,
    /// An instruction ("add {b} to {a}") rather than an expression ("{a} plus {b}"): it
    /// goes in an instruction's frame ("If I add 15 to 27, what do I get?").
    pub verb: bool,
}

impl Forms for Form {
    /// The pattern's words between its slots: "{a} cubed" → "cubed".
    fn forms(&self) -> Vec<&'static str> {
        self.pattern.forms()
    }

    fn label(&self) -> &'static str {
        self.pattern
    }
}

const fn f(pattern: &'static str) -> Form {
    Form {
        pattern,
        exponent: None,
        verb: false,
    }
}
const fn e(pattern: &'static str, exponent: i128) -> Form {
    Form {
        pattern,
        exponent: Some(exponent),
        verb: false,
    }
}
const fn v(pattern: &'static str) -> Form {
    Form {
        pattern,
        exponent: None,
        verb: true,
    }
}

fn forms(lang: Lang, op: Op) -> &'static Pool<Form> {
    match (lang, op) {
        (Lang::En, Op::Add) => &EN_ADD,
        (Lang::En, Op::Sub) => &EN_SUB,
        (Lang::En, Op::Mul) => &EN_MUL,
        (Lang::En, Op::Div) => &EN_DIV,
        (Lang::En, Op::Pow) => &EN_POW,
        (Lang::Zh, Op::Add) => &ZH_ADD,
        (Lang::Zh, Op::Sub) => &ZH_SUB,
        (Lang::Zh, Op::Mul) => &ZH_MUL,
        (Lang::Zh, Op::Div) => &ZH_DIV,
        (Lang::Zh, Op::Pow) => &ZH_POW,
    }
}

const EN_ADD: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a} plus {b}"),
        f("{a} + {b}"),
        f("{a}+{b}"),
        f("the sum of {a} and {b}"),
        f("{a} and {b} added together"),
        v("add {b} to {a}"),
        v("add {a} and {b}"),
    ],
    held: &[],
};
const EN_SUB: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a} minus {b}"),
        f("{a} - {b}"),
        f("{a}-{b}"),
        f("{a} take away {b}"),
        f("{b} subtracted from {a}"),
        v("take {b} away from {a}"),
        v("subtract {b} from {a}"),
    ],
    held: &[f("{b} deducted from {a}")],
};
const EN_MUL: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a} times {b}"),
        f("{a} x {b}"),
        f("{a} × {b}"),
        f("{a}*{b}"),
        f("{a} * {b}"),
        f("{a} multiplied by {b}"),
        v("multiply {a} by {b}"),
    ],
    held: &[f("the product of {a} and {b}")],
};
const EN_DIV: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a} divided by {b}"),
        f("{a} / {b}"),
        f("{a} ÷ {b}"),
        f("{a}/{b}"),
        v("divide {a} by {b}"),
        v("split {a} into {b} equal parts"),
    ],
    held: &[f("{a} over {b}")],
};
const EN_POW: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a} to the power of {b}"),
        f("{a}^{b}"),
        f("{a} ^ {b}"),
        e("{a} squared", 2),
    ],
    held: &[e("{a} cubed", 3), f("{a} raised to {b}")],
};
const ZH_ADD: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a}加{b}"),
        f("{a}加上{b}"),
        f("{a}+{b}"),
        f("{a}与{b}的和"),
        v("把{a}和{b}加起来"),
        v("给{a}加上{b}"),
    ],
    held: &[],
};
const ZH_SUB: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a}减{b}"),
        f("{a}减去{b}"),
        f("{a}-{b}"),
        f("{a}与{b}的差"),
        v("从{a}里减去{b}"),
    ],
    held: &[f("{a}扣掉{b}")],
};
const ZH_MUL: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a}乘{b}"),
        f("{a}乘以{b}"),
        f("{a}×{b}"),
        f("{a}的{b}倍"),
        f("{a}与{b}的积"),
        v("把{a}乘以{b}"),
    ],
    held: &[f("{a}乘上{b}")],
};
const ZH_DIV: Pool<Form> = Pool {
    name: "operation",
    train: &[
        f("{a}除以{b}"),
        f("{a}÷{b}"),
        f("{a}/{b}"),
        v("把{a}平均分成{b}份"),
    ],
    held: &[],
};
const ZH_POW: Pool<Form> = Pool {
    name: "operation",
    train: &[f("{a}的{b}次方"), e("{a}的平方", 2), f("{a}^{b}")],
    held: &[e("{a}的立方", 3)],
};

/// Question frames around the expression `{e}`.
const EN_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "What is {e}?",
        "What's {e}?",
        "Calculate {e}.",
        "How much is {e}?",
        "Can you work out {e}?",
        "{e} = ?",
        "{e}?",
        "Tell me {e}, please.",
        "Quick one: {e}",
        "I need {e}.",
    ],
    held: &["I wonder what {e} comes to."],
};
const ZH_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "{e}等于多少？",
        "{e}是多少？",
        "算一下{e}。",
        "{e}=？",
        "请计算{e}。",
        "{e}得几？",
        "帮我算算{e}",
    ],
    held: &["{e}的结果是？"],
};

/// Frames around an instruction `{e}` ("add 15 to 27").
const EN_VERB_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "If I {e}, what do I get?",
        "What do I get if I {e}?",
        "Please {e}.",
        "Can you {e}?",
        "{e}, please.",
        "{e}. What is the result?",
    ],
    held: &["Suppose you {e}: what comes out?"],
};
const ZH_VERB_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "如果{e}，得多少？",
        "请{e}。",
        "{e}，结果是多少？",
        "帮我{e}，等于几？",
    ],
    held: &["假如{e}，会得到什么数？"],
};

/// How the second operation goes on from the first's result, in words.
fn then(lang: Lang, op: Op, c: &str) -> String {
    match (lang, op) {
        (Lang::En, Op::Add) => format!("then add {c}"),
        (Lang::En, Op::Sub) => format!("then subtract {c}"),
        (Lang::En, Op::Mul) => format!("then multiply by {c}"),
        (Lang::En, Op::Div) => format!("then divide by {c}"),
        (Lang::En, Op::Pow) => format!("then raise it to the power {c}"),
        (Lang::Zh, Op::Add) => format!("再加{c}"),
        (Lang::Zh, Op::Sub) => format!("再减去{c}"),
        (Lang::Zh, Op::Mul) => format!("再乘以{c}"),
        (Lang::Zh, Op::Div) => format!("再除以{c}"),
        (Lang::Zh, Op::Pow) => format!("再求它的{c}次方"),
    }
}

/// An arithmetic request's meaning: its calls.
pub fn draw(ch: &mut Chooser) -> Calculation {
    loop {
        let mut calc = Calculation::default();
        let first = operation(ch, &mut calc, None);
        if ch.chance(0.35) {
            let op = *ch.pick(&[Op::Add, Op::Sub, Op::Mul, Op::Div]);
            let c = match op {
                Op::Div => divisor_of(ch, calc.value_of(first)),
                _ => Some(ch.number(3) as i128),
            };
            if let Some(c) = c {
                calc.op(first, op, Operand::Given(c));
            }
        }
        if calc.answer().is_some_and(|v| v.abs() < 1_000_000_000_000) {
            return calc;
        }
    }
}

/// One operation over fresh quantities.
fn operation(ch: &mut Chooser, calc: &mut Calculation, op: Option<Op>) -> Operand {
    let op = op.unwrap_or(*ch.pick(&[Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow]));
    let (a, b) = match op {
        Op::Div => {
            let b = ch.number(2) as i128;
            (b * ch.number(3) as i128, b)
        }
        Op::Pow => (ch.int(2, 30) as i128, ch.int(2, 6) as i128),
        // Times tables and small sums are what people ask most ("6 x 7"); without them
        // small operands are seen mostly in powers, and "6 x 7" reads as one.
        _ if ch.chance(0.3) => (ch.int(2, 12) as i128, ch.int(2, 12) as i128),
        _ => (ch.number(4) as i128, ch.number(4) as i128),
    };
    calc.op(Operand::Given(a), op, Operand::Given(b))
        .expect("the quantities are drawn so that the result is whole")
}

fn divisor_of(ch: &mut Chooser, n: i128) -> Option<i128> {
    let divisors: Vec<i128> = (2..=12).filter(|d| n % d == 0).collect();
    (!divisors.is_empty()).then(|| *ch.pick(&divisors))
}

/// The request for `calc`, in `lang`. A power form that implies its exponent ("squared")
/// may change the meaning's exponent, so the meaning is returned as told.
pub fn tell(ch: &mut Chooser, calc: &Calculation, lang: Lang) -> (String, Calculation) {
    ch.feature("schema:bare");
    let first = &calc.calls[0];
    let form = ch.from(forms(lang, first.op));
    let (a, mut b) = (calc.value_of(first.left), calc.value_of(first.right));
    if let Some(exponent) = form.exponent {
        b = exponent;
    }
    let mut told = Calculation::default();
    told.op(Operand::Given(a), first.op, Operand::Given(b))
        .expect("a small power");
    let mut expression = form
        .pattern
        .replace("{a}", &a.to_string())
        .replace("{b}", &b.to_string());
    if let Some(second) = calc.calls.get(1) {
        let c = calc.value_of(second.right);
        // A changed exponent may leave the division inexact: the request stops at one step.
        if told
            .op(Operand::Result(0), second.op, Operand::Given(c))
            .is_some()
        {
            let separator = if lang == Lang::En { ", " } else { "，" };
            let more = then(lang, second.op, &c.to_string());
            expression = format!("{expression}{separator}{more}");
        }
    }
    let frame = ch.from(match (lang, form.verb) {
        (Lang::En, false) => &EN_FRAMES,
        (Lang::Zh, false) => &ZH_FRAMES,
        (Lang::En, true) => &EN_VERB_FRAMES,
        (Lang::Zh, true) => &ZH_VERB_FRAMES,
    });
    (capitalise(&frame.replace("{e}", &expression)), told)
}

pub fn held_forms(lang: Lang) -> Vec<&'static str> {
    let ops = [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow];
    let pools: Vec<&Pool<Form>> = ops.iter().map(|op| forms(lang, *op)).collect();
    let frames = match lang {
        Lang::En => [&EN_FRAMES, &EN_VERB_FRAMES],
        Lang::Zh => [&ZH_FRAMES, &ZH_VERB_FRAMES],
    };
    [choose::held_forms(&pools), choose::held_forms(&frames)].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_that_implies_its_exponent_sets_it() {
        let mut ch = Chooser::new(1, miracle_router::demos::Split::HeldOut);
        for _ in 0..200 {
            let calc = draw(&mut ch);
            let (text, told) = tell(&mut ch, &calc, Lang::En);
            if text.contains("cubed") {
                assert_eq!(told.input(0).split(' ').nth(2), Some("3"), "{text}");
                return;
            }
        }
        panic!("no cubed form in 200 held-out requests");
    }
}
