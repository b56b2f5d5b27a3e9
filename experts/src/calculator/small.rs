//! Small exact rationals: the first reading of every expression. A value is a reduced
//! fraction of two 128-bit integers, so everyday arithmetic (`2350 * 17 / 100`) allocates
//! nothing. Whatever it cannot do exactly (a value past 128 bits, a float: pi, roots,
//! logarithms, fractional powers) is [`Failure::TooBig`], and the expression is read again
//! with big rationals ([`Number`]); whatever it does, it does exactly as they would, so the
//! answers and errors are the same either way (a differential test holds them to it).

use num_bigint::BigInt;
use num_rational::BigRational;

use super::number::{self, Number, Op};
use super::parse::{Failure, Value, constant};

/// `num / den`, reduced, `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Small {
    num: i128,
    den: i128,
}

type Step = Result<Small, Failure>;

fn fits<T>(value: Option<T>) -> Result<T, Failure> {
    value.ok_or(Failure::TooBig)
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    // At most |i128::MIN|, which only (i128::MIN, 0) gives; `new` refuses it.
    i128::try_from(a).unwrap_or(0)
}

impl Small {
    fn new(num: i128, den: i128) -> Step {
        let g = gcd(num, den);
        if g == 0 {
            return Err(Failure::TooBig);
        }
        let (num, den) = (num / g, den / g);
        if den < 0 {
            return Ok(Small {
                num: fits(num.checked_neg())?,
                den: fits(den.checked_neg())?,
            });
        }
        Ok(Small { num, den })
    }

    fn integer(num: i128) -> Small {
        Small { num, den: 1 }
    }

    /// The value as the big type holds it.
    pub fn number(self) -> Number {
        Number::Exact(BigRational::new(
            BigInt::from(self.num),
            BigInt::from(self.den),
        ))
    }

    /// The value printed as [`number::format`] prints it.
    pub fn text(self) -> String {
        if self.den == 1 {
            return self.num.to_string();
        }
        self.decimal()
            .unwrap_or_else(|| number::format(self.number()))
    }

    /// The exact decimal digits, where the denominator divides a power of ten that fits:
    /// what [`number::format`] prints in full.
    fn decimal(self) -> Option<String> {
        let mut rest = self.den;
        let (mut twos, mut fives) = (0u32, 0u32);
        while rest % 2 == 0 {
            rest /= 2;
            twos += 1;
        }
        while rest % 5 == 0 {
            rest /= 5;
            fives += 1;
        }
        let decimals = twos.max(fives);
        if rest != 1 || decimals > number::FULL_DECIMALS {
            return None;
        }
        let scaled = self
            .num
            .checked_mul(10i128.checked_pow(decimals)? / self.den)?;
        let digits = scaled.unsigned_abs().to_string();
        if digits.trim_start_matches('0').trim_end_matches('0').len() > number::FULL_DIGITS {
            return None;
        }
        Some(number::place_point(
            scaled < 0,
            &digits,
            -i64::from(decimals),
        ))
    }

    fn add(self, other: Small, sign: i128) -> Step {
        let g = gcd(self.den, other.den);
        let (left, right) = (self.den / g, other.den / g);
        let a = fits(self.num.checked_mul(right))?;
        let b = fits(
            other
                .num
                .checked_mul(left)
                .and_then(|b| b.checked_mul(sign)),
        )?;
        Small::new(fits(a.checked_add(b))?, fits(self.den.checked_mul(right))?)
    }

    fn mul(self, other: Small) -> Step {
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        let num = fits((self.num / g1).checked_mul(other.num / g2))?;
        let den = fits((self.den / g2).checked_mul(other.den / g1))?;
        Small::new(num, den)
    }

    fn recip(self) -> Step {
        Small::new(self.den, self.num)
    }

    /// The largest integer not above the value.
    fn floor(self) -> i128 {
        self.num.div_euclid(self.den)
    }

