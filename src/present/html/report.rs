//! `report --format html`: headline figures, the flagged shipments (sortable, filterable), the summaries, and
//! the top flagged shipments with their paths drawn.

use super::svg::{Diagram, legend};
use super::{
    Fig, Html, MAX_TABLE_ROWS, cut_note, esc, figures, flag_list, header, page, path_table, place,
    sev_badge,
};
use crate::engine::rules::Severity;
use crate::present::fmt::{group, pct, short};
use crate::present::{PresentError, Render};
use crate::query::report::{Report, ShipmentRow, Summary, TopShipment, TracedReport};
use std::collections::HashMap;
use std::fmt::Write;

fn summary_table(id: &str, list: &[Summary]) -> String {
    let mut o = format!(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"{}\"><thead><tr><th>party</th><th>name</th><th>place</th><th class=\"r\" data-type=\"num\">shipments</th><th class=\"r\" data-type=\"num\">value (USD)</th><th class=\"r\" data-type=\"num\">exposed value (USD)</th><th class=\"r\" data-type=\"num\">flagged</th><th data-type=\"num\">severity</th><th>flags</th></tr></thead><tbody>",
        esc(id)
    );
    for s in list {
        let flags: Vec<String> = s
            .flag_counts
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        let _ = write!(
            o,
            "<tr data-sev=\"{sev}\"><td class=\"id\">{}</td><td>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\">{}</td><td data-v=\"{}\">{}</td><td>{}</td></tr>",
            esc(&s.party_id),
            esc(&s.name),
            esc(&place(&s.country, &s.region)),
            s.shipments,
            esc(&s.value_usd),
            esc(&group(&s.value_usd)),
            esc(&s.exposed_value_usd),
            esc(&group(&s.exposed_value_usd)),
            s.flagged_shipments,
            s.severity as u8,
            sev_badge(s.severity.as_str()),
            esc(&flags.join(", ")),
            sev = s.severity.as_str()
        );
    }
    o.push_str("</tbody></table></div>\n");
    o
}

fn flagged_table(rows: &[&ShipmentRow], anchors: &HashMap<&str, usize>) -> String {
    let mut o = String::from(
        "<div class=\"controls\" data-filter=\"flagged\"><input type=\"search\" placeholder=\"filter: id, party, flag, path…\" aria-label=\"filter the flagged shipments\"><select aria-label=\"severity\"><option value=\"\">any severity</option><option value=\"high\">high</option><option value=\"medium\">medium</option><option value=\"low\">low</option></select><span><span class=\"shown\"></span> shown</span></div>\n",
    );
    o.push_str("<div class=\"scroll\"><table class=\"sortable\" id=\"flagged\"><thead><tr><th>shipment</th><th>shipper</th><th>consignee</th><th class=\"r\" data-type=\"num\">value (USD)</th><th class=\"r\" data-type=\"num\">sanctioned</th><th class=\"r\" data-type=\"num\">unknown</th><th class=\"r\" data-type=\"num\">exposed value (USD)</th><th data-type=\"num\">severity</th><th>flags</th><th>top path</th></tr></thead><tbody>");
    for x in rows {
        let id = match anchors.get(x.shipment_id.as_str()) {
            Some(k) => format!("<a href=\"#top-{k}\">{}</a>", esc(&x.shipment_id)),
            None => esc(&x.shipment_id),
        };
        let _ = write!(
            o,
            "<tr data-sev=\"{sev}\"><td><span class=\"id\">{id}</span><br><span class=\"mute\">{} · HS {}</span></td><td title=\"{}\">{}<br><span class=\"id mute\">{}</span></td><td title=\"{}\">{}<br><span class=\"id mute\">{}</span></td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td class=\"wrap\">{}</td><td class=\"id wrap path\">{}</td></tr>",
            esc(&x.date),
            esc(&x.hs_code),
            esc(&format!(
                "{} ({}, {})",
                x.shipper_name,
                x.shipper_id,
                place(&x.shipper_country, &x.shipper_region)
            )),
            esc(&short(&x.shipper_name, 20)),
            esc(&x.shipper_id),
            esc(&format!(
                "{} ({}, {})",
                x.consignee_name, x.consignee_id, x.consignee_country
            )),
            esc(&short(&x.consignee_name, 20)),
            esc(&x.consignee_id),
            esc(&x.value_usd),
            esc(&group(&x.value_usd)),
            x.sanctioned,
            pct(x.sanctioned),
            x.unknown,
            pct(x.unknown),
            esc(&x.exposed_value_usd),
            esc(&group(&x.exposed_value_usd)),
            x.severity as u8,
            sev_badge(x.severity.as_str()),
            esc(&x.flags.join(", ")),
            esc(&format!(
                "{}{}",
                x.top_path.replace('>', " → "),
                if x.paths_truncated {
                    " (path search cut)"
                } else {
                    ""
                }
            )),
            sev = x.severity.as_str()
        );
    }
    o.push_str("</tbody></table></div>\n");
    o
}

