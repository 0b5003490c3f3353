//! `check` as text: per-file accounting, superseded statistics rows, a summary, probable duplicates and
//! problems.

use super::Text;
use crate::present::{PresentError, Render};
use crate::query::check::CheckReport;
use std::fmt::Write;

impl Render<CheckReport> for Text {
    /// Written as it is: `check` prints file names and problems for the person fixing the data, and the one
    /// line taken from the settings is made printable where it is written.
    fn render(&self, c: &CheckReport, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        out.write_all(check_text(c).as_bytes())?;
        Ok(())
    }
}

/// The text section of [`probable_duplicates`](crate::query::check::probable_duplicates): the first 50, then a count.
fn duplicates_text(c: &CheckReport, o: &mut String) {
    let d = &c.probable_duplicates;
    let _ = writeln!(o);
    if d.is_empty() {
        let _ = writeln!(o, "Probable duplicate parties: none");
        return;
    }
    let _ = writeln!(
        o,
        "Probable duplicate parties ({}; merge them, or keep imports from joining them with 'different' in entity_map.csv):",
        d.len()
    );
    for p in d.iter().take(50) {
        let _ = writeln!(
            o,
            "  {} '{}' = {} '{}'  score {:.2} ({})",
            p.party_a, p.name_a, p.party_b, p.name_b, p.score, p.basis
        );
    }
    if d.len() > 50 {
        let _ = writeln!(o, "  … and {} more", d.len() - 50);
    }
}

/// The table of files, the superseded rows, the summary, the duplicates and the problems.
fn check_text(c: &CheckReport) -> String {
    let mut o = String::new();
    let w = c
        .files
        .iter()
        .map(|f| f.file.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        o,
        "{:<w$}  {:>9}  {:>9}  {:>9}  unknown columns",
        "file", "read", "accepted", "rejected"
    );
    for f in &c.files {
        let _ = writeln!(
            o,
            "{:<w$}  {:>9}  {:>9}  {:>9}  {}",
            f.file,
            f.read,
            f.accepted,
            f.rejected,
            f.unknown_columns.join(", ")
        );
    }
    let (r, a, j) = c.files.iter().fold((0, 0, 0), |acc, f| {
        (acc.0 + f.read, acc.1 + f.accepted, acc.2 + f.rejected)
    });
    let _ = writeln!(o, "{:<w$}  {:>9}  {:>9}  {:>9}", "total", r, a, j);
    let _ = writeln!(o);
    if c.superseded.is_empty() {
        let _ = writeln!(o, "Superseded statistics rows: none");
    } else {
        let _ = writeln!(
            o,
            "Superseded statistics rows (finer rows of the same reporter, region, partner and flow are used instead):"
        );
        for s in &c.superseded {
            let _ = writeln!(
                o,
                "  {} ({}): {} {}{} {} {} HS {} {} USD",
                s.flow_id,
                s.location,
                s.period,
                s.reporter,
                s.region
                    .as_ref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default(),
                s.flow,
                s.partner,
                s.hs_code,
                s.value_usd
            );
        }
    }
    let s = &c.summary;
    let _ = writeln!(o);
    let _ = writeln!(o, "Summary:");
    let _ = writeln!(o, "  parties          {}", s.parties);
    let _ = writeln!(
        o,
        "  shipments        {} ({}..{}), {} USD",
        s.shipments,
        s.first_date.clone().unwrap_or_else(|| "-".into()),
        s.last_date.clone().unwrap_or_else(|| "-".into()),
        s.shipment_value_usd
    );
    let _ = writeln!(o, "  statistics rows  {}", s.trade_flows);
    let _ = writeln!(o, "  supplier links   {}", s.supplier_links);
    let _ = writeln!(o, "  watchlist        {}", s.watchlist_entries);
    let _ = writeln!(
        o,
        "  countries        {} ({})",
        s.countries.len(),
        s.countries.join(" ")
    );
    let _ = writeln!(
        o,
        "  regions          {} ({})",
        s.regions.len(),
        s.regions.join(" ")
    );
    let _ = writeln!(
        o,
        "  HS headings      {} ({})",
        s.hs_headings.len(),
        s.hs_headings.join(" ")
    );
    if let Some(st) = &c.settings {
        let _ = writeln!(
            o,
            "  settings         {}",
            crate::util::text::printable(&st.summary())
        );
    }
    duplicates_text(c, &mut o);
    if c.rejected > 0 {
        let _ = writeln!(o);
        let _ = writeln!(o, "Problems ({} rejected row(s)):", c.rejected);
        for p in &c.problems {
            let _ = writeln!(o, "  {p}");
        }
        if c.rejected > c.problems.len() {
            let _ = writeln!(o, "  … and {} more", c.rejected - c.problems.len());
        }
    }
    o
}
