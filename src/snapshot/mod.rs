//! Snapshots (`build -o FILE`): the dataset and everything derived from it for the settings it was built
//! with — the model's index, the statistics-pool index, every output's outcome, the watchlist hits, the
//! price medians and the shipment-id order — so a later command recomputes nothing and a `trace` costs
//! little more than reading the file.
//!
//! Layout: magic bytes, format version (u32 LE), section count (u32), file length (u64), then per section
//! its offset, length and XXH3-64 checksum (u64 each), then the XXH3-64 of the header itself. Sections
//! start 8-byte aligned. The bulk sections (text arena, shipments, statistics rows, index arrays, outcomes)
//! are fixed-size little-endian records, decoded at close to memory speed; the small ones (settings,
//! parties, links, watchlist, hits, the pool index) are postcard.
//!
//! Integrity: a file from another format version, cut short, or altered is refused with a reason before
//! any of it is used. The checksum is XXH3 rather than SHA-256 because it guards against damage, not
//! forgery — an unkeyed SHA-256 stored next to the data can be recomputed by whoever alters the data, so
//! it never protected against that — and at 10 million shipments SHA-256 alone would cost about a second
//! per load, against well under 0.1 s for XXH3. Decoded values are also range-checked (party, shipment,
//! key and row numbers, HS codes, dates, decimal scales), so even a file with a matching checksum cannot
//! make a later command read out of bounds.
//!
//! A load still builds the owned [`Dataset`], index and outcomes (about 400 bytes of fresh memory per
//! shipment), which bounds it at roughly 0.4 s of CPU per million shipments; going further means reading
//! them in place from the map (see `docs/benchmarks.md`).

use crate::data::codes::{Country, Date, Hs, Period, Region};
use crate::data::dataset::{
    Arena, Dataset, FileStats, Flow, Party, Rejection, Shipment, SourceFile, SupplierLink, Text,
    TradeFlow, WatchEntry,
};
use crate::data::dataset::{LinkSupplier, Rec};
use crate::data::settings::Settings;
use crate::engine::model::{Index, Key, Marks, Mix, Outcome};
use crate::engine::pool::PoolIndex;
use crate::engine::screening::Hit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use thiserror::Error;
use xxhash_rust::xxh3::xxh3_64;

pub const MAGIC: &[u8; 16] = b"ORIGINTRACE-SNAP";
/// Bump whenever the layout changes.
pub const FORMAT_VERSION: u32 = 3;

/// The sections, in file order.
const SECTIONS: [&str; 10] = [
    "meta",
    "text",
    "shipments",
    "statistics rows",
    "index",
    "running sums",
    "outputs",
    "outcomes",
    "pools",
    "shipment order",
];
const S_META: usize = 0;
const S_TEXT: usize = 1;
const S_SHIP: usize = 2;
const S_FLOW: usize = 3;
const S_INDEX: usize = 4;
const S_SUMS: usize = 5;
const S_KEYS: usize = 6;
const S_OUTCOMES: usize = 7;
const S_POOLS: usize = 8;
const S_ORDER: usize = 9;
const N_SECTIONS: usize = SECTIONS.len();
/// Magic, version, count, file length, the section table, the header checksum.
const HEADER_LEN: usize = 16 + 4 + 4 + 8 + N_SECTIONS * 24 + 8;

#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error(
        "{file}: not an origintrace snapshot (no magic bytes); pass a dataset directory or a file made by `origintrace build`"
    )]
    Foreign { file: String },
    #[error(
        "{file}: snapshot format version {found}, this build reads version {expected}; rebuild it with `origintrace build`"
    )]
    Version {
        file: String,
        found: u32,
        expected: u32,
    },
    #[error("{file}: damaged snapshot: {why}; rebuild it with `origintrace build`")]
    Damaged { file: String, why: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// Why a snapshot could not be written: a section that did not serialize (the message is postcard's).
#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("{source}")]
    Serialize {
        /// The section, e.g. `meta`.
        section: &'static str,
        source: postcard::Error,
    },
}

/// What a snapshot holds, decoded.
pub struct Snapshot {
    pub tool_version: String,
    pub model_version: String,
    pub settings: Settings,
    /// Reindexed: its shipment lookup uses the stored id order.
    pub dataset: Dataset,
    pub derived: Derived,
}

