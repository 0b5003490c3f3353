//! Value types of the canonical formats: calendar dates, statistics periods, HS codes, country and region
//! codes, exact money. Each parser returns a plain-language reason on failure, which the dataset reader turns
//! into a `FILE:LINE: column: reason` rejection.

use crate::util::text::is_bidi_or_invisible;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A calendar day as days since 1970-01-01. Dates are compared and subtracted constantly on the hot path, so
/// they are a plain integer rather than a struct of fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date(pub i32);

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm, valid for the proleptic
/// Gregorian calendar).
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Number of days in a month of the Gregorian calendar.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Years the tool accepts. Four-digit years keep `YYYY-MM-DD` unambiguous; anything else is a typo.
pub const MIN_YEAR: i32 = 1000;
pub const MAX_YEAR: i32 = 9999;

fn parse_year(s: &str) -> Result<i32, String> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("year '{s}' is not four digits"));
    }
    let y: i32 = s.parse().map_err(|_| format!("bad year '{s}'"))?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err(format!("year {y} is outside {MIN_YEAR}..{MAX_YEAR}"));
    }
    Ok(y)
}

fn parse_month(s: &str) -> Result<u32, String> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("month '{s}' is not two digits"));
    }
    let m: u32 = s.parse().map_err(|_| format!("bad month '{s}'"))?;
    if !(1..=12).contains(&m) {
        return Err(format!("month {m} does not exist"));
    }
    Ok(m)
}

impl Date {
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Date {
        Date(days_from_civil(y, m, d))
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Parses `YYYY-MM-DD` and rejects days that do not exist (2023-02-30).
    pub fn parse(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        // The common case, checked byte by byte without allocating; anything else gets a precise message.
        if b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        {
            let num = |r: std::ops::Range<usize>| {
                b[r].iter().fold(0u32, |a, c| a * 10 + (c - b'0') as u32)
            };
            let (y, m, d) = (num(0..4) as i32, num(5..7), num(8..10));
            if (MIN_YEAR..=MAX_YEAR).contains(&y)
                && (1..=12).contains(&m)
                && d >= 1
                && d <= days_in_month(y, m)
            {
                return Ok(Date::from_ymd(y, m, d));
            }
        }
        Date::parse_slow(s)
    }

    fn parse_slow(s: &str) -> Result<Date, String> {
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() != 3 {
            return Err(format!("'{s}' is not a date YYYY-MM-DD"));
        }
        let y = parse_year(parts[0]).map_err(|e| format!("'{s}' is not a date YYYY-MM-DD: {e}"))?;
        let m =
            parse_month(parts[1]).map_err(|e| format!("'{s}' is not a date YYYY-MM-DD: {e}"))?;
        let ds = parts[2];
        if ds.len() != 2 || !ds.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "'{s}' is not a date YYYY-MM-DD: day '{ds}' is not two digits"
            ));
        }
        let d: u32 = ds.parse().map_err(|_| format!("'{s}' is not a date"))?;
        let dim = days_in_month(y, m);
        if d == 0 || d > dim {
            return Err(format!(
                "'{s}' is not a calendar day ({y}-{m:02} has {dim} days)"
            ));
        }
        Ok(Date::from_ymd(y, m, d))
    }

    pub fn add_days(self, n: i32) -> Date {
        Date(self.0.saturating_add(n))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A statistics period: a calendar month or a calendar year, as the half-open day range it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    pub year: i32,
    /// 1..=12 for a month, 0 for the whole year.
    pub month: u32,
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, String> {
        // Split without collecting: a statistics file has one period per row.
        let mut parts = s.split('-');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(y), None, _) => Ok(Period {
                year: parse_year(y)
                    .map_err(|e| format!("'{s}' is not a period YYYY-MM or YYYY: {e}"))?,
                month: 0,
            }),
            (Some(y), Some(m), None) => {
                let year = parse_year(y)
                    .map_err(|e| format!("'{s}' is not a period YYYY-MM or YYYY: {e}"))?;
                let month = parse_month(m)
                    .map_err(|e| format!("'{s}' is not a period YYYY-MM or YYYY: {e}"))?;
                Ok(Period { year, month })
            }
            _ => Err(format!("'{s}' is not a period YYYY-MM or YYYY")),
        }
    }

    pub fn is_year(self) -> bool {
        self.month == 0
    }

    /// First day of the period.
    pub fn start(self) -> Date {
        Date::from_ymd(self.year, if self.month == 0 { 1 } else { self.month }, 1)
    }

    /// First day after the period.
    pub fn end(self) -> Date {
        if self.month == 0 || self.month == 12 {
            Date::from_ymd(self.year + 1, 1, 1)
        } else {
            Date::from_ymd(self.year, self.month + 1, 1)
        }
    }

    pub fn days(self) -> i32 {
        self.end().0 - self.start().0
    }

    /// Whether `other` lies inside this period (a month inside its year, or the same period).
    pub fn contains(self, other: Period) -> bool {
        self.year == other.year && (self.month == 0 || self.month == other.month)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.month == 0 {
            write!(f, "{:04}", self.year)
        } else {
            write!(f, "{:04}-{:02}", self.year, self.month)
        }
    }
}

