//! Statistics pools (SPEC §3 rule 3): what aggregate customs statistics say about the inputs of a region's,
//! or a country's, exports of one heading in a window, when no firm-level record does.

use crate::data::codes::{Country, Date, Hs, Region};
use crate::data::dataset::{Dataset, Flow, FlowId, TradeFlow};
use crate::data::settings::Settings;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Which rows of a reporter a pool is computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Rows of one region.
    Region(Region),
    /// The national rows, or the sum of the region rows where the reporter has no national rows.
    National,
    /// The country without one region: national rows minus that region's, or the other regions' rows.
    RestOf(Region),
}

/// The pro-rated sums of one pool, and the rows behind them.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// Relevant imports from each sanctioned partner.
    pub sanctioned: BTreeMap<Country, Decimal>,
    /// Relevant imports from transit partners and re-imports.
    pub unknown: Decimal,
    /// All relevant imports.
    pub imports: Decimal,
    /// Exports of the heading.
    pub exports: Decimal,
    /// (row index, pro-rated value) of the sanctioned rows, for paths and records.
    pub sanctioned_rows: Vec<(FlowId, Decimal)>,
    /// (row index, pro-rated value) of every row behind the figures, imports and exports (filled by the
    /// row scan of [`PoolIndex::figures`] only), so a trace can point at each of them.
    pub rows: Vec<(FlowId, Decimal)>,
}

impl Figures {
    pub fn s_total(&self) -> Decimal {
        self.sanctioned.values().copied().sum()
    }

    /// A pool exists when it has both relevant imports and exports of the heading.
    pub fn exists(&self) -> bool {
        self.imports > Decimal::ZERO && self.exports > Decimal::ZERO
    }

    /// `T = max(I, k·E)` (SPEC §3 v2): with `k` the heading's `input_ratio`, a region whose exports carry
    /// value added (k < 1) is not diluted by it, exactly as a firm's `O` is not.
    pub fn throughput(&self, k: f64) -> f64 {
        to_f64(self.imports).max(k * to_f64(self.exports))
    }

    /// `self - other`, class by class (each sanctioned partner, unknown, clean), each floored at zero, so the
    /// result stays a consistent pool (`S + U <= I`) even when national and region rows disagree.
    fn subtract(&self, other: &Figures) -> Figures {
        // Below a millionth of a dollar a difference is rounding noise of the running integrals, not trade.
        let pos = |d: Decimal| {
            if d < Decimal::new(1, 6) {
                Decimal::ZERO
            } else {
                d
            }
        };
        let mut sanctioned = BTreeMap::new();
        for (k, v) in &self.sanctioned {
            let o = other.sanctioned.get(k).copied().unwrap_or_default();
            sanctioned.insert(*k, pos(*v - o));
        }
        let unknown = pos(self.unknown - other.unknown);
        let clean = pos((self.imports - self.s_total() - self.unknown)
            - (other.imports - other.s_total() - other.unknown));
        let imports = sanctioned.values().copied().sum::<Decimal>() + unknown + clean;
        Figures {
            sanctioned,
            unknown,
            imports,
            exports: pos(self.exports - other.exports),
            sanctioned_rows: self.sanctioned_rows.clone(),
            rows: self.rows.clone(),
        }
    }

    fn add(&mut self, other: &Figures) {
        for (k, v) in &other.sanctioned {
            *self.sanctioned.entry(*k).or_default() += *v;
        }
        self.unknown += other.unknown;
        self.imports += other.imports;
        self.exports += other.exports;
        self.sanctioned_rows
            .extend(other.sanctioned_rows.iter().copied());
        self.rows.extend(other.rows.iter().copied());
    }
}

pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// The shares a pool gives, all statistical: sanctioned, clean, unknown (adding up to 1).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PoolMix {
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
}

/// The running integral of a piecewise-constant daily rate. A statistics row spreads its value evenly over
/// the days of its period, so the pro-rated sum of any set of rows over any window is `F(hi) - F(lo)`: two
/// binary searches, whatever the number of rows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Series {
    days: Vec<i32>,
    /// The integral up to `days[i]`.
    #[serde(with = "crate::util::codec::decimals")]
    integral: Vec<Decimal>,
    /// The rate from `days[i]` to the next point.
    #[serde(with = "crate::util::codec::decimals")]
    rate: Vec<Decimal>,
}

