//! Markdown: headline figures, the summaries and the top flagged shipments, for pasting into a ticket.

use super::fmt::{pct, share};
use super::{PresentError, Render};
use crate::query::report::Report;
use std::fmt::Write;

/// The Markdown renderer of the report.
pub struct Markdown {
    /// How many flagged shipments to list.
    pub top: usize,
}

/// Escapes the characters that would break a Markdown table cell or start markup; control characters
/// (ESC, NUL, line breaks) become a space and bidi or invisible formatting characters are dropped, so a
/// pasted name cannot move a terminal's cursor or read reversed.
pub fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => o.push(' '),
            c if crate::util::text::is_bidi_or_invisible(c) => {}
            _ => o.push(c),
        }
    }
    o
}

impl Render<Report> for Markdown {
    fn render(&self, r: &Report, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let mut o = String::new();
        let t = &r.totals;
        let _ = writeln!(o, "# origintrace report\n");
        // The settings in force, so a shared report says how its numbers were made.
        let _ = writeln!(
            o,
            "Model v{}; settings: {}\n",
            r.meta.model_version,
            md(&r.meta.settings.summary())
        );
        let _ = writeln!(
            o,
            "| shipments | value (USD) | exposed value (USD) | flagged | flagged value (USD) | high | medium | low |"
        );
        let _ = writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|---:|");
        let sev = |k: &str| t.by_severity.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            t.shipments,
            t.value_usd,
            t.exposed_value_usd,
            t.flagged_shipments,
            t.flagged_value_usd,
            sev("high"),
            sev("medium"),
            sev("low")
        );
        for (title, list) in [("Importers", &r.importers), ("Exporters", &r.exporters)] {
            let _ = writeln!(o, "## {title}\n");
            let _ = writeln!(
                o,
                "| party | name | country | shipments | value (USD) | exposed value (USD) | flagged | severity |"
            );
            let _ = writeln!(o, "|---|---|---|---:|---:|---:|---:|---|");
            for s in list.iter() {
                let place = if s.region.is_empty() {
                    s.country.clone()
                } else {
                    format!("{} {}", s.country, s.region)
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} | {} | {} |",
                    md(&s.party_id),
                    md(&s.name),
                    place,
                    s.shipments,
                    s.value_usd,
                    s.exposed_value_usd,
                    s.flagged_shipments,
                    s.severity.as_str()
                );
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(o, "## Top flagged shipments\n");
        let _ = writeln!(
            o,
            "| shipment | date | shipper | consignee | HS | value (USD) | sanctioned | unknown | severity | flags | top path |"
        );
        let _ = writeln!(o, "|---|---|---|---|---|---:|---:|---:|---|---|---|");
        for x in r.rows.iter().filter(|x| !x.flags.is_empty()).take(self.top) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&x.shipment_id),
                x.date,
                md(&x.shipper_id),
                md(&x.consignee_id),
                x.hs_code,
                x.value_usd,
                pct(x.sanctioned),
                pct(x.unknown),
                x.severity.as_str(),
                md(&x.flags.join(", ")),
                md(&format!(
                    "{}{}",
                    x.top_path,
                    if x.paths_truncated {
                        " (path search cut)"
                    } else {
                        ""
                    }
                ))
            );
        }
        let _ = writeln!(
            o,
            "\nShares are of the shipment's value; sanctioned {} means the model found no sanctioned input.",
            share(0.0)
        );
        out.write_all(o.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::report;
    use crate::query::report::testing::{FILTERS, with_sample};

    /// The summary made from the lean report (its first flagged rows only) is the summary of the whole
    /// report, whether the list is cut at a few rows or reaches past them all.
    #[test]
    fn lean_report_gives_the_same_summary() {
        with_sample(|a| {
            for filter in FILTERS {
                let whole = report::build(a, a.score_all(), filter);
                for top in [3, 25, 100_000] {
                    let md = Markdown { top };
                    let lean = report::lean_report(a, filter, top, 0);
                    assert!(lean.report.rows.len() <= top);
                    let (x, y) = (
                        md.to_bytes(&whole).expect("render"),
                        md.to_bytes(&lean.report).expect("render"),
                    );
                    assert_eq!(String::from_utf8_lossy(&x), String::from_utf8_lossy(&y));
                }
            }
        });
    }
}
