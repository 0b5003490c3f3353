//! The attribution model (SPEC §3): for every output — a party shipping one heading on one day — the mix of
//! its inputs (sanctioned, clean, unknown), split by evidence grade, computed for the whole dataset in one
//! pass in date order. Inputs are strictly earlier than outputs, so every upstream mix a computation needs is
//! already known when it runs: loops in the graph are harmless and nothing is walked twice.

use crate::data::codes::{Country, Date, Hs, Region};
use crate::data::dataset::{Dataset, LinkId, LinkSupplier, PartyId, ShipmentId};
use crate::data::settings::{MAX_PATTERNS, Settings};
use crate::engine::pool::{self, Pool, PoolIndex, Scope};
use crate::engine::screening::Hit;
use crate::util::fxhash::FxMap;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock, RwLock};

/// Shares below this are zero (SPEC §3: "> 0" means "> 1e-12").
pub const EPS: f64 = 1e-12;

/// Evidence grades, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    Documented = 0,
    Declared = 1,
    Statistical = 2,
}

impl Grade {
    /// Every grade, strongest first: the order of [`Mix`]'s arrays.
    pub const ALL: [Grade; 3] = [Grade::Documented, Grade::Declared, Grade::Statistical];

    /// The grade as every output spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Documented => "documented",
            Grade::Declared => "declared",
            Grade::Statistical => "statistical",
        }
    }
}

/// The input mix of an output: sanctioned and clean shares per grade, and the unknown share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mix {
    /// Sanctioned share by grade (documented, declared, statistical).
    pub s: [f64; 3],
    /// Clean share by grade.
    pub c: [f64; 3],
    pub u: f64,
}

impl Mix {
    pub fn sanctioned_at(g: Grade) -> Mix {
        let mut m = Mix::default();
        m.s[g as usize] = 1.0;
        m
    }

    pub fn clean_at(g: Grade) -> Mix {
        let mut m = Mix::default();
        m.c[g as usize] = 1.0;
        m
    }

    pub fn unknown() -> Mix {
        Mix {
            u: 1.0,
            ..Mix::default()
        }
    }

    pub fn from_pool(p: pool::PoolMix) -> Mix {
        Mix {
            // A pool is statistical evidence only.
            s: [0.0, 0.0, p.sanctioned],
            c: [0.0, 0.0, p.clean],
            u: p.unknown,
        }
    }

    /// The sanctioned share of grade `g`.
    pub fn sanctioned_by(&self, g: Grade) -> f64 {
        self.s[g as usize]
    }

    /// The clean share of grade `g`.
    pub fn clean_by(&self, g: Grade) -> f64 {
        self.c[g as usize]
    }

    /// The share no record of the party's own trade stands behind: unknown, plus what rests only on
    /// national or regional statistics. What a document from the supplier could settle.
    pub fn without_records(&self) -> f64 {
        self.u + self.sanctioned_by(Grade::Statistical) + self.clean_by(Grade::Statistical)
    }

    /// The weakest grade carrying more than `eps` of the mix, sanctioned or clean: the evidence a part of
    /// an output rests on is no stronger than its weakest grade. `None` when the mix is all unknown, which
    /// rests on no evidence at all (and must never read as documented).
    pub fn weakest_grade(&self, eps: f64) -> Option<Grade> {
        Grade::ALL
            .into_iter()
            .rev()
            .find(|&g| self.sanctioned_by(g) + self.clean_by(g) > eps)
    }

    pub fn sanctioned(&self) -> f64 {
        self.s.iter().sum()
    }

    pub fn clean(&self) -> f64 {
        self.c.iter().sum()
    }

    /// The share backed by firm-level evidence (documented or declared, sanctioned or clean).
    pub fn coverage(&self) -> f64 {
        self.firm_sanctioned()
            + self.c[Grade::Documented as usize]
            + self.c[Grade::Declared as usize]
    }

    /// Firm-level sanctioned share (documented + declared).
    pub fn firm_sanctioned(&self) -> f64 {
        self.s[Grade::Documented as usize] + self.s[Grade::Declared as usize]
    }

    /// The same mix seen through a hop of grade `g`: a path is as weak as its weakest hop.
    pub fn at_most(&self, g: Grade) -> Mix {
        let mut m = *self;
        for k in 0..(g as usize) {
            m.s[g as usize] += m.s[k];
            m.s[k] = 0.0;
            m.c[g as usize] += m.c[k];
            m.c[k] = 0.0;
        }
        m
    }

    pub fn add_scaled(&mut self, w: f64, m: &Mix) {
        for k in 0..3 {
            self.s[k] += w * m.s[k];
            self.c[k] += w * m.c[k];
        }
        self.u += w * m.u;
    }

    /// Rounds away float noise below `EPS` and clamps each share into [0, 1].
    pub fn tidy(mut self) -> Mix {
        let f = |x: f64| {
            if x.abs() < EPS {
                0.0
            } else {
                x.clamp(0.0, 1.0)
            }
        };
        for k in 0..3 {
            self.s[k] = f(self.s[k]);
            self.c[k] = f(self.c[k]);
        }
        self.u = f(self.u);
        self
    }
}

/// An output: a party shipping goods of one heading on one day. All its shipments of that heading that day
/// share one mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub date: Date,
    pub party: PartyId,
    pub heading: Hs,
}

/// Where a share of an output's inputs comes from (one term of SPEC §3's sum).
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The party itself is located in a sanctioned country (rule 4).
    SanctionedParty,
    /// An inbound shipment. `direct`: its shipper is located in a sanctioned country, or it declares a
    /// sanctioned origin; otherwise it carries the mix of `upstream` (the shipper's output).
    Shipment {
        ship: ShipmentId,
        direct: bool,
        upstream: Option<u32>,
    },
    /// A supplier link to `country:XX` with XX sanctioned.
    LinkSanctionedCountry { link: LinkId },
    /// A supplier link to `country:XX` that takes XX's national pool.
    LinkCountryPool { link: LinkId, country: Country },
    /// A supplier link to `country:XX` with no pool: clean on the declaration alone.
    LinkCountryClean { link: LinkId },
    /// A supplier link to a party located in a sanctioned country.
    LinkSanctionedParty { link: LinkId },
    /// A supplier link to a party: the mix of its latest earlier shipment of the heading (`upstream` key,
    /// reached through shipment `ship`).
    LinkParty {
        link: LinkId,
        ship: ShipmentId,
        upstream: u32,
    },
    /// A supplier link to a party with no such shipment in the window.
    LinkPartyUnknown { link: LinkId },
    /// The party's statistics pool.
    Pool { region: Option<Region> },
    /// No pool exists.
    NoPool,
}

/// One weighted term.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub weight: f64,
    pub source: Source,
}

/// What the engine computed for one output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub mix: Mix,
    pub reachable: bool,
    pub marks: Marks,
    /// The prevalence of the pool the output takes (statistical weight > 0), `None` when it takes none.
    pub prevalence: Option<f64>,
}

/// What the contributing paths of an output pass, carried forward in the same pass as the mix so that
/// batch flags need no path search.
///
/// `pattern` holds four bits per route pattern `i` (bits `4i..4i+4`): a path from one of its origins that
/// has passed one of its regions, firm-graded (documented or declared) or statistical, and the same for
/// paths that have not passed such a region yet (they may still, downstream). `watch` is 1 when a party on a
/// contributing path has a fuzzy watchlist hit, 2 an exact one (bits, OR-ed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    pub pattern: u64,
    pub watch: u8,
}

