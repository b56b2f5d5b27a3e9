//! The calculator's numbers and their arithmetic. What the input writes is exact: integers
//! and decimals (`0.1`, `1e23`) are rationals, and + − × ÷ %, whole powers, abs, min, max,
//! round, floor, ceil and perfect square roots keep them exact. Only what cannot be a
//! rational (pi, e, other roots, ln, log10, exp, the trigonometric functions, fractional
//! powers) is a float, and anything computed from a float is one.

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// The most decimal digits an exact numerator or denominator may have: far beyond any real
/// calculation, small enough that every operation on such numbers takes microseconds.
pub const MAX_DIGITS: u64 = 1000;
/// [`MAX_DIGITS`] in bits (1000 × log2 10, rounded up).
const MAX_BITS: u64 = 3322;
/// Significant digits of a result that is not printed exactly.
const SIGNIFICANT: u32 = 12;
/// An exact decimal is printed in full up to this many significant digits…
pub(super) const FULL_DIGITS: usize = 40;
/// … and this many digits after the point.
pub(super) const FULL_DECIMALS: u32 = 20;

/// A number: exact, or a finite float.
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    /// A rational, exactly.
    Exact(BigRational),
    /// A finite float: an irrational function's value, or anything computed from one.
    Float(f64),
}

use Number::{Exact, Float};

impl Number {
    pub fn integer(i: i64) -> Number {
        Exact(BigRational::from_integer(i.into()))
    }

    /// The value as a float (an exact value beyond f64's range becomes infinite).
    pub fn to_f64(&self) -> f64 {
        match self {
            Exact(r) => r.to_f64().unwrap_or(f64::NAN),
            Float(f) => *f,
        }
    }

    fn is_zero(&self) -> bool {
        match self {
            Exact(r) => r.is_zero(),
            Float(f) => *f == 0.0,
        }
    }
}

/// Reads a decimal literal: digits, an optional fraction, an optional exponent (`12`,
/// `0.25`, `.5`, `1e23`, `2.5E-3`). The caller has checked the shape.
pub fn decimal(mantissa: &str, exponent: i64) -> Result<Number, String> {
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: BigInt = format!("0{whole}{fraction}")
        .parse()
        .map_err(|_| format!("`{mantissa}` is not a number"))?;
    let scale = exponent - fraction.len() as i64;
    if scale.unsigned_abs() > MAX_DIGITS * 2 {
        return Err(overflow());
    }
    let ten = BigInt::from(10u8);
    let power = num_traits::pow(ten, scale.unsigned_abs() as usize);
    let value = if scale >= 0 {
        BigRational::from_integer(digits * power)
    } else {
        BigRational::new(digits, power)
    };
    checked(Exact(value))
}

fn overflow() -> String {
    format!("overflow: the exact result would have more than {MAX_DIGITS} digits")
}

/// Holds exact values to [`MAX_DIGITS`] and floats to finite values.
pub fn checked(n: Number) -> Result<Number, String> {
    match n {
        Exact(r) if r.numer().bits() > MAX_BITS || r.denom().bits() > MAX_BITS => Err(overflow()),
        Float(f) if !f.is_finite() => {
            Err("the result is not a finite number (it overflows, or is undefined)".into())
        }
        n => Ok(n),
    }
}

/// The binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl Op {
    pub fn symbol(self) -> char {
        match self {
            Op::Add => '+',
            Op::Sub => '-',
            Op::Mul => '*',
            Op::Div => '/',
            Op::Mod => '%',
            Op::Pow => '^',
        }
    }
}

pub fn negate(n: Number) -> Number {
    match n {
        Exact(r) => Exact(-r),
        Float(f) => Float(-f),
    }
}

pub fn binary(op: Op, a: Number, b: Number) -> Result<Number, String> {
    if matches!(op, Op::Div | Op::Mod) && b.is_zero() {
        return Err("division by zero".into());
    }
    let value = match (op, a, b) {
        (Op::Pow, a, b) => return power(a, b),
        (op, Exact(x), Exact(y)) => Exact(match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => x / y,
            // Floor modulo, as in Python: the result takes the divisor's sign.
            _ => {
                let quotient = (&x / &y).floor();
                x - y * quotient
            }
        }),
        (op, a, b) => {
            let (x, y) = (a.to_f64(), b.to_f64());
            Float(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
                Op::Div => x / y,
                _ => x - y * (x / y).floor(),
            })
        }
    };
    checked(value)
}

