//! The calculator is exact, canonical, and refuses hostile input with a clear error while
//! the process keeps working.

use miracle_experts::calculator::{MAX_BYTES, evaluate, format};
use miracle_experts::{Calculator, ExpertError};
use num_bigint::BigInt;
use num_rational::BigRational;

fn calc(expression: &str) -> Result<String, String> {
    evaluate(expression).map(format)
}

fn refused(expression: &str, why: &str) {
    match calc(expression) {
        Ok(value) => panic!("`{expression}` gave {value}, expected an error about {why}"),
        Err(message) => assert!(message.contains(why), "`{expression}`: {message}"),
    }
}

#[test]
fn arithmetic_is_exact_and_canonical() {
    let cases = [
        ("1 + 2 * 3", "7"),
        ("(3 + 4) * 2", "14"),
        ("2350 * 17 / 100", "399.5"),
        ("6 / 2", "3"),
        ("7 / 2", "3.5"),
        ("0.1 + 0.2", "0.3"),
        ("1 / 3", "0.333333333333"),
        ("2 ^ 10", "1024"),
        ("2 ** 100", "1267650600228229401496703205376"),
        ("9223372036854775807 + 1", "9223372036854775808"),
        ("-7 % 3", "2"),
        ("7 % -3", "-2"),
        ("2 ^ -1", "0.5"),
        ("sqrt(16)", "4"),
        ("sqrt(2)", "1.41421356237"),
        ("pow(3, 4)", "81"),
        ("abs(-5)", "5"),
        ("min(3, 1.5, 2)", "1.5"),
        ("max(3, 10, 2)", "10"),
        ("round(2.5)", "3"),
        ("floor(-2.5)", "-3"),
        ("ceil(2.1)", "3"),
        ("ln(e)", "1"),
        ("log10(1000)", "3"),
        ("exp(0)", "1"),
        ("sin(0)", "0"),
        ("cos(pi)", "-1"),
        ("pi * 3 ^ 2", "28.2743338823"),
        ("3 × 4 ÷ 2 − 1", "5"),
        ("（1 + 2）× 3", "9"),
        ("1e20 * 10", "1000000000000000000000"),
        ("0.0000001 * 2", "0.0000002"),
        ("1e-30 * 3", "3e-30"),
        ("2 / 3", "0.666666666667"),
        ("10 / 3 * 1e20", "3.33333333333e20"),
        (
            "2 ^ 200",
            "1606938044258990275541962092341162602522202993782792835301376",
        ),
        ("10.0 ^ 40", "10000000000000000000000000000000000000000"),
        ("sqrt(2.25)", "1.5"),
        ("round(-2.5)", "-3"),
        ("-2 ^ 2", "-4"),
        ("2 ^ -2 ^ 2", "0.0625"),
        ("-(-(3))", "3"),
    ];
    for (expression, want) in cases {
        assert_eq!(calc(expression).as_deref(), Ok(want), "{expression}");
    }
}

#[test]
fn hostile_input_is_refused_clearly() {
    refused(
        &format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        "bytes",
    );
    refused(
        &format!("{}1{}", "(".repeat(100), ")".repeat(100)),
        "nested",
    );
    refused(&"1+".repeat(600_000), "bytes"); // a 1 MiB expression
    refused(&format!("{} * 10", "9".repeat(1000)), "overflow");
    refused("2 ^ 4000", "overflow");
    refused("1.5 ^ 99999999999", "overflow");
    refused("1e99999999999999999999", "too large");
    refused("0 ^ -1", "division by zero");
    refused("1 / 0", "division by zero");
    refused("5 % 0", "division by zero");
    refused("1.5 / 0.0", "division by zero");
    refused("a = 1", "not arithmetic");
    refused("x + 1", "unknown name `x`");
    refused("system(1)", "unknown function `system`");
    refused("math::sqrt(4)", "unknown function");
    refused("\"text\"", "not arithmetic");
    refused("true", "not numbers");
    refused("sqrt(-1)", "negative");
    refused("ln(0)", "positive");
    refused("inf", "finite");
    refused("NaN", "finite");
    refused("exp(1000)", "finite");
    refused("(-8) ^ 0.5", "finite");
    refused("", "empty");
    refused("()", "nothing to compute");
    refused("1 +", "incomplete: `+` needs 2 operands");
    refused("1 +* 2", "incomplete");
    refused("2 3", "parse");
    refused("(1, 2)", "list of values");
    refused("pow(1)", "two arguments");
    refused("1 2", "parse");
    refused("2 ) + 1", "closes nothing");
    refused("(2 + 1", "not closed");
    refused("sqrt", "is a function");
    refused("1.2.3", "not a number");
    refused("3 ÷ 4 ＝ ?", "not part of arithmetic");
}

