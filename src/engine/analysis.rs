//! One analysis of a dataset under one set of settings: the engine's outcomes, watchlist hits, price
//! medians, and the scoring of shipments (mix, paths, flags) that `trace` and `report` share, so a report
//! row and a trace of the same shipment always agree.

use crate::data::dataset::{Dataset, ShipmentId};
use crate::data::settings::Settings;
use crate::engine::model::{EPS, Engine, Outcome};
use crate::engine::paths::{Hop, HopKind, Limits, Node, Path, PathSet, RecordRef};
use crate::engine::rules::{self, Flag, Severity};
use crate::engine::screening::Hit;
use crate::engine::toppath::{Chains, Memo, TopPaths};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

pub struct Analysis<'a> {
    pub engine: Engine<'a>,
    pub hits: Vec<Vec<Hit>>,
    pub medians: HashMap<crate::data::codes::Hs, Decimal>,
    pub limits: Limits,
    /// Top paths computed with the engine pass ([`Engine::run_with_top_paths`]), for the first
    /// [`Analysis::batch_paths`].
    tops: std::sync::Mutex<Option<TopPaths>>,
}

/// A shipment scored: its output's outcome, its paths (ending at its consignee), and its flags.
#[derive(Clone, Debug)]
pub struct Scored {
    pub ship: ShipmentId,
    pub key: u32,
    pub outcome: Outcome,
    pub paths: Vec<Path>,
    pub truncated: bool,
    pub flags: Vec<Flag>,
    pub severity: Severity,
}

