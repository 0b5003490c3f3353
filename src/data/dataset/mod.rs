//! The canonical dataset (SPEC §2): its record types, laid out flat for tens of millions of rows, and the
//! strict loader that turns directories of CSV files into one [`Dataset`].

mod ids;
pub(crate) mod load;
pub(crate) mod read;
pub(crate) mod sample;
pub(crate) mod schema;

use crate::data::codes::{Country, Date, Hs, Period, Region};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::BuildHasher;
use thiserror::Error;

pub use ids::{FlowId, LinkId, PartyId, ShipmentId};
pub use load::{DataSource, load};
pub use read::FileStats;
pub use sample::SAMPLE;
pub use schema::{Column, Table};

/// A place in a dataset file, as messages name it: `FILE:LINE: column`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The file as the user named it, e.g. `data/sample/shipments.csv`.
    pub file: String,
    /// The line the row starts on, from 1 (the header).
    pub line: u64,
    /// The column to blame, by its header name; `header` for the header row itself, `-` when no one
    /// column is (a row with the wrong number of fields).
    pub column: String,
}

impl Position {
    /// A place: any `file` and `column` that convert to strings, as the readers have them at hand.
    pub fn new(file: impl Into<String>, line: u64, column: impl Into<String>) -> Position {
        Position {
            file: file.into(),
            line,
            column: column.into(),
        }
    }

    /// The header row of `file`.
    pub fn header(file: impl Into<String>) -> Position {
        Position::new(file, 1, "header")
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.column)
    }
}

/// One rejected row: where it is, which column is to blame, why, and the raw row for the rejects file.
///
/// Stored (snapshots, `check --format json`) as the flat record `file, line, column, reason, raw`, the
/// shape it had before it carried a [`Position`]: old snapshots still read, and the JSON keeps its keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "FlatRejection", into = "FlatRejection")]
pub struct Rejection {
    pub at: Position,
    /// What is wrong, quoting the value when there is one.
    pub reason: String,
    /// The row as CSV, for `--rejects FILE`; empty until the reader fills it in.
    pub raw: String,
}

impl Rejection {
    /// A rejection without its raw row (the reader adds it).
    pub fn new(at: Position, reason: impl Into<String>) -> Rejection {
        Rejection {
            at,
            reason: reason.into(),
            raw: String::new(),
        }
    }
}

/// [`Rejection`] as it is serialized.
#[derive(Serialize, Deserialize)]
struct FlatRejection {
    file: String,
    line: u64,
    column: String,
    reason: String,
    raw: String,
}

impl From<FlatRejection> for Rejection {
    fn from(r: FlatRejection) -> Rejection {
        Rejection {
            at: Position {
                file: r.file,
                line: r.line,
                column: r.column,
            },
            reason: r.reason,
            raw: r.raw,
        }
    }
}

impl From<Rejection> for FlatRejection {
    fn from(r: Rejection) -> FlatRejection {
        FlatRejection {
            file: r.at.file,
            line: r.at.line,
            column: r.at.column,
            reason: r.reason,
            raw: r.raw,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Reasons quote the rejected value: on a terminal, an escape or a bidi override in it must not act.
        let line = format!("{}: {}", self.at, self.reason);
        f.write_str(&crate::util::text::printable(&line))
    }
}

/// A problem with a whole file, before or outside its rows.
#[derive(Debug, Error)]
pub enum FileError {
    #[error("{at}: the file is empty; expected a header row with the columns {expected}")]
    Empty { at: Position, expected: String },
    #[error("{at}: missing required column(s) {missing}; found {found}")]
    MissingColumns {
        at: Position,
        missing: String,
        found: String,
    },
    #[error("{at}: column '{name}' appears twice")]
    DuplicateColumn { at: Position, name: String },
    #[error("{at}: not valid UTF-8 at byte offset {offset}; convert the file to UTF-8")]
    Encoding { at: Position, offset: u64 },
    /// A read that failed part-way through the file. No line is known: the message says line 0, as it
    /// always has.
    #[error("{file}:0: cannot parse CSV: {source}")]
    Csv {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error(
        "{file}: is {kind}, not a regular file; dataset files must be regular files (copy the data in)"
    )]
    NotRegular { file: String, kind: &'static str },
}

/// Everything that stops a dataset from loading.
#[derive(Debug, Error)]
pub enum DatasetError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(
        "{path}: not a dataset: no canonical files (parties.csv, shipments.csv, trade_flows.csv, supplier_links.csv, watchlist.csv, rates.csv)"
    )]
    NoFiles { path: String },
    #[error("{path}: not found")]
    NotFound { path: String },
    #[error(
        "{count} row(s) rejected (use --skip-invalid to skip them and --rejects FILE to keep them)"
    )]
    Rejected { count: usize, first: Vec<Rejection> },
    #[error("{file}: cannot write rejects: {source}")]
    Rejects {
        file: String,
        source: std::io::Error,
    },
}

