//! Statistics pools (SPEC §3 rule 3): what aggregate customs statistics say about the inputs of a region's,
//! or a country's, exports of one heading in a window, when no firm-level record does.

use crate::codes::{Country, Date, Hs, Region};
use crate::dataset::{Dataset, Flow, TradeFlow};
use crate::settings::Settings;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    pub sanctioned_rows: Vec<(u32, Decimal)>,
}

impl Figures {
    pub fn s_total(&self) -> Decimal {
        self.sanctioned.values().copied().sum()
    }

    /// A pool exists when it has both relevant imports and exports of the heading.
    pub fn exists(&self) -> bool {
        self.imports > Decimal::ZERO && self.exports > Decimal::ZERO
    }

    pub fn throughput(&self) -> Decimal {
        self.imports.max(self.exports)
    }

    fn subtract(&self, other: &Figures) -> Figures {
        let pos = |d: Decimal| d.max(Decimal::ZERO);
        let mut sanctioned = BTreeMap::new();
        for (k, v) in &self.sanctioned {
            let o = other.sanctioned.get(k).copied().unwrap_or_default();
            sanctioned.insert(*k, pos(*v - o));
        }
        Figures {
            sanctioned,
            unknown: pos(self.unknown - other.unknown),
            imports: pos(self.imports - other.imports),
            exports: pos(self.exports - other.exports),
            sanctioned_rows: self.sanctioned_rows.clone(),
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

/// Rows of one reporter, bucketed by (scope rows, flow, heading of the row) and sorted by period start, so a
/// pool reads only the headings it needs inside its window.
#[derive(Default)]
pub struct PoolIndex {
    buckets: HashMap<(Country, Option<Region>, Flow, Hs), Vec<u32>>,
    /// Regions with rows, per reporter.
    regions: HashMap<Country, BTreeSet<Region>>,
    /// Reporters with at least one national row.
    has_national: BTreeSet<Country>,
    /// Headings with rows, per (reporter, region, flow) (for prefixes shorter than a heading).
    headings: HashMap<(Country, Option<Region>, Flow), BTreeSet<Hs>>,
}

impl PoolIndex {
    pub fn new(ds: &Dataset) -> PoolIndex {
        let mut ix = PoolIndex::default();
        for (i, f) in ds.flows.iter().enumerate() {
            if f.superseded {
                continue;
            }
            ix.buckets
                .entry((f.reporter, f.region, f.flow, f.hs.heading()))
                .or_default()
                .push(i as u32);
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
            v.sort_by_key(|&i| (ds.flows[i as usize].period.start(), i));
        }
        ix
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
            let from =
                rows.partition_point(|&i| ds.flows[i as usize].period.start() < lo.add_days(-366));
            for &i in &rows[from..] {
                let f: &TradeFlow = &ds.flows[i as usize];
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
        visit(Flow::Export, o, &mut fig);
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
                if self.has_national.contains(&reporter) {
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
                if self.has_national.contains(&reporter) {
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

    /// Whether the reporter has rows in this region.
    pub fn has_region(&self, reporter: Country, r: Region) -> bool {
        self.regions.get(&reporter).is_some_and(|s| s.contains(&r))
    }

    pub fn has_national_rows(&self, reporter: Country) -> bool {
        self.has_national.contains(&reporter)
    }
}

/// The shares of a pool whose domestic remainder takes `remainder` (clean for national pools and for the
/// rest of a country).
pub fn shares(f: &Figures, remainder: PoolMix) -> PoolMix {
    let t = to_f64(f.throughput());
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
        sanctioned: s + rem * remainder.sanctioned,
        clean: c + rem * remainder.clean,
        unknown: u + rem * remainder.unknown,
    }
}

pub const CLEAN: PoolMix = PoolMix {
    sanctioned: 0.0,
    clean: 1.0,
    unknown: 0.0,
};

/// A computed pool: its own figures, and for a region pool the rest of the country that its domestic
/// remainder takes.
#[derive(Clone, Debug)]
pub struct Pool {
    pub reporter: Country,
    pub scope: Scope,
    pub own: Figures,
    pub rest: Option<Figures>,
    pub mix: PoolMix,
}

impl Pool {
    /// The share of the domestic remainder, `(T - I) / T`.
    pub fn remainder_share(&self) -> f64 {
        let t = to_f64(self.own.throughput());
        if t <= 0.0 {
            0.0
        } else {
            (1.0 - to_f64(self.own.imports) / t).max(0.0)
        }
    }
}

/// Computes the pool of `scope` (a region, or national) for heading `o` at `t`, or `None` when it does not
/// exist.
pub fn compute(
    ix: &PoolIndex,
    ds: &Dataset,
    st: &Settings,
    reporter: Country,
    scope: Scope,
    o: Hs,
    t: Date,
) -> Option<Pool> {
    let own = ix.figures(ds, st, reporter, scope, o, t);
    if !own.exists() {
        return None;
    }
    let (rest, remainder) = match scope {
        Scope::Region(r) => {
            let rest = ix.figures(ds, st, reporter, Scope::RestOf(r), o, t);
            if rest.exists() {
                let m = shares(&rest, CLEAN);
                (Some(rest), m)
            } else {
                (None, CLEAN)
            }
        }
        _ => (None, CLEAN),
    };
    let mix = shares(&own, remainder);
    Some(Pool {
        reporter,
        scope,
        own,
        rest,
        mix,
    })
}
