//! A calculation's meaning: calls over the request's quantities and earlier results, in
//! the order a person would work them out, with the value each must return. The chain of
//! thought and the calls are written from it, so they cannot disagree with the request.

use miracle_router::demos::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Pow => "^",
        }
    }

    /// `a op b`, when it is a whole number (division exact, powers small).
    pub fn apply(self, a: i128, b: i128) -> Option<i128> {
        match self {
            Op::Add => a.checked_add(b),
            Op::Sub => a.checked_sub(b),
            Op::Mul => a.checked_mul(b),
            Op::Div => (b != 0 && a % b == 0).then(|| a / b),
            Op::Pow => a.checked_pow(u32::try_from(b).ok()?),
        }
    }
}

/// One operand of a call: a quantity the request gives, the result of an earlier call, or
/// groups the request gives (`k` of `m`), written `k * m` inside a running total's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    Given(i128),
    Result(usize),
    Groups(i128, i128),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub left: Operand,
    pub op: Op,
    pub right: Operand,
    /// What the calculator must return.
    pub value: i128,
}

/// The calls of one request, built in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calculation {
    pub calls: Vec<Call>,
    /// Worked as a running total, one call per event of a story ("133 - 5 * 7", then
    /// "98 - 14"), with no plan written first: each call reads one sentence and the result
    /// before it, where a plan must read the whole story before the first call.
    pub running: bool,
    /// Notes written as a think before each call, one per call when there are any: a
    /// running total's events copied from the story ("He donates four boxes with 3
    /// kites in each.", then `60 - 4 * 3`), so that where the working is in the story is
    /// written down next to the call that reads it.
    pub notes: Vec<String>,
}

impl Calculation {
    pub fn value_of(&self, operand: Operand) -> i128 {
        match operand {
            Operand::Given(n) => n,
            Operand::Result(i) => self.calls[i].value,
            Operand::Groups(k, m) => k * m,
        }
    }

    /// An operand as the calculator reads it.
    fn written(&self, operand: Operand) -> String {
        match operand {
            Operand::Groups(k, m) => format!("{k} * {m}"),
            other => self.value_of(other).to_string(),
        }
    }

    /// Adds the call `left op right` and returns its result as an operand; `None` when the
    /// result is no whole number (the caller draws other quantities).
    pub fn op(&mut self, left: Operand, op: Op, right: Operand) -> Option<Operand> {
        let value = op.apply(self.value_of(left), self.value_of(right))?;
        self.calls.push(Call {
            left,
            op,
            right,
            value,
        });
        Some(Operand::Result(self.calls.len() - 1))
    }

    /// The answer: the last call's value.
    pub fn answer(&self) -> Option<i128> {
        self.calls.last().map(|c| c.value)
    }

    /// The note written before call `i`, if any.
    pub fn note(&self, i: usize) -> Option<&str> {
        self.notes.get(i).map(String::as_str)
    }

    /// The calculator's input for call `i`: numbers as digits, results filled in.
    pub fn input(&self, i: usize) -> String {
        let call = &self.calls[i];
        format!(
            "{} {} {}",
            self.written(call.left),
            call.op.symbol(),
            self.written(call.right)
        )
    }

    /// The plan, in the request's language, for a calculation of two calls or more:
    /// "Multiply 2 by 3, then add 5 to it." / "先算2乘3，再加上5。" It is written before any
    /// call, so it names the request's numbers only, never a result. A running total has
    /// none.
    pub fn plan(&self, lang: Lang) -> Option<String> {
        if self.calls.len() < 2 || self.running {
            return None;
        }
        let steps: Vec<String> = (0..self.calls.len())
            .map(|i| self.describe(i, lang))
            .collect();
        Some(match lang {
            Lang::En => {
                let mut text = steps.join(", then ");
                text[..1].make_ascii_uppercase();
                text + "."
            }
            Lang::Zh => format!("先算{}。", steps.join("，再")),
        })
    }

