//! Requests a program answers better than arithmetic: loops over primes, sequences,
//! factorials, divisibility, digits and sums. The model writes a short Rhai program (the
//! code expert's language) with the request's numbers in it; the code expert runs it.

use miracle_experts::Registry;

use super::{CODE, DemoError, Draw, Lang, Made, Script, Templates, fill, template_for};

pub(crate) struct Family {
    pub name: &'static str,
    pub templates: Templates,
    /// The program, with the request's slots (`{n}`, `{a}`, `{b}`) filled in.
    pub program: &'static str,
    /// Draws the slots' values.
    pub draw: fn(&mut Draw) -> Vec<(&'static str, i64)>,
}

pub(crate) const FAMILIES: &[Family] = &[
    Family {
        name: "code.prime_sum",
        templates: Templates {
            en: &[
                "Add up every prime number less than {n}.",
                "Find the sum of the primes below {n}.",
                "What do all the primes smaller than {n} add up to?",
                "Sum the prime numbers under {n}.",
                "[What is|Give me|Tell me] the sum of [the|all the] primes [below|under|less than] {n}[?|.]",
                "[If you add|Adding] up all prime numbers smaller than {n}, what [do you get|is the total]?",
                "What is the total of all primes less than {n}?",
            ],
            zh: &[
                "求小于{n}的所有质数之和。",
                "{n}以内的质数加起来是多少？",
                "计算所有小于{n}的素数的和。",
                "[请问|]{n}以内的[质数|素数]之和[是|等于]多少？",
                "把小于{n}的[质数|素数]全部加起来，[结果|和]是多少？",
                "小于{n}的全部质数之和等于多少？",
            ],
        },
        program: "let s = 0; for n in 2..{n} { let p = true; for d in 2..n { if d * d > n { break; } if n % d == 0 { p = false; break; } } if p { s += n; } } s",
        draw: |d| vec![("n", d.int(10, 5000))],
    },
    Family {
        name: "code.prime_count",
        templates: Templates {
            en: &[
                "How many prime numbers are there below {n}?",
                "Count the primes less than {n}.",
                "How many primes are smaller than {n}?",
                "[Tell me|Find] how many [primes|prime numbers] there are [below|under] {n}.",
                "What is the number of primes [less than|smaller than|below] {n}?",
                "Give the number of primes under {n}.",
            ],
            zh: &[
                "小于{n}的质数有多少个？",
                "数一数{n}以内有几个素数。",
                "[请问|]{n}以内[有|共有]多少个[质数|素数]？",
                "小于{n}的[质数|素数]一共有几个？",
                "{n}以下一共有多少个质数？",
            ],
        },
        program: "let c = 0; for n in 2..{n} { let p = true; for d in 2..n { if d * d > n { break; } if n % d == 0 { p = false; break; } } if p { c += 1; } } c",
        draw: |d| vec![("n", d.int(10, 5000))],
    },
    Family {
        name: "code.fibonacci",
        templates: Templates {
            en: &[
                "Give the {n}th Fibonacci number, with F1 = F2 = 1.",
                "What is Fibonacci number {n} (F1 = F2 = 1)?",
                "Compute term {n} of the Fibonacci sequence starting 1, 1.",
                "Find F({n}) in the Fibonacci sequence where F1 = F2 = 1.",
                "[Tell me|Give me|What is] the Fibonacci number F({n})[, where F1 = F2 = 1|, with F1 = F2 = 1][.|?]",
                "In the Fibonacci sequence (F1 = F2 = 1), what is term {n}?",
                "What is the {n}th term of the Fibonacci sequence 1, 1, 2, 3, 5, …?",
            ],
            zh: &[
                "求斐波那契数列第{n}项（F1=F2=1）。",
                "斐波那契数列1, 1, 2, 3, 5……的第{n}项是多少？",
                "计算斐波那契数F({n})，其中F1=F2=1。",
                "在F1=F2=1的斐波那契数列里，第{n}[项|个数][是|等于]多少？",
                "[求|计算]斐波那契数列1, 1, 2, 3, 5……的第{n}项。",
                "F1=F2=1的斐波那契数列中，第{n}个数是多少？",
            ],
        },
        program: "let a = 0; let b = 1; for i in 0..{n} { let t = a + b; a = b; b = t; } a",
        draw: |d| vec![("n", d.int(3, 90))],
    },
    Family {
        name: "code.factorial",
        templates: Templates {
            en: &[
                "Compute {n}!",
                "What is the factorial of {n}?",
                "Multiply all whole numbers from 1 to {n}.",
                "How much is {n} factorial?",
                "[Tell me|Give me|What is] {n} factorial[.|?]",
                "[Find|Compute] the product of the integers from 1 to {n}.",
                "Find the value of {n}! (factorial).",
            ],
            zh: &[
                "{n}的阶乘是多少？",
                "计算{n}!。",
                "求1到{n}所有整数的乘积。",
                "[请问|]{n}的阶乘[是|等于]多少？",
                "[求|计算]{n}的阶乘。",
                "{n}!等于多少？",
            ],
        },
        program: "let f = 1; for i in 1..={n} { f *= i; } f",
        draw: |d| vec![("n", d.int(2, 20))],
    },
    Family {
        name: "code.count_multiples",
        templates: Templates {
            en: &[
                "How many numbers from 1 to {n} are multiples of {a} or {b}?",
                "Count the integers between 1 and {n} that are divisible by {a} or by {b}.",
                "Among 1 to {n}, how many numbers can be divided by {a} or {b}?",
                "[Count|Find] how many [numbers|integers] from 1 to {n} are divisible by {a} or {b}.",
                "Between 1 and {n}, how many [numbers|integers] are multiples of {a} or of {b}?",
                "How many integers up to {n} are divisible by either {a} or {b}?",
            ],
            zh: &[
                "1到{n}之间有多少个数是{a}或{b}的倍数？",
                "从1到{n}，能被{a}或{b}整除的整数有几个？",
                "[请问|]1到{n}中[能被|可以被]{a}或{b}整除的数有几个？",
                "从1数到{n}，是{a}或{b}的倍数的数有多少个？",
                "在1至{n}中，能被{a}或者{b}整除的数有多少个？",
            ],
        },
        program: "let c = 0; for i in 1..={n} { if i % {a} == 0 || i % {b} == 0 { c += 1; } } c",
        draw: |d| {
            vec![
                ("n", d.int(10, 10000)),
                ("a", d.int(2, 9)),
                ("b", d.int(2, 13)),
            ]
        },
    },
    Family {
        name: "code.gcd",
        templates: Templates {
            en: &[
                "What is the greatest common divisor of {a} and {b}?",
                "Find the GCD of {a} and {b}.",
                "What is the largest number that divides both {a} and {b}?",
                "[Tell me|Give me|What is] the greatest common divisor of {a} and {b}[.|?]",
                "[Find|Compute] the highest common factor of {a} and {b}.",
                "[Calculate|Work out] the GCD [of|for] {a} and {b}[.|?]",
                "Compute gcd({a}, {b}).",
            ],
            zh: &[
                "{a}和{b}的最大公约数是多少？",
                "求{a}与{b}的最大公因数。",
                "[请问|]{a}与{b}的最大公约数[是|等于]多少？",
                "[求|计算]{a}和{b}的最大公因数。",
                "能同时整除{a}和{b}的最大整数是几？",
            ],
        },
        program: "let a = {a}; let b = {b}; while b != 0 { let t = a % b; a = b; b = t; } a",
        draw: |d| {
            let common = d.operand(3);
            vec![("a", common * d.operand(3)), ("b", common * d.operand(3))]
        },
    },
    Family {
        name: "code.digit_sum",
        templates: Templates {
            en: &[
                "What is the sum of the digits of {n}?",
                "Add up the digits of {n}.",
                "What do the digits of {n} sum to?",
                "[Tell me|Give me|What is] the digit sum of {n}[.|?]",
                "If you add the digits of {n} together, what [do you get|is the total]?",
                "Find the digit sum of {n}.",
            ],
            zh: &[
                "{n}的各位数字之和是多少？",
                "求{n}各个数位上的数字之和。",
                "[请问|]{n}的[各位|每一位]数字[之和|加起来]是多少？",
                "[求|计算]{n}的数字和。",
                "把{n}的每一位数字加起来等于多少？",
            ],
        },
        program: "let n = {n}; let s = 0; while n > 0 { s += n % 10; n /= 10; } s",
        draw: |d| vec![("n", d.operand(6) * d.operand(6))],
    },
    Family {
        name: "code.range_sum",
        templates: Templates {
            en: &[
                "What is the sum of all integers from {a} to {b}?",
                "Add up the whole numbers from {a} through {b}.",
            ],
            zh: &["从{a}加到{b}的和是多少？", "求{a}到{b}之间所有整数的和。"],
        },
        program: "let s = 0; for i in {a}..={b} { s += i; } s",
        draw: |d| {
            let a = d.int(1, 500);
            vec![("a", a), ("b", a + d.int(1, 5000))]
        },
    },
];

/// Generates the `i`-th request of `family` in `lang`.
pub(crate) async fn make(
    registry: &Registry,
    family: &Family,
    lang: Lang,
    i: usize,
    draw: &mut Draw,
) -> Result<Made, DemoError> {
    let (template, text, split) = template_for(family.name, &family.templates, lang, i);
    let text = &draw.phrase(text, lang, split);
    let values: Vec<(&str, String)> = (family.draw)(draw)
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    let slots: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let program = fill(family.program, &slots);
    let mut script = Script::new(registry, family.name);
    let result = script.call(CODE, &program).await?;
    let user = fill(text, &slots);
    Ok(Made::number(
        script,
        CODE,
        lang,
        (template, split),
        user,
        result,
    ))
}
