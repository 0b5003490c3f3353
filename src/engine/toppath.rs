//! The top path of every output, carried forward in one pass in date order, so a batch report needs no
//! path search per output (SPEC §3: "no per-shipment re-walk of the upstream graph in batch work").
//!
//! A path is a node chain; its contribution into an output is the sum, over the output's terms, of the
//! term's weight times the contribution of the chain's prefix into the term's upstream output (or a
//! terminal factor for a sanctioned source or a pool). The chains of an output therefore follow from those
//! of its inputs, all earlier, all computed already. Keeping every chain of every output would grow without
//! bound, so each output keeps its [`KEEP`] largest; the mass it could not keep, `lost = sanctioned − Σ kept`,
//! bounds what any other chain could have (and what a kept chain could miss through a prefix dropped
//! upstream). The top chain is *certain* when its share beats the runner-up's by more than that bound, and
//! *exact* when no prefix of it was dropped upstream. A report takes a certain, exact top chain as it is and
//! falls back to the best-first search of [`crate::engine::paths`] for the other outputs, so its `top_path` is
//! always the one `trace` lists first (up to the search's own safety limits).

use crate::data::codes::{Country, Date, Hs};
use crate::data::dataset::{Dataset, LinkSupplier, PartyId};
use crate::data::settings::Settings;
use crate::engine::model::{DayObserver, EPS, Engine, Item, Scratch, Source};
use crate::engine::paths::{Hop, HopKind, Node, Path};
use crate::engine::pool::{Pool, Scope};
use crate::engine::screening::Hit;
use crate::util::fxhash::FxMap;
use rayon::prelude::*;

/// Chains kept per output. With eight, the pass settles all but about 0.05% of the sanctioned outputs of
/// the synthetic national-size data; the rest fall back to a search. With four, those searches took four
/// times as long at 1M shipments, and more outputs depended on the search's safety limits.
pub const KEEP: usize = 8;

const NONE: u32 = u32::MAX;

/// The party of a placeholder node, never read (no dataset has 2^32 − 1 parties).
const NO_PARTY: PartyId = PartyId::new(u32::MAX);

/// Two chains within this of each other are a tie: the search, which sorts ties by node, decides.
const MARGIN: f64 = 1e-12;

/// Terms one [`TopPaths::top_chain`] may read to make kept chains' shares exact. The exact share of a
/// chain follows it through every upstream output that could carry its prefix: on a graph where each
/// output has a thousand inputs that is millions of terms per output (issue 14: a report of 20,000
/// self-shipments spent 75 s here). Past this the output falls back to the bounded search.
pub const EXACT_WORK: usize = 20_000;

#[derive(Clone, Copy)]
struct Link {
    parent: u32,
    node: Node,
    kind: HopKind,
    depth: u16,
}

/// Node chains, interned as a tree of (parent chain, next node, hop kind): a chain shared by many outputs
/// is stored once, and extending one by a hop is a hash look-up.
#[derive(Default)]
pub struct Chains {
    links: Vec<Link>,
    map: FxMap<(u32, Node, HopKind), u32>,
}

impl Chains {
    fn intern(&mut self, parent: u32, node: Node, kind: HopKind) -> u32 {
        if let Some(&c) = self.map.get(&(parent, node, kind)) {
            return c;
        }
        let depth = if parent == NONE {
            0
        } else {
            self.links[parent as usize].depth.saturating_add(1)
        };
        let id = self.links.len() as u32;
        self.links.push(Link {
            parent,
            node,
            kind,
            depth,
        });
        self.map.insert((parent, node, kind), id);
        id
    }

    /// Chains interned.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Chain `c` as a path with share `share`; its grade is its weakest hop's.
    pub fn path(&self, c: u32, share: f64) -> Path {
        Path::new(share, self.hops(c))
    }

    /// The hops of chain `c`, source first (none for a source alone).
    pub fn hops(&self, c: u32) -> Vec<Hop> {
        let mut hops = Vec::new();
        let mut cur = c;
        while cur != NONE {
            let l = self.links[cur as usize];
            if l.parent != NONE {
                hops.push(Hop {
                    from: self.links[l.parent as usize].node,
                    to: l.node,
                    kind: l.kind,
                    records: Vec::new(),
                });
            }
            cur = l.parent;
        }
        hops.reverse();
        hops
    }
}

