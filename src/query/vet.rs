//! `vet PARTY`: a supplier's profile for an importer deciding whether to buy from it: who it is, what its
//! goods carry per heading, who supplies it and on what evidence, and what to ask it for.

use super::trace::Exposure;
use super::{QueryError, money, resolve_party};
use crate::analysis::Analysis;
use crate::codes::{Date, Hs};
use crate::flags::Severity;
use crate::model::{EPS, Key, Mix, Source};
use crate::screening::Hit;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Serialize, Debug)]
pub struct Identity {
    pub party_id: String,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub city: Option<String>,
    pub aliases: Vec<String>,
    pub identifiers: Vec<String>,
    pub located_in_sanctioned_country: bool,
}

#[derive(Serialize, Debug)]
pub struct Month {
    pub month: String,
    pub shipments: usize,
    pub value_usd: String,
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    pub coverage: f64,
}

#[derive(Serialize, Debug)]
pub struct HeadingProfile {
    pub heading: String,
    /// The mix of this heading if shipped on the as-of date.
    pub now: Exposure,
    pub shipments: usize,
    pub value_usd: String,
    pub months: Vec<Month>,
    pub pool: Option<super::trace::PoolJson>,
}

#[derive(Serialize, Debug)]
pub struct DocumentedSupplier {
    pub party_id: String,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub shipments: usize,
    pub value_usd: String,
    pub hs_codes: Vec<String>,
    pub first: String,
    pub last: String,
    /// Value-weighted mix of what it shipped to this party in the window.
    pub mix: Exposure,
}

#[derive(Serialize, Debug)]
pub struct DeclaredSupplier {
    pub link_id: String,
    pub supplier: String,
    pub hs_code: String,
    pub share: f64,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub source: Option<String>,
    pub mix: Exposure,
    pub basis: String,
}

#[derive(Serialize, Debug)]
pub struct FlagCount {
    pub rule: String,
    pub severity: Severity,
    pub shipments: usize,
}