/// Where a record came from: the file (an index into [`Dataset::files`]) and its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rec {
    pub file: u32,
    pub line: u32,
}

/// A slice of [`Dataset::text`]: the ids and free text of high-volume rows live in one arena instead of a
/// heap string per row. Start and length share one word (40 and 24 bits): a shipment holds five of these,
/// and at 16 bytes each they were 80 of its 200 bytes, 800 MB of a 10M-shipment run (docs/benchmarks.md).
/// The bounds this sets — an arena of at most 1 TiB, a field of at most [`Text::MAX_LEN`] bytes — are
/// enforced where text is stored ([`Arena::push_all`]): a longer field rejects its row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text(u64);

impl Text {
    /// The longest field the arena stores: 16 MiB less one byte.
    pub const MAX_LEN: usize = (1 << 24) - 1;
    /// Where the arena ends: 1 TiB.
    pub const MAX_END: u64 = 1 << 40;

    /// `None` when the slice lies beyond what a `Text` can address.
    pub fn new(start: u64, len: u64) -> Option<Text> {
        (len <= Text::MAX_LEN as u64 && start.checked_add(len)? <= Text::MAX_END)
            .then_some(Text::pack(start, len))
    }

    /// A `Text` for a slice already known to fit (by [`Text::new`] or [`Arena::fits`]).
    fn pack(start: u64, len: u64) -> Text {
        Text(start | (len << 40))
    }

    pub fn start(self) -> u64 {
        self.0 & (Text::MAX_END - 1)
    }

    pub fn len(self) -> usize {
        (self.0 >> 40) as usize
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Why a row's text was not stored: field `i` of the row is longer than [`Text::MAX_LEN`], or the arena is
/// full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TooLong {
    Field(usize),
    Arena,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TooLong::Field(_) => write!(
                f,
                "the value is longer than {} bytes, the most a field may hold",
                Text::MAX_LEN
            ),
            TooLong::Arena => write!(
                f,
                "the text of all rows would pass {} bytes, the most one run holds; split the data",
                Text::MAX_END
            ),
        }
    }
}

/// Append-only string storage.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Arena {
    buf: String,
}

impl Arena {
    /// Stores every field of one row, or none of them: a row is rejected whole, so no text of it stays
    /// behind. A missing field is the empty [`Text`]. Once [`Arena::fits`] passes, every field is
    /// addressable, so nothing can fail half-way.
    pub fn push_all<const N: usize>(
        &mut self,
        fields: [Option<&str>; N],
    ) -> Result<[Text; N], TooLong> {
        self.fits(&fields)?;
        Ok(fields.map(|f| {
            f.map_or(Text::default(), |s| {
                let start = self.buf.len() as u64;
                self.buf.push_str(s);
                Text::pack(start, s.len() as u64)
            })
        }))
    }

    /// Whether [`Arena::push_all`] would store `fields`.
    pub fn fits(&self, fields: &[Option<&str>]) -> Result<(), TooLong> {
        let mut end = self.buf.len() as u64;
        for (i, f) in fields.iter().enumerate() {
            let n = f.map_or(0, str::len);
            if n > Text::MAX_LEN {
                return Err(TooLong::Field(i));
            }
            end += n as u64;
        }
        if end > Text::MAX_END {
            return Err(TooLong::Arena);
        }
        Ok(())
    }

    /// The whole arena, for snapshots.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    pub fn from_string(buf: String) -> Arena {
        Arena { buf }
    }

    pub fn get(&self, t: Text) -> &str {
        let a = t.start() as usize;
        self.buf.get(a..a + t.len()).unwrap_or("")
    }
}