/// An HS code of 2 to 10 digits, kept as its digits' value and length so that prefix tests are integer
/// arithmetic and the code costs nine bytes, not a heap string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hs {
    pub code: u64,
    pub len: u8,
}

const POW10: [u64; 11] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
];

impl Hs {
    /// Parses an HS code; dots and spaces are stripped (`6704.20` is `670420`).
    pub fn parse(s: &str) -> Result<Hs, String> {
        let mut code: u64 = 0;
        let mut len = 0u8;
        for c in s.bytes() {
            match c {
                b'0'..=b'9' => {
                    len = len.saturating_add(1);
                    if len <= 10 {
                        code = code * 10 + (c - b'0') as u64;
                    }
                }
                b'.' | b' ' => {}
                _ => return Err(format!("HS code '{s}' is not digits")),
            }
        }
        if len == 0 {
            return Err("empty HS code".into());
        }
        if !(2..=10).contains(&len) {
            return Err(format!("HS code '{s}' has {len} digits, expected 2 to 10"));
        }
        Ok(Hs { code, len })
    }

    /// The first `n` digits (the whole code when it is shorter).
    pub fn prefix(self, n: u8) -> Hs {
        if self.len <= n {
            self
        } else {
            Hs {
                code: self.code / POW10[(self.len - n) as usize],
                len: n,
            }
        }
    }

    /// The 4-digit heading (or the code itself when it has fewer digits).
    pub fn heading(self) -> Hs {
        self.prefix(4)
    }

    /// True when one code is a prefix of the other.
    pub fn overlaps(self, other: Hs) -> bool {
        let n = self.len.min(other.len);
        self.prefix(n) == other.prefix(n)
    }

    /// True when `self` starts with `p`.
    pub fn starts_with(self, p: Hs) -> bool {
        self.len >= p.len && self.prefix(p.len) == p
    }
}

impl fmt::Display for Hs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.code, width = self.len as usize)
    }
}

/// Whether two ASCII capitals are an ISO 3166-1 alpha-2 code. Every row carries a country or two, so the
/// standard's list is turned once into a 26 x 26 table instead of hashing each code into it.
fn alpha2_known(up: [u8; 2]) -> bool {
    static KNOWN: std::sync::OnceLock<[bool; 26 * 26]> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let mut t = [false; 26 * 26];
        for (i, slot) in t.iter_mut().enumerate() {
            let code = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8];
            *slot = std::str::from_utf8(&code)
                .ok()
                .and_then(rust_iso3166::from_alpha2)
                .is_some();
        }
        t
    });
    let (a, b) = (up[0].wrapping_sub(b'A'), up[1].wrapping_sub(b'A'));
    a < 26 && b < 26 && known[a as usize * 26 + b as usize]
}

