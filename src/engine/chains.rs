//! Every time-respecting chain that links an origin country to a party, weights ignored: each hop dated
//! before the next, within the lag ([`Engine::lag_window`]), and for goods that are inputs of the next hop's
//! goods. `paths --from XX --to PARTY` lists them; unlike [`crate::engine::paths`] and
//! [`crate::engine::toppath`] it carries no shares, so it also finds chains whose weight is zero.

use crate::data::codes::{Country, Date, Hs};
use crate::data::dataset::{Flow, FlowId, LinkSupplier, PartyId};
use crate::engine::model::Engine;
use crate::engine::paths::{Hop, HopKind, Node, RecordRef};
use std::collections::VecDeque;

/// Units of work (an input row read, a chain queued, a hop copied) one walk may spend. The walk lists
/// chains, not parties, so on a dense graph their number grows as the width to the power of the depth:
/// a 30 x 30 lattice held 3.5 GB before this bound (issue 14). A queued chain holds at most
/// `--max-hops` hops and each costs one unit per hop, so memory is bounded with the time: about
/// 200 MB at worst, a second or two of work.
pub const WALK_WORK: usize = 2_000_000;

fn cut(cut_by: &mut Vec<&'static str>, why: &'static str) {
    if !cut_by.contains(&why) {
        cut_by.push(why);
    }
}

struct State {
    party: PartyId,
    /// Inputs must be dated in `[deadline - lag, deadline)`; `None` at the target (any date).
    deadline: Option<Date>,
    /// HS prefixes the inputs must overlap; `None` for any.
    relevant: Option<Vec<Hs>>,
    /// Hops from this party down to the target.
    hops: Vec<Hop>,
    visited: Vec<PartyId>,
}

/// The chains found, shortest first, and what cut the search, if anything did.
#[derive(Debug, Default)]
pub struct Chains {
    /// Each chain's hops, from the origin to the target.
    pub found: Vec<Vec<Hop>>,
    /// What cut the list, when it was cut: "limit" (`limit` chains found), "max_hops" (a chain would
    /// have been longer), "work" (the search spent [`WALK_WORK`]); in the order they first struck.
    pub cut_by: Vec<&'static str>,
}