#[derive(Serialize, Debug)]
pub struct VetJson {
    pub party: Identity,
    pub as_of: String,
    pub window: String,
    pub watchlist: Vec<Hit>,
    pub headings: Vec<HeadingProfile>,
    pub documented_suppliers: Vec<DocumentedSupplier>,
    pub declared_suppliers: Vec<DeclaredSupplier>,
    pub severity: Severity,
    pub flags: Vec<FlagCount>,
    pub next_steps: Vec<String>,
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// The vet of a party (id or name) as of a date (default: the last date in the data).
pub fn vet(a: &Analysis, party: &str, as_of: Option<Date>) -> Result<VetJson, QueryError> {
    let ds = a.ds();
    let e = &a.engine;
    let p = resolve_party(ds, party)?;
    let as_of = as_of
        .or_else(|| ds.shipments.iter().map(|s| s.date).max())
        .unwrap_or(Date(0));
    // Outputs "as of" a day count that day's inputs: the hypothetical output is the day after.
    let t = as_of.add_days(1);
    let lo = t.add_days(-a.st().lag_days);
    let pt = ds.party(p);
    let identity = Identity {
        party_id: pt.id.clone(),
        name: pt.name.clone(),
        country: pt.country.to_string(),
        region: pt.region.map(|r| r.to_string()),
        city: pt.city.clone(),
        aliases: pt.aliases.clone(),
        identifiers: pt.identifiers.clone(),
        located_in_sanctioned_country: e.is_sanctioned_party(p),
    };
    // Headings it ships, with its shipments up to the as-of date.
    let mut by_heading: BTreeMap<Hs, Vec<u32>> = BTreeMap::new();
    for &i in e.ix.outbound_of(p) {
        let s = &ds.shipments[i as usize];
        if s.date <= as_of {
            by_heading.entry(s.hs.heading()).or_default().push(i);
        }
    }
    let mut headings = Vec::new();
    let mut next_steps: Vec<String> = Vec::new();
    let mut flag_counts: BTreeMap<String, (Severity, usize)> = BTreeMap::new();
    let mut severity = Severity::None;
    for (h, ships) in &by_heading {
        let items = e.decompose_at(p, *h, t);
        let now_outcome = e.fold(
            &items,
            Key {
                date: t,
                party: p,
                heading: *h,
            },
        );
        let now = now_outcome.mix;
        let mut months: BTreeMap<String, (usize, Decimal, Mix, f64)> = BTreeMap::new();
        let mut total = Decimal::ZERO;
        for &i in ships {
            let s = &ds.shipments[i as usize];
            let (y, m, _) = s.date.ymd();
            let k = e.ix.key_of_shipment[i as usize];
            let mix = e.outcome(k).mix;
            let w = crate::pool::to_f64(s.value_usd);
            let entry = months.entry(format!("{y:04}-{m:02}")).or_insert((
                0,
                Decimal::ZERO,
                Mix::default(),
                0.0,
            ));
            entry.0 += 1;
            entry.1 += s.value_usd;
            entry.2.add_scaled(w, &mix);
            entry.3 += w;
            total += s.value_usd;
            // Flags come from the engine's marks; the rule counts need no path search.
            let sc = a.score_with(i, &crate::paths::PathSet::default());
            for f in &sc.flags {
                let c = flag_counts
                    .entry(f.rule.clone())
                    .or_insert((Severity::None, 0));
                c.0 = c.0.max(f.severity);
                c.1 += 1;
            }
            severity = severity.max(sc.severity);
        }
        let months = months
            .into_iter()
            .map(|(month, (n, v, mut mix, w))| {
                if w > 0.0 {
                    let inv = 1.0 / w;
                    let mut m = Mix::default();
                    m.add_scaled(inv, &mix);
                    mix = m;
                }
                Month {
                    month,
                    shipments: n,
                    value_usd: money(v),
                    sanctioned: mix.sanctioned(),
                    clean: mix.clean(),
                    unknown: mix.u,
                    coverage: mix.coverage(),
                }
            })
            .collect();
        let pool = e
            .party_pool(p, *h, t)
            .map(|pl| super::trace::PoolJson::of(&pl, format!("{lo}..{as_of}")));
        // What evidence is missing for this heading.
        let doc_weight: f64 = items
            .iter()
            .filter(|i| matches!(i.source, Source::Shipment { .. }))
            .map(|i| i.weight)
            .sum();
        let stat_weight: f64 = items
            .iter()
            .filter(|i| matches!(i.source, Source::Pool { .. } | Source::NoPool))
            .map(|i| i.weight)
            .sum();
        let inputs: Vec<String> = a
            .st()
            .input_prefixes(*h)
            .iter()
            .map(|x| x.to_string())
            .collect();
        if now.sanctioned() > EPS {
            next_steps.push(format!(
                "HS {h}: {} of its goods may carry sanctioned inputs (exposure {} to {}); do not buy until those paths are explained (run `trace` on its shipments to see them).",
                pct(now.sanctioned()),
                pct(now.sanctioned()),
                pct(now.sanctioned() + now.u)
            ));
        }
        if stat_weight > EPS {
            next_steps.push(format!(
                "HS {h}: {} of its inputs rests on no firm-level record; ask {} for supplier declarations (supplier, HS, share, origin) for its HS {} purchases.",
                pct(stat_weight),
                pt.name,
                inputs.join("/")
            ));
        }
        if doc_weight > EPS && doc_weight < 1.0 - EPS && stat_weight <= EPS && now.u > EPS {
            next_steps.push(format!(
                "HS {h}: its recorded inputs cover {} of its output value; ask for the purchase records of the rest, or set input_ratio for heading {h} if that is value added.",
                pct(doc_weight)
            ));
        }
        headings.push(HeadingProfile {
            heading: h.to_string(),
            now: Exposure::of(&now, now_outcome.prevalence),
            shipments: ships.len(),
            value_usd: money(total),
            months,
            pool,
        });
    }
    // Documented suppliers in the window.
    // Supplier -> (shipments, value, HS codes, first, last, value-weighted mix sum, weight).
    type Acc = (usize, Decimal, Vec<Hs>, Date, Date, Mix, f64);
    let mut sup: BTreeMap<u32, Acc> = BTreeMap::new();
    for &i in e.ix.inbound_of(p) {
        let s = &ds.shipments[i as usize];
        if s.date < lo || s.date > as_of {
            continue;
        }
        let mix = if e.is_direct(i) {
            Mix::sanctioned_at(crate::model::Grade::Documented)
        } else {
            e.outcome(e.ix.key_of_shipment[i as usize]).mix
        };
        let w = crate::pool::to_f64(s.value_usd);
        let en = sup.entry(s.shipper).or_insert((
            0,
            Decimal::ZERO,
            Vec::new(),
            s.date,
            s.date,
            Mix::default(),
            0.0,
        ));
        en.0 += 1;
        en.1 += s.value_usd;
        if !en.2.contains(&s.hs) {
            en.2.push(s.hs);
        }
        en.3 = en.3.min(s.date);
        en.4 = en.4.max(s.date);
        en.5.add_scaled(w, &mix);
        en.6 += w;
    }
    let mut documented_suppliers = Vec::new();
    for (q, (n, v, mut codes, first, last, mix, w)) in sup {
        let mut m = Mix::default();
        if w > 0.0 {
            m.add_scaled(1.0 / w, &mix);
        }
        codes.sort();
        let qp = ds.party(q);
        let weak = m.u + m.s[2] + m.c[2];
        if weak > 0.05 && !e.is_sanctioned_party(q) {
            next_steps.push(format!(
                "Ask {} ({}) for certificates of origin or its own supplier declarations for the HS {} it sold to {} ({} shipments, {} USD, {}..{}): {} of it is unknown or estimated.",
                qp.name,
                qp.id,
                codes.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("/"),
                pt.name,
                n,
                money(v),
                first,
                last,
                pct(weak)
            ));
        }
        if e.is_sanctioned_party(q) {
            next_steps.push(format!("{} ({}) is located in {}, a sanctioned origin: its deliveries are sanctioned inputs.", qp.name, qp.id, qp.country));
        }
        documented_suppliers.push(DocumentedSupplier {
            party_id: qp.id.clone(),
            name: qp.name.clone(),
            country: qp.country.to_string(),
            region: qp.region.map(|r| r.to_string()),
            shipments: n,
            value_usd: money(v),
            hs_codes: codes.iter().map(|c| c.to_string()).collect(),
            first: first.to_string(),
            last: last.to_string(),
            mix: Exposure::of(&m, None),
        });
    }
    documented_suppliers.sort_by(|a, b| {
        b.mix
            .sanctioned
            .total_cmp(&a.mix.sanctioned)
            .then_with(|| a.party_id.cmp(&b.party_id))
    });
    // Declared suppliers valid at the as-of date.
    let mut declared_suppliers = Vec::new();
    for &l in e.ix.links_of(p) {
        let link = &ds.links[l as usize];
        if !link.valid_at(t) && !link.valid_at(as_of) {
            continue;
        }
        let o = by_heading
            .keys()
            .find(|h| {
                a.st()
                    .input_prefixes(**h)
                    .iter()
                    .any(|x| x.overlaps(link.hs))
            })
            .copied()
            .unwrap_or(link.hs.heading());
        let src = e.link_source(l, o, t);
        let mix = e.source_mix(
            Key {
                date: t,
                party: p,
                heading: o,
            },
            &src,
        );
        let (supplier, basis) = match (&link.supplier, &src) {
            (crate::dataset::LinkSupplier::Country(c), Source::LinkSanctionedCountry { .. }) => (
                format!("country:{c}"),
                format!("{c} is a sanctioned origin"),
            ),
            (crate::dataset::LinkSupplier::Country(c), Source::LinkCountryPool { .. }) => (
                format!("country:{c}"),
                format!("{c}'s national statistics pool"),
            ),
            (crate::dataset::LinkSupplier::Country(c), _) => (
                format!("country:{c}"),
                "the declaration alone (no statistics for that country)".into(),
            ),
            (crate::dataset::LinkSupplier::Party(q), Source::LinkParty { ship, .. }) => {
                let s = &ds.shipments[*ship as usize];
                (
                    ds.party(*q).id.clone(),
                    format!(
                        "its latest shipment of the heading, {} on {}",
                        ds.shipment_id(s),
                        s.date
                    ),
                )
            }
            (crate::dataset::LinkSupplier::Party(q), Source::LinkSanctionedParty { .. }) => (
                ds.party(*q).id.clone(),
                "the supplier is located in a sanctioned country".into(),
            ),
            (crate::dataset::LinkSupplier::Party(q), _) => {
                next_steps.push(format!(
                    "Declaration {} names {} ({}) as supplier of HS {} but there is no shipment of it in the window: ask {} for its shipping records.",
                    link.id,
                    ds.party(*q).name,
                    ds.party(*q).id,
                    link.hs,
                    ds.party(*q).name
                ));
                (
                    ds.party(*q).id.clone(),
                    "no shipment of that supplier in the window: unknown".into(),
                )
            }
        };
        if matches!(
            src,
            Source::LinkSanctionedCountry { .. } | Source::LinkSanctionedParty { .. }
        ) {
            next_steps.push(format!("Declaration {} ({}) names a sanctioned origin for {} of its HS {} input: escalate.", link.id, link.source.clone().unwrap_or_default(), pct(link.share), link.hs));
        }
        declared_suppliers.push(DeclaredSupplier {
            link_id: link.id.clone(),
            supplier,
            hs_code: link.hs.to_string(),
            share: link.share,
            valid_from: link.valid_from.map(|d| d.to_string()),
            valid_to: link.valid_to.map(|d| d.to_string()),
            source: link.source.clone(),
            mix: Exposure::of(&mix, None),
            basis,
        });
    }
    let watchlist = a.hits.get(p as usize).cloned().unwrap_or_default();
    for h in &watchlist {
        let sev = if h.exact {
            Severity::High
        } else {
            Severity::Medium
        };
        severity = severity.max(sev);
        next_steps.insert(
            0,
            format!(
                "{} matches watchlist entry {} '{}' ({}): screen it before any purchase.",
                pt.name, h.entry_id, h.matched, h.why
            ),
        );
    }
    if by_heading.is_empty() {
        next_steps.push(format!("{} has no outbound shipment up to {as_of}: there is nothing to score; ask for its shipment records.", pt.name));
    }
    next_steps.dedup();
    Ok(VetJson {
        party: identity,
        as_of: as_of.to_string(),
        window: format!("{lo}..{as_of}"),
        watchlist,
        headings,
        documented_suppliers,
        declared_suppliers,
        severity,
        flags: flag_counts
            .into_iter()
            .map(|(rule, (severity, shipments))| FlagCount {
                rule,
                severity,
                shipments,
            })
            .collect(),
        next_steps,
    })
}

/// The vet for a person.
pub fn vet_text(v: &VetJson) -> String {
    let mut o = String::new();
    let p = &v.party;
    let _ = writeln!(o, "{} ({})", p.name, p.party_id);
    let _ = writeln!(
        o,
        "  {}{}{}",
        p.country,
        p.region
            .as_ref()
            .map(|r| format!(", {r}"))
            .unwrap_or_default(),
        p.city
            .as_ref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default()
    );
    if !p.aliases.is_empty() {
        let _ = writeln!(o, "  also known as: {}", p.aliases.join("; "));
    }
    if !p.identifiers.is_empty() {
        let _ = writeln!(o, "  identifiers: {}", p.identifiers.join("; "));
    }
    let _ = writeln!(
        o,
        "  as of {} (inputs counted from {}); overall severity {}",
        v.as_of,
        v.window,
        v.severity.as_str()
    );
    if p.located_in_sanctioned_country {
        let _ = writeln!(
            o,
            "  LOCATED IN A SANCTIONED COUNTRY: everything it ships is a sanctioned input"
        );
    }
    let _ = writeln!(o);
    if v.watchlist.is_empty() {
        let _ = writeln!(o, "Watchlist: no match");
    } else {
        let _ = writeln!(o, "Watchlist:");
        for h in &v.watchlist {
            let _ = writeln!(
                o,
                "  {} '{}' [{}] score {:.2}: {}",
                h.entry_id,
                h.matched,
                h.program.clone().unwrap_or_default(),
                h.score,
                h.why
            );
        }
    }
    let _ = writeln!(o);
    for h in &v.headings {
        let e = &h.now;
        let _ = writeln!(
            o,
            "HS {}: {} shipments, {} USD; now sanctioned {}, unknown {}, clean {} (exposure {} to {}), coverage {}",
            h.heading,
            h.shipments,
            h.value_usd,
            pct(e.sanctioned),
            pct(e.unknown),
            pct(e.clean),
            pct(e.interval[0]),
            pct(e.interval[1]),
            pct(e.coverage)
        );
        for m in &h.months {
            let _ = writeln!(
                o,
                "  {}  {:>3} shipments  {:>14} USD  sanctioned {:>7}  unknown {:>7}  coverage {:>7}",
                m.month,
                m.shipments,
                m.value_usd,
                pct(m.sanctioned),
                pct(m.unknown),
                pct(m.coverage)
            );
        }
        if let Some(pl) = &h.pool {
            let _ = writeln!(
                o,
                "  pool {} ({}): sanctioned imports {} USD of {} USD imports, exports {} USD -> sanctioned {}",
                pl.scope,
                pl.window,
                pl.sanctioned_imports_usd,
                pl.imports_usd,
                pl.exports_usd,
                pct(pl.sanctioned)
            );
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Documented suppliers (shipments received {}):", v.window);
    if v.documented_suppliers.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for s in &v.documented_suppliers {
        let _ = writeln!(
            o,
            "  {} ({}, {}): {} shipments, {} USD, HS {}, {}..{}; sanctioned {}, unknown {}",
            s.name,
            s.party_id,
            s.region.clone().unwrap_or_else(|| s.country.clone()),
            s.shipments,
            s.value_usd,
            s.hs_codes.join("/"),
            s.first,
            s.last,
            pct(s.mix.sanctioned),
            pct(s.mix.unknown)
        );
    }
    let _ = writeln!(o, "Declared suppliers:");
    if v.declared_suppliers.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for d in &v.declared_suppliers {
        let _ = writeln!(
            o,
            "  {} {} HS {} share {}{}: sanctioned {}, unknown {} — {}",
            d.link_id,
            d.supplier,
            d.hs_code,
            d.share,
            d.source
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            pct(d.mix.sanctioned),
            pct(d.mix.unknown),
            d.basis
        );
    }
    let _ = writeln!(o);
    if !v.flags.is_empty() {
        let _ = writeln!(o, "Flags on its shipments:");
        for f in &v.flags {
            let _ = writeln!(
                o,
                "  [{}] {} on {} shipment(s)",
                f.severity.as_str(),
                f.rule,
                f.shipments
            );
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o, "Next steps:");
    if v.next_steps.is_empty() {
        let _ = writeln!(
            o,
            "  none: its inputs are covered by firm-level evidence and nothing sanctioned was found"
        );
    }
    for (i, s) in v.next_steps.iter().enumerate() {
        let _ = writeln!(o, "  {}. {}", i + 1, s);
    }
    o
}