impl Series {
    fn build(rows: &[(Date, Date, Decimal)]) -> Series {
        let mut ev: Vec<(i32, Decimal, i32)> = Vec::with_capacity(rows.len() * 2);
        for &(a, b, v) in rows {
            let days = (b.0 - a.0).max(1);
            let rate = v / Decimal::from(days);
            ev.push((a.0, rate, 1));
            ev.push((b.0, -rate, -1));
        }
        // Issue 14: a total order (day, then ends before starts, then rate), not the rows' file order: the
        // rates are rounded, so their sum depends on the order it is taken in.
        ev.sort_by_key(|e| (e.0, e.2, e.1));
        let mut s = Series::default();
        let (mut f, mut r, mut active) = (Decimal::ZERO, Decimal::ZERO, 0i32);
        let mut i = 0;
        while i < ev.len() {
            let d = ev[i].0;
            if let Some(&last) = s.days.last() {
                f += r * Decimal::from(d - last);
            }
            while i < ev.len() && ev[i].0 == d {
                r += ev[i].1;
                active += ev[i].2;
                i += 1;
            }
            // Rates are rounded to 28 digits, so a sum of them need not return exactly to zero when every
            // row has ended; with no row active the rate is zero by definition.
            if active == 0 {
                r = Decimal::ZERO;
            }
            s.days.push(d);
            s.integral.push(f);
            s.rate.push(r);
        }
        s
    }

    fn at(&self, x: i32) -> Decimal {
        let i = self.days.partition_point(|d| *d <= x);
        if i == 0 {
            return Decimal::ZERO;
        }
        self.integral[i - 1] + self.rate[i - 1] * Decimal::from(x - self.days[i - 1])
    }

    /// The sum over `[lo, hi)`. Below a millionth of a dollar it is rounding noise of the rates, and zero.
    fn between(&self, lo: Date, hi: Date) -> Decimal {
        let v = self.at(hi.0) - self.at(lo.0);
        if v < Decimal::new(1, 6) {
            Decimal::ZERO
        } else {
            v
        }
    }
}

/// The series of one (reporter, rows, flow, HS code), split the way pools need it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Classes {
    total: Series,
    unknown: Series,
    sanctioned: Vec<(Country, Series)>,
}

/// (reporter, rows, heading, day) of whole-country figures.
type WholeKey = (Country, Rows, Hs, Date);

/// Per region, the codes whose sanctioned series a heading reads.
type SanctionedPlan = Vec<(Region, Vec<Hs>)>;

/// (reporter, rows, flow, HS code): one set of running integrals.
type SeriesKey = (Country, Rows, Flow, Hs);

/// Which rows a series set sums: one region's, the national rows, or all region rows of the reporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
enum Rows {
    Region(Region),
    National,
    AllRegions,
}

