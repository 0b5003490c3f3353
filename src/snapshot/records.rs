//! The fixed-size little-endian records of the bulk sections (shipments, statistics rows, outcomes, keys)
//! and their checks: each record's writer sits beside its reader, so a field added to one is seen missing
//! from the other in the same screen. A reader returns `None` for bytes no writer makes (out-of-range
//! numbers, scales, dates, shares), which [`super::Snapshot::from_bytes`] reports as a damaged section.

use super::*;

/// Bytes of one shipment record.
pub(super) const SHIP_LEN: usize = 12 + 4 + 4 + 4 + 9 + 16 + 3 + 16 + 17 + 12 + 17 + 3 + 12 * 3 + 8;
/// Bytes of one statistics-row record.
pub(super) const FLOW_LEN: usize = 12 + 8 + 2 + 7 + 2 + 1 + 9 + 16 + 3 + 16 + 17 + 12 + 12 + 8 + 1;
pub(super) const KEY_LEN: usize = 4 + 4 + 9;
pub(super) const OUTCOME_LEN: usize = 7 * 8 + 1 + 8 + 1 + 1 + 8;

/// Little-endian writer of fixed-size fields.
pub(super) struct W<'a>(pub(super) &'a mut Vec<u8>);

impl W<'_> {
    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    pub(super) fn dec(&mut self, d: Decimal) {
        self.bytes(&d.serialize());
    }
    pub(super) fn opt_dec(&mut self, d: Option<Decimal>) {
        self.u8(d.is_some() as u8);
        self.dec(d.unwrap_or_default());
    }
    pub(super) fn text(&mut self, t: Text) {
        self.u64(t.start());
        self.u32(t.len() as u32);
    }
    pub(super) fn hs(&mut self, h: Hs) {
        self.u64(h.code);
        self.u8(h.len);
    }
    pub(super) fn rec(&mut self, r: Rec) {
        self.u32(r.file);
        self.u32(r.line);
    }
}

/// Reader of what [`W`] wrote; `None` when the input ends early or a value is out of range.
pub(super) struct R<'a>(pub(super) &'a [u8]);

impl<'a> R<'a> {
    pub(super) fn arr<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (h, t) = self.0.split_first_chunk::<N>()?;
        self.0 = t;
        Some(*h)
    }
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (h, t) = self.0.split_at_checked(n)?;
        self.0 = t;
        Some(h)
    }
    pub(super) fn u8(&mut self) -> Option<u8> {
        Some(self.arr::<1>()?[0])
    }
    pub(super) fn flag(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    pub(super) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.arr()?))
    }
    pub(super) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.arr()?))
    }
    pub(super) fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }
    pub(super) fn dec(&mut self) -> Option<Decimal> {
        Some(Decimal::deserialize(self.arr()?))
    }
    pub(super) fn opt_dec(&mut self) -> Option<Option<Decimal>> {
        let some = self.flag()?;
        let d = self.dec()?;
        Some(some.then_some(d))
    }
    pub(super) fn text(&mut self) -> Option<Text> {
        let start = self.u64()?;
        Text::new(start, self.u32()? as u64)
    }
    pub(super) fn hs(&mut self) -> Option<Hs> {
        let code = self.u64()?;
        let len = self.u8()?;
        ((2..=10).contains(&len) && code < 10u64.pow(len as u32)).then_some(Hs { code, len })
    }
    pub(super) fn date(&mut self) -> Option<Date> {
        let d = Date(i32::from_le_bytes(self.arr()?));
        let (lo, hi) = date_range();
        (lo <= d && d <= hi).then_some(d)
    }
    pub(super) fn country(&mut self) -> Option<Country> {
        let c = self.arr::<2>()?;
        c.iter().all(u8::is_ascii_uppercase).then_some(Country(c))
    }
    pub(super) fn opt_country(&mut self) -> Option<Option<Country>> {
        let some = self.flag()?;
        let c = self.arr::<2>()?;
        if !some {
            return Some(None);
        }
        c.iter()
            .all(u8::is_ascii_uppercase)
            .then_some(Some(Country(c)))
    }
    pub(super) fn rec(&mut self) -> Option<Rec> {
        Some(Rec {
            file: self.u32()?,
            line: self.u32()?,
        })
    }
    /// A length-prefixed u32 array whose entries are all below `bound`.
    pub(super) fn u32s(&mut self, bound: usize) -> Option<Vec<u32>> {
        let n = usize::try_from(self.u64()?).ok()?;
        let b = self.take(n.checked_mul(4)?)?;
        let v: Vec<u32> = b
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let max = v.iter().copied().max().unwrap_or(0) as usize;
        (v.is_empty() || max < bound).then_some(v)
    }
    pub(super) fn done(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// The days a [`Date`] may hold (years 1000..=9999, as the loader accepts).
pub(super) fn date_range() -> (Date, Date) {
    (
        Date::from_ymd(crate::data::codes::MIN_YEAR, 1, 1),
        Date::from_ymd(crate::data::codes::MAX_YEAR, 12, 31),
    )
}

pub(super) fn write_ship(w: &mut W, s: &Shipment) {
    w.text(s.id);
    w.u32(s.date.0 as u32);
    w.u32(s.shipper.get());
    w.u32(s.consignee.get());
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

pub(super) fn read_ship(r: &mut R) -> Option<Shipment> {
    Some(Shipment {
        id: r.text()?,
        date: r.date()?,
        shipper: PartyId::new(r.u32()?),
        consignee: PartyId::new(r.u32()?),
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

pub(super) fn write_flow(w: &mut W, f: &TradeFlow) {
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

pub(super) fn read_flow(r: &mut R) -> Option<TradeFlow> {
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

pub(super) fn write_outcome(w: &mut W, o: &Outcome) {
    for x in o.mix.s.iter().chain(&o.mix.c).chain([&o.mix.u]) {
        w.u64(x.to_bits());
    }
    w.u8(o.reachable as u8);
    w.u64(o.marks.pattern);
    w.u8(o.marks.watch);
    w.u8(o.prevalence.is_some() as u8);
    w.u64(o.prevalence.unwrap_or(0.0).to_bits());
}

pub(super) fn read_outcome(r: &mut R) -> Option<Outcome> {
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
pub(super) fn share_ok(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

/// Decodes fixed-size records, refusing a section whose length is not a whole number of them.
pub(super) fn records<T>(
    b: &[u8],
    len: usize,
    mut one: impl FnMut(&mut R) -> Option<T>,
) -> Option<Vec<T>> {
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
pub(super) fn csr_ok<T>(off: &[u32], n: usize, list: &[T]) -> bool {
    off.len() == n + 1
        && off.first() == Some(&0)
        && off.windows(2).all(|w| w[0] <= w[1])
        && off.last().is_some_and(|&l| l as usize == list.len())
}
