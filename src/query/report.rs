//! `report`: every shipment scored, in rows in the SPEC §4 column order, summaries per importer and per
//! exporter, headline totals and the run's metadata; and, for a page that draws them, the paths of its top
//! flagged shipments.

use crate::data::dataset::{FileStats, PartyId, ShipmentId};
use crate::data::settings::Settings;
use crate::engine::analysis::{Analysis, Scored, path_string};
use crate::engine::model::Grade;
use crate::engine::model::Mix;
use crate::engine::rules::{Flag, Severity};
use crate::query::trace::{NodeView, PathJson, path_json, window};
use crate::util::fmt::money;
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
    pub ship: ShipmentId,
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

/// An input file of the run, with its hash and row counts.
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

/// The report: its run, headline totals, the rows shown and the summaries.
pub struct Report {
    pub meta: RunMeta,
    pub totals: Totals,
    pub rows: Vec<ShipmentRow>,
    pub importers: Vec<Summary>,
    pub exporters: Vec<Summary>,
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

/// Money rounded to cents: an exposed value is a product with a share, and its digits end there.
fn cents(d: Decimal) -> String {
    money(d.round_dp(2))
}

/// The value a sanctioned share exposes, exact (a share that is not a finite number exposes nothing).
pub fn exposed(value: Decimal, share: f64) -> Decimal {
    Decimal::from_f64(share)
        .map(|s| value * s)
        .unwrap_or(Decimal::ZERO)
}

/// The report row of a scored shipment.
pub fn row_of(a: &Analysis, sc: &Scored) -> ShipmentRow {
    let ds = a.ds();
    let s = ds.shipment(sc.ship);
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
        documented: m.sanctioned_by(Grade::Documented),
        declared: m.sanctioned_by(Grade::Declared),
        statistical: m.sanctioned_by(Grade::Statistical),
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
        let p = ds.party(ds.party_by_id(&id).unwrap_or(PartyId::new(0)));
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
        *values.entry(id).or_default() += ds.shipment(r.ship).value_usd;
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
        let v = ds.shipment(r.ship).value_usd;
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
    let rows: Vec<ShipmentRow> = all
        .into_iter()
        .filter(|(r, _)| filter.keeps(r))
        .map(|(r, _)| r)
        .collect();
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
    }
}

/// The input files of a run as the report lists them.
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

/// How many of the top flagged shipments [`traced`] traces.
pub const TOP_TRACED: usize = 10;
/// How many paths each traced shipment lists at most (as `trace`'s default `--paths`).
pub const PATHS_EACH: usize = 5;

/// A report with its top flagged shipments traced again: what a page that draws their paths shows.
pub struct TracedReport {
    pub report: Report,
    /// The flagged rows with the highest exposed value, highest first, at most [`TOP_TRACED`].
    pub top: Vec<TopShipment>,
    /// How many paths each of `top` lists at most.
    pub paths_each: usize,
}

/// One of the top flagged shipments of a [`TracedReport`], scored again as `trace` scores it.
pub struct TopShipment {
    /// Its row in the report's `rows`.
    pub row: usize,
    pub flags: Vec<Flag>,
    /// Its largest paths from a sanctioned source, at most `paths_each`, each hop's ends named as the path
    /// holds them ([`NodeView::of`]).
    pub paths: Vec<PathJson>,
    /// How many paths the search found.
    pub paths_found: usize,
    /// Whether the search was cut by its bounds.
    pub truncated: bool,
}

/// The report with its top flagged shipments (the highest exposed value first, then the highest severity)
/// traced again with the analysis's own limits, exactly as `trace` scores them: a batch run may have kept
/// only what the tables need.
pub fn traced(a: &Analysis, report: Report) -> TracedReport {
    let ds = a.ds();
    let rows = &report.rows;
    let mut top: Vec<usize> = (0..rows.len())
        .filter(|&i| !rows[i].flags.is_empty())
        .collect();
    top.sort_by(|&i, &j| {
        let (x, y) = (&rows[i], &rows[j]);
        y.exposed
            .cmp(&x.exposed)
            .then_with(|| y.severity.cmp(&x.severity))
            .then_with(|| x.shipment_id.cmp(&y.shipment_id))
    });
    top.truncate(TOP_TRACED);
    let top = top
        .into_iter()
        .map(|row| {
            let sc = a.score(rows[row].ship);
            let s = ds.shipment(sc.ship);
            let (window, heading) = (window(&a.engine, s.date), s.hs.heading().to_string());
            let paths = sc
                .paths
                .iter()
                .take(PATHS_EACH)
                .map(|p| {
                    let mut j = path_json(ds, p, &window, &heading);
                    for (hj, h) in j.hops.iter_mut().zip(&p.hops) {
                        hj.from_node = NodeView::of(ds, h.from);
                        hj.to_node = NodeView::of(ds, h.to);
                    }
                    j
                })
                .collect();
            TopShipment {
                row,
                paths,
                paths_found: sc.paths.len(),
                truncated: sc.truncated,
                flags: sc.flags,
            }
        })
        .collect();
    TracedReport {
        report,
        top,
        paths_each: PATHS_EACH,
    }
}