/// One bit per pattern: the patterns whose origins include `c`.
fn origin_mask(st: &Settings, c: Country) -> u64 {
    st.patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| p.origins.contains(&c))
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// One bit per pattern: the patterns whose regions include `r`.
fn region_mask(st: &Settings, r: Region) -> u64 {
    st.patterns
        .iter()
        .enumerate()
        .filter(|(_, p)| p.via_regions.contains(&r))
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// The pattern bits of a path that starts at an origin (`origin`: one bit per pattern), has passed the
/// regions in `via` (one bit per pattern), with a firm or a statistical grade.
fn mark(st: &Settings, origin: u64, via: u64, firm: bool) -> u64 {
    let mut out = 0;
    for i in 0..st.patterns.len().min(MAX_PATTERNS) {
        if origin >> i & 1 == 1 {
            let bit = if via >> i & 1 == 1 { 0 } else { 2 } + if firm { 0 } else { 1 };
            out |= 1 << (4 * i + bit);
        }
    }
    out
}

/// Upstream pattern bits carried through a hop into a party whose regions are `via`.
fn carry(bits: u64, via: u64, n: usize) -> u64 {
    let mut out = bits;
    for i in 0..n.min(MAX_PATTERNS) {
        if via >> i & 1 == 1 {
            let b = bits >> (4 * i) & 0xF;
            let moved = (b & 0b11) | (b >> 2 & 0b11);
            out = (out & !(0xF << (4 * i))) | (moved << (4 * i));
        }
    }
    out
}

/// The severity a pattern's marks give: `Some(true)` for a firm path that passed its region, `Some(false)`
/// for a statistical one, `None` for neither.
pub fn pattern_hit(marks: u64, i: usize) -> Option<bool> {
    let b = marks >> (4 * i) & 0xF;
    if b & 1 == 1 {
        Some(true)
    } else if b & 2 == 2 {
        Some(false)
    } else {
        None
    }
}

/// The model's index over a dataset: shipments per party in date order, outputs, supplier links. Its fields
/// are public so a snapshot can store them and load them back without re-sorting.
pub struct Index {
    /// Inbound shipments per party, sorted by (date, id): `inbound[in_off[p]..in_off[p+1]]`.
    pub in_off: Vec<u32>,
    pub inbound: Vec<ShipmentId>,
    /// Outbound shipments per party, sorted by (heading, date, id).
    pub out_off: Vec<u32>,
    pub outbound: Vec<ShipmentId>,
    /// Running sum of outbound values in `outbound` order (`out_sum[i]` = sum before position i).
    pub out_sum: Vec<Decimal>,
    /// The key of each position of `outbound`.
    pub out_key: Vec<u32>,
    /// Supplier links per buyer.
    pub link_off: Vec<u32>,
    pub links: Vec<LinkId>,
    /// Outputs in date order.
    pub keys: Vec<Key>,
    /// Output of each shipment (as shipper).
    pub key_of_shipment: Vec<u32>,
    pub pools: PoolIndex,
}

fn csr<T: Copy + Default>(
    n: usize,
    items: impl Iterator<Item = (PartyId, T)>,
) -> (Vec<u32>, Vec<T>) {
    let pairs: Vec<(PartyId, T)> = items.collect();
    let mut off = vec![0u32; n + 1];
    for (p, _) in &pairs {
        off[p.index() + 1] += 1;
    }
    for i in 0..n {
        off[i + 1] += off[i];
    }
    let mut fill = off.clone();
    let mut list = vec![T::default(); pairs.len()];
    for (p, v) in pairs {
        list[fill[p.index()] as usize] = v;
        fill[p.index()] += 1;
    }
    (off, list)
}

/// Items grouped by party (a counting sort), each group then sorted, groups in parallel: the offsets
/// (`off[p]..off[p + 1]` are party p's) and the items. A total order on `T` keeps the result deterministic.
fn grouped<T: Ord + Copy + Send>(n: usize, items: &[(PartyId, T)]) -> (Vec<u32>, Vec<T>) {
    use rayon::prelude::*;
    let mut off = vec![0u32; n + 1];
    for (p, _) in items {
        off[p.index() + 1] += 1;
    }
    for i in 0..n {
        off[i + 1] += off[i];
    }
    let Some(&(_, first)) = items.first() else {
        return (off, Vec::new());
    };
    let mut fill = off.clone();
    let mut list = vec![first; items.len()];
    for &(p, v) in items {
        list[fill[p.index()] as usize] = v;
        fill[p.index()] += 1;
    }
    let mut groups: Vec<&mut [T]> = Vec::with_capacity(n);
    let mut rest: &mut [T] = &mut list;
    for p in 0..n {
        let (g, r) = rest.split_at_mut((off[p + 1] - off[p]) as usize);
        groups.push(g);
        rest = r;
    }
    groups.par_iter_mut().for_each(|g| g.sort_unstable());
    (off, list)
}

impl Index {
    pub fn new(ds: &Dataset, st: &Settings) -> Index {
        use rayon::prelude::*;
        let n = ds.parties.len();
        // Ties on date (and heading) break by shipment id; ranks make that an integer compare, and every
        // sort key below ends in the shipment's rank, so the orders are total and the parallel unstable
        // sorts deterministic.
        let rank = ds.shipment_ranks();
        let by_in: Vec<(PartyId, (Date, u32, ShipmentId))> = ds
            .shipments
            .par_iter()
            .enumerate()
            .map(|(i, s)| (s.consignee, (s.date, rank[i], ShipmentId::from_index(i))))
            .collect();
        let (in_off, by_in) = grouped(n, &by_in);
        let inbound: Vec<ShipmentId> = by_in.into_iter().map(|x| x.2).collect();
        let by_out: Vec<(PartyId, (Hs, Date, u32, ShipmentId))> = ds
            .shipments
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                let ship = ShipmentId::from_index(i);
                (s.shipper, (s.hs.heading(), s.date, rank[i], ship))
            })
            .collect();
        let (out_off, by_out) = grouped(n, &by_out);
        let outbound: Vec<ShipmentId> = by_out.into_iter().map(|x| x.3).collect();
        drop(rank);
        let mut out_sum = Vec::with_capacity(outbound.len() + 1);
        let mut acc = Decimal::ZERO;
        out_sum.push(acc);
        for &i in &outbound {
            acc += ds.shipment(i).value_usd;
            out_sum.push(acc);
        }
        // Distinct outputs, then their order by date.
        let mut keys = Vec::new();
        let mut out_key_local = vec![0u32; outbound.len()];
        for p in PartyId::all(n) {
            for pos in out_off[p.index()] as usize..out_off[p.index() + 1] as usize {
                let s = ds.shipment(outbound[pos]);
                let k = Key {
                    date: s.date,
                    party: p,
                    heading: s.hs.heading(),
                };
                if keys.last() != Some(&k) {
                    keys.push(k);
                }
                out_key_local[pos] = (keys.len() - 1) as u32;
            }
        }
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.par_sort_unstable_by_key(|&i| keys[i as usize]);
        let mut rank = vec![0u32; keys.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let out_key: Vec<u32> = out_key_local.iter().map(|&k| rank[k as usize]).collect();
        let keys: Vec<Key> = order.iter().map(|&i| keys[i as usize]).collect();
        let mut key_of_shipment = vec![0u32; ds.shipments.len()];
        for (pos, &s) in outbound.iter().enumerate() {
            key_of_shipment[s.index()] = out_key[pos];
        }
        // Issue 14: each buyer's links in link_id order, not file order; their shares are summed in this
        // order, and f64 sums taken in another order differ in the last bit.
        let mut by_id: Vec<LinkId> = LinkId::all(ds.links.len()).collect();
        by_id.sort_by(|&a, &b| ds.link(a).id.cmp(&ds.link(b).id));
        let (link_off, links) = csr(n, by_id.iter().map(|&i| (ds.link(i).buyer, i)));
        Index {
            in_off,
            inbound,
            out_off,
            outbound,
            out_sum,
            out_key,
            link_off,
            links,
            keys,
            key_of_shipment,
            pools: {
                crate::util::timing::phase("index");
                PoolIndex::new(ds, st)
            },
        }
    }

    pub fn inbound_of(&self, p: PartyId) -> &[ShipmentId] {
        let p = p.index();
        &self.inbound[self.in_off[p] as usize..self.in_off[p + 1] as usize]
    }

    pub fn outbound_of(&self, p: PartyId) -> &[ShipmentId] {
        let p = p.index();
        &self.outbound[self.out_off[p] as usize..self.out_off[p + 1] as usize]
    }

    pub fn links_of(&self, p: PartyId) -> &[LinkId] {
        let p = p.index();
        &self.links[self.link_off[p] as usize..self.link_off[p + 1] as usize]
    }
}