/// What the engine and the analysis derive from the dataset under the snapshot's settings.
pub struct Derived {
    pub index: Index,
    pub outcomes: Vec<Outcome>,
    pub hits: Vec<Vec<Hit>>,
    pub medians: HashMap<Hs, Decimal>,
}

/// What a snapshot is written from, borrowed (a build has it all in its analysis already).
pub struct Parts<'a> {
    pub tool_version: &'a str,
    pub model_version: &'a str,
    pub settings: &'a Settings,
    pub dataset: &'a Dataset,
    pub index: &'a Index,
    pub outcomes: &'a [Outcome],
    pub hits: &'a [Vec<Hit>],
    pub medians: &'a HashMap<Hs, Decimal>,
}

/// The postcard section: everything small or string-heavy. `MetaOut` and `MetaIn` must list the same
/// fields in the same order.
#[derive(Serialize)]
struct MetaOut<'a> {
    tool_version: &'a str,
    model_version: &'a str,
    settings: &'a Settings,
    files: &'a [SourceFile],
    stats: &'a [FileStats],
    parties: &'a [Party],
    links: &'a [SupplierLink],
    watchlist: &'a [WatchEntry],
    rates: &'a [([u8; 3], Period, Decimal)],
    rejections: &'a [Rejection],
    hits: &'a [Vec<Hit>],
    medians: Vec<(Hs, Decimal)>,
    n_shipments: u64,
    n_flows: u64,
    n_keys: u64,
}

#[derive(Deserialize)]
struct MetaIn {
    tool_version: String,
    model_version: String,
    settings: Settings,
    files: Vec<SourceFile>,
    stats: Vec<FileStats>,
    parties: Vec<Party>,
    links: Vec<SupplierLink>,
    watchlist: Vec<WatchEntry>,
    rates: Vec<([u8; 3], Period, Decimal)>,
    rejections: Vec<Rejection>,
    hits: Vec<Vec<Hit>>,
    medians: Vec<(Hs, Decimal)>,
    n_shipments: u64,
    n_flows: u64,
    n_keys: u64,
}

/// Bytes of one shipment record.
const SHIP_LEN: usize = 12 + 4 + 4 + 4 + 9 + 16 + 3 + 16 + 17 + 12 + 17 + 3 + 12 * 3 + 8;
/// Bytes of one statistics-row record.
const FLOW_LEN: usize = 12 + 8 + 2 + 7 + 2 + 1 + 9 + 16 + 3 + 16 + 17 + 12 + 12 + 8 + 1;
const KEY_LEN: usize = 4 + 4 + 9;
const OUTCOME_LEN: usize = 7 * 8 + 1 + 8 + 1 + 1 + 8;

/// Little-endian writer of fixed-size fields.
struct W<'a>(&'a mut Vec<u8>);

impl W<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn dec(&mut self, d: Decimal) {
        self.bytes(&d.serialize());
    }
    fn opt_dec(&mut self, d: Option<Decimal>) {
        self.u8(d.is_some() as u8);
        self.dec(d.unwrap_or_default());
    }
    fn text(&mut self, t: Text) {
        self.u64(t.start);
        self.u32(t.len);
    }
    fn hs(&mut self, h: Hs) {
        self.u64(h.code);
        self.u8(h.len);
    }
    fn rec(&mut self, r: Rec) {
        self.u32(r.file);
        self.u32(r.line);
    }
    fn u32s(&mut self, v: &[u32]) {
        self.u64(v.len() as u64);
        for x in v {
            self.u32(*x);
        }
    }
}

/// Reader of what [`W`] wrote; `None` when the input ends early or a value is out of range.
struct R<'a>(&'a [u8]);

