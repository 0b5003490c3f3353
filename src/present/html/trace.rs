//! `trace --format html`: the verdict and its figures, where the shares come from, the flags, the pool, the
//! path diagram and every hop's records.

use super::svg::{Diagram, legend};
use super::{
    Fig, Html, counterparty_table, esc, figures, flag_list, header, hop_rows, page, path_table,
};
use crate::engine::model::EPS;
use crate::present::fmt::{group, pct};
use crate::present::{PresentError, Render};
use crate::query::PartyJson;
use crate::query::trace::TraceJson;
use std::fmt::Write;

/// "Name (ID, CN-HA)".
fn party_line(p: &PartyJson) -> String {
    format!("{} ({}{})", p.name, p.party_id, p.place())
}

impl Render<TraceJson> for Html {
    fn render(&self, t: &TraceJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(trace_page(t).as_bytes())?;
        Ok(())
    }
}

/// A trace as a page: the verdict and its figures, the flags, the pool, the path diagram, every hop's records.
fn trace_page(t: &TraceJson) -> String {
    let e = &t.exposure;
    let mut b = String::new();
    let mut lines = vec![
        format!(
            "{} · HS {} · {} USD{}",
            t.date,
            t.hs_code,
            group(&t.value_usd),
            if t.currency != "USD" {
                format!(" ({} {})", group(&t.value), t.currency)
            } else {
                String::new()
            }
        ),
        format!(
            "from {} to {}",
            party_line(&t.shipper),
            party_line(&t.consignee)
        ),
    ];
    if let Some(c) = &t.origin_country {
        lines.push(format!("declared origin {c}"));
    }
    lines.push(format!("inputs counted from {}", t.window));
    b.push_str(&header(
        "shipment trace",
        &format!("Shipment {}", t.shipment_id),
        &lines,
    ));
    let verdict = if e.sanctioned > EPS {
        "may carry sanctioned inputs"
    } else if e.unknown > EPS {
        "no sanctioned input found; part unknown"
    } else {
        "no sanctioned input found"
    };
    b.push_str(&figures(
        &[
            Fig {
                id: "severity",
                label: "severity",
                value: t.severity.to_string(),
                note: verdict.into(),
                class: t.severity,
            },
            Fig {
                id: "sanctioned",
                label: "sanctioned",
                value: pct(e.sanctioned),
                note: format!("exposure {} to {}", pct(e.interval[0]), pct(e.interval[1])),
                class: if e.sanctioned > EPS { "alert" } else { "" },
            },
            Fig {
                id: "unknown",
                label: "unknown",
                value: pct(e.unknown),
                note: "missing data widens the interval".into(),
                class: "",
            },
            Fig {
                id: "clean",
                label: "clean",
                value: pct(e.clean),
                note: format!(
                    "documented {}, declared {}, statistical {}",
                    pct(e.clean_by_evidence.documented),
                    pct(e.clean_by_evidence.declared),
                    pct(e.clean_by_evidence.statistical)
                ),
                class: "",
            },
            Fig {
                id: "coverage",
                label: "coverage",
                value: pct(e.coverage),
                note: "firm-level evidence".into(),
                class: "",
            },
            Fig {
                id: "documented",
                label: "sanctioned, documented",
                value: pct(e.by_evidence.documented),
                note: format!(
                    "declared {}, statistical {}",
                    pct(e.by_evidence.declared),
                    pct(e.by_evidence.statistical)
                ),
                class: "",
            },
        ],
        "",
    ));
    if t.reachable && e.sanctioned <= EPS {
        b.push_str("<p>A sanctioned source is linked to the chain, with no weight.</p>\n");
    }
    if let Some(p) = e.prevalence {
        let _ = writeln!(
            b,
            "<p>Prevalence <b>{}</b>: the sanctioned share of the inputs its pool's statistics show.</p>",
            pct(p)
        );
    }
    if !t.explanation.is_empty() {
        b.push_str("<h2>Where the shares come from</h2>\n<ul>");
        for line in &t.explanation {
            let _ = write!(b, "<li>{}</li>", esc(line));
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<h2>Flags</h2>\n");
    if t.flags.is_empty() {
        b.push_str("<p>None.</p>\n");
    } else {
        b.push_str(&flag_list(&t.flags));
        b.push('\n');
    }
    b.push_str(&counterparty_table(&t.counterparties));
    if !t.backing.is_empty() {
        b.push_str("<h2>What backs each share</h2>\n<table><thead><tr><th>kind</th><th>source</th><th>part</th><th class=\"r\">weight</th><th class=\"r\">sanctioned</th><th class=\"r\">clean</th><th class=\"r\">unknown</th><th>records</th><th>note</th></tr></thead><tbody>");
        for x in &t.backing {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"mute\">{}</td><td>{}</td></tr>",
                esc(x.kind),
                esc(&x.source),
                esc(x.part.unwrap_or("")),
                pct(x.weight),
                pct(x.sanctioned),
                pct(x.clean),
                pct(x.unknown),
                esc(&x.records.join(", ")),
                esc(&x.note)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    if let Some(p) = &t.pool {
        let _ = write!(
            b,
            "<h2>Statistics pool</h2>\n<p>{} ({}): sanctioned imports {} USD, transit/re-imports {} USD, all relevant imports {} USD, exports {} USD → sanctioned {}, clean {}, unknown {}.</p>\n",
            esc(&p.scope),
            esc(&p.window),
            esc(&group(&p.sanctioned_imports_usd)),
            esc(&group(&p.unknown_imports_usd)),
            esc(&group(&p.imports_usd)),
            esc(&group(&p.exports_usd)),
            pct(p.sanctioned),
            pct(p.clean),
            pct(p.unknown)
        );
        let _ = writeln!(
            b,
            "<p>T = max(imports, {} × exports) = {} USD; remainder {} (inputs the statistics do not show); prevalence {}.</p>",
            p.input_ratio,
            esc(&group(&p.throughput_usd)),
            pct(p.remainder),
            pct(p.prevalence)
        );
        if !p.sanctioned_by_regime.is_empty() {
            let _ = writeln!(
                b,
                "<p>Sanctioned imports by customs regime: {}.</p>",
                esc(&p
                    .sanctioned_by_regime
                    .iter()
                    .map(|r| format!("{} {} USD", r.regime, group(&r.value_usd)))
                    .collect::<Vec<_>>()
                    .join(", "))
            );
        }
        if !p.rows.is_empty() {
            let _ = writeln!(b, "<p class=\"mute\">Rows: {}</p>", esc(&p.rows.join(", ")));
        }
        if let Some(r) = &p.rest_of_country {
            let _ = writeln!(
                b,
                "<p class=\"mute\">The remainder carries the {}'s sanctioned share (the rest of it is unknown): sanctioned imports {} USD, imports {} USD, exports {} USD → sanctioned {}.</p>",
                esc(&r.scope),
                esc(&group(&r.sanctioned_imports_usd)),
                esc(&group(&r.imports_usd)),
                esc(&group(&r.exports_usd)),
                pct(r.sanctioned)
            );
        }
    }
    b.push_str("<h2>Paths from a sanctioned source</h2>\n");
    if t.paths.is_empty() {
        b.push_str(if t.paths_truncated {
            "<p>None listed: the search was cut by its limits (--max-paths, --max-hops) before it completed one. The shares above are exact.</p>\n"
        } else if e.sanctioned > EPS {
            "<p>None listed.</p>\n"
        } else {
            "<p>None (no sanctioned share).</p>\n"
        });
    } else {
        let d = Diagram::of_hops(t.paths.iter().map(|p| (Some(p.share), p.hops.as_slice())));
        b.push_str(&legend("line width: share of the shipment's value"));
        b.push_str(&d.svg(&format!("paths into shipment {}", t.shipment_id)));
        b.push_str(&path_table(&t.paths, t.paths_found, t.paths_truncated));
        for (i, p) in t.paths.iter().enumerate() {
            let _ = writeln!(
                b,
                "<h3 style=\"margin-top:14px\">{}. {} <span class=\"mute\">share {} ({})</span></h3>{}",
                i + 1,
                esc(&p.nodes.replace('>', " → ")),
                pct(p.share),
                esc(p.grade),
                hop_rows(&p.hops)
            );
        }
    }
    page(&format!("trace {}", t.shipment_id), &b)
}
