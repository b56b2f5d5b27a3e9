//! Requests a program answers: a task's meaning (which computation, over which numbers) is
//! drawn, then asked for with one of several noun phrases inside a frame, in English or
//! Chinese. The program is written from the meaning, and the answer computed here must be
//! what the code expert prints.

use miracle_router::demos::Lang;

use crate::choose::{self, Chooser, Pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    PrimeSum(i64),
    PrimeCount(i64),
    Factorial(i64),
    Fibonacci(i64),
    Gcd(i64, i64),
    CountMultiples(i64, i64, i64),
    DigitSum(i64),
    SumSquares(i64),
    /// 1 + 2 + … + n, and below the sums over a range of its even numbers, its odd ones and
    /// its cubes: the series of [`crate::Plan::series`].
    RangeSum(i64),
    EvenSum(i64),
    OddSum(i64),
    CubeSum(i64),
}

impl Task {
    pub fn draw(ch: &mut Chooser) -> Task {
        if ch.option(ch.shares().series) {
            return match ch.int(0, 3) {
                0 => Task::RangeSum(ch.int(10, 10_000)),
                1 => Task::EvenSum(ch.int(10, 10_000)),
                2 => Task::OddSum(ch.int(10, 10_000)),
                _ => Task::CubeSum(ch.int(2, 1000)),
            };
        }
        match ch.int(0, 7) {
            0 => Task::PrimeSum(ch.int(10, 5000)),
            1 => Task::PrimeCount(ch.int(10, 5000)),
            2 => Task::Factorial(ch.int(2, 20)),
            3 => Task::Fibonacci(ch.int(3, 90)),
            4 => Task::Gcd(ch.int(10, 10000), ch.int(10, 10000)),
            5 => Task::CountMultiples(ch.int(10, 10000), ch.int(2, 9), ch.int(2, 13)),
            6 => Task::DigitSum(ch.int(1000, 999_999_999)),
            _ => Task::SumSquares(ch.int(2, 1000)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Task::PrimeSum(_) => "prime_sum",
            Task::PrimeCount(_) => "prime_count",
            Task::Factorial(_) => "factorial",
            Task::Fibonacci(_) => "fibonacci",
            Task::Gcd(..) => "gcd",
            Task::CountMultiples(..) => "count_multiples",
            Task::DigitSum(_) => "digit_sum",
            Task::SumSquares(_) => "sum_squares",
            Task::RangeSum(_) => "range_sum",
            Task::EvenSum(_) => "even_sum",
            Task::OddSum(_) => "odd_sum",
            Task::CubeSum(_) => "cube_sum",
        }
    }

    fn slots(self) -> [(&'static str, i64); 3] {
        match self {
            Task::PrimeSum(n)
            | Task::PrimeCount(n)
            | Task::Factorial(n)
            | Task::Fibonacci(n)
            | Task::DigitSum(n)
            | Task::SumSquares(n)
            | Task::RangeSum(n)
            | Task::EvenSum(n)
            | Task::OddSum(n)
            | Task::CubeSum(n) => [("n", n), ("a", 0), ("b", 0)],
            Task::Gcd(a, b) => [("n", 0), ("a", a), ("b", b)],
            Task::CountMultiples(n, a, b) => [("n", n), ("a", a), ("b", b)],
        }
    }

    fn fill(self, pattern: &str) -> String {
        self.slots()
            .iter()
            .fold(pattern.to_string(), |text, (slot, value)| {
                text.replace(&format!("{{{slot}}}"), &value.to_string())
            })
    }

    /// The Rhai program (the code expert's language) that answers the task.
    pub fn program(self) -> String {
        const PRIME: &str = "let p = true; for d in 2..n { if d * d > n { break; } if n % d == 0 { p = false; break; } }";
        self.fill(&match self {
            Task::PrimeSum(_) => {
                format!("let s = 0; for n in 2..{{n}} {{ {PRIME} if p {{ s += n; }} }} s")
            }
            Task::PrimeCount(_) => {
                format!("let c = 0; for n in 2..{{n}} {{ {PRIME} if p {{ c += 1; }} }} c")
            }
            Task::Factorial(_) => "let f = 1; for i in 1..={n} { f *= i; } f".into(),
            Task::Fibonacci(_) => {
                "let a = 0; let b = 1; for i in 0..{n} { let t = a + b; a = b; b = t; } a".into()
            }
            Task::Gcd(..) => {
                "let a = {a}; let b = {b}; while b != 0 { let t = a % b; a = b; b = t; } a".into()
            }
            Task::CountMultiples(..) => {
                "let c = 0; for i in 1..={n} { if i % {a} == 0 || i % {b} == 0 { c += 1; } } c"
                    .into()
            }
            Task::DigitSum(_) => {
                "let n = {n}; let s = 0; while n > 0 { s += n % 10; n /= 10; } s".into()
            }
            Task::SumSquares(_) => "let s = 0; for k in 1..={n} { s += k * k; } s".into(),
            Task::RangeSum(_) => "let s = 0; for k in 1..={n} { s += k; } s".into(),
            Task::EvenSum(_) => {
                "let s = 0; for k in 1..={n} { if k % 2 == 0 { s += k; } } s".into()
            }
            Task::OddSum(_) => "let s = 0; for k in 1..={n} { if k % 2 == 1 { s += k; } } s".into(),
            Task::CubeSum(_) => "let s = 0; for k in 1..={n} { s += k * k * k; } s".into(),
        })
    }

    /// The answer, computed here: the code expert must print the same.
    pub fn answer(self) -> i128 {
        let prime = |n: i64| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0);
        match self {
            Task::PrimeSum(n) => (2..n).filter(|&k| prime(k)).map(i128::from).sum(),
            Task::PrimeCount(n) => (2..n).filter(|&k| prime(k)).count() as i128,
            Task::Factorial(n) => (1..=i128::from(n)).product(),
            Task::Fibonacci(n) => {
                let (mut a, mut b) = (0i128, 1i128);
                for _ in 0..n {
                    (a, b) = (b, a + b);
                }
                a
            }
            Task::Gcd(mut a, mut b) => {
                while b != 0 {
                    (a, b) = (b, a % b);
                }
                i128::from(a)
            }
            Task::CountMultiples(n, a, b) => {
                (1..=n).filter(|i| i % a == 0 || i % b == 0).count() as i128
            }
            Task::DigitSum(n) => n.to_string().bytes().map(|d| i128::from(d - b'0')).sum(),
            Task::SumSquares(n) => (1..=i128::from(n)).map(|k| k * k).sum(),
            Task::RangeSum(n) => (1..=i128::from(n)).sum(),
            Task::EvenSum(n) => (1..=i128::from(n)).filter(|k| k % 2 == 0).sum(),
            Task::OddSum(n) => (1..=i128::from(n)).filter(|k| k % 2 == 1).sum(),
            Task::CubeSum(n) => (1..=i128::from(n)).map(|k| k * k * k).sum(),
        }
    }

    fn phrases(self, lang: Lang) -> &'static Pool<&'static str> {
        let i = match self {
            Task::PrimeSum(_) => 0,
            Task::PrimeCount(_) => 1,
            Task::Factorial(_) => 2,
            Task::Fibonacci(_) => 3,
            Task::Gcd(..) => 4,
            Task::CountMultiples(..) => 5,
            Task::DigitSum(_) => 6,
            Task::SumSquares(_) => 7,
            Task::RangeSum(_) => 8,
            Task::EvenSum(_) => 9,
            Task::OddSum(_) => 10,
            Task::CubeSum(_) => 11,
        };
        match lang {
            Lang::En => &EN_PHRASES[i],
            Lang::Zh => &ZH_PHRASES[i],
        }
    }

    /// The series' verb phrases ("adds up all the numbers from 1 to {n}"); the other tasks
    /// are asked for by noun phrases only, and draw nothing here, so that a plan without
    /// series draws what it drew before.
    fn verbs(self, lang: Lang) -> Option<&'static Pool<&'static str>> {
        let i = match self {
            Task::RangeSum(_) => 0,
            Task::EvenSum(_) => 1,
            Task::OddSum(_) => 2,
            Task::CubeSum(_) => 3,
            _ => return None,
        };
        Some(match lang {
            Lang::En => &EN_VERBS[i],
            Lang::Zh => &ZH_VERBS[i],
        })
    }

    /// The request, in `lang`: a noun phrase for the task inside a frame, or for a series
    /// half of the time a verb phrase ("Write a program that adds up …"), because people
    /// ask for a sum by what the program does as often as by what it finds.
    pub fn tell(self, ch: &mut Chooser, lang: Lang) -> String {
        ch.feature(format!("program:{}", self.name()));
        if let Some(verbs) = self.verbs(lang)
            && ch.chance(0.5)
        {
            ch.feature("frame:verb");
            let phrase = self.fill(ch.from(verbs));
            let frames = match lang {
                Lang::En => &EN_VERB_FRAMES,
                Lang::Zh => &ZH_VERB_FRAMES,
            };
            return ch.from(frames).replace("{v}", &phrase);
        }
        let phrase = self.fill(ch.from(self.phrases(lang)));
        let (frames, code_frames) = match lang {
            Lang::En => (&EN_FRAMES, &EN_CODE_FRAMES),
            Lang::Zh => (&ZH_FRAMES, &ZH_CODE_FRAMES),
        };
        let frame = if ch.chance(0.4) {
            ch.feature("frame:request-code");
            ch.from(code_frames)
        } else {
            ch.from(frames)
        };
        frame.replace("{x}", &phrase)
    }
}

const fn pool(train: &'static [&'static str], held: &'static [&'static str]) -> Pool<&'static str> {
    Pool {
        name: "task phrase",
        train,
        held,
    }
}

