//! Flags (SPEC §3): the rules that turn a shipment's mix, paths and parties into findings with a severity.
//! Rule ids are part of the contract.

use crate::data::codes::Hs;
use crate::data::dataset::{Dataset, PartyId, Shipment, ShipmentId};
use crate::data::settings::Settings;
use crate::engine::model::{EPS, Grade, Mix, Outcome};
use crate::engine::paths::{Node, Path};
use crate::engine::screening::Hit;
use crate::util::fmt::pct;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "none" => Some(Severity::None),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Flag {
    pub rule: String,
    pub severity: Severity,
    pub detail: String,
}

/// The highest severity among flags (`None` when there are none).
pub fn max_severity(flags: &[Flag]) -> Severity {
    flags
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::None)
}

/// HS6 group of a code for the price check (the code itself when it is shorter).
fn price_group(h: Hs) -> Hs {
    h.prefix(6)
}

/// Medians of value per kg by HS6 group, over every shipment that has a weight.
pub fn price_medians(ds: &Dataset) -> HashMap<Hs, Decimal> {
    let mut groups: HashMap<Hs, Vec<Decimal>> = HashMap::new();
    for s in &ds.shipments {
        if let Some(per_kg) = per_kg(s) {
            groups.entry(price_group(s.hs)).or_default().push(per_kg);
        }
    }
    groups
        .into_iter()
        .map(|(g, mut v)| {
            v.sort();
            let n = v.len();
            let m = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / Decimal::TWO
            };
            (g, m)
        })
        .collect()
}

fn per_kg(s: &Shipment) -> Option<Decimal> {
    let w = s.weight_kg?;
    if w <= Decimal::ZERO {
        return None;
    }
    s.value_usd.checked_div(w)
}

/// A watchlist hit as a person needs it: the listed entity by its own primary name, its list, id and program,
/// then what matched (an alias or an identifier is what matched, never who is listed).
pub fn hit_text(h: &Hit) -> String {
    let list = h.source.as_deref().unwrap_or("watchlist");
    let program = h
        .program
        .as_ref()
        .map(|p| format!(", program {p}"))
        .unwrap_or_default();
    format!(
        "matches {} ({list} entry {}{program}): {} on '{}' ({}, score {:.2})",
        h.entry_name,
        h.entry_id,
        if h.exact {
            "exact match"
        } else {
            "fuzzy match"
        },
        h.matched,
        h.why,
        h.score
    )
}

/// Everything the rules look at for one shipment.
pub struct Context<'a> {
    pub ds: &'a Dataset,
    pub st: &'a Settings,
    pub ship: ShipmentId,
    pub outcome: &'a Outcome,
    /// The shipment's paths, each ending at its consignee.
    pub paths: &'a [Path],
    pub hits: &'a [Vec<Hit>],
    pub medians: &'a HashMap<Hs, Decimal>,
    /// The shipper's shipments to or from a party located in a sanctioned country in
    /// `[t − counterparty_days, t)` ([`crate::engine::model::Engine::counterparty_records`]).
    pub counterparties: &'a [ShipmentId],
    /// Whether to write each flag's `detail`. A CSV report prints only rules and severities; at ten million
    /// rows the sentences it would throw away cost more than the rules.
    pub details: bool,
}

fn party_name(ds: &Dataset, p: PartyId) -> String {
    let party = ds.party(p);
    format!("{} ({})", party.name, party.id)
}

/// Names the sanctioned counterparties of `p` behind `records`, with the direction and the records (the
/// first few by id, then a count).
pub fn counterparty_detail(ds: &Dataset, p: PartyId, records: &[ShipmentId], days: i32) -> String {
    let mut by_party: Vec<(PartyId, bool, Vec<&str>)> = Vec::new();
    for &i in records {
        let sh = ds.shipment(i);
        let (other, out) = if sh.shipper == p {
            (sh.consignee, true)
        } else {
            (sh.shipper, false)
        };
        match by_party.iter_mut().find(|x| x.0 == other && x.1 == out) {
            Some(x) => x.2.push(ds.shipment_id(sh)),
            None => by_party.push((other, out, vec![ds.shipment_id(sh)])),
        }
    }
    let parts: Vec<String> = by_party
        .iter()
        .map(|(q, out, ids)| {
            let shown = ids.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            let more = if ids.len() > 3 {
                format!(" and {} more", ids.len() - 3)
            } else {
                String::new()
            };
            format!(
                "{} {} {}, located in {}: {} shipment(s), {shown}{more}",
                party_name(ds, p),
                if *out { "shipped to" } else { "received from" },
                party_name(ds, *q),
                ds.party(*q).country,
                ids.len()
            )
        })
        .collect();
    format!("in the last {days} days: {}", parts.join("; "))
}