/// Rows of one reporter, bucketed by (scope rows, flow, heading of the row) and sorted by period start, so a
/// pool reads only the headings it needs inside its window. Serialisable so a snapshot stores it built.
#[derive(Default, Serialize, Deserialize)]
pub struct PoolIndex {
    /// Running integrals per (reporter, rows, flow, HS code): what the engine reads.
    #[serde(serialize_with = "crate::util::codec::sorted_map")]
    series: crate::util::fxhash::FxMap<SeriesKey, Classes>,
    /// The HS codes with series, by heading, per (reporter, rows, flow).
    #[serde(serialize_with = "crate::util::codec::sorted_map")]
    codes: HashMap<(Country, Rows, Flow), BTreeMap<Hs, Vec<Hs>>>,
    /// Memoised [`PoolIndex::relevant_codes`]: the same few headings are asked for again and again.
    #[serde(skip)]
    relevant: std::sync::RwLock<crate::util::fxhash::FxMap<SeriesKey, std::sync::Arc<Vec<Hs>>>>,
    /// Memoised [`PoolIndex::whole`].
    #[serde(skip)]
    wholes: std::sync::RwLock<crate::util::fxhash::FxMap<WholeKey, Arc<Figures>>>,
    /// Memoised [`PoolIndex::sanctioned_plan`].
    #[serde(skip)]
    sanctioned_plans:
        std::sync::RwLock<crate::util::fxhash::FxMap<(Country, Hs), Arc<SanctionedPlan>>>,
    #[serde(serialize_with = "crate::util::codec::sorted_map")]
    buckets: HashMap<(Country, Option<Region>, Flow, Hs), Vec<FlowId>>,
    /// Regions with rows, per reporter.
    #[serde(serialize_with = "crate::util::codec::sorted_map")]
    regions: HashMap<Country, BTreeSet<Region>>,
    /// Reporters with at least one national row.
    has_national: BTreeSet<Country>,
    /// Headings with rows, per (reporter, region, flow) (for prefixes shorter than a heading).
    #[serde(serialize_with = "crate::util::codec::sorted_map")]
    headings: HashMap<(Country, Option<Region>, Flow), BTreeSet<Hs>>,
}

impl PoolIndex {
    pub fn new(ds: &Dataset, st: &Settings) -> PoolIndex {
        let mut ix = PoolIndex::default();
        // (reporter, rows, flow, code) -> class -> rows; class 0 total, 1 unknown, 2 a sanctioned partner.
        type Class = (u8, Option<Country>);
        type Spans = Vec<(Date, Date, Decimal)>;
        let mut groups: BTreeMap<SeriesKey, BTreeMap<Class, Spans>> = BTreeMap::new();
        for f in ds.flows.iter().filter(|f| !f.superseded) {
            let span = (f.period.start(), f.period.end(), f.value_usd);
            let rows = match f.region {
                Some(r) => vec![Rows::Region(r), Rows::AllRegions],
                None => vec![Rows::National],
            };
            for rw in rows {
                let g = groups.entry((f.reporter, rw, f.flow, f.hs)).or_default();
                g.entry((0, None)).or_default().push(span);
                if f.flow == Flow::Import {
                    if st.is_sanctioned(f.partner) {
                        g.entry((2, Some(f.partner))).or_default().push(span);
                    } else if st.is_transit(f.partner) || f.partner == f.reporter {
                        g.entry((1, None)).or_default().push(span);
                    }
                }
            }
        }
        for ((rep, rw, flow, code), classes) in groups {
            let mut c = Classes::default();
            for ((kind, partner), rows) in classes {
                let series = Series::build(&rows);
                match (kind, partner) {
                    (0, _) => c.total = series,
                    (1, _) => c.unknown = series,
                    (_, Some(k)) => c.sanctioned.push((k, series)),
                    _ => {}
                }
            }
            ix.codes
                .entry((rep, rw, flow))
                .or_default()
                .entry(code.heading())
                .or_default()
                .push(code);
            ix.series.insert((rep, rw, flow, code), c);
        }
        for (i, f) in ds.flows.iter().enumerate() {
            if f.superseded {
                continue;
            }
            ix.buckets
                .entry((f.reporter, f.region, f.flow, f.hs.heading()))
                .or_default()
                .push(FlowId::from_index(i));
            ix.headings
                .entry((f.reporter, f.region, f.flow))
                .or_default()
                .insert(f.hs.heading());
            match f.region {
                Some(r) => {
                    ix.regions.entry(f.reporter).or_default().insert(r);
                }
                None => {
                    ix.has_national.insert(f.reporter);
                }
            }
        }
        for v in ix.buckets.values_mut() {
            // Issue 14: ties on the period's start broken by the row's content, not its place in the file.
            v.sort_by_key(|&i| {
                let f = ds.flow(i);
                (
                    f.period.start(),
                    f.period.end(),
                    f.region,
                    f.partner,
                    f.hs,
                    f.value_usd,
                    i,
                )
            });
        }
        ix
    }