const EN_PHRASES: [Pool<&str>; 12] = [
    pool(
        &[
            "the sum of all primes below {n}",
            "the sum of the prime numbers less than {n}",
            "all the primes under {n} added up",
        ],
        &["the total of every prime smaller than {n}"],
    ),
    pool(
        &[
            "the number of primes below {n}",
            "the count of prime numbers less than {n}",
            "how many primes there are under {n}",
        ],
        &["how many prime numbers lie beneath {n}"],
    ),
    pool(
        &["the factorial of {n}", "{n} factorial", "{n}!"],
        &["the product of all whole numbers from 1 to {n}"],
    ),
    pool(
        &[
            "Fibonacci number {n} (F1 = F2 = 1)",
            "term {n} of the Fibonacci sequence starting 1, 1",
        ],
        &["entry {n} in the sequence 1, 1, 2, 3, 5, 8"],
    ),
    pool(
        &[
            "the greatest common divisor of {a} and {b}",
            "the GCD of {a} and {b}",
            "the largest number dividing both {a} and {b}",
        ],
        &["gcd({a}, {b})"],
    ),
    pool(
        &[
            "how many numbers from 1 to {n} are divisible by {a} or {b}",
            "the count of integers up to {n} that are multiples of {a} or {b}",
        ],
        &["how many of 1 through {n} divide evenly by {a} or {b}"],
    ),
    pool(
        &["the sum of the digits of {n}", "the digit sum of {n}"],
        &["what the digits of {n} add up to"],
    ),
    pool(
        &["the sum of the squares from 1 to {n}", "1² + 2² + … + {n}²"],
        &["the total of k squared for k from 1 to {n}"],
    ),
    pool(
        &[
            "the sum of the numbers from 1 to {n}",
            "1 + 2 + 3 + … + {n}",
            "all the whole numbers from 1 to {n} added together",
        ],
        &["the total of 1 through {n}"],
    ),
    pool(
        &[
            "the sum of the even numbers from 1 to {n}",
            "all even numbers up to {n} added up",
        ],
        &["the total of every even integer not above {n}"],
    ),
    pool(
        &[
            "the sum of the odd numbers from 1 to {n}",
            "all odd numbers up to {n} added up",
        ],
        &["what the odd integers between 1 and {n} add up to"],
    ),
    pool(
        &["the sum of the cubes from 1 to {n}", "1³ + 2³ + … + {n}³"],
        &["the total of k cubed for k from 1 to {n}"],
    ),
];

