//! CSV: the shipments table (SPEC §4 columns, in order), or the importer or exporter summary.

use super::fmt::share;
use super::{PresentError, Render};
use crate::engine::analysis::Analysis;
use crate::engine::rules::Severity;
use crate::query::report::{Filter, Report, ShipmentRow, row_of};
use crate::util::text::{neutral, neutralise};
use rayon::prelude::*;
use std::borrow::Cow;

/// Which table the CSV renderer writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Shipments,
    Importers,
    Exporters,
}

/// The CSV renderer of the report: one table.
pub struct Csv {
    pub table: Table,
}

/// The header of the shipments table.
pub const SHIPMENT_COLUMNS: [&str; 25] = [
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
    "prevalence",
    "coverage",
    "exposed_value_usd",
    "paths_truncated",
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
fn shipment_cells(x: &ShipmentRow) -> [Cow<'_, str>; 25] {
    [
        neutral(&x.shipment_id),
        Cow::Borrowed(&x.date),
        neutral(&x.shipper_id),
        neutral(&x.shipper_name),
        Cow::Borrowed(&x.shipper_country),
        Cow::Borrowed(&x.shipper_region),
        neutral(&x.consignee_id),
        neutral(&x.consignee_name),
        Cow::Borrowed(&x.consignee_country),
        Cow::Borrowed(&x.hs_code),
        Cow::Borrowed(&x.value_usd),
        Cow::Owned(share(x.sanctioned)),
        Cow::Owned(share(x.clean)),
        Cow::Owned(share(x.unknown)),
        Cow::Owned(share(x.documented)),
        Cow::Owned(share(x.declared)),
        Cow::Owned(share(x.statistical)),
        Cow::Borrowed(if x.reachable { "true" } else { "false" }),
        Cow::Borrowed(x.severity.as_str()),
        Cow::Owned(x.flags.join(";")),
        neutral(&x.top_path),
        Cow::Owned(x.prevalence.map(share).unwrap_or_default()),
        Cow::Owned(share(x.coverage)),
        Cow::Borrowed(&x.exposed_value_usd),
        Cow::Borrowed(if x.paths_truncated { "true" } else { "false" }),
    ]
}

/// Shipments scored, formatted and written per block of this many, in report order.
const BLOCK: usize = 1 << 14;

/// The shipments table of [`Csv`], streamed: shipments are scored and written a block at a time in report
/// order, so memory stays flat in the number of shipments and both cores format rows. The bytes are the
/// same as `Csv { table: Shipments }` renders from the [`Report`]. Returns the highest severity of any
/// shipment (for `--fail-on`), shown or not.
///
/// Why this is a function over the analysis and not a [`Render`] of a view model: the view model of a table
/// is every row at once, and a national run has ten million of them. Here each row is built from the
/// query's own [`row_of`] and dropped once written, so the rows are never held; the renderer's cells
/// (`shipment_cells`) are the ones the view-model path writes, so the bytes cannot differ.
pub fn stream_shipments(
    a: &Analysis,
    filter: Filter,
    out: &mut dyn std::io::Write,
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
    crate::util::timing::phase("report-order");
    let shown = crate::util::progress::bar("scoring and writing", order.len() as u64, "shipments");
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
                    let sc = a.score_batch_with(i, &paths, false);
                    worst = worst.max(sc.severity);
                    let row = row_of(a, &sc);
                    if filter.keeps(&row) {
                        w.write_record(shipment_cells(&row).iter().map(|c| c.as_bytes()))
                            .map_err(io)?;
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
        shown.inc(block.len() as u64);
    }
    out.flush()?;
    crate::util::timing::phase("score-and-write");
    Ok(worst)
}

impl Render<Report> for Csv {
    fn render(&self, r: &Report, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        match self.table {
            Table::Shipments => {
                w.write_record(SHIPMENT_COLUMNS)?;
                for x in &r.rows {
                    w.write_record(shipment_cells(x).iter().map(|c| c.as_bytes()))?;
                }
            }
            Table::Importers | Table::Exporters => {
                w.write_record(SUMMARY_COLUMNS)?;
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
                    w.write_record(&cells)?;
                }
            }
        }
        w.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Csv, Table, neutralise, stream_shipments};
    use crate::engine::rules::Severity;
    use crate::present::Render;
    use crate::query::report;
    use crate::query::report::testing::{FILTERS, with_sample};

    /// The streamed table (rows scored without flag details, a block at a time) is byte for byte the table
    /// the renderer writes from fully scored rows, for every filter.
    #[test]
    fn streamed_table_is_the_exported_table() {
        with_sample(|a| {
            for filter in FILTERS {
                let mut streamed = Vec::new();
                let worst = stream_shipments(a, filter, &mut streamed).expect("stream");
                let r = report::build(a, a.score_all(), filter);
                let exported = Csv {
                    table: Table::Shipments,
                }
                .to_bytes(&r)
                .expect("render");
                assert_eq!(
                    String::from_utf8_lossy(&streamed),
                    String::from_utf8_lossy(&exported)
                );
                assert!(streamed.len() > 200, "{}", streamed.len());
                assert_eq!(worst, Severity::High);
            }
        });
    }

    /// The summary tables made from the lean report (no rows held) are the tables of the whole report.
    #[test]
    fn summary_tables_from_the_lean_report() {
        with_sample(|a| {
            for filter in FILTERS {
                let whole = report::build(a, a.score_all(), filter);
                let lean = report::lean_report(a, filter, 0, 0);
                assert!(lean.report.rows.is_empty());
                for table in [Table::Importers, Table::Exporters] {
                    let (x, y) = (
                        Csv { table }.to_bytes(&whole).expect("render"),
                        Csv { table }.to_bytes(&lean.report).expect("render"),
                    );
                    assert!(x.len() > 100);
                    assert_eq!(String::from_utf8_lossy(&x), String::from_utf8_lossy(&y));
                }
            }
        });
    }

    #[test]
    fn formulas_become_text() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Acme"), "Acme");
    }
}
