//! JSON for scripts: `{"graph": {...}, "nodes": [...], "edges": [...]}`, money as decimal strings, shares
//! as numbers.

use super::{Attrs, ExportGraph, GraphWriter, Val};
use serde_json::{Map, Value, json};

pub struct Json;

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

impl GraphWriter for Json {
    fn write(&self, g: &ExportGraph) -> String {
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
        s
    }
}