/// Finds up to `limit` chains of at most `max_hops` hops from `origin` to the party `target`, breadth
/// first, so shorter chains come first.
pub fn chains(
    e: &Engine,
    origin: Country,
    target: PartyId,
    hs: Option<Hs>,
    limit: usize,
    max_hops: usize,
) -> Chains {
    let ds = e.ds;
    let st = e.st;
    let mut found: Vec<Vec<Hop>> = Vec::new();
    let mut cut_by = Vec::new();
    let mut work = 0usize;
    // The statistics rows that can end a chain (imports from the origin), by reporter, so each step reads
    // only its own country's rows instead of every row.
    let mut origin_rows: Vec<(Country, FlowId)> = ds
        .flows
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.superseded && f.partner == origin && f.flow == Flow::Import)
        .map(|(i, f)| (f.reporter, FlowId::from_index(i)))
        .collect();
    origin_rows.sort_unstable();
    let mut queue = VecDeque::new();
    queue.push_back(State {
        party: target,
        deadline: None,
        relevant: hs.map(|h| vec![h]),
        hops: vec![],
        visited: vec![target],
    });
    'bfs: while let Some(s) = queue.pop_front() {
        if work > WALK_WORK {
            cut(&mut cut_by, "work");
            break;
        }
        let here = Node::Party(s.party);
        // Inputs of a hop dated `t` are those of its lag window ([`Engine::lag_window`]).
        let in_window = |d: Date| {
            s.deadline.is_none_or(|t| {
                let (lo, hi) = e.lag_window(t);
                d >= lo && d <= hi
            })
        };
        let rel = |h: Hs| {
            s.relevant
                .as_ref()
                .is_none_or(|v| v.iter().any(|p| h.overlaps(*p)))
        };
        let emit = |hops: Vec<Hop>, found: &mut Vec<Vec<Hop>>| -> bool {
            found.push(hops);
            found.len() >= limit
        };
        let with = |first: Vec<Hop>, rest: &[Hop]| -> Vec<Hop> {
            first.into_iter().chain(rest.iter().cloned()).collect()
        };
        if e.is_sanctioned_party(s.party)
            && ds.party(s.party).country == origin
            && !s.hops.is_empty()
        {
            continue;
        }
        // Shipments into this party.
        for &i in e.ix.inbound_of(s.party) {
            work += 1;
            let d = ds.shipment(i);
            if !in_window(d.date) || !rel(d.hs) {
                continue;
            }
            let q = d.shipper;
            let hop = Hop {
                from: Node::Party(q),
                to: here,
                kind: HopKind::Shipment,
                records: vec![(RecordRef::Shipment(i), d.value_usd)],
            };
            if ds.party(q).country == origin {
                if emit(with(vec![hop], &s.hops), &mut found) {
                    cut(&mut cut_by, "limit");
                    break 'bfs;
                }
            } else if d.origin == Some(origin) {
                let o = Hop {
                    from: Node::Country(origin),
                    to: Node::Party(q),
                    kind: HopKind::Shipment,
                    records: vec![(RecordRef::Shipment(i), d.value_usd)],
                };
                if emit(with(vec![o, hop], &s.hops), &mut found) {
                    cut(&mut cut_by, "limit");
                    break 'bfs;
                }
            } else if !s.visited.contains(&q) {
                if s.hops.len() + 1 >= max_hops {
                    cut(&mut cut_by, "max_hops");
                    continue;
                }
                work += 1 + s.hops.len();
                let mut visited = s.visited.clone();
                visited.push(q);
                queue.push_back(State {
                    party: q,
                    deadline: Some(d.date),
                    relevant: Some(st.input_prefixes(d.hs.heading())),
                    hops: with(vec![hop], &s.hops),
                    visited,
                });
            }
        }
        // Supplier declarations of this party.
        for &l in e.ix.links_of(s.party) {
            work += 1;
            let link = ds.link(l);
            let valid = match s.deadline {
                Some(t) => link.valid_at(t.add_days(-1)),
                None => true,
            };
            if !valid || !rel(link.hs) {
                continue;
            }
            match link.supplier {
                LinkSupplier::Country(c) if c == origin => {
                    let hop = Hop {
                        from: Node::Country(c),
                        to: here,
                        kind: HopKind::Declared,
                        records: vec![(RecordRef::Link(l), Default::default())],
                    };
                    if emit(with(vec![hop], &s.hops), &mut found) {
                        cut(&mut cut_by, "limit");
                        break 'bfs;
                    }
                }
                LinkSupplier::Party(q) => {
                    let hop = Hop {
                        from: Node::Party(q),
                        to: here,
                        kind: HopKind::Declared,
                        records: vec![(RecordRef::Link(l), Default::default())],
                    };
                    if ds.party(q).country == origin {
                        if emit(with(vec![hop], &s.hops), &mut found) {
                            cut(&mut cut_by, "limit");
                            break 'bfs;
                        }
                    } else if !s.visited.contains(&q) {
                        if s.hops.len() + 1 >= max_hops {
                            cut(&mut cut_by, "max_hops");
                            continue;
                        }
                        work += 1 + s.hops.len();
                        let mut visited = s.visited.clone();
                        visited.push(q);
                        queue.push_back(State {
                            party: q,
                            deadline: s.deadline,
                            relevant: Some(st.input_prefixes(link.hs.heading())),
                            hops: with(vec![hop], &s.hops),
                            visited,
                        });
                    }
                }
                _ => {}
            }
        }
        // Statistics: imports from the origin into this party's region (or country).
        let party = ds.party(s.party);
        let deadline = s.deadline.unwrap_or(Date(i32::MAX / 2));
        let lo = s
            .deadline
            .map(|t| e.lag_window(t).0)
            .unwrap_or(Date(i32::MIN / 2));
        let mut rows: Vec<(RecordRef, rust_decimal::Decimal)> = Vec::new();
        let region_rows = party
            .region
            .is_some_and(|r| e.ix.pools.has_region(party.country, r));
        let first = origin_rows.partition_point(|(c, _)| *c < party.country);
        for &(c, i) in &origin_rows[first..] {
            if c != party.country {
                break;
            }
            work += 1;
            let f = ds.flow(i);
            if !rel(f.hs) {
                continue;
            }
            let scope_ok = if region_rows {
                f.region == party.region
            } else {
                true
            };
            if scope_ok && f.period.start() < deadline && f.period.end() > lo {
                rows.push((RecordRef::Flow(i), f.value_usd));
            }
        }
        if !rows.is_empty() {
            let mid = if region_rows {
                party
                    .region
                    .map(Node::Region)
                    .unwrap_or(Node::Country(party.country))
            } else {
                Node::Country(party.country)
            };
            let kind = if region_rows {
                HopKind::RegionalPool
            } else {
                HopKind::NationalPool
            };
            let hops = vec![
                Hop {
                    from: Node::Country(origin),
                    to: mid,
                    kind: HopKind::TradeFlow,
                    records: rows,
                },
                Hop {
                    from: mid,
                    to: here,
                    kind,
                    records: vec![],
                },
            ];
            if emit(with(hops, &s.hops), &mut found) {
                cut(&mut cut_by, "limit");
                break 'bfs;
            }
        }
    }
    Chains { found, cut_by }
}