/// The severity of `sanctioned-exposure` for a mix (`None` when its sanctioned share is 0): high from
/// `severity.high`, or whenever any of it rests on documents or declarations; medium from `severity.medium`.
pub fn exposure_severity(st: &Settings, m: &Mix) -> Option<Severity> {
    let sanctioned = m.sanctioned();
    if sanctioned <= EPS {
        return None;
    }
    Some(
        if sanctioned >= st.severity.high || m.firm_sanctioned() > EPS {
            Severity::High
        } else if sanctioned >= st.severity.medium {
            Severity::Medium
        } else {
            Severity::Low
        },
    )
}

/// The severity of `regional-prevalence` for a pool's prevalence and the output's coverage (`None` at 0):
/// medium when the region's recorded supply is at least `severity.medium` sanctioned and firm-level
/// evidence covers less than half of the inputs, else low.
pub fn prevalence_severity(st: &Settings, prevalence: f64, coverage: f64) -> Option<Severity> {
    (prevalence > EPS).then_some(if prevalence >= st.severity.medium && coverage < 0.5 {
        Severity::Medium
    } else {
        Severity::Low
    })
}

/// The severity of `sanctioned-counterparty`: high when one of the records' HS codes is a relevant input
/// of heading `o` (the goods it makes may carry them), else medium.
pub fn counterparty_severity(
    ds: &Dataset,
    st: &Settings,
    o: Hs,
    records: &[ShipmentId],
) -> Severity {
    let prefixes = st.input_prefixes(o);
    let relevant = records.iter().any(|&i| {
        let h = ds.shipment(i).hs;
        prefixes.iter().any(|p| h.overlaps(*p))
    });
    if relevant {
        Severity::High
    } else {
        Severity::Medium
    }
}

