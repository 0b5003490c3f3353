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
use crate::data::dataset::{LinkId, LinkSupplier, PartyId, Rec, ShipmentId};
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

mod records;
use records::*;

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

/// Why a snapshot could not be written: a section that did not serialize (the message is postcard's), or
/// the output failed.
#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("{source}")]
    Serialize {
        /// The section, e.g. `meta`.
        section: &'static str,
        source: postcard::Error,
    },
    /// The output could not be written.
    #[error("{0}")]
    Io(std::io::Error),
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

/// Writes a snapshot of `p` into memory (for tests and small datasets; `build` streams with [`encode_to`]).
pub fn encode(p: &Parts) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_to(p, &mut out)?;
    Ok(out)
}

/// Where encoded section bytes go: measured and hashed on the first pass, written on the second.
trait Sink {
    /// Section `s` starts here.
    fn begin(&mut self, s: usize) -> std::io::Result<()>;
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()>;
}

/// The first pass: each section's length and XXH3-64, nothing kept.
struct Measure {
    cur: usize,
    lens: [u64; N_SECTIONS],
    hashers: Vec<xxhash_rust::xxh3::Xxh3>,
}

impl Sink for Measure {
    fn begin(&mut self, s: usize) -> std::io::Result<()> {
        self.cur = s;
        Ok(())
    }
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.lens[self.cur] += b.len() as u64;
        self.hashers[self.cur].update(b);
        Ok(())
    }
}

/// The second pass: the bytes after the header, each section 8-byte aligned (zero padding).
struct Emit<'w> {
    w: &'w mut dyn std::io::Write,
    pos: u64,
}

impl Sink for Emit<'_> {
    fn begin(&mut self, _: usize) -> std::io::Result<()> {
        let pad = self.pos.next_multiple_of(8) - self.pos;
        self.bytes(&[0u8; 8][..pad as usize])
    }
    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.pos += b.len() as u64;
        self.w.write_all(b)
    }
}

/// How many bytes of fixed-size records are made before they go to the sink.
const CHUNK: usize = 1 << 20;

/// Fixed-size records on their way to a [`Sink`], a megabyte at a time.
struct Chunks(Vec<u8>);

impl Chunks {
    /// Adds what `f` writes, and sends the buffer on once it is full.
    fn put(&mut self, sink: &mut dyn Sink, f: impl FnOnce(&mut W)) -> std::io::Result<()> {
        f(&mut W(&mut self.0));
        if self.0.len() >= CHUNK {
            self.end(sink)?;
        }
        Ok(())
    }

    /// A length-prefixed u32 array (a list of row ids maps each to its number).
    fn u32s(
        &mut self,
        sink: &mut dyn Sink,
        v: impl ExactSizeIterator<Item = u32>,
    ) -> std::io::Result<()> {
        self.put(sink, |w| w.u64(v.len() as u64))?;
        for x in v {
            self.put(sink, |w| w.u32(x))?;
        }
        Ok(())
    }

    /// Sends what the buffer holds: the end of a section.
    fn end(&mut self, sink: &mut dyn Sink) -> std::io::Result<()> {
        sink.bytes(&self.0)?;
        self.0.clear();
        Ok(())
    }
}

/// Makes every section, in file order, a chunk at a time, into `sink`. `small` holds the two postcard
/// sections (meta and pools), made once; the bulk sections are made from the data on each pass.
fn sections(
    p: &Parts,
    small: &[Vec<u8>; 2],
    order: &[ShipmentId],
    sink: &mut dyn Sink,
) -> std::io::Result<()> {
    let ds = p.dataset;
    let ix = p.index;
    let mut c = Chunks(Vec::with_capacity(CHUNK + 256));
    sink.begin(S_META)?;
    sink.bytes(&small[0])?;
    sink.begin(S_TEXT)?;
    sink.bytes(ds.text.as_str().as_bytes())?;
    sink.begin(S_SHIP)?;
    for s in &ds.shipments {
        c.put(sink, |w| write_ship(w, s))?;
    }
    c.end(sink)?;
    sink.begin(S_FLOW)?;
    for f in &ds.flows {
        c.put(sink, |w| write_flow(w, f))?;
    }
    c.end(sink)?;
    sink.begin(S_INDEX)?;
    c.u32s(sink, ix.in_off.iter().copied())?;
    c.u32s(sink, ix.inbound.iter().map(|s| s.get()))?;
    c.u32s(sink, ix.out_off.iter().copied())?;
    c.u32s(sink, ix.outbound.iter().map(|s| s.get()))?;
    c.u32s(sink, ix.out_key.iter().copied())?;
    c.u32s(sink, ix.link_off.iter().copied())?;
    c.u32s(sink, ix.links.iter().map(|l| l.get()))?;
    c.u32s(sink, ix.key_of_shipment.iter().copied())?;
    c.end(sink)?;
    sink.begin(S_SUMS)?;
    for d in &ix.out_sum {
        c.put(sink, |w| w.dec(*d))?;
    }
    c.end(sink)?;
    sink.begin(S_KEYS)?;
    for k in &ix.keys {
        c.put(sink, |w| {
            w.u32(k.date.0 as u32);
            w.u32(k.party.get());
            w.hs(k.heading);
        })?;
    }
    c.end(sink)?;
    sink.begin(S_OUTCOMES)?;
    for o in p.outcomes {
        c.put(sink, |w| write_outcome(w, o))?;
    }
    c.end(sink)?;
    sink.begin(S_POOLS)?;
    sink.bytes(&small[1])?;
    sink.begin(S_ORDER)?;
    for i in order {
        c.put(sink, |w| w.u32(i.get()))?;
    }
    c.end(sink)
}

