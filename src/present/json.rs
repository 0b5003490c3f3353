//! JSON for scripts: every view model as one pretty-printed document ending in a line break.
//!
//! The views of `trace`, `vet`, `paths` and `check` are written as they serialise. The report is one document
//! of the run's metadata, headline totals, the shipments table and both summaries; [`stream_report`] writes
//! the same bytes without holding the rows. The export graph is
//! `{"graph": {...}, "nodes": [...], "edges": [...]}`, money as decimal strings, shares as numbers.

use super::{PresentError, Render};
use crate::engine::analysis::Analysis;
use crate::engine::rules::Severity;
use crate::query::check::CheckReport;
use crate::query::graph::{Attrs, ExportGraph, Val};
use crate::query::report::{
    BLOCK, Filter, Report, RunMeta, ShipmentRow, Summary, Tallied, Totals, row_of, run_meta,
    tally_pass,
};
use crate::query::trace::TraceJson;
use crate::query::vet::VetJson;
use crate::query::walk::WalkJson;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The JSON renderer.
pub struct Json;

fn pretty<T: Serialize + ?Sized>(v: &T, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    out.write_all(&b)?;
    Ok(())
}

impl Render<TraceJson> for Json {
    fn render(&self, v: &TraceJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        pretty(v, out)
    }
}

impl Render<VetJson> for Json {
    fn render(&self, v: &VetJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        pretty(v, out)
    }
}

impl Render<WalkJson> for Json {
    fn render(&self, v: &WalkJson, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        pretty(v, out)
    }
}

impl Render<CheckReport> for Json {
    fn render(&self, v: &CheckReport, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        pretty(v, out)
    }
}

#[derive(Serialize)]
struct Doc<'a> {
    run: &'a RunMeta,
    totals: &'a Totals,
    shipments: &'a [ShipmentRow],
    importers: &'a [Summary],
    exporters: &'a [Summary],
}

impl Render<Report> for Json {
    fn render(&self, r: &Report, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let doc = Doc {
            run: &r.meta,
            totals: &r.totals,
            shipments: &r.rows,
            importers: &r.importers,
            exporters: &r.exporters,
        };
        pretty(&doc, out)
    }
}

/// Writes the report as [`Json`] renders it, byte for byte, without holding its rows: a national run has
/// ten million of them, which as view-model rows and then as one JSON document needed about 7 GB per
/// million shipments (issue 17).
///
/// The document puts the totals and the row count before the rows, so it takes two passes over the
/// shipments in report order. The first ([`tally_pass`]) scores each one for the totals and summaries and
/// marks the rows the filter shows; the second scores the shown rows again and writes each block as soon
/// as it is made. Scoring twice costs less than the alternatives: holding the rows, or spilling gigabytes
/// of JSON to a temporary file and copying it. Returns the highest severity of any shipment, shown or not
/// (what `--fail-on` reads).
pub fn stream_report(
    a: &Analysis,
    filter: Filter,
    out: &mut dyn std::io::Write,
) -> Result<Severity, PresentError> {
    let paths = a.batch_paths();
    let order = a.report_order();
    crate::util::timing::phase("report-order");
    let t = tally_pass(a, &paths, &order, filter, false);
    let shown = t.shown();
    let Tallied {
        tally, kept, worst, ..
    } = t;
    let (totals, importers, exporters) = tally.finish();
    let meta = run_meta(a, filter, shown);
    let doc = Doc {
        run: &meta,
        totals: &totals,
        shipments: &[],
        importers: &importers,
        exporters: &exporters,
    };
    let mut skeleton = serde_json::to_vec_pretty(&doc)?;
    skeleton.push(b'\n');
    // The rows go where the skeleton's empty array is: the only line at the document's first level that
    // opens the shipments.
    const EMPTY: &[u8] = b"\n  \"shipments\": [],\n";
    let at = skeleton
        .windows(EMPTY.len())
        .position(|w| w == EMPTY)
        .ok_or_else(|| std::io::Error::other("the report skeleton has no shipments array"))?;
    if shown == 0 {
        out.write_all(&skeleton)?;
        out.flush()?;
        return Ok(worst);
    }
    out.write_all(&skeleton[..at])?;
    out.write_all(b"\n  \"shipments\": [\n")?;
    let progress = crate::util::progress::bar("writing", shown as u64, "rows");
    let mut first = true;
    for (b, block) in order.chunks(BLOCK).enumerate() {
        let keep = &kept[b * BLOCK..b * BLOCK + block.len()];
        let parts: Vec<Vec<u8>> = block
            .par_iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(&i, _)| {
                let row = row_of(a, &a.score_batch_with(i, &paths, false));
                // Each row as the whole document nests it: two levels in, four spaces.
                let one = serde_json::to_vec_pretty(&row)?;
                let mut v = Vec::with_capacity(one.len() + 64);
                for (n, line) in one.split(|&c| c == b'\n').enumerate() {
                    if n > 0 {
                        v.push(b'\n');
                    }
                    v.extend_from_slice(b"    ");
                    v.extend_from_slice(line);
                }
                Ok(v)
            })
            .collect::<Result<_, serde_json::Error>>()?;
        let n = parts.len();
        for p in parts {
            if !first {
                out.write_all(b",\n")?;
            }
            first = false;
            out.write_all(&p)?;
        }
        progress.inc(n as u64);
    }
    out.write_all(b"\n  ],\n")?;
    out.write_all(&skeleton[at + EMPTY.len()..])?;
    out.flush()?;
    crate::util::timing::phase("write");
    Ok(worst)
}