/// A party (parties.csv).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Party {
    pub id: String,
    pub name: String,
    pub country: Country,
    pub region: Option<Region>,
    pub city: Option<String>,
    pub aliases: Vec<String>,
    pub identifiers: Vec<String>,
    pub rec: Rec,
}

/// A documented transaction (shipments.csv). `value_usd` is the value converted through rates.csv.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Shipment {
    pub id: Text,
    pub date: Date,
    pub shipper: PartyId,
    pub consignee: PartyId,
    pub hs: Hs,
    pub value: Decimal,
    pub currency: [u8; 3],
    pub value_usd: Decimal,
    pub quantity: Option<Decimal>,
    pub unit: Text,
    pub weight_kg: Option<Decimal>,
    pub origin: Option<Country>,
    pub description: Text,
    pub port_lading: Text,
    pub port_unlading: Text,
    pub rec: Rec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Flow {
    Import,
    Export,
}

impl Flow {
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Import => "import",
            Flow::Export => "export",
        }
    }
}

/// An aggregate statistics row (trade_flows.csv).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TradeFlow {
    /// The row's id: its own `flow_id`, or `DATASET/trade_flows.csv:LINE`.
    pub id: Text,
    pub period: Period,
    pub reporter: Country,
    pub region: Option<Region>,
    pub partner: Country,
    pub flow: Flow,
    pub hs: Hs,
    pub value: Decimal,
    pub currency: [u8; 3],
    pub value_usd: Decimal,
    pub quantity: Option<Decimal>,
    pub unit: Text,
    pub regime: Text,
    pub rec: Rec,
    /// A coarser row overlapped by finer rows of the same reporter, region, partner and flow (SPEC §3): kept
    /// for `check`, never used by the pools.
    pub superseded: bool,
}

/// The supplier side of a supplier link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkSupplier {
    Party(PartyId),
    Country(Country),
}

/// A supplier declaration (supplier_links.csv).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SupplierLink {
    pub id: String,
    pub buyer: PartyId,
    pub supplier: LinkSupplier,
    pub hs: Hs,
    pub share: f64,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub source: Option<String>,
    pub rec: Rec,
}

impl SupplierLink {
    /// Whether the declaration is in force on day `t` (bounds inclusive, empty = open).
    pub fn valid_at(&self, t: Date) -> bool {
        self.valid_from.is_none_or(|f| f <= t) && self.valid_to.is_none_or(|e| t <= e)
    }
}

/// A sanctions or risk list entry (watchlist.csv).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WatchEntry {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    /// Every country the list gives the entry (its addresses, or a person's nationalities): `;`-separated in
    /// `watchlist.csv`. Empty when the list gives none.
    pub countries: Vec<Country>,
    pub program: Option<String>,
    pub identifiers: Vec<String>,
    pub source: Option<String>,
    pub rec: Rec,
}

/// A file the dataset was read from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceFile {
    /// As shown in messages and records, e.g. `data/sample/shipments.csv`.
    pub path: String,
    /// The dataset directory's name, used in default ids.
    pub dataset: String,
    /// The canonical file name, e.g. `shipments.csv`.
    pub name: String,
}

/// Ids back to back, in row order.
#[derive(Clone, Debug, Default)]
struct KeyStore {
    buf: String,
    ends: Vec<usize>,
}

impl KeyStore {
    fn push(&mut self, id: &str) {
        self.buf.push_str(id);
        self.ends.push(self.buf.len());
    }

    fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.buf.get(start..end).unwrap_or("")
    }
}

/// Parties by id: an open-addressing table (linear probing, never more than half full) of fixed-size
/// entries. Every shipment looks up two parties, so an id of up to 11 bytes is kept in the entry itself: a
/// look-up then reads one entry, where going through the party and its heap `id` would be two more cache
/// misses. Longer ids are compared in a contiguous copy of all ids. With a few hundred thousand parties the
/// table is larger than the caches; the loader then reads the entries of several rows at once
/// ([`PartyIds::prefetch`]) before it looks them up, so that their cache misses overlap.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartyIds {
    /// A power of two long, or empty.
    slots: Vec<PartySlot>,
    len: usize,
    keys: KeyStore,
}

