//! Paths (SPEC §3): chains of nodes from a sanctioned source to an output, each hop carrying the records
//! behind it, each path carrying its contribution to the output's sanctioned share.
//!
//! The search is best-first over the engine's own decomposition of every output, so a path's contribution is
//! the product of the same weights the mix was computed from, and all paths add up to `sanctioned`. Record
//! level chains are then merged by node chain: one path `K>L>X>Y` lists every shipment that carries each hop.

use crate::data::codes::{Country, Date, Hs, Region};
use crate::data::dataset::{FlowId, LinkId, PartyId, ShipmentId};
use crate::engine::model::{EPS, Engine, Grade, Source};
use crate::engine::pool::{Pool, Scope, to_f64};
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::rc::Rc;

/// A node of the goods-flow graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Country(Country),
    Region(Region),
    Party(PartyId),
}

/// The kind of a hop, as named in the JSON contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HopKind {
    Shipment,
    Declared,
    TradeFlow,
    RegionalPool,
    NationalPool,
    /// The rest of a country carried into a region's pool (the sanctioned share of its remainder).
    RestOfCountry,
}

impl HopKind {
    /// The last hop of a path through a party's own pool: regional for a region's pool, else national.
    pub fn into_pool(scope: Scope) -> HopKind {
        if matches!(scope, Scope::Region(_)) {
            HopKind::RegionalPool
        } else {
            HopKind::NationalPool
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HopKind::Shipment => "shipment",
            HopKind::Declared => "declared",
            HopKind::TradeFlow => "trade_flow",
            HopKind::RegionalPool => "regional_pool",
            HopKind::NationalPool => "national_pool",
            HopKind::RestOfCountry => "rest_of_country",
        }
    }

    pub fn grade(self) -> Grade {
        match self {
            HopKind::Shipment => Grade::Documented,
            HopKind::Declared => Grade::Declared,
            _ => Grade::Statistical,
        }
    }
}

/// An input row behind a hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordRef {
    Shipment(ShipmentId),
    Link(LinkId),
    /// A statistics row, with its value pro-rated to the window (cents).
    Flow(FlowId),
}

/// One hop of a path with every record behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct Hop {
    pub from: Node,
    pub to: Node,
    pub kind: HopKind,
    /// Records, sorted and distinct, with the value each carries on this hop (pro-rated for statistics rows).
    pub records: Vec<(RecordRef, Decimal)>,
}

/// A path from a sanctioned source to an output.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub share: f64,
    pub grade: Grade,
    pub hops: Vec<Hop>,
}

impl Path {
    /// A path of these hops; its grade is its weakest hop's (documented when it has none).
    pub fn new(share: f64, hops: Vec<Hop>) -> Path {
        let grade = hops
            .iter()
            .map(|h| h.kind.grade())
            .max()
            .unwrap_or(Grade::Documented);
        Path { share, grade, hops }
    }

    /// The chain of nodes, source first.
    pub fn nodes(&self) -> Vec<Node> {
        let mut v = Vec::with_capacity(self.hops.len() + 1);
        if let Some(h) = self.hops.first() {
            v.push(h.from);
        }
        v.extend(self.hops.iter().map(|h| h.to));
        v
    }
}

/// The largest `--max-paths` the command line accepts: with [`WORK_PER_PATH`] it bounds one search's
/// work and memory (about 25 million queued states, a few GiB, at this bound; a few MiB at the default).
pub const MAX_PATHS_BOUND: usize = 100_000;

/// The largest `--max-hops` the command line accepts. Chains are copied and compared hop by hop, so a
/// search's work grows with this too; no supply chain of goods has more than a few dozen legs.
pub const MAX_HOPS_BOUND: usize = 64;

/// Units of work (a term read, a chain queued) one search may spend per path it may collect. The number
/// of paths alone does not bound a search: on a dense graph each step reads a thousand terms and finds
/// no path for a long time, so without this a search held gigabytes (issue 14). At the default
/// `--max-paths` the budget is about half a million units: tens of milliseconds.
pub const WORK_PER_PATH: usize = 256;

/// The work of one search of a batch report, which needs only each output's top path and may search
/// for thousands of outputs whose top path the one-pass [`crate::engine::toppath`] could not settle. Kept small
/// so a report's work stays proportional to its outputs; a search it cuts is marked cut like any other.
pub const BATCH_WORK: usize = 20_000;