/// Applies every rule.
pub fn evaluate(cx: &Context) -> Vec<Flag> {
    let (ds, st) = (cx.ds, cx.st);
    let s = ds.shipment(cx.ship);
    let m: &Mix = &cx.outcome.mix;
    let sanctioned = m.sanctioned();
    let mut flags = Vec::new();
    if let Some(severity) = exposure_severity(st, m) {
        let firm = m.firm_sanctioned() > EPS;
        let mut detail = String::new();
        if cx.details {
            detail = format!(
                "sanctioned share {} (exposure {} to {})",
                pct(sanctioned),
                pct(sanctioned),
                pct(sanctioned + m.u)
            );
        }
        if firm && cx.details {
            detail.push_str(&format!(
                ", of which {} rests on documents or declarations",
                pct(m.firm_sanctioned())
            ));
        }
        flags.push(Flag {
            rule: "sanctioned-exposure".into(),
            severity,
            detail,
        });
    } else if cx.outcome.reachable {
        flags.push(Flag {
            rule: "sanctioned-reachable".into(),
            severity: Severity::Medium,
            detail: "a sanctioned source is linked to this shipment's chain by records that carry no weight (zero value, or a declaration masked by full documentation)".into(),
        });
    }
    // Watchlist: the shipper, the consignee, and every party on a contributing path.
    let mut parties: Vec<PartyId> = vec![s.shipper, s.consignee];
    for p in cx.paths {
        for n in p.nodes() {
            if let Node::Party(q) = n
                && !parties.contains(&q)
            {
                parties.push(q);
            }
        }
    }
    let mut best: Option<(Severity, String)> = None;
    let mut details = Vec::new();
    for q in parties {
        for h in cx.hits.get(q.index()).into_iter().flatten() {
            let sev = if h.exact {
                Severity::High
            } else {
                Severity::Medium
            };
            if cx.details {
                details.push(format!("{} {}", party_name(ds, q), hit_text(h)));
            }
            // Parties on the listed paths only add detail: the severity of path parties comes from the
            // marks, which cover every contributing path, listed or not.
            if (q == s.shipper || q == s.consignee) && best.as_ref().is_none_or(|b| sev > b.0) {
                best = Some((sev, String::new()));
            }
        }
    }
    let upstream = cx.outcome.marks.watch;
    let from_marks = if upstream & 2 != 0 {
        Some(Severity::High)
    } else if upstream & 1 != 0 {
        Some(Severity::Medium)
    } else {
        None
    };
    if let Some(m) = from_marks {
        if best.as_ref().is_none_or(|b| m > b.0) {
            best = Some((m, String::new()));
        }
        if details.is_empty() && cx.details {
            details.push("a party on a contributing path matches the watchlist (trace the shipment to see which)".into());
        }
    }
    if let Some((sev, _)) = best {
        flags.push(Flag {
            rule: "watchlist-match".into(),
            severity: sev,
            detail: details.join("; "),
        });
    }
    if let Some(origin) = s.origin
        && !st.is_sanctioned(origin)
        && m.firm_sanctioned() >= st.severity.medium
    {
        flags.push(Flag {
                rule: "origin-mislabel".into(),
                severity: Severity::High,
                detail: format!("declared origin {origin}, but {} of its inputs are sanctioned on documents or declarations", pct(m.firm_sanctioned())),
            });
    }
    if let (Some(v), Some(med)) = (per_kg(s), cx.medians.get(&price_group(s.hs)))
        && v < *med / Decimal::TWO
    {
        flags.push(Flag {
            rule: "low-price".into(),
            severity: Severity::Medium,
            detail: if cx.details {
                format!(
                    "{} USD/kg is under half the median {} USD/kg of HS {}",
                    v.round_dp(2),
                    med.round_dp(2),
                    price_group(s.hs)
                )
            } else {
                String::new()
            },
        });
    }
    let consignee_country = ds.party(s.consignee).country;
    for (i, pat) in st.patterns.iter().enumerate() {
        if !pat.hs.iter().any(|h| s.hs.starts_with(*h))
            || !pat.destinations.contains(&consignee_country)
        {
            continue;
        }
        // Whether a contributing path matches is carried by the engine's marks (every path, listed or not);
        // a listed path that matches names the route in the detail.
        let Some(firm) = crate::engine::model::pattern_hit(cx.outcome.marks.pattern, i) else {
            continue;
        };
        let severity = if firm { Severity::High } else { Severity::Low };
        let mut detail = String::new();
        if !cx.details {
            flags.push(Flag {
                rule: format!("pattern:{}", pat.name),
                severity,
                detail,
            });
            continue;
        }
        detail = format!(
            "a {} path from {} runs via {} to a {} consignee",
            if firm {
                "documented or declared"
            } else {
                "statistical"
            },
            pat.origins
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("/"),
            pat.via_regions
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("/"),
            consignee_country
        );
        for p in cx.paths {
            if (p.grade != Grade::Statistical) != firm {
                continue;
            }
            let nodes = p.nodes();
            let origin_ok = match nodes.first() {
                Some(Node::Country(c)) => pat.origins.contains(c),
                Some(Node::Party(q)) => pat.origins.contains(&ds.party(*q).country),
                _ => false,
            };
            // The firms' own regions only (SPEC §3 v2): a region node is statistics, not a firm there.
            let via = nodes.iter().find_map(|n| match n {
                Node::Party(q) => ds
                    .party(*q)
                    .region
                    .filter(|r| pat.via_regions.contains(r))
                    .map(|r| format!("{} in {r}", ds.party(*q).id)),
                Node::Region(_) | Node::Country(_) => None,
            });
            if let (true, Some(via)) = (origin_ok, via) {
                detail = format!(
                    "a {} path ({} of the value) runs via {via} to a {} consignee",
                    p.grade.as_str(),
                    pct(p.share),
                    consignee_country
                );
                break;
            }
        }
        flags.push(Flag {
            rule: format!("pattern:{}", pat.name),
            severity,
            detail,
        });
    }
    let coverage = m.coverage();
    if let Some(prev) = cx.outcome.prevalence
        && let Some(severity) = prevalence_severity(st, prev, coverage)
    {
        flags.push(Flag {
            rule: "regional-prevalence".into(),
            severity,
            detail: if cx.details {
                format!(
                    "{} of the inputs whose origin the statistics of its pool show are sanctioned (firm-level evidence covers {})",
                    pct(prev),
                    pct(coverage)
                )
            } else {
                String::new()
            },
        });
    }
    if !cx.counterparties.is_empty() {
        flags.push(Flag {
            rule: "sanctioned-counterparty".into(),
            severity: counterparty_severity(ds, st, s.hs.heading(), cx.counterparties),
            detail: if cx.details {
                counterparty_detail(ds, s.shipper, cx.counterparties, st.counterparty_days)
            } else {
                String::new()
            },
        });
    }
    let consignee = ds.party(s.consignee);
    if st.is_sanctioned(consignee.country) {
        flags.push(Flag {
            rule: "sanctioned-consignee".into(),
            severity: Severity::High,
            detail: if cx.details {
                format!(
                    "the consignee {} is located in {}, a sanctioned country (goods sent there for processing can return as another country's)",
                    party_name(ds, s.consignee),
                    consignee.country
                )
            } else {
                String::new()
            },
        });
    }
    if coverage < 0.5 {
        flags.push(Flag {
            rule: "low-coverage".into(),
            severity: Severity::Low,
            detail: if cx.details {
                format!(
                    "only {} of the inputs rest on firm-level evidence",
                    pct(coverage)
                )
            } else {
                String::new()
            },
        });
    }
    flags
}
