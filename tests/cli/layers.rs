//! The library's layers depend only downward (docs/architecture.md). This reads the sources and fails on
//! any `crate::X` in code (comments and test modules aside) that names a layer above the file's own, so a
//! cycle cannot come back unnoticed.

use std::path::{Path, PathBuf};

/// The layers, lowest first, as `src/lib.rs` lists them.
const LAYERS: [&str; 8] = [
    "util", "data", "import", "engine", "snapshot", "query", "present", "session",
];

fn rank(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == name)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("src entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::NAME` in the code lines of `text` before its test module.
fn crate_uses(text: &str) -> Vec<(usize, String)> {
    let body = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut uses = Vec::new();
    for (n, line) in body.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            uses.push((n + 1, name));
        }
    }
    uses
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut checked = 0;
    let mut upward = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs");
        // The binary (main.rs and its cli/) may use every layer; lib.rs only declares them.
        let Some(own) = rank(top) else {
            assert!(
                ["main", "lib", "cli"].contains(&top),
                "{} is in no layer: add it to a layer folder (docs/architecture.md)",
                rel.display()
            );
            continue;
        };
        checked += 1;
        let text = std::fs::read_to_string(f).expect("source is UTF-8");
        for (line, name) in crate_uses(&text) {
            if rank(&name).is_some_and(|r| r > own) {
                upward.push(format!("{}:{line} uses crate::{name}", rel.display()));
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} library files found under src/"
    );
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn the_check_sees_an_upward_import() {
    let text = "use crate::data::codes::Hs;\n// crate::present in a comment\nuse crate::present::Json;\n#[cfg(test)]\nuse crate::session;";
    let names: Vec<String> = crate_uses(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["data", "present"]);
}