/// One kept chain of an output: its share as far as the pass has seen it (`lo`), and how much it could
/// still lack through prefixes that upstream outputs did not keep (`slack`; its share is within
/// `[lo, lo + slack]`).
#[derive(Clone, Copy, Debug)]
struct Entry {
    chain: u32,
    lo: f64,
    slack: f64,
}

/// The kept chains of every output, and a bound on every chain it did not keep.
pub struct TopPaths {
    pub chains: Chains,
    off: Vec<u32>,
    ent: Vec<Entry>,
    /// Per output: no chain it did not keep has a larger share than this.
    cap: Vec<f64>,
}

/// Exact shares of (output, chain), computed on demand.
pub type Memo = FxMap<(u32, u32), f64>;

/// Terminal chains through one pool, memoised per pool: (factor, chain up to the pool's node).
type PoolChains = Vec<(f64, u32)>;

/// A chain's terms in an output, summed: (chain, lo, slack, group). `group` is the upstream
/// (party, hop kind) it came through, whose `cap`s bound the prefixes not kept; `NONE` for a source term.
type Term = (u32, f64, f64, u32);

/// Per output being computed: the (upstream party, hop kind) groups and the share their dropped prefixes
/// could carry at most.
#[derive(Default)]
struct Groups {
    /// Group ids by (party, hop kind): a hub output has hundreds of suppliers, so a list searched per term
    /// would make its cost grow with the square of its suppliers.
    ids: FxMap<(PartyId, HopKind), u32>,
    cap: Vec<f64>,
}

impl Groups {
    fn of(&mut self, party: PartyId, kind: HopKind) -> u32 {
        let next = self.cap.len() as u32;
        let id = *self.ids.entry((party, kind)).or_insert(next);
        if id == next {
            self.cap.push(0.0);
        }
        id
    }
}

impl TopPaths {
    /// One pass over the outputs in date order. `max_hops` is the path search's limit: longer chains are
    /// not paths, here as there.
    pub fn compute(e: &Engine, max_hops: usize) -> TopPaths {
        TopPaths::compute_keeping(e, max_hops, KEEP)
    }