    /// Whether an index loaded from a snapshot can serve a dataset of `n_flows` statistics rows without an
    /// out-of-range read: row numbers in range, and each series' columns of one length.
    pub fn fits(&self, n_flows: usize) -> bool {
        let series_ok =
            |s: &Series| s.integral.len() == s.days.len() && s.rate.len() == s.days.len();
        self.buckets
            .values()
            .flatten()
            .all(|&i| i.index() < n_flows)
            && self.series.values().all(|c| {
                series_ok(&c.total)
                    && series_ok(&c.unknown)
                    && c.sanctioned.iter().all(|(_, s)| series_ok(s))
            })
    }

    /// Sums over the rows of one (reporter, region-or-national) in the window `[t - lag, t)`.
    fn rows_figures(
        &self,
        ds: &Dataset,
        st: &Settings,
        reporter: Country,
        region: Option<Region>,
        o: Hs,
        t: Date,
    ) -> Figures {
        let lo = t.add_days(-st.lag_days);
        let mut fig = Figures::default();
        let prefixes = st.input_prefixes(o);
        let mut import_headings: BTreeSet<Hs> = BTreeSet::new();
        if let Some(hs) = self.headings.get(&(reporter, region, Flow::Import)) {
            for h in hs {
                if prefixes.iter().any(|p| h.overlaps(*p)) {
                    import_headings.insert(*h);
                }
            }
        }
        let visit = |flow: Flow, heading: Hs, fig: &mut Figures| {
            let Some(rows) = self.buckets.get(&(reporter, region, flow, heading)) else {
                return;
            };
            // Yearly rows start up to a year before the window, so scan from a year before its start.
            let from = rows.partition_point(|&i| ds.flow(i).period.start() < lo.add_days(-366));
            for &i in &rows[from..] {
                let f: &TradeFlow = ds.flow(i);
                let (ps, pe) = (f.period.start(), f.period.end());
                if ps >= t {
                    break;
                }
                let overlap = pe.0.min(t.0) - ps.0.max(lo.0);
                if overlap <= 0 {
                    continue;
                }
                let relevant = match flow {
                    Flow::Import => prefixes.iter().any(|p| f.hs.overlaps(*p)),
                    Flow::Export => f.hs.starts_with(o),
                };
                if !relevant {
                    continue;
                }
                let days = f.period.days();
                let v = if overlap >= days {
                    f.value_usd
                } else {
                    f.value_usd * Decimal::from(overlap) / Decimal::from(days)
                };
                fig.rows.push((i, v));
                match flow {
                    Flow::Export => fig.exports += v,
                    Flow::Import => {
                        fig.imports += v;
                        if st.is_sanctioned(f.partner) {
                            *fig.sanctioned.entry(f.partner).or_default() += v;
                            fig.sanctioned_rows.push((i, v));
                        } else if st.is_transit(f.partner) || f.partner == reporter {
                            fig.unknown += v;
                        }
                    }
                }
            }
        };
        for h in import_headings {
            visit(Flow::Import, h, &mut fig);
        }
        let export_keys = self
            .headings
            .get(&(reporter, region, Flow::Export))
            .into_iter()
            .flatten()
            .copied();
        for h in export_headings(export_keys, o) {
            visit(Flow::Export, h, &mut fig);
        }
        fig
    }

    /// The figures of a scope (see [`Scope`]).
    pub fn figures(
        &self,
        ds: &Dataset,
        st: &Settings,
        reporter: Country,
        scope: Scope,
        o: Hs,
        t: Date,
    ) -> Figures {
        let regions = || self.regions.get(&reporter).into_iter().flatten().copied();
        match scope {
            Scope::Region(r) => self.rows_figures(ds, st, reporter, Some(r), o, t),
            Scope::National => {
                if self.national_mode(st, reporter, o, t) {
                    self.rows_figures(ds, st, reporter, None, o, t)
                } else {
                    let mut f = Figures::default();
                    for r in regions() {
                        f.add(&self.rows_figures(ds, st, reporter, Some(r), o, t));
                    }
                    f
                }
            }
            Scope::RestOf(r) => {
                if self.national_mode(st, reporter, o, t) {
                    let nat = self.rows_figures(ds, st, reporter, None, o, t);
                    nat.subtract(&self.rows_figures(ds, st, reporter, Some(r), o, t))
                } else {
                    let mut f = Figures::default();
                    for other in regions().filter(|x| *x != r) {
                        f.add(&self.rows_figures(ds, st, reporter, Some(other), o, t));
                    }
                    f
                }
            }
        }
    }

