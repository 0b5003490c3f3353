//! `export --format dot|graphml|json` through the binary: the graph's numbers against the report, the
//! neighbourhood of `--around`, GraphML well-formed with every key declared (and valid against the GraphML
//! schema where xmllint is installed), DOT rendered by Graphviz where it is installed, and deterministic
//! output; and `export --format parquet` (feature `parquet`) read back with the parquet crate.

use crate::harness::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

fn ok(args: &[&str]) -> String {
    let r = run(args);
    assert_eq!(r.code, 0, "origintrace {args:?} failed:\n{}", r.stderr);
    r.stdout
}

fn graph(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["export", "--format", "json"];
    a.extend(args);
    serde_json::from_str(&ok(&a)).expect("export JSON parses")
}

fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// A tool a test needs: where it is missing the test is skipped, except under `CI=true`, where a missing
/// tool fails it (`.ci/run` installs it), so CI cannot pass without checking.
fn needed_tool(name: &str, apt: &str) -> Option<PathBuf> {
    needed_tool_in(name, apt, std::env::var("CI").as_deref() == Ok("true"))
}

fn needed_tool_in(name: &str, apt: &str, ci: bool) -> Option<PathBuf> {
    let found = tool(name);
    if found.is_none() {
        assert!(
            !ci,
            "{name} is not installed, and CI=true requires the tests that use it to run (apt-get install {apt})"
        );
        eprintln!("SKIPPED: {name} not installed (apt-get install {apt})");
    }
    found
}

#[test]
fn a_missing_tool_skips_locally_and_fails_under_ci() {
    assert!(needed_tool_in("no-such-tool-origintrace", "x", false).is_none());
    let under_ci =
        std::panic::catch_unwind(|| needed_tool_in("no-such-tool-origintrace", "x", true));
    assert!(under_ci.is_err(), "a missing tool must fail under CI=true");
}