    /// [`TopPaths::compute`] keeping `keep` chains per output (at least one): fewer make the bounds and
    /// the exact shares do more of the work, which is what the tests want.
    pub fn compute_keeping(e: &Engine, max_hops: usize, keep: usize) -> TopPaths {
        let n = e.ix.keys.len();
        let mut pass = Pass::new(n, max_hops, keep);
        e.prepare_pass();
        crate::util::timing::phase("top-path-lookup");
        // One day at a time; an output's terms come from earlier days only. The terms depend on the mixes
        // alone, all known here, so a producer thread decomposes the outputs (each day's in parallel)
        // ahead of this one, which makes their chains (`Pass::day_terms`).
        let (tx, rx) = std::sync::mpsc::sync_channel::<(u32, Date, Vec<Option<Vec<Item>>>)>(8);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut start = 0;
                while start < n {
                    let day = e.ix.keys[start].date;
                    let end = start + e.ix.keys[start..].partition_point(|x| x.date == day);
                    e.prefetch_region_sums(start..end);
                    let decomposed: Vec<Option<Vec<Item>>> = (start as u32..end as u32)
                        .into_par_iter()
                        .map_init(Scratch::default, |scratch, k| {
                            (e.outcome(k).mix.sanctioned() > EPS).then(|| {
                                let mut items = Vec::new();
                                e.decompose_into(k, scratch, &mut items);
                                items
                            })
                        })
                        .collect();
                    if tx.send((start as u32, day, decomposed)).is_err() {
                        return;
                    }
                    start = end;
                }
            });
            for (start, day, decomposed) in rx {
                pass.day_terms(e, start, decomposed);
                // No later output reads a pool of this day (see `Engine::forget_pools_through`).
                e.forget_pools_through(day);
            }
        });
        pass.finish()
    }

    fn kept(&self, k: u32) -> &[Entry] {
        &self.ent[self.off[k as usize] as usize..self.off[k as usize + 1] as usize]
    }

    /// The terms of output `k`, summed per chain, against the chains made so far (read only): the chains
    /// it would add are kept in the draft, in the order a sequential pass would make them.
    fn draft(
        &self,
        e: &Engine,
        k: u32,
        items: &[Item],
        max_hops: usize,
        pools: &FxMap<PoolKey, PoolChains>,
    ) -> Draft {
        let key = e.key(k);
        let here = Node::Party(key.party);
        let mut d = Draft {
            s: e.outcome(k).mix.sanctioned(),
            ..Draft::default()
        };
        for item in items {
            let w = item.weight;
            if w <= 0.0 {
                continue;
            }
            match &item.source {
                Source::SanctionedParty
                | Source::Shipment { direct: true, .. }
                | Source::LinkSanctionedCountry { .. }
                | Source::LinkSanctionedParty { .. } => {
                    if let Some(c) = source_chain(e, here, &item.source, |p, n, k| {
                        Some(self.ext(&mut d, p, n, k))
                    }) {
                        d.source(self, c, w, max_hops);
                    }
                }
                Source::Shipment {
                    upstream: Some(u), ..
                } => self.inherit(e, &mut d, *u, here, HopKind::Shipment, w, max_hops),
                Source::LinkParty { upstream, .. } => {
                    self.inherit(e, &mut d, *upstream, here, HopKind::Declared, w, max_hops)
                }
                Source::LinkCountryPool { country, .. } => {
                    if let Some(pool) = e.pool(*country, Scope::National, key.heading, key.date) {
                        for (f, c) in
                            self.pool_chains(e, &mut d, &pool, key.heading, key.date, pools)
                        {
                            let c = self.ext(&mut d, c, here, HopKind::Declared);
                            d.source(self, c, w * f, max_hops);
                        }
                    }
                }
                Source::Pool { .. } => {
                    if let Some(pool) = e.party_pool(key.party, key.heading, key.date) {
                        let kind = HopKind::into_pool(pool.scope);
                        for (f, c) in
                            self.pool_chains(e, &mut d, &pool, key.heading, key.date, pools)
                        {
                            let c = self.ext(&mut d, c, here, kind);
                            d.source(self, c, w * f, max_hops);
                        }
                    }
                }
                Source::Shipment { .. }
                | Source::LinkCountryClean { .. }
                | Source::LinkPartyUnknown { .. }
                | Source::NoPool => {}
            }
        }
        d
    }

    /// Chain `parent` followed by a hop of `kind` into `node`: the chain made so far, or one the draft will
    /// add.
    fn ext(&self, d: &mut Draft, parent: u32, node: Node, kind: HopKind) -> u32 {
        if !is_new(parent)
            && let Some(&c) = self.chains.map.get(&(parent, node, kind))
        {
            return c;
        }
        let next = NEW | d.new.len() as u32;
        let c = *d.new_ids.entry((parent, node, kind)).or_insert(next);
        if c == next {
            let depth = if parent == NONE {
                0
            } else {
                d.depth(self, parent).saturating_add(1)
            };
            d.new.push((parent, node, kind));
            d.new_depth.push(depth);
        }
        c
    }

    /// The kept chains of upstream output `u`, each extended by a hop of `kind` into `here`, weighted by
    /// `w`. The chains `u` did not keep may each carry up to `cap[u]`: that goes to the group's cap, and a
    /// kept chain takes it off again for the upstream output that did keep its prefix.
    #[allow(clippy::too_many_arguments)]
    fn inherit(
        &self,
        e: &Engine,
        d: &mut Draft,
        u: u32,
        here: Node,
        kind: HopKind,
        w: f64,
        max_hops: usize,
    ) {
        if e.outcome(u).mix.sanctioned() <= EPS {
            return;
        }
        let cap = w * self.cap[u as usize];
        let g = d.groups.of(e.key(u).party, kind);
        d.groups.cap[g as usize] += cap;
        for x in self.kept(u) {
            let (lo, slack) = (w * x.lo, w * x.slack - cap);
            match d.near.get(&(x.chain, kind)) {
                Some(&NONE) => {}
                Some(&i) => d.add(i, lo, slack, g),
                None => {
                    let c = self.ext(d, x.chain, here, kind);
                    let i = if (d.depth(self, c) as usize) <= max_hops {
                        d.term(c, lo, slack, g)
                    } else {
                        NONE
                    };
                    d.near.insert((x.chain, kind), i);
                }
            }
        }
    }

    /// The chains a pool ends (without their last hop into the output, which depends on the output),
    /// read from the same [`Engine::pool_chains`] the search uses; memoised per pool once settled.
    fn pool_chains(
        &self,
        e: &Engine,
        d: &mut Draft,
        pool: &Pool,
        o: Hs,
        t: Date,
        memo: &FxMap<PoolKey, PoolChains>,
    ) -> PoolChains {
        let mk = (pool.reporter, pool.scope, o, t);
        if let Some(v) = memo.get(&mk) {
            return v.clone();
        }
        if let Some((_, v)) = d.pools.iter().find(|x| x.0 == mk) {
            return v.clone();
        }
        // `to` and the last kind are placeholders: only the hops before the last are made.
        let mut v = Vec::new();
        for (f, src, hops) in
            e.pool_chains(pool, o, t, Node::Party(NO_PARTY), HopKind::Shipment, false)
        {
            let mut c = self.ext(d, NONE, src, HopKind::Shipment);
            for h in &hops[..hops.len().saturating_sub(1)] {
                c = self.ext(d, c, h.to, h.kind);
            }
            v.push((f, c));
        }
        d.pools.push((mk, v.clone()));
        v
    }

    /// Makes the chains a draft adds, in the order it met them, and gives its terms their ids.
    fn settle(&mut self, d: &mut Draft, pools: &mut FxMap<PoolKey, PoolChains>) {
        let mut ids = Vec::with_capacity(d.new.len());
        for &(parent, node, kind) in &d.new {
            let p = if is_new(parent) {
                ids[(parent & !NEW) as usize]
            } else {
                parent
            };
            ids.push(self.chains.intern(p, node, kind));
        }
        let id = |c: u32| {
            if is_new(c) {
                ids[(c & !NEW) as usize]
            } else {
                c
            }
        };
        for term in &mut d.merged {
            term.0 = id(term.0);
        }
        for (mk, v) in d.pools.drain(..) {
            pools
                .entry(mk)
                .or_insert_with(|| v.into_iter().map(|(f, c)| (f, id(c))).collect());
        }
    }
}