    /// [`PoolIndex::relevant_codes`], memoised per (reporter, rows, flow, heading).
    fn relevant_cached(
        &self,
        st: &Settings,
        reporter: Country,
        rows: Rows,
        flow: Flow,
        o: Hs,
    ) -> std::sync::Arc<Vec<Hs>> {
        let key = (reporter, rows, flow, o);
        if let Ok(m) = self.relevant.read()
            && let Some(v) = m.get(&key)
        {
            return v.clone();
        }
        let v = std::sync::Arc::new(self.relevant_codes(
            reporter,
            rows,
            flow,
            &st.input_prefixes(o),
            o,
        ));
        if let Ok(mut m) = self.relevant.write() {
            m.insert(key, v.clone());
        }
        v
    }

    /// The codes under `rows` whose HS overlaps one of `prefixes` (imports) or starts with `o` (exports).
    fn relevant_codes(
        &self,
        reporter: Country,
        rows: Rows,
        flow: Flow,
        prefixes: &[Hs],
        o: Hs,
    ) -> Vec<Hs> {
        let Some(by_heading) = self.codes.get(&(reporter, rows, flow)) else {
            return vec![];
        };
        let mut out: Vec<Hs> = Vec::new();
        if flow == Flow::Export {
            // Exports "of heading o": codes starting with o. For a code shorter than a heading (an output of
            // HS `67`) that is every heading under it as well as the short code itself.
            return export_headings(by_heading.keys().copied(), o)
                .into_iter()
                .flat_map(|h| by_heading.get(&h).into_iter().flatten().copied())
                .filter(|c| c.starts_with(o))
                .collect();
        }
        for p in prefixes {
            // Headings that can hold an overlapping code: p's own heading, the codes shorter than a heading
            // that are prefixes of p, and for a prefix shorter than a heading every heading under it.
            let mut headings: Vec<Hs> = (2..=p.len.min(4)).map(|n| p.prefix(n)).collect();
            if p.len < 4 {
                let scale = 10u64.pow(4 - p.len as u32);
                let lo = Hs {
                    code: p.code * scale,
                    len: 4,
                };
                let hi = Hs {
                    code: p.code * scale + scale - 1,
                    len: 4,
                };
                headings.extend(by_heading.range(lo..=hi).map(|(h, _)| *h));
            }
            for h in headings {
                for c in by_heading.get(&h).into_iter().flatten() {
                    if c.overlaps(*p) && !out.contains(c) {
                        out.push(*c);
                    }
                }
            }
        }
        out
    }

    /// Pro-rated sums of `rows` in `[t - lag, t)` from the running integrals (no row is visited).
    fn series_figures(
        &self,
        st: &Settings,
        reporter: Country,
        rows: Rows,
        o: Hs,
        t: Date,
    ) -> Figures {
        let lo = t.add_days(-st.lag_days);
        let mut fig = Figures::default();
        for &code in self
            .relevant_cached(st, reporter, rows, Flow::Import, o)
            .iter()
        {
            if let Some(c) = self.series.get(&(reporter, rows, Flow::Import, code)) {
                fig.imports += c.total.between(lo, t);
                fig.unknown += c.unknown.between(lo, t);
                for (k, sr) in &c.sanctioned {
                    let v = sr.between(lo, t);
                    if !v.is_zero() {
                        *fig.sanctioned.entry(*k).or_default() += v;
                    }
                }
            }
        }
        for &code in self
            .relevant_cached(st, reporter, rows, Flow::Export, o)
            .iter()
        {
            if let Some(c) = self.series.get(&(reporter, rows, Flow::Export, code)) {
                fig.exports += c.total.between(lo, t);
            }
        }
        fig
    }

