//! `report` and the HTML pages through the binary: snapshots of every format on the sample dataset, the
//! figures of the page against the CSV, JSON and `trace`, hostile strings (markup, formulas) in every
//! format, and the page rendered in a real headless Chromium where one is installed.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ok(args: &[&str]) -> String {
    let r = run(args);
    assert_eq!(r.code, 0, "origintrace {args:?} failed:\n{}", r.stderr);
    r.stdout
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
// Snapshots of every format on the compiled-in sample.

#[test]
fn snapshot_report_csv_tables() {
    snapshot!("report_csv_shipments", ok(&["report"]));
    snapshot!(
        "report_csv_importers",
        ok(&["report", "--table", "importers"])
    );
    snapshot!(
        "report_csv_exporters",
        ok(&["report", "--table", "exporters"])
    );
}

#[test]
fn snapshot_report_json() {
    snapshot!("report_json", ok(&["report", "--format", "json"]));
}

#[test]
fn snapshot_report_markdown() {
    snapshot!("report_md", ok(&["report", "--format", "md"]));
}

#[test]
fn snapshot_report_html() {
    snapshot!("report_html", ok(&["report", "--format", "html"]));
}

#[test]
fn snapshot_trace_of_a_documented_shipment() {
    snapshot!(
        "trace_sh_2023_0139_json",
        ok(&["trace", "SH-2023-0139", "--format", "json"])
    );
    snapshot!("trace_sh_2023_0139_text", ok(&["trace", "SH-2023-0139"]));
}

#[test]
fn report_output_does_not_depend_on_the_thread_count() {
    let with = |threads: &str| {
        let out = assert_cmd::Command::cargo_bin("origintrace")
            .unwrap()
            .args(["report", "--format", "html"])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("binary runs");
        assert!(out.status.success());
        out.stdout
    };
    assert!(
        with("1") == with("4"),
        "the HTML differs between 1 and 4 threads"
    );
}

// ---------------------------------------------------------------------------------------------------------
// The page is self-contained, and its figures are the CSV's, JSON's and trace's.

/// Every `src="…"`/`href="…"` value in the page, and whether anything would be fetched.
fn assert_self_contained(html: &str) {
    for attr in ["src=\"", "href=\"", "src='", "href='"] {
        for (i, _) in html.match_indices(attr) {
            let v = &html[i + attr.len()..];
            assert!(
                v.starts_with('#') || v.starts_with("data:"),
                "external reference in the page: {}",
                &html[i..(i + 80).min(html.len())]
            );
        }
    }
    for bad in [
        "@import", "url(", "<link", "<iframe", "<img", "<object", "<embed",
    ] {
        assert!(!html.contains(bad), "the page contains {bad}");
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
    assert_eq!(html.matches("<script").count(), 1, "one inline script");
    assert!(html.contains("@media print"));
}

/// Thousands grouping, as the page prints counts and amounts.
fn group(s: &str) -> String {
    let (int, frac) = s.split_once('.').map_or((s, ""), |(a, b)| (a, b));
    let mut o = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(c);
    }
    if !frac.is_empty() {
        o.push('.');
        o.push_str(frac);
    }
    o
}

/// The text of the headline figure `id`.
fn figure(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"fig-{id}\""))
        .unwrap_or_else(|| panic!("no figure {id}"));
    let rest = &html[at..];
    let v = rest.find("class=\"v\">").expect("figure value") + "class=\"v\">".len();
    rest[v..v + rest[v..].find('<').unwrap()].to_string()
}