#[derive(Clone, Copy, Debug)]
struct PartySlot {
    /// The party, or [`PartySlot::VACANT`].
    party: u32,
    /// The id's length when it is inline, else [`PartySlot::LONG`].
    len: u8,
    inline: [u8; PartySlot::INLINE],
}

impl PartySlot {
    const INLINE: usize = 11;
    const LONG: u8 = u8::MAX;
    const VACANT: u32 = u32::MAX;
    const EMPTY: PartySlot = PartySlot {
        party: PartySlot::VACANT,
        len: 0,
        inline: [0; PartySlot::INLINE],
    };

    fn new(party: u32, id: &[u8]) -> PartySlot {
        let mut inline = [0u8; PartySlot::INLINE];
        let len = match inline.get_mut(..id.len()) {
            Some(dst) => {
                dst.copy_from_slice(id);
                id.len() as u8
            }
            None => PartySlot::LONG,
        };
        PartySlot { party, len, inline }
    }

    fn id<'k>(&'k self, keys: &'k KeyStore) -> &'k [u8] {
        match self.inline.get(..self.len as usize) {
            Some(id) if self.len != PartySlot::LONG => id,
            _ => keys.get(self.party).as_bytes(),
        }
    }

    /// Whether the slot holds the id of which `probe` is the slot form (see [`PartySlot::new`]).
    fn is(&self, probe: &PartySlot, id: &[u8], keys: &KeyStore) -> bool {
        if probe.len != PartySlot::LONG {
            // Whole fixed-size arrays: compared in registers, without a call to memcmp.
            self.len == probe.len && self.inline == probe.inline
        } else {
            self.len == PartySlot::LONG && keys.get(self.party).as_bytes() == id
        }
    }
}

fn party_hash(id: &[u8]) -> usize {
    xxhash_rust::xxh3::xxh3_64(id) as usize
}

impl PartyIds {
    /// The slot that holds `id` (`Ok`), or the vacant one where it would go (`Err`). The table must have
    /// a vacant slot, as it always has once it has any.
    fn find(&self, id: &[u8], probe: &PartySlot) -> Result<usize, usize> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = party_hash(id) & mask;
        for _ in 0..self.slots.len() {
            let Some(s) = self.slots.get(i) else { break };
            if s.party == PartySlot::VACANT {
                return Err(i);
            }
            if s.is(probe, id, &self.keys) {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
        Err(usize::MAX)
    }

    /// Room for one more entry, the table staying at most half full.
    fn reserve_one(&mut self) {
        if (self.len + 1) * 2 <= self.slots.len() {
            return;
        }
        let n = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![PartySlot::EMPTY; n]);
        for s in old.into_iter().filter(|s| s.party != PartySlot::VACANT) {
            let mut i = party_hash(s.id(&self.keys)) & (n - 1);
            while self
                .slots
                .get(i)
                .is_some_and(|t| t.party != PartySlot::VACANT)
            {
                i = (i + 1) & (n - 1);
            }
            if let Some(t) = self.slots.get_mut(i) {
                *t = s;
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<PartyId> {
        if self.slots.is_empty() {
            return None;
        }
        let id = id.as_bytes();
        let i = self.find(id, &PartySlot::new(0, id)).ok()?;
        self.slots.get(i).map(|s| PartyId::new(s.party))
    }

    /// Reads the slots where the look-ups of `ids` (up to 64) start, one right after the other: the
    /// look-ups that follow then find them in cache, and the reads went to memory side by side instead of
    /// each waiting for the one before.
    pub(crate) fn prefetch<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = [0usize; 64];
        let mut n = 0;
        for (dst, id) in at.iter_mut().zip(ids) {
            *dst = party_hash(id.as_bytes()) & mask;
            n += 1;
        }
        let mut seen = 0u32;
        for &i in &at[..n] {
            seen ^= self.slots.get(i).map_or(0, |s| s.party);
        }
        std::hint::black_box(seen);
    }

    /// Files the next party under `id`, unless a party already has it: then that party is the error.
    pub(crate) fn claim(&mut self, id: &str) -> Result<(), PartyId> {
        let party = self.keys.ends.len() as u32;
        self.reserve_one();
        let b = id.as_bytes();
        let slot = PartySlot::new(party, b);
        match self.find(b, &slot) {
            Ok(i) => return Err(PartyId::new(self.slots.get(i).map_or(0, |s| s.party))),
            Err(i) => {
                self.keys.push(id);
                if let Some(t) = self.slots.get_mut(i) {
                    *t = slot;
                    self.len += 1;
                }
            }
        }
        Ok(())
    }

    /// Indexes every party, a later party taking the id from an earlier one.
    fn rebuild(parties: &[Party]) -> PartyIds {
        let mut ix = PartyIds::default();
        for (i, p) in parties.iter().enumerate() {
            ix.keys.push(&p.id);
            ix.reserve_one();
            let b = p.id.as_bytes();
            let slot = PartySlot::new(i as u32, b);
            match ix.find(b, &slot) {
                Ok(j) | Err(j) => {
                    if let Some(t) = ix.slots.get_mut(j) {
                        if t.party == PartySlot::VACANT {
                            ix.len += 1;
                        }
                        *t = slot;
                    }
                }
            }
        }
        ix
    }
}

fn shipment_key<'a>(shipments: &[Shipment], text: &'a Arena, i: u32) -> &'a str {
    shipments.get(i as usize).map_or("", |s| text.get(s.id))
}

