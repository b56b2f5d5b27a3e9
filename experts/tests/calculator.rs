//! The calculator is exact, canonical, and refuses hostile input with a clear error while
//! the process keeps working.

use miracle_experts::calculator::{MAX_BYTES, evaluate, format};
use miracle_experts::{Calculator, ExpertError};

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
        ("1e20 * 10", "1e21"),
        ("0.0000001 * 2", "2e-7"),
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
    refused(
        "9223372036854775807 * 9223372036854775807 * 9223372036854775807",
        "overflow",
    );
    refused("2 ^ 200", "overflow");
    refused("99999999999999999999 + 1", "too large to read exactly");
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
    refused("10.0 ^ 400", "finite");
    refused("", "empty");
    refused("()", "nothing to compute");
    refused("1 +", "incomplete: `+` needs 2 operands");
    refused("1 +* 2", "incomplete");
    refused("2 3", "parse");
    refused("(1, 2)", "list of values");
    refused("pow(1)", "two arguments");
    // Long chains of unary signs or operators stay within the limits.
    refused(&format!("{}1", "-".repeat(MAX_BYTES - 1)), "");
    refused(&format!("1{}", "^1".repeat(MAX_BYTES / 2 - 1)), "");
}

#[test]
fn the_worst_inputs_within_the_limits_fit_a_small_stack() {
    // evalexpr's parser recurses once per operator; at the length limit its worst case needs
    // about 1 MiB of stack (measured: a chain of 4,095 minus signs). A 1.5 MiB thread holds
    // every input the limits let through; were they not enforced, this would abort.
    let worst = [
        format!("{}1", "-".repeat(MAX_BYTES - 1)),
        format!("1{}", "^1".repeat(MAX_BYTES / 2 - 1)),
        format!("1{}", "+1".repeat(MAX_BYTES / 2 - 1)),
        format!("{}1{}", "sqrt(".repeat(64), ")".repeat(64)),
        format!("{}1{}", "(".repeat(64), ")".repeat(64)),
    ];
    std::thread::Builder::new()
        .stack_size(1536 << 10)
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

/// A tiny seeded generator (xorshift), so the differential test needs no extra crate.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }
}

/// A random expression in (and around) the fast path's subset: spacing, signs, powers,
/// functions with right and wrong arities, huge and odd literals, and some plain mistakes.
fn expression(rng: &mut Rng, depth: usize) -> String {
    let leaf = |rng: &mut Rng| {
        rng.pick(&[
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
            "9223372036854775807",
            "9223372036854775808",
            "007",
            "3.",
            "pi",
            "e",
            "x",
            "1_000",
        ])
        .to_string()
    };
    if depth == 0 {
        return leaf(rng);
    }
    let a = expression(rng, depth - 1);
    let b = expression(rng, depth - 1);
    let op = rng.pick(&[
        "+", "-", "*", "/", "%", "^", " + ", " - ", " * ", " / ", "**", "×",
    ]);
    match rng.below(9) {
        0 => leaf(rng),
        1 => format!("-{a}"),
        2 => format!("({a})"),
        3 => {
            let f = rng.pick(&[
                "sqrt", "abs", "round", "floor", "ceil", "ln", "exp", "sin", "pow", "min", "max",
                "nope",
            ]);
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

#[test]
fn the_fast_path_agrees_with_evalexpr_wherever_it_answers() {
    use miracle_experts::calculator::{evaluate_fast, evaluate_general};
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let mut fast = 0;
    for i in 0..200_000 {
        let text = expression(&mut rng, 1 + i % 4);
        let Some(quick) = evaluate_fast(&text) else {
            continue;
        };
        fast += 1;
        let general = evaluate_general(&text);
        assert_eq!(
            quick.map(format),
            general.map(format),
            "`{text}`: fast path (left) and evalexpr path (right) differ"
        );
    }
    // Most everyday shapes must take the fast path, or it is not worth having.
    assert!(fast > 50_000, "only {fast} of 200000 took the fast path");
    for everyday in [
        "1 + 2 * 3",
        "2350 * 17 / 100",
        "(3 + 4) * 2",
        "366 * 24 * 60 * 60",
        "sqrt(2) * 10",
        "7 / 2 - 0.25",
        "max(3, 10, 2)",
        "pi * 3 ^ 2",
        "3 × 4 ÷ 2 − 1",
    ] {
        assert!(evaluate_fast(everyday).is_some(), "{everyday}");
    }
}