/// `a ^ b`: exact for an exact base and a whole exponent, however large the exponent is
/// where the result stays small (`1 ^ 9999999999`); a float otherwise.
fn power(a: Number, b: Number) -> Result<Number, String> {
    let (Exact(base), Exact(exponent)) = (&a, &b) else {
        return checked(Float(a.to_f64().powf(b.to_f64())));
    };
    let exponent = match exponent.is_integer() {
        true => exponent.to_integer(),
        false => return checked(Float(a.to_f64().powf(b.to_f64()))),
    };
    if base.is_zero() {
        return match exponent.sign() {
            Sign::Minus => Err("division by zero (zero to a negative power)".into()),
            Sign::NoSign => Ok(Number::integer(1)),
            Sign::Plus => Ok(Number::integer(0)),
        };
    }
    if base.abs().is_one() {
        let odd = exponent.is_odd();
        return Ok(Exact(if base.is_negative() && odd {
            -BigRational::one()
        } else {
            BigRational::one()
        }));
    }
    // Any other base has a numerator or denominator of at least 2, so the result has at
    // least |exponent| bits: refuse before computing what cannot be kept.
    let size = base.numer().bits().max(base.denom().bits());
    let magnitude = exponent
        .magnitude()
        .to_u64()
        .filter(|m| m.saturating_mul(size.saturating_sub(1).max(1)) <= MAX_BITS)
        .ok_or_else(overflow)?;
    let magnitude = u32::try_from(magnitude).map_err(|_| overflow())?;
    let raised = BigRational::new(base.numer().pow(magnitude), base.denom().pow(magnitude));
    let raised = if exponent.is_negative() {
        raised.recip()
    } else {
        raised
    };
    checked(Exact(raised))
}

/// The functions the calculator knows, with how many arguments each takes.
pub const FUNCTIONS: &[(&str, Arity)] = &[
    ("sqrt", Arity::One),
    ("pow", Arity::Two),
    ("abs", Arity::One),
    ("min", Arity::AtLeastOne),
    ("max", Arity::AtLeastOne),
    ("round", Arity::One),
    ("floor", Arity::One),
    ("ceil", Arity::One),
    ("ln", Arity::One),
    ("log10", Arity::One),
    ("exp", Arity::One),
    ("sin", Arity::One),
    ("cos", Arity::One),
    ("tan", Arity::One),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    One,
    Two,
    AtLeastOne,
}

/// The names the calculator knows, for error messages.
pub fn function_names() -> String {
    let names: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
    format!("{}, pi, e", names.join(", "))
}

/// Applies a function of [`FUNCTIONS`] (the caller has checked the name).
pub fn call(name: &str, args: Vec<Number>) -> Result<Number, String> {
    let Some(&(_, arity)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
        return Err(format!(
            "unknown function `{name}`; the calculator knows {}",
            function_names()
        ));
    };
    let fits = match arity {
        Arity::One => args.len() == 1,
        Arity::Two => args.len() == 2,
        Arity::AtLeastOne => !args.is_empty(),
    };
    if !fits {
        let wanted = match arity {
            Arity::One => "one argument",
            Arity::Two => "two arguments",
            Arity::AtLeastOne => "at least one argument",
        };
        return Err(format!("{name} takes {wanted}, not {}", args.len()));
    }
    let mut args = args.into_iter();
    let x = args.next().expect("arity checked");
    let value = match (name, x) {
        ("pow", x) => binary(Op::Pow, x, args.next().expect("arity checked"))?,
        ("min" | "max", x) => args.fold(x, |a, b| {
            let less = match (&a, &b) {
                (Exact(p), Exact(q)) => p < q,
                _ => a.to_f64() < b.to_f64(),
            };
            if less == (name == "min") { a } else { b }
        }),
        ("abs", Exact(r)) => Exact(r.abs()),
        ("abs", Float(f)) => Float(f.abs()),
        ("round", Exact(r)) => Exact(r.round()),
        ("floor", Exact(r)) => Exact(r.floor()),
        ("ceil", Exact(r)) => Exact(r.ceil()),
        ("round", Float(f)) => whole(f.round()),
        ("floor", Float(f)) => whole(f.floor()),
        ("ceil", Float(f)) => whole(f.ceil()),
        ("sqrt", x) if x.to_f64() < 0.0 => return Err("sqrt of a negative number".into()),
        ("sqrt", Exact(r)) => {
            exact_root(&r).unwrap_or_else(|| Float(r.to_f64().unwrap_or(f64::NAN).sqrt()))
        }
        ("ln" | "log10", x) if x.to_f64() <= 0.0 => {
            return Err(format!("{name} is defined for positive numbers only"));
        }
        (name, x) => {
            let f = x.to_f64();
            Float(match name {
                "sqrt" => f.sqrt(),
                "ln" => f.ln(),
                "log10" => f.log10(),
                "exp" => f.exp(),
                "sin" => f.sin(),
                "cos" => f.cos(),
                "tan" => f.tan(),
                _ => unreachable!("every function in FUNCTIONS is handled"),
            })
        }
    };
    checked(value)
}

