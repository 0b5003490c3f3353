//! `vet` as text: who the party is, the overall severity and why, what its goods carry per heading, what it
//! bought, its suppliers and the next steps.

use super::Text;
use crate::present::fmt::pct;
use crate::present::{PresentError, Render};
use crate::query::vet::{Counterparty, VetJson};
use std::fmt::Write;

impl Render<VetJson> for Text {
    /// Made printable line by line, as [`Text`] does for `trace`.
    fn render(&self, v: &VetJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(crate::util::text::printable_lines(&vet_text(v)).as_bytes())?;
        Ok(())
    }
}

/// Sanctioned counterparties for a person, one entry and its records (the first six) each.
pub(super) fn counterparty_lines(cps: &[Counterparty]) -> String {
    let mut o = String::new();
    for c in cps {
        let _ = writeln!(
            o,
            "  {} {} ({}, {}): {} shipment(s), {} USD, HS {}, {}..{}",
            c.direction.replace('_', " "),
            c.name,
            c.party_id,
            c.country,
            c.shipments,
            c.value_usd,
            c.hs_codes.join("/"),
            c.first,
            c.last
        );
        let shown: Vec<&str> = c.records.iter().take(6).map(String::as_str).collect();
        let more = if c.records.len() > 6 {
            format!(" and {} more", c.records.len() - 6)
        } else {
            String::new()
        };
        let _ = writeln!(o, "     records: {}{more}", shown.join(", "));
    }
    o
}

/// The vet for a person.
fn vet_text(v: &VetJson) -> String {
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
    for w in &v.warnings {
        let _ = writeln!(o, "  WARNING: {w}");
    }
    if p.located_in_sanctioned_country {
        let _ = writeln!(
            o,
            "  LOCATED IN A SANCTIONED COUNTRY: everything it ships is a sanctioned input"
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "Overall severity: {}", v.severity.as_str());
    for f in &v.findings {
        let _ = writeln!(o, "  [{}] {}", f.severity.as_str(), f.what);
    }
    let _ = writeln!(o);
    if v.watchlist_text.is_empty() {
        let _ = writeln!(o, "Watchlist: no match");
    } else {
        let _ = writeln!(o, "Watchlist:");
        for h in &v.watchlist_text {
            let _ = writeln!(o, "  {} {h}", p.name);
        }
    }
    if v.counterparties.is_empty() {
        let _ = writeln!(o, "Sanctioned counterparties: none");
    } else {
        let _ = writeln!(
            o,
            "Sanctioned counterparties (its own shipments to or from a sanctioned country):"
        );
        o.push_str(&counterparty_lines(&v.counterparties));
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
                "  pool {} ({}): sanctioned imports {} USD of {} USD imports, exports {} USD -> sanctioned {}, clean {}, unknown {}; prevalence {}",
                pl.scope,
                pl.window,
                pl.sanctioned_imports_usd,
                pl.imports_usd,
                pl.exports_usd,
                pct(pl.sanctioned),
                pct(pl.clean),
                pct(pl.unknown),
                pct(pl.prevalence)
            );
            if !pl.sanctioned_by_regime.is_empty() {
                let _ = writeln!(
                    o,
                    "    sanctioned imports by customs regime: {}",
                    pl.sanctioned_by_regime
                        .iter()
                        .map(|r| format!("{} {} USD", r.regime, r.value_usd))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    let _ = writeln!(o);
    let b = &v.bought;
    if b.shipments == 0 {
        let _ = writeln!(o, "Bought ({}): nothing", b.window);
    } else {
        let _ = writeln!(
            o,
            "Bought ({}): {} shipment(s), {} USD; value-weighted sanctioned {}, unknown {}, clean {}; highest flag {}",
            b.window,
            b.shipments,
            b.value_usd,
            pct(b.mix.sanctioned),
            pct(b.mix.unknown),
            pct(b.mix.clean),
            b.severity.as_str()
        );
        for f in &b.flags {
            let _ = writeln!(
                o,
                "  [{}] {} on {} shipment(s)",
                f.severity.as_str(),
                f.rule,
                f.shipments
            );
        }
        for x in &b.flagged {
            let _ = writeln!(
                o,
                "  {} {} from {} HS {} {} USD: sanctioned {}, {} ({})",
                x.shipment_id,
                x.date,
                x.supplier,
                x.hs_code,
                x.value_usd,
                pct(x.sanctioned),
                x.severity.as_str(),
                x.flags.join(";")
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
        if s.located_in_sanctioned_country {
            let _ = writeln!(o, "     LOCATED IN {}, A SANCTIONED COUNTRY", s.country);
        }
        for w in &s.watchlist {
            let _ = writeln!(o, "     watchlist: {w}");
        }
        for c in &s.counterparties {
            let _ = writeln!(
                o,
                "     counterparty: {} {} ({}, {}), {} shipment(s), {}..{}",
                c.direction.replace('_', " "),
                c.name,
                c.party_id,
                c.country,
                c.shipments,
                c.first,
                c.last
            );
        }
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
        for w in &d.watchlist {
            let _ = writeln!(o, "     watchlist: {w}");
        }
    }
    let _ = writeln!(o);
    if !v.flags.is_empty() {
        let _ = writeln!(o, "Flags on its own shipments:");
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
            "  none: nothing sanctioned was found in its inputs, its purchases, its trade or the watchlist"
        );
    }
    for (i, s) in v.next_steps.iter().enumerate() {
        let _ = writeln!(o, "  {}. {}", i + 1, s);
    }
    o
}