/// What issue 28's hostile probes found: each was a silently wrong digit or a wrong refusal.
#[test]
fn decimal_input_gives_exact_decimal_results() {
    let cases = [
        ("floor(0.29*100)", "29"),
        ("ceil(0.1*3*10)", "3"),
        ("round(1e23)", "100000000000000000000000"),
        ("0.1*3 - 0.3", "0"),
        ("1e16+1-1e16", "1"),
        ("2^3^2", "512"),
        ("2**3**2", "512"),
        ("1^9999999999", "1"),
        ("(-1)^9999999999", "-1"),
        ("0^9999999999", "0"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-9223372036854775808 - 1", "-9223372036854775809"),
        ("99999999999999999999 + 1", "100000000000000000000"),
        ("0.1 + 0.2 - 0.3", "0"),
        ("1.1 * 1.1", "1.21"),
        ("100 * 1.15", "115"),
        ("19.99 * 3", "59.97"),
        ("round(2.675 * 100) / 100", "2.68"),
        ("floor(4.35 * 100)", "435"),
        ("0.07 * 100", "7"),
        ("1 - 0.9", "0.1"),
        ("1e-7 + 1", "1.0000001"),
        ("12345678901234567890.5 * 2", "24691357802469135781"),
    ];
    for (expression, want) in cases {
        assert_eq!(calc(expression).as_deref(), Ok(want), "{expression}");
    }
    // A flat sum is a loop, not nesting: 129 terms and 2,000 alike.
    for terms in [129, 2000] {
        let sum = vec!["1"; terms].join("+");
        assert_eq!(calc(&sum), Ok(terms.to_string()), "{terms} terms");
    }
    // Long chains of signs and powers are read without recursion.
    assert_eq!(
        calc(&format!("{}1", "-".repeat(MAX_BYTES - 1))),
        Ok("-1".into())
    );
    assert_eq!(
        calc(&format!("1{}", "^1".repeat(MAX_BYTES / 2 - 1))),
        Ok("1".into())
    );
}

#[test]
fn the_worst_inputs_within_the_limits_fit_a_small_stack() {
    // Only parentheses and function calls recurse, at most MAX_DEPTH deep; chains of signs,
    // operators and powers are loops. A 256 KiB thread holds every input the limits let
    // through; were they not enforced, this would abort.
    let worst = [
        format!("{}1", "-".repeat(MAX_BYTES - 1)),
        format!("1{}", "^1".repeat(MAX_BYTES / 2 - 1)),
        format!("1{}", "+1".repeat(MAX_BYTES / 2 - 1)),
        format!("{}1{}", "sqrt(".repeat(64), ")".repeat(64)),
        format!("{}1{}", "(".repeat(64), ")".repeat(64)),
    ];
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            for expression in &worst {
                let _ = evaluate(expression);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_expert_reports_invalid_input_and_keeps_working() {
    let calculator = Calculator::new();
    let error = calculator.evaluate("1 / 0").unwrap_err();
    assert!(
        matches!(error, ExpertError::InvalidInput { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "calculator: the input is not accepted: division by zero"
    );
    assert_eq!(calculator.evaluate("40 + 2").unwrap(), "42");
}

/// A tiny seeded generator (xorshift), so the oracle test needs no extra crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A random expression of decimal literals, + - * / and parentheses, written as text and
/// computed beside it in exact rationals (the oracle): what the calculator must print.
fn random_expression(rng: &mut Rng, depth: usize) -> (String, BigRational) {
    if depth == 0 || rng.below(4) == 0 {
        let whole = rng.below(100_000) as i64;
        let decimals = rng.below(4) as u32;
        let fraction = rng.below(10usize.pow(decimals)) as i64;
        let scale = 10i64.pow(decimals);
        let value = BigRational::new(BigInt::from(whole * scale + fraction), BigInt::from(scale));
        let text = if decimals == 0 {
            whole.to_string()
        } else {
            format!("{whole}.{fraction:0width$}", width = decimals as usize)
        };
        return (text, value);
    }
    let (a, x) = random_expression(rng, depth - 1);
    let (b, y) = random_expression(rng, depth - 1);
    match rng.below(5) {
        0 => (format!("{a} + {b}"), x + y),
        1 => (format!("({a}) - ({b})"), x - y),
        2 => (format!("({a}) * ({b})"), x * y),
        3 if y != BigRational::from_integer(0.into()) => (format!("({a}) / ({b})"), x / y),
        _ => (format!("-({a})"), -x),
    }
}

/// The oracle's value printed by the rule docs/PLUGINS.md states: integers and short
/// terminating decimals in full, everything else to 12 significant digits.
fn expected(value: &BigRational) -> String {
    format(miracle_experts::calculator::Number::Exact(value.clone()))
}

#[test]
fn the_calculator_agrees_with_exact_rational_arithmetic() {
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    for i in 0..20_000 {
        let (text, value) = random_expression(&mut rng, 1 + i % 5);
        let got = evaluate(&text).unwrap_or_else(|e| panic!("`{text}`: {e}"));
        assert_eq!(
            got,
            miracle_experts::calculator::Number::Exact(value.clone()),
            "`{text}`"
        );
        assert_eq!(format(got), expected(&value), "`{text}`");
    }
}

#[test]
fn printing_rounds_only_what_cannot_be_printed_exactly() {
    use miracle_experts::calculator::Number;
    let exact = |n: i64, d: i64| format(Number::Exact(BigRational::new(n.into(), d.into())));
    assert_eq!(exact(1, 8), "0.125");
    assert_eq!(exact(-7, 4), "-1.75");
    assert_eq!(exact(1, 3), "0.333333333333");
    assert_eq!(exact(2, 3), "0.666666666667");
    assert_eq!(exact(-1, 7), "-0.142857142857");
    assert_eq!(
        exact(9_999_999_999_999, 10_000_000_000_000),
        "0.9999999999999"
    );
    assert_eq!(exact(1, 1 << 40), "9.09494701773e-13");
    assert_eq!(format(Number::Float(0.1 + 0.2)), "0.3");
    assert_eq!(format(Number::Float(1e23)), "1e23");
    assert_eq!(format(Number::Float(-2.5e-7)), "-2.5e-7");
    assert_eq!(format(Number::Float(123456.0)), "123456");
}

/// A random expression in and around everyday arithmetic: spacing, signs, powers, functions
/// with right and wrong arities, huge and odd literals, floats, and plain mistakes.
fn anything(rng: &mut Rng, depth: usize) -> String {
    let pick = |rng: &mut Rng, options: &[&str]| options[rng.below(options.len())].to_string();
    let leaf = |rng: &mut Rng| {
        pick(
            rng,
            &[
                "0",
                "1",
                "2",
                "3",
                "7",
                "10",
                "17",
                "100",
                "2350",
                "0.5",
                "2.25",
                "0.1",
                "1e3",
                "1e-7",
                "9223372036854775807",
                "170141183460469231731687303715884105727",
                "99999999999999999999999999999999999999999",
                "007",
                "3.",
                "pi",
                "e",
                "x",
                "1_000",
                ".5",
            ],
        )
    };
    if depth == 0 {
        return leaf(rng);
    }
    let a = anything(rng, depth - 1);
    let b = anything(rng, depth - 1);
    let op = pick(
        rng,
        &[
            "+", "-", "*", "/", "%", "^", " + ", " - ", " * ", " / ", "**", "×",
        ],
    );
    match rng.below(9) {
        0 => leaf(rng),
        1 => format!("-{a}"),
        2 => format!("({a})"),
        3 => {
            let f = pick(
                rng,
                &[
                    "sqrt", "abs", "round", "floor", "ceil", "ln", "exp", "sin", "pow", "min",
                    "max", "nope",
                ],
            );
            match rng.below(3) {
                0 => format!("{f}({a})"),
                1 => format!("{f}({a}, {b})"),
                _ => format!("{f} ({a})"),
            }
        }
        4 => format!("{a}{op}-{b}"),
        5 => format!("{a} {b}"),
        _ => format!("{a}{op}{b}"),
    }
}

/// Everyday expressions are read first with small rationals, and again with big ones when
/// they do not fit: both readings give the same answers and the same errors.
#[test]
fn the_small_first_reading_agrees_with_big_rationals() {
    use miracle_experts::calculator::{answer, evaluate_big};
    let mut rng = Rng(0x0dd_ba11_5eed_f00d);
    for i in 0..100_000 {
        let text = anything(&mut rng, 1 + i % 4);
        assert_eq!(
            answer(&text),
            evaluate_big(&text).map(format),
            "`{text}`: small-first (left) and big only (right) differ"
        );
    }
}

/// Results beyond f64's range are printed (they once made the rounding loop forever).
#[test]
fn huge_and_tiny_inexact_results_print() {
    assert_eq!(calc("10 ^ 400 / 3").unwrap(), "3.33333333333e399");
    assert_eq!(calc("1 / (3 * 10 ^ 400)").unwrap(), "3.33333333333e-401");
}