impl<'a> R<'a> {
    fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (h, t) = self.0.split_first_chunk::<N>()?;
        self.0 = t;
        Some(*h)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (h, t) = self.0.split_at_checked(n)?;
        self.0 = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.arr::<1>()?[0])
    }
    fn flag(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.arr()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.arr()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }
    fn dec(&mut self) -> Option<Decimal> {
        Some(Decimal::deserialize(self.arr()?))
    }
    fn opt_dec(&mut self) -> Option<Option<Decimal>> {
        let some = self.flag()?;
        let d = self.dec()?;
        Some(some.then_some(d))
    }
    fn text(&mut self) -> Option<Text> {
        Some(Text {
            start: self.u64()?,
            len: self.u32()?,
        })
    }
    fn hs(&mut self) -> Option<Hs> {
        let code = self.u64()?;
        let len = self.u8()?;
        ((2..=10).contains(&len) && code < 10u64.pow(len as u32)).then_some(Hs { code, len })
    }
    fn date(&mut self) -> Option<Date> {
        let d = Date(i32::from_le_bytes(self.arr()?));
        let (lo, hi) = date_range();
        (lo <= d && d <= hi).then_some(d)
    }
    fn country(&mut self) -> Option<Country> {
        let c = self.arr::<2>()?;
        c.iter().all(u8::is_ascii_uppercase).then_some(Country(c))
    }
    fn opt_country(&mut self) -> Option<Option<Country>> {
        let some = self.flag()?;
        let c = self.arr::<2>()?;
        if !some {
            return Some(None);
        }
        c.iter()
            .all(u8::is_ascii_uppercase)
            .then_some(Some(Country(c)))
    }
    fn rec(&mut self) -> Option<Rec> {
        Some(Rec {
            file: self.u32()?,
            line: self.u32()?,
        })
    }
    /// A length-prefixed u32 array whose entries are all below `bound`.
    fn u32s(&mut self, bound: usize) -> Option<Vec<u32>> {
        let n = usize::try_from(self.u64()?).ok()?;
        let b = self.take(n.checked_mul(4)?)?;
        let v: Vec<u32> = b
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let max = v.iter().copied().max().unwrap_or(0) as usize;
        (v.is_empty() || max < bound).then_some(v)
    }
    fn done(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// The days a [`Date`] may hold (years 1000..=9999, as the loader accepts).
fn date_range() -> (Date, Date) {
    (
        Date::from_ymd(crate::data::codes::MIN_YEAR, 1, 1),
        Date::from_ymd(crate::data::codes::MAX_YEAR, 12, 31),
    )
}

fn write_ship(w: &mut W, s: &Shipment) {
    w.text(s.id);
    w.u32(s.date.0 as u32);
    w.u32(s.shipper);
    w.u32(s.consignee);
    w.hs(s.hs);
    w.dec(s.value);
    w.bytes(&s.currency);
    w.dec(s.value_usd);
    w.opt_dec(s.quantity);
    w.text(s.unit);
    w.opt_dec(s.weight_kg);
    w.u8(s.origin.is_some() as u8);
    w.bytes(&s.origin.map(|c| c.0).unwrap_or_default());
    w.text(s.description);
    w.text(s.port_lading);
    w.text(s.port_unlading);
    w.rec(s.rec);
}

fn read_ship(r: &mut R) -> Option<Shipment> {
    Some(Shipment {
        id: r.text()?,
        date: r.date()?,
        shipper: r.u32()?,
        consignee: r.u32()?,
        hs: r.hs()?,
        value: r.dec()?,
        currency: r.arr()?,
        value_usd: r.dec()?,
        quantity: r.opt_dec()?,
        unit: r.text()?,
        weight_kg: r.opt_dec()?,
        origin: r.opt_country()?,
        description: r.text()?,
        port_lading: r.text()?,
        port_unlading: r.text()?,
        rec: r.rec()?,
    })
}

fn write_flow(w: &mut W, f: &TradeFlow) {
    w.text(f.id);
    w.u32(f.period.year as u32);
    w.u32(f.period.month);
    w.bytes(&f.reporter.0);
    w.u8(f.region.is_some() as u8);
    w.bytes(&f.region.map(|r| r.0).unwrap_or_default());
    w.bytes(&f.partner.0);
    w.u8(match f.flow {
        Flow::Import => 0,
        Flow::Export => 1,
    });
    w.hs(f.hs);
    w.dec(f.value);
    w.bytes(&f.currency);
    w.dec(f.value_usd);
    w.opt_dec(f.quantity);
    w.text(f.unit);
    w.text(f.regime);
    w.rec(f.rec);
    w.u8(f.superseded as u8);
}

fn read_flow(r: &mut R) -> Option<TradeFlow> {
    let id = r.text()?;
    let year = r.u32()? as i32;
    let month = r.u32()?;
    let years = crate::data::codes::MIN_YEAR..=crate::data::codes::MAX_YEAR;
    if !years.contains(&year) || month > 12 {
        return None;
    }
    let reporter = r.country()?;
    let has_region = r.flag()?;
    let region = r.arr::<6>()?;
    Some(TradeFlow {
        id,
        period: Period { year, month },
        reporter,
        region: has_region.then_some(Region(region)),
        partner: r.country()?,
        flow: match r.u8()? {
            0 => Flow::Import,
            1 => Flow::Export,
            _ => return None,
        },
        hs: r.hs()?,
        value: r.dec()?,
        currency: r.arr()?,
        value_usd: r.dec()?,
        quantity: r.opt_dec()?,
        unit: r.text()?,
        regime: r.text()?,
        rec: r.rec()?,
        superseded: r.flag()?,
    })
}

fn write_outcome(w: &mut W, o: &Outcome) {
    for x in o.mix.s.iter().chain(&o.mix.c).chain([&o.mix.u]) {
        w.u64(x.to_bits());
    }
    w.u8(o.reachable as u8);
    w.u64(o.marks.pattern);
    w.u8(o.marks.watch);
    w.u8(o.prevalence.is_some() as u8);
    w.u64(o.prevalence.unwrap_or(0.0).to_bits());
}

fn read_outcome(r: &mut R) -> Option<Outcome> {
    let mut f = [0.0; 7];
    for x in &mut f {
        *x = r.f64()?;
    }
    // Shares, whatever the checksum says: a NaN or a share outside [0, 1] would print as a result.
    if !f.iter().all(|&x| share_ok(x)) {
        return None;
    }
    Some(Outcome {
        mix: Mix {
            s: [f[0], f[1], f[2]],
            c: [f[3], f[4], f[5]],
            u: f[6],
        },
        reachable: r.flag()?,
        marks: Marks {
            pattern: r.u64()?,
            watch: r.u8()?,
        },
        prevalence: {
            let some = r.flag()?;
            let v = r.f64()?;
            some.then_some(v)
        },
    })
}

/// A share as the engine makes them: finite and in [0, 1].
fn share_ok(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

/// Decodes fixed-size records, refusing a section whose length is not a whole number of them.
fn records<T>(b: &[u8], len: usize, mut one: impl FnMut(&mut R) -> Option<T>) -> Option<Vec<T>> {
    if !b.len().is_multiple_of(len) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / len);
    for c in b.chunks_exact(len) {
        let mut r = R(c);
        out.push(one(&mut r)?);
        r.done()?;
    }
    Some(out)
}

/// Compressed CSR offsets: `n + 1` entries, non-decreasing, ending at the list's length.
fn csr_ok(off: &[u32], n: usize, list: &[u32]) -> bool {
    off.len() == n + 1
        && off.first() == Some(&0)
        && off.windows(2).all(|w| w[0] <= w[1])
        && off.last().is_some_and(|&l| l as usize == list.len())
}

/// Writes a snapshot of `p`.
pub fn encode(p: &Parts) -> Result<Vec<u8>, EncodeError> {
    let ds = p.dataset;
    let ix = p.index;
    let mut medians: Vec<(Hs, Decimal)> = p.medians.iter().map(|(h, d)| (*h, *d)).collect();
    medians.sort();
    let meta = MetaOut {
        tool_version: p.tool_version,
        model_version: p.model_version,
        settings: p.settings,
        files: &ds.files,
        stats: &ds.stats,
        parties: &ds.parties,
        links: &ds.links,
        watchlist: &ds.watchlist,
        rates: &ds.rates,
        rejections: &ds.rejections,
        hits: p.hits,
        medians,
        n_shipments: ds.shipments.len() as u64,
        n_flows: ds.flows.len() as u64,
        n_keys: ix.keys.len() as u64,
    };
    let mut sections: Vec<Vec<u8>> = Vec::with_capacity(N_SECTIONS);
    sections.push(
        postcard::to_stdvec(&meta).map_err(|source| EncodeError::Serialize {
            section: SECTIONS[S_META],
            source,
        })?,
    );
    sections.push(ds.text.as_str().as_bytes().to_vec());
    let mut b = Vec::with_capacity(ds.shipments.len() * SHIP_LEN);
    ds.shipments
        .iter()
        .for_each(|s| write_ship(&mut W(&mut b), s));
    sections.push(b);
    let mut b = Vec::with_capacity(ds.flows.len() * FLOW_LEN);
    ds.flows.iter().for_each(|f| write_flow(&mut W(&mut b), f));
    sections.push(b);
    let mut b = Vec::new();
    let mut w = W(&mut b);
    for a in [
        &ix.in_off,
        &ix.inbound,
        &ix.out_off,
        &ix.outbound,
        &ix.out_key,
        &ix.link_off,
        &ix.links,
        &ix.key_of_shipment,
    ] {
        w.u32s(a);
    }
    sections.push(b);
    let mut b = Vec::with_capacity(ix.out_sum.len() * 16);
    ix.out_sum.iter().for_each(|d| W(&mut b).dec(*d));
    sections.push(b);
    let mut b = Vec::with_capacity(ix.keys.len() * KEY_LEN);
    for k in &ix.keys {
        let mut w = W(&mut b);
        w.u32(k.date.0 as u32);
        w.u32(k.party);
        w.hs(k.heading);
    }
    sections.push(b);
    let mut b = Vec::with_capacity(p.outcomes.len() * OUTCOME_LEN);
    p.outcomes
        .iter()
        .for_each(|o| write_outcome(&mut W(&mut b), o));
    sections.push(b);
    sections.push(
        postcard::to_stdvec(&ix.pools).map_err(|source| EncodeError::Serialize {
            section: SECTIONS[S_POOLS],
            source,
        })?,
    );
    let mut b = Vec::with_capacity(ds.shipments.len() * 4);
    ds.shipment_order()
        .iter()
        .for_each(|i| b.extend_from_slice(&i.to_le_bytes()));
    sections.push(b);

    let total: usize = HEADER_LEN + sections.iter().map(|s| s.len() + 7).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(N_SECTIONS as u32).to_le_bytes());
    let len_at = out.len();
    out.extend_from_slice(&0u64.to_le_bytes());
    let mut offset = HEADER_LEN;
    for s in &sections {
        offset = offset.next_multiple_of(8);
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(&xxh3_64(s).to_le_bytes());
        offset += s.len();
    }
    out[len_at..len_at + 8].copy_from_slice(&(offset as u64).to_le_bytes());
    let h = xxh3_64(&out);
    out.extend_from_slice(&h.to_le_bytes());
    for s in &sections {
        out.resize(out.len().next_multiple_of(8), 0);
        out.extend_from_slice(s);
    }
    Ok(out)
}