impl<'a> Analysis<'a> {
    pub fn new(ds: &'a Dataset, st: &'a Settings, limits: Limits) -> Analysis<'a> {
        let hits = crate::engine::screening::screen(ds, st.match_threshold);
        Analysis::with_engine(Engine::run(ds, st, hits), limits)
    }

    pub fn with_engine(engine: Engine<'a>, limits: Limits) -> Analysis<'a> {
        let shown = crate::util::progress::spinner("price medians per heading");
        let medians = rules::price_medians(engine.ds);
        drop(shown);
        Analysis::with_medians(engine, limits, medians)
    }

    /// An analysis with price medians computed earlier (a snapshot stores them: they span every shipment).
    pub fn with_medians(
        engine: Engine<'a>,
        limits: Limits,
        medians: HashMap<crate::data::codes::Hs, Decimal>,
    ) -> Analysis<'a> {
        let hits = engine.hits.clone();
        Analysis {
            engine,
            hits,
            medians,
            limits,
            tops: std::sync::Mutex::new(None),
        }
    }

    /// An analysis of an engine whose pass also made the top paths, for `limits.max_hops`.
    pub fn with_top_paths(engine: Engine<'a>, limits: Limits, tops: TopPaths) -> Analysis<'a> {
        let a = Analysis::with_engine(engine, limits);
        if let Ok(mut t) = a.tops.lock() {
            *t = Some(tops);
        }
        a
    }

    pub fn ds(&self) -> &'a Dataset {
        self.engine.ds
    }

    pub fn st(&self) -> &'a Settings {
        self.engine.st
    }

    /// Scores one shipment, with paths found within the analysis limits.
    pub fn score(&self, ship: ShipmentId) -> Scored {
        let key = self.engine.ix.key_of_shipment[ship.index()];
        let set = self.engine.paths_of_key(key, self.limits);
        self.score_with(ship, &set)
    }

    /// Scores one shipment from the paths of its output.
    pub fn score_with(&self, ship: ShipmentId, set: &PathSet) -> Scored {
        self.score_paths(ship, set.paths.clone(), set.truncated, true)
    }

    /// Scores one shipment for a count: its mix and its flags' rules and severities, with no paths and no
    /// detail text. `vet` scores every shipment a firm sent this way; the detail of `sanctioned-counterparty`
    /// names every counterparty record in the window, so a hub's detailed scores cost its shipments times its
    /// records.
    pub fn score_for_counts(&self, ship: ShipmentId) -> Scored {
        self.score_paths(ship, Vec::new(), false, false)
    }

    /// [`Analysis::score_with`] taking the paths by value; without `details`, flags carry no detail text.
    fn score_paths(
        &self,
        ship: ShipmentId,
        set: Vec<Path>,
        truncated: bool,
        details: bool,
    ) -> Scored {
        let ds = self.ds();
        let key = self.engine.ix.key_of_shipment[ship.index()];
        let outcome = *self.engine.outcome(key);
        let s = ds.shipment(ship);
        let last = Hop {
            from: Node::Party(s.shipper),
            to: Node::Party(s.consignee),
            kind: HopKind::Shipment,
            records: vec![(RecordRef::Shipment(ship), s.value_usd)],
        };
        let declared_sanctioned = self.engine.declared_sanctioned_origin(ship);
        let (outcome, paths): (Outcome, Vec<Path>) = match declared_sanctioned {
            // A shipment that itself declares a sanctioned origin carries sanctioned goods on its own
            // document, whatever its shipper's inputs: sanctioned 1, documented, on the path origin > shipper >
            // consignee.
            Some(c) => (
                Outcome {
                    mix: crate::engine::model::Mix::sanctioned_at(
                        crate::engine::model::Grade::Documented,
                    ),
                    reachable: true,
                    marks: self.engine.declared_origin_marks(ship, c),
                    prevalence: None,
                },
                vec![Path {
                    share: 1.0,
                    grade: crate::engine::model::Grade::Documented,
                    hops: vec![
                        Hop {
                            from: Node::Country(c),
                            to: Node::Party(s.shipper),
                            kind: HopKind::Shipment,
                            records: last.records.clone(),
                        },
                        last,
                    ],
                }],
            ),
            None => (
                outcome,
                set.into_iter()
                    .map(|mut p| {
                        p.hops.push(last.clone());
                        p
                    })
                    .collect(),
            ),
        };
        let set_truncated = declared_sanctioned.is_none() && truncated;
        let cx = rules::Context {
            ds,
            st: self.st(),
            ship,
            outcome: &outcome,
            paths: &paths,
            hits: &self.hits,
            medians: &self.medians,
            counterparties: self.engine.counterparty_records(s.shipper, s.date),
            details,
        };
        let flags = rules::evaluate(&cx);
        let severity = rules::max_severity(&flags);
        Scored {
            ship,
            key,
            outcome,
            paths,
            truncated: set_truncated,
            flags,
            severity,
        }
    }

    /// The top path of every output with a sanctioned share (what a report prints), one per output. Flags
    /// come from the engine's marks, so no other path is needed.
    pub fn batch_paths(&self) -> BatchPaths {
        let n_keys = self.engine.ix.keys.len();
        // A report prints no records, so statistics rows need not be listed: same paths, same shares.
        let batch = Limits {
            records: false,
            top: Some(1),
            ..self.limits
        };
        // The top path of every output from one pass in date order; the few outputs whose top path that
        // pass cannot settle (near ties, or prefixes dropped upstream) are searched.
        let made = self.tops.lock().ok().and_then(|mut t| t.take());
        let tops = made.unwrap_or_else(|| {
            let t = TopPaths::compute(&self.engine, batch.max_hops);
            crate::util::timing::phase("top-path-pass");
            t
        });
        let shown = crate::util::progress::spinner("top paths");
        let per_key = (0..n_keys as u32)
            .into_par_iter()
            .map_init(Memo::default, |memo, k| {
                if self.engine.outcome(k).mix.sanctioned() <= EPS {
                    return Top::None;
                }
                match tops.top_chain(&self.engine, k, memo) {
                    Some((c, share)) => Top::Chain(c, share),
                    None => {
                        // Only the top path is certain after a `top: Some(1)` search, and only it is
                        // printed: keep one per output.
                        let mut set = self.engine.paths_of_key(k, batch);
                        set.paths.truncate(1);
                        Top::Searched(Box::new(set))
                    }
                }
            })
            .collect();
        drop(shown);
        crate::util::timing::phase("top-path-certify");
        BatchPaths {
            chains: tops.into_chains(),
            per_key,
        }
    }

    /// Scores one shipment for a batch report, from [`Analysis::batch_paths`].
    pub fn score_batch(&self, ship: ShipmentId, paths: &BatchPaths) -> Scored {
        self.score_batch_with(ship, paths, true)
    }

    /// [`Analysis::score_batch`]; without `details`, flags carry only their rule and severity (what a CSV
    /// report prints).
    pub fn score_batch_with(&self, ship: ShipmentId, paths: &BatchPaths, details: bool) -> Scored {
        let key = self.engine.ix.key_of_shipment[ship.index()];
        match &paths.per_key[key as usize] {
            Top::None => self.score_paths(ship, Vec::new(), false, details),
            Top::Chain(c, share) => {
                self.score_paths(ship, vec![paths.chains.path(*c, *share)], false, details)
            }
            Top::Searched(set) => self.score_paths(ship, set.paths.clone(), set.truncated, details),
        }
    }

    /// Scores every shipment, in parallel; the result is in shipment order whatever the thread count. Each
    /// result keeps only its top path (what a report prints); `score` gives a shipment's full path list.
    pub fn score_all(&self) -> Vec<Scored> {
        let paths = self.batch_paths();
        let n = self.ds().shipments.len();
        let shown = crate::util::progress::bar("scoring", n as u64, "shipments");
        (0..n as u32)
            .into_par_iter()
            .map(|i| {
                let r = self.score_batch(ShipmentId::new(i), &paths);
                shown.inc(1);
                r
            })
            .collect()
    }

    /// A shipment's sanctioned share as its report row shows it: its output's, or 1 where the shipment
    /// itself declares a sanctioned origin (see [`Analysis::score_with`]).
    pub fn shipment_sanctioned(&self, ship: ShipmentId) -> f64 {
        self.engine.shipment_mix(ship).sanctioned()
    }

    /// Every shipment in report order (SPEC §4): sanctioned share descending, then shipment id. Known before
    /// any shipment is scored, so a report can be scored and written in that order, a block at a time.
    pub fn report_order(&self) -> Vec<ShipmentId> {
        let ds = self.ds();
        // Ranks in (id, index) order make the tie-break an integer compare and the order total, so the
        // unstable parallel sort is deterministic.
        let _shown = crate::util::progress::spinner("ordering the report");
        let rank = ds.shipment_ranks();
        let mut order: Vec<(f64, u32, ShipmentId)> = (0..ds.shipments.len() as u32)
            .into_par_iter()
            .map(|i| {
                let ship = ShipmentId::new(i);
                (self.shipment_sanctioned(ship), rank[ship.index()], ship)
            })
            .collect();
        order.par_sort_unstable_by(|(a, ra, _), (b, rb, _)| b.total_cmp(a).then(ra.cmp(rb)));
        order.into_iter().map(|(_, _, i)| i).collect()
    }
}

