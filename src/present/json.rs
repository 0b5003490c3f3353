//! JSON for scripts: every view model as one pretty-printed document ending in a line break.
//!
//! The views of `trace`, `vet`, `paths` and `check` are written as they serialise. The report is one document
//! of the run's metadata, headline totals, the shipments table and both summaries. The export graph is
//! `{"graph": {...}, "nodes": [...], "edges": [...]}`, money as decimal strings, shares as numbers.

use super::{PresentError, Render};
use crate::query::check::CheckReport;
use crate::query::graph::{Attrs, ExportGraph, Val};
use crate::query::report::{Report, RunMeta, ShipmentRow, Summary, Totals};
use crate::query::trace::TraceJson;
use crate::query::vet::VetJson;
use crate::query::walk::WalkJson;
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