/// An ISO 3166-1 alpha-2 country code, two ASCII capitals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country(pub [u8; 2]);

impl Country {
    pub fn parse(s: &str) -> Result<Country, String> {
        let t = s.trim().as_bytes();
        if t.len() != 2 || !t.iter().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("'{s}' is not an ISO 3166-1 alpha-2 country code"));
        }
        let up = [t[0].to_ascii_uppercase(), t[1].to_ascii_uppercase()];
        if !alpha2_known(up) {
            return Err(format!("unknown country code '{s}' (not in ISO 3166-1)"));
        }
        Ok(Country(up))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the first `len` bytes of `code` (upper-cased, zero-padded) are an ISO 3166-2 code, as
/// `rust_iso3166::iso3166_2::from_code` says. The codes are gathered once into a hash set of fixed-size
/// keys: the crate's own map hashes the text with SipHash at every look-up, and a statistics row has one.
fn subdivision_known(code: [u8; 6], len: usize) -> bool {
    type Known = std::collections::HashSet<
        ([u8; 6], usize),
        std::hash::BuildHasherDefault<crate::util::fxhash::FxHasher>,
    >;
    static KNOWN: std::sync::OnceLock<Known> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        rust_iso3166::iso3166_2::SUBDIVISION_MAP
            .keys()
            .filter_map(|k| {
                let mut b = [0u8; 6];
                b.get_mut(..k.len())?.copy_from_slice(k.as_bytes());
                Some((b, k.len()))
            })
            .collect()
    });
    known.contains(&(code, len))
}

/// An ISO 3166-2 subdivision code such as `CN-HA`: at most six ASCII bytes, zero-padded, so it is `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(pub [u8; 6]);

impl Region {
    pub fn parse(s: &str) -> Result<Region, String> {
        let unknown = || format!("unknown region code '{s}' (not in ISO 3166-2)");
        let t = s.trim().as_bytes();
        if t.len() > 6 {
            return Err(unknown());
        }
        // Upper-cased in place: no heap string per row.
        let mut b = [0u8; 6];
        for (d, c) in b.iter_mut().zip(t) {
            *d = c.to_ascii_uppercase();
        }
        if !subdivision_known(b, t.len()) {
            return Err(unknown());
        }
        Ok(Region(b))
    }

    pub fn as_str(&self) -> &str {
        let n = self.0.iter().position(|b| *b == 0).unwrap_or(6);
        std::str::from_utf8(&self.0[..n]).unwrap_or("??")
    }