/// Lookups the pass makes for every output, laid out for binary searches that touch only a few cache
/// lines: each party's inbound shipments grouped by heading (an output reads only the groups that can hold
/// a relevant code, not every shipment a hub received in the window), each party's outbound headings, and
/// the dates of both lists. Built from the [`Index`] on first use (a snapshot stores the index, not this).
struct Lookup {
    /// The first party it covers, and where that party's runs start in `inbound` and `outbound`: a query's
    /// lookup covers one party, a pass's all of them.
    p0: PartyId,
    in_base: u32,
    out_base: u32,
    /// Per party: its inbound groups are `groups[off[p]..off[p+1]]`, sorted by [`head_key`].
    off: Vec<u32>,
    groups: Vec<HeadGroup>,
    /// Positions in the party's `inbound_of` slice, ascending within each group (date order).
    pos: Vec<u32>,
    /// Per entry of `pos`: the shipment's value, and the output whose mix it carries ([`DIRECT`] for a
    /// direct sanctioned input), so the window is read from a few contiguous arrays.
    val: Vec<Decimal>,
    src: Vec<u32>,
    /// `val` as f64 (the same `pool::to_f64`), converted once instead of in every window that reads it.
    valf: Vec<f64>,
    /// The date of each position of `inbound` and of `outbound` (from the bases above).
    in_date: Vec<Date>,
    out_date: Vec<Date>,
    /// Per party: its outbound headings are `out_heads[out_off[p]..out_off[p+1]]`, in `outbound` order.
    out_off: Vec<u32>,
    out_heads: Vec<OutHead>,
}

#[derive(Clone, Copy)]
struct HeadGroup {
    key: u32,
    start: u32,
    end: u32,
}

/// [`Lookup::src`] of a direct sanctioned input.
const DIRECT: u32 = u32::MAX;

/// One heading's run `outbound[start..end]`.
#[derive(Clone, Copy)]
struct OutHead {
    heading: Hs,
    start: u32,
    end: u32,
}

/// A heading (a code of up to four digits) as one sortable number: the code padded to four digits, then its
/// length, so the headings under a shorter prefix are one contiguous run.
fn head_key(h: Hs) -> u32 {
    let len = h.len.min(4);
    (h.prefix(4).code as u32) * 10u32.pow(4 - len as u32) * 8 + len as u32
}

impl Lookup {
    /// The whole table, built in parallel: parties in runs of about equal numbers of shipments, each run's
    /// table on its own, then joined in party order (the same table a single run gives).
    fn new(ds: &Dataset, ix: &Index, is_direct: impl Fn(ShipmentId) -> bool + Sync) -> Lookup {
        use rayon::prelude::*;
        let n = ix.in_off.len().saturating_sub(1);
        let weight = |p: usize| ix.in_off[p] as u64 + ix.out_off[p] as u64;
        let total = weight(n);
        const RUNS: u64 = 64;
        let mut bounds: Vec<PartyId> = (0..=RUNS)
            .map(|i| {
                let target = total * i / RUNS;
                // The first party whose runs start at or after the target.
                let (mut lo, mut hi) = (0usize, n);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if weight(mid) < target {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                PartyId::from_index(lo)
            })
            .collect();
        bounds.push(PartyId::from_index(n));
        bounds.dedup();
        if bounds.first() != Some(&PartyId::new(0)) {
            bounds.insert(0, PartyId::new(0));
        }
        let parts: Vec<Lookup> = bounds
            .par_windows(2)
            .map(|w| Lookup::of_parties(ds, ix, &is_direct, w[0], w[1]))
            .collect();
        let mut parts = parts.into_iter();
        let Some(mut all) = parts.next() else {
            return Lookup::of_parties(ds, ix, is_direct, PartyId::new(0), PartyId::from_index(n));
        };
        for p in parts {
            let g0 = all.groups.len() as u32;
            let q0 = all.pos.len() as u32;
            let h0 = all.out_heads.len() as u32;
            all.off.extend(p.off.iter().skip(1).map(|x| x + g0));
            all.groups.extend(p.groups.iter().map(|g| HeadGroup {
                key: g.key,
                start: g.start + q0,
                end: g.end + q0,
            }));
            all.pos.extend(p.pos);
            all.val.extend(p.val);
            all.valf.extend(p.valf);
            all.src.extend(p.src);
            all.in_date.extend(p.in_date);
            all.out_date.extend(p.out_date);
            all.out_off.extend(p.out_off.iter().skip(1).map(|x| x + h0));
            all.out_heads.extend(p.out_heads);
        }
        all
    }

    /// The lookup of parties `p0..p1` only, its arrays local to them: what a query that decomposes a few
    /// outputs builds for each party it meets, rather than the whole table a pass needs (at 10M shipments
    /// the whole table costs seconds; one party's, microseconds).
    fn of_parties(
        ds: &Dataset,
        ix: &Index,
        is_direct: impl Fn(ShipmentId) -> bool,
        p0: PartyId,
        p1: PartyId,
    ) -> Lookup {
        let (in_base, out_base) = (ix.in_off[p0.index()], ix.out_off[p0.index()]);
        let (in_end, out_end) = (ix.in_off[p1.index()], ix.out_off[p1.index()]);
        let mut off = Vec::with_capacity(p1.index() - p0.index() + 1);
        let mut groups = Vec::new();
        let mut pos = Vec::with_capacity((in_end - in_base) as usize);
        let mut tmp: Vec<(u32, u32)> = Vec::new();
        off.push(0);
        for p in PartyId::range(p0, p1) {
            tmp.clear();
            tmp.extend(
                ix.inbound_of(p)
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| (head_key(ds.shipment(s).hs.heading()), i as u32)),
            );
            tmp.sort_unstable();
            for (j, &(key, q)) in tmp.iter().enumerate() {
                if j == 0 || tmp[j - 1].0 != key {
                    groups.push(HeadGroup {
                        key,
                        start: pos.len() as u32,
                        end: pos.len() as u32,
                    });
                }
                pos.push(q);
                if let Some(g) = groups.last_mut() {
                    g.end = pos.len() as u32;
                }
            }
            off.push(groups.len() as u32);
        }
        let (mut val, mut src) = (Vec::with_capacity(pos.len()), Vec::with_capacity(pos.len()));
        let mut valf = Vec::with_capacity(pos.len());
        for p in PartyId::range(p0, p1) {
            let inbound = ix.inbound_of(p);
            let local = p.index() - p0.index();
            for g in &groups[off[local] as usize..off[local + 1] as usize] {
                for &q in &pos[g.start as usize..g.end as usize] {
                    let i = inbound[q as usize];
                    val.push(ds.shipment(i).value_usd);
                    valf.push(pool::to_f64(ds.shipment(i).value_usd));
                    src.push(if is_direct(i) {
                        DIRECT
                    } else {
                        ix.key_of_shipment[i.index()]
                    });
                }
            }
        }
        let date = |i: &ShipmentId| ds.shipment(*i).date;
        let mut out_off = Vec::with_capacity(p1.index() - p0.index() + 1);
        let mut out_heads: Vec<OutHead> = Vec::new();
        out_off.push(0);
        for p in p0.index()..p1.index() {
            let (a, b) = (ix.out_off[p] as usize, ix.out_off[p + 1] as usize);
            for i in a..b {
                let h = ds.shipment(ix.outbound[i]).hs.heading();
                match out_heads.last_mut() {
                    Some(last) if i > a && last.heading == h => last.end = i as u32 + 1,
                    _ => out_heads.push(OutHead {
                        heading: h,
                        start: i as u32,
                        end: i as u32 + 1,
                    }),
                }
            }
            out_off.push(out_heads.len() as u32);
        }
        Lookup {
            p0,
            in_base,
            out_base,
            off,
            groups,
            pos,
            val,
            valf,
            src,
            in_date: ix.inbound[in_base as usize..in_end as usize]
                .iter()
                .map(date)
                .collect(),
            out_date: ix.outbound[out_base as usize..out_end as usize]
                .iter()
                .map(date)
                .collect(),
            out_off,
            out_heads,
        }
    }