/// The top-path pass, a day at a time: what [`TopPaths::compute`] runs on its own, and what the engine
/// pass runs beside its own when a report will need the top paths ([`run`]), so
/// each output is decomposed once.
pub struct Pass {
    t: TopPaths,
    /// Pool chains by pool, for the days not yet done.
    pools: FxMap<PoolKey, PoolChains>,
    max_hops: usize,
    keep: usize,
}

impl Pass {
    /// A pass over `n` outputs; `max_hops` is the path search's limit (longer chains are not paths, here
    /// as there), `keep` the chains kept per output (at least one).
    pub fn new(n: usize, max_hops: usize, keep: usize) -> Pass {
        let mut t = TopPaths {
            chains: Chains::default(),
            off: Vec::with_capacity(n + 1),
            ent: Vec::new(),
            cap: Vec::with_capacity(n),
        };
        t.off.push(0);
        Pass {
            t,
            pools: FxMap::default(),
            max_hops,
            keep: keep.max(1),
        }
    }

    /// The outputs of one day, from `start` on, given their terms (`None` for an output with no
    /// sanctioned share). Their outputs are drafted in parallel against the chains made so far; the
    /// chains they add are made in key order, so chain ids, and with them every tie-break, are what a
    /// sequential pass gives; then each output keeps its largest chains, again in parallel. Every output
    /// of earlier days must be done, and the day's pools still memoised in `e` (or computable).
    fn day_terms(&mut self, e: &Engine, start: u32, decomposed: Vec<Option<Vec<Item>>>) {
        let (t, pools) = (&mut self.t, &mut self.pools);
        let (max_hops, keep) = (self.max_hops, self.keep);
        let Some(day) = decomposed.first().map(|_| e.key(start).date) else {
            return;
        };
        let mut drafts: Vec<Option<Draft>> = decomposed
            .into_par_iter()
            .enumerate()
            .map(|(i, items)| {
                let t = &*t;
                items.map(|items| t.draft(e, start + i as u32, &items, max_hops, pools))
            })
            .collect();
        for d in drafts.iter_mut().flatten() {
            t.settle(d, pools);
        }
        let kept: Vec<Option<(Vec<Entry>, f64)>> = drafts
            .into_par_iter()
            .map(|d| d.map(|d| keep_of(d.s, keep, &d.merged, &d.groups)))
            .collect();
        for k in kept {
            match k {
                Some((entries, cap)) => {
                    t.ent.extend(entries);
                    t.cap.push(cap);
                }
                None => t.cap.push(0.0),
            }
            t.off.push(t.ent.len() as u32);
        }
        // Pool chains are looked up by their pool's day: no later output reads this day's.
        pools.retain(|k, _| k.3 > day);
    }