    pub fn country(&self) -> Country {
        Country([self.0[0], self.0[1]])
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HS codes, countries and regions travel as their codes (`"670420"`, `"KP"`, `"CN-HA"`) in JSON and in
/// snapshots, so settings and reports read as a person writes them, and map keys work in JSON.
macro_rules! serde_as_code {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_code!(Hs);
serde_as_code!(Country);
serde_as_code!(Region);

/// The largest money amount (in USD or in the source currency) the tool accepts. It keeps every sum over a
/// dataset far inside `Decimal`'s range, so totals can never overflow; a larger figure is a data error.
pub fn max_amount() -> Decimal {
    MAX_AMOUNT
}

const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Parses an exact non-negative decimal by one strict grammar: `DIGITS` or `DIGITS.DIGITS`, no sign, no
/// exponent, a digit on both sides of the point. A `,` can only reach this function from a quoted CSV field
/// (an unquoted one splits the row), so thousands separators are accepted, as SPEC §2 allows, in the integer
/// part only and in groups of three (`"5,848,714.25"`); anything else (`"1.500,000"`, `"1,000.5,5"`) is
/// ambiguous and rejected. The value is exact or rejected: digits beyond what `Decimal` holds are never
/// rounded away (60 zeros and a 1 is not 0).
pub fn parse_amount(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    if let Some((v, too_large)) = plain_amount(t.as_bytes()) {
        if too_large {
            return Err(format!("'{t}' is too large (more than 10^15)"));
        }
        return Ok(v);
    }
    if t.is_empty() {
        return Err("empty value".into());
    }
    if t.starts_with('-') {
        return Err(format!("negative value '{t}'"));
    }
    let bad = |why: &str| Err(format!("'{t}' is not a number ({why})"));
    if t.starts_with('+') {
        return bad("no sign is allowed");
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    if int.is_empty() {
        return bad("no digit before the decimal point");
    }
    if let Some(f) = frac {
        if f.is_empty() {
            return bad("no digit after the decimal point");
        }
        if f.contains(',') {
            return bad("a thousands separator after the decimal point");
        }
        if !f.bytes().all(|b| b.is_ascii_digit()) {
            return bad("only digits may follow the decimal point");
        }
    }
    if int.contains(',') {
        if !thousands_ok(int) {
            return bad("misplaced thousands separator");
        }
    } else if !int.bytes().all(|b| b.is_ascii_digit()) {
        return bad("only digits, a decimal point and quoted thousands separators are allowed");
    }
    let int: String = int.chars().filter(|c| *c != ',').collect();
    let int = int.trim_start_matches('0');
    if int.len() > 16 {
        return Err(format!("'{t}' is too large (more than 10^15)"));
    }
    let frac = frac.unwrap_or("");
    let sig = frac.trim_end_matches('0');
    if sig.len() > MAX_SCALE {
        return Err(format!(
            "'{t}' has {} decimal places; at most {MAX_SCALE} are held exactly",
            sig.len()
        ));
    }
    // The written scale is kept where it fits (`1.50` stays `1.50`); zeros beyond it are dropped, exactly.
    let kept = if frac.len() <= MAX_SCALE { frac } else { sig };
    let int = if int.is_empty() { "0" } else { int };
    let plain = if kept.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{kept}")
    };
    let v = Decimal::from_str(&plain).map_err(|e| format!("'{t}' is not a number: {e}"))?;
    let exact = if sig.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{sig}")
    };
    if v.normalize().to_string() != exact {
        return Err(format!(
            "'{t}' has more significant digits than are held exactly (about 28)"
        ));
    }
    if v > max_amount() {
        return Err(format!("'{t}' is too large (more than 10^15)"));
    }
    Ok(v)
}

/// The most decimal places a `Decimal` holds.
const MAX_SCALE: usize = 28;

/// The common shape of an amount, `DIGITS` or `DIGITS.DIGITS` with at most 18 digits in all, read straight
/// into a mantissa and a scale. It gives the same `Decimal`, trailing zeros and scale included, as
/// `Decimal::from_str` (a test holds the two together); every other shape returns `None` and takes the
/// general path with its precise messages. The flag says whether the amount is above [`max_amount`],
/// found on the integers (a `Decimal` comparison across scales costs more than the parse).
fn plain_amount(b: &[u8]) -> Option<(Decimal, bool)> {
    let mut mantissa: u64 = 0;
    let mut digits = 0u32;
    let mut int_digits = 0u32;
    let mut dot = false;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + (c - b'0') as u64;
                digits += 1;
                if digits > 18 {
                    return None;
                }
            }
            b'.' if !dot && digits > 0 => {
                dot = true;
                int_digits = digits;
            }
            _ => return None,
        }
    }
    let scale = if dot {
        if digits == int_digits {
            return None;
        }
        digits - int_digits
    } else {
        if digits == 0 {
            return None;
        }
        0
    };
    let too_large = mantissa as u128 > 10u128.pow(15 + scale);
    let v = Decimal::from_parts(mantissa as u32, (mantissa >> 32) as u32, 0, false, scale);
    Some((v, too_large))
}

