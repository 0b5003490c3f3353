//! GraphML for Gephi, yEd and networkx: every attribute declared as a `<key>` with its `attr.type`, every
//! string XML-escaped, characters XML 1.0 does not allow replaced.

use super::{PresentError, Render};
use crate::query::graph::{Attrs, EDGE_KEYS, ExportGraph, GRAPH_KEYS, NODE_KEYS, Ty, Val};
use std::fmt::Write;

/// The GraphML renderer of the export graph.
pub struct GraphMl;

/// The `attr.type` GraphML declares an attribute of type `ty` with.
fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::String => "string",
        Ty::Long => "long",
        Ty::Double => "double",
        Ty::Boolean => "boolean",
    }
}

/// Escapes text for XML content and attribute values. Characters XML 1.0 cannot carry at all (most
/// control characters) become U+FFFD.
pub fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // Tab, line feed and carriage return as references, so attribute values keep them.
            '\t' => o.push_str("&#9;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// A node id as an XML name token (GraphML types ids as `xs:NMTOKEN`): ASCII letters, digits, `.`, `-` and
/// `:` stay; `_` becomes `__`; any other character becomes `_` + its code point in hex + `_`. Two different
/// ids never give the same token, and the original id stays in the node's `party_id` or `code` attribute.
pub fn token(id: &str) -> String {
    let mut o = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '-' | ':' => o.push(c),
            '_' => o.push_str("__"),
            c => {
                let _ = write!(o, "_{:x}_", c as u32);
            }
        }
    }
    if o.is_empty() {
        o.push_str("_0_");
    }
    o
}

/// The key id of an attribute: `n_kind`, `e_value_usd`, `g_tool`.
pub fn key_id(domain: &str, name: &str) -> String {
    format!("{}_{name}", &domain[..1])
}

/// The text of a value as its declared type reads it; `None` for a number XML Schema cannot write.
fn lexical(v: &Val, ty: Ty) -> Option<String> {
    match (v, ty) {
        (Val::Float(f), _) if !f.is_finite() => None,
        (Val::Float(f), Ty::Double) => Some(format!("{f}")),
        (Val::Money(d), Ty::Double) => Some(d.normalize().to_string()),
        (v, _) => Some(v.text()),
    }
}

fn data(o: &mut String, indent: &str, domain: &str, keys: &[(&str, Ty)], attrs: &Attrs) {
    for (k, v) in attrs {
        let Some(&(_, ty)) = keys.iter().find(|(n, _)| n == k) else {
            debug_assert!(false, "attribute {k} is not declared for {domain}");
            continue;
        };
        if let Some(text) = lexical(v, ty) {
            let _ = writeln!(
                o,
                "{indent}<data key=\"{}\">{}</data>",
                key_id(domain, k),
                xml(&text)
            );
        }
    }
}

impl Render<ExportGraph> for GraphMl {
    fn render(&self, g: &ExportGraph, out: &mut dyn std::io::Write) -> Result<(), PresentError> {
        let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        o.push_str("<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n");
        for (domain, keys) in [
            ("graph", GRAPH_KEYS),
            ("node", NODE_KEYS),
            ("edge", EDGE_KEYS),
        ] {
            for (name, ty) in keys {
                let _ = writeln!(
                    o,
                    "  <key id=\"{}\" for=\"{domain}\" attr.name=\"{}\" attr.type=\"{}\"/>",
                    key_id(domain, name),
                    xml(name),
                    type_name(*ty)
                );
            }
        }
        o.push_str("  <graph id=\"origintrace\" edgedefault=\"directed\">\n");
        data(&mut o, "    ", "graph", GRAPH_KEYS, &g.attrs);
        for n in &g.nodes {
            let _ = writeln!(o, "    <node id=\"{}\">", token(&n.id));
            data(&mut o, "      ", "node", NODE_KEYS, &n.attrs);
            o.push_str("    </node>\n");
        }
        for (i, e) in g.edges.iter().enumerate() {
            let _ = writeln!(
                o,
                "    <edge id=\"e{i}\" source=\"{}\" target=\"{}\">",
                token(&e.source),
                token(&e.target)
            );
            data(&mut o, "      ", "edge", EDGE_KEYS, &e.attrs);
            o.push_str("    </edge>\n");
        }
        o.push_str("  </graph>\n</graphml>\n");
        out.write_all(o.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{token, xml};

    #[test]
    fn ids_become_distinct_name_tokens() {
        assert_eq!(token("party:xuchang-silkwave"), "party:xuchang-silkwave");
        assert_eq!(token("party:a b"), "party:a_20_b");
        assert_eq!(token("party:a_20_b"), "party:a__20__b");
        assert_eq!(token("party:<x>"), "party:_3c_x_3e_");
    }

    #[test]
    fn escapes_and_drops_forbidden_characters() {
        assert_eq!(
            xml("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}"
        );
    }
}
