//! The number formats every layer prints. A figure is written the same way wherever it appears: in a flag's
//! detail (engine), a view model's strings and the graph's sort keys (query), and every renderer (present);
//! so each format has one definition here, at the bottom of the layers, where all of them can reach it.
//! Formats only pages use (digit grouping, shortened labels) are in `present::fmt`.

use rust_decimal::Decimal;

/// Money as a decimal string: exact, without trailing zeros, rounded to cents when pro-rating made it long.
pub fn money(d: Decimal) -> String {
    let d = if d.scale() > 2 { d.round_dp(2) } else { d };
    d.normalize().to_string()
}

/// A share as a percentage with two decimals (`0.125` → `12.50%`), as `trace`, `vet`, the flags and the
/// pages print it.
pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A share for tables and exports: up to nine decimals, trailing zeros trimmed.
pub fn share(x: f64) -> String {
    share_exact(x).unwrap_or_else(|| share_formatted(x))
}

/// [`share`] through `format!`: for the values the integer path does not take, and the reference its
/// tests hold it to.
fn share_formatted(x: f64) -> String {
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// [`share`] for a finite, non-negative `x` below 2^20, in integer arithmetic: `x` is `m · 2^e` exactly,
/// so `x · 10^9` is `m · 10^9 · 2^e`, and rounding it to an integer (ties to even, as `format!` does) is a
/// shift and a look at the bits shifted out. Same text as `format!("{x:.9}")` trimmed, bit for bit (the
/// tests compare them), at a fraction of the cost: a national report prints seven shares per row.
fn share_exact(x: f64) -> Option<String> {
    if !(x.is_finite() && x.is_sign_positive() && x < (1u64 << 20) as f64) {
        return None;
    }
    const SCALE: u128 = 1_000_000_000;
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    // x < 2^20 makes e < 0: the value is v / 2^s.
    let s = u32::try_from(-e).ok()?;
    let v = m as u128 * SCALE;
    let q = if s >= 128 {
        // v < 2^83, less than half of 2^s: rounds to 0.
        0
    } else {
        let q = v >> s;
        let r = v & ((1u128 << s) - 1);
        let half = 1u128 << (s - 1);
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let (int, mut frac) = (q / SCALE, (q % SCALE) as u32);
    let mut out = String::with_capacity(18);
    std::fmt::Write::write_fmt(&mut out, format_args!("{int}")).ok()?;
    if frac != 0 {
        let mut digits = [b'0'; 9];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        let len = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
        out.push('.');
        out.extend(digits[..len].iter().map(|&d| d as char));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_shares_print_as_format_does() {
        let mut xs: Vec<f64> = vec![
            0.0,
            1.0,
            0.1,
            0.5,
            1e-9,
            5e-10,
            4.9999999999e-10,
            5.000000001e-10,
            1e-10,
            0.9999999995,
            0.99999999949,
            0.999999999,
            f64::MIN_POSITIVE,
            5e-324,
            123456.789,
            (1u64 << 20) as f64 - 0.5,
        ];
        // Exact ties at the ninth decimal: k / 1024 for odd k.
        xs.extend((0..=4096).map(|k| k as f64 / 1024.0));
        xs.extend((0..1100).map(|n| 2f64.powi(-n)));
        // Values from all over [0, 1) and just around every ninth-decimal boundary near a few points.
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            xs.push((r >> 11) as f64 / (1u64 << 53) as f64);
            xs.push(f64::from_bits(r >> 2));
        }
        for base in [0.25, 0.123456789, 0.0000000015, 0.7] {
            let mut x: f64 = base;
            for _ in 0..2000 {
                xs.push(x);
                x = f64::from_bits(x.to_bits() + 1);
            }
        }
        for x in xs {
            if share_exact(x).is_some() {
                assert_eq!(share(x), share_formatted(x), "{x:e} ({:#x})", x.to_bits());
            }
        }
        for x in [-0.0, -1e-12, -0.5, f64::NAN, f64::INFINITY, 2e6] {
            assert!(share_exact(x).is_none());
            assert_eq!(share(x), share_formatted(x));
        }
    }
}