/// A top shipment's card: its figures, flags, path diagram and path table.
fn shipment_card(k: usize, x: &ShipmentRow, t: &TopShipment) -> String {
    let mut o = format!("<article class=\"card\" id=\"top-{k}\">");
    let _ = write!(
        o,
        "<h3>{}. {} <span class=\"sev {}\">{}</span></h3><div class=\"meta\">{} · HS {} · {} → {}</div>",
        k,
        esc(&x.shipment_id),
        esc(x.severity.as_str()),
        esc(x.severity.as_str()),
        esc(&x.date),
        esc(&x.hs_code),
        esc(&format!(
            "{} ({}, {})",
            x.shipper_name,
            x.shipper_id,
            place(&x.shipper_country, &x.shipper_region)
        )),
        esc(&format!(
            "{} ({}, {})",
            x.consignee_name, x.consignee_id, x.consignee_country
        )),
    );
    let _ = write!(
        o,
        "<div class=\"nums\"><span>value <b>{}</b> USD</span><span>sanctioned <b>{}</b></span><span>unknown <b>{}</b></span><span>clean <b>{}</b></span><span>coverage <b>{}</b></span><span>exposed value <b>{}</b> USD</span><span>by evidence: documented {}, declared {}, statistical {}</span></div>",
        esc(&group(&x.value_usd)),
        pct(x.sanctioned),
        pct(x.unknown),
        pct(x.clean),
        pct(x.coverage),
        esc(&group(&x.exposed_value_usd)),
        pct(x.documented),
        pct(x.declared),
        pct(x.statistical),
    );
    if !t.flags.is_empty() {
        o.push_str(&flag_list(&t.flags));
    }
    if t.paths.is_empty() {
        o.push_str("<p class=\"mute\">No path from a sanctioned source carries weight into this shipment.</p>");
    } else {
        let d = Diagram::of_hops(t.paths.iter().map(|p| (Some(p.share), p.hops.as_slice())));
        o.push_str(&d.svg(&format!("paths into shipment {}", x.shipment_id)));
        o.push_str(&path_table(&t.paths, t.paths_found, t.truncated));
    }
    let _ = write!(
        o,
        "<p class=\"mute noprint\">Every record behind these paths: <code>origintrace trace {}</code>.</p>",
        esc(&x.shipment_id)
    );
    o.push_str("</article>\n");
    o
}

fn by(r: &Report, k: &str) -> usize {
    r.totals.by_severity.get(k).copied().unwrap_or(0)
}