    pub fn finish(self) -> TopPaths {
        self.t
    }
}

impl DayObserver for Pass {
    fn day(&mut self, e: &Engine, first: u32, terms: Vec<Option<Vec<Item>>>) {
        // The region sums that paths through the rest of a country read, for this day's outputs only.
        let n = terms.len();
        e.prefetch_region_sums(first as usize..first as usize + n);
        self.day_terms(e, first, terms);
    }
}

/// [`Engine::run`] with the top-path pass beside it: what a batch report runs. `max_hops` is the path
/// search's limit.
pub fn run<'a>(
    ds: &'a Dataset,
    st: &'a Settings,
    hits: Vec<Vec<Hit>>,
    max_hops: usize,
) -> (Engine<'a>, TopPaths) {
    let mut tops = Pass::new(0, max_hops, KEEP);
    let e = Engine::run_observed(ds, st, hits, &mut tops);
    (e, tops.finish())
}

/// A reference to a chain the current day adds: the top bit, then its place in its draft's list. Chain
/// ids stay far below it (2^31 chains would take more than 50 GB).
const NEW: u32 = 1 << 31;

fn is_new(c: u32) -> bool {
    c != NONE && c & NEW != 0
}

type PoolKey = (Country, Scope, Hs, Date);

/// One output's terms, drafted in parallel with the other outputs of its day.
#[derive(Default)]
struct Draft {
    /// Its sanctioned share.
    s: f64,
    /// Its terms merged by chain as they come, in the order their chains first came: (chain, lo, slack,
    /// group), the sums taken in the order a sort of every term by chain would leave them, so the
    /// figures are the same to the last bit.
    merged: Vec<Term>,
    /// The place of each chain in `merged`.
    slot: FxMap<u32, u32>,
    groups: Groups,
    /// Chains it adds, as (parent, node, kind), in the order met; a parent may itself be one of them.
    new: Vec<(u32, Node, HopKind)>,
    new_depth: Vec<u16>,
    new_ids: FxMap<(u32, Node, HopKind), u32>,
    /// Extensions into this output by (chain, hop kind), as their place in `merged` (`NONE` when too
    /// long to be a path). A hub output inherits the same few chains through thousands of inbound
    /// shipments; this small table answers those repeats instead of the interning table, which at national
    /// scale is far larger than the caches.
    near: FxMap<(u32, HopKind), u32>,
    /// Pools whose chains were not memoised yet.
    pools: Vec<(PoolKey, PoolChains)>,
}

impl Draft {
    fn depth(&self, t: &TopPaths, c: u32) -> u16 {
        if is_new(c) {
            self.new_depth[(c & !NEW) as usize]
        } else {
            t.chains.links[c as usize].depth
        }
    }

    /// A term that starts at a sanctioned source.
    fn source(&mut self, t: &TopPaths, c: u32, share: f64, max_hops: usize) {
        if (self.depth(t, c) as usize) <= max_hops {
            self.term(c, share, 0.0, NONE);
        }
    }

    /// Adds a term of chain `c`; its place in `merged`.
    fn term(&mut self, c: u32, lo: f64, slack: f64, g: u32) -> u32 {
        let next = self.merged.len() as u32;
        let i = *self.slot.entry(c).or_insert(next);
        if i == next {
            self.merged.push((c, lo, slack, g));
        } else {
            self.add(i, lo, slack, g);
        }
        i
    }

    /// Adds a term to the chain at place `i`.
    fn add(&mut self, i: u32, lo: f64, slack: f64, g: u32) {
        if let Some(m) = self.merged.get_mut(i as usize) {
            m.1 += lo;
            m.2 += slack;
            // A chain's last hop names its group, so every inherited term of it has the same one.
            if g != NONE {
                m.3 = g;
            }
        }
    }
}

