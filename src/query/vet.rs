//! `vet PARTY`: a supplier's profile for an importer deciding whether to buy from it: who it is, what its
//! goods carry per heading, who supplies it and on what evidence, and what to ask it for.

use super::trace::Exposure;
use super::{QueryError, resolve_party};
use crate::data::codes::{Date, Hs};
use crate::data::dataset::{PartyId, ShipmentId};
use crate::engine::analysis::Analysis;
use crate::engine::model::{EPS, Key, Mix, Source};
use crate::engine::rules::{self, Severity};
use crate::engine::screening::Hit;
use crate::util::fmt::{money, pct};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

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

/// A sanctioned counterparty (SPEC §3 v2): a party located in a sanctioned country that this party shipped
/// to or received from, with the records.
#[derive(Serialize, Debug, Clone)]
pub struct Counterparty {
    pub party_id: String,
    pub name: String,
    pub country: String,
    /// `shipped_to` or `received_from`, from the vetted party's side.
    pub direction: &'static str,
    pub shipments: usize,
    pub value_usd: String,
    pub hs_codes: Vec<String>,
    pub first: String,
    pub last: String,
    /// `SHIPMENT_ID (FILE:LINE)` of each record.
    pub records: Vec<String>,
}

/// What the party bought: its inbound shipments in the window, their value-weighted mix and their flags —
/// the whole profile of an importer.
#[derive(Serialize, Debug)]
pub struct Bought {
    pub window: String,
    pub shipments: usize,
    pub value_usd: String,
    /// Value-weighted mix of what it bought.
    pub mix: Exposure,
    /// The highest flag of any of those shipments.
    pub severity: Severity,
    pub flags: Vec<FlagCount>,
    /// Its most exposed purchases (highest severity, then sanctioned share), at most ten.
    pub flagged: Vec<BoughtShipment>,
}

#[derive(Serialize, Debug)]
pub struct BoughtShipment {
    pub shipment_id: String,
    pub date: String,
    pub supplier: String,
    pub hs_code: String,
    pub value_usd: String,
    pub sanctioned: f64,
    pub severity: Severity,
    pub flags: Vec<String>,
}

/// One reason behind the overall severity.
#[derive(Serialize, Debug)]
pub struct Finding {
    pub severity: Severity,
    pub what: String,
}

#[derive(Serialize, Debug)]
pub struct DocumentedSupplier {
    pub party_id: String,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub located_in_sanctioned_country: bool,
    /// The supplier's own watchlist hits, as text naming the listed entity.
    pub watchlist: Vec<String>,
    /// The supplier's own sanctioned counterparties in the counterparty window.
    pub counterparties: Vec<Counterparty>,
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
    /// The supplier's own watchlist hits (a party supplier), as text naming the listed entity.
    pub watchlist: Vec<String>,
    pub located_in_sanctioned_country: bool,
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
    /// The last date the data covers (shipments and statistics periods).
    pub data_end: String,
    /// Warnings about the profile itself (an as-of date past the data's end).
    pub warnings: Vec<String>,
    pub watchlist: Vec<Hit>,
    /// [`rules::hit_text`] of each watchlist hit: the listed entity, its list, id and program, what matched.
    pub watchlist_text: Vec<String>,
    /// Sanctioned counterparties in `[as_of + 1 − counterparty_days, as_of]`.
    pub counterparties: Vec<Counterparty>,
    pub headings: Vec<HeadingProfile>,
    pub bought: Bought,
    pub documented_suppliers: Vec<DocumentedSupplier>,
    pub declared_suppliers: Vec<DeclaredSupplier>,
    /// The highest severity of everything below: its shipments' flags, what it bought, its watchlist hits,
    /// its counterparties, its suppliers and its pool.
    pub severity: Severity,
    /// Why the severity is what it is, highest first.
    pub findings: Vec<Finding>,
    /// Flags raised on its own shipments, by rule.
    pub flags: Vec<FlagCount>,
    pub next_steps: Vec<String>,
}