/// Bounds of a path search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Record-level chains to collect at most.
    pub max_paths: usize,
    /// Hops a chain may have at most.
    pub max_hops: usize,
    /// Whether statistics hops list their rows (traces do; batch reports, which print no records, do not).
    pub records: bool,
    /// Stop as soon as the `k` largest paths are certain (batch reports need only the top path); `None`
    /// collects every path within the bounds.
    pub top: Option<usize>,
}

impl Limits {
    /// The units of work one search may spend (see [`WORK_PER_PATH`], [`BATCH_WORK`]); a search that
    /// reaches it stops with what it found, marked cut. Its queue cannot outgrow it either, so the bound
    /// holds for memory as well as time.
    pub fn work_budget(&self) -> usize {
        let per_path = self.max_paths.saturating_mul(WORK_PER_PATH);
        match self.top {
            Some(_) => per_path.min(BATCH_WORK),
            None => per_path,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_paths: 2000,
            max_hops: 16,
            records: true,
            top: None,
        }
    }
}

/// The paths of an output: all found (sorted by share, largest first), and whether the search was cut.
#[derive(Clone, Debug, Default)]
pub struct PathSet {
    pub paths: Vec<Path>,
    pub truncated: bool,
    /// Where the source of a path with no hops is the output's own party (located in a sanctioned country).
    pub self_source: bool,
    /// Units of work the search spent (see [`Limits::work_budget`]), and the most chains it held queued
    /// at once: what the bounds promise, kept so tests can hold the search to them.
    pub work: usize,
    pub peak_queue: usize,
}

struct Chain {
    hop: Hop,
    next: Option<Rc<Chain>>,
}

struct State {
    priority: f64,
    seq: u64,
    acc: f64,
    /// The output still to expand; `None` for a complete chain whose source is `source`.
    pending: Option<u32>,
    source: Node,
    chain: Option<Rc<Chain>>,
}

impl PartialEq for State {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for State {}
impl PartialOrd for State {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for State {
    fn cmp(&self, o: &Self) -> Ordering {
        self.priority
            .total_cmp(&o.priority)
            .then_with(|| o.seq.cmp(&self.seq))
    }
}

fn party_node(p: PartyId) -> Node {
    Node::Party(p)
}

fn one(r: RecordRef, v: Decimal) -> Vec<(RecordRef, Decimal)> {
    vec![(r, v)]
}

impl Engine<'_> {
    fn flow_records(
        &self,
        rows: &[(FlowId, Decimal)],
        partner: Country,
        region: Option<Option<Region>>,
    ) -> Vec<(RecordRef, Decimal)> {
        rows.iter()
            .filter(|(i, _)| {
                let f = self.ds.flow(*i);
                f.partner == partner && region.is_none_or(|r| f.region == r)
            })
            .map(|(i, v)| (RecordRef::Flow(*i), *v))
            .collect()
    }

    /// Terminal chains through a pool of heading `o` at `t`: (contribution factor, source, hops source-first).
    /// With `records`, the trade-flow hops list the statistics rows behind them (a scan of those rows);
    /// without, only the figures are read.
    pub(crate) fn pool_chains(
        &self,
        pool: &Pool,
        o: Hs,
        t: Date,
        to: Node,
        last_kind: HopKind,
        records: bool,
    ) -> Vec<(f64, Node, Vec<Hop>)> {
        let mut out = Vec::new();
        let tt = pool.throughput();
        if tt <= 0.0 {
            return out;
        }
        let (ds, st, ix) = (self.ds, self.st, &self.ix.pools);
        let rows_of = |scope: Scope| {
            if records {
                ix.sanctioned_rows(ds, st, pool.reporter, scope, o, t)
            } else {
                Vec::new()
            }
        };
        let here = match pool.scope {
            Scope::Region(r) => Node::Region(r),
            _ => Node::Country(pool.reporter),
        };
        let own_rows = rows_of(pool.scope);
        for (k, v) in &pool.own.sanctioned {
            let f = to_f64(*v) / tt;
            if f <= EPS {
                continue;
            }
            let hops = vec![
                Hop {
                    from: Node::Country(*k),
                    to: here,
                    kind: HopKind::TradeFlow,
                    records: self.flow_records(&own_rows, *k, None),
                },
                Hop {
                    from: here,
                    to,
                    kind: last_kind,
                    records: vec![],
                },
            ];
            out.push((f, Node::Country(*k), hops));
        }
        let (Scope::Region(r), Some(rest)) = (pool.scope, &pool.rest) else {
            return out;
        };
        let rem = pool.remainder_share();
        let tr = pool.rest_throughput();
        if rem <= EPS || tr <= 0.0 {
            return out;
        }
        // The rest of the country: national rows minus the region's, or each other region's rows.
        let parts: Vec<(Node, Scope, Option<Region>)> = if self.national_mode(pool.reporter, o, t) {
            vec![(Node::Country(pool.reporter), Scope::RestOf(r), None)]
        } else {
            ix.regions_of(pool.reporter)
                .into_iter()
                .filter(|x| *x != r)
                .map(|x| (Node::Region(x), Scope::Region(x), Some(x)))
                .collect()
        };
        // A part's paths read only its sanctioned sums.
        let region_sums = if parts.iter().any(|x| x.2.is_some()) {
            self.regions_sanctioned(pool.reporter, o, t)
        } else {
            Default::default()
        };
        let none = BTreeMap::new();
        for (node, scope, region) in parts {
            let sanctioned = match region {
                Some(x) => crate::engine::model::sums_of(&region_sums, x).unwrap_or(&none),
                None => &rest.sanctioned,
            };
            let part_rows = if sanctioned.values().copied().sum::<Decimal>().is_zero() {
                Vec::new()
            } else {
                rows_of(scope)
            };
            for (k, v) in sanctioned {
                let f = rem * to_f64(*v) / tr;
                if f <= EPS {
                    continue;
                }
                let hops = vec![
                    Hop {
                        from: Node::Country(*k),
                        to: node,
                        kind: HopKind::TradeFlow,
                        records: self.flow_records(&part_rows, *k, Some(region)),
                    },
                    Hop {
                        from: node,
                        to: Node::Region(r),
                        kind: HopKind::RestOfCountry,
                        records: vec![],
                    },
                    Hop {
                        from: Node::Region(r),
                        to,
                        kind: last_kind,
                        records: vec![],
                    },
                ];
                out.push((f, Node::Country(*k), hops));
            }
        }
        out
    }