/// Keeps the largest of an output's chains, and bounds the rest: the kept entries and the cap on every
/// chain not kept.
fn keep_of(s: f64, keep: usize, merged: &[Term], groups: &Groups) -> (Vec<Entry>, f64) {
    // A chain through a group may lack what every upstream output of the group that did not keep its
    // prefix could carry: the group's cap, less what the outputs that did keep it gave back.
    let mut merged: Vec<Entry> = merged
        .iter()
        .map(|&(chain, lo, slack, g)| Entry {
            chain,
            lo,
            slack: if g == NONE {
                slack
            } else {
                (slack + groups.cap[g as usize]).max(0.0)
            },
        })
        .collect();
    merged.sort_by(|a, b| b.lo.total_cmp(&a.lo).then(a.chain.cmp(&b.chain)));
    // Chains not kept: those merged here but cut, and those whose prefix no upstream output kept.
    let mut cap = groups.cap.iter().copied().fold(0.0, f64::max);
    for m in merged.iter().skip(keep) {
        cap = cap.max(m.lo + m.slack);
    }
    merged.truncate(keep);
    let kept: f64 = merged.iter().map(|x| x.lo).sum();
    (merged, cap.min((s - kept).max(0.0)))
}

impl TopPaths {
    /// The top path of output `k`, with its exact share, when the kept chains settle it; `None` when the
    /// search must decide (near ties, or a chain nobody kept could be as large), or the output has no
    /// sanctioned share. `memo` holds exact chain shares between calls.
    pub fn top(&self, e: &Engine, k: u32, memo: &mut Memo) -> Option<Path> {
        self.top_chain(e, k, memo)
            .map(|(c, share)| self.chains.path(c, share))
    }

    /// [`TopPaths::top`] as (chain, exact share), to be made a path by [`Chains::path`]. `None` too when
    /// making the shares exact would read more than [`EXACT_WORK`] terms. `memo` is cleared first: with
    /// values left from other outputs, whether the budget suffices would depend on which outputs a thread
    /// did before, and so would the report.
    pub fn top_chain(&self, e: &Engine, k: u32, memo: &mut Memo) -> Option<(u32, f64)> {
        memo.clear();
        let mut budget = EXACT_WORK;
        let kept = self.kept(k);
        let first = kept.first()?;
        let cap = self.cap[k as usize];
        let rival = kept[1..].iter().map(|x| x.lo + x.slack).fold(cap, f64::max);
        let (chain, share) = if first.lo > rival + MARGIN {
            let share = if first.slack > MARGIN {
                self.exact(e, k, first.chain, memo, &mut budget)?
            } else {
                first.lo
            };
            (first.chain, share)
        } else {
            // Too close on the bounds: the exact shares of the kept chains may still settle it.
            let mut ex: Vec<(f64, u32)> = kept
                .iter()
                .map(|x| {
                    let v = if x.slack > MARGIN {
                        self.exact(e, k, x.chain, memo, &mut budget)?
                    } else {
                        x.lo
                    };
                    Some((v, x.chain))
                })
                .collect::<Option<_>>()?;
            ex.sort_by(|a, b| b.0.total_cmp(&a.0));
            let second = ex.get(1).map_or(0.0, |x| x.0);
            if ex[0].0 <= second.max(cap) + MARGIN {
                return None;
            }
            (ex[0].1, ex[0].0)
        };
        Some((chain, share))
    }

    /// The chains alone, for making paths once every top chain is known: the per-output bounds and the
    /// interning table are dropped.
    pub fn into_chains(self) -> Chains {
        let mut c = self.chains;
        c.map = FxMap::default();
        c
    }

