//! `report`: every shipment scored, in rows in the SPEC §4 column order, summaries per importer and per
//! exporter, headline totals and the run's metadata; and, for a page that draws them, the paths of its top
//! flagged shipments.

use crate::data::dataset::{FileStats, PartyId, ShipmentId};
use crate::data::settings::Settings;
use crate::engine::analysis::{Analysis, BatchPaths, Scored, path_string};
use crate::engine::model::Grade;
use crate::engine::model::Mix;
use crate::engine::rules::{Flag, Severity};
use crate::query::trace::{NodeView, PathJson, path_json, window};
use crate::util::fmt::money;
use rayon::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

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
        self.keeps_scored(!r.flags.is_empty(), r.severity)
    }

    /// [`Filter::keeps`] from what a score says before its row is made.
    pub fn keeps_scored(&self, flagged: bool, severity: Severity) -> bool {
        (!self.flagged_only || flagged) && severity >= self.min_severity
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

/// The headline totals and the importer and exporter summaries, added up one shipment at a time in report
/// order. Sums of exact decimals are kept in that order, so a report built whole ([`build`]) and one
/// streamed a block at a time (`present::json::stream_report`) print the same digits.
pub struct Tally<'a> {
    a: &'a Analysis<'a>,
    shipments: usize,
    value: Decimal,
    exposed: Decimal,
    flagged_value: Decimal,
    flagged: usize,
    by_severity: BTreeMap<&'static str, usize>,
    importers: HashMap<PartyId, (Summary, Decimal)>,
    exporters: HashMap<PartyId, (Summary, Decimal)>,
}

impl<'a> Tally<'a> {
    pub fn new(a: &'a Analysis<'a>) -> Tally<'a> {
        let by_severity = [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::None,
        ]
        .into_iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        Tally {
            a,
            shipments: 0,
            value: Decimal::ZERO,
            exposed: Decimal::ZERO,
            flagged_value: Decimal::ZERO,
            flagged: 0,
            by_severity,
            importers: HashMap::new(),
            exporters: HashMap::new(),
        }
    }

    /// Adds one shipment: its exposed value, severity and the rules it raised.
    pub fn add<'f>(
        &mut self,
        ship: ShipmentId,
        exposed: Decimal,
        severity: Severity,
        flags: impl Iterator<Item = &'f str> + Clone,
    ) {
        let ds = self.a.ds();
        let s = ds.shipment(ship);
        let flagged = flags.clone().next().is_some();
        self.shipments += 1;
        self.value += s.value_usd;
        self.exposed += exposed;
        *self.by_severity.entry(severity.as_str()).or_default() += 1;
        if flagged {
            self.flagged += 1;
            self.flagged_value += s.value_usd;
        }
        for (by, party) in [
            (&mut self.importers, s.consignee),
            (&mut self.exporters, s.shipper),
        ] {
            let (e, value) = by.entry(party).or_insert_with(|| {
                let p = ds.party(party);
                let summary = Summary {
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
                };
                (summary, Decimal::ZERO)
            });
            e.shipments += 1;
            e.exposed += exposed;
            *value += s.value_usd;
            if flagged {
                e.flagged_shipments += 1;
            }
            e.severity = e.severity.max(severity);
            for f in flags.clone() {
                *e.flag_counts.entry(f.to_string()).or_default() += 1;
            }
        }
    }

    /// Adds one report row.
    pub fn add_row(&mut self, r: &ShipmentRow) {
        self.add(
            r.ship,
            r.exposed,
            r.severity,
            r.flags.iter().map(String::as_str),
        );
    }

    /// The totals, then the importer and the exporter summaries, each sorted by exposed value (highest
    /// first), then severity, then party id.
    pub fn finish(self) -> (Totals, Vec<Summary>, Vec<Summary>) {
        let totals = Totals {
            shipments: self.shipments,
            value_usd: money(self.value),
            exposed_value_usd: cents(self.exposed),
            flagged_shipments: self.flagged,
            flagged_value_usd: money(self.flagged_value),
            by_severity: self.by_severity,
        };
        let sorted = |by: HashMap<PartyId, (Summary, Decimal)>| {
            let mut out: Vec<Summary> = by
                .into_values()
                .map(|(mut s, value)| {
                    s.value_usd = money(value);
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
        };
        (totals, sorted(self.importers), sorted(self.exporters))
    }
}

/// The run's metadata, for a report of `rows_shown` rows.
pub fn run_meta(a: &Analysis, filter: Filter, rows_shown: usize) -> RunMeta {
    let ds = a.ds();
    RunMeta {
        tool: "origintrace",
        version: env!("CARGO_PKG_VERSION"),
        model_version: crate::MODEL_VERSION,
        settings: a.st().clone(),
        inputs: input_files(&ds.stats),
        shipments: ds.shipments.len(),
        rows_shown,
        flagged_only: filter.flagged_only,
        min_severity: filter.min_severity,
    }
}

/// How many shipments a streamed report scores between two writes: enough to keep every core busy, few
/// enough that a block's output stays a few megabytes.
pub const BLOCK: usize = 1 << 13;

/// What the first pass of a streamed report learns, holding no row: the totals and summaries, which rows
/// the filter shows, and (when asked) the flagged rows shown, by position in report order.
pub struct Tallied<'a> {
    pub tally: Tally<'a>,
    /// Per position in report order, whether the filter shows the row.
    pub kept: Vec<bool>,
    /// The shown rows that raised a flag: position in report order, exposed value and severity.
    pub flagged: Vec<(usize, Decimal, Severity)>,
    /// The highest severity of any shipment, shown or not (what `--fail-on` reads).
    pub worst: Severity,
}

