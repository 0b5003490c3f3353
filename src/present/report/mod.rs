//! Batch reports (`report`): every shipment scored, summaries per importer and per exporter, and the run's
//! metadata, written by one exporter per format behind the [`Exporter`] trait.

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;

use crate::data::dataset::FileStats;
use crate::data::settings::Settings;
use crate::engine::analysis::{Analysis, Scored, path_string};
use crate::engine::model::Mix;
use crate::engine::rules::Severity;
use crate::query::money;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Serialize;
use std::collections::BTreeMap;

/// One row of the shipments table (SPEC §4 column order).
#[derive(Clone, Debug, Serialize)]
pub struct ShipmentRow {
    pub shipment_id: String,
    pub date: String,
    pub shipper_id: String,
    pub shipper_name: String,
    pub shipper_country: String,
    pub shipper_region: String,
    pub consignee_id: String,
    pub consignee_name: String,
    pub consignee_country: String,
    pub hs_code: String,
    pub value_usd: String,
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    pub documented: f64,
    pub declared: f64,
    pub statistical: f64,
    pub reachable: bool,
    pub severity: Severity,
    pub flags: Vec<String>,
    pub top_path: String,
    /// The prevalence of the pool the output takes (SPEC §3 v2), `None` when it takes none.
    pub prevalence: Option<f64>,
    pub coverage: f64,
    pub exposed_value_usd: String,
    /// Whether the path search behind `top_path` was cut by its bounds (issue 14: a cut list says so in every
    /// format): the share is exact, the path shown may not be the largest, or may be missing.
    pub paths_truncated: bool,
    #[serde(skip)]
    pub ship: u32,
    #[serde(skip)]
    pub exposed: Decimal,
}

/// A party's line in the importer or exporter summary.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub party_id: String,
    pub name: String,
    pub country: String,
    pub region: String,
    pub shipments: usize,
    pub value_usd: String,
    /// Σ value × sanctioned, exact, rounded to cents at the end.
    pub exposed_value_usd: String,
    pub flagged_shipments: usize,
    pub severity: Severity,
    pub flag_counts: BTreeMap<String, usize>,
    #[serde(skip)]
    pub exposed: Decimal,
}

#[derive(Clone, Debug, Serialize)]
pub struct InputFile {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

/// Enough to reproduce a run: tool and model versions, settings in force, inputs and their hashes.
#[derive(Clone, Debug, Serialize)]
pub struct RunMeta {
    pub tool: &'static str,
    pub version: &'static str,
    pub model_version: &'static str,
    pub settings: Settings,
    pub inputs: Vec<InputFile>,
    pub shipments: usize,
    pub rows_shown: usize,
    pub flagged_only: bool,
    pub min_severity: Severity,
}

/// Headline figures.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    pub shipments: usize,
    pub value_usd: String,
    pub exposed_value_usd: String,
    pub flagged_shipments: usize,
    pub flagged_value_usd: String,
    pub by_severity: BTreeMap<&'static str, usize>,
}

pub struct Report {
    pub meta: RunMeta,
    pub totals: Totals,
    pub rows: Vec<ShipmentRow>,
    pub importers: Vec<Summary>,
    pub exporters: Vec<Summary>,
    /// The scored shipments of `rows`, in the same order (for exporters that draw paths).
    pub scored: Vec<Scored>,
}

/// What to include.
#[derive(Clone, Copy, Debug)]
pub struct Filter {
    pub flagged_only: bool,
    pub min_severity: Severity,
}

impl Filter {
    /// Whether a row is shown.
    pub fn keeps(&self, r: &ShipmentRow) -> bool {
        (!self.flagged_only || !r.flags.is_empty()) && r.severity >= self.min_severity
    }
}

fn cents(d: Decimal) -> String {
    money(d.round_dp(2))
}

pub fn exposed(value: Decimal, share: f64) -> Decimal {
    Decimal::from_f64(share)
        .map(|s| value * s)
        .unwrap_or(Decimal::ZERO)
}

pub(crate) fn row_of(a: &Analysis, sc: &Scored) -> ShipmentRow {
    let ds = a.ds();
    let s = &ds.shipments[sc.ship as usize];
    let (sh, co) = (ds.party(s.shipper), ds.party(s.consignee));
    let m: &Mix = &sc.outcome.mix;
    let ex = exposed(s.value_usd, m.sanctioned());
    ShipmentRow {
        shipment_id: ds.shipment_id(s).to_string(),
        date: s.date.to_string(),
        shipper_id: sh.id.clone(),
        shipper_name: sh.name.clone(),
        shipper_country: sh.country.to_string(),
        shipper_region: sh.region.map(|r| r.to_string()).unwrap_or_default(),
        consignee_id: co.id.clone(),
        consignee_name: co.name.clone(),
        consignee_country: co.country.to_string(),
        hs_code: s.hs.to_string(),
        value_usd: money(s.value_usd),
        sanctioned: m.sanctioned(),
        clean: m.clean(),
        unknown: m.u,
        documented: m.s[0],
        declared: m.s[1],
        statistical: m.s[2],
        reachable: sc.outcome.reachable,
        severity: sc.severity,
        flags: sc.flags.iter().map(|f| f.rule.clone()).collect(),
        top_path: sc
            .paths
            .first()
            .map(|p| path_string(ds, p))
            .unwrap_or_default(),
        prevalence: sc.outcome.prevalence,
        coverage: m.coverage(),
        exposed_value_usd: cents(ex),
        paths_truncated: sc.truncated,
        ship: sc.ship,
        exposed: ex,
    }
}