/// The sanctioned counterparties of party `p` in `[lo, hi)`, one entry per (counterparty, direction), in
/// order of first record.
pub fn counterparties(a: &Analysis, p: PartyId, lo: Date, hi: Date) -> Vec<Counterparty> {
    let (ds, e) = (a.ds(), &a.engine);
    let mut out: Vec<(PartyId, bool, Vec<ShipmentId>)> = Vec::new();
    for &i in e.counterparty_records_in(p, lo, hi) {
        let (q, shipped) = e.counterparty_of(p, i);
        match out.iter_mut().find(|x| x.0 == q && x.1 == shipped) {
            Some(x) => x.2.push(i),
            None => out.push((q, shipped, vec![i])),
        }
    }
    out.into_iter()
        .map(|(q, shipped, recs)| {
            let qp = ds.party(q);
            let mut codes: Vec<Hs> = recs.iter().map(|&i| ds.shipment(i).hs).collect();
            codes.sort();
            codes.dedup();
            let date = |i: &ShipmentId| ds.shipment(*i).date;
            Counterparty {
                party_id: qp.id.clone(),
                name: qp.name.clone(),
                country: qp.country.to_string(),
                direction: if shipped {
                    "shipped_to"
                } else {
                    "received_from"
                },
                shipments: recs.len(),
                value_usd: money(recs.iter().map(|&i| ds.shipment(i).value_usd).sum()),
                hs_codes: codes.iter().map(|c| c.to_string()).collect(),
                first: recs.iter().map(date).min().unwrap_or(lo).to_string(),
                last: recs.iter().map(date).max().unwrap_or(lo).to_string(),
                records: recs
                    .iter()
                    .map(|&i| {
                        let s = ds.shipment(i);
                        format!("{} ({})", ds.shipment_id(s), ds.rec_path(s.rec))
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The last date the data says anything about: its latest shipment, or the last day of its latest statistics
/// period.
pub fn data_end(ds: &crate::data::dataset::Dataset) -> Option<Date> {
    let ships = ds.shipments.iter().map(|s| s.date).max();
    let flows = ds.flows.iter().map(|f| f.period.end().add_days(-1)).max();
    ships.max(flows)
}

/// Why a party must not be asked for documents, if it must not: it is located in a sanctioned country, or it
/// matches the watchlist. Asking a sanctioned firm for papers tips it off and may itself be a dealing.
fn do_not_contact(a: &Analysis, q: PartyId) -> Option<String> {
    let (ds, e) = (a.ds(), &a.engine);
    let qp = ds.party(q);
    if e.is_sanctioned_party(q) {
        return Some(format!("located in {}, a sanctioned country", qp.country));
    }
    let hits = a.hits.get(q.index())?;
    let best = hits.iter().find(|h| h.exact).or_else(|| hits.first())?;
    Some(format!(
        "{} the watchlist: {}",
        if best.exact {
            "on"
        } else {
            "a possible match on"
        },
        rules::hit_text(best)
    ))
}

/// The finding of a supplier that must not be contacted: high when it is located in a sanctioned country
/// or matches the watchlist exactly, medium for a fuzzy match.
fn blocked_finding(a: &Analysis, q: PartyId, role: &str, why: &str) -> Finding {
    let qp = a.ds().party(q);
    let exact = a
        .hits
        .get(q.index())
        .is_some_and(|h| h.iter().any(|h| h.exact));
    Finding {
        severity: if a.engine.is_sanctioned_party(q) || exact {
            Severity::High
        } else {
            Severity::Medium
        },
        what: format!("{role} {} ({}) is {why}", qp.name, qp.id),
    }
}

fn stop_and_escalate(name: &str, id: &str, why: &str, context: &str) -> String {
    format!(
        "Stop and escalate: {name} ({id}) is {why}. {context} Do not ask it for documents; refer the case to your sanctions officer."
    )
}

/// The vet of a party (id, name or identifier) as of a date (default: the last date in the data).
pub fn vet(a: &Analysis, party: &str, as_of: Option<Date>) -> Result<VetJson, QueryError> {
    let ds = a.ds();
    let st = a.st();
    let e = &a.engine;
    let p = resolve_party(ds, party)?;
    let end = data_end(ds);
    let as_of = as_of.or(end).unwrap_or(Date(0));
    let mut warnings = Vec::new();
    if let Some(end) = end
        && as_of > end
    {
        warnings.push(format!(
            "as of {as_of} is after the data's last date, {end}: the data says nothing after {end}, so inputs after it are unknown, not clean; its record up to {end} still counts below"
        ));
    }
    // Outputs "as of" a day count that day's inputs: the hypothetical output is the day after.
    let t = as_of.add_days(1);
    let (lo, _) = e.lag_window(t);
    let (cp_lo, _) = e.counterparty_window(t);
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
    let mut findings: Vec<Finding> = Vec::new();
    let mut next_steps: Vec<String> = Vec::new();
    let own_block = do_not_contact(a, p);
    if let Some(why) = &own_block {
        next_steps.push(stop_and_escalate(
            &pt.name,
            &pt.id,
            why,
            "Do not buy from it.",
        ));
    }
    let watchlist = a.hits.get(p.index()).cloned().unwrap_or_default();
    for h in &watchlist {
        findings.push(Finding {
            severity: if h.exact {
                Severity::High
            } else {
                Severity::Medium
            },
            what: format!("{} {}", pt.name, rules::hit_text(h)),
        });
    }
    if e.is_sanctioned_party(p) {
        findings.push(Finding {
            severity: Severity::High,
            what: format!("located in {}, a sanctioned country", pt.country),
        });
    }
    // Its own trade with sanctioned countries. While it has any, it is not asked for papers either: the
    // case goes to a sanctions officer first.
    let cps = counterparties(a, p, cp_lo, t);
    let ask_it = own_block.is_none() && cps.is_empty();
    // Headings it ships, with its shipments up to the as-of date.
    let mut by_heading: BTreeMap<Hs, Vec<ShipmentId>> = BTreeMap::new();
    for &i in e.ix.outbound_of(p) {
        let s = ds.shipment(i);
        if s.date <= as_of {
            by_heading.entry(s.hs.heading()).or_default().push(i);
        }
    }
    if !cps.is_empty() {
        let recs = e.counterparty_records_in(p, cp_lo, t);
        // High when what it traded is an input of a heading it ships (or, shipping nothing, of anything).
        let sev = if by_heading.is_empty() {
            Severity::High
        } else {
            by_heading
                .keys()
                .map(|h| rules::counterparty_severity(ds, st, *h, recs))
                .max()
                .unwrap_or(Severity::Medium)
        };
        for c in &cps {
            findings.push(Finding {
                severity: sev,
                what: format!(
                    "{} {} {} ({}), located in {}: {} shipment(s), {} USD, HS {}, {}..{}",
                    pt.name,
                    c.direction.replace('_', " "),
                    c.name,
                    c.party_id,
                    c.country,
                    c.shipments,
                    c.value_usd,
                    c.hs_codes.join("/"),
                    c.first,
                    c.last
                ),
            });
            if own_block.is_none() {
                next_steps.push(format!(
                    "Stop and escalate: {} {} {} ({}, located in {}) {} time(s) between {} and {} (HS {}){}. Trade with a sanctioned country is the route the 2018 supply-chain advisory describes; refer the case to your sanctions officer before buying.",
                    pt.name,
                    c.direction.replace('_', " "),
                    c.name,
                    c.party_id,
                    c.country,
                    c.shipments,
                    c.first,
                    c.last,
                    c.hs_codes.join("/"),
                    if c.direction == "shipped_to" {
                        ": goods sent there for processing can come back as its own"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    let mut headings = Vec::new();
    let mut flag_counts: BTreeMap<String, (Severity, usize)> = BTreeMap::new();
    let mut shipped_sanctioned = 0usize;
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
            let s = ds.shipment(i);
            let (y, m, _) = s.date.ymd();
            // Flags come from the engine's marks; the rule counts need no path search and no detail text.
            let sc = a.score_for_counts(i);
            let mix = sc.outcome.mix;
            if mix.sanctioned() > EPS {
                shipped_sanctioned += 1;
            }
            let w = crate::engine::pool::to_f64(s.value_usd);
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
            for f in &sc.flags {
                let c = flag_counts
                    .entry(f.rule.clone())
                    .or_insert((Severity::None, 0));
                c.0 = c.0.max(f.severity);
                c.1 += 1;
            }
        }
        let months = months
            .into_iter()
            .map(|(month, (n, v, mix, w))| {
                let mix = mean(mix, w);
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
            .map(|pl| super::trace::PoolJson::of_rows(a, &pl, *h, t));
        if let Some(sev) = rules::exposure_severity(st, &now) {
            findings.push(Finding {
                severity: sev,
                what: format!(
                    "HS {h} shipped now would carry {} sanctioned inputs (exposure {} to {})",
                    pct(now.sanctioned()),
                    pct(now.sanctioned()),
                    pct(now.sanctioned() + now.u)
                ),
            });
        }
        if let Some(prev) = now_outcome.prevalence
            && let Some(sev) = rules::prevalence_severity(st, prev, now.coverage())
        {
            findings.push(Finding {
                severity: sev,
                what: format!(
                    "HS {h}: {} of the inputs its region's statistics show are sanctioned (prevalence)",
                    pct(prev)
                ),
            });
        }
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
        let inputs: Vec<String> = st
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
        if stat_weight > EPS && ask_it {
            next_steps.push(format!(
                "HS {h}: {} of its inputs rests on no firm-level record; ask {} for supplier declarations (supplier, HS, share, origin) for its HS {} purchases.",
                pct(stat_weight),
                pt.name,
                inputs.join("/")
            ));
        }
        if doc_weight > EPS && doc_weight < 1.0 - EPS && stat_weight <= EPS && now.u > EPS && ask_it
        {
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
    if shipped_sanctioned > 0 && !next_steps.iter().any(|s| s.contains("do not buy")) {
        next_steps.push(format!(
            "{shipped_sanctioned} of its shipments up to {as_of} carried sanctioned inputs: do not buy until those paths are explained (run `trace` on them)."
        ));
    }
    for (rule, (sev, n)) in &flag_counts {
        findings.push(Finding {
            severity: *sev,
            what: format!("{rule} on {n} of its own shipment(s)"),
        });
    }
    // What it bought, over the counterparty window: an importer's whole profile is its purchases.
    let bought = bought(a, p, cp_lo, as_of);
    if bought.shipments > 0 && bought.severity > Severity::None {
        let worst = bought
            .flags
            .iter()
            .filter(|f| f.severity == bought.severity)
            .map(|f| format!("{} on {}", f.rule, f.shipments))
            .collect::<Vec<_>>()
            .join(", ");
        findings.push(Finding {
            severity: bought.severity,
            what: format!(
                "bought {} shipment(s) in {} carrying flags up to {} ({worst}); value-weighted sanctioned share of its purchases {}",
                bought.shipments,
                bought.window,
                bought.severity.as_str(),
                pct(bought.mix.sanctioned)
            ),
        });
        if bought.mix.sanctioned > EPS {
            let ids: Vec<&str> = bought
                .flagged
                .iter()
                .take(3)
                .map(|b| b.shipment_id.as_str())
                .collect();
            next_steps.push(format!(
                "Its purchases in {} carry {} sanctioned inputs (value-weighted): review them (`trace {}`) and hold further purchases along those paths{}",
                bought.window,
                pct(bought.mix.sanctioned),
                ids.join("`, `trace "),
                if pt.country.to_string() == "US" {
                    "; goods made wholly or in part with North Korean inputs may not be imported into the United States (31 CFR 510)."
                } else {
                    "."
                }
            ));
        }
    }
    // Documented suppliers in the window.
    // Supplier -> (shipments, value, HS codes, first, last, value-weighted mix sum, weight).
    type Acc = (usize, Decimal, Vec<Hs>, Date, Date, Mix, f64);
    let mut sup: BTreeMap<PartyId, Acc> = BTreeMap::new();
    for &i in e.ix.inbound_of(p) {
        let s = ds.shipment(i);
        if s.date < lo || s.date > as_of {
            continue;
        }
        let mix = a.engine.shipment_mix(i);
        let w = crate::engine::pool::to_f64(s.value_usd);
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
        let m = mean(mix, w);
        codes.sort();
        let qp = ds.party(q);
        let code_list = codes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("/");
        let weak = m.without_records();
        let block = do_not_contact(a, q);
        let q_cps = counterparties(a, q, cp_lo, t);
        if let Some(why) = &block {
            findings.push(blocked_finding(a, q, "supplier", why));
            next_steps.push(stop_and_escalate(
                &qp.name,
                &qp.id,
                why,
                &format!(
                    "It sold HS {code_list} to {} ({n} shipments, {} USD, {first}..{last}).",
                    pt.name,
                    money(v)
                ),
            ));
        } else if weak > 0.05 {
            next_steps.push(format!(
                "Ask {} ({}) for certificates of origin or its own supplier declarations for the HS {code_list} it sold to {} ({} shipments, {} USD, {}..{}): {} of it is unknown or estimated.",
                qp.name,
                qp.id,
                pt.name,
                n,
                money(v),
                first,
                last,
                pct(weak)
            ));
        }
        if !q_cps.is_empty() && block.is_none() {
            findings.push(Finding {
                severity: Severity::Medium,
                what: format!(
                    "supplier {} ({}) traded with a party in a sanctioned country: {}",
                    qp.name,
                    qp.id,
                    q_cps
                        .iter()
                        .map(|c| format!(
                            "{} {} ({}, {})",
                            c.direction.replace('_', " "),
                            c.party_id,
                            c.country,
                            c.shipments
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            });
        }
        documented_suppliers.push(DocumentedSupplier {
            party_id: qp.id.clone(),
            name: qp.name.clone(),
            country: qp.country.to_string(),
            region: qp.region.map(|r| r.to_string()),
            located_in_sanctioned_country: e.is_sanctioned_party(q),
            watchlist: a.hits[q.index()].iter().map(rules::hit_text).collect(),
            counterparties: q_cps,
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
        let link = ds.link(l);
        if !link.valid_at(t) && !link.valid_at(as_of) {
            continue;
        }
        let o = by_heading
            .keys()
            .find(|h| st.input_prefixes(**h).iter().any(|x| x.overlaps(link.hs)))
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
        let party_q = match link.supplier {
            crate::data::dataset::LinkSupplier::Party(q) => Some(q),
            crate::data::dataset::LinkSupplier::Country(_) => None,
        };
        let block = party_q.and_then(|q| do_not_contact(a, q));
        let (supplier, basis) = match (&link.supplier, &src) {
            (
                crate::data::dataset::LinkSupplier::Country(c),
                Source::LinkSanctionedCountry { .. },
            ) => (
                format!("country:{c}"),
                format!("{c} is a sanctioned origin"),
            ),
            (crate::data::dataset::LinkSupplier::Country(c), Source::LinkCountryPool { .. }) => (
                format!("country:{c}"),
                format!("{c}'s national statistics pool"),
            ),
            (crate::data::dataset::LinkSupplier::Country(c), _) => (
                format!("country:{c}"),
                "the declaration alone (no statistics for that country)".into(),
            ),
            (crate::data::dataset::LinkSupplier::Party(q), Source::LinkParty { ship, .. }) => {
                let s = ds.shipment(*ship);
                (
                    ds.party(*q).id.clone(),
                    format!(
                        "its latest shipment of the heading, {} on {}",
                        ds.shipment_id(s),
                        s.date
                    ),
                )
            }
            (crate::data::dataset::LinkSupplier::Party(q), Source::LinkSanctionedParty { .. }) => (
                ds.party(*q).id.clone(),
                "the supplier is located in a sanctioned country".into(),
            ),
            (crate::data::dataset::LinkSupplier::Party(q), _) => {
                if block.is_none() {
                    next_steps.push(format!(
                        "Declaration {} names {} ({}) as supplier of HS {} but there is no shipment of it in the window: ask {} for its shipping records.",
                        link.id,
                        ds.party(*q).name,
                        ds.party(*q).id,
                        link.hs,
                        ds.party(*q).name
                    ));
                }
                (
                    ds.party(*q).id.clone(),
                    "no shipment of that supplier in the window: unknown".into(),
                )
            }
        };
        if let (Some(q), Some(why)) = (party_q, &block) {
            let qp = ds.party(q);
            findings.push(blocked_finding(a, q, "declared supplier", why));
            next_steps.push(stop_and_escalate(
                &qp.name,
                &qp.id,
                why,
                &format!(
                    "Declaration {} names it as supplier of {} of {}'s HS {} input.",
                    link.id,
                    pct(link.share),
                    pt.name,
                    link.hs
                ),
            ));
        } else if matches!(
            src,
            Source::LinkSanctionedCountry { .. } | Source::LinkSanctionedParty { .. }
        ) {
            findings.push(Finding {
                severity: Severity::High,
                what: format!(
                    "declaration {} names a sanctioned origin for {} of its HS {} input",
                    link.id,
                    pct(link.share),
                    link.hs
                ),
            });
            next_steps.push(format!("Stop and escalate: declaration {} ({}) names a sanctioned origin for {} of its HS {} input.", link.id, link.source.clone().unwrap_or_default(), pct(link.share), link.hs));
        }
        declared_suppliers.push(DeclaredSupplier {
            link_id: link.id.clone(),
            supplier,
            watchlist: party_q
                .map(|q| a.hits[q.index()].iter().map(rules::hit_text).collect())
                .unwrap_or_default(),
            located_in_sanctioned_country: party_q.is_some_and(|q| e.is_sanctioned_party(q)),
            hs_code: link.hs.to_string(),
            share: link.share,
            valid_from: link.valid_from.map(|d| d.to_string()),
            valid_to: link.valid_to.map(|d| d.to_string()),
            source: link.source.clone(),
            mix: Exposure::of(&mix, None),
            basis,
        });
    }
    // An end buyer ships nothing: it is profiled by what it bought, and is never asked for outbound
    // shipments it does not make.
    if by_heading.is_empty() && bought.shipments == 0 {
        next_steps.push(format!("{} has no shipment in the data up to {as_of}, outbound or inbound: there is nothing to score.", pt.name));
    }
    next_steps.dedup();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::None);
    let watchlist_text = watchlist.iter().map(rules::hit_text).collect();
    Ok(VetJson {
        party: identity,
        as_of: as_of.to_string(),
        window: super::trace::window(e, t),
        data_end: end.map(|d| d.to_string()).unwrap_or_default(),
        warnings,
        watchlist,
        watchlist_text,
        counterparties: cps,
        headings,
        bought,
        documented_suppliers,
        declared_suppliers,
        severity,
        findings,
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

/// A value-weighted sum of mixes divided by its weight (the sum itself when the weight is 0).
fn mean(sum: Mix, w: f64) -> Mix {
    if w > 0.0 {
        let mut m = Mix::default();
        m.add_scaled(1.0 / w, &sum);
        m
    } else {
        sum
    }
}

/// What party `p` bought in `[lo, as_of]`: each inbound shipment scored as a report scores it.
fn bought(a: &Analysis, p: PartyId, lo: Date, as_of: Date) -> Bought {
    let ds = a.ds();
    let mut n = 0;
    let mut value = Decimal::ZERO;
    let mut sum = Mix::default();
    let mut w = 0.0;
    let mut severity = Severity::None;
    let mut counts: BTreeMap<String, (Severity, usize)> = BTreeMap::new();
    let mut scored: Vec<BoughtShipment> = Vec::new();
    for &i in a.engine.ix.inbound_of(p) {
        let s = ds.shipment(i);
        if s.date < lo || s.date > as_of {
            continue;
        }
        let sc = a.score_for_counts(i);
        n += 1;
        value += s.value_usd;
        let vw = crate::engine::pool::to_f64(s.value_usd);
        sum.add_scaled(vw, &sc.outcome.mix);
        w += vw;
        severity = severity.max(sc.severity);
        for f in &sc.flags {
            let c = counts.entry(f.rule.clone()).or_insert((Severity::None, 0));
            c.0 = c.0.max(f.severity);
            c.1 += 1;
        }
        if sc.severity > Severity::None {
            scored.push(BoughtShipment {
                shipment_id: ds.shipment_id(s).to_string(),
                date: s.date.to_string(),
                supplier: ds.party(s.shipper).id.clone(),
                hs_code: s.hs.to_string(),
                value_usd: money(s.value_usd),
                sanctioned: sc.outcome.mix.sanctioned(),
                severity: sc.severity,
                flags: sc.flags.iter().map(|f| f.rule.clone()).collect(),
            });
        }
    }
    scored.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.sanctioned.total_cmp(&a.sanctioned))
            .then_with(|| a.shipment_id.cmp(&b.shipment_id))
    });
    scored.truncate(10);
    Bought {
        window: format!("{lo}..{as_of}"),
        shipments: n,
        value_usd: money(value),
        mix: Exposure::of(&mean(sum, w), None),
        severity,
        flags: counts
            .into_iter()
            .map(|(rule, (severity, shipments))| FlagCount {
                rule,
                severity,
                shipments,
            })
            .collect(),
        flagged: scored,
    }
}
