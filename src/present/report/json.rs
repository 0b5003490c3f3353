//! JSON: the run's metadata, headline totals, the shipments table and both summaries, in one document.

use super::{Exporter, Report};
use crate::engine::analysis::Analysis;
use serde::Serialize;

pub struct Json;

#[derive(Serialize)]
struct Doc<'a> {
    run: &'a super::RunMeta,
    totals: &'a super::Totals,
    shipments: &'a [super::ShipmentRow],
    importers: &'a [super::Summary],
    exporters: &'a [super::Summary],
}

impl Exporter for Json {
    fn export(&self, _a: &Analysis, r: &Report) -> Result<Vec<u8>, String> {
        let doc = Doc {
            run: &r.meta,
            totals: &r.totals,
            shipments: &r.rows,
            importers: &r.importers,
            exporters: &r.exporters,
        };
        let mut v = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
        v.push(b'\n');
        Ok(v)
    }
}