impl Tallied<'_> {
    /// How many rows the filter shows.
    pub fn shown(&self) -> usize {
        self.kept.iter().filter(|&&k| k).count()
    }
}

/// Scores every shipment of `order` (report order) once, in parallel blocks, adding each to a [`Tally`]
/// in order, so its sums are the ones [`build`] makes. With `list_flagged`, also lists the flagged rows
/// shown (a page needs them; a JSON document does not).
pub fn tally_pass<'a>(
    a: &'a Analysis<'a>,
    paths: &BatchPaths,
    order: &[ShipmentId],
    filter: Filter,
    list_flagged: bool,
) -> Tallied<'a> {
    let shown = crate::util::progress::bar("scoring", order.len() as u64, "shipments");
    let mut t = Tallied {
        tally: Tally::new(a),
        kept: vec![false; order.len()],
        flagged: Vec::new(),
        worst: Severity::None,
    };
    for (b, block) in order.chunks(BLOCK).enumerate() {
        let scored: Vec<(Decimal, Severity, Vec<String>)> = block
            .par_iter()
            .map(|&i| {
                let sc = a.score_batch_with(i, paths, false);
                let value = a.ds().shipment(i).value_usd;
                let exposed = exposed(value, sc.outcome.mix.sanctioned());
                let rules = sc.flags.into_iter().map(|f| f.rule).collect();
                (exposed, sc.severity, rules)
            })
            .collect();
        for (j, (&i, (ex, sev, rules))) in block.iter().zip(scored).enumerate() {
            let pos = b * BLOCK + j;
            t.worst = t.worst.max(sev);
            let keep = filter.keeps_scored(!rules.is_empty(), sev);
            t.kept[pos] = keep;
            if keep && list_flagged && !rules.is_empty() {
                t.flagged.push((pos, ex, sev));
            }
            t.tally.add(i, ex, sev, rules.iter().map(String::as_str));
        }
        shown.inc(block.len() as u64);
    }
    crate::util::timing::phase("score-and-tally");
    t
}

