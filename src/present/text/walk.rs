//! `paths` as text: each chain as `A>B>C`, then its hops with their dates, values and first records.

use super::Text;
use crate::present::{PresentError, Render};
use crate::query::walk::WalkJson;
use std::fmt::Write;

impl Render<WalkJson> for Text {
    /// Made printable line by line, as [`Text`] does for `trace`.
    fn render(&self, w: &WalkJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(crate::util::text::printable_lines(&walk_text(w)).as_bytes())?;
        Ok(())
    }
}

/// The bounds that cut a walk, as a person names them.
fn cut_names(cut_by: &[&str]) -> String {
    cut_by
        .iter()
        .map(|c| match *c {
            "limit" => "--limit",
            "max_hops" => "--max-hops",
            _ => "the work bound",
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The paths for a person.
fn walk_text(w: &WalkJson) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Time-respecting paths from {} to {}{} ({} found{}):",
        w.from,
        w.to,
        w.hs.as_ref()
            .map(|h| format!(", HS {h}"))
            .unwrap_or_default(),
        w.paths.len(),
        if w.truncated {
            format!(", list cut by {}", cut_names(&w.cut_by))
        } else {
            String::new()
        }
    );
    if w.paths.is_empty() {
        if w.truncated {
            let _ = writeln!(
                o,
                "  none found before the search was cut ({}): a chain may still exist",
                cut_names(&w.cut_by)
            );
        } else {
            let _ = writeln!(o, "  none");
        }
    }
    for (i, p) in w.paths.iter().enumerate() {
        let _ = writeln!(o, "  {}. {}", i + 1, p.nodes);
        for h in &p.hops {
            let _ = writeln!(
                o,
                "     {} -> {}  {}{}{}  {}",
                h.from,
                h.to,
                h.kind,
                h.date
                    .as_ref()
                    .map(|d| format!(", {d}"))
                    .unwrap_or_default(),
                h.value_usd
                    .as_ref()
                    .map(|v| format!(", {v} USD"))
                    .unwrap_or_default(),
                h.records
                    .iter()
                    .take(4)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    o
}