/// A whole dataset: every accepted row of every file of every `--data` directory.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Dataset {
    pub files: Vec<SourceFile>,
    pub stats: Vec<FileStats>,
    pub parties: Vec<Party>,
    pub shipments: Vec<Shipment>,
    pub flows: Vec<TradeFlow>,
    pub links: Vec<SupplierLink>,
    pub watchlist: Vec<WatchEntry>,
    /// (currency, period) -> USD per unit.
    pub rates: Vec<([u8; 3], Period, Decimal)>,
    pub text: Arena,
    /// Rejected rows (only with `--skip-invalid`; otherwise loading fails).
    pub rejections: Vec<Rejection>,
    #[serde(skip)]
    party_ids: PartyIds,
    /// Built on the first look-up: a batch run never looks a shipment up by id, and the loader needs no
    /// index while the ids come in ascending order.
    #[serde(skip)]
    shipment_index: std::sync::OnceLock<IdIndex>,
    /// Shipments in id order, when a snapshot supplied it: a binary search through it replaces
    /// `shipment_index`, which would cost a load more than everything else.
    #[serde(skip)]
    shipment_order: Vec<ShipmentId>,
}

/// Row numbers by id. The ids themselves stay where the rows keep them (a party's `id`, the text arena), so
/// a million shipment ids cost eight bytes each here instead of a second heap copy of every id. Each entry
/// keeps 32 bits of its id's hash: probes and growth then touch the rows only for a likely match, not for
/// every neighbour in the table (each such touch is a cache miss into a large array).
#[derive(Clone, Default)]
pub(crate) struct IdIndex {
    table: hashbrown::HashTable<(u32, u32)>,
    state: hashbrown::DefaultHashBuilder,
}

impl fmt::Debug for IdIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdIndex({} ids)", self.table.len())
    }
}

/// The table's hash for a stored 32-bit hash: the same bits serve for the bucket (low) and the tag (high).
fn spread(h: u32) -> u64 {
    (h as u64) << 32 | h as u64
}

impl IdIndex {
    fn hash(&self, id: &str) -> u32 {
        (self.state.hash_one(id) >> 32) as u32
    }

    /// The row holding `id`, where `key` gives the id of a row already in the index.
    pub(crate) fn get<'k>(&self, id: &str, key: impl Fn(u32) -> &'k str) -> Option<u32> {
        let h = self.hash(id);
        self.table
            .find(spread(h), |&(j, hj)| hj == h && key(j) == id)
            .map(|&(j, _)| j)
    }

    /// Files row `i` under `id`, unless a row already holds it: then that row is the error.
    pub(crate) fn claim<'k>(
        &mut self,
        id: &str,
        i: u32,
        key: impl Fn(u32) -> &'k str,
    ) -> Result<(), u32> {
        let h = self.hash(id);
        match self.table.entry(
            spread(h),
            |&(j, hj)| hj == h && key(j) == id,
            |&(_, hj)| spread(hj),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => Err(e.get().0),
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert((i, h));
                Ok(())
            }
        }
    }

    /// Indexes every row, a later row taking the id from an earlier one.
    pub(crate) fn rebuild<'k>(n: usize, key: impl Fn(u32) -> &'k str) -> IdIndex {
        let mut ix = IdIndex::default();
        ix.table.reserve(n, |&(_, hj)| spread(hj));
        for i in 0..n as u32 {
            let id = key(i);
            let h = ix.hash(id);
            match ix.table.entry(
                spread(h),
                |&(j, hj)| hj == h && key(j) == id,
                |&(_, hj)| spread(hj),
            ) {
                hashbrown::hash_table::Entry::Occupied(mut e) => e.get_mut().0 = i,
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert((i, h));
                }
            }
        }
        ix
    }
}

