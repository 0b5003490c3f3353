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
//! falls back to the best-first search of [`crate::paths`] for the other outputs, so its `top_path` is
//! always the one `trace` lists first (up to the search's own safety limits).

use crate::codes::{Country, Date, Hs};
use crate::dataset::LinkSupplier;
use crate::fxhash::FxMap;
use crate::model::{EPS, Engine, Item, Scratch, Source};
use crate::paths::{Hop, HopKind, Node, Path};
use crate::pool::{Pool, Scope};
use rayon::prelude::*;

/// Chains kept per output. With eight, the pass settles all but about 0.05% of the sanctioned outputs of
/// the synthetic national-size data; the rest fall back to a search. With four, those searches took four
/// times as long at 1M shipments, and more outputs depended on the search's safety limits.
pub const KEEP: usize = 8;

const NONE: u32 = u32::MAX;

/// Two chains within this of each other are a tie: the search, which sorts ties by node, decides.
const MARGIN: f64 = 1e-12;

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

    /// The chain made of a source alone (no hop yet).
    fn root(&mut self, source: Node) -> u32 {
        self.intern(NONE, source, HopKind::Shipment)
    }

    /// Chain `c` followed by a hop of `kind` into `to`.
    fn ext(&mut self, c: u32, to: Node, kind: HopKind) -> u32 {
        self.intern(c, to, kind)
    }

    /// Chains interned.
    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    fn depth(&self, c: u32) -> usize {
        self.links[c as usize].depth as usize
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
    /// Extensions into the output being computed, by (chain, hop kind). A hub output inherits the same
    /// few chains through thousands of inbound shipments; this small table answers those repeats instead
    /// of the interning table, which at national scale is far larger than the caches. Cleared per output.
    near: FxMap<(u32, HopKind), u32>,
}

/// Exact shares of (output, chain), computed on demand.
pub type Memo = FxMap<(u32, u32), f64>;

/// Terminal chains through one pool, memoised per pool: (factor, chain up to the pool's node).
type PoolChains = Vec<(f64, u32)>;

/// A chain's term in an output before merging: (chain, lo, slack, group). `group` is the upstream
/// (party, hop kind) it came through, whose `cap`s bound the prefixes not kept; `NONE` for a source term.
type Term = (u32, f64, f64, u32);

/// Per output being computed: the (upstream party, hop kind) groups and the share their dropped prefixes
/// could carry at most.
#[derive(Default)]
struct Groups {
    /// Group ids by (party, hop kind): a hub output has hundreds of suppliers, so a list searched per term
    /// would make its cost grow with the square of its suppliers.
    ids: FxMap<(u32, HopKind), u32>,
    cap: Vec<f64>,
}

impl Groups {
    fn of(&mut self, party: u32, kind: HopKind) -> u32 {
        let next = self.cap.len() as u32;
        let id = *self.ids.entry((party, kind)).or_insert(next);
        if id == next {
            self.cap.push(0.0);
        }
        id
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.cap.clear();
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
        let mut t = TopPaths {
            chains: Chains::default(),
            off: Vec::with_capacity(n + 1),
            ent: Vec::new(),
            cap: Vec::with_capacity(n),
            near: FxMap::default(),
        };
        let mut pools: FxMap<(Country, Scope, Hs, Date), PoolChains> = FxMap::default();
        let mut terms: Vec<Term> = Vec::new();
        let mut groups = Groups::default();
        e.prefetch_region_sums();
        e.prepare_pass();
        crate::timing::phase("top-path-sums");
        t.off.push(0);
        // One day at a time: the outputs of a day are decomposed in parallel (their terms come from earlier
        // days only), then their chains are made in key order, so chain ids, and with them every tie-break,
        // are what a sequential pass gives.
        let mut start = 0;
        while start < n {
            let day = e.ix.keys[start].date;
            let end = start + e.ix.keys[start..].partition_point(|x| x.date == day);
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
            for (k, items) in (start as u32..end as u32).zip(decomposed) {
                match items {
                    Some(items) => {
                        terms.clear();
                        groups.clear();
                        t.near.clear();
                        let s = e.outcome(k).mix.sanctioned();
                        t.terms(e, k, &items, max_hops, &mut pools, &mut terms, &mut groups);
                        t.keep(s, keep.max(1), &mut terms, &groups);
                    }
                    None => t.cap.push(0.0),
                }
                t.off.push(t.ent.len() as u32);
            }
            start = end;
        }
        t
    }

    fn kept(&self, k: u32) -> &[Entry] {
        &self.ent[self.off[k as usize] as usize..self.off[k as usize + 1] as usize]
    }