/// Counts by severity, with a bar of their proportions.
fn severity_card(r: &Report) -> String {
    let kinds = [
        ("high", "high"),
        ("medium", "medium"),
        ("low", "low"),
        ("none", "not flagged"),
    ];
    let mut o = String::from(
        "<div class=\"fig wide\" id=\"fig-severity\"><div class=\"l\">shipments by severity</div><div class=\"bar\" aria-hidden=\"true\">",
    );
    for (k, _) in kinds {
        let n = by(r, k);
        if n > 0 {
            let _ = write!(o, "<span class=\"{k}\" style=\"flex:{n}\"></span>");
        }
    }
    o.push_str("</div><div class=\"counts\">");
    for (k, label) in kinds {
        let _ = write!(
            o,
            "<span id=\"fig-{k}\"><i class=\"sw {k}\"></i>{label} <b>{}</b></span>",
            group(&by(r, k).to_string())
        );
    }
    o.push_str("</div></div>");
    o
}

impl Render<TracedReport> for Html {
    fn render(&self, v: &TracedReport, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let r = &v.report;
        let t = &r.totals;
        let m = &r.meta;
        let st = &m.settings;
        let mut b = String::new();
        let inputs: Vec<&str> = m.inputs.iter().map(|i| i.file.as_str()).collect();
        let origins: Vec<String> = st
            .sanctioned_origins
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut lines = vec![
            format!(
                "{} shipments scored from {}",
                m.shipments,
                if inputs.is_empty() {
                    "no file".to_string()
                } else {
                    inputs.join(", ")
                }
            ),
            format!(
                "sanctioned origins {}; inputs counted {} days back; origintrace {}, model v{}",
                origins.join(", "),
                st.lag_days,
                m.version,
                m.model_version
            ),
        ];
        if m.flagged_only || m.min_severity > Severity::None {
            lines.push(format!(
                "rows shown: {}{} ({} of {}); the headline figures count every shipment",
                if m.flagged_only { "flagged only" } else { "" },
                if m.min_severity > Severity::None {
                    format!(" severity ≥ {}", m.min_severity.as_str())
                } else {
                    String::new()
                },
                m.rows_shown,
                m.shipments
            ));
        }
        b.push_str(&header(
            "origin exposure report",
            "Could these shipments carry sanctioned inputs?",
            &lines,
        ));
        b.push_str(&figures(
            &[
                Fig {
                    id: "shipments",
                    label: "shipments",
                    value: group(&t.shipments.to_string()),
                    note: format!("{} USD", group(&t.value_usd)),
                    class: "",
                },
                Fig {
                    id: "flagged",
                    label: "flagged shipments",
                    value: group(&t.flagged_shipments.to_string()),
                    note: format!("{} USD", group(&t.flagged_value_usd)),
                    class: "alert",
                },
                Fig {
                    id: "exposed",
                    label: "exposed value (USD)",
                    value: group(&t.exposed_value_usd),
                    note: "Σ value × sanctioned share".into(),
                    class: "alert",
                },
            ],
            &severity_card(r),
        ));
        // The top flagged shipments (the highest exposed value first) are linked to their cards.
        let anchors: HashMap<&str, usize> = v
            .top
            .iter()
            .enumerate()
            .map(|(k, t)| (r.rows[t.row].shipment_id.as_str(), k + 1))
            .collect();
        // The rows may hold only what this page lists (query::report::report_page): the first
        // `table_rows` flagged rows in report order, then top shipments beyond them. The count is the
        // view's, never the length of what is held.
        let flagged: Vec<&ShipmentRow> = r.rows.iter().filter(|x| !x.flags.is_empty()).collect();
        let _ = write!(
            b,
            "<h2>Flagged shipments ({})</h2>\n<p class=\"mute\">Sorted by sanctioned share; click a column to sort, type to filter. Shares are of the shipment's value; exposed value = value × sanctioned share.</p>\n",
            v.flagged
        );
        if v.flagged == 0 {
            b.push_str("<p>No shipment raised a flag.</p>\n");
        } else {
            let shown = v.flagged.min(v.table_rows).min(flagged.len());
            b.push_str(&flagged_table(&flagged[..shown], &anchors));
            b.push_str(&cut_note(shown, v.flagged, "flagged shipments"));
        }
        b.push_str("<h2>Importers</h2>\n<p class=\"mute\">Per consignee, the highest exposed value first.</p>\n");
        let shown = r.importers.len().min(MAX_TABLE_ROWS);
        b.push_str(&summary_table("importers", &r.importers[..shown]));
        b.push_str(&cut_note(shown, r.importers.len(), "importers"));
        let _ = write!(
            b,
            "<details><summary>Exporters ({})</summary>\n{}</details>\n",
            r.exporters.len(),
            summary_table(
                "exporters",
                &r.exporters[..r.exporters.len().min(MAX_TABLE_ROWS)]
            ) + &cut_note(
                r.exporters.len().min(MAX_TABLE_ROWS),
                r.exporters.len(),
                "exporters"
            )
        );
        let _ = write!(
            b,
            "<h2>Top flagged shipments: paths</h2>\n<p class=\"mute\">The {} flagged shipments with the highest exposed value, each with its top {} paths from a sanctioned source, laid out origin → region → traders → exporter → importer.</p>\n",
            v.top.len(),
            v.paths_each
        );
        b.push_str(&legend("line width: share of the shipment's value"));
        for (k, t) in v.top.iter().enumerate() {
            b.push_str(&shipment_card(k + 1, &r.rows[t.row], t));
        }
        // The run, for the file.
        b.push_str("<h2>Run</h2>\n<table><thead><tr><th>input</th><th class=\"r\">read</th><th class=\"r\">accepted</th><th class=\"r\">rejected</th><th>sha256</th></tr></thead><tbody>");
        for f in &m.inputs {
            let _ = write!(
                b,
                "<tr><td class=\"id\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"id\">{}</td></tr>",
                esc(&f.file),
                f.read,
                f.accepted,
                f.rejected,
                esc(&f.sha256)
            );
        }
        b.push_str("</tbody></table>\n");
        let transit: Vec<String> = st.transit_partners.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(
            b,
            "<footer>origintrace {} · model v{} · sanctioned origins {} · transit partners {} · lag {} days · severity thresholds medium {} / high {} · settings in force: {} · the JSON report (<code>--format json</code>) carries every setting in force.</footer>",
            esc(m.version),
            esc(m.model_version),
            esc(&origins.join(", ")),
            esc(&transit.join(", ")),
            st.lag_days,
            st.severity.medium,
            st.severity.high,
            esc(&st.summary())
        );
        out.write_all(page("origintrace report", &b).as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::report::testing::{FILTERS, with_sample};
    use crate::query::report::{self, PAGE_ROWS, report_page};

    /// The page made without holding every row is byte for byte the page of the whole report, for filters
    /// that show all rows, some and few, with the flagged table at its usual length and cut to three rows
    /// (so that top shipments fall beyond the listed rows and are carried separately).
    #[test]
    fn page_view_is_the_page_of_the_whole_report() {
        with_sample(|a| {
            for filter in FILTERS {
                for cap in [PAGE_ROWS, 3] {
                    let mut whole = report::traced(a, report::build(a, a.score_all(), filter));
                    whole.table_rows = cap;
                    let (page, worst) = report_page(a, filter, cap);
                    assert_eq!(worst, Severity::High);
                    assert_eq!(page.flagged, whole.flagged);
                    if cap == 3 {
                        assert!(page.report.rows.len() < whole.report.rows.len());
                        assert!(page.report.rows.len() <= 3 + report::TOP_TRACED);
                        // Some top shipment lies beyond the three listed rows, so the carried rows are used.
                        assert!(page.top.iter().any(|t| t.row >= 3));
                    }
                    let (x, y) = (
                        Html.to_bytes(&whole).expect("render"),
                        Html.to_bytes(&page).expect("render"),
                    );
                    assert_eq!(String::from_utf8_lossy(&x), String::from_utf8_lossy(&y));
                }
            }
        });
    }
}