    /// The exact share of chain `c` in output `k`: the same sum as the pass, but following that one chain
    /// alone, through every upstream output that could carry its prefix. `None` once `budget` terms are
    /// read (nothing partial is memoised).
    fn exact(
        &self,
        e: &Engine,
        k: u32,
        c: u32,
        memo: &mut Memo,
        budget: &mut usize,
    ) -> Option<f64> {
        if let Some(v) = memo.get(&(k, c)) {
            return Some(*v);
        }
        let items = e.decompose(k);
        *budget = budget.checked_sub(items.len().saturating_add(1))?;
        let link = self.chains.links[c as usize];
        let key = e.key(k);
        let here = Node::Party(key.party);
        let find = |parent: u32, node: Node, kind: HopKind| {
            self.chains.map.get(&(parent, node, kind)).copied()
        };
        let mut sum = 0.0;
        for item in items {
            let w = item.weight;
            if w <= 0.0 {
                continue;
            }
            match &item.source {
                Source::SanctionedParty
                | Source::Shipment { direct: true, .. }
                | Source::LinkSanctionedCountry { .. }
                | Source::LinkSanctionedParty { .. } => {
                    if source_chain(e, here, &item.source, find) == Some(c) {
                        sum += w;
                    }
                }
                Source::Shipment {
                    upstream: Some(u), ..
                }
                | Source::LinkParty { upstream: u, .. } => {
                    let kind = if matches!(item.source, Source::LinkParty { .. }) {
                        HopKind::Declared
                    } else {
                        HopKind::Shipment
                    };
                    if link.kind == kind
                        && link.parent != NONE
                        && self.chains.links[link.parent as usize].node
                            == Node::Party(e.key(*u).party)
                        && e.outcome(*u).mix.sanctioned() > EPS
                    {
                        sum += w * self.exact(e, *u, link.parent, memo, budget)?;
                    }
                }
                Source::LinkCountryPool { country, .. } => {
                    if link.kind == HopKind::Declared
                        && let Some(pool) = e.pool(*country, Scope::National, key.heading, key.date)
                    {
                        sum += w * self.pool_share(e, &pool, key.heading, key.date, link.parent);
                    }
                }
                Source::Pool { .. } => {
                    if let Some(pool) = e.party_pool(key.party, key.heading, key.date) {
                        let kind = HopKind::into_pool(pool.scope);
                        if link.kind == kind {
                            sum +=
                                w * self.pool_share(e, &pool, key.heading, key.date, link.parent);
                        }
                    }
                }
                Source::Shipment { .. }
                | Source::LinkCountryClean { .. }
                | Source::LinkPartyUnknown { .. }
                | Source::NoPool => {}
            }
        }
        memo.insert((k, c), sum);
        Some(sum)
    }

    /// The factor of the pool chain whose hops before the last are chain `prefix`.
    fn pool_share(&self, e: &Engine, pool: &Pool, o: Hs, t: Date, prefix: u32) -> f64 {
        let mut sum = 0.0;
        for (f, src, hops) in
            e.pool_chains(pool, o, t, Node::Party(NO_PARTY), HopKind::Shipment, false)
        {
            let mut c = self
                .chains
                .map
                .get(&(NONE, src, HopKind::Shipment))
                .copied();
            for h in &hops[..hops.len().saturating_sub(1)] {
                c = c.and_then(|c| self.chains.map.get(&(c, h.to, h.kind)).copied());
            }
            if c == Some(prefix) {
                sum += f;
            }
        }
        sum
    }
}

/// The chain a term that starts a path ends: a party located in a sanctioned country, a direct sanctioned
/// shipment, a declaration naming a sanctioned country or party (`None` for any other term). `step` makes
/// or finds each link (parent chain, next node, hop kind), so the pass and [`TopPaths::exact`] read one
/// mapping.
fn source_chain(
    e: &Engine,
    here: Node,
    src: &Source,
    mut step: impl FnMut(u32, Node, HopKind) -> Option<u32>,
) -> Option<u32> {
    let ds = e.ds;
    match src {
        Source::SanctionedParty => step(NONE, here, HopKind::Shipment),
        Source::Shipment {
            ship, direct: true, ..
        } => {
            let s = ds.shipment(*ship);
            let q = Node::Party(s.shipper);
            if e.is_sanctioned_party(s.shipper) {
                let r = step(NONE, q, HopKind::Shipment)?;
                step(r, here, HopKind::Shipment)
            } else {
                let r = step(NONE, Node::Country(s.origin?), HopKind::Shipment)?;
                let c = step(r, q, HopKind::Shipment)?;
                step(c, here, HopKind::Shipment)
            }
        }
        Source::LinkSanctionedCountry { link } | Source::LinkSanctionedParty { link } => {
            let from = match ds.link(*link).supplier {
                LinkSupplier::Country(c) => Node::Country(c),
                LinkSupplier::Party(q) => Node::Party(q),
            };
            let r = step(NONE, from, HopKind::Shipment)?;
            step(r, here, HopKind::Declared)
        }
        _ => None,
    }
}