fn summarise(
    a: &Analysis,
    rows: &[ShipmentRow],
    party_of: impl Fn(&ShipmentRow) -> &str,
) -> Vec<Summary> {
    let ds = a.ds();
    let mut by: BTreeMap<String, Summary> = BTreeMap::new();
    let mut values: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in rows {
        let id = party_of(r).to_string();
        let p = ds.party(ds.party_by_id(&id).unwrap_or(0));
        let e = by.entry(id.clone()).or_insert_with(|| Summary {
            party_id: p.id.clone(),
            name: p.name.clone(),
            country: p.country.to_string(),
            region: p.region.map(|r| r.to_string()).unwrap_or_default(),
            shipments: 0,
            value_usd: String::new(),
            exposed_value_usd: String::new(),
            flagged_shipments: 0,
            severity: Severity::None,
            flag_counts: BTreeMap::new(),
            exposed: Decimal::ZERO,
        });
        e.shipments += 1;
        e.exposed += r.exposed;
        *values.entry(id).or_default() += ds.shipments[r.ship as usize].value_usd;
        if !r.flags.is_empty() {
            e.flagged_shipments += 1;
        }
        e.severity = e.severity.max(r.severity);
        for f in &r.flags {
            *e.flag_counts.entry(f.clone()).or_default() += 1;
        }
    }
    let mut out: Vec<Summary> = by
        .into_iter()
        .map(|(id, mut s)| {
            s.value_usd = money(values.get(&id).copied().unwrap_or_default());
            s.exposed_value_usd = cents(s.exposed);
            s
        })
        .collect();
    out.sort_by(|a, b| {
        b.exposed
            .cmp(&a.exposed)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.party_id.cmp(&b.party_id))
    });
    out
}

/// Builds the report from every shipment's score.
pub fn build(a: &Analysis, scored: Vec<Scored>, filter: Filter) -> Report {
    let ds = a.ds();
    let mut all: Vec<(ShipmentRow, Scored)> =
        scored.into_iter().map(|sc| (row_of(a, &sc), sc)).collect();
    all.sort_by(|(x, _), (y, _)| {
        y.sanctioned
            .total_cmp(&x.sanctioned)
            .then_with(|| x.shipment_id.cmp(&y.shipment_id))
    });
    let rows_all: Vec<ShipmentRow> = all.iter().map(|(r, _)| r.clone()).collect();
    let importers = summarise(a, &rows_all, |r| &r.consignee_id);
    let exporters = summarise(a, &rows_all, |r| &r.shipper_id);
    let mut by_severity: BTreeMap<&'static str, usize> = BTreeMap::new();
    for s in [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::None,
    ] {
        by_severity.insert(s.as_str(), 0);
    }
    let mut value = Decimal::ZERO;
    let mut exposed_total = Decimal::ZERO;
    let mut flagged_value = Decimal::ZERO;
    let mut flagged = 0;
    for r in &rows_all {
        let v = ds.shipments[r.ship as usize].value_usd;
        value += v;
        exposed_total += r.exposed;
        *by_severity.entry(r.severity.as_str()).or_default() += 1;
        if !r.flags.is_empty() {
            flagged += 1;
            flagged_value += v;
        }
    }
    let totals = Totals {
        shipments: rows_all.len(),
        value_usd: money(value),
        exposed_value_usd: cents(exposed_total),
        flagged_shipments: flagged,
        flagged_value_usd: money(flagged_value),
        by_severity,
    };
    let keep = |r: &ShipmentRow| filter.keeps(r);
    let (rows, scored): (Vec<ShipmentRow>, Vec<Scored>) =
        all.into_iter().filter(|(r, _)| keep(r)).unzip();
    let meta = RunMeta {
        tool: "origintrace",
        version: env!("CARGO_PKG_VERSION"),
        model_version: crate::MODEL_VERSION,
        settings: a.st().clone(),
        inputs: input_files(&ds.stats),
        shipments: ds.shipments.len(),
        rows_shown: rows.len(),
        flagged_only: filter.flagged_only,
        min_severity: filter.min_severity,
    };
    Report {
        meta,
        totals,
        rows,
        importers,
        exporters,
        scored,
    }
}

pub fn input_files(stats: &[FileStats]) -> Vec<InputFile> {
    stats
        .iter()
        .map(|s| InputFile {
            file: s.file.clone(),
            sha256: s.sha256.clone(),
            bytes: s.bytes,
            read: s.read,
            accepted: s.accepted,
            rejected: s.rejected,
        })
        .collect()
}

/// Which table the CSV exporter writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Shipments,
    Importers,
    Exporters,
}

/// A report format.
pub trait Exporter {
    fn export(&self, a: &Analysis, r: &Report) -> Result<Vec<u8>, String>;
}

/// A share for tables: up to nine decimals, trailing zeros trimmed.
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