fn value(v: &Val) -> Value {
    match v {
        Val::Str(s) => Value::String(s.clone()),
        Val::Int(i) => json!(i),
        Val::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Val::Bool(b) => Value::Bool(*b),
        Val::Money(_) => Value::String(v.text()),
    }
}

fn object(head: &[(&str, &str)], attrs: &Attrs) -> Value {
    let mut m = Map::new();
    for (k, v) in head {
        m.insert((*k).to_string(), Value::String((*v).to_string()));
    }
    for (k, v) in attrs {
        m.insert((*k).to_string(), value(v));
    }
    Value::Object(m)
}

impl Render<ExportGraph> for Json {
    fn render(&self, g: &ExportGraph, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let mut graph = object(&[], &g.attrs);
        if let Value::Object(m) = &mut graph {
            m.insert("directed".into(), Value::Bool(true));
            m.insert("nodes".into(), json!(g.nodes.len()));
            m.insert("edges".into(), json!(g.edges.len()));
        }
        let doc = json!({
            "graph": graph,
            "nodes": g.nodes.iter().map(|n| object(&[("id", &n.id)], &n.attrs)).collect::<Vec<_>>(),
            "edges": g.edges.iter().map(|e| object(&[("source", &e.source), ("target", &e.target)], &e.attrs)).collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        out.write_all(s.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset;
    use crate::data::settings::Settings;
    use crate::engine::paths::Limits;
    use crate::query::report;
    use crate::query::report::testing::{FILTERS, with_sample};

    /// The streamed document is byte for byte the one the renderer writes from the whole report, for
    /// filters that show every row, fewer, and fewer still.
    #[test]
    fn streamed_report_is_the_rendered_report() {
        with_sample(|a| {
            let mut shown = Vec::new();
            for filter in FILTERS {
                let mut streamed = Vec::new();
                let worst = stream_report(a, filter, &mut streamed).expect("stream");
                let r = report::build(a, a.score_all(), filter);
                shown.push(r.rows.len());
                let rendered = Json.to_bytes(&r).expect("render");
                assert_eq!(
                    String::from_utf8_lossy(&streamed),
                    String::from_utf8_lossy(&rendered)
                );
                assert_eq!(worst, Severity::High);
            }
            // The filters really differ: all rows, fewer, fewer still.
            assert!(
                shown[0] > shown[1] && shown[1] > shown[2] && shown[2] > 0,
                "{shown:?}"
            );
        });
    }

    /// With no row to show, the skeleton's empty array stays as the renderer writes it.
    #[test]
    fn streamed_report_with_no_rows_shown() {
        let ds = dataset::Dataset::default();
        let st = Settings::default();
        let a = Analysis::new(&ds, &st, Limits::default());
        let filter = Filter {
            flagged_only: false,
            min_severity: Severity::None,
        };
        let mut streamed = Vec::new();
        let worst = stream_report(&a, filter, &mut streamed).expect("stream");
        let r = report::build(&a, a.score_all(), filter);
        assert!(r.rows.is_empty());
        let text = String::from_utf8_lossy(&streamed);
        assert!(text.contains("\n  \"shipments\": [],\n"), "{text}");
        assert_eq!(
            text,
            String::from_utf8_lossy(&Json.to_bytes(&r).expect("render"))
        );
        assert_eq!(worst, Severity::None);
    }
}