    fn power(self, exponent: Small) -> Step {
        if exponent.den != 1 {
            return Err(Failure::TooBig); // a float
        }
        let e = exponent.num;
        match (self.num, self.den) {
            (0, _) if e < 0 => Err("division by zero (zero to a negative power)".into()),
            (0, _) if e == 0 => Ok(Small::integer(1)),
            (0, _) => Ok(Small::integer(0)),
            (1, 1) => Ok(Small::integer(1)),
            (-1, 1) => Ok(Small::integer(if e % 2 == 0 { 1 } else { -1 })),
            _ => {
                let magnitude = fits(u32::try_from(e.unsigned_abs()).ok())?;
                let raised = Small::new(
                    fits(self.num.checked_pow(magnitude))?,
                    fits(self.den.checked_pow(magnitude))?,
                )?;
                if e < 0 { raised.recip() } else { Ok(raised) }
            }
        }
    }

    fn round(self) -> Step {
        // Half away from zero, as big rationals (and f64::round) do.
        let twice = fits(self.num.checked_mul(2))?;
        let den2 = fits(self.den.checked_mul(2))?;
        let up = |n: i128| fits(n.checked_add(self.den)).map(|n| n.div_euclid(den2));
        Ok(Small::integer(if self.num >= 0 {
            up(twice)?
        } else {
            fits(up(fits(twice.checked_neg())?)?.checked_neg())?
        }))
    }
}

impl Value for Small {
    fn literal(mantissa: &str, exponent: i64) -> Result<Self, Failure> {
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.len() + fraction.len() > 36 {
            return Err(Failure::TooBig);
        }
        let digits = |s: &str| -> Result<i128, Failure> {
            if s.is_empty() {
                return Ok(0);
            }
            s.parse::<i128>().map_err(|_| Failure::TooBig)
        };
        let scale = exponent - fraction.len() as i64;
        if scale.abs() > 36 {
            return Err(Failure::TooBig);
        }
        let ten = fits(10i128.checked_pow(scale.unsigned_abs() as u32))?;
        let shift = fits(10i128.checked_pow(fraction.len() as u32))?;
        let value = fits(
            digits(whole)?
                .checked_mul(shift)
                .and_then(|w| w.checked_add(digits(fraction).ok()?)),
        )?;
        if scale >= 0 {
            Ok(Small::integer(fits(value.checked_mul(ten))?))
        } else {
            Small::new(value, ten)
        }
    }

    fn binary(op: Op, a: Self, b: Self) -> Result<Self, Failure> {
        if matches!(op, Op::Div | Op::Mod) && b.num == 0 {
            return Err("division by zero".into());
        }
        match op {
            Op::Add => a.add(b, 1),
            Op::Sub => a.add(b, -1),
            Op::Mul => a.mul(b),
            Op::Div => a.mul(b.recip()?),
            // Floor modulo, as in Python: the result takes the divisor's sign.
            Op::Mod => {
                let quotient = a.mul(b.recip()?)?.floor();
                a.add(b.mul(Small::integer(quotient))?, -1)
            }
            Op::Pow => a.power(b),
        }
    }

    fn negate(self) -> Result<Self, Failure> {
        Ok(Small {
            num: fits(self.num.checked_neg())?,
            den: self.den,
        })
    }

    fn constant(name: &str) -> Result<Self, Failure> {
        match constant(name) {
            Ok(_) => Err(Failure::TooBig), // pi and e are floats
            Err(message) => Err(Failure::Error(message)),
        }
    }

    /// The functions that keep exact values exact; the rest (and every arity error, whose
    /// wording the big path owns) are read again with big rationals.
    fn call(name: &str, args: Vec<Self>) -> Result<Self, Failure> {
        match (name, args.as_slice()) {
            ("abs", [x]) => x
                .num
                .checked_abs()
                .map_or(Err(Failure::TooBig), |num| Ok(Small { num, den: x.den })),
            ("floor", [x]) => Ok(Small::integer(x.floor())),
            ("ceil", [x]) => Ok(Small::integer(fits(x.negate()?.floor().checked_neg())?)),
            ("round", [x]) => x.round(),
            ("pow", [x, y]) => x.power(*y),
            ("min" | "max", [first, rest @ ..]) => rest.iter().try_fold(*first, |a, &b| {
                // a/b < c/d ⇔ a·d < c·b (denominators are positive); an overflow defers to
                // big rationals.
                let x = fits(a.num.checked_mul(b.den))?;
                let y = fits(b.num.checked_mul(a.den))?;
                Ok(if (x < y) == (name == "min") { a } else { b })
            }),
            _ => Err(Failure::TooBig),
        }
    }
}