    /// The sanctioned partners' sums of each region of `reporter` with any (in region order), the same as
    /// `figures_fast(Scope::Region(r)).sanctioned` without the totals and exports: a path through another
    /// region reads only these.
    pub fn regions_sanctioned(
        &self,
        st: &Settings,
        reporter: Country,
        o: Hs,
        t: Date,
    ) -> Vec<(Region, BTreeMap<Country, Decimal>)> {
        let mut out = Vec::new();
        for (r, codes) in self.sanctioned_plan(st, reporter, o).iter() {
            let sums = self.sanctioned_sums(st, reporter, *r, codes, t);
            if !sums.is_empty() {
                out.push((*r, sums));
            }
        }
        out
    }

    fn sanctioned_sums(
        &self,
        st: &Settings,
        reporter: Country,
        r: Region,
        codes: &[Hs],
        t: Date,
    ) -> BTreeMap<Country, Decimal> {
        let lo = t.add_days(-st.lag_days);
        let rows = Rows::Region(r);
        let mut sums: BTreeMap<Country, Decimal> = BTreeMap::new();
        for &code in codes {
            if let Some(c) = self.series.get(&(reporter, rows, Flow::Import, code)) {
                for (k, sr) in &c.sanctioned {
                    let v = sr.between(lo, t);
                    if !v.is_zero() {
                        *sums.entry(*k).or_default() += v;
                    }
                }
            }
        }
        sums
    }

    /// Per region of `reporter`, the import codes relevant to heading `o` that have sanctioned partners, in
    /// [`PoolIndex::relevant_codes`] order (the order their sums are added in), memoised.
    fn sanctioned_plan(&self, st: &Settings, reporter: Country, o: Hs) -> Arc<SanctionedPlan> {
        if let Ok(m) = self.sanctioned_plans.read()
            && let Some(v) = m.get(&(reporter, o))
        {
            return v.clone();
        }
        let mut plan = Vec::new();
        for r in self.regions.get(&reporter).into_iter().flatten() {
            let rows = Rows::Region(*r);
            let codes: Vec<Hs> = self
                .relevant_cached(st, reporter, rows, Flow::Import, o)
                .iter()
                .copied()
                .filter(|code| {
                    self.series
                        .get(&(reporter, rows, Flow::Import, *code))
                        .is_some_and(|c| !c.sanctioned.is_empty())
                })
                .collect();
            if !codes.is_empty() {
                plan.push((*r, codes));
            }
        }
        let v = Arc::new(plan);
        if let Ok(mut m) = self.sanctioned_plans.write() {
            m.insert((reporter, o), v.clone());
        }
        v
    }

    /// The figures of a scope from the running integrals: what the engine uses. Same numbers as
    /// [`PoolIndex::figures`], without the rows behind them.
    pub fn figures_fast(
        &self,
        st: &Settings,
        reporter: Country,
        scope: Scope,
        o: Hs,
        t: Date,
    ) -> Figures {
        let national = matches!(scope, Scope::National) && self.national_mode(st, reporter, o, t);
        match scope {
            Scope::Region(r) => self.series_figures(st, reporter, Rows::Region(r), o, t),
            Scope::National if national => {
                (*self.whole(st, reporter, Rows::National, o, t)).clone()
            }
            Scope::National => (*self.whole(st, reporter, Rows::AllRegions, o, t)).clone(),
            Scope::RestOf(r) => {
                let region = self.series_figures(st, reporter, Rows::Region(r), o, t);
                self.rest_of(st, reporter, o, t, &region)
            }
        }
    }

    /// The figures of `RestOf(r)` given those of `Region(r)` (`region`), which a region pool has already
    /// computed for itself.
    fn rest_of(
        &self,
        st: &Settings,
        reporter: Country,
        o: Hs,
        t: Date,
        region: &Figures,
    ) -> Figures {
        let whole = self.whole(
            st,
            reporter,
            if self.national_mode(st, reporter, o, t) {
                Rows::National
            } else {
                Rows::AllRegions
            },
            o,
            t,
        );
        whole.subtract(region)
    }