    fn describe(&self, i: usize, lang: Lang) -> String {
        let call = &self.calls[i];
        let (l, r) = (self.value_of(call.left), self.value_of(call.right));
        let earlier = |o: Operand| matches!(o, Operand::Result(_));
        match (lang, earlier(call.left), earlier(call.right)) {
            (Lang::En, true, false) => match call.op {
                Op::Add => format!("add {r}"),
                Op::Sub => format!("subtract {r}"),
                Op::Mul => format!("multiply by {r}"),
                Op::Div => format!("divide by {r}"),
                Op::Pow => format!("raise to the power {r}"),
            },
            (Lang::En, false, true) => match call.op {
                Op::Add => format!("add {l} to it"),
                Op::Sub => format!("subtract it from {l}"),
                Op::Mul => format!("multiply {l} by it"),
                Op::Div => format!("divide {l} by it"),
                Op::Pow => format!("raise {l} to it"),
            },
            (Lang::En, true, true) => match call.op {
                Op::Add => "add the two results".into(),
                Op::Sub => "subtract the second result from the first".into(),
                Op::Mul => "multiply the two results".into(),
                Op::Div => "divide the first result by the second".into(),
                Op::Pow => "raise the first result to the second".into(),
            },
            (Lang::En, false, false) => match call.op {
                Op::Add => format!("add {l} and {r}"),
                Op::Sub => format!("subtract {r} from {l}"),
                Op::Mul => format!("multiply {l} by {r}"),
                Op::Div => format!("divide {l} by {r}"),
                Op::Pow => format!("raise {l} to the power {r}"),
            },
            (Lang::Zh, true, false) => match call.op {
                Op::Add => format!("加{r}"),
                Op::Sub => format!("减{r}"),
                Op::Mul => format!("乘{r}"),
                Op::Div => format!("除以{r}"),
                Op::Pow => format!("求{r}次方"),
            },
            (Lang::Zh, false, true) => match call.op {
                Op::Add => format!("加上{l}"),
                Op::Sub => format!("用{l}减去它"),
                Op::Mul => format!("用{l}乘它"),
                Op::Div => format!("用{l}除以它"),
                Op::Pow => format!("求{l}的它次方"),
            },
            (Lang::Zh, true, true) => match call.op {
                Op::Add => "把两个结果相加".into(),
                Op::Sub => "用前一个结果减去后一个".into(),
                Op::Mul => "把两个结果相乘".into(),
                Op::Div => "用前一个结果除以后一个".into(),
                Op::Pow => "求前一个结果的后一个次方".into(),
            },
            (Lang::Zh, false, false) => match call.op {
                Op::Add => format!("{l}加{r}"),
                Op::Sub => format!("{l}减{r}"),
                Op::Mul => format!("{l}乘{r}"),
                Op::Div => format!("{l}除以{r}"),
                Op::Pow => format!("{l}的{r}次方"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_chain_results_and_the_plan_says_so() {
        let mut calc = Calculation::default();
        let bought = calc
            .op(Operand::Given(2), Op::Mul, Operand::Given(3))
            .unwrap();
        calc.op(Operand::Given(5), Op::Add, bought).unwrap();
        assert_eq!(calc.input(0), "2 * 3");
        assert_eq!(calc.input(1), "5 + 6");
        assert_eq!(calc.answer(), Some(11));
        assert_eq!(
            calc.plan(Lang::En).unwrap(),
            "Multiply 2 by 3, then add 5 to it."
        );
        assert_eq!(calc.plan(Lang::Zh).unwrap(), "先算2乘3，再加上5。");
    }

    #[test]
    fn a_running_total_writes_groups_inside_its_call_and_plans_nothing() {
        let mut calc = Calculation {
            running: true,
            ..Calculation::default()
        };
        let lent = calc
            .op(Operand::Given(133), Op::Sub, Operand::Groups(5, 7))
            .unwrap();
        calc.op(lent, Op::Sub, Operand::Given(14)).unwrap();
        assert_eq!(calc.input(0), "133 - 5 * 7");
        assert_eq!(calc.input(1), "98 - 14");
        assert_eq!(calc.answer(), Some(84));
        assert_eq!(calc.plan(Lang::En), None);
    }

    #[test]
    fn inexact_division_is_refused() {
        let mut calc = Calculation::default();
        assert!(
            calc.op(Operand::Given(7), Op::Div, Operand::Given(2))
                .is_none()
        );
        assert!(calc.calls.is_empty());
    }
}
