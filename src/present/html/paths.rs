//! `paths --format html`: the chains from an origin to a party, drawn (weights ignored) and listed hop by hop.

use super::svg::{Diagram, legend};
use super::{Fig, Html, esc, figures, header, hop_rows, page};
use crate::present::{PresentError, Render};
use crate::query::walk::WalkJson;
use std::fmt::Write;

impl Render<WalkJson> for Html {
    fn render(&self, w: &WalkJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(walk_page(w).as_bytes())?;
        Ok(())
    }
}

/// Paths as a page: the chains drawn (weights ignored: every line has the same width) and listed.
fn walk_page(w: &WalkJson) -> String {
    let mut b = String::new();
    let mut lines = vec![format!(
        "time-respecting chains from {} to {}{}, at most {} hops; weights ignored",
        w.from,
        w.to,
        w.hs.as_ref()
            .map(|h| format!(", HS {h}"))
            .unwrap_or_default(),
        w.max_hops
    )];
    if w.truncated {
        lines.push(format!(
            "the list was cut ({})",
            if w.cut_by.is_empty() {
                "limit".to_string()
            } else {
                w.cut_by.join(", ")
            }
        ));
    }
    b.push_str(&header(
        "paths",
        &format!("From {} to {}", w.from, w.to),
        &lines,
    ));
    b.push_str(&figures(
        &[Fig {
            id: "paths",
            label: "paths found",
            value: w.paths.len().to_string(),
            note: if w.truncated {
                "list cut".into()
            } else {
                "all found".into()
            },
            class: if w.paths.is_empty() { "" } else { "alert" },
        }],
        "",
    ));
    if w.paths.is_empty() {
        b.push_str("<p>No chain links the origin to the party.</p>\n");
    } else {
        let d = Diagram::of_hops(w.paths.iter().map(|p| (None, p.hops.as_slice())));
        b.push_str(&legend("every chain drawn at the same width"));
        b.push_str(&d.svg(&format!("paths from {} to {}", w.from, w.to)));
        for (i, p) in w.paths.iter().enumerate() {
            let _ = writeln!(
                b,
                "<h3 style=\"margin-top:14px\">{}. {}</h3>{}",
                i + 1,
                esc(&p.nodes.replace('>', " → ")),
                hop_rows(&p.hops)
            );
        }
    }
    page(&format!("paths to {}", w.to), &b)
}