fn hostile() -> String {
    fixture("reports/hostile").display().to_string()
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

// ---------------------------------------------------------------------------------------------------------
// A small XML checker: well-formedness (nesting, quoting, references, one root) and the GraphML rule that
// every `data key=` names a declared `<key id=>`.

#[derive(Default, Debug)]
struct Xml {
    /// (element name, attributes) in document order.
    elements: Vec<(String, BTreeMap<String, String>)>,
}

fn check_text(t: &str, at: usize) {
    let mut rest = t;
    while let Some(i) = rest.find('&') {
        let r = &rest[i + 1..];
        let end = r
            .find(';')
            .unwrap_or_else(|| panic!("unterminated reference at byte {at}"));
        let name = &r[..end];
        let okref = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
            || (name.starts_with("#x") && u32::from_str_radix(&name[2..], 16).is_ok())
            || (name.starts_with('#') && name[1..].parse::<u32>().is_ok());
        assert!(okref, "bad reference &{name}; at byte {at}");
        rest = &r[end + 1..];
    }
    assert!(!t.contains('<'), "raw < in text at byte {at}");
    for c in t.chars() {
        assert!(
            !c.is_control() || matches!(c, '\t' | '\n' | '\r'),
            "control character U+{:04X} at byte {at}",
            c as u32
        );
    }
}

fn parse_xml(doc: &str) -> Xml {
    let mut x = Xml::default();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    let b = doc.as_bytes();
    assert!(doc.starts_with("<?xml "), "no XML declaration");
    i += doc.find("?>").unwrap() + 2;
    while i < b.len() {
        if b[i] != b'<' {
            let end = doc[i..].find('<').map_or(b.len(), |e| i + e);
            let text = &doc[i..end];
            if stack.is_empty() {
                assert!(text.trim().is_empty(), "text outside the root at byte {i}");
            }
            check_text(text, i);
            i = end;
            continue;
        }
        if doc[i..].starts_with("<!--") {
            i += doc[i..].find("-->").expect("comment closed") + 3;
            continue;
        }
        let end = i + doc[i..].find('>').expect("tag closed");
        let tag = &doc[i + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("stray </{name}> at byte {i}"));
            assert_eq!(open, name.trim(), "mismatched </{name}> at byte {i}");
        } else {
            let empty = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let name = &tag[..name_end];
            assert!(!name.is_empty(), "empty tag at byte {i}");
            let mut attrs = BTreeMap::new();
            let mut rest = tag[name_end..].trim_start();
            while !rest.is_empty() {
                let eq = rest
                    .find('=')
                    .unwrap_or_else(|| panic!("attribute without value at byte {i}"));
                let key = rest[..eq].trim().to_string();
                let r = rest[eq + 1..].trim_start();
                let q = r.chars().next().unwrap();
                assert!(
                    q == '"' || q == '\'',
                    "unquoted attribute {key} at byte {i}"
                );
                let close = r[1..].find(q).expect("attribute closed") + 1;
                let value = &r[1..close];
                check_text(value, i);
                assert!(
                    attrs.insert(key.clone(), value.to_string()).is_none(),
                    "attribute {key} twice at byte {i}"
                );
                rest = r[close + 1..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            x.elements.push((name.to_string(), attrs));
            if !empty {
                stack.push(name.to_string());
            }
        }
        i = end + 1;
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    x
}

/// Checks a GraphML document: well-formed, every data key declared for its domain with a known type,
/// node ids unique, edge ends declared nodes.
fn check_graphml(doc: &str) -> Xml {
    let x = parse_xml(doc);
    assert_eq!(x.elements[0].0, "graphml");
    let mut keys: HashMap<String, (String, String)> = HashMap::new();
    for (name, a) in &x.elements {
        if name == "key" {
            let ty = a["attr.type"].clone();
            assert!(
                ["boolean", "int", "long", "float", "double", "string"].contains(&ty.as_str()),
                "bad attr.type {ty}"
            );
            assert!(a.contains_key("attr.name"));
            assert!(
                keys.insert(a["id"].clone(), (a["for"].clone(), ty))
                    .is_none(),
                "key {} declared twice",
                a["id"]
            );
        }
    }
    let mut nodes = BTreeSet::new();
    let mut domain = "graph";
    for (name, a) in &x.elements {
        match name.as_str() {
            "graph" => assert_eq!(a["edgedefault"], "directed"),
            "node" => {
                domain = "node";
                assert!(nodes.insert(a["id"].clone()), "node {} twice", a["id"]);
            }
            "edge" => domain = "edge",
            "data" => {
                let (f, _) = keys
                    .get(&a["key"])
                    .unwrap_or_else(|| panic!("data key {} is not declared", a["key"]));
                assert_eq!(f, domain, "key {} used on a {domain}", a["key"]);
            }
            _ => {}
        }
    }
    for (name, a) in &x.elements {
        if name == "edge" {
            assert!(
                nodes.contains(&a["source"]),
                "edge from unknown {}",
                a["source"]
            );
            assert!(
                nodes.contains(&a["target"]),
                "edge to unknown {}",
                a["target"]
            );
        }
    }
    // Typed values read as their type.
    let mut it = doc.match_indices("<data key=\"");
    for (at, m) in it.by_ref() {
        let r = &doc[at + m.len()..];
        let key = &r[..r.find('"').unwrap()];
        let v = &r[r.find('>').unwrap() + 1..r.find("</data>").unwrap()];
        match keys[key].1.as_str() {
            "double" => assert!(v.parse::<f64>().is_ok_and(f64::is_finite), "{key}={v}"),
            "long" => assert!(v.parse::<i64>().is_ok(), "{key}={v}"),
            "boolean" => assert!(v == "true" || v == "false", "{key}={v}"),
            _ => {}
        }
    }
    x
}

// ---------------------------------------------------------------------------------------------------------

#[test]
fn json_graph_holds_every_party_and_consistent_edges() {
    let g = graph(&[]);
    let nodes = g["nodes"].as_array().unwrap();
    let edges = g["edges"].as_array().unwrap();
    assert_eq!(g["graph"]["nodes"].as_u64().unwrap() as usize, nodes.len());
    assert_eq!(g["graph"]["directed"], true);
    let ids: BTreeSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), nodes.len(), "node ids unique");
    let parties = nodes.iter().filter(|n| n["kind"] == "party").count();
    assert_eq!(parties, 61, "every party of the sample");
    for e in edges {
        assert!(ids.contains(e["source"].as_str().unwrap()), "{e}");
        assert!(ids.contains(e["target"].as_str().unwrap()), "{e}");
        assert!(
            ["shipment", "supplier_link", "trade_flow", "pool"]
                .contains(&e["kind"].as_str().unwrap()),
            "{e}"
        );
    }
    let kinds: BTreeSet<&str> = edges.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let kp = nodes.iter().find(|n| n["id"] == "country:KP").unwrap();
    assert_eq!(kp["sanctioned_origin"], true);
    assert_eq!(kp["kind"], "country");
    let ha = nodes.iter().find(|n| n["id"] == "region:CN-HA").unwrap();
    assert_eq!(ha["country"], "CN");
    assert_eq!(ha["kind"], "region");
}

/// The shipment edges and the party shares are the report's numbers, aggregated.
#[test]
fn graph_numbers_match_the_report() {
    let g = graph(&[]);
    let csv_text = ok(&["report"]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let head = rd.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    // Per (shipper, consignee, heading): count, value, first and last date, value-weighted sanctioned.
    type Key = (String, String, String);
    type Sums = (u64, f64, String, String, f64);
    let mut agg: BTreeMap<Key, Sums> = BTreeMap::new();
    let mut out: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
    for r in &rows {
        let v: f64 = r[col("value_usd")].parse().unwrap();
        let s: f64 = r[col("sanctioned")].parse().unwrap();
        let u: f64 = r[col("unknown")].parse().unwrap();
        let date = r[col("date")].to_string();
        let key = (
            r[col("shipper_id")].to_string(),
            r[col("consignee_id")].to_string(),
            r[col("hs_code")][..4].to_string(),
        );
        let e = agg
            .entry(key)
            .or_insert((0, 0.0, date.clone(), date.clone(), 0.0));
        e.0 += 1;
        e.1 += v;
        e.2 = e.2.clone().min(date.clone());
        e.3 = e.3.clone().max(date);
        e.4 += v * s;
        let o = out.entry(r[col("shipper_id")].to_string()).or_default();
        o.0 += v;
        o.1 += v * s;
        o.2 += v * u;
    }
    let edges: Vec<&serde_json::Value> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "shipment")
        .collect();
    assert_eq!(edges.len(), agg.len());
    for e in edges {
        let key = (
            e["source"]
                .as_str()
                .unwrap()
                .trim_start_matches("party:")
                .to_string(),
            e["target"]
                .as_str()
                .unwrap()
                .trim_start_matches("party:")
                .to_string(),
            e["hs"].as_str().unwrap().to_string(),
        );
        let (n, v, first, last, vs) = &agg[&key];
        assert_eq!(e["count"].as_u64().unwrap(), *n, "{key:?}");
        close(e["value_usd"].as_str().unwrap().parse().unwrap(), *v, 1e-6);
        assert_eq!(e["first_date"], first.as_str());
        assert_eq!(e["last_date"], last.as_str());
        if *v > 0.0 {
            close(e["sanctioned"].as_f64().unwrap(), vs / v, 1e-6);
        }
    }
    for n in g["nodes"].as_array().unwrap() {
        if n["kind"] != "party" {
            continue;
        }
        let id = n["party_id"].as_str().unwrap();
        match out.get(id) {
            Some((v, vs, vu)) if *v > 0.0 => {
                close(
                    n["value_out_usd"].as_str().unwrap().parse().unwrap(),
                    *v,
                    1e-6,
                );
                close(n["sanctioned"].as_f64().unwrap(), vs / v, 1e-6);
                close(n["unknown"].as_f64().unwrap(), vu / v, 1e-6);
            }
            Some(_) => {}
            None => {
                assert_eq!(n["shipments_out"], 0);
                assert!(n.get("sanctioned").is_none());
            }
        }
    }
}

#[test]
fn supplier_links_and_trade_flows_are_carried() {
    let g = graph(&[]);
    let edges = g["edges"].as_array().unwrap();
    let links: Vec<_> = edges
        .iter()
        .filter(|e| e["kind"] == "supplier_link")
        .collect();
    assert_eq!(links.len(), 34, "one edge per supplier link of the sample");
    let sl1 = links.iter().find(|e| e["link_id"] == "SL-001").unwrap();
    assert_eq!(sl1["source"], "country:IN");
    assert_eq!(sl1["target"], "party:chennai-sunthread");
    assert_eq!(sl1["hs"], "0501");
    assert_eq!(sl1["share"], 1.0);
    assert!(sl1["source"].is_string());
    // KP's hair imports into Henan, aggregated over the rows of heading 6704.
    let kp_ha = edges
        .iter()
        .find(|e| {
            e["kind"] == "trade_flow"
                && e["source"] == "country:KP"
                && e["target"] == "region:CN-HA"
                && e["hs"] == "6704"
        })
        .expect("KP -> CN-HA trade flow");
    assert_eq!(kp_ha["flow"], "import");
    assert_eq!(kp_ha["reporter"], "CN");
    assert!(kp_ha["count"].as_u64().unwrap() >= 1);
    assert!(kp_ha["value_usd"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    // A Henan party draws on its region's pool.
    assert!(edges.iter().any(|e| e["kind"] == "pool"
        && e["source"] == "region:CN-HA"
        && e["target"] == "party:xuchang-silkwave"
        && e["scope"] == "regional"));
}

#[test]
fn around_a_party_keeps_its_neighbourhood() {
    let whole = graph(&[]);
    let g = graph(&["--around", "xuchang-silkwave", "--hops", "1"]);
    let nodes: BTreeSet<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert!(nodes.contains("party:xuchang-silkwave"));
    assert!(nodes.len() < whole["nodes"].as_array().unwrap().len());
    assert_eq!(g["graph"]["around"], "xuchang-silkwave");
    assert_eq!(g["graph"]["hops"], 1);
    // Exactly the parties one edge away, either direction.
    let mut expect: BTreeSet<&str> = BTreeSet::from(["party:xuchang-silkwave"]);
    for e in whole["edges"].as_array().unwrap() {
        let (s, t) = (e["source"].as_str().unwrap(), e["target"].as_str().unwrap());
        if s == "party:xuchang-silkwave" {
            expect.insert(t);
        }
        if t == "party:xuchang-silkwave" {
            expect.insert(s);
        }
    }
    assert_eq!(nodes, expect);
    for e in g["edges"].as_array().unwrap() {
        assert!(nodes.contains(e["source"].as_str().unwrap()));
        assert!(nodes.contains(e["target"].as_str().unwrap()));
    }
    // Two hops reach KP's parties through the border traders.
    let g2 = graph(&["--around", "xuchang-silkwave", "--hops", "2"]);
    let n2 = g2["nodes"].as_array().unwrap();
    assert!(n2.len() > nodes.len());
    assert!(n2.iter().any(|n| n["id"] == "party:ryonhwa-coop"));
    // Zero hops: the party alone. A name works as well as an id.
    let g0 = graph(&[
        "--around",
        "Xuchang Silkwave Hair Products Co., Ltd.",
        "--hops",
        "0",
    ]);
    assert_eq!(g0["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(g0["edges"].as_array().unwrap().len(), 0);
    // An unknown party is an error.
    let r = run(["export", "--around", "nobody-at-all"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nobody-at-all"));
    let r = run(["export", "--format", "csv"]);
    assert_eq!(r.code, 2);
}

#[test]
fn graphml_is_well_formed_and_declares_every_key() {
    for data in [None, Some(hostile())] {
        let mut args = vec!["export", "--format", "graphml"];
        if let Some(d) = &data {
            args.extend(["--data", d]);
        }
        let doc = ok(&args);
        let x = check_graphml(&doc);
        assert!(x.elements.iter().any(|(n, _)| n == "node"));
        assert!(x.elements.iter().any(|(n, _)| n == "edge"));
    }
    let doc = ok(&["export", "--format", "graphml", "--data", &hostile()]);
    assert!(!doc.contains("<script>"));
    assert!(doc.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(doc.contains("=HYPERLINK(&quot;http://x&quot;)"));
}

/// Validates against the GraphML schema with xmllint, where it is installed: the published schema when
/// `GRAPHML_XSD` points at it, else the structural schema in tests/fixtures/exports/graphml.xsd.
#[test]
fn graphml_validates_against_the_schema() {
    let Some(xmllint) = needed_tool("xmllint", "libxml2-utils") else {
        return;
    };
    let xsd = std::env::var_os("GRAPHML_XSD")
        .map(PathBuf::from)
        .unwrap_or_else(|| fixture("exports/graphml.xsd"));
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in [("sample", None), ("hostile", Some(hostile()))] {
        let file = dir.path().join(format!("{name}.graphml"));
        let mut args = vec![
            "export",
            "--format",
            "graphml",
            "-o",
            file.to_str().unwrap(),
        ];
        if let Some(d) = &data {
            args.extend(["--data", d]);
        }
        ok(&args);
        let out = Command::new(&xmllint)
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(&xsd)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: xmllint rejects the GraphML:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dot_renders_with_graphviz() {
    let whole = ok(&["export", "--format", "dot"]);
    assert!(whole.starts_with("digraph origintrace {"));
    assert!(whole.trim_end().ends_with('}'));
    let hostile_dot = ok(&["export", "--format", "dot", "--data", &hostile()]);
    assert!(hostile_dot.contains("label=\"<script>alert(1)</script>\""));
    assert!(hostile_dot.contains("name=\"=HYPERLINK(\\\"http://x\\\")\""));
    let Some(dot) = needed_tool("dot", "graphviz") else {
        return;
    };
    for (name, src) in [("sample", &whole), ("hostile", &hostile_dot)] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("g.dot");
        std::fs::write(&file, src).unwrap();
        let out = Command::new(&dot).arg("-Tsvg").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: dot fails:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let svg = String::from_utf8_lossy(&out.stdout);
        assert!(svg.contains("<svg"));
        assert!(
            !svg.contains("<script>alert"),
            "{name}: Graphviz got markup through"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim().is_empty(), "{name}: dot warns:\n{stderr}");
    }
}

#[test]
fn export_is_deterministic() {
    for fmt in ["dot", "graphml", "json"] {
        let run_with = |threads: &str| {
            let out = assert_cmd::Command::cargo_bin("origintrace")
                .unwrap()
                .args(["export", "--format", fmt])
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap();
            assert!(out.status.success());
            out.stdout
        };
        assert!(run_with("1") == run_with("3"), "{fmt} differs between runs");
    }
    // Nodes and edges come sorted.
    let g = graph(&[]);
    let ids: Vec<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "party")
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[test]
fn snapshot_export_around_a_party() {
    snapshot!(
        "export_dot_around_xuchang_silkwave",
        ok(&["export", "--format", "dot", "--around", "xuchang-silkwave"])
    );
    snapshot!(
        "export_graphml_example_b",
        ok(&[
            "export",
            "--format",
            "graphml",
            "--data",
            &fixture("example_b").display().to_string()
        ])
    );
}

// ---------------------------------------------------------------------------------------------------------
// `export --format parquet` (cargo feature `parquet`): the files read back with the parquet crate's own
// reader; without the feature, a clear error.

#[cfg(feature = "parquet")]
mod parquet_export {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    use rust_decimal::Decimal;
    use std::path::Path;

    const TABLES: [&str; 7] = [
        "parties",
        "shipments",
        "trade_flows",
        "supplier_links",
        "watchlist",
        "rates",
        "mixes",
    ];

    fn export(dir: &Path, extra: &[&str]) {
        let mut args = vec!["export", "--format", "parquet", "-o"];
        let d = dir.display().to_string();
        args.push(&d);
        args.extend(extra);
        ok(&args);
    }

    /// Every row of a file as column name -> field.
    fn rows(path: &Path) -> Vec<BTreeMap<String, Field>> {
        let f = std::fs::File::open(path).unwrap();
        let r = SerializedFileReader::new(f).unwrap();
        r.get_row_iter(None)
            .unwrap()
            .map(|row| {
                row.unwrap()
                    .get_column_iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .collect()
    }

    fn decimal(f: &Field) -> Decimal {
        match f {
            Field::Decimal(d) => {
                let mut b = [if d.data()[0] & 0x80 != 0 { 0xff } else { 0 }; 16];
                let n = d.data().len();
                b[16 - n..].copy_from_slice(d.data());
                Decimal::from_i128_with_scale(i128::from_be_bytes(b), d.scale() as u32)
            }
            other => panic!("not a decimal: {other:?}"),
        }
    }

    fn string(f: &Field) -> &str {
        match f {
            Field::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    fn double(f: &Field) -> f64 {
        match f {
            Field::Double(x) => *x,
            other => panic!("not a double: {other:?}"),
        }
    }

    #[test]
    fn parquet_export_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        export(dir.path(), &[]);
        // Seven files, no temporary file left behind.
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = TABLES.iter().map(|t| format!("{t}.parquet")).collect();
        want.sort();
        assert_eq!(names, want);

        // Row counts: each table has the rows `check` accepted.
        let check = run_json(["check", "--format", "json"]);
        let accepted: HashMap<String, u64> = check["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let file = f["file"].as_str().unwrap();
                let name = file.rsplit('/').next().unwrap().trim_end_matches(".csv");
                (name.to_string(), f["accepted"].as_u64().unwrap())
            })
            .collect();
        let read: HashMap<&str, Vec<BTreeMap<String, Field>>> = TABLES
            .iter()
            .map(|t| (*t, rows(&dir.path().join(format!("{t}.parquet")))))
            .collect();
        for t in &TABLES[..6] {
            assert_eq!(read[t].len() as u64, accepted[*t], "{t}.parquet rows");
        }
        assert_eq!(read["mixes"].len(), read["shipments"].len());

        // Money is exact: one known value, and the column's sum equals the CSV's to the last digit.
        let ship = &read["shipments"];
        let first = ship
            .iter()
            .find(|r| string(&r["shipment_id"]) == "SH-2022-0003")
            .unwrap();
        assert_eq!(decimal(&first["value"]), Decimal::new(9_556_000, 2));
        assert_eq!(decimal(&first["weight_kg"]).to_string(), "1035.7");
        assert!(matches!(first["date"], Field::Date(d) if d == 19268)); // 2022-10-03
        let csv_sum: Decimal = csv::Reader::from_path(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/shipments.csv"),
        )
        .unwrap()
        .deserialize::<HashMap<String, String>>()
        .map(|r| {
            r.unwrap()["value"]
                .replace(',', "")
                .parse::<Decimal>()
                .unwrap()
        })
        .sum();
        let pq_sum: Decimal = ship.iter().map(|r| decimal(&r["value"])).sum();
        assert_eq!(pq_sum, csv_sum);
        let rates: Decimal = read["rates"]
            .iter()
            .map(|r| decimal(&r["usd_per_unit"]))
            .sum();
        assert!(rates > Decimal::ZERO);

        // The mixes are the report's (benches/peers/compare.py --via-parquet checks them to the bit; here
        // serde_json's default float parser may land one unit in the last place away).
        let report = run_json(["report", "--format", "json"]);
        let by_id: HashMap<&str, &serde_json::Value> = report["shipments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["shipment_id"].as_str().unwrap(), r))
            .collect();
        for m in &read["mixes"] {
            let r = by_id[string(&m["shipment_id"])];
            for k in [
                "sanctioned",
                "clean",
                "unknown",
                "documented",
                "declared",
                "statistical",
                "coverage",
            ] {
                close(double(&m[k]), r[k].as_f64().unwrap(), 1e-15);
            }
            assert_eq!(
                m["reachable"],
                Field::Bool(r["reachable"].as_bool().unwrap())
            );
        }
    }

    #[test]
    fn parquet_export_is_deterministic_and_refuses_bad_usage() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        export(
            a.path(),
            &["--data", &fixture("example_b").display().to_string()],
        );
        export(
            b.path(),
            &["--data", &fixture("example_b").display().to_string()],
        );
        for t in TABLES {
            let f = format!("{t}.parquet");
            assert!(
                std::fs::read(a.path().join(&f)).unwrap()
                    == std::fs::read(b.path().join(&f)).unwrap(),
                "{f} differs between two runs"
            );
        }
        let r = run(["export", "--format", "parquet"]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("needs -o DIR"), "{}", r.stderr);
        let d = a.path().display().to_string();
        let r = run(["export", "--format", "parquet", "-o", &d, "--around", "X"]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("--around"), "{}", r.stderr);
    }
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_export_needs_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pq");
    let r = run([
        "export",
        "--format",
        "parquet",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--features parquet"), "{}", r.stderr);
    assert!(!out.exists(), "nothing is written");
}
