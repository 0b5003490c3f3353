//! `check`: read and validate everything; per-file accounting, unknown columns, superseded statistics rows,
//! problems, and a summary of what the dataset holds.

use crate::data::codes::{Country, Date, Hs};
use crate::data::dataset::{Dataset, FileStats, Rejection};
use crate::util::fmt::money;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasherDefault;

type FxSet<T> = HashSet<T, BuildHasherDefault<crate::util::fxhash::FxHasher>>;

#[derive(Serialize, Debug)]
pub struct Superseded {
    pub flow_id: String,
    pub location: String,
    pub period: String,
    pub reporter: String,
    pub region: Option<String>,
    pub partner: String,
    pub flow: &'static str,
    pub hs_code: String,
    pub value_usd: String,
}

#[derive(Serialize, Debug)]
pub struct CheckSummary {
    pub parties: usize,
    pub shipments: usize,
    pub trade_flows: usize,
    pub supplier_links: usize,
    pub watchlist_entries: usize,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub countries: Vec<String>,
    pub regions: Vec<String>,
    pub hs_headings: Vec<String>,
    pub shipment_value_usd: String,
}

#[derive(Serialize, Debug)]
pub struct CheckReport {
    pub files: Vec<FileStats>,
    pub superseded: Vec<Superseded>,
    pub summary: CheckSummary,
    pub rejected: usize,
    pub problems: Vec<Rejection>,
    /// The settings the data would be scored under, set by the caller that knows them (where they came
    /// from is on stderr: a snapshot and its CSV files give the same table).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<crate::data::settings::Settings>,
    /// Pairs of parties that are probably one firm (see [`probable_duplicates`]).
    pub probable_duplicates: Vec<ProbableDuplicate>,
}

/// Two parties the entity matcher calls one firm: for a person to merge them or mark them different in
/// `entity_map.csv`.
#[derive(Serialize, Debug)]
pub struct ProbableDuplicate {
    pub party_a: String,
    pub name_a: String,
    pub party_b: String,
    pub name_b: String,
    pub score: f64,
    /// The matcher's rule: `identifier`, `name` or `address`.
    pub basis: &'static str,
}

/// Parties across sources that the matcher (`import::entity`) calls one firm, best first. A party's city
/// stands for its address. Bounded: candidates share a rare name word or an identifier.
pub fn probable_duplicates(ds: &Dataset) -> Vec<ProbableDuplicate> {
    use crate::import::entity::{Firm, probable_duplicates as pairs};
    let firms: Vec<(String, Firm)> = ds
        .parties
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                Firm {
                    name: p.name.clone(),
                    country: Some(p.country),
                    address: p.city.clone().unwrap_or_default(),
                    identifiers: p.identifiers.clone(),
                },
            )
        })
        .collect();
    let mut out: Vec<ProbableDuplicate> = pairs(&firms)
        .into_iter()
        .map(|(a, b, d)| ProbableDuplicate {
            party_a: firms[a].0.clone(),
            name_a: firms[a].1.name.clone(),
            party_b: firms[b].0.clone(),
            name_b: firms[b].1.name.clone(),
            score: d.score,
            basis: d.basis,
        })
        .collect();
    out.sort_by(|x, y| {
        y.score
            .partial_cmp(&x.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| (&x.party_a, &x.party_b).cmp(&(&y.party_a, &y.party_b)))
    });
    out
}

/// What `check` shows of a loaded dataset: its files' accounting, the superseded statistics rows, a summary
/// of what it holds, its problems and its probable duplicate parties.
pub fn check(ds: &Dataset) -> CheckReport {
    let superseded = ds
        .flows
        .iter()
        .filter(|f| f.superseded)
        .map(|f| Superseded {
            flow_id: ds.flow_id(f).to_string(),
            location: ds.rec_path(f.rec),
            period: f.period.to_string(),
            reporter: f.reporter.to_string(),
            region: f.region.map(|r| r.to_string()),
            partner: f.partner.to_string(),
            flow: f.flow.as_str(),
            hs_code: f.hs.to_string(),
            value_usd: money(f.value_usd),
        })
        .collect();
    // Codes are collected as codes and turned into text once each: a million rows name a few hundred.
    let mut countries = Seen::<Country>::new();
    let mut regions = FxSet::default();
    let mut headings = Seen::<Hs>::new();
    for p in &ds.parties {
        countries.insert(p.country);
        if let Some(r) = p.region {
            regions.insert(r);
        }
    }
    let mut last_region = None;
    for f in &ds.flows {
        countries.insert(f.reporter);
        countries.insert(f.partner);
        // Rows come grouped: a region is most often the one of the row before.
        if let Some(r) = f.region
            && last_region != Some(r)
        {
            regions.insert(r);
            last_region = Some(r);
        }
        headings.insert(f.hs.heading());
    }
    // One pass over the shipments, the largest table by far.
    let mut value = Decimal::ZERO;
    let mut dates: Option<(Date, Date)> = None;
    for s in &ds.shipments {
        headings.insert(s.hs.heading());
        value += s.value_usd;
        dates = Some(dates.map_or((s.date, s.date), |(lo, hi)| {
            (lo.min(s.date), hi.max(s.date))
        }));
    }
    let (countries, headings) = (countries.into_set(), headings.into_set());
    // Sorted as text, as the output has always been (a two-digit heading before its four-digit ones).
    fn sorted<T: ToString>(set: FxSet<T>) -> BTreeSet<String> {
        set.into_iter().map(|c| c.to_string()).collect()
    }
    let (countries, regions, headings) = (sorted(countries), sorted(regions), sorted(headings));
    let summary = CheckSummary {
        parties: ds.parties.len(),
        shipments: ds.shipments.len(),
        trade_flows: ds.flows.len(),
        supplier_links: ds.links.len(),
        watchlist_entries: ds.watchlist.len(),
        first_date: dates.map(|d| d.0.to_string()),
        last_date: dates.map(|d| d.1.to_string()),
        countries: countries.into_iter().collect(),
        regions: regions.into_iter().collect(),
        hs_headings: headings.into_iter().collect(),
        shipment_value_usd: money(value),
    };
    CheckReport {
        files: ds.stats.clone(),
        superseded,
        summary,
        rejected: ds.rejections.len(),
        problems: ds.rejections.iter().take(50).cloned().collect(),
        settings: None,
        probable_duplicates: probable_duplicates(ds),
    }
}

