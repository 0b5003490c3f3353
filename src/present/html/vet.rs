//! `vet --format html`: who the party is, the overall severity and why, the watchlist, what it bought, what
//! its goods carry per heading, its suppliers (drawn and listed), its flags and the next steps.

use super::svg::{DHop, DNode, DPath, Diagram, bare_party_node, geo_node, legend};
use super::{Fig, Html, counterparty_table, esc, figures, header, page, sev_badge};
use crate::engine::model::EPS;
use crate::present::fmt::{group, pct, short};
use crate::present::{PresentError, Render};
use crate::query::trace::RegimeJson;
use crate::query::vet::VetJson;
use std::fmt::Write;

impl Render<VetJson> for Html {
    fn render(&self, v: &VetJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(vet_page(v).as_bytes())?;
        Ok(())
    }
}

/// A vet as a page: identity, watchlist, mix per heading, suppliers (drawn and listed), flags, next steps.
fn vet_page(v: &VetJson) -> String {
    let p = &v.party;
    let mut b = String::new();
    let mut lines = vec![format!(
        "{} · {}{}{}",
        p.party_id,
        p.country,
        p.region
            .as_ref()
            .map(|r| format!(", {r}"))
            .unwrap_or_default(),
        p.city
            .as_ref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default()
    )];
    if !p.aliases.is_empty() {
        lines.push(format!("also known as: {}", p.aliases.join("; ")));
    }
    if !p.identifiers.is_empty() {
        lines.push(format!("identifiers: {}", p.identifiers.join("; ")));
    }
    lines.push(format!(
        "as of {} (inputs counted from {})",
        v.as_of, v.window
    ));
    b.push_str(&header("supplier vetting", &p.name, &lines));
    if p.located_in_sanctioned_country {
        b.push_str("<p><span class=\"sev high\">sanctioned origin</span> Located in a sanctioned country: everything it ships is a sanctioned input.</p>\n");
    }
    let worst = v
        .headings
        .iter()
        .max_by(|a, b| a.now.sanctioned.total_cmp(&b.now.sanctioned));
    b.push_str(&figures(
        &[
            Fig {
                id: "severity",
                label: "overall severity",
                value: v.severity.as_str().into(),
                note: format!(
                    "{} finding(s); {} flag rule(s) on its own shipments",
                    v.findings.len(),
                    v.flags.len()
                ),
                class: v.severity.as_str(),
            },
            Fig {
                id: "watchlist",
                label: "watchlist matches",
                value: v.watchlist.len().to_string(),
                note: if v.watchlist.is_empty() {
                    "no match".into()
                } else {
                    "screen before any purchase".into()
                },
                class: if v.watchlist.is_empty() { "" } else { "alert" },
            },
            Fig {
                id: "sanctioned",
                label: "sanctioned now",
                value: worst.map_or("n/a".into(), |h| pct(h.now.sanctioned)),
                note: worst.map_or("nothing shipped".into(), |h| {
                    format!(
                        "HS {} (of {} heading(s)); exposure {} to {}",
                        h.heading,
                        v.headings.len(),
                        pct(h.now.interval[0]),
                        pct(h.now.interval[1])
                    )
                }),
                class: if worst.is_some_and(|h| h.now.sanctioned > EPS) {
                    "alert"
                } else {
                    ""
                },
            },
            Fig {
                id: "suppliers",
                label: "suppliers",
                value: (v.documented_suppliers.len() + v.declared_suppliers.len()).to_string(),
                note: format!(
                    "{} documented, {} declared",
                    v.documented_suppliers.len(),
                    v.declared_suppliers.len()
                ),
                class: "",
            },
        ],
        "",
    ));
    for w in &v.warnings {
        let _ = writeln!(b, "<p class=\"alert\"><b>Warning:</b> {}</p>", esc(w));
    }
    if !v.findings.is_empty() {
        b.push_str("<h2>Why the overall severity</h2>\n<ul>");
        for f in &v.findings {
            let _ = write!(
                b,
                "<li><span class=\"sev {}\">{}</span> {}</li>",
                f.severity.as_str(),
                f.severity.as_str(),
                esc(&f.what)
            );
        }
        b.push_str("</ul>\n");
    }
    if !v.watchlist.is_empty() {
        b.push_str("<h2>Watchlist</h2>\n<table><thead><tr><th>listed entity</th><th>list</th><th>entry</th><th>program</th><th>matched</th><th class=\"r\">score</th><th>why</th></tr></thead><tbody>");
        for h in &v.watchlist {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"id\">{}</td><td>{}</td><td>{}</td><td class=\"r\">{:.2}</td><td>{}</td></tr>",
                esc(&h.entry_name),
                esc(h.source.as_deref().unwrap_or("")),
                esc(&h.entry_id),
                esc(h.program.as_deref().unwrap_or("")),
                esc(&h.matched),
                h.score,
                esc(&h.why)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str(&counterparty_table(&v.counterparties));
    let bo = &v.bought;
    let _ = writeln!(b, "<h2>What it bought ({})</h2>", esc(&bo.window));
    if bo.shipments == 0 {
        b.push_str("<p>Nothing.</p>\n");
    } else {
        let _ = writeln!(
            b,
            "<p>{} shipment(s), {} USD; value-weighted sanctioned <b>{}</b>, unknown {}, clean {}; highest flag <span class=\"sev {}\">{}</span>.</p>",
            bo.shipments,
            esc(&group(&bo.value_usd)),
            pct(bo.mix.sanctioned),
            pct(bo.mix.unknown),
            pct(bo.mix.clean),
            bo.severity.as_str(),
            bo.severity.as_str()
        );
        if !bo.flagged.is_empty() {
            b.push_str("<table><thead><tr><th>shipment</th><th>date</th><th>supplier</th><th>HS</th><th class=\"r\">value (USD)</th><th class=\"r\">sanctioned</th><th>severity</th><th>flags</th></tr></thead><tbody>");
            for x in &bo.flagged {
                let _ = write!(
                    b,
                    "<tr><td class=\"id\">{}</td><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td><span class=\"sev {}\">{}</span></td><td>{}</td></tr>",
                    esc(&x.shipment_id),
                    esc(&x.date),
                    esc(&x.supplier),
                    esc(&x.hs_code),
                    esc(&group(&x.value_usd)),
                    pct(x.sanctioned),
                    x.severity.as_str(),
                    x.severity.as_str(),
                    esc(&x.flags.join("; "))
                );
            }
            b.push_str("</tbody></table>\n");
        }
    }
    b.push_str("<h2>What its goods carry, per heading</h2>\n");
    if v.headings.is_empty() {
        b.push_str("<p>No outbound shipment up to the as-of date.</p>\n");
    }
    for h in &v.headings {
        let e = &h.now;
        let _ = write!(
            b,
            "<div class=\"card\"><h3>HS {}</h3><div class=\"nums\"><span><b>{}</b> shipments</span><span><b>{}</b> USD</span><span>now: sanctioned <b>{}</b></span><span>unknown <b>{}</b></span><span>clean <b>{}</b></span><span>exposure {} to {}</span><span>coverage {}</span></div>",
            esc(&h.heading),
            h.shipments,
            esc(&group(&h.value_usd)),
            pct(e.sanctioned),
            pct(e.unknown),
            pct(e.clean),
            pct(e.interval[0]),
            pct(e.interval[1]),
            pct(e.coverage)
        );
        b.push_str("<table><thead><tr><th>month</th><th class=\"r\">shipments</th><th class=\"r\">value (USD)</th><th class=\"r\">sanctioned</th><th class=\"r\">unknown</th><th class=\"r\">coverage</th></tr></thead><tbody>");
        for m in &h.months {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
                esc(&m.month),
                m.shipments,
                esc(&group(&m.value_usd)),
                pct(m.sanctioned),
                pct(m.unknown),
                pct(m.coverage)
            );
        }
        b.push_str("</tbody></table>");
        if let Some(pl) = &h.pool {
            let _ = write!(
                b,
                "<p class=\"mute\">Pool {} ({}): sanctioned imports {} USD of {} USD imports, exports {} USD → sanctioned {}, clean {}, unknown {}; prevalence {}{}.</p>",
                esc(&pl.scope),
                esc(&pl.window),
                esc(&group(&pl.sanctioned_imports_usd)),
                esc(&group(&pl.imports_usd)),
                esc(&group(&pl.exports_usd)),
                pct(pl.sanctioned),
                pct(pl.clean),
                pct(pl.unknown),
                pct(pl.prevalence),
                esc(&regimes(&pl.sanctioned_by_regime))
            );
        }
        b.push_str("</div>\n");
    }
    b.push_str("<h2>Suppliers</h2>\n");
    // The suppliers drawn into the party: documented ones by their share of the value received, declared
    // ones by their declared share.
    let total: f64 = v
        .documented_suppliers
        .iter()
        .filter_map(|s| s.value_usd.parse::<f64>().ok())
        .sum();
    let mut d = Diagram::new(["", "", "suppliers", "", "party"]);
    let me = d.add(DNode {
        key: format!("party:{}", p.party_id),
        label: short(&p.name, 24),
        sub: short(&p.party_id, 30),
        title: format!("{} ({})", p.name, p.party_id),
        geo: false,
        hot: p.located_in_sanctioned_country,
    });
    for s in &v.documented_suppliers {
        let i = d.add(DNode {
            key: format!("party:{}", s.party_id),
            label: short(&s.name, 24),
            sub: short(
                &format!(
                    "{} · {}",
                    s.party_id,
                    s.region.clone().unwrap_or_else(|| s.country.clone())
                ),
                30,
            ),
            title: format!(
                "{} ({}): {} shipments, {} USD, sanctioned {}",
                s.name,
                s.party_id,
                s.shipments,
                s.value_usd,
                pct(s.mix.sanctioned)
            ),
            geo: false,
            hot: s.mix.sanctioned > EPS,
        });
        let share = if total > 0.0 {
            s.value_usd.parse::<f64>().unwrap_or(0.0) / total
        } else {
            0.0
        };
        d.paths.push(DPath {
            share: Some(share),
            hops: vec![DHop {
                from: i,
                to: me,
                grade: "documented",
            }],
        });
    }
    for s in &v.declared_suppliers {
        let mut n = match s.supplier.strip_prefix("country:") {
            Some(c) => geo_node(c, false),
            None => bare_party_node(&s.supplier),
        };
        n.hot = s.mix.sanctioned > EPS;
        let i = d.add(n);
        d.paths.push(DPath {
            share: Some(s.share),
            hops: vec![DHop {
                from: i,
                to: me,
                grade: "declared",
            }],
        });
    }
    if d.paths.is_empty() {
        b.push_str("<p>No supplier on record.</p>\n");
    } else {
        let bands = (0..d.nodes.len())
            .map(|i| if i == me { 4 } else { 2 })
            .collect();
        d.bands = Some(bands);
        b.push_str(&legend(
            "line width: share of its inputs (documented: of the value received; declared: the declared share)",
        ));
        b.push_str(&d.svg(&format!("suppliers of {}", p.party_id)));
    }
    let _ = write!(
        b,
        "<h3 style=\"margin-top:12px\">Documented suppliers (shipments received {})</h3>",
        esc(&v.window)
    );
    if v.documented_suppliers.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<table><thead><tr><th>supplier</th><th>screening</th><th>place</th><th class=\"r\">shipments</th><th class=\"r\">value (USD)</th><th>HS</th><th>dates</th><th class=\"r\">sanctioned</th><th class=\"r\">unknown</th></tr></thead><tbody>");
        for s in &v.documented_suppliers {
            let mut screening: Vec<String> = s.watchlist.clone();
            if s.located_in_sanctioned_country {
                screening.insert(0, format!("located in {}, a sanctioned country", s.country));
            }
            screening.extend(s.counterparties.iter().map(|c| {
                format!(
                    "{} {} ({}), {} shipment(s)",
                    c.direction.replace('_', " "),
                    c.party_id,
                    c.country,
                    c.shipments
                )
            }));
            let _ = write!(
                b,
                "<tr><td>{}<br><span class=\"id mute\">{}</span></td><td>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td><td>{}..{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
                esc(&s.name),
                esc(&s.party_id),
                if screening.is_empty() {
                    "no match".to_string()
                } else {
                    esc(&screening.join("; "))
                },
                esc(s.region.as_deref().unwrap_or(&s.country)),
                s.shipments,
                esc(&group(&s.value_usd)),
                esc(&s.hs_codes.join("/")),
                esc(&s.first),
                esc(&s.last),
                pct(s.mix.sanctioned),
                pct(s.mix.unknown)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("<h3 style=\"margin-top:12px\">Declared suppliers</h3>");
    if v.declared_suppliers.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<table><thead><tr><th>declaration</th><th>supplier</th><th>HS</th><th class=\"r\">share</th><th>valid</th><th>source</th><th class=\"r\">sanctioned</th><th class=\"r\">unknown</th><th>basis</th></tr></thead><tbody>");
        for s in &v.declared_suppliers {
            let _ = write!(
                b,
                "<tr><td class=\"id\">{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\">{}</td><td>{}..{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td></tr>",
                esc(&s.link_id),
                esc(&s.supplier),
                esc(&s.hs_code),
                s.share,
                esc(s.valid_from.as_deref().unwrap_or("open")),
                esc(s.valid_to.as_deref().unwrap_or("open")),
                esc(s.source.as_deref().unwrap_or("")),
                pct(s.mix.sanctioned),
                pct(s.mix.unknown),
                esc(&s.basis)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push('\n');
    if !v.flags.is_empty() {
        b.push_str("<h2>Flags on its own shipments</h2>\n<ul class=\"flags\">");
        for f in &v.flags {
            let _ = write!(
                b,
                "<li>{} <b>{}</b> on {} shipment(s)</li>",
                sev_badge(f.severity.as_str()),
                esc(&f.rule),
                f.shipments
            );
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<h2>Next steps</h2>\n");
    if v.next_steps.is_empty() {
        b.push_str("<p>None: its inputs are covered by firm-level evidence and nothing sanctioned was found.</p>\n");
    } else {
        b.push_str("<ol class=\"steps\">");
        for s in &v.next_steps {
            let _ = write!(b, "<li>{}</li>", esc(s));
        }
        b.push_str("</ol>\n");
    }
    page(&format!("vet {}", p.party_id), &b)
}

/// "; sanctioned imports by regime: outward-processing 30474000 USD" (nothing when none are known).
fn regimes(r: &[RegimeJson]) -> String {
    if r.is_empty() {
        return String::new();
    }
    format!(
        "; sanctioned imports by regime: {}",
        r.iter()
            .map(|x| format!("{} {} USD", x.regime, group(&x.value_usd)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