#[test]
fn html_report_is_self_contained_with_the_figures_of_the_json() {
    let html = ok(&["report", "--format", "html"]);
    assert_self_contained(&html);
    let j: serde_json::Value = serde_json::from_str(&ok(&["report", "--format", "json"])).unwrap();
    let t = &j["totals"];
    assert_eq!(
        figure(&html, "shipments"),
        group(&t["shipments"].to_string())
    );
    assert_eq!(
        figure(&html, "flagged"),
        group(&t["flagged_shipments"].to_string())
    );
    assert_eq!(
        figure(&html, "exposed"),
        group(t["exposed_value_usd"].as_str().unwrap())
    );
    assert!(html.contains(&format!("{} USD", group(t["value_usd"].as_str().unwrap()))));
    assert!(html.contains(&format!(
        "{} USD",
        group(t["flagged_value_usd"].as_str().unwrap())
    )));
    for sev in ["high", "medium", "low", "none"] {
        let n = t["by_severity"][sev].to_string();
        let at = html.find(&format!("id=\"fig-{sev}\"")).unwrap();
        assert!(
            html[at..at + 200].contains(&format!("<b>{}</b>", group(&n))),
            "severity {sev}"
        );
    }
    // One row per flagged shipment in the table, and ten path diagrams with their legend.
    let flagged = t["flagged_shipments"].as_u64().unwrap() as usize;
    let table = &html[html.find("id=\"flagged\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr data-sev=").count(), flagged);
    assert_eq!(html.matches("<svg class=\"paths\"").count(), 10);
    assert!(html.contains("documented (shipment records)"));
    assert!(html.contains("stroke-dasharray=\"9 5\""), "declared style");
    assert!(
        html.contains("stroke-dasharray=\"1 5\""),
        "statistical style"
    );
    // Every importer is summarised.
    let importers = j["importers"].as_array().unwrap();
    let summary = &html[html.find("id=\"importers\"").unwrap()..];
    let summary = &summary[..summary.find("</table>").unwrap()];
    assert_eq!(summary.matches("<tr ").count(), importers.len());
}

/// The figures of a shipment's card (report) and of its trace page agree with its CSV row and its trace.
#[test]
fn html_figures_match_csv_and_trace_for_each_top_shipment() {
    let html = ok(&["report", "--format", "html"]);
    let csv_text = ok(&["report"]);
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let head = rd.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let mut cards = 0;
    for k in 1..=10 {
        let Some(at) = html.find(&format!("<article class=\"card\" id=\"top-{k}\">")) else {
            break;
        };
        cards += 1;
        let card = &html[at..];
        let card = &card[..card.find("</article>").unwrap()];
        let id_at = card.find(&format!("<h3>{k}. ")).unwrap() + format!("<h3>{k}. ").len();
        let id = card[id_at..].split(' ').next().unwrap().to_string();
        let row = rows
            .iter()
            .find(|r| r[0] == id)
            .expect("card's shipment in CSV");
        let value = &row[col("value_usd")];
        assert!(
            card.contains(&format!("value <b>{}</b> USD", group(value))),
            "{id} value"
        );
        assert!(card.contains(&format!(
            "exposed value <b>{}</b> USD",
            group(&row[col("exposed_value_usd")])
        )));
        let t: serde_json::Value =
            serde_json::from_str(&ok(&["trace", &id, "--format", "json"])).unwrap();
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        let e = &t["exposure"];
        for (label, key) in [
            ("sanctioned", "sanctioned"),
            ("unknown", "unknown"),
            ("clean", "clean"),
            ("coverage", "coverage"),
        ] {
            let x = e[key].as_f64().unwrap();
            assert!(
                card.contains(&format!("{label} <b>{}</b>", pct(x))),
                "{id}: {label} {} not in the card",
                pct(x)
            );
            // The CSV says the same, to nine decimals.
            close(row[col(key)].parse::<f64>().unwrap(), x, 1e-9);
        }
        assert_eq!(row[col("severity")].to_string(), t["severity"]);
        // Each drawn path's share is the trace's share of the same path.
        for p in t["paths"].as_array().unwrap() {
            let nodes = p["nodes"].as_str().unwrap().replace('>', " → ");
            let line = format!(
                "<td class=\"id\">{nodes}</td><td>{}</td><td class=\"r\" data-v=\"",
                p["grade"].as_str().unwrap()
            );
            let at = card
                .find(&line)
                .unwrap_or_else(|| panic!("{id}: path {nodes} not drawn"));
            let cell = &card[at + line.len()..];
            let shown = &cell[cell.find("\">").unwrap() + 2..cell.find("</td>").unwrap()];
            assert_eq!(shown, pct(p["share"].as_f64().unwrap()), "{id}: {nodes}");
        }
        // The trace page prints the same figures.
        let page = ok(&["trace", &id, "--format", "html"]);
        assert_self_contained(&page);
        assert_eq!(
            figure(&page, "sanctioned"),
            pct(e["sanctioned"].as_f64().unwrap())
        );
        assert_eq!(
            figure(&page, "unknown"),
            pct(e["unknown"].as_f64().unwrap())
        );
        assert_eq!(
            figure(&page, "coverage"),
            pct(e["coverage"].as_f64().unwrap())
        );
        assert_eq!(figure(&page, "severity"), t["severity"].as_str().unwrap());
    }
    assert_eq!(cards, 10);
}