    /// Every term of output `k`, unmerged.
    #[allow(clippy::too_many_arguments)]
    fn terms(
        &mut self,
        e: &Engine,
        k: u32,
        items: &[Item],
        max_hops: usize,
        pools: &mut FxMap<(Country, Scope, Hs, Date), PoolChains>,
        out: &mut Vec<Term>,
        groups: &mut Groups,
    ) {
        let key = e.key(k);
        let here = Node::Party(key.party);
        for item in items {
            let w = item.weight;
            if w <= 0.0 {
                continue;
            }
            let mut source = |c: u32, share: f64, chains: &Chains| {
                if chains.depth(c) <= max_hops {
                    out.push((c, share, 0.0, NONE));
                }
            };
            match &item.source {
                Source::SanctionedParty
                | Source::Shipment { direct: true, .. }
                | Source::LinkSanctionedCountry { .. }
                | Source::LinkSanctionedParty { .. } => {
                    let chains = &mut self.chains;
                    if let Some(c) = source_chain(e, here, &item.source, |p, n, k| {
                        Some(chains.intern(p, n, k))
                    }) {
                        source(c, w, &self.chains);
                    }
                }
                Source::Shipment {
                    upstream: Some(u), ..
                } => self.inherit(e, *u, here, HopKind::Shipment, w, max_hops, out, groups),
                Source::LinkParty { upstream, .. } => self.inherit(
                    e,
                    *upstream,
                    here,
                    HopKind::Declared,
                    w,
                    max_hops,
                    out,
                    groups,
                ),
                Source::LinkCountryPool { country, .. } => {
                    if let Some(pool) = e.pool(*country, Scope::National, key.heading, key.date) {
                        for (f, c) in self.pool_chains(e, &pool, key.heading, key.date, pools) {
                            let c = self.chains.ext(c, here, HopKind::Declared);
                            source(c, w * f, &self.chains);
                        }
                    }
                }
                Source::Pool { .. } => {
                    if let Some(pool) = e.party_pool(key.party, key.heading, key.date) {
                        let kind = HopKind::into_pool(pool.scope);
                        for (f, c) in self.pool_chains(e, &pool, key.heading, key.date, pools) {
                            let c = self.chains.ext(c, here, kind);
                            source(c, w * f, &self.chains);
                        }
                    }
                }
                Source::Shipment { .. }
                | Source::LinkCountryClean { .. }
                | Source::LinkPartyUnknown { .. }
                | Source::NoPool => {}
            }
        }
    }

    /// The kept chains of upstream output `u`, each extended by a hop of `kind` into `here`, weighted by
    /// `w`. The chains `u` did not keep may each carry up to `cap[u]`: that goes to the group's cap, and a
    /// kept chain takes it off again for the upstream output that did keep its prefix.
    #[allow(clippy::too_many_arguments)]
    fn inherit(
        &mut self,
        e: &Engine,
        u: u32,
        here: Node,
        kind: HopKind,
        w: f64,
        max_hops: usize,
        out: &mut Vec<Term>,
        groups: &mut Groups,
    ) {
        if e.outcome(u).mix.sanctioned() <= EPS {
            return;
        }
        let cap = w * self.cap[u as usize];
        let g = groups.of(e.key(u).party, kind);
        groups.cap[g as usize] += cap;
        let (a, b) = (
            self.off[u as usize] as usize,
            self.off[u as usize + 1] as usize,
        );
        for i in a..b {
            let x = self.ent[i];
            let c = match self.near.get(&(x.chain, kind)) {
                Some(&c) => c,
                None => {
                    let c = self.chains.ext(x.chain, here, kind);
                    self.near.insert((x.chain, kind), c);
                    c
                }
            };
            if self.chains.depth(c) <= max_hops {
                out.push((c, w * x.lo, w * x.slack - cap, g));
            }
        }
    }

    /// The chains a pool ends (without their last hop into the output, which depends on the output),
    /// read from the same [`Engine::pool_chains`] the search uses.
    fn pool_chains(
        &mut self,
        e: &Engine,
        pool: &Pool,
        o: Hs,
        t: Date,
        memo: &mut FxMap<(Country, Scope, Hs, Date), PoolChains>,
    ) -> PoolChains {
        let mk = (pool.reporter, pool.scope, o, t);
        if let Some(v) = memo.get(&mk) {
            return v.clone();
        }
        // `to` and the last kind are placeholders: only the hops before the last are interned.
        let mut v = Vec::new();
        for (f, src, hops) in e.pool_chains(pool, o, t, Node::Party(NONE), HopKind::Shipment, false)
        {
            let mut c = self.chains.root(src);
            for h in &hops[..hops.len().saturating_sub(1)] {
                c = self.chains.ext(c, h.to, h.kind);
            }
            v.push((f, c));
        }
        memo.insert(mk, v.clone());
        v
    }