const ZH_PHRASES: [Pool<&str>; 12] = [
    pool(
        &["小于{n}的所有质数之和", "{n}以内的素数的和"],
        &["{n}以下全部质数的总和"],
    ),
    pool(
        &["小于{n}的质数的个数", "{n}以内素数的个数"],
        &["{n}以下一共几个质数"],
    ),
    pool(&["{n}的阶乘", "{n}!"], &["1乘到{n}的积"]),
    pool(
        &[
            "斐波那契数列（F1=F2=1）的第{n}项",
            "斐波那契数F({n})（F1=F2=1）",
        ],
        &["1, 1, 2, 3, 5……这个数列的第{n}项"],
    ),
    pool(
        &["{a}和{b}的最大公约数", "{a}与{b}的最大公因数"],
        &["{a}、{b}两数公约数中最大的那个"],
    ),
    pool(
        &[
            "1到{n}中能被{a}或{b}整除的数的个数",
            "从1到{n}是{a}或{b}的倍数的数的个数",
        ],
        &["1至{n}里{a}或{b}的倍数共有几个"],
    ),
    pool(
        &["{n}的各位数字之和", "{n}每一位数字加起来的和"],
        &["把{n}的数位相加得到的数"],
    ),
    pool(
        &["1到{n}的平方和", "1²+2²+…+{n}²"],
        &["从1的平方一直加到{n}的平方"],
    ),
    pool(
        &["1到{n}的所有整数之和", "1+2+3+…+{n}"],
        &["从1一直加到{n}的结果"],
    ),
    pool(
        &["1到{n}之间所有偶数的和", "{n}以内的偶数之和"],
        &["不超过{n}的全部偶数加起来"],
    ),
    pool(
        &["1到{n}之间所有奇数的和", "{n}以内的奇数之和"],
        &["不超过{n}的全部奇数加起来"],
    ),
    // Not "的立方": it is a held-out operation word of the calculator's requests.
    pool(
        &["1到{n}各数立方之和", "1³+2³+…+{n}³"],
        &["从1的立方一直加到{n}的立方"],
    ),
];

