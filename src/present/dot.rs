//! DOT for Graphviz: one statement per node and edge, every attribute quoted and escaped, with a few
//! drawing attributes (shape, colour, line style by evidence, pen width by value) on top of the data.

use super::{PresentError, Render};
use crate::query::graph::{ExportGraph, Val};
use std::fmt::Write;

/// The DOT renderer of the export graph.
pub struct Dot;

/// A DOT double-quoted string: backslashes and quotes escaped, line breaks as `\n`, other control
/// characters dropped.
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn attrs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn penwidth(v: Option<&Val>) -> String {
    let x = match v {
        Some(Val::Money(d)) => crate::engine::pool::to_f64(*d),
        _ => 0.0,
    };
    format!(
        "{:.2}",
        (1.0 + (1.0 + x.max(0.0)).log10() / 2.0).clamp(1.0, 6.0)
    )
}

impl Render<ExportGraph> for Dot {
    fn render(&self, g: &ExportGraph, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let mut o = String::from("digraph origintrace {\n");
        let mut graph: Vec<(String, String)> = vec![
            ("rankdir".into(), "LR".into()),
            ("fontname".into(), "Helvetica".into()),
        ];
        let label: Vec<String> = g
            .attrs
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.text()))
            .collect();
        graph.push(("label".into(), label.join("; ")));
        let _ = writeln!(o, "  graph [{}];", attrs(&graph));
        o.push_str("  node [fontname=\"Helvetica\", fontsize=\"10\"];\n");
        o.push_str("  edge [fontname=\"Helvetica\", fontsize=\"8\", arrowsize=\"0.6\"];\n");
        for n in &g.nodes {
            let hot = matches!(n.get("sanctioned_origin"), Some(Val::Bool(true)));
            let mut a: Vec<(String, String)> = Vec::new();
            let (shape, fill) = match n.kind {
                "country" => ("ellipse", "#eef2f6"),
                "region" => ("box", "#eef2f6"),
                _ => ("box", "#ffffff"),
            };
            a.push(("shape".into(), shape.into()));
            a.push((
                "style".into(),
                if n.kind == "region" {
                    "rounded,filled".into()
                } else {
                    "filled".into()
                },
            ));
            a.push((
                "fillcolor".into(),
                if hot { "#fbe9e7" } else { fill }.into(),
            ));
            a.push((
                "color".into(),
                if hot { "#b3261e" } else { "#5b6675" }.into(),
            ));
            for (k, v) in &n.attrs {
                a.push(((*k).to_string(), v.text()));
            }
            let _ = writeln!(o, "  {} [{}];", quote(&n.id), attrs(&a));
        }
        for e in &g.edges {
            let mut a: Vec<(String, String)> = Vec::new();
            let (style, color) = match e.kind {
                "shipment" => ("solid", "#b3261e"),
                "supplier_link" => ("dashed", "#b86e00"),
                _ => ("dotted", "#2f6690"),
            };
            a.push(("style".into(), style.into()));
            a.push(("color".into(), color.into()));
            a.push(("penwidth".into(), penwidth(e.get("value_usd"))));
            for (k, v) in &e.attrs {
                a.push(((*k).to_string(), v.text()));
            }
            let _ = writeln!(
                o,
                "  {} -> {} [{}];",
                quote(&e.source),
                quote(&e.target),
                attrs(&a)
            );
        }
        o.push_str("}\n");
        out.write_all(o.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_escape() {
        assert_eq!(quote("a\"b\\c\nd\u{7}"), "\"a\\\"b\\\\c\\nd \"");
    }
}
