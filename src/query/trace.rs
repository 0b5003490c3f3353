//! `trace SHIPMENT_ID`: one shipment's mix, flags and paths, every number tied to the rows behind it.

use super::{PartyJson, QueryError, money};
use crate::analysis::{Analysis, Scored, node_id, path_string};
use crate::codes::Date;
use crate::dataset::Dataset;
use crate::flags::Flag;
use crate::model::{EPS, Mix};
use crate::paths::{Hop, HopKind, Path, RecordRef};
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize, Clone, Debug)]
pub struct Grades {
    pub documented: f64,
    pub declared: f64,
    pub statistical: f64,
}

#[derive(Serialize, Clone, Debug)]
pub struct Exposure {
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    pub coverage: f64,
    pub by_evidence: Grades,
    pub clean_by_evidence: Grades,
    /// `[sanctioned, sanctioned + unknown]`.
    pub interval: [f64; 2],
}

impl Exposure {
    pub fn of(m: &Mix) -> Exposure {
        Exposure {
            sanctioned: m.sanctioned(),
            clean: m.clean(),
            unknown: m.u,
            coverage: m.coverage(),
            by_evidence: Grades {
                documented: m.s[0],
                declared: m.s[1],
                statistical: m.s[2],
            },
            clean_by_evidence: Grades {
                documented: m.c[0],
                declared: m.c[1],
                statistical: m.c[2],
            },
            interval: [m.sanctioned(), (m.sanctioned() + m.u).min(1.0)],
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct HopJson {
    pub from: String,
    pub to: String,
    pub kind: &'static str,
    pub date: Option<String>,
    pub hs_code: Option<String>,
    pub value_usd: Option<String>,
    pub records: Vec<String>,
    /// `FILE:LINE` of each record, in the order of `records`.
    pub locations: Vec<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct PathJson {
    pub share: f64,
    pub grade: &'static str,
    pub nodes: String,
    pub hops: Vec<HopJson>,
}

#[derive(Serialize, Clone, Debug)]
pub struct PoolJson {
    pub scope: String,
    pub window: String,
    pub sanctioned_imports_usd: String,
    pub unknown_imports_usd: String,
    pub imports_usd: String,
    pub exports_usd: String,
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    pub rest_of_country: Option<Box<PoolJson>>,
}

#[derive(Serialize, Clone, Debug)]
pub struct TraceJson {
    pub shipment_id: String,
    pub date: String,
    pub hs_code: String,
    pub value_usd: String,
    pub value: String,
    pub currency: String,
    pub origin_country: Option<String>,
    pub shipper: PartyJson,
    pub consignee: PartyJson,
    pub exposure: Exposure,
    pub reachable: bool,
    pub severity: &'static str,
    pub flags: Vec<Flag>,
    pub paths: Vec<PathJson>,
    pub paths_truncated: bool,
    pub paths_found: usize,
    pub pool: Option<PoolJson>,
    pub window: String,
}

fn record_id(ds: &Dataset, r: RecordRef) -> (String, String) {
    match r {
        RecordRef::Shipment(i) => {
            let s = &ds.shipments[i as usize];
            (ds.shipment_id(s).to_string(), ds.rec_path(s.rec))
        }
        RecordRef::Link(i) => {
            let l = &ds.links[i as usize];
            (l.id.clone(), ds.rec_path(l.rec))
        }
        RecordRef::Flow(i) => {
            let f = &ds.flows[i as usize];
            (ds.flow_id(f).to_string(), ds.rec_path(f.rec))
        }
    }
}

fn range(mut v: Vec<String>) -> Option<String> {
    v.sort();
    v.dedup();
    match (v.first(), v.last()) {
        (Some(a), Some(b)) if a == b => Some(a.clone()),
        (Some(a), Some(b)) => Some(format!("{a}..{b}")),
        _ => None,
    }
}

/// The HS code of a hop: the code when all its records share it, else the distinct codes joined by `/`.
fn hop_hs(mut codes: Vec<crate::codes::Hs>) -> Option<String> {
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return None;
    }
    Some(
        codes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// The JSON form of a hop.
pub fn hop_json(ds: &Dataset, h: &Hop, window: &str, heading: &str) -> HopJson {
    let mut dates = Vec::new();
    let mut codes = Vec::new();
    let mut records = Vec::new();
    let mut locations = Vec::new();
    let mut total = rust_decimal::Decimal::ZERO;
    for (r, v) in &h.records {
        let (id, loc) = record_id(ds, *r);
        records.push(id);
        locations.push(loc);
        total += *v;
        match r {
            RecordRef::Shipment(i) => {
                let s = &ds.shipments[*i as usize];
                dates.push(s.date.to_string());
                codes.push(s.hs);
            }
            RecordRef::Flow(i) => {
                let f = &ds.flows[*i as usize];
                dates.push(f.period.to_string());
                codes.push(f.hs);
            }
            RecordRef::Link(i) => {
                let l = &ds.links[*i as usize];
                let from = l
                    .valid_from
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "open".into());
                let to = l
                    .valid_to
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "open".into());
                if l.valid_from.is_some() || l.valid_to.is_some() {
                    dates.push(format!("{from}..{to}"));
                }
                codes.push(l.hs);
            }
        }
    }
    let pool = matches!(h.kind, HopKind::RegionalPool | HopKind::NationalPool);
    HopJson {
        from: node_id(ds, h.from),
        to: node_id(ds, h.to),
        kind: h.kind.as_str(),
        date: if pool {
            (!window.is_empty()).then(|| window.to_string())
        } else {
            range(dates)
        },
        hs_code: if pool {
            (!heading.is_empty()).then(|| heading.to_string())
        } else {
            hop_hs(codes)
        },
        value_usd: matches!(h.kind, HopKind::Shipment | HopKind::TradeFlow).then(|| money(total)),
        records,
        locations,
    }
}

/// The JSON form of a path.
pub fn path_json(ds: &Dataset, p: &Path, window: &str, heading: &str) -> PathJson {
    PathJson {
        share: p.share,
        grade: p.grade.as_str(),
        nodes: path_string(ds, p),
        hops: p
            .hops
            .iter()
            .map(|h| hop_json(ds, h, window, heading))
            .collect(),
    }
}

fn window_of(a: &Analysis, date: Date) -> String {
    format!("{}..{}", date.add_days(-a.st().lag_days), date.add_days(-1))
}

impl PoolJson {
    /// The figures of a pool over `window`, with the rest of the country its remainder takes.
    pub fn of(pl: &crate::pool::Pool, window: String) -> PoolJson {
        let figures =
            |scope: String, f: &crate::pool::Figures, m: crate::pool::PoolMix, rest| PoolJson {
                scope,
                window: window.clone(),
                sanctioned_imports_usd: money(f.s_total()),
                unknown_imports_usd: money(f.unknown),
                imports_usd: money(f.imports),
                exports_usd: money(f.exports),
                sanctioned: m.sanctioned,
                clean: m.clean,
                unknown: m.unknown,
                rest_of_country: rest,
            };
        let rest = pl.rest.as_ref().map(|r| {
            let m = crate::pool::shares(r, crate::pool::CLEAN);
            Box::new(figures(format!("rest of {}", pl.reporter), r, m, None))
        });
        let scope = match pl.scope {
            crate::pool::Scope::Region(r) => format!("region {r}"),
            _ => format!("national {}", pl.reporter),
        };
        figures(scope, &pl.own, pl.mix, rest)
    }
}

fn pool_json(a: &Analysis, ship: u32) -> Option<PoolJson> {
    let s = &a.ds().shipments[ship as usize];
    let pl = a.engine.party_pool(s.shipper, s.hs.heading(), s.date)?;
    Some(PoolJson::of(&pl, window_of(a, s.date)))
}

/// Builds the trace of a shipment id, showing the top `k` paths.
pub fn trace(a: &Analysis, shipment_id: &str, k: usize) -> Result<TraceJson, QueryError> {
    let ds = a.ds();
    let ship = ds
        .shipment_by_id(shipment_id)
        .ok_or_else(|| QueryError::UnknownShipment(shipment_id.to_string()))?;
    let sc = a.score(ship);
    Ok(trace_of(a, &sc, k))
}

/// The trace of a scored shipment.
pub fn trace_of(a: &Analysis, sc: &Scored, k: usize) -> TraceJson {
    let ds = a.ds();
    let s = &ds.shipments[sc.ship as usize];
    let window = window_of(a, s.date);
    let heading = s.hs.heading().to_string();
    TraceJson {
        shipment_id: ds.shipment_id(s).to_string(),
        date: s.date.to_string(),
        hs_code: s.hs.to_string(),
        value_usd: money(s.value_usd),
        value: money(s.value),
        currency: String::from_utf8_lossy(&s.currency).into_owned(),
        origin_country: s.origin.map(|c| c.to_string()),
        shipper: PartyJson::of(ds, s.shipper),
        consignee: PartyJson::of(ds, s.consignee),
        exposure: Exposure::of(&sc.outcome.mix),
        reachable: sc.outcome.reachable,
        severity: sc.severity.as_str(),
        flags: sc.flags.clone(),
        paths: sc
            .paths
            .iter()
            .take(k)
            .map(|p| path_json(ds, p, &window, &heading))
            .collect(),
        paths_truncated: sc.truncated || sc.paths.len() > k,
        paths_found: sc.paths.len(),
        pool: pool_json(a, sc.ship),
        window,
    }
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// The trace for a person: the verdict first, then the paths, then the records to open.
pub fn trace_text(t: &TraceJson) -> String {
    let mut o = String::new();
    let e = &t.exposure;
    let _ = writeln!(
        o,
        "Shipment {}  {}  HS {}  {} USD",
        t.shipment_id, t.date, t.hs_code, t.value_usd
    );
    let _ = writeln!(
        o,
        "  from {} ({}{})",
        t.shipper.name,
        t.shipper.party_id,
        t.shipper.place()
    );
    let _ = writeln!(
        o,
        "  to   {} ({}{})",
        t.consignee.name,
        t.consignee.party_id,
        t.consignee.place()
    );
    if let Some(c) = &t.origin_country {
        let _ = writeln!(o, "  declared origin {c}");
    }
    let _ = writeln!(o);
    let verdict = if e.sanctioned > EPS {
        "MAY CARRY SANCTIONED INPUTS"
    } else if e.unknown > EPS {
        "no sanctioned input found, but part of the inputs is unknown"
    } else {
        "no sanctioned input found"
    };
    let _ = writeln!(o, "Verdict: {verdict} — severity {}", t.severity);
    let _ = writeln!(
        o,
        "  exposure {} to {} (sanctioned {}, unknown {}, clean {})",
        pct(e.interval[0]),
        pct(e.interval[1]),
        pct(e.sanctioned),
        pct(e.unknown),
        pct(e.clean)
    );
    let _ = writeln!(
        o,
        "  sanctioned by evidence: documented {}, declared {}, statistical {}",
        pct(e.by_evidence.documented),
        pct(e.by_evidence.declared),
        pct(e.by_evidence.statistical)
    );
    let _ = writeln!(
        o,
        "  coverage (firm-level evidence) {}; inputs counted from {}",
        pct(e.coverage),
        t.window
    );
    if t.reachable && e.sanctioned <= EPS {
        let _ = writeln!(
            o,
            "  a sanctioned source is linked to the chain, with no weight"
        );
    }
    let _ = writeln!(o);
    if t.flags.is_empty() {
        let _ = writeln!(o, "Flags: none");
    } else {
        let _ = writeln!(o, "Flags:");
        for f in &t.flags {
            let _ = writeln!(o, "  [{}] {}: {}", f.severity.as_str(), f.rule, f.detail);
        }
    }
    if let Some(p) = &t.pool {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Statistics pool ({}, {}): sanctioned imports {} USD, transit/re-imports {} USD, all relevant imports {} USD, exports {} USD -> sanctioned {}, clean {}, unknown {}",
            p.scope,
            p.window,
            p.sanctioned_imports_usd,
            p.unknown_imports_usd,
            p.imports_usd,
            p.exports_usd,
            pct(p.sanctioned),
            pct(p.clean),
            pct(p.unknown)
        );
        if let Some(r) = &p.rest_of_country {
            let _ = writeln!(
                o,
                "  domestic remainder takes the {}: sanctioned imports {} USD, imports {} USD, exports {} USD -> sanctioned {}",
                r.scope,
                r.sanctioned_imports_usd,
                r.imports_usd,
                r.exports_usd,
                pct(r.sanctioned)
            );
        }
    }
    let _ = writeln!(o);
    if t.paths.is_empty() && t.paths_truncated {
        // A cut search that found nothing says nothing about the sanctioned share (issue 14).
        let _ = writeln!(
            o,
            "Paths: none found, list cut (the search reached --max-paths, --max-hops or its work bound \
             before any path; see docs/security.md)"
        );
    } else if t.paths.is_empty() {
        let _ = writeln!(o, "Paths: none");
    } else {
        let _ = writeln!(
            o,
            "Paths from a sanctioned source ({} shown of {} found{}):",
            t.paths.len(),
            t.paths_found,
            if t.paths_truncated { ", list cut" } else { "" }
        );
        for (i, p) in t.paths.iter().enumerate() {
            let _ = writeln!(
                o,
                "  {}. {}  share {}  ({})",
                i + 1,
                p.nodes,
                pct(p.share),
                p.grade
            );
            for h in &p.hops {
                let value = h
                    .value_usd
                    .as_ref()
                    .map(|v| format!(", {v} USD"))
                    .unwrap_or_default();
                let date = h
                    .date
                    .as_ref()
                    .map(|d| format!(", {d}"))
                    .unwrap_or_default();
                let hs = h
                    .hs_code
                    .as_ref()
                    .map(|d| format!(", HS {d}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "     {} -> {}  {}{}{}{}",
                    h.from, h.to, h.kind, date, hs, value
                );
                if !h.records.is_empty() {
                    let shown: Vec<String> = h
                        .records
                        .iter()
                        .zip(&h.locations)
                        .take(6)
                        .map(|(r, l)| format!("{r} ({l})"))
                        .collect();
                    let more = if h.records.len() > 6 {
                        format!(" and {} more", h.records.len() - 6)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(o, "        records: {}{}", shown.join(", "), more);
                }
            }
        }
    }
    o
}