const fn verbs(
    train: &'static [&'static str],
    held: &'static [&'static str],
) -> Pool<&'static str> {
    Pool {
        name: "task verb",
        train,
        held,
    }
}

/// What a series program does, in the order of [`Task::verbs`].
const EN_VERBS: [Pool<&str>; 4] = [
    verbs(
        &[
            "adds up all the numbers from 1 to {n}",
            "adds together every whole number from 1 to {n}",
            "sums the integers 1 to {n}",
        ],
        &["totals up each integer between 1 and {n}"],
    ),
    verbs(
        &[
            "adds up the even numbers from 1 to {n}",
            "sums every even number up to {n}",
        ],
        &["totals up the evens no larger than {n}"],
    ),
    verbs(
        &[
            "adds up the odd numbers from 1 to {n}",
            "sums every odd number up to {n}",
        ],
        &["totals up the odds no larger than {n}"],
    ),
    verbs(
        &[
            "adds up the cubes of the numbers from 1 to {n}",
            "sums k³ for every k from 1 to {n}",
        ],
        &["totals up the cube of each integer from 1 to {n}"],
    ),
];

// Not "的立方": it is a held-out operation word of the calculator's requests.
const ZH_VERBS: [Pool<&str>; 4] = [
    verbs(
        &["把1到{n}的整数全部加起来", "把从1到{n}的每个数加在一起"],
        &["将1至{n}逐个累加"],
    ),
    verbs(
        &["把1到{n}之间的偶数都加起来", "把{n}以内的偶数加在一起"],
        &["将{n}以内偶数逐个累加"],
    ),
    verbs(
        &["把1到{n}之间的奇数都加起来", "把{n}以内的奇数加在一起"],
        &["将{n}以内奇数逐个累加"],
    ),
    verbs(
        &["把1到{n}每个数的三次方加起来", "把1³到{n}³都加在一起"],
        &["将1至{n}各数立方逐个累加"],
    ),
];

const EN_VERB_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "Write a program that {v}.",
        "Can you write code that {v}?",
        "I need a script that {v}.",
        "Make a small program that {v} and tell me the result.",
    ],
    held: &["Could you knock together a function that {v}?"],
};
const ZH_VERB_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &["写个程序，{v}。", "用代码{v}，告诉我结果。", "编个程序{v}"],
    held: &["劳驾编一段小脚本来{v}"],
};

const EN_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "What is {x}?",
        "Compute {x}.",
        "Find {x}.",
        "Tell me {x}.",
        "I need {x}.",
    ],
    held: &["Do you know {x} offhand?"],
};
const EN_CODE_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "Write a program to find {x}.",
        "Use code to work out {x}.",
        "Can you run a script that computes {x}?",
    ],
    held: &["Could a short script tell me {x}?"],
};
const ZH_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &["{x}是多少？", "求{x}。", "请计算{x}。", "帮我求一下{x}"],
    held: &["{x}到底是多少呢？"],
};
const ZH_CODE_FRAMES: Pool<&str> = Pool {
    name: "frame",
    train: &["写一个程序求{x}。", "用代码算一下{x}。", "跑个程序算{x}"],
    held: &["编段代码算出{x}。"],
};

pub fn held_forms(lang: Lang) -> Vec<&'static str> {
    let (phrases, frames) = match lang {
        Lang::En => (&EN_PHRASES, [&EN_FRAMES, &EN_CODE_FRAMES]),
        Lang::Zh => (&ZH_PHRASES, [&ZH_FRAMES, &ZH_CODE_FRAMES]),
    };
    let (verbs, verb_frames) = match lang {
        Lang::En => (&EN_VERBS, &EN_VERB_FRAMES),
        Lang::Zh => (&ZH_VERBS, &ZH_VERB_FRAMES),
    };
    let phrases: Vec<&Pool<&str>> = phrases.iter().chain(verbs).collect();
    [
        choose::held_forms(&phrases),
        choose::held_forms(&frames),
        choose::held_forms(&[verb_frames]),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_computed_here_are_right() {
        assert_eq!(Task::PrimeSum(10).answer(), 17);
        assert_eq!(Task::PrimeCount(100).answer(), 25);
        assert_eq!(Task::Factorial(20).answer(), 2_432_902_008_176_640_000);
        assert_eq!(Task::Fibonacci(10).answer(), 55);
        assert_eq!(Task::Gcd(84, 36).answer(), 12);
        assert_eq!(Task::CountMultiples(10, 2, 3).answer(), 7);
        assert_eq!(Task::DigitSum(9875).answer(), 29);
        assert_eq!(Task::SumSquares(3).answer(), 14);
        assert_eq!(Task::RangeSum(100).answer(), 5050);
        assert_eq!(Task::EvenSum(10).answer(), 30);
        assert_eq!(Task::OddSum(10).answer(), 25);
        assert_eq!(Task::CubeSum(3).answer(), 36);
    }
}