    /// [`PoolIndex::series_figures`] of the national or all-region rows, memoised: every region's pool
    /// subtracts its own figures from the same whole-country figures of a (heading, day).
    fn whole(&self, st: &Settings, reporter: Country, rows: Rows, o: Hs, t: Date) -> Arc<Figures> {
        let key = (reporter, rows, o, t);
        if let Ok(m) = self.wholes.read()
            && let Some(v) = m.get(&key)
        {
            return v.clone();
        }
        let v = Arc::new(self.series_figures(st, reporter, rows, o, t));
        if let Ok(mut m) = self.wholes.write() {
            m.insert(key, v.clone());
        }
        v
    }

    /// The regions of a reporter that have rows.
    pub fn regions_of(&self, reporter: Country) -> Vec<Region> {
        self.regions
            .get(&reporter)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The sanctioned rows behind a scope's figures, pro-rated (for paths and traces that list records).
    pub fn sanctioned_rows(
        &self,
        ds: &Dataset,
        st: &Settings,
        reporter: Country,
        scope: Scope,
        o: Hs,
        t: Date,
    ) -> Vec<(FlowId, Decimal)> {
        self.figures(ds, st, reporter, scope, o, t).sanctioned_rows
    }

    /// Whether the reporter has rows in this region.
    pub fn has_region(&self, reporter: Country, r: Region) -> bool {
        self.regions.get(&reporter).is_some_and(|s| s.contains(&r))
    }

    /// Whether a national or rest-of-country pool of heading `o` at `t` reads the national rows: when the
    /// reporter has national rows relevant to it inside the window. Otherwise it sums the region rows. The
    /// choice is made per window, so rows dated after `t` never change a result at `t`.
    pub fn national_mode(&self, st: &Settings, reporter: Country, o: Hs, t: Date) -> bool {
        if !self.has_national.contains(&reporter) {
            return false;
        }
        let f = self.whole(st, reporter, Rows::National, o, t);
        f.imports > Decimal::ZERO || f.exports > Decimal::ZERO
    }
}

/// The headings (among `headings`) whose rows can be exports of output heading `o`: `o` itself, and when `o`
/// is shorter than four digits, every heading under it.
fn export_headings(headings: impl Iterator<Item = Hs>, o: Hs) -> Vec<Hs> {
    if o.len >= 4 {
        return vec![o];
    }
    headings.filter(|h| h.starts_with(o)).collect()
}

/// The shares of a pool (SPEC §3 v2), all statistical: `S/T` sanctioned, `U/T` unknown, `(I − S − U)/T`
/// clean, and the remainder `R = (T − I)/T` — inputs the statistics do not show — of which `s_rest` (the rest
/// of the country's sanctioned share, 0 where there is none) is sanctioned and the rest unknown. Never clean:
/// nothing in the data says where the domestic remainder came from.
pub fn shares(f: &Figures, k: f64, s_rest: f64) -> PoolMix {
    let t = f.throughput(k);
    if t <= 0.0 {
        return PoolMix {
            sanctioned: 0.0,
            clean: 0.0,
            unknown: 1.0,
        };
    }
    let s = to_f64(f.s_total()) / t;
    let u = to_f64(f.unknown) / t;
    let i = to_f64(f.imports) / t;
    let c = (i - s - u).max(0.0);
    let rem = (1.0 - i).max(0.0);
    PoolMix {
        sanctioned: s + rem * s_rest,
        clean: c,
        unknown: u + rem * (1.0 - s_rest),
    }
}

impl PoolMix {
    /// `sanctioned / (sanctioned + clean)`: the sanctioned share of the inputs whose origin the statistics
    /// show (0 when they show none). The diluted share says little about a region whose exports dwarf its
    /// recorded imports; this says how exposed the supply it does record is.
    pub fn prevalence(&self) -> f64 {
        let shown = self.sanctioned + self.clean;
        if shown > 1e-12 {
            self.sanctioned / shown
        } else {
            0.0
        }
    }
}

/// A computed pool: its own figures, and for a region pool the rest of the country whose sanctioned share
/// its remainder carries.
#[derive(Clone, Debug)]
pub struct Pool {
    pub reporter: Country,
    pub scope: Scope,
    pub own: Figures,
    pub rest: Option<Figures>,
    /// The heading's `input_ratio` the throughputs were taken with.
    pub k: f64,
    pub mix: PoolMix,
}

impl Pool {
    /// `T = max(I, k·E)` of the pool's own rows.
    pub fn throughput(&self) -> f64 {
        self.own.throughput(self.k)
    }