    /// The dates of party p's inbound shipments, in `inbound_of(p)` order.
    fn in_dates(&self, ix: &Index, p: PartyId) -> &[Date] {
        let a = (ix.in_off[p.index()] - self.in_base) as usize;
        let b = (ix.in_off[p.index() + 1] - self.in_base) as usize;
        &self.in_date[a..b]
    }

    /// The dates of `outbound[a..b]`.
    fn out_dates(&self, a: usize, b: usize) -> &[Date] {
        let base = self.out_base as usize;
        &self.out_date[a - base..b - base]
    }

    /// [`Index::out_range`] from the heading runs: the positions of party p's shipments of heading `h`
    /// (empty at the same place when there are none).
    fn out_range(&self, ix: &Index, p: PartyId, h: Hs) -> (usize, usize) {
        let local = self.local(p);
        let (Some(&a), Some(&b)) = (self.out_off.get(local), self.out_off.get(local + 1)) else {
            return (0, 0);
        };
        let heads = &self.out_heads[a as usize..b as usize];
        let i = heads.partition_point(|x| x.heading < h);
        match heads.get(i) {
            Some(x) if x.heading == h => (x.start as usize, x.end as usize),
            Some(x) => (x.start as usize, x.start as usize),
            None => {
                let end = ix.out_off[p.index() + 1] as usize;
                (end, end)
            }
        }
    }

    /// The runs `outbound[a..b]` of party p's headings that overlap `o` (one is a prefix of the other), in
    /// heading order. A party ships few headings, so a scan of its runs is cheap.
    fn out_runs_overlapping(&self, p: PartyId, o: Hs) -> impl Iterator<Item = (usize, usize)> + '_ {
        let local = self.local(p);
        let heads = match (self.out_off.get(local), self.out_off.get(local + 1)) {
            (Some(&a), Some(&b)) => &self.out_heads[a as usize..b as usize],
            _ => &[],
        };
        heads
            .iter()
            .filter(move |x| x.heading.overlaps(o))
            .map(|x| (x.start as usize, x.end as usize))
    }

    /// Party p's place in this lookup's per-party arrays; out of their range (a wrapped subtraction) for
    /// a party before the first it covers.
    fn local(&self, p: PartyId) -> usize {
        p.get().wrapping_sub(self.p0.get()) as usize
    }

    fn of(&self, p: PartyId) -> &[HeadGroup] {
        let local = self.local(p);
        match (self.off.get(local), self.off.get(local + 1)) {
            (Some(&a), Some(&b)) => &self.groups[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The groups of `groups` that can hold a code overlapping one of `prefixes`, as `2 * group + filter`:
    /// a code overlapping `x` has a heading that is a prefix of `x`, or (for `x` shorter than a heading) a
    /// heading under `x`. Every code of a group found through an `x` of at most four digits overlaps it;
    /// `filter` is 1 when the group was found only through longer codes, whose groups also hold codes
    /// that do not.
    fn candidates(groups: &[HeadGroup], prefixes: &[Hs], out: &mut Vec<u32>) {
        out.clear();
        for x in prefixes {
            let filter = (x.len > 4) as u32;
            for n in 1..=x.len.min(4) {
                let k = head_key(x.prefix(n));
                if let Ok(i) = groups.binary_search_by_key(&k, |g| g.key) {
                    out.push(2 * i as u32 + filter);
                }
            }
            if x.len < 4 {
                let scale = 10u32.pow(4 - x.len as u32);
                let lo = (x.code as u32) * scale * 8;
                let hi = (x.code as u32 + 1) * scale * 8;
                let a = groups.partition_point(|g| g.key < lo);
                let b = groups.partition_point(|g| g.key < hi);
                out.extend((a as u32..b as u32).map(|i| 2 * i));
            }
        }
        // Sorted, a group found without the filter comes first, and is the one kept.
        out.sort_unstable();
        out.dedup_by_key(|c| *c >> 1);
    }
}

/// Buffers one decomposition reuses from the last, so a pass over millions of outputs does not allocate
/// per output.
#[derive(Default)]
pub struct Scratch {
    prefixes: Vec<Hs>,
    groups: Vec<u32>,
    window: Vec<u32>,
    links: Vec<LinkId>,
}

/// Memoised pools and pool figures: the same (reporter, scope, heading, day) serves every output that needs
/// it. Read-mostly once the engine pass is done, so the parallel path searches share them under read locks.
#[derive(Default)]
pub struct PoolCache {
    map: RwLock<FxMap<PoolKey, Option<Arc<Pool>>>>,
    figures: RwLock<FxMap<PoolKey, Arc<pool::Figures>>>,
    regions_sanctioned: RwLock<FxMap<(Country, Hs, Date), Arc<RegionSums>>>,
    national: RwLock<FxMap<(Country, Hs, Date), bool>>,
}

/// Looks `key` up in a memo, computing and storing it when missing.
fn memo<K: std::hash::Hash + Eq + Copy, V: Clone>(
    m: &RwLock<FxMap<K, V>>,
    key: K,
    f: impl FnOnce() -> V,
) -> V {
    if let Ok(r) = m.read()
        && let Some(v) = r.get(&key)
    {
        return v.clone();
    }
    let v = f();
    if let Ok(mut w) = m.write() {
        w.insert(key, v.clone());
    }
    v
}

type PoolKey = (Country, Scope, Hs, Date);

/// Pro-rated imports per sanctioned partner.
pub type SanctionedSums = std::collections::BTreeMap<Country, Decimal>;

/// The regions of a reporter with sanctioned imports, in region order, and their sums.
pub type RegionSums = Vec<(Region, SanctionedSums)>;

/// The sums of region `r` in `sums` (none when it has none).
pub fn sums_of(sums: &RegionSums, r: Region) -> Option<&SanctionedSums> {
    sums.binary_search_by(|x| x.0.cmp(&r))
        .ok()
        .map(|i| &sums[i].1)
}

/// Per party, the shipments that link it to a party located in a sanctioned country (either side), sorted by
/// (date, shipment id): offsets and shipment indices. One pass over the shipments.
fn counterparty_index(ds: &Dataset, sanctioned_party: &[bool]) -> (Vec<u32>, Vec<ShipmentId>) {
    let mut pairs: Vec<(PartyId, ShipmentId)> = Vec::new();
    for (i, s) in ds.shipments.iter().enumerate() {
        let i = ShipmentId::from_index(i);
        let (a, b) = (s.shipper, s.consignee);
        if sanctioned_party.get(b.index()).copied().unwrap_or(false) {
            pairs.push((a, i));
        }
        if a != b && sanctioned_party.get(a.index()).copied().unwrap_or(false) {
            pairs.push((b, i));
        }
    }
    // Only these few shipments are sorted (by party, date, id, index: a total order), not every shipment's
    // rank: a query from a snapshot builds this at load.
    pairs.sort_unstable_by(|x, y| {
        let (a, b) = (ds.shipment(x.1), ds.shipment(y.1));
        x.0.cmp(&y.0)
            .then(a.date.cmp(&b.date))
            .then_with(|| ds.shipment_id(a).cmp(ds.shipment_id(b)))
            .then(x.1.cmp(&y.1))
    });
    let mut off = vec![0u32; ds.parties.len() + 1];
    for (p, _) in &pairs {
        if let Some(o) = off.get_mut(p.index() + 1) {
            *o += 1;
        }
    }
    for i in 0..ds.parties.len() {
        off[i + 1] += off[i];
    }
    (off, pairs.into_iter().map(|x| x.1).collect())
}

/// A pass that runs beside the engine's, day by day ([`Engine::run_observed`]): it sees each day's outputs
/// once they are computed, with the terms of each output that has a sanctioned share (`None` for the
/// others), while that day's pools are still in memory. The engine knows nothing of what it does with them.
pub trait DayObserver {
    /// The outputs `first..first + terms.len()`, all of one day.
    fn day(&mut self, e: &Engine, first: u32, terms: Vec<Option<Vec<Item>>>);
}

/// The engine: a dataset, its settings, its index, and the outcome of every output.
pub struct Engine<'a> {
    pub ds: &'a Dataset,
    pub st: &'a Settings,
    pub ix: Index,
    pub outcomes: Vec<Outcome>,
    pools: PoolCache,
    sanctioned_party: Vec<bool>,
    /// Watchlist hits of every party.
    pub hits: Vec<Vec<Hit>>,
    /// 0, 1 (fuzzy) or 2 (exact) per party.
    watch: Vec<u8>,
    /// Pattern regions each party is located in (one bit per pattern).
    party_via: Vec<u64>,
    /// Per party, its shipments to or from a party located in a sanctioned country, in (date, shipment id)
    /// order: `cp[cp_off[p]..cp_off[p + 1]]` ([`Engine::counterparty_records`]).
    cp_off: Vec<u32>,
    cp: Vec<ShipmentId>,
    lookup: OnceLock<Lookup>,
    /// One-party lookups of a query that never built `lookup` ([`Engine::prepare_pass`]).
    party_lookups: RwLock<FxMap<PartyId, Arc<Lookup>>>,
}

/// A whole lookup or one party's.
enum Heads<'a> {
    All(&'a Lookup),
    One(Arc<Lookup>),
}

impl std::ops::Deref for Heads<'_> {
    type Target = Lookup;
    fn deref(&self) -> &Lookup {
        match self {
            Heads::All(l) => l,
            Heads::One(l) => l,
        }
    }
}