/// The top path of every output, for scoring a batch (see [`Analysis::batch_paths`]): a chain of the
/// pass for nearly all, a searched path for the few the pass could not settle. Paths are made per shipment
/// as it is scored, so millions of outputs hold 16 bytes each, not a path.
pub struct BatchPaths {
    chains: Chains,
    per_key: Vec<Top>,
}

enum Top {
    None,
    Chain(u32, f64),
    Searched(Box<PathSet>),
}

/// The node id used in paths and `top_path`: countries and regions by code, parties by party_id.
pub fn node_id(ds: &Dataset, n: Node) -> String {
    match n {
        Node::Country(c) => c.to_string(),
        Node::Region(r) => r.to_string(),
        Node::Party(p) => ds.party(p).id.clone(),
    }
}

/// A path as `A>B>C`.
pub fn path_string(ds: &Dataset, p: &Path) -> String {
    p.nodes()
        .into_iter()
        .map(|n| node_id(ds, n))
        .collect::<Vec<_>>()
        .join(">")
}

#[cfg(test)]
mod tests {
    use crate::data::dataset::ShipmentId;
    use crate::query::report::testing::with_sample;

    /// `vet` and the Parquet mixes count with the lean scorer: it must give every shipment the mix and the
    /// flags (rule and severity) that the detailed score gives, only without paths, and without the
    /// counterparty detail that costs a hub its records for each shipment.
    #[test]
    fn scores_for_counts_agree_with_the_full_score() {
        with_sample(|a| {
            let (mut flagged, mut counterparty) = (0, 0);
            for i in 0..a.ds().shipments.len() as u32 {
                let (full, lean) = (
                    a.score(ShipmentId::new(i)),
                    a.score_for_counts(ShipmentId::new(i)),
                );
                assert_eq!(full.outcome.mix, lean.outcome.mix, "shipment {i}");
                assert_eq!(full.severity, lean.severity, "shipment {i}");
                let rules = |s: &super::Scored| {
                    s.flags
                        .iter()
                        .map(|f| (f.rule.clone(), f.severity))
                        .collect::<Vec<_>>()
                };
                assert_eq!(rules(&full), rules(&lean), "shipment {i}");
                assert!(lean.paths.is_empty(), "shipment {i}");
                let cp = lean
                    .flags
                    .iter()
                    .find(|f| f.rule == "sanctioned-counterparty");
                assert!(cp.is_none_or(|f| f.detail.is_empty()), "shipment {i}");
                counterparty += usize::from(cp.is_some());
                flagged += usize::from(!full.flags.is_empty());
            }
            assert!(
                flagged > 0 && counterparty > 0,
                "the sample flags shipments for both"
            );
        });
    }
}
