//! `trace` as text: the verdict first, then where the shares come from, the flags, the pool, and every path
//! with the records to open.

use super::Text;
use crate::engine::model::EPS;
use crate::present::fmt::pct;
use crate::present::{PresentError, Render};
use crate::query::trace::TraceJson;
use std::fmt::Write;

impl Render<TraceJson> for Text {
    /// Names and ids come from the input: the text is made [printable] line by line, so nothing in it can
    /// move a terminal's cursor or reverse a line.
    ///
    /// [printable]: crate::util::text::printable_lines
    fn render(&self, t: &TraceJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(crate::util::text::printable_lines(&trace_text(t)).as_bytes())?;
        Ok(())
    }
}

/// The first `n` items joined, then a count of the rest.
fn list_some(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        let _ = write!(s, " and {} more", items.len() - n);
    }
    s
}

/// The trace for a person: the verdict first, then the paths, then the records to open.
fn trace_text(t: &TraceJson) -> String {
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
    if let Some(p) = e.prevalence {
        let _ = writeln!(
            o,
            "  prevalence {} (the sanctioned share of the inputs its pool's statistics show)",
            pct(p)
        );
    }
    if !t.explanation.is_empty() {
        let _ = writeln!(o, "  where the shares come from:");
        for line in &t.explanation {
            let _ = writeln!(o, "    {line}");
        }
    }
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
    if !t.counterparties.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "Sanctioned counterparties of the shipper (its own shipments to or from a sanctioned country):"
        );
        o.push_str(&super::vet::counterparty_lines(&t.counterparties));
    }
    if !t.backing.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "What backs each share (weight: sanctioned / clean / unknown):"
        );
        for b in &t.backing {
            let _ = writeln!(
                o,
                "  {}{}{}  {}: {} / {} / {}  ({})",
                b.kind,
                if b.source.is_empty() {
                    String::new()
                } else {
                    format!(" {}", b.source)
                },
                b.part.map(|p| format!(" [{p}]")).unwrap_or_default(),
                pct(b.weight),
                pct(b.sanctioned),
                pct(b.clean),
                pct(b.unknown),
                b.note
            );
            if !b.records.is_empty() {
                let _ = writeln!(o, "     records: {}", list_some(&b.records, 6));
            }
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
        let _ = writeln!(
            o,
            "  T = max(imports, {} x exports) = {} USD; remainder {} (not shown by the statistics); prevalence {}",
            p.input_ratio,
            p.throughput_usd,
            pct(p.remainder),
            pct(p.prevalence)
        );
        if !p.sanctioned_by_regime.is_empty() {
            let _ = writeln!(
                o,
                "  sanctioned imports by customs regime: {}",
                p.sanctioned_by_regime
                    .iter()
                    .map(|r| format!("{} {} USD", r.regime, r.value_usd))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !p.rows.is_empty() {
            let _ = writeln!(o, "  rows: {}", list_some(&p.rows, 8));
        }
        if let Some(r) = &p.rest_of_country {
            let _ = writeln!(
                o,
                "  the remainder carries the {}'s sanctioned share: sanctioned imports {} USD, imports {} USD, exports {} USD -> sanctioned {}; the rest of the remainder is unknown",
                r.scope,
                r.sanctioned_imports_usd,
                r.imports_usd,
                r.exports_usd,
                pct(r.sanctioned)
            );
            if !r.rows.is_empty() {
                let _ = writeln!(o, "    rows: {}", list_some(&r.rows, 8));
            }
        }
    }
    let _ = writeln!(o);
    if t.paths.is_empty() {
        if t.paths_truncated {
            // A cut search that found nothing says nothing about the sanctioned share (issue 14).
            let _ = writeln!(
                o,
                "Paths: none found, list cut (the search reached --max-paths, --max-hops or its work bound \
                 before any path; see docs/security.md); the shares above are exact"
            );
        } else if e.sanctioned > EPS {
            let _ = writeln!(o, "Paths: none listed");
        } else {
            let _ = writeln!(o, "Paths: none (no sanctioned share)");
        }
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