impl<'a> Engine<'a> {
    fn new(ds: &'a Dataset, st: &'a Settings, hits: Vec<Vec<Hit>>) -> Engine<'a> {
        let shown = crate::util::progress::spinner("indexing shipments and statistics pools");
        let ix = Index::new(ds, st);
        drop(shown);
        crate::util::timing::phase("pool-index");
        Engine::assemble(ds, st, ix, Vec::new(), hits)
    }

    /// An engine from parts a snapshot stored (index, outcomes, watchlist hits), so loading one recomputes
    /// nothing; `None` when they do not fit the dataset.
    pub fn from_parts(
        ds: &'a Dataset,
        st: &'a Settings,
        ix: Index,
        outcomes: Vec<Outcome>,
        hits: Vec<Vec<Hit>>,
    ) -> Option<Engine<'a>> {
        let fits = outcomes.len() == ix.keys.len()
            && hits.len() == ds.parties.len()
            && ix.key_of_shipment.len() == ds.shipments.len();
        fits.then(|| Engine::assemble(ds, st, ix, outcomes, hits))
    }

    fn assemble(
        ds: &'a Dataset,
        st: &'a Settings,
        ix: Index,
        outcomes: Vec<Outcome>,
        hits: Vec<Vec<Hit>>,
    ) -> Engine<'a> {
        let sanctioned_party: Vec<bool> = ds
            .parties
            .iter()
            .map(|p| st.is_sanctioned(p.country))
            .collect();
        let watch = hits
            .iter()
            .map(|h| {
                if h.iter().any(|x| x.exact) {
                    2
                } else if h.is_empty() {
                    0
                } else {
                    1
                }
            })
            .collect();
        let party_via = ds
            .parties
            .iter()
            .map(|p| p.region.map(|r| region_mask(st, r)).unwrap_or(0))
            .collect();
        let (cp_off, cp) = counterparty_index(ds, &sanctioned_party);
        Engine {
            ds,
            st,
            outcomes,
            ix,
            pools: PoolCache::default(),
            sanctioned_party,
            hits,
            watch,
            party_via,
            cp_off,
            cp,
            lookup: OnceLock::new(),
            party_lookups: RwLock::default(),
        }
    }

    /// Indexes the dataset and computes every output's mix in date order. `hits` are the parties'
    /// watchlist hits ([`crate::engine::screening::screen`]), one list per party: screening is its own
    /// step, so a snapshot's stored hits and a fresh run's go in the same way.
    pub fn run(ds: &'a Dataset, st: &'a Settings, hits: Vec<Vec<Hit>>) -> Engine<'a> {
        Engine::pass(ds, st, hits, None)
    }

    /// [`Engine::run`], with `observer` called after each day's outputs are computed, with their terms:
    /// each output is decomposed once for both, and each day's pools serve both before they are dropped.
    /// The top-path pass of a batch report is such an observer ([`crate::engine::toppath::run`]).
    pub fn run_observed(
        ds: &'a Dataset,
        st: &'a Settings,
        hits: Vec<Vec<Hit>>,
        observer: &mut dyn DayObserver,
    ) -> Engine<'a> {
        Engine::pass(ds, st, hits, Some(observer))
    }

    /// The engine pass, and with `observer` the pass that runs beside it.
    fn pass(
        ds: &'a Dataset,
        st: &'a Settings,
        hits: Vec<Vec<Hit>>,
        mut observer: Option<&mut dyn DayObserver>,
    ) -> Engine<'a> {
        use rayon::prelude::*;
        let mut e = Engine::new(ds, st, hits);
        let n = e.ix.keys.len();
        e.outcomes.reserve(n);
        let shown = crate::util::progress::spinner("preparing the lookups");
        e.prepare_pass();
        drop(shown);
        crate::util::timing::phase("lookup");
        let shown =
            crate::util::progress::bar("attribution pass, in date order", n as u64, "outputs");
        let want = observer.is_some();
        // Date order, one day at a time: an output's terms all come from earlier days (inputs strictly
        // before t), so the outputs of one day depend on none of each other and are computed in parallel.
        // Each is the same pure function of earlier outcomes as in a sequential pass, so the numbers do not
        // depend on the thread count.
        let mut start = 0;
        while start < n {
            let day = e.ix.keys[start].date;
            let end = start + e.ix.keys[start..].partition_point(|k| k.date == day);
            e.prefetch_pools(start..end);
            let engine = &e;
            let (outs, items): (Vec<Outcome>, Vec<Option<Vec<Item>>>) = (start..end)
                .into_par_iter()
                .map_init(
                    || (Scratch::default(), Vec::new()),
                    |(scratch, items), k| {
                        engine.decompose_into(k as u32, scratch, items);
                        let o = engine.fold(items, engine.ix.keys[k]);
                        // The observer reads the terms of every output with a sanctioned share.
                        let terms =
                            (want && o.mix.sanctioned() > EPS).then(|| std::mem::take(items));
                        (o, terms)
                    },
                )
                .unzip();
            e.outcomes.extend(outs);
            if let Some(obs) = observer.as_deref_mut() {
                obs.day(&e, start as u32, items);
            }
            e.forget_pools_through(day);
            shown.inc((end - start) as u64);
            start = end;
        }
        drop(shown);
        crate::util::timing::phase(if want {
            "engine-and-observer-pass"
        } else {
            "engine-pass"
        });
        e
    }

    /// Computes the pool of every (country, region, heading, day) the outputs `keys` fall back on, in
    /// parallel, into the memo the pass reads. A pool is a pure function of its key, so which thread
    /// computes it, and when, changes no number; the pass itself goes day by day, in date order.
    fn prefetch_pools(&self, keys: std::ops::Range<usize>) {
        use rayon::prelude::*;
        let mut need: Vec<(Country, Option<Region>, Hs, Date, PartyId)> = self.ix.keys[keys]
            .iter()
            .filter(|k| !self.sanctioned_party[k.party.index()])
            .map(|k| {
                let party = self.ds.party(k.party);
                (party.country, party.region, k.heading, k.date, k.party)
            })
            .collect();
        need.sort_unstable_by_key(|x| (x.0, x.1, x.2, x.3));
        need.dedup_by_key(|x| (x.0, x.1, x.2, x.3));
        need.par_iter().for_each(|&(_, _, o, t, p)| {
            self.party_pool(p, o, t);
        });
    }

    /// Computes, in parallel and in key order, the sanctioned sums of every region for each (reporter,
    /// heading, day) whose paths can pass the rest of a country: a region pool with a domestic remainder
    /// under an output of `keys` with a sanctioned share. Like `Engine::prefetch_pools`, it only fills
    /// a memo.
    pub fn prefetch_region_sums(&self, keys: std::ops::Range<usize>) {
        use rayon::prelude::*;
        let mut need: Vec<(Country, Hs, Date)> = keys
            .filter(|&k| {
                self.outcomes
                    .get(k)
                    .is_some_and(|o| o.mix.sanctioned() > EPS)
            })
            .filter_map(|k| {
                let key = self.ix.keys[k];
                if self.sanctioned_party[key.party.index()] {
                    return None;
                }
                let p = self.party_pool(key.party, key.heading, key.date)?;
                (matches!(p.scope, Scope::Region(_))
                    && p.rest.is_some()
                    && p.remainder_share() > EPS)
                    .then_some((p.reporter, key.heading, key.date))
            })
            .collect();
        need.sort_unstable();
        need.dedup();
        need.par_iter().for_each(|&(c, o, t)| {
            if !self.national_mode(c, o, t) {
                self.regions_sanctioned(c, o, t);
            }
        });
    }

    /// Drops the memoised pools and pool figures of day `t` and earlier. Every look-up an output makes is
    /// for its own day, so a pass in date order never asks for them again, and the memo holds a few days
    /// instead of three years of pools: 3.4 GB at 10M shipments when it kept them all
    /// (docs/benchmarks.md). A later query that needs one computes it again, to the same figures.
    pub fn forget_pools_through(&self, t: Date) {
        let p = &self.pools;
        if let Ok(mut m) = p.map.write() {
            m.retain(|k, _| k.3 > t);
        }
        if let Ok(mut m) = p.figures.write() {
            m.retain(|k, _| k.3 > t);
        }
        if let Ok(mut m) = p.regions_sanctioned.write() {
            m.retain(|k, _| k.2 > t);
        }
        if let Ok(mut m) = p.national.write() {
            m.retain(|k, _| k.2 > t);
        }
    }

    /// The marks of a shipment that itself declares sanctioned origin `c`: the path `c > shipper`.
    pub fn declared_origin_marks(&self, ship: ShipmentId, c: Country) -> Marks {
        let q = self.ds.shipment(ship).shipper;
        Marks {
            pattern: mark(
                self.st,
                origin_mask(self.st, c),
                self.party_via[q.index()],
                true,
            ),
            watch: self.watch[q.index()],
        }
    }

    /// The route-pattern marks of the paths a term adds (see [`Marks`]); `via` is the output party's own
    /// region mask.
    fn source_marks(&self, key: Key, src: &Source, via: u64) -> Marks {
        let (ds, st) = (self.ds, self.st);
        let party = |q: PartyId| ds.party(q);
        let upstream = |u: u32| {
            let o = &self.outcomes[u as usize];
            if o.mix.sanctioned() > EPS {
                Marks {
                    pattern: carry(o.marks.pattern, via, st.patterns.len()),
                    watch: o.marks.watch,
                }
            } else {
                Marks::default()
            }
        };
        match src {
            Source::SanctionedParty => Marks {
                pattern: mark(st, origin_mask(st, party(key.party).country), via, true),
                watch: 0,
            },
            Source::Shipment {
                ship, direct: true, ..
            } => {
                let s = ds.shipment(*ship);
                let q = s.shipper;
                let origin = if self.sanctioned_party[q.index()] {
                    party(q).country
                } else {
                    s.origin.unwrap_or(party(q).country)
                };
                Marks {
                    pattern: mark(
                        st,
                        origin_mask(st, origin),
                        via | self.party_via[q.index()],
                        true,
                    ),
                    watch: self.watch[q.index()],
                }
            }
            Source::Shipment {
                upstream: Some(u), ..
            }
            | Source::LinkParty { upstream: u, .. } => upstream(*u),
            Source::LinkSanctionedCountry { link } => match ds.link(*link).supplier {
                LinkSupplier::Country(c) => Marks {
                    pattern: mark(st, origin_mask(st, c), via, true),
                    watch: 0,
                },
                LinkSupplier::Party(_) => Marks::default(),
            },
            Source::LinkSanctionedParty { link } => match ds.link(*link).supplier {
                LinkSupplier::Party(q) => Marks {
                    pattern: mark(
                        st,
                        origin_mask(st, party(q).country),
                        via | self.party_via[q.index()],
                        true,
                    ),
                    watch: self.watch[q.index()],
                },
                LinkSupplier::Country(_) => Marks::default(),
            },
            Source::LinkCountryPool { country, .. } => {
                let mut m = Marks::default();
                if let Some(p) = self.pool(*country, Scope::National, key.heading, key.date) {
                    for (k, v) in &p.own.sanctioned {
                        if !v.is_zero() {
                            m.pattern |= mark(st, origin_mask(st, *k), via, false);
                        }
                    }
                }
                m
            }
            Source::Pool { .. } => {
                // A statistical path passes only the output party's own region (SPEC §3 v2): a region the
                // goods reach only through another region's statistics, or the rest of the country, does
                // not count as passing it.
                let mut m = Marks::default();
                let Some(p) = self.party_pool(key.party, key.heading, key.date) else {
                    return m;
                };
                let rest = p
                    .rest
                    .as_ref()
                    .filter(|_| p.remainder_share() > EPS)
                    .map(|r| &r.sanctioned);
                for (k, v) in p.own.sanctioned.iter().chain(rest.into_iter().flatten()) {
                    if !v.is_zero() {
                        m.pattern |= mark(st, origin_mask(st, *k), via, false);
                    }
                }
                m
            }
            Source::Shipment { .. }
            | Source::LinkCountryClean { .. }
            | Source::LinkPartyUnknown { .. }
            | Source::NoPool => Marks::default(),
        }
    }

    /// Party `p`'s shipments to or from a party located in a sanctioned country dated in
    /// `[t − counterparty_days, t)` (SPEC §3 v2 "Counterparties"), in (date, id) order: whatever their value
    /// or heading. Two binary searches on a per-party list built once, so no shipment is rescanned.
    pub fn counterparty_records(&self, p: PartyId, t: Date) -> &[ShipmentId] {
        let (lo, hi) = self.counterparty_window(t);
        self.counterparty_records_in(p, lo, hi)
    }

    /// The days whose trade with a sanctioned country counts for an output on `t`: `[lo, hi)` =
    /// `[t − counterparty_days, t)`. Stated once, for the rule and for every view that lists the records.
    pub fn counterparty_window(&self, t: Date) -> (Date, Date) {
        (t.add_days(-self.st.counterparty_days), t)
    }

    /// [`Engine::counterparty_records`] over `[lo, hi)`.
    pub fn counterparty_records_in(&self, p: PartyId, lo: Date, hi: Date) -> &[ShipmentId] {
        let (Some(&a), Some(&b)) = (self.cp_off.get(p.index()), self.cp_off.get(p.index() + 1))
        else {
            return &[];
        };
        let all = &self.cp[a as usize..b as usize];
        let date = |i: &ShipmentId| self.ds.shipment(*i).date;
        let from = all.partition_point(|i| date(i) < lo);
        let to = all.partition_point(|i| date(i) < hi);
        &all[from..to.max(from)]
    }

    /// The other side of a counterparty record of `p`, and whether `p` shipped it (`true`) or received it.
    pub fn counterparty_of(&self, p: PartyId, ship: ShipmentId) -> (PartyId, bool) {
        let s = self.ds.shipment(ship);
        if s.shipper == p {
            (s.consignee, true)
        } else {
            (s.shipper, false)
        }
    }

    pub fn is_sanctioned_party(&self, p: PartyId) -> bool {
        self.sanctioned_party[p.index()]
    }

    /// The days whose inputs an output on `date` counts: `[date − lag_days, date − 1]`, both ends included.
    /// Every view that prints "inputs counted from" takes its dates from here.
    pub fn lag_window(&self, date: Date) -> (Date, Date) {
        (date.add_days(-self.st.lag_days), date.add_days(-1))
    }

    pub fn key(&self, k: u32) -> Key {
        self.ix.keys[k as usize]
    }

    pub fn outcome(&self, k: u32) -> &Outcome {
        &self.outcomes[k as usize]
    }

    /// The pool of `scope` in `reporter` for heading `o` at `t`, memoised.
    pub fn pool(&self, reporter: Country, scope: Scope, o: Hs, t: Date) -> Option<Arc<Pool>> {
        memo(&self.pools.map, (reporter, scope, o, t), || {
            pool::compute(&self.ix.pools, self.st, reporter, scope, o, t).map(Arc::new)
        })
    }

    /// The figures of a scope (whether or not its pool exists), memoised.
    pub fn figures(&self, reporter: Country, scope: Scope, o: Hs, t: Date) -> Arc<pool::Figures> {
        memo(&self.pools.figures, (reporter, scope, o, t), || {
            Arc::new(self.ix.pools.figures_fast(self.st, reporter, scope, o, t))
        })
    }

    /// The sanctioned partners' sums of every region of `reporter` that has any
    /// ([`PoolIndex::regions_sanctioned`]), memoised: the paths through the other regions of a reporter read
    /// only these, for every region at once.
    pub fn regions_sanctioned(&self, reporter: Country, o: Hs, t: Date) -> Arc<RegionSums> {
        memo(&self.pools.regions_sanctioned, (reporter, o, t), || {
            Arc::new(self.ix.pools.regions_sanctioned(self.st, reporter, o, t))
        })
    }

    /// [`PoolIndex::national_mode`], memoised.
    pub fn national_mode(&self, reporter: Country, o: Hs, t: Date) -> bool {
        memo(&self.pools.national, (reporter, o, t), || {
            self.ix.pools.national_mode(self.st, reporter, o, t)
        })
    }

    /// The pool an output of party `p` falls back on: its region's, else its country's.
    pub fn party_pool(&self, p: PartyId, o: Hs, t: Date) -> Option<std::sync::Arc<Pool>> {
        let party = self.ds.party(p);
        if let Some(r) = party.region
            && let Some(pl) = self.pool(party.country, Scope::Region(r), o, t)
        {
            return Some(pl);
        }
        self.pool(party.country, Scope::National, o, t)
    }

    /// The sanctioned origin a shipment declares, where that declaration alone decides its mix: a shipment
    /// whose document names a sanctioned origin carries sanctioned goods, documented, whatever its
    /// shipper's inputs (SPEC §3). `None` when its shipper is itself located in a sanctioned country: that
    /// shipper's output is already sanctioned, on its own path. The one statement of the rule; the
    /// analysis, the report and vet all ask here.
    pub fn declared_sanctioned_origin(&self, ship: ShipmentId) -> Option<Country> {
        let s = self.ds.shipment(ship);
        s.origin
            .filter(|c| self.st.is_sanctioned(*c) && !self.sanctioned_party[s.shipper.index()])
    }

    /// The mix a shipment carries as its report row shows it: sanctioned 1, documented, where it declares a
    /// sanctioned origin ([`Engine::declared_sanctioned_origin`]), else its output's.
    pub fn shipment_mix(&self, ship: ShipmentId) -> Mix {
        if self.declared_sanctioned_origin(ship).is_some() {
            return Mix::sanctioned_at(Grade::Documented);
        }
        self.outcome(self.ix.key_of_shipment[ship.index()]).mix
    }

    /// Whether a shipment is a direct sanctioned input: its shipper is located in a sanctioned country, or it
    /// declares a sanctioned origin.
    pub fn is_direct(&self, ship: ShipmentId) -> bool {
        let s = self.ds.shipment(ship);
        self.sanctioned_party[s.shipper.index()]
            || s.origin.is_some_and(|c| self.st.is_sanctioned(c))
    }

    /// The weighted terms of output `k` (SPEC §3 rules 1-4), zero weights included (they matter for
    /// `reachable`). Both the mix and the paths are derived from this one list, so they cannot disagree.
    pub fn decompose(&self, k: u32) -> Vec<Item> {
        let key = self.ix.keys[k as usize];
        self.decompose_at(key.party, key.heading, key.date)
    }

    /// Builds the whole lookup table: what a pass over every output calls first. Without it, each
    /// decomposition uses a table of its party alone, built on first use (so a `trace` from a snapshot
    /// reads a few parties' shipments, not all of them). Both give the same terms.
    pub fn prepare_pass(&self) {
        self.lookup
            .get_or_init(|| Lookup::new(self.ds, &self.ix, |i| self.is_direct(i)));
    }

    /// The lookup that covers party `p`.
    fn lookup(&self, p: PartyId) -> Heads<'_> {
        if let Some(all) = self.lookup.get() {
            return Heads::All(all);
        }
        Heads::One(memo(&self.party_lookups, p, || {
            Arc::new(Lookup::of_parties(
                self.ds,
                &self.ix,
                |i| self.is_direct(i),
                p,
                PartyId::new(p.get() + 1),
            ))
        }))
    }

    /// [`Engine::decompose`] into `items`, reusing the buffers of `scratch`: what a pass over every output
    /// calls.
    pub fn decompose_into(&self, k: u32, scratch: &mut Scratch, items: &mut Vec<Item>) {
        let key = self.ix.keys[k as usize];
        self.decompose_at_into(key.party, key.heading, key.date, scratch, items);
    }

    /// The terms of a (possibly hypothetical) output of party `p`, heading `o`, on day `t`: `vet` asks what a
    /// supplier's goods would carry if shipped on a given day.
    pub fn decompose_at(&self, p: PartyId, o: Hs, t: Date) -> Vec<Item> {
        let mut items = Vec::new();
        self.decompose_at_into(p, o, t, &mut Scratch::default(), &mut items);
        items
    }

    fn decompose_at_into(
        &self,
        p: PartyId,
        o: Hs,
        t: Date,
        scratch: &mut Scratch,
        items: &mut Vec<Item>,
    ) {
        let (ds, st) = (self.ds, self.st);
        items.clear();
        if self.sanctioned_party[p.index()] {
            items.push(Item {
                weight: 1.0,
                source: Source::SanctionedParty,
            });
            return;
        }
        let lo = t.add_days(-st.lag_days);
        let Scratch {
            prefixes,
            groups,
            window,
            links,
        } = scratch;
        prefixes.clear();
        prefixes.push(o);
        if let Some(extra) = st.hs_inputs.get(&o) {
            prefixes.extend(extra.iter().copied());
        }
        let relevant = |h: Hs| prefixes.iter().any(|x| h.overlaps(*x));
        // 1. Documented: the relevant inbound shipments in the window, in (date, id) order.
        let heads = self.lookup(p);
        let inbound = self.ix.inbound_of(p);
        let dates = heads.in_dates(&self.ix, p);
        let from = dates.partition_point(|&d| d < lo) as u32;
        let to = dates.partition_point(|&d| d < t) as u32;
        let mine = heads.of(p);
        Lookup::candidates(mine, prefixes, groups);
        // `window` holds entries of `heads.pos`.
        window.clear();
        for &c in groups.iter() {
            let g = mine[(c >> 1) as usize];
            let (start, end) = (g.start as usize, g.end as usize);
            let pos = &heads.pos[start..end];
            let a = start + pos.partition_point(|&q| q < from);
            let b = start + pos.partition_point(|&q| q < to);
            if c & 1 == 1 {
                window.extend((a..b).map(|j| j as u32).filter(|&j| {
                    relevant(ds.shipment(inbound[heads.pos[j as usize] as usize]).hs)
                }));
            } else {
                window.extend(a as u32..b as u32);
            }
        }
        if groups.len() > 1 {
            window.sort_unstable_by_key(|&j| heads.pos[j as usize]);
        }
        let d_total: Decimal = window.iter().map(|&j| heads.val[j as usize]).sum();
        // `O`: every outbound shipment whose code overlaps `o` (SPEC §3 v2 "Outputs of o"): a shipment coded
        // `67` is an output of `6704`, and an output coded `67` counts every chapter-67 heading.
        let mut o_total = Decimal::ZERO;
        for (a, b) in heads.out_runs_overlapping(p, o) {
            let outs = heads.out_dates(a, b);
            let o_from = a + outs.partition_point(|&d| d < lo);
            let o_to = a + outs.partition_point(|&d| d <= t);
            o_total += self.ix.out_sum[o_to] - self.ix.out_sum[o_from];
        }
        let d = pool::to_f64(d_total);
        let kout = st.ratio(o) * pool::to_f64(o_total);
        let denom = d.max(kout);
        items.reserve(window.len() + 4);
        let mut wsum = 0.0;
        for &j in window.iter() {
            let i = inbound[heads.pos[j as usize] as usize];
            let w = if denom > 0.0 {
                heads.valf[j as usize] / denom
            } else {
                0.0
            };
            wsum += w;
            let src = heads.src[j as usize];
            let direct = src == DIRECT;
            let upstream = (!direct).then_some(src);
            items.push(Item {
                weight: w,
                source: Source::Shipment {
                    ship: i,
                    direct,
                    upstream,
                },
            });
        }
        let r = (1.0 - wsum).max(0.0);
        // 2. Declared.
        links.clear();
        links.extend(self.ix.links_of(p).iter().copied().filter(|&l| {
            let link = ds.link(l);
            link.valid_at(t) && relevant(link.hs)
        }));
        let share_sum: f64 = links.iter().map(|&l| ds.link(l).share).sum();
        let scale = if share_sum > 1.0 {
            1.0 / share_sum
        } else {
            1.0
        };
        for &l in links.iter() {
            let link = ds.link(l);
            let w = r * link.share * scale;
            let source = self.link_source(l, o, t);
            items.push(Item { weight: w, source });
        }
        // 3. Statistical.
        let rem = r * (1.0 - share_sum.min(1.0));
        let source = match self.party_pool(p, o, t) {
            Some(pl) => Source::Pool {
                region: if let Scope::Region(r) = pl.scope {
                    Some(r)
                } else {
                    None
                },
            },
            None => Source::NoPool,
        };
        items.push(Item {
            weight: rem,
            source,
        });
    }

    /// What supplier link `l` stands for in an output of heading `o` on day `t` (SPEC §3 rule 2).
    pub fn link_source(&self, l: LinkId, o: Hs, t: Date) -> Source {
        let link = self.ds.link(l);
        let lo = t.add_days(-self.st.lag_days);
        match link.supplier {
            LinkSupplier::Country(c) if self.st.is_sanctioned(c) => {
                Source::LinkSanctionedCountry { link: l }
            }
            LinkSupplier::Country(c) => {
                if self.pool(c, Scope::National, o, t).is_some() {
                    Source::LinkCountryPool {
                        link: l,
                        country: c,
                    }
                } else {
                    Source::LinkCountryClean { link: l }
                }
            }
            LinkSupplier::Party(q) if self.sanctioned_party[q.index()] => {
                Source::LinkSanctionedParty { link: l }
            }
            LinkSupplier::Party(q) => match self.latest_shipment(q, link.hs, lo, t) {
                Some(ship) => Source::LinkParty {
                    link: l,
                    ship,
                    upstream: self.ix.key_of_shipment[ship.index()],
                },
                None => Source::LinkPartyUnknown { link: l },
            },
        }
    }

    /// The latest shipment of party `q` of the heading of `hs`, dated in `[lo, t)`.
    pub fn latest_shipment(&self, q: PartyId, hs: Hs, lo: Date, t: Date) -> Option<ShipmentId> {
        let ds = self.ds;
        let h = hs.heading();
        // A 4-digit heading is one contiguous run; a shorter code (a chapter) spans several headings.
        if h.len >= 4 {
            // One run sorted by (date, id): the latest before `t` is the last one before it.
            let lk = self.lookup(q);
            let (a, b) = lk.out_range(&self.ix, q, h);
            let dates = lk.out_dates(a, b);
            let n = dates.partition_point(|&d| d < t);
            return (n > 0 && dates[n - 1] >= lo).then(|| self.ix.outbound[a + n - 1]);
        }
        self.ix
            .outbound_of(q)
            .iter()
            .copied()
            .filter(|&i| {
                let s = ds.shipment(i);
                s.date < t && s.date >= lo && s.hs.heading().starts_with(h)
            })
            .max_by(|&x, &y| {
                let (sx, sy) = (ds.shipment(x), ds.shipment(y));
                sx.date
                    .cmp(&sy.date)
                    .then_with(|| ds.shipment_id(sx).cmp(ds.shipment_id(sy)))
            })
    }

    /// The mix a term carries (before its weight).
    pub fn source_mix(&self, key: Key, src: &Source) -> Mix {
        match src {
            Source::SanctionedParty => Mix::sanctioned_at(Grade::Documented),
            Source::Shipment { direct: true, .. } => Mix::sanctioned_at(Grade::Documented),
            Source::Shipment {
                upstream: Some(u), ..
            } => self.outcomes[*u as usize].mix,
            Source::Shipment { .. } => Mix::unknown(),
            Source::LinkSanctionedCountry { .. } | Source::LinkSanctionedParty { .. } => {
                Mix::sanctioned_at(Grade::Declared)
            }
            Source::LinkCountryPool { country, .. } => {
                match self.pool(*country, Scope::National, key.heading, key.date) {
                    Some(p) => Mix::from_pool(p.mix),
                    None => Mix::clean_at(Grade::Declared),
                }
            }
            Source::LinkCountryClean { .. } => Mix::clean_at(Grade::Declared),
            Source::LinkParty { upstream, .. } => self.outcomes[*upstream as usize]
                .mix
                .at_most(Grade::Declared),
            Source::LinkPartyUnknown { .. } | Source::NoPool => Mix::unknown(),
            Source::Pool { .. } => match self.party_pool(key.party, key.heading, key.date) {
                Some(p) => Mix::from_pool(p.mix),
                None => Mix::unknown(),
            },
        }
    }

    /// Whether a term links a sanctioned source to the output, weights ignored.
    fn source_reaches(&self, src: &Source) -> bool {
        match src {
            Source::SanctionedParty
            | Source::LinkSanctionedCountry { .. }
            | Source::LinkSanctionedParty { .. } => true,
            Source::Shipment { direct: true, .. } => true,
            Source::Shipment {
                upstream: Some(u), ..
            }
            | Source::LinkParty { upstream: u, .. } => self.outcomes[*u as usize].reachable,
            _ => false,
        }
    }

    /// Adds up weighted terms of the output `key` into its outcome.
    pub fn fold(&self, items: &[Item], key: Key) -> Outcome {
        let mut mix = Mix::default();
        let mut reachable = false;
        let mut marks = Marks::default();
        let via = self.party_via[key.party.index()];
        let mut prevalence = None;
        for it in items {
            if it.weight > EPS
                && let Source::Pool { .. } = it.source
            {
                prevalence = self
                    .party_pool(key.party, key.heading, key.date)
                    .map(|p| p.prevalence());
            }
            if it.weight > 0.0 {
                let m = self.source_mix(key, &it.source);
                mix.add_scaled(it.weight, &m);
                if m.sanctioned() > EPS {
                    let sm = self.source_marks(key, &it.source, via);
                    marks.pattern |= sm.pattern;
                    marks.watch |= sm.watch;
                }
            }
            reachable = reachable || self.source_reaches(&it.source);
        }
        let mix = mix.tidy();
        if mix.sanctioned() > EPS {
            marks.watch |= self.watch[key.party.index()];
        } else {
            marks = Marks::default();
        }
        Outcome {
            mix,
            reachable: reachable || mix.sanctioned() > EPS,
            marks,
            prevalence,
        }
    }
}
