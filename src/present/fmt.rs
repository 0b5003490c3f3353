//! The formats renderers print figures in, in one place. Money, percentages and shares are shared with the
//! layers below (flag details, view-model strings, the graph's sort keys) and are defined in
//! [`crate::util::fmt`]; they are re-exported here with the formats only pages use.

pub use crate::util::fmt::{pct, share};

/// A decimal string with its integer part grouped by thousands (`1234567.5` → `1,234,567.5`). The digits
/// are the ones given: nothing is rounded or recomputed.
pub fn group(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_string();
    }
    let mut o = String::with_capacity(s.len() + int.len() / 3);
    o.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(c);
    }
    o.push_str(frac);
    o
}

/// Shortens a label to `n` characters (an ellipsis marks the cut).
pub fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(n.saturating_sub(1)).collect();
        o.push('…');
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits_without_changing_them() {
        assert_eq!(group("98652650"), "98,652,650");
        assert_eq!(group("28119744.04"), "28,119,744.04");
        assert_eq!(group("-1234.5"), "-1,234.5");
        assert_eq!(group("999"), "999");
        assert_eq!(group("n/a"), "n/a");
    }
}