    /// All paths of output `k`, best first, within `limits`.
    pub fn paths_of_key(&self, k: u32, limits: Limits) -> PathSet {
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        let mut done: Vec<(f64, Node, Option<Rc<Chain>>)> = Vec::new();
        let mut truncated = false;
        let root_s = self.outcome(k).mix.sanctioned();
        if root_s <= EPS {
            return PathSet::default();
        }
        heap.push(State {
            priority: root_s,
            seq,
            acc: 1.0,
            pending: Some(k),
            source: Node::Party(PartyId::new(0)),
            chain: None,
        });
        let mut pops = 0usize;
        // With `limits.top`, the running share of each node chain, to stop once the top chains are settled.
        let mut groups: HashMap<Vec<(Node, Node, HopKind)>, f64> = HashMap::new();
        let mut memo: HashMap<u32, Rc<Vec<crate::engine::model::Item>>> = HashMap::new();
        let mut found = 0.0;
        let max_pops = limits.max_paths.saturating_mul(8).saturating_add(1000);
        let budget = limits.work_budget();
        let mut work = 0usize;
        let mut peak_queue = 0usize;
        while let Some(st) = heap.pop() {
            pops += 1;
            if pops > max_pops || work > budget {
                truncated = true;
                break;
            }
            let Some(u) = st.pending else {
                if limits.top.is_some() {
                    *groups.entry(signature(st.source, &st.chain)).or_default() += st.acc;
                    found += st.acc;
                }
                done.push((st.acc, st.source, st.chain));
                if done.len() >= limits.max_paths {
                    truncated = !heap.is_empty();
                    break;
                }
                if let Some(k) = limits.top
                    && done.len().is_multiple_of(8)
                    && settled(&groups, k, root_s - found)
                {
                    break;
                }
                continue;
            };
            let key = self.key(u);
            let here = party_node(key.party);
            let mut push = |acc: f64,
                            pending: Option<u32>,
                            source: Node,
                            hops: Vec<Hop>,
                            heap: &mut BinaryHeap<State>,
                            work: &mut usize| {
                let mut chain = st.chain.clone();
                for h in hops.into_iter().rev() {
                    chain = Some(Rc::new(Chain {
                        hop: h,
                        next: chain,
                    }));
                }
                let depth = chain_len(&chain);
                if depth > limits.max_hops {
                    truncated = true;
                    return;
                }
                let priority = match pending {
                    Some(p) => acc * self.outcome(p).mix.sanctioned(),
                    None => acc,
                };
                if priority <= EPS * 1e-3 {
                    return;
                }
                seq += 1;
                *work += 1 + depth;
                heap.push(State {
                    priority,
                    seq,
                    acc,
                    pending,
                    source,
                    chain,
                });
            };
            // The same upstream output is reached by many chains: decompose it once per search.
            let items = memo
                .entry(u)
                .or_insert_with(|| {
                    let items = self.decompose(u);
                    work += items.len();
                    Rc::new(items)
                })
                .clone();
            for item in items.iter() {
                // Checked per term: one output may have more terms than the whole budget.
                work += 1;
                if work > budget {
                    break;
                }
                let w = item.weight;
                if w <= 0.0 {
                    continue;
                }
                let a = st.acc * w;
                match &item.source {
                    Source::SanctionedParty => push(a, None, here, vec![], &mut heap, &mut work),
                    Source::Shipment {
                        ship, direct: true, ..
                    } => {
                        let s = self.ds.shipment(*ship);
                        let q = party_node(s.shipper);
                        let hop = Hop {
                            from: q,
                            to: here,
                            kind: HopKind::Shipment,
                            records: one(RecordRef::Shipment(*ship), s.value_usd),
                        };
                        if self.is_sanctioned_party(s.shipper) {
                            push(a, None, q, vec![hop], &mut heap, &mut work);
                        } else if let Some(c) = s.origin {
                            let origin = Hop {
                                from: Node::Country(c),
                                to: q,
                                kind: HopKind::Shipment,
                                records: one(RecordRef::Shipment(*ship), s.value_usd),
                            };
                            push(
                                a,
                                None,
                                Node::Country(c),
                                vec![origin, hop],
                                &mut heap,
                                &mut work,
                            );
                        }
                    }
                    Source::Shipment {
                        ship,
                        upstream: Some(up),
                        ..
                    } => {
                        if self.outcome(*up).mix.sanctioned() > EPS {
                            let s = self.ds.shipment(*ship);
                            let hop = Hop {
                                from: party_node(s.shipper),
                                to: here,
                                kind: HopKind::Shipment,
                                records: one(RecordRef::Shipment(*ship), s.value_usd),
                            };
                            push(a, Some(*up), here, vec![hop], &mut heap, &mut work);
                        }
                    }
                    Source::Shipment { .. } => {}
                    Source::LinkSanctionedCountry { link } => {
                        let l = self.ds.link(*link);
                        if let crate::data::dataset::LinkSupplier::Country(c) = l.supplier {
                            let hop = Hop {
                                from: Node::Country(c),
                                to: here,
                                kind: HopKind::Declared,
                                records: one(RecordRef::Link(*link), Decimal::ZERO),
                            };
                            push(a, None, Node::Country(c), vec![hop], &mut heap, &mut work);
                        }
                    }
                    Source::LinkSanctionedParty { link } => {
                        let l = self.ds.link(*link);
                        if let crate::data::dataset::LinkSupplier::Party(q) = l.supplier {
                            let hop = Hop {
                                from: party_node(q),
                                to: here,
                                kind: HopKind::Declared,
                                records: one(RecordRef::Link(*link), Decimal::ZERO),
                            };
                            push(a, None, party_node(q), vec![hop], &mut heap, &mut work);
                        }
                    }
                    Source::LinkParty { link, upstream, .. } => {
                        if self.outcome(*upstream).mix.sanctioned() > EPS {
                            let l = self.ds.link(*link);
                            if let crate::data::dataset::LinkSupplier::Party(q) = l.supplier {
                                let hop = Hop {
                                    from: party_node(q),
                                    to: here,
                                    kind: HopKind::Declared,
                                    records: one(RecordRef::Link(*link), Decimal::ZERO),
                                };
                                push(a, Some(*upstream), here, vec![hop], &mut heap, &mut work);
                            }
                        }
                    }
                    Source::LinkCountryPool { link, country } => {
                        if let Some(pool) =
                            self.pool(*country, Scope::National, key.heading, key.date)
                        {
                            for (f, src, mut hops) in self.pool_chains(
                                &pool,
                                key.heading,
                                key.date,
                                here,
                                HopKind::Declared,
                                limits.records,
                            ) {
                                if let Some(last) = hops.last_mut() {
                                    last.records = one(RecordRef::Link(*link), Decimal::ZERO);
                                }
                                push(a * f, None, src, hops, &mut heap, &mut work);
                            }
                        }
                    }
                    Source::Pool { .. } => {
                        if let Some(pool) = self.party_pool(key.party, key.heading, key.date) {
                            let kind = HopKind::into_pool(pool.scope);
                            for (f, src, hops) in self.pool_chains(
                                &pool,
                                key.heading,
                                key.date,
                                here,
                                kind,
                                limits.records,
                            ) {
                                push(a * f, None, src, hops, &mut heap, &mut work);
                            }
                        }
                    }
                    Source::LinkCountryClean { .. }
                    | Source::LinkPartyUnknown { .. }
                    | Source::NoPool => {}
                }
            }
            if work > budget {
                truncated = true;
            }
            peak_queue = peak_queue.max(heap.len());
        }
        if !heap.is_empty() {
            truncated = true;
        }
        let self_source = done.iter().any(|(_, _, c)| c.is_none());
        PathSet {
            paths: aggregate(done),
            truncated,
            self_source,
            work,
            peak_queue,
        }
    }
}

/// The node chain of a record-level chain.
fn signature(source: Node, chain: &Option<Rc<Chain>>) -> Vec<(Node, Node, HopKind)> {
    let mut sig = Vec::new();
    let mut cur = chain.as_ref();
    while let Some(c) = cur {
        sig.push((c.hop.from, c.hop.to, c.hop.kind));
        cur = c.next.as_ref();
    }
    if sig.is_empty() {
        sig.push((source, source, HopKind::Shipment));
    }
    sig
}

/// Whether the `k` largest node chains can no longer change: every share still unfound (`remaining`, since
/// all paths add up to the output's sanctioned share) could not lift another chain above the k-th.
fn settled(groups: &HashMap<Vec<(Node, Node, HopKind)>, f64>, k: usize, remaining: f64) -> bool {
    let mut shares: Vec<f64> = groups.values().copied().collect();
    shares.sort_by(|a, b| b.total_cmp(a));
    match shares.get(k - 1) {
        Some(kth) => *kth > shares.get(k).copied().unwrap_or(0.0) + remaining.max(0.0) + 1e-12,
        None => remaining <= EPS,
    }
}

fn chain_len(c: &Option<Rc<Chain>>) -> usize {
    let mut n = 0;
    let mut cur = c.as_ref();
    while let Some(x) = cur {
        n += 1;
        cur = x.next.as_ref();
    }
    n
}

/// Merges record-level chains with the same node chain and hop kinds into one path.
fn aggregate(done: Vec<(f64, Node, Option<Rc<Chain>>)>) -> Vec<Path> {
    // Node chain -> (share, records per hop, source).
    type Group = (f64, Vec<Vec<(RecordRef, Decimal)>>, Node);
    let mut groups: BTreeMap<Vec<(Node, Node, HopKind)>, Group> = BTreeMap::new();
    for (share, source, chain) in done {
        let mut hops = Vec::new();
        let mut cur = chain.as_ref();
        while let Some(c) = cur {
            hops.push(&c.hop);
            cur = c.next.as_ref();
        }
        let mut sig: Vec<(Node, Node, HopKind)> =
            hops.iter().map(|h| (h.from, h.to, h.kind)).collect();
        if sig.is_empty() {
            // The output's own party is the source: a path with no upstream hop.
            sig.push((source, source, HopKind::Shipment));
        }
        let e = groups
            .entry(sig)
            .or_insert_with(|| (0.0, vec![Vec::new(); hops.len()], source));
        e.0 += share;
        for (i, h) in hops.iter().enumerate() {
            if let Some(slot) = e.1.get_mut(i) {
                slot.extend(h.records.iter().copied());
            }
        }
    }
    let mut paths: Vec<Path> = groups
        .into_iter()
        .map(|(sig, (share, recs, _))| {
            let self_only = recs.is_empty();
            let hops: Vec<Hop> = if self_only {
                vec![]
            } else {
                sig.iter()
                    .zip(recs)
                    .map(|((from, to, kind), mut records)| {
                        records.sort();
                        records.dedup_by(|a, b| a.0 == b.0);
                        Hop {
                            from: *from,
                            to: *to,
                            kind: *kind,
                            records,
                        }
                    })
                    .collect()
            };
            Path::new(share, hops)
        })
        .collect();
    paths.sort_by(|a, b| {
        b.share
            .total_cmp(&a.share)
            .then_with(|| a.nodes().cmp(&b.nodes()))
    });
    paths
}

/// Summary of a time-respecting walk for `paths --from`: not weighted, only connected.
#[derive(Clone, Debug)]
pub struct Walk {
    pub hops: Vec<(Node, Node, HopKind, Vec<RecordRef>, Date)>,
}

/// Parameters of `paths --from XX --to PARTY`.
#[derive(Clone, Debug)]
pub struct WalkQuery {
    pub origin: Country,
    pub to: PartyId,
    pub hs: Option<Hs>,
    pub limit: usize,
    pub max_hops: usize,
}