#[test]
fn trace_vet_and_paths_pages_share_the_building_blocks() {
    let trace = ok(&["trace", "SH-2023-0139", "--format", "html"]);
    let vet = ok(&["vet", "xuchang-silkwave", "--format", "html"]);
    let walk = ok(&[
        "paths",
        "--from",
        "KP",
        "--to",
        "crownline-hair",
        "--format",
        "html",
    ]);
    for page in [&trace, &vet, &walk] {
        assert_self_contained(page);
        assert!(page.contains("<header class=\"top\">"));
        assert!(page.contains("<section class=\"figs\">"));
        assert!(page.contains("<svg class=\"paths\""));
        assert!(page.contains("<div class=\"legend\">"));
    }
    assert!(trace.contains("sample/shipments.csv:247"), "records named");
    assert!(vet.contains("Next steps"));
    let w: serde_json::Value = serde_json::from_str(&ok(&[
        "paths",
        "--from",
        "KP",
        "--to",
        "crownline-hair",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        figure(&walk, "paths"),
        w["paths"].as_array().unwrap().len().to_string()
    );
}

// ---------------------------------------------------------------------------------------------------------
// Hostile strings: party names that are markup or spreadsheet formulas.

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";
const FORMULA: &str = "=HYPERLINK(\"http://x\")";

#[test]
fn html_shows_markup_in_names_as_text() {
    let data = hostile();
    let pages = [
        ok(&["report", "--format", "html", "--data", &data]),
        ok(&["trace", "B-4", "--format", "html", "--data", &data]),
        ok(&["trace", "B-1", "--format", "html", "--data", &data]),
        ok(&["vet", "K", "--format", "html", "--data", &data]),
        ok(&["vet", "L", "--format", "html", "--data", &data]),
        ok(&["vet", "X", "--format", "html", "--data", &data]),
        ok(&[
            "paths", "--from", "KP", "--to", "Y", "--format", "html", "--data", &data,
        ]),
    ];
    for page in &pages {
        assert!(!page.contains(SCRIPT), "raw <script> name in the page");
        assert!(!page.contains("<img"), "raw <img> in the page");
        assert!(
            !page.contains("<svg onload"),
            "raw alias markup in the page"
        );
        for raw in ["<b>Pyongyang</b>", "<b>DPRK</b>", "<i>1</i>", "WL-<1>"] {
            assert!(!page.contains(raw), "raw markup {raw} in the page");
        }
        assert!(!page.contains("</td><td>,"));
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!page.contains("onerror=alert(1)>"), "attribute breakout");
        assert_self_contained(page);
    }
    let report = &pages[0];
    assert!(report.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(report.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(report.contains("=HYPERLINK(&quot;http://x&quot;)"));
    // The paths drawn name the hostile parties as text inside the SVG, too.
    let svg_at = report.find("<svg class=\"paths\"").unwrap();
    assert!(report[svg_at..].contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn csv_neutralises_formulas_and_keeps_markup_verbatim() {
    let data = hostile();
    for (table, id_col, name_col) in [
        ("shipments", "shipper_id", "shipper_name"),
        ("importers", "party_id", "name"),
        ("exporters", "party_id", "name"),
    ] {
        let out = ok(&["report", "--table", table, "--data", &data]);
        let mut rd = csv::Reader::from_reader(out.as_bytes());
        let head = rd.headers().unwrap().clone();
        let id = head.iter().position(|h| h == id_col).unwrap();
        let name = head.iter().position(|h| h == name_col).unwrap();
        let mut seen = 0;
        for r in rd.records() {
            let r = r.unwrap();
            for cell in r.iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "{table}: a formula cell survived: {cell}"
                );
            }
            match &r[id] {
                "X" => {
                    assert_eq!(&r[name], format!("'{FORMULA}"));
                    seen += 1;
                }
                "Z" => assert_eq!(&r[name], "'+cmd|' /C calc'!A0"),
                "K" => assert_eq!(&r[name], SCRIPT),
                "L" => assert_eq!(&r[name], IMG),
                _ => {}
            }
        }
        if table != "importers" {
            assert!(seen > 0, "{table}: X not listed");
        }
    }
    // The consignee side too.
    let out = ok(&["report", "--data", &data]);
    assert!(out.contains("\"'=HYPERLINK(\"\"http://x\"\")\""));
}

#[test]
fn json_stays_valid_for_any_string() {
    let data = hostile();
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["report", "--format", "json", "--data", &data])).unwrap();
    let names: Vec<&str> = v["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            [
                r["shipper_name"].as_str().unwrap(),
                r["consignee_name"].as_str().unwrap(),
            ]
        })
        .collect();
    for n in [
        SCRIPT,
        IMG,
        FORMULA,
        "Back\\slash \"quoted\" ünïcødé 漢字 '-1' & co",
    ] {
        assert!(names.contains(&n), "{n} not carried verbatim: {names:?}");
    }
    for args in [
        vec!["trace", "B-4", "--format", "json"],
        vec!["vet", "K", "--format", "json"],
        vec!["paths", "--from", "KP", "--to", "Y", "--format", "json"],
        vec!["export", "--format", "json"],
    ] {
        let mut a = args.clone();
        a.extend(["--data", &data]);
        let out = ok(&a);
        serde_json::from_str::<serde_json::Value>(&out)
            .unwrap_or_else(|e| panic!("{args:?}: invalid JSON ({e})"));
    }
    let md = ok(&["report", "--format", "md", "--data", &data]);
    assert!(!md.contains(SCRIPT), "markdown escapes markup");
}