/// A whole float is an exact integer again where every digit of it is known (below 2^53);
/// beyond that its low digits are the float's noise, so it stays a float.
fn whole(f: f64) -> Number {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match BigRational::from_float(f) {
        Some(r) if f.abs() < EXACT => Exact(r),
        _ => Float(f),
    }
}

/// The square root of a rational whose numerator and denominator are perfect squares.
fn exact_root(r: &BigRational) -> Option<Number> {
    let root = |n: &BigInt| {
        let s = n.sqrt();
        (&s * &s == *n).then_some(s)
    };
    Some(Exact(BigRational::new(root(r.numer())?, root(r.denom())?)))
}

/// The canonical text of a number:
/// - exact integers in full;
/// - exact decimals in full up to 40 significant digits and 20 decimals (`399.5`, `0.3`);
/// - anything else (1/3, floats) correctly rounded to 12 significant digits, trailing zeros
///   dropped, in scientific notation beyond 1e15 or below 1e-6 (`0.333333333333`, `2e-7`).
pub fn format(n: Number) -> String {
    match n {
        Exact(r) if r.is_integer() => r.to_integer().to_string(),
        Exact(r) => full_decimal(&r).unwrap_or_else(|| rounded(&r)),
        Float(f) => float_text(f),
    }
}

/// A float to 12 significant digits: Rust's formatting rounds the float's exact binary
/// value (ties to even), then the digits are placed as [`format`] places them.
fn float_text(f: f64) -> String {
    let rounded: f64 = format!("{f:.11e}").parse().unwrap_or(f);
    let magnitude = rounded.abs();
    if rounded == 0.0 {
        "0".into()
    } else if (1e-6..1e15).contains(&magnitude) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

/// The exact decimal digits of `r`, where it has a short terminating expansion.
fn full_decimal(r: &BigRational) -> Option<String> {
    let mut denominator = r.denom().clone();
    let (two, five) = (BigInt::from(2u8), BigInt::from(5u8));
    let mut factors = [0u32; 2];
    for (count, p) in factors.iter_mut().zip([&two, &five]) {
        while (&denominator % p).is_zero() {
            denominator /= p;
            *count += 1;
        }
    }
    let decimals = factors[0].max(factors[1]);
    if !denominator.is_one() || decimals > FULL_DECIMALS {
        return None;
    }
    let scaled = r.numer() * num_traits::pow(BigInt::from(10u8), decimals as usize) / r.denom();
    let digits = scaled.magnitude().to_string();
    if digits.trim_start_matches('0').trim_end_matches('0').len() > FULL_DIGITS {
        return None;
    }
    Some(place_point(r.is_negative(), &digits, -(decimals as i64)))
}

/// `r` rounded (half away from zero) to [`SIGNIFICANT`] digits.
fn rounded(r: &BigRational) -> String {
    if r.is_zero() {
        return "0".into();
    }
    let magnitude = r.abs();
    // 10^k ≤ |r| < 10^(k+1): estimated from the sizes of the numerator and denominator
    // (within a step or two, whatever the magnitude: a float estimate is infinite or zero
    // beyond f64's range), then corrected exactly.
    let bits = magnitude.numer().bits() as f64 - magnitude.denom().bits() as f64;
    let mut k = (bits * std::f64::consts::LOG10_2).floor() as i64;
    while ten_to(k) > magnitude {
        k -= 1;
    }
    while ten_to(k + 1) <= magnitude {
        k += 1;
    }
    let shift = SIGNIFICANT as i64 - 1 - k;
    let mut mantissa = (magnitude * ten_to(shift)).round().to_integer();
    let mut exponent = -shift;
    if mantissa.to_string().len() > SIGNIFICANT as usize {
        mantissa /= 10;
        exponent += 1;
    }
    while !mantissa.is_zero() && (&mantissa % 10u8).is_zero() {
        mantissa /= 10;
        exponent += 1;
    }
    let digits = mantissa.to_string();
    let leading = exponent + digits.len() as i64 - 1;
    if (-6..15).contains(&leading) {
        return place_point(r.is_negative(), &digits, exponent);
    }
    let sign = if r.is_negative() { "-" } else { "" };
    let (first, rest) = digits.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{sign}{first}{point}{rest}e{leading}")
}

fn ten_to(k: i64) -> BigRational {
    let power = BigRational::from_integer(num_traits::pow(
        BigInt::from(10u8),
        k.unsigned_abs() as usize,
    ));
    if k < 0 { power.recip() } else { power }
}

/// `digits × 10^exponent` written out positionally.
pub(super) fn place_point(negative: bool, digits: &str, exponent: i64) -> String {
    let sign = if negative { "-" } else { "" };
    if exponent >= 0 {
        return format!("{sign}{digits}{}", "0".repeat(exponent as usize));
    }
    let decimals = exponent.unsigned_abs() as usize;
    let padded = format!(
        "{}{digits}",
        "0".repeat((decimals + 1).saturating_sub(digits.len()))
    );
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}