fn thousands_ok(body: &str) -> bool {
    let int = body.split('.').next().unwrap_or("");
    let groups: Vec<&str> = int.split(',').collect();
    if groups[0].is_empty() || groups[0].len() > 3 {
        return false;
    }
    groups[1..]
        .iter()
        .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses a share in [0, 1], written by the grammar of [`parse_amount`] (no sign, no exponent, no bare
/// point), so `+0.5`, `.5` and `-0` are rejected here as they are in money.
pub fn parse_share(s: &str) -> Result<f64, String> {
    let t = s.trim();
    parse_amount(t).map_err(|e| {
        if e.starts_with("negative") {
            format!("share {t} is outside 0..1")
        } else {
            e
        }
    })?;
    let plain: String = t.chars().filter(|c| *c != ',').collect();
    let v: f64 = plain
        .parse()
        .map_err(|_| format!("'{t}' is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("share {t} is outside 0..1"));
    }
    Ok(v)
}

/// Checks an id (a party, shipment, statistics row, supplier link or watchlist entry): printable characters
/// only; and for a party id (`party`), no `>`, which separates the parties of a path (`top_path`), so an
/// id can never forge a hop.
pub fn check_id(s: &str, party: bool) -> Result<(), String> {
    if s.bytes()
        .all(|b| (0x20..0x7F).contains(&b) && !(party && b == b'>'))
    {
        return Ok(());
    }
    for c in s.chars() {
        if party && c == '>' {
            return Err(format!(
                "id '{s}' contains '>', which separates the parties of a path"
            ));
        }
        if c.is_control() || is_bidi_or_invisible(c) {
            return Err(format!(
                "id {:?} contains the control or formatting character U+{:04X}",
                s, c as u32
            ));
        }
    }
    Ok(())
}

/// An ISO 4217 code: three ASCII letters, upper-cased.
pub fn parse_currency(s: &str) -> Result<[u8; 3], String> {
    match s.trim().as_bytes() {
        [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => Ok([
            a.to_ascii_uppercase(),
            b.to_ascii_uppercase(),
            c.to_ascii_uppercase(),
        ]),
        _ => Err(format!("'{s}' is not an ISO 4217 currency code")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::text::printable;

    #[test]
    fn regions_are_the_crates_subdivisions() {
        let by_crate = |s: &str| {
            let t = s.trim();
            t.len() <= 6 && rust_iso3166::iso3166_2::from_code(&t.to_ascii_uppercase()).is_some()
        };
        let mut n = 0;
        for k in rust_iso3166::iso3166_2::SUBDIVISION_MAP.keys() {
            for s in [
                k.to_string(),
                k.to_ascii_lowercase(),
                format!(" {k}"),
                format!("{k}X"),
            ] {
                assert_eq!(Region::parse(&s).is_ok(), by_crate(&s), "{s:?}");
                n += by_crate(&s) as usize;
            }
        }
        assert!(n > 3000, "{n}");
        for s in [
            "", "CN", "CN-", "CN-H", "CN-HA\0", "CN\0HA", "XX-YY", "é-AB", "cn-ha",
        ] {
            assert_eq!(Region::parse(s).is_ok(), by_crate(s), "{s:?}");
        }
    }

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        let d = Date::parse("2023-05-10").unwrap();
        assert_eq!(d.to_string(), "2023-05-10");
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_err());
        assert!(
            Date::parse("2023-02-30")
                .unwrap_err()
                .contains("not a calendar day")
        );
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("23-01-01").is_err());
        assert_eq!(Date::parse("1970-01-01").unwrap(), Date(0));
        assert_eq!(
            Date::parse("2023-05-10")
                .unwrap()
                .add_days(-180)
                .to_string(),
            "2022-11-11"
        );
    }

    #[test]
    fn periods_cover_their_days() {
        let p = Period::parse("2023-04").unwrap();
        assert_eq!(p.days(), 30);
        assert_eq!(Period::parse("2024").unwrap().days(), 366);
        assert!(Period::parse("2023").unwrap().contains(p));
        assert!(Period::parse("2023-4").is_err());
    }

    #[test]
    fn hs_prefixes() {
        let a = Hs::parse("6704.20").unwrap();
        assert_eq!(a.to_string(), "670420");
        assert_eq!(a.heading().to_string(), "6704");
        assert!(a.overlaps(Hs::parse("6704").unwrap()));
        assert!(!a.overlaps(Hs::parse("6703").unwrap()));
        assert_eq!(Hs::parse("050100").unwrap().heading().to_string(), "0501");
        assert!(Hs::parse("67a4").is_err());
    }

    #[test]
    fn amounts_are_exact_and_strict() {
        assert_eq!(parse_amount("5,848,714").unwrap(), Decimal::from(5_848_714));
        assert_eq!(parse_amount("0.1").unwrap().to_string(), "0.1");
        assert!(parse_amount("-5").unwrap_err().contains("negative"));
        assert!(parse_amount("12a").is_err());
        assert!(parse_amount("1,00").is_err());
        assert!(parse_amount("1e5").is_err());
    }

    #[test]
    fn ambiguous_or_inexact_numbers_are_rejected_with_their_reason() {
        for (v, why) in [
            ("1.500,000", "after the decimal point"),
            ("1,000.5,5", "after the decimal point"),
            ("12,345.678,9", "after the decimal point"),
            ("1,000.", "no digit after"),
            ("5.", "no digit after"),
            (".5", "no digit before"),
            ("+5", "no sign"),
            ("-0", "negative"),
            ("1,0000", "misplaced"),
            ("1.2.3", "only digits"),
            ("1\"5", "only digits"),
        ] {
            let e = parse_amount(v).unwrap_err();
            assert!(e.contains(why), "{v}: {e}");
        }
        let tiny = format!("0.{}1", "0".repeat(60));
        assert!(parse_amount(&tiny).unwrap_err().contains("decimal places"));
        let rate = format!("0.{}1", "0".repeat(30));
        assert!(parse_amount(&rate).unwrap_err().contains("decimal places"));
        let long = format!("123456789012345.{}", "1".repeat(20));
        assert!(parse_amount(&long).unwrap_err().contains("held exactly"));
        // Exact values keep their digits: zeros past the 28th place are dropped, nothing else.
        let zeros = format!("2.5{}", "0".repeat(40));
        assert_eq!(parse_amount(&zeros).unwrap().to_string(), "2.5");
        assert_eq!(
            parse_amount("0.0000000000000000000000000001")
                .unwrap()
                .to_string(),
            "0.0000000000000000000000000001"
        );
        assert_eq!(parse_amount("12,345.678").unwrap().to_string(), "12345.678");
        for v in ["+0.5", ".5", "-0", "0.5.", "1,0.5"] {
            assert!(parse_share(v).is_err(), "{v}");
        }
        assert_eq!(parse_share("0.25").unwrap(), 0.25);
    }

    #[test]
    fn ids_are_printable_without_the_path_separator() {
        assert!(check_id("P-1 (Dandong) Ltd.", true).is_ok());
        assert!(check_id("工厂-7", true).is_ok());
        assert!(check_id("WL-<1>", false).is_ok());
        assert!(check_id("a>b", true).is_err());
        for bad in ["a\0b", "a\nb", "a\u{202E}b", "a\u{200B}b", "a\tb"] {
            assert!(check_id(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(printable("a\u{1b}[31mb\u{202E}c\0"), "a [31mbc ");
        assert!(matches!(printable("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn plain_amounts_match_decimal_from_str() {
        let mut cases: Vec<String> = [
            "0",
            "00",
            "0.0",
            "0.000",
            "7",
            "007",
            "1.50",
            "71796.08",
            "000123.4500",
            "1.00000000000000000",
            "123456789012345678",
            "99999999999999999.9",
            "0.000000000000000001",
            "1000000000000000",
            "1000000000000000.0",
            "1000000000000001",
            "1000000000000000.000001",
            "999999999999999.999",
            "0001000000000000000.0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int_len = (x % 12) as usize + 1;
            let frac_len = ((x >> 8) % 9) as usize;
            let digits: String = (0..int_len + frac_len)
                .map(|i| (b'0' + ((x >> (i * 3 % 60)) % 10) as u8) as char)
                .collect();
            let (a, b) = digits.split_at(int_len);
            cases.push(if b.is_empty() {
                a.to_string()
            } else {
                format!("{a}.{b}")
            });
        }
        for c in &cases {
            let got = plain_amount(c.as_bytes());
            if c.bytes().filter(u8::is_ascii_digit).count() > 18 {
                assert!(got.is_none(), "{c}");
                continue;
            }
            let want = Decimal::from_str(c).unwrap();
            let (v, too_large) = got.unwrap();
            assert_eq!(v.serialize(), want.serialize(), "{c}");
            assert_eq!(too_large, want > max_amount(), "{c}");
            // Converting a non-zero USD amount to USD leaves the very same value, scale included (the
            // loader skips that multiplication); zero loses its scale, so it is still multiplied.
            if !v.is_zero() {
                assert_eq!(
                    v.checked_mul(Decimal::ONE).unwrap().serialize(),
                    v.serialize(),
                    "{c}"
                );
            }
        }
        for c in [
            "0.1234567890123456789012345678",
            "999999999999999.9999999999999",
            "1,000,000.0000000000000000000001",
            "1.0000000000000000000000000000000000",
        ] {
            let v = parse_amount(c).unwrap();
            assert_eq!(
                v.checked_mul(Decimal::ONE).unwrap().serialize(),
                v.serialize(),
                "{c}"
            );
        }
        for c in [
            "",
            ".",
            ".5",
            "5.",
            "1.2.3",
            "-1",
            "+1",
            "1,000",
            "1e5",
            "1234567890123456789",
        ] {
            assert!(plain_amount(c.as_bytes()).is_none(), "{c}");
        }
        assert!(
            parse_amount("1000000000000001")
                .unwrap_err()
                .contains("too large")
        );
        assert_eq!(parse_amount("1000000000000000").unwrap(), max_amount());
        assert_eq!(max_amount(), Decimal::from(1_000_000_000_000_000_u64));
    }

    #[test]
    fn country_table_matches_the_standard() {
        for a in 0u8..=255 {
            for b in [b'P', b'p', b'S', b'Z', b'0', a] {
                let s = String::from_utf8_lossy(&[a, b]).into_owned();
                let t = s.trim().as_bytes();
                let want = t.len() == 2
                    && t.iter().all(|c| c.is_ascii_alphabetic())
                    && rust_iso3166::from_alpha2(&s.trim().to_ascii_uppercase()).is_some();
                assert_eq!(Country::parse(&s).is_ok(), want, "{s:?}");
            }
        }
        assert_eq!(Country::parse(" kp ").unwrap().as_str(), "KP");
    }

    #[test]
    fn currencies_periods_and_regions_keep_their_rules() {
        assert_eq!(parse_currency(" eur ").unwrap(), *b"EUR");
        assert!(parse_currency("EU1").is_err());
        assert!(parse_currency("EURO").is_err());
        assert!(parse_currency("é€").is_err());
        assert_eq!(
            Period::parse("2023").unwrap(),
            Period {
                year: 2023,
                month: 0
            }
        );
        assert_eq!(
            Period::parse("2023-04").unwrap(),
            Period {
                year: 2023,
                month: 4
            }
        );
        assert_eq!(
            Period::parse("2023-04-01").unwrap_err(),
            "'2023-04-01' is not a period YYYY-MM or YYYY"
        );
        assert!(Period::parse("").is_err());
        assert!(Period::parse("-").is_err());
        assert_eq!(Region::parse(" cn-ha ").unwrap().as_str(), "CN-HA");
        assert!(Region::parse("CN-HAX").is_err());
        assert!(Region::parse("CN-HAXXX").is_err());
        assert!(Region::parse("é").is_err());
    }

    #[test]
    fn codes_are_checked_against_iso() {
        assert!(Country::parse("KP").is_ok());
        assert!(Country::parse("XX").is_err());
        assert!(Region::parse("CN-HA").is_ok());
        assert!(Region::parse("CN-ZZ").is_err());
    }
}