/// A set of small codes: those with a slot (see [`Slots`]) are a bit each, the rest go to a hash set.
/// Inserting is then setting a bit, for every statistics row and shipment.
struct Seen<T: Slots> {
    bits: Vec<u64>,
    other: FxSet<T>,
}

/// Codes that most often have a small number of their own.
trait Slots: Copy + Eq + std::hash::Hash {
    const SLOTS: usize;
    fn slot(self) -> Option<usize>;
    fn from_slot(i: usize) -> Self;
}

impl Slots for Country {
    const SLOTS: usize = 26 * 26;

    /// Two capitals, as every parsed country code is.
    fn slot(self) -> Option<usize> {
        let [a, b] = self.0;
        (a.is_ascii_uppercase() && b.is_ascii_uppercase())
            .then(|| (a - b'A') as usize * 26 + (b - b'A') as usize)
    }

    fn from_slot(i: usize) -> Self {
        Country([b'A' + (i / 26) as u8, b'A' + (i % 26) as u8])
    }
}

impl Slots for Hs {
    const SLOTS: usize = 11_100;

    /// Two to four digits, as every heading of a parsed code is.
    fn slot(self) -> Option<usize> {
        match self.len {
            2 if self.code < 100 => Some(self.code as usize),
            3 if self.code < 1_000 => Some(100 + self.code as usize),
            4 if self.code < 10_000 => Some(1_100 + self.code as usize),
            _ => None,
        }
    }

    fn from_slot(i: usize) -> Self {
        match i {
            0..100 => Hs {
                code: i as u64,
                len: 2,
            },
            100..1_100 => Hs {
                code: (i - 100) as u64,
                len: 3,
            },
            _ => Hs {
                code: (i - 1_100) as u64,
                len: 4,
            },
        }
    }
}

impl<T: Slots> Seen<T> {
    fn new() -> Self {
        Seen {
            bits: vec![0; T::SLOTS.div_ceil(64)],
            other: FxSet::default(),
        }
    }

    fn insert(&mut self, t: T) {
        match t
            .slot()
            .and_then(|i| Some((self.bits.get_mut(i / 64)?, i % 64)))
        {
            Some((w, b)) => *w |= 1 << b,
            None => {
                self.other.insert(t);
            }
        }
    }

    fn into_set(self) -> FxSet<T> {
        let mut set = self.other;
        for (w, &bits) in self.bits.iter().enumerate() {
            let mut b = bits;
            while b != 0 {
                set.insert(T::from_slot(w * 64 + b.trailing_zeros() as usize));
                b &= b - 1;
            }
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_codes_are_a_set() {
        let mut headings = Seen::<Hs>::new();
        let mut want = FxSet::default();
        for code in [
            "05",
            "0501",
            "670",
            "6704",
            "9999",
            "00",
            "000",
            "0000",
            "670420",
            "6704201234",
        ] {
            let h = Hs::parse(code).unwrap_or(Hs { code: 0, len: 2 });
            for h in [
                h,
                h.heading(),
                Hs { code: 123, len: 2 },
                Hs {
                    code: 10_000,
                    len: 4,
                },
            ] {
                headings.insert(h);
                want.insert(h);
            }
        }
        assert_eq!(headings.into_set(), want);
        let mut countries = Seen::<Country>::new();
        let mut want = FxSet::default();
        for c in [
            *b"CN",
            *b"AA",
            *b"ZZ",
            *b"kp",
            *b"C1",
            [0, 0],
            [255, b'A'],
            *b"CN",
        ] {
            countries.insert(Country(c));
            want.insert(Country(c));
        }
        assert_eq!(countries.into_set(), want);
    }
}
