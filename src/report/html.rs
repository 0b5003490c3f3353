//! HTML: one self-contained page (no external request), every string escaped.

use super::{Exporter, Report};
use crate::analysis::Analysis;

pub struct Html;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

impl Exporter for Html {
    fn export(&self, _a: &Analysis, r: &Report) -> Result<Vec<u8>, String> {
        let mut o = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>origintrace report</title></head><body>",
        );
        o.push_str(&format!(
            "<h1>origintrace report</h1><p>{} shipments</p><table>",
            r.totals.shipments
        ));
        for x in &r.rows {
            o.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.shipment_id),
                esc(&x.shipper_name),
                esc(&x.top_path)
            ));
        }
        o.push_str("</table></body></html>\n");
        Ok(o.into_bytes())
    }
}

/// A trace as a page.
pub fn trace_page(_a: &Analysis, t: &crate::query::trace::TraceJson) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>trace {}</title></head><body><pre>{}</pre></body></html>\n",
        esc(&t.shipment_id),
        esc(&crate::query::trace::trace_text(t))
    )
}

/// A vet as a page.
pub fn vet_page(v: &crate::query::vet::VetJson) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>vet {}</title></head><body><pre>{}</pre></body></html>\n",
        esc(&v.party.party_id),
        esc(&crate::query::vet::vet_text(v))
    )
}

/// Paths as a page.
pub fn walk_page(w: &crate::query::walk::WalkJson) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>paths to {}</title></head><body><pre>{}</pre></body></html>\n",
        esc(&w.to),
        esc(&crate::query::walk::walk_text(w))
    )
}