/// Writes a snapshot of `p` to `out`, streamed: the bulk sections are made twice, once to measure and hash
/// them (the header, which comes first, holds every section's offset, length and checksum) and once to
/// write them, so no section is ever held whole. At 10M shipments the whole file in memory, and its
/// sections beside it, were about 5 GB of a 10.4 GiB `build` (docs/benchmarks.md). Returns the bytes
/// written.
pub fn encode_to(p: &Parts, out: &mut dyn std::io::Write) -> Result<u64, EncodeError> {
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
    let small = [
        postcard::to_stdvec(&meta).map_err(|source| EncodeError::Serialize {
            section: SECTIONS[S_META],
            source,
        })?,
        postcard::to_stdvec(&ix.pools).map_err(|source| EncodeError::Serialize {
            section: SECTIONS[S_POOLS],
            source,
        })?,
    ];
    let order = ds.shipment_order();
    let mut m = Measure {
        cur: 0,
        lens: [0; N_SECTIONS],
        hashers: (0..N_SECTIONS)
            .map(|_| xxhash_rust::xxh3::Xxh3::new())
            .collect(),
    };
    sections(p, &small, &order, &mut m).map_err(EncodeError::Io)?;
    let mut head = Vec::with_capacity(HEADER_LEN);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    head.extend_from_slice(&(N_SECTIONS as u32).to_le_bytes());
    let len_at = head.len();
    head.extend_from_slice(&0u64.to_le_bytes());
    let mut offset = HEADER_LEN as u64;
    for (len, h) in m.lens.iter().zip(&m.hashers) {
        offset = offset.next_multiple_of(8);
        head.extend_from_slice(&offset.to_le_bytes());
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&h.digest().to_le_bytes());
        offset += len;
    }
    head[len_at..len_at + 8].copy_from_slice(&offset.to_le_bytes());
    let h = xxh3_64(&head);
    head.extend_from_slice(&h.to_le_bytes());
    out.write_all(&head).map_err(EncodeError::Io)?;
    let mut e = Emit {
        w: out,
        pos: head.len() as u64,
    };
    sections(p, &small, &order, &mut e).map_err(EncodeError::Io)?;
    if e.pos != offset {
        return Err(EncodeError::Io(std::io::Error::other(format!(
            "a section changed between the two passes: {} bytes written, {offset} measured",
            e.pos
        ))));
    }
    Ok(e.pos)
}

/// Everything but the shipments, decoded; the shipments are checked against it afterwards.
struct Rest {
    tool_version: String,
    model_version: String,
    settings: Settings,
    dataset: Dataset,
    derived: Derived,
    order: Vec<ShipmentId>,
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
    let party_ok = |p: PartyId| p.index() < n_parties;
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
            party: PartyId::new(r.u32()?),
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
    let inbound: Vec<ShipmentId> = inbound.into_iter().map(ShipmentId::new).collect();
    let outbound: Vec<ShipmentId> = outbound.into_iter().map(ShipmentId::new).collect();
    let links: Vec<LinkId> = links.into_iter().map(LinkId::new).collect();
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
    let order: Vec<ShipmentId> =
        records(open(S_ORDER)?, 4, |r| r.u32().map(ShipmentId::new)).ok_or_else(|| bad(S_ORDER))?;
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
                let mut top = PartyId::new(0);
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
        if ns as u64 != rest.n_shipments || (ns > 0 && top_party.index() >= n_parties) {
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
                .all(|&i| i.index() < ns);
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