    /// `T` of the rest of the country (0 without one).
    pub fn rest_throughput(&self) -> f64 {
        self.rest.as_ref().map_or(0.0, |r| r.throughput(self.k))
    }

    /// The remainder `R = (T − I) / T`.
    pub fn remainder_share(&self) -> f64 {
        let t = self.throughput();
        if t <= 0.0 {
            0.0
        } else {
            (1.0 - to_f64(self.own.imports) / t).max(0.0)
        }
    }

    /// The rest of the country's sanctioned share `s_rest` (0 without a rest-of-country pool).
    pub fn rest_sanctioned(&self) -> f64 {
        match &self.rest {
            Some(r) => {
                let t = r.throughput(self.k);
                if t > 0.0 {
                    to_f64(r.s_total()) / t
                } else {
                    0.0
                }
            }
            None => 0.0,
        }
    }

    pub fn prevalence(&self) -> f64 {
        self.mix.prevalence()
    }
}

/// Computes the pool of `scope` (a region, or national) for heading `o` at `t`, or `None` when it does not
/// exist.
pub fn compute(
    ix: &PoolIndex,
    st: &Settings,
    reporter: Country,
    scope: Scope,
    o: Hs,
    t: Date,
) -> Option<Pool> {
    let own = ix.figures_fast(st, reporter, scope, o, t);
    if !own.exists() {
        return None;
    }
    let k = st.ratio(o);
    let rest = match scope {
        Scope::Region(_) => Some(ix.rest_of(st, reporter, o, t, &own)).filter(Figures::exists),
        _ => None,
    };
    let mut pool = Pool {
        reporter,
        scope,
        own,
        rest,
        k,
        mix: PoolMix::default(),
    };
    pool.mix = shares(&pool.own, k, pool.rest_sanctioned());
    Some(pool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{DataSource, load};

    /// The running integrals give the same figures as a scan of the rows, for every scope, on synthetic data.
    #[test]
    fn fast_figures_equal_the_row_scan() {
        let dir = std::env::temp_dir().join(format!("ot-pool-{}", std::process::id()));
        crate::data::synth::generate(
            &crate::data::synth::SynthSpec {
                shipments: 20_000,
                seed: 7,
            },
            &dir,
        )
        .unwrap();
        let ds = load(&[DataSource::Dir(dir.clone())]).unwrap();
        let text = std::fs::read_to_string(dir.join("origintrace.toml")).unwrap();
        let st = Settings::default().overlay_str(&text, "synth").unwrap();
        let ix = PoolIndex::new(&ds, &st);
        let cn = Country(*b"CN");
        let mut checked = 0;
        for (i, s) in ds.shipments.iter().enumerate().step_by(97) {
            let p = ds.party(s.shipper);
            let Some(r) = p.region else { continue };
            for scope in [Scope::Region(r), Scope::National, Scope::RestOf(r)] {
                let slow = ix.figures(&ds, &st, cn, scope, s.hs.heading(), s.date);
                let fast = ix.figures_fast(&st, cn, scope, s.hs.heading(), s.date);
                let close = |a: Decimal, b: Decimal| (a - b).abs() < Decimal::new(1, 4);
                assert!(
                    close(slow.imports, fast.imports),
                    "imports {scope:?} {i}: {} vs {}",
                    slow.imports,
                    fast.imports
                );
                assert!(
                    close(slow.exports, fast.exports),
                    "exports {scope:?} {i}: {} vs {}",
                    slow.exports,
                    fast.exports
                );
                assert!(close(slow.unknown, fast.unknown), "unknown {scope:?} {i}");
                assert!(
                    close(slow.s_total(), fast.s_total()),
                    "sanctioned {scope:?} {i}: {} vs {}",
                    slow.s_total(),
                    fast.s_total()
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