// ---------------------------------------------------------------------------------------------------------
// The page in a real browser.

fn chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    })
}

/// Runs Chromium headless with the test's flags and a fresh profile, with a time limit.
fn headless(browser: &Path, profile: &Path, extra: &[String]) -> (bool, String, String) {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chromium starts");
    let out_pipe = child.stdout.take().unwrap();
    let err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(out_pipe).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(err_pipe).unwrap_or_default());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        status.is_some_and(|s| s.success()),
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed, and CI=true requires the browser test to run");
        }
        eprintln!("SKIPPED: chromium not installed (html_report_renders_in_headless_chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    ok(&["report", "--format", "html", "-o", page.to_str().unwrap()]);
    let url = format!("file://{}", page.display());
    let j: serde_json::Value = serde_json::from_str(&ok(&["report", "--format", "json"])).unwrap();
    let shipments = group(&j["totals"]["shipments"].to_string());
    let flagged = group(&j["totals"]["flagged_shipments"].to_string());

    let (done, dom, err) = headless(
        &browser,
        &dir.path().join("profile-dom"),
        &["--dump-dom".into(), url.clone()],
    );
    assert!(done, "chromium --dump-dom failed:\n{err}");
    assert!(
        dom.contains("id=\"fig-shipments\""),
        "no figures in the DOM:\n{err}"
    );
    assert_eq!(figure(&dom, "shipments"), shipments);
    assert_eq!(figure(&dom, "flagged"), flagged);
    // The filter script ran in the browser: it counted the rows shown.
    assert!(
        dom.contains(&format!(
            "<span class=\"shown\">{}</span>",
            flagged.replace(',', "")
        )),
        "the table script did not run"
    );
    let svg = dom.find("<svg class=\"paths\"").expect("an SVG diagram");
    let rest = &dom[svg..];
    let end = rest.find("</svg>").unwrap();
    assert!(rest[..end].contains("<path") || rest[..end].contains("<line"));

    let shot = dir.path().join("shot.png");
    let (done, _, err) = headless(
        &browser,
        &dir.path().join("profile-shot"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
            url,
        ],
    );
    assert!(done, "chromium --screenshot failed:\n{err}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.len() > 1000,
        "screenshot too small: {} bytes",
        png.len()
    );
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
}
