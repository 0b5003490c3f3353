//! CSV: the shipments table (SPEC §4 columns, in order), or the importer or exporter summary.

use super::{Exporter, Filter, Report, ShipmentRow, Table, row_of, share};
use crate::analysis::Analysis;
use crate::flags::Severity;
use rayon::prelude::*;

pub struct Csv {
    pub table: Table,
}

/// A cell a spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, or a tab or carriage return)
/// gets a leading `'`, so it shows as text.
pub fn neutralise(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

pub const SHIPMENT_COLUMNS: [&str; 23] = [
    "shipment_id",
    "date",
    "shipper_id",
    "shipper_name",
    "shipper_country",
    "shipper_region",
    "consignee_id",
    "consignee_name",
    "consignee_country",
    "hs_code",
    "value_usd",
    "sanctioned",
    "clean",
    "unknown",
    "documented",
    "declared",
    "statistical",
    "reachable",
    "severity",
    "flags",
    "top_path",
    "coverage",
    "exposed_value_usd",
];

const SUMMARY_COLUMNS: [&str; 10] = [
    "party_id",
    "name",
    "country",
    "region",
    "shipments",
    "value_usd",
    "exposed_value_usd",
    "flagged_shipments",
    "severity",
    "flags",
];

/// The cells of a shipments-table row, in [`SHIPMENT_COLUMNS`] order.
fn shipment_cells(x: &ShipmentRow) -> [String; 23] {
    [
        neutralise(&x.shipment_id),
        x.date.clone(),
        neutralise(&x.shipper_id),
        neutralise(&x.shipper_name),
        x.shipper_country.clone(),
        x.shipper_region.clone(),
        neutralise(&x.consignee_id),
        neutralise(&x.consignee_name),
        x.consignee_country.clone(),
        x.hs_code.clone(),
        x.value_usd.clone(),
        share(x.sanctioned),
        share(x.clean),
        share(x.unknown),
        share(x.documented),
        share(x.declared),
        share(x.statistical),
        x.reachable.to_string(),
        x.severity.as_str().to_string(),
        x.flags.join(";"),
        neutralise(&x.top_path),
        share(x.coverage),
        x.exposed_value_usd.clone(),
    ]
}

/// Shipments scored, formatted and written per block of this many, in report order.
const BLOCK: usize = 1 << 14;

/// The shipments table of [`Csv`], streamed: shipments are scored and written a block at a time in report
/// order, so memory stays flat in the number of shipments and both cores format rows. The bytes are the
/// same as `Csv { table: Shipments }.export` gives. Returns the highest severity of any shipment (for
/// `--fail-on`), shown or not.
pub fn stream_shipments(
    a: &Analysis,
    filter: Filter,
    out: &mut dyn std::io::Write,
    progress: Option<&indicatif::ProgressBar>,
) -> std::io::Result<Severity> {
    let io = |e: csv::Error| std::io::Error::other(e.to_string());
    let mut head = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    head.write_record(SHIPMENT_COLUMNS).map_err(io)?;
    out.write_all(
        &head
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?,
    )?;
    let paths = a.batch_paths();
    let order = a.report_order();
    crate::timing::phase("report order");
    let mut worst = Severity::None;
    for block in order.chunks(BLOCK) {
        let parts: Vec<(Severity, Vec<u8>)> = block
            .par_chunks(256)
            .map(|ships| {
                let mut w = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_writer(Vec::new());
                let mut worst = Severity::None;
                for &i in ships {
                    let sc = a.score_batch(i, &paths);
                    worst = worst.max(sc.severity);
                    let row = row_of(a, &sc);
                    if filter.keeps(&row) {
                        w.write_record(shipment_cells(&row)).map_err(io)?;
                    }
                }
                let bytes = w
                    .into_inner()
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                Ok((worst, bytes))
            })
            .collect::<std::io::Result<_>>()?;
        for (sev, bytes) in parts {
            worst = worst.max(sev);
            out.write_all(&bytes)?;
        }
        if let Some(pb) = progress {
            pb.inc(block.len() as u64);
        }
    }
    out.flush()?;
    crate::timing::phase("score and write");
    Ok(worst)
}

impl Exporter for Csv {
    fn export(&self, _a: &Analysis, r: &Report) -> Result<Vec<u8>, String> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let e = |e: csv::Error| e.to_string();
        match self.table {
            Table::Shipments => {
                w.write_record(SHIPMENT_COLUMNS).map_err(e)?;
                for x in &r.rows {
                    w.write_record(shipment_cells(x)).map_err(e)?;
                }
            }
            Table::Importers | Table::Exporters => {
                w.write_record(SUMMARY_COLUMNS).map_err(e)?;
                let list = if self.table == Table::Importers {
                    &r.importers
                } else {
                    &r.exporters
                };
                for s in list {
                    let flags: Vec<String> = s
                        .flag_counts
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect();
                    let cells = [
                        neutralise(&s.party_id),
                        neutralise(&s.name),
                        s.country.clone(),
                        s.region.clone(),
                        s.shipments.to_string(),
                        s.value_usd.clone(),
                        s.exposed_value_usd.clone(),
                        s.flagged_shipments.to_string(),
                        s.severity.as_str().to_string(),
                        flags.join(";"),
                    ];
                    w.write_record(&cells).map_err(e)?;
                }
            }
        }
        w.into_inner().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_become_text() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Acme"), "Acme");
    }
}