/// Everything but the shipments, decoded; the shipments are checked against it afterwards.
struct Rest {
    tool_version: String,
    model_version: String,
    settings: Settings,
    dataset: Dataset,
    derived: Derived,
    order: Vec<u32>,
    n_shipments: u64,
}

fn decode_rest<'b>(
    open: &(dyn Fn(usize) -> Result<&'b [u8], SnapshotError> + Sync),
    bad: &(dyn Fn(usize) -> SnapshotError + Sync),
) -> Result<Rest, SnapshotError> {
    let meta: MetaIn = postcard::from_bytes(open(S_META)?).map_err(|_| bad(S_META))?;
    if meta.files.len() != meta.stats.len() && !meta.stats.is_empty() {
        return Err(bad(S_META));
    }
    let n_parties = meta.parties.len();
    let party_ok = |p: u32| (p as usize) < n_parties;
    if meta.settings.check().is_err() {
        return Err(bad(S_META));
    }
    let links_ok = meta.links.iter().all(|l| {
        share_ok(l.share)
            && party_ok(l.buyer)
            && match l.supplier {
                LinkSupplier::Party(q) => party_ok(q),
                LinkSupplier::Country(_) => true,
            }
    });
    if !links_ok || meta.hits.len() != n_parties {
        return Err(bad(S_META));
    }
    let text = std::str::from_utf8(open(S_TEXT)?)
        .map_err(|_| bad(S_TEXT))?
        .to_string();
    let flows = records(open(S_FLOW)?, FLOW_LEN, read_flow)
        .filter(|v| v.len() as u64 == meta.n_flows)
        .ok_or_else(|| bad(S_FLOW))?;
    let keys = records(open(S_KEYS)?, KEY_LEN, |r| {
        let k = Key {
            date: r.date()?,
            party: r.u32()?,
            heading: r.hs()?,
        };
        party_ok(k.party).then_some(k)
    })
    .filter(|v| v.len() as u64 == meta.n_keys)
    .ok_or_else(|| bad(S_KEYS))?;
    let outcomes = records(open(S_OUTCOMES)?, OUTCOME_LEN, read_outcome)
        .filter(|v| v.len() == keys.len())
        .ok_or_else(|| bad(S_OUTCOMES))?;
    let out_sum = records(open(S_SUMS)?, 16, |r| r.dec()).ok_or_else(|| bad(S_SUMS))?;
    let (nk, nl) = (keys.len(), meta.links.len());
    // Shipment numbers are checked against the shipments once they are decoded.
    let any = usize::MAX;
    let mut r = R(open(S_INDEX)?);
    let arrays = (|| {
        let a = [
            r.u32s(any)?,
            r.u32s(any)?,
            r.u32s(any)?,
            r.u32s(any)?,
            r.u32s(nk)?,
            r.u32s(nl + 1)?,
            r.u32s(nl)?,
            r.u32s(nk)?,
        ];
        r.done()?;
        Some(a)
    })()
    .ok_or_else(|| bad(S_INDEX))?;
    let [
        in_off,
        inbound,
        out_off,
        outbound,
        out_key,
        link_off,
        links,
        key_of_shipment,
    ] = arrays;
    let index_ok = csr_ok(&in_off, n_parties, &inbound)
        && csr_ok(&out_off, n_parties, &outbound)
        && csr_ok(&link_off, n_parties, &links);
    if !index_ok {
        return Err(bad(S_INDEX));
    }
    let pools: PoolIndex = postcard::from_bytes(open(S_POOLS)?).map_err(|_| bad(S_POOLS))?;
    if !pools.fits(flows.len()) {
        return Err(bad(S_POOLS));
    }
    let order: Vec<u32> = records(open(S_ORDER)?, 4, |r| r.u32()).ok_or_else(|| bad(S_ORDER))?;
    let mut dataset = Dataset::default();
    dataset.files = meta.files;
    dataset.stats = meta.stats;
    dataset.parties = meta.parties;
    dataset.flows = flows;
    dataset.links = meta.links;
    dataset.watchlist = meta.watchlist;
    dataset.rates = meta.rates;
    dataset.text = Arena::from_string(text);
    dataset.rejections = meta.rejections;
    Ok(Rest {
        tool_version: meta.tool_version,
        model_version: meta.model_version,
        settings: meta.settings,
        dataset,
        derived: Derived {
            index: Index {
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
                pools,
            },
            outcomes,
            hits: meta.hits,
            medians: meta.medians.into_iter().collect(),
        },
        order,
        n_shipments: meta.n_shipments,
    })
}

