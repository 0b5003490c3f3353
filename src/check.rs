//! `check`: read and validate everything; per-file accounting, unknown columns, superseded statistics rows,
//! problems, and a summary of what the dataset holds.

use crate::codes::Date;
use crate::dataset::{Dataset, FileStats, Rejection};
use crate::query::money;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write;
use std::hash::BuildHasherDefault;

type FxSet<T> = HashSet<T, BuildHasherDefault<crate::fxhash::FxHasher>>;

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
}

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
    let mut countries = FxSet::default();
    let mut regions = FxSet::default();
    let mut headings = FxSet::default();
    for p in &ds.parties {
        countries.insert(p.country);
        if let Some(r) = p.region {
            regions.insert(r);
        }
    }
    for f in &ds.flows {
        countries.insert(f.reporter);
        countries.insert(f.partner);
        if let Some(r) = f.region {
            regions.insert(r);
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
    }
}

pub fn check_text(c: &CheckReport) -> String {
    let mut o = String::new();
    let w = c
        .files
        .iter()
        .map(|f| f.file.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        o,
        "{:<w$}  {:>9}  {:>9}  {:>9}  unknown columns",
        "file", "read", "accepted", "rejected"
    );
    for f in &c.files {
        let _ = writeln!(
            o,
            "{:<w$}  {:>9}  {:>9}  {:>9}  {}",
            f.file,
            f.read,
            f.accepted,
            f.rejected,
            f.unknown_columns.join(", ")
        );
    }
    let (r, a, j) = c.files.iter().fold((0, 0, 0), |acc, f| {
        (acc.0 + f.read, acc.1 + f.accepted, acc.2 + f.rejected)
    });
    let _ = writeln!(o, "{:<w$}  {:>9}  {:>9}  {:>9}", "total", r, a, j);
    let _ = writeln!(o);
    if c.superseded.is_empty() {
        let _ = writeln!(o, "Superseded statistics rows: none");
    } else {
        let _ = writeln!(
            o,
            "Superseded statistics rows (finer rows of the same reporter, region, partner and flow are used instead):"
        );
        for s in &c.superseded {
            let _ = writeln!(
                o,
                "  {} ({}): {} {}{} {} {} HS {} {} USD",
                s.flow_id,
                s.location,
                s.period,
                s.reporter,
                s.region
                    .as_ref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default(),
                s.flow,
                s.partner,
                s.hs_code,
                s.value_usd
            );
        }
    }
    let s = &c.summary;
    let _ = writeln!(o);
    let _ = writeln!(o, "Summary:");
    let _ = writeln!(o, "  parties          {}", s.parties);
    let _ = writeln!(
        o,
        "  shipments        {} ({}..{}), {} USD",
        s.shipments,
        s.first_date.clone().unwrap_or_else(|| "-".into()),
        s.last_date.clone().unwrap_or_else(|| "-".into()),
        s.shipment_value_usd
    );
    let _ = writeln!(o, "  statistics rows  {}", s.trade_flows);
    let _ = writeln!(o, "  supplier links   {}", s.supplier_links);
    let _ = writeln!(o, "  watchlist        {}", s.watchlist_entries);
    let _ = writeln!(
        o,
        "  countries        {} ({})",
        s.countries.len(),
        s.countries.join(" ")
    );
    let _ = writeln!(
        o,
        "  regions          {} ({})",
        s.regions.len(),
        s.regions.join(" ")
    );
    let _ = writeln!(
        o,
        "  HS headings      {} ({})",
        s.hs_headings.len(),
        s.hs_headings.join(" ")
    );
    if c.rejected > 0 {
        let _ = writeln!(o);
        let _ = writeln!(o, "Problems ({} rejected row(s)):", c.rejected);
        for p in &c.problems {
            let _ = writeln!(o, "  {p}");
        }
        if c.rejected > c.problems.len() {
            let _ = writeln!(o, "  … and {} more", c.rejected - c.problems.len());
        }
    }
    o
}