    /// Merges the terms of an output by chain, keeps the largest, and bounds the rest.
    fn keep(&mut self, s: f64, keep: usize, terms: &mut [Term], groups: &Groups) {
        terms.sort_by_key(|x| x.0);
        let mut merged: Vec<Entry> = Vec::new();
        let mut group_of: Vec<u32> = Vec::new();
        for &(c, lo, slack, g) in terms.iter() {
            match merged.last_mut() {
                Some(m) if m.chain == c => {
                    m.lo += lo;
                    m.slack += slack;
                    // A chain's last hop names its group, so every inherited term of it has the same one.
                    if g != NONE
                        && let Some(last) = group_of.last_mut()
                    {
                        *last = g;
                    }
                }
                _ => {
                    merged.push(Entry {
                        chain: c,
                        lo,
                        slack,
                    });
                    group_of.push(g);
                }
            }
        }
        // A chain through a group may lack what every upstream output of the group that did not keep its
        // prefix could carry: the group's cap, less what the outputs that did keep it gave back.
        for (m, g) in merged.iter_mut().zip(&group_of) {
            if *g != NONE {
                m.slack = (m.slack + groups.cap[*g as usize]).max(0.0);
            }
        }
        merged.sort_by(|a, b| b.lo.total_cmp(&a.lo).then(a.chain.cmp(&b.chain)));
        // Chains not kept: those merged here but cut, and those whose prefix no upstream output kept.
        let mut cap = groups.cap.iter().copied().fold(0.0, f64::max);
        for m in merged.iter().skip(keep) {
            cap = cap.max(m.lo + m.slack);
        }
        merged.truncate(keep);
        let kept: f64 = merged.iter().map(|x| x.lo).sum();
        self.ent.extend(merged);
        self.cap.push(cap.min((s - kept).max(0.0)));
    }

    /// The top path of output `k`, with its exact share, when the kept chains settle it; `None` when the
    /// search must decide (near ties, or a chain nobody kept could be as large), or the output has no
    /// sanctioned share. `memo` holds exact chain shares between calls.
    pub fn top(&self, e: &Engine, k: u32, memo: &mut Memo) -> Option<Path> {
        self.top_chain(e, k, memo)
            .map(|(c, share)| self.chains.path(c, share))
    }

    /// [`TopPaths::top`] as (chain, exact share), to be made a path by [`Chains::path`].
    pub fn top_chain(&self, e: &Engine, k: u32, memo: &mut Memo) -> Option<(u32, f64)> {
        let kept = self.kept(k);
        let first = kept.first()?;
        let cap = self.cap[k as usize];
        let rival = kept[1..].iter().map(|x| x.lo + x.slack).fold(cap, f64::max);
        let (chain, share) = if first.lo > rival + MARGIN {
            let share = if first.slack > MARGIN {
                self.exact(e, k, first.chain, memo)
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
                        self.exact(e, k, x.chain, memo)
                    } else {
                        x.lo
                    };
                    (v, x.chain)
                })
                .collect();
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
    /// alone, through every upstream output that could carry its prefix.
    fn exact(&self, e: &Engine, k: u32, c: u32, memo: &mut Memo) -> f64 {
        if let Some(v) = memo.get(&(k, c)) {
            return *v;
        }
        let link = self.chains.links[c as usize];
        let key = e.key(k);
        let here = Node::Party(key.party);
        let find = |parent: u32, node: Node, kind: HopKind| {
            self.chains.map.get(&(parent, node, kind)).copied()
        };
        let mut sum = 0.0;
        for item in e.decompose(k) {
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
                        sum += w * self.exact(e, *u, link.parent, memo);
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
        sum
    }

    /// The factor of the pool chain whose hops before the last are chain `prefix`.
    fn pool_share(&self, e: &Engine, pool: &Pool, o: Hs, t: Date, prefix: u32) -> f64 {
        let mut sum = 0.0;
        for (f, src, hops) in e.pool_chains(pool, o, t, Node::Party(NONE), HopKind::Shipment, false)
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
            let s = &ds.shipments[*ship as usize];
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
            let from = match ds.links[*link as usize].supplier {
                LinkSupplier::Country(c) => Node::Country(c),
                LinkSupplier::Party(q) => Node::Party(q),
            };
            let r = step(NONE, from, HopKind::Shipment)?;
            step(r, here, HopKind::Declared)
        }
        _ => None,
    }
}