impl Dataset {
    /// Rebuilds the lookup tables that are not stored in a snapshot.
    pub fn reindex(&mut self) {
        self.party_ids = PartyIds::rebuild(&self.parties);
        self.shipment_index = std::sync::OnceLock::new();
        self.shipment_order = Vec::new();
    }

    /// Like [`Dataset::reindex`], with shipments looked up through `order` (every shipment, sorted by (id,
    /// index)) instead of a hash map. Refused (false) when an entry is out of range; the order itself is
    /// trusted (a snapshot's checksum covers it), as checking it would cost a string comparison per row.
    pub fn reindex_sorted(&mut self, order: Vec<ShipmentId>) -> bool {
        let n = self.shipments.len();
        if order.len() != n || order.iter().any(|&i| i.index() >= n) {
            return false;
        }
        self.party_ids = PartyIds::rebuild(&self.parties);
        self.shipment_index = std::sync::OnceLock::new();
        self.shipment_order = order;
        true
    }

    /// Shipment indices sorted by (id, index): what [`Dataset::reindex_sorted`] takes.
    pub fn shipment_order(&self) -> Vec<ShipmentId> {
        use rayon::prelude::*;
        if !self.shipment_order.is_empty() {
            return self.shipment_order.clone();
        }
        let n = self.shipments.len();
        let id = |i: ShipmentId| self.shipment_id(self.shipment(i));
        // Files usually list shipments in id order: one look confirms it and saves the sort.
        if (1..n as u32).all(|i| id(ShipmentId::new(i - 1)) <= id(ShipmentId::new(i))) {
            return ShipmentId::all(n).collect();
        }
        let mut order: Vec<ShipmentId> = ShipmentId::all(n).collect();
        // (id, index) is a total order, so the unstable parallel sort is deterministic.
        order.par_sort_unstable_by(|&a, &b| id(a).cmp(id(b)).then(a.cmp(&b)));
        order
    }