/// Builds the report from every shipment's score.
pub fn build(a: &Analysis, scored: Vec<Scored>, filter: Filter) -> Report {
    let mut all: Vec<ShipmentRow> = scored.into_iter().map(|sc| row_of(a, &sc)).collect();
    all.sort_by(|x, y| {
        y.sanctioned
            .total_cmp(&x.sanctioned)
            .then_with(|| x.shipment_id.cmp(&y.shipment_id))
    });
    let mut tally = Tally::new(a);
    for r in &all {
        tally.add_row(r);
    }
    let (totals, importers, exporters) = tally.finish();
    let rows: Vec<ShipmentRow> = all.into_iter().filter(|r| filter.keeps(r)).collect();
    Report {
        meta: run_meta(a, filter, rows.len()),
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
    /// The report. Its rows may be only those the page lists (see [`report_page`]): the first
    /// `table_rows` flagged rows shown, in report order, then any of `top` beyond them.
    pub report: Report,
    /// How many of the rows shown raised a flag.
    pub flagged: usize,
    /// How many flagged rows the page lists at most.
    pub table_rows: usize,
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
    let rows = &report.rows;
    let flagged: Vec<usize> = (0..rows.len())
        .filter(|&i| !rows[i].flags.is_empty())
        .collect();
    let n_flagged = flagged.len();
    let mut top = flagged;
    top.sort_by(|&i, &j| {
        let (x, y) = (&rows[i], &rows[j]);
        top_order(
            (x.exposed, x.severity, &x.shipment_id),
            (y.exposed, y.severity, &y.shipment_id),
        )
    });
    top.truncate(TOP_TRACED);
    let top = trace_top(a, rows, top);
    TracedReport {
        report,
        flagged: n_flagged,
        table_rows: PAGE_ROWS,
        top,
        paths_each: PATHS_EACH,
    }
}

/// The order of the top flagged shipments: the highest exposed value first, then the highest severity,
/// then the shipment id (unique, so the order is total).
fn top_order(x: (Decimal, Severity, &str), y: (Decimal, Severity, &str)) -> std::cmp::Ordering {
    y.0.cmp(&x.0)
        .then_with(|| y.1.cmp(&x.1))
        .then_with(|| x.2.cmp(y.2))
}

/// How many flagged rows a page lists at most: the page stays openable on a national dataset, and the CSV
/// and JSON reports have every row.
pub const PAGE_ROWS: usize = 5000;

/// The view of `report --format html`, made without holding every row: what [`traced`] makes of the whole
/// report, with `report.rows` cut to what the page prints (the first `table_rows` flagged rows shown, in
/// report order, then any top shipment beyond them). Scores every shipment once for the totals, the
/// summaries and the flagged list ([`tally_pass`]), then only the rows it keeps. Returns the highest
/// severity of any shipment too (what `--fail-on` reads).
pub fn report_page(a: &Analysis, filter: Filter, table_rows: usize) -> (TracedReport, Severity) {
    let lean = lean_report(a, filter, table_rows, TOP_TRACED);
    let top = trace_top(a, &lean.report.rows, lean.top);
    let page = TracedReport {
        report: lean.report,
        flagged: lean.flagged,
        table_rows,
        top,
        paths_each: PATHS_EACH,
    };
    (page, lean.worst)
}

/// A report whose rows are only some of the flagged rows shown: what an output that prints a few rows
/// and the summaries needs (see [`lean_report`]).
pub struct LeanReport {
    /// The totals, summaries and metadata of the whole report; its rows are the first `listed` flagged
    /// rows shown, in report order, then any of `top` beyond them.
    pub report: Report,
    /// How many of the rows shown raised a flag.
    pub flagged: usize,
    /// The `top` flagged rows with the highest exposed value (then severity, then id), as indices into
    /// `report.rows`.
    pub top: Vec<usize>,
    /// The highest severity of any shipment, shown or not (what `--fail-on` reads).
    pub worst: Severity,
}

/// The report as [`build`] makes it, but holding only the first `listed` flagged rows shown and the
/// `top` flagged rows with the highest exposed value: one scoring pass for the totals, the summaries and
/// the flagged list ([`tally_pass`]), then only the rows kept are scored again. What the HTML page, the
/// markdown summary and the importer and exporter tables print is the same as from the whole report.
pub fn lean_report(a: &Analysis, filter: Filter, listed: usize, top: usize) -> LeanReport {
    let ds = a.ds();
    let paths = a.batch_paths();
    let order = a.report_order();
    crate::util::timing::phase("report-order");
    let t = tally_pass(a, &paths, &order, filter, true);
    let shown = t.shown();
    let mut rank: Vec<&(usize, Decimal, Severity)> = t.flagged.iter().collect();
    let id = |p: usize| ds.shipment_id(ds.shipment(order[p]));
    rank.sort_by(|&&(i, x, xs), &&(j, y, ys)| top_order((x, xs, id(i)), (y, ys, id(j))));
    let first: Vec<usize> = t.flagged.iter().take(listed).map(|f| f.0).collect();
    let mut wanted = first.clone();
    let mut top_rows = Vec::new();
    for &&(pos, _, _) in rank.iter().take(top) {
        let row = match first.binary_search(&pos) {
            Ok(k) => k,
            Err(_) => {
                wanted.push(pos);
                wanted.len() - 1
            }
        };
        top_rows.push(row);
    }
    let listing = crate::util::progress::spinner("the rows listed");
    let rows: Vec<ShipmentRow> = wanted
        .par_iter()
        .map(|&pos| row_of(a, &a.score_batch_with(order[pos], &paths, false)))
        .collect();
    drop(listing);
    crate::util::timing::phase("listed-rows");
    let (totals, importers, exporters) = t.tally.finish();
    LeanReport {
        report: Report {
            meta: run_meta(a, filter, shown),
            totals,
            rows,
            importers,
            exporters,
        },
        flagged: t.flagged.len(),
        top: top_rows,
        worst: t.worst,
    }
}

/// The rows at `top` (indices into `rows`) traced again, as `trace` scores them.
fn trace_top(a: &Analysis, rows: &[ShipmentRow], top: Vec<usize>) -> Vec<TopShipment> {
    let ds = a.ds();
    top.into_iter()
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
        .collect()
}

/// What the tests of the streamed outputs share: the sample's analysis, and filters that show every row,
/// fewer, and fewer still.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::data::dataset::{self, DataSource};
    use crate::engine::paths::Limits;

    pub(crate) const FILTERS: [Filter; 3] = [
        Filter {
            flagged_only: false,
            min_severity: Severity::None,
        },
        Filter {
            flagged_only: true,
            min_severity: Severity::Medium,
        },
        Filter {
            flagged_only: false,
            min_severity: Severity::High,
        },
    ];

    /// Runs `f` on the analysis of the compiled-in sample under the default settings.
    pub(crate) fn with_sample(f: impl FnOnce(&Analysis)) {
        let ds = dataset::load(&[DataSource::Embedded(&dataset::SAMPLE)]).expect("sample");
        let st = Settings::default();
        f(&Analysis::new(&ds, &st, Limits::default()));
    }
}
