//! CSV: the shipments table (SPEC §4 columns, in order), or the importer or exporter summary.

use super::{Exporter, Report, Table, share};
use crate::analysis::Analysis;

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
                    let cells = [
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
                    ];
                    w.write_record(&cells).map_err(e)?;
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