    /// Per shipment, its place in (id, index) order. Sorts that break ties by shipment id compare these
    /// integers instead of strings, which at ten million rows is most of their cost.
    pub fn shipment_ranks(&self) -> Vec<u32> {
        let order = self.shipment_order();
        let mut rank = vec![0u32; order.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i.index()] = r as u32;
        }
        rank
    }

    /// In strict mode (no `--skip-invalid`), any rejected row is an error listing the first 50.
    pub fn ensure_valid(&self, skip_invalid: bool) -> Result<(), DatasetError> {
        if skip_invalid || self.rejections.is_empty() {
            return Ok(());
        }
        Err(DatasetError::Rejected {
            count: self.rejections.len(),
            first: self.rejections.iter().take(50).cloned().collect(),
        })
    }

    pub fn party_by_id(&self, id: &str) -> Option<PartyId> {
        self.party_ids.get(id)
    }

    pub fn shipment_by_id(&self, id: &str) -> Option<ShipmentId> {
        if self.shipment_order.is_empty() {
            let key = |i| shipment_key(&self.shipments, &self.text, i);
            return self
                .shipment_index
                .get_or_init(|| IdIndex::rebuild(self.shipments.len(), key))
                .get(id, key)
                .map(ShipmentId::new);
        }
        // The last of equal ids, as the index (filled in row order) keeps it.
        let key = |i: &ShipmentId| self.shipment_id(self.shipment(*i));
        let end = self.shipment_order.partition_point(|i| key(i) <= id);
        let last = *self.shipment_order.get(end.checked_sub(1)?)?;
        (key(&last) == id).then_some(last)
    }

    pub fn party(&self, p: PartyId) -> &Party {
        &self.parties[p.index()]
    }

    pub fn shipment(&self, s: ShipmentId) -> &Shipment {
        &self.shipments[s.index()]
    }

    pub fn link(&self, l: LinkId) -> &SupplierLink {
        &self.links[l.index()]
    }

    pub fn flow(&self, f: FlowId) -> &TradeFlow {
        &self.flows[f.index()]
    }

    pub fn shipment_id(&self, s: &Shipment) -> &str {
        self.text.get(s.id)
    }

    pub fn flow_id(&self, f: &TradeFlow) -> &str {
        self.text.get(f.id)
    }

    /// `FILE:LINE` of a record, with the file as the user named it.
    pub fn rec_path(&self, r: Rec) -> String {
        match self.files.get(r.file as usize) {
            Some(f) => format!("{}:{}", f.path, r.line),
            None => format!("?:{}", r.line),
        }
    }

    /// `DATASET/FILE:LINE`: the short, stable form used as a default id.
    pub fn rec_id(&self, r: Rec) -> String {
        match self.files.get(r.file as usize) {
            Some(f) => format!("{}/{}:{}", f.dataset, f.name, r.line),
            None => format!("?:{}", r.line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_print_and_serialize_flat() {
        let r = Rejection {
            at: Position::new("d/shipments.csv", 7, "hs_code"),
            reason: "bad \u{1b}[31m code".into(),
            raw: "S1,x".into(),
        };
        assert_eq!(r.to_string(), "d/shipments.csv:7: hs_code: bad  [31m code");
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"file":"d/shipments.csv","line":7,"column":"hs_code","reason":"bad \u001b[31m code","raw":"S1,x"}"#
        );
        assert_eq!(serde_json::from_str::<Rejection>(&json).unwrap(), r);
        // Snapshots hold the flat record, field by field.
        let bytes = postcard::to_stdvec(&r).unwrap();
        let flat = (&r.at.file, r.at.line, &r.at.column, &r.reason, &r.raw);
        assert_eq!(bytes, postcard::to_stdvec(&flat).unwrap());
        assert_eq!(postcard::from_bytes::<Rejection>(&bytes).unwrap(), r);
        let e = FileError::DuplicateColumn {
            at: Position::header("d/parties.csv"),
            name: "name".into(),
        };
        assert_eq!(
            e.to_string(),
            "d/parties.csv:1: header: column 'name' appears twice"
        );
    }

    #[test]
    fn party_ids_find_what_they_filed() {
        // Short ids live in the entries, long ones in the key store; enough of them to grow the table.
        let id = |i: u32| match i % 3 {
            0 => format!("P{i}"),
            1 => format!("a-much-longer-party-id-{i}"),
            _ => format!("{i:011}"),
        };
        let mut ix = PartyIds::default();
        assert_eq!(ix.get("P0"), None);
        ix.prefetch(["P0"]);
        for i in 0..5000 {
            assert_eq!(ix.claim(&id(i)), Ok(()));
        }
        for i in (0..5000).step_by(7) {
            assert_eq!(ix.claim(&id(i)), Err(PartyId::new(i)));
        }
        ix.prefetch(
            (0..100)
                .map(id)
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str),
        );
        for i in 0..5000 {
            assert_eq!(ix.get(&id(i)), Some(PartyId::new(i)));
        }
        for missing in ["", "P", "P5001", "a-much-longer-party-id-", "000000000001"] {
            assert_eq!(ix.get(missing), None, "{missing}");
        }
        // A rebuild from parties gives a repeated id to the later party.
        let party = |id: String| Party {
            id,
            name: "n".into(),
            country: Country(*b"CN"),
            region: None,
            city: None,
            aliases: Vec::new(),
            identifiers: Vec::new(),
            rec: Rec { file: 0, line: 0 },
        };
        let parties: Vec<Party> = (0..300).chain(0..10).map(|i| party(id(i))).collect();
        let ix = PartyIds::rebuild(&parties);
        for i in 0..300 {
            assert_eq!(
                ix.get(&id(i)),
                Some(PartyId::new(if i < 10 { 300 + i } else { i }))
            );
        }
    }
}