impl Snapshot {
    pub fn parts(&self) -> Parts<'_> {
        Parts {
            tool_version: &self.tool_version,
            model_version: &self.model_version,
            settings: &self.settings,
            dataset: &self.dataset,
            index: &self.derived.index,
            outcomes: &self.derived.outcomes,
            hits: &self.derived.hits,
            medians: &self.derived.medians,
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        encode(&self.parts())
    }

    /// Checks the header and every section's checksum, then decodes.
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let damaged = |why: &str| SnapshotError::Damaged {
            file: file.to_string(),
            why: why.to_string(),
        };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SnapshotError::Foreign {
                file: file.to_string(),
            });
        }
        let mut h = R(&bytes[MAGIC.len()..]);
        let cut = || damaged("the header is cut short");
        let version = h.u32().ok_or_else(cut)?;
        if version != FORMAT_VERSION {
            return Err(SnapshotError::Version {
                file: file.to_string(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(cut());
        }
        let (head, sum) = bytes[..HEADER_LEN].split_at(HEADER_LEN - 8);
        if xxh3_64(head).to_le_bytes() != sum {
            return Err(damaged("its header checksum does not match"));
        }
        let count = h.u32().ok_or_else(cut)?;
        if count as usize != N_SECTIONS {
            return Err(damaged(&format!(
                "{count} sections, this format has {N_SECTIONS}"
            )));
        }
        let len = h.u64().ok_or_else(cut)?;
        if bytes.len() as u64 != len {
            return Err(damaged(&format!(
                "the file has {} bytes, its header says {len}",
                bytes.len()
            )));
        }
        let mut sec: Vec<(&[u8], u64)> = Vec::with_capacity(N_SECTIONS);
        // Sections follow each other in order, separated only by zero padding to 8 bytes, so every byte of
        // the file is covered by a checksum or known to be zero.
        let mut end = HEADER_LEN;
        for name in SECTIONS {
            let (off, n, sum) = (
                h.u64().ok_or_else(cut)?,
                h.u64().ok_or_else(cut)?,
                h.u64().ok_or_else(cut)?,
            );
            let outside = || damaged(&format!("section {name} lies outside the file"));
            let o = usize::try_from(off).map_err(|_| outside())?;
            let n = usize::try_from(n).map_err(|_| outside())?;
            let pad = bytes.get(end..o).ok_or_else(outside)?;
            if pad.len() >= 8 || pad.iter().any(|b| *b != 0) {
                return Err(outside());
            }
            end = o.checked_add(n).ok_or_else(outside)?;
            sec.push((bytes.get(o..end).ok_or_else(outside)?, sum));
        }
        if end != bytes.len() {
            return Err(damaged("bytes follow the last section"));
        }
        // Each section is checked just before it is decoded, so the two halves below check in parallel.
        let open = |i: usize| {
            let (b, sum) = sec[i];
            if xxh3_64(b) == sum {
                Ok(b)
            } else {
                Err(damaged(&format!(
                    "its checksum does not match its contents (section {})",
                    SECTIONS[i]
                )))
            }
        };
        let bad = |i: usize| damaged(&format!("cannot decode section {}", SECTIONS[i]));
        // The shipments are about half the work: they decode on one thread, everything else on the other.
        let (ships, rest) = rayon::join(
            || {
                let mut top = 0u32;
                let v = records(open(S_SHIP)?, SHIP_LEN, |r| {
                    let s = read_ship(r)?;
                    top = top.max(s.shipper).max(s.consignee);
                    Some(s)
                })
                .ok_or_else(|| bad(S_SHIP))?;
                Ok::<_, SnapshotError>((v, top))
            },
            || decode_rest(&open, &bad),
        );
        let ((shipments, top_party), mut rest) = (ships?, rest?);
        let ns = shipments.len();
        let n_parties = rest.dataset.parties.len();
        if ns as u64 != rest.n_shipments || (ns > 0 && top_party as usize >= n_parties) {
            return Err(bad(S_SHIP));
        }
        let ix = &rest.derived.index;
        let sizes_ok = ix.inbound.len() == ns
            && ix.outbound.len() == ns
            && ix.out_key.len() == ns
            && ix.key_of_shipment.len() == ns
            && ix.out_sum.len() == ns + 1
            && ix
                .inbound
                .iter()
                .chain(&ix.outbound)
                .all(|&i| (i as usize) < ns);
        if !sizes_ok {
            return Err(bad(S_INDEX));
        }
        rest.dataset.shipments = shipments;
        if !rest.dataset.reindex_sorted(rest.order) {
            return Err(bad(S_ORDER));
        }
        Ok(Snapshot {
            tool_version: rest.tool_version,
            model_version: rest.model_version,
            settings: rest.settings,
            dataset: rest.dataset,
            derived: rest.derived,
        })
    }

    /// Maps the file rather than reading it: decoding then reads the page cache directly, without first
    /// copying hundreds of megabytes into fresh memory.
    pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
        let file = path.display().to_string();
        let io = |source| SnapshotError::Io {
            file: file.clone(),
            source,
        };
        let f = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is only read, and only inside this call: nothing borrowed from it outlives the
        // decoding. It is not a snapshot of the file, though, and what protects against a change to the file
        // under it differs:
        // - bytes changed before their section is read are refused: each section's checksum is checked just
        //   before it is decoded. Bytes changed after that are decoded as they are; the decoding's range
        //   checks keep them from indexing out of bounds, but the values may be wrong.
        // - a file truncated while it is mapped is not caught at all: reading a page past its new end raises
        //   SIGBUS, which ends the process without a message. Nothing here protects against that; the only
        //   protection is not to truncate or rewrite a snapshot in place while it is being read. `build`
        //   never does: it writes a new file and renames it over the old one, and a reader keeps the old
        //   file's pages.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&f) }.map_err(io)?;
        Snapshot::from_bytes(&file, &map)
    }

    /// Whether a file starts with the snapshot magic (so `--data FILE` can tell snapshots from CSV files).
    pub fn is_snapshot(path: &Path) -> bool {
        use std::io::Read;
        let mut buf = [0u8; 16];
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut buf))
            .is_ok()
            && &buf == MAGIC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Snapshot {
        let ds = Dataset::default();
        let st = Settings::default();
        let index = Index::new(&ds, &st);
        Snapshot {
            tool_version: "t".into(),
            model_version: "1".into(),
            settings: st,
            dataset: ds,
            derived: Derived {
                index,
                outcomes: vec![],
                hits: vec![],
                medians: HashMap::new(),
            },
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let bytes = tiny().to_bytes().unwrap();
        assert!(Snapshot::from_bytes("x", &bytes).is_ok());
        assert!(matches!(
            Snapshot::from_bytes("x", b"hello"),
            Err(SnapshotError::Foreign { .. })
        ));
        let mut v = bytes.clone();
        v[16] = 99;
        assert!(matches!(
            Snapshot::from_bytes("x", &v),
            Err(SnapshotError::Version { .. })
        ));
        let cut = &bytes[..bytes.len() - 3];
        assert!(matches!(
            Snapshot::from_bytes("x", cut),
            Err(SnapshotError::Damaged { .. })
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        assert!(matches!(
            Snapshot::from_bytes("x", &flipped),
            Err(SnapshotError::Damaged { .. })
        ));
        for n in 0..bytes.len() {
            let _ = Snapshot::from_bytes("x", &bytes[..n]);
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x55;
            assert!(Snapshot::from_bytes("x", &b).is_err(), "byte {i}");
        }
    }

    /// Recomputes every checksum, as whoever alters a file on purpose would.
    fn reseal(b: &mut [u8]) {
        for i in 0..N_SECTIONS {
            let at = 32 + 24 * i;
            let word = |b: &[u8], at: usize| {
                u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize
            };
            let (off, len) = (word(b, at), word(b, at + 8));
            let sum = xxh3_64(&b[off..off + len]);
            b[at + 16..at + 24].copy_from_slice(&sum.to_le_bytes());
        }
        let sum = xxh3_64(&b[..HEADER_LEN - 8]);
        b[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
    }

    #[test]
    fn shares_out_of_range_are_refused_even_with_matching_checksums() {
        let session = crate::session::Session::open(&Default::default()).unwrap();
        let a = session.analysis(crate::engine::paths::Limits::default());
        let mut bytes = encode(&Parts {
            tool_version: "t",
            model_version: "1",
            settings: &session.settings,
            dataset: &session.dataset,
            index: &a.engine.ix,
            outcomes: &a.engine.outcomes,
            hits: &a.engine.hits,
            medians: &a.medians,
        })
        .unwrap();
        reseal(&mut bytes);
        assert!(Snapshot::from_bytes("x", &bytes).is_ok());
        let off = u64::from_le_bytes(
            bytes[32 + 24 * S_OUTCOMES..40 + 24 * S_OUTCOMES]
                .try_into()
                .unwrap(),
        ) as usize;
        for bad in [f64::NAN, 1.5, -0.25, f64::INFINITY] {
            let mut b = bytes.clone();
            b[off..off + 8].copy_from_slice(&bad.to_le_bytes());
            reseal(&mut b);
            match Snapshot::from_bytes("x", &b) {
                Err(SnapshotError::Damaged { why, .. }) => {
                    assert!(why.contains("outcomes"), "{why}")
                }
                Err(e) => panic!("{bad}: {e}"),
                Ok(_) => panic!("{bad}: a share out of range was accepted"),
            }
        }
    }
}
