//! SPEC §2 "A dataset" and "Strict input, nothing lost", through the real binary: one fixture per
//! validation rule under `tests/fixtures/ingest/`, the exact `FILE:LINE: column: reason` messages, exit
//! codes, `read = accepted + rejected` for every file, `--skip-invalid` with `--rejects`, and snapshots
//! (`build`) that give the same answers as the CSV files they were built from and refuse to load when
//! damaged.

use crate::harness::*;
use serde_json::Value;
use std::path::Path;

/// The path of an ingest fixture dataset, as it is passed to `--data` (and so as it appears in messages).
fn case(name: &str) -> String {
    fixture(&format!("ingest/{name}")).display().to_string()
}

/// `FILE` as the messages name it: the `--data` path joined with the file name.
fn file_in(dir: &str, name: &str) -> String {
    Path::new(dir).join(name).display().to_string()
}

fn data_args<'a>(dirs: &[&'a str]) -> Vec<&'a str> {
    dirs.iter().flat_map(|d| ["--data", *d]).collect()
}

fn uint(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no unsigned '{key}' in {v}"))
}

/// Every file of a `check --format json` table obeys `read = accepted + rejected`, and the per-file
/// rejections add up to the total.
#[track_caller]
fn assert_accounted(v: &Value) {
    let files = v["files"].as_array().expect("check JSON has files[]");
    assert!(!files.is_empty(), "check lists no file: {v}");
    let mut total = 0;
    for f in files {
        let (read, accepted, rejected) =
            (uint(f, "read"), uint(f, "accepted"), uint(f, "rejected"));
        assert_eq!(
            read,
            accepted + rejected,
            "read = accepted + rejected for {}",
            f["file"]
        );
        total += rejected;
    }
    assert_eq!(
        total,
        uint(v, "rejected"),
        "per-file rejections add up to the total"
    );
}

/// `(read, accepted, rejected)` of one file in a `check --format json` table.
#[track_caller]
fn counts(v: &Value, file: &str) -> (u64, u64, u64) {
    let f = v["files"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["file"] == file))
        .unwrap_or_else(|| panic!("check does not list {file}: {v}"));
    (uint(f, "read"), uint(f, "accepted"), uint(f, "rejected"))
}

/// Runs `check --format json` on `dirs` with `extra` arguments; returns the run and its table, whose
/// accounting is checked. `check` prints its table even when it then exits 2 for rejected rows.
#[track_caller]
fn check_json(dirs: &[&str], extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend(data_args(dirs));
    args.extend_from_slice(extra);
    let r = run(&args);
    assert!(!r.stderr.contains("panicked"), "panic:\n{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "check stdout is not JSON ({e}); exit {}:\n{}\nstderr:\n{}",
            r.code, r.stdout, r.stderr
        )
    });
    assert_accounted(&v);
    (r, v)
}

/// The lines of stderr that are rejections (everything but the final `origintrace: error:` summary).
fn rejection_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.starts_with("origintrace: error:") && !l.starts_with("  caused by:"))
        .collect()
}

/// One expected rejection: FILE (as printed), LINE, column, and words its reason must contain.
struct Expect<'a> {
    file: String,
    line: u64,
    column: &'a str,
    words: Vec<String>,
}

fn rej<'a>(file: String, line: u64, column: &'a str, words: &[&str]) -> Expect<'a> {
    Expect {
        file,
        line,
        column,
        words: words.iter().map(|w| w.to_string()).collect(),
    }
}

/// Strict mode on a dataset with exactly the `expected` rejections, in order: `check` exits 2 after its
/// table (accounted, each file's rejections counted), and prints each as `FILE:LINE: column: reason` on a
/// line of stderr; `report` refuses the same way and writes nothing to stdout.
#[track_caller]
fn expect_rejections(dirs: &[&str], expected: &[Expect]) -> Value {
    let (r, v) = check_json(dirs, &[]);
    assert_eq!(r.code, 2, "strict check exits 2; stderr:\n{}", r.stderr);
    assert_eq!(uint(&v, "rejected"), expected.len() as u64, "{v}");
    let problems = v["problems"].as_array().expect("problems[]");
    assert_eq!(problems.len(), expected.len(), "{v}");
    for (e, p) in expected.iter().zip(problems) {
        assert_eq!(p["file"], e.file.as_str(), "{p}");
        assert_eq!(p["line"], e.line, "{p}");
        assert_eq!(p["column"], e.column, "{p}");
        assert!(
            !p["raw"].as_str().unwrap_or("").is_empty(),
            "the raw row is kept: {p}"
        );
    }
    let mut files: Vec<&str> = expected.iter().map(|e| e.file.as_str()).collect();
    files.dedup();
    for f in files {
        let n = expected.iter().filter(|e| e.file == f).count() as u64;
        assert_eq!(counts(&v, f).2, n, "rejected rows of {f}");
    }
    let mut report_args = vec!["report"];
    report_args.extend(data_args(dirs));
    let rep = run(&report_args);
    assert_eq!(
        rep.code, 2,
        "strict report exits 2; stderr:\n{}",
        rep.stderr
    );
    assert!(
        rep.stdout.is_empty(),
        "nothing half-written: {}",
        rep.stdout
    );
    for stderr in [&r.stderr, &rep.stderr] {
        assert!(!stderr.contains("panicked"), "{stderr}");
        let lines = rejection_lines(stderr);
        assert_eq!(
            lines.len(),
            expected.len(),
            "one line per rejection:\n{stderr}"
        );
        for (e, line) in expected.iter().zip(&lines) {
            let prefix = format!("{}:{}: {}: ", e.file, e.line, e.column);
            assert!(
                line.starts_with(&prefix),
                "expected a line starting with {prefix:?}, got {line:?}"
            );
            for w in &e.words {
                assert!(line.contains(w.as_str()), "{line:?} should contain {w:?}");
            }
        }
        let last = stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with(&format!(
                "origintrace: error: {} row(s) rejected",
                expected.len()
            )),
            "summary line: {last:?}"
        );
    }
    v
}

/// A dataset that cannot be read at all: `check` and `report` exit 2, print nothing on stdout, and say
/// `message` on stderr.
#[track_caller]
fn expect_fatal(dirs: &[&str], message: &str) {
    for cmd in [vec!["check", "--format", "json"], vec!["report"]] {
        let mut args = cmd.clone();
        args.extend(data_args(dirs));
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?} exits 2; stderr:\n{}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?} prints nothing: {}", r.stdout);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            r.stderr.contains(message),
            "{args:?}: stderr should contain {message:?}:\n{}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "one line:\n{}", r.stderr);
    }
}

/// A dataset that loads cleanly: `check` exits 0 and every file has 0 rejections.
#[track_caller]
fn expect_clean(dirs: &[&str]) -> Value {
    let (r, v) = check_json(dirs, &[]);
    assert_eq!(r.code, 0, "check exits 0; stderr:\n{}", r.stderr);
    for f in v["files"].as_array().unwrap() {
        assert_eq!(uint(f, "rejected"), 0, "{f}");
    }
    v
}

fn trace_json(data: &str, id: &str, extra: &[&str]) -> Value {
    let mut args = vec!["trace", id, "--format", "json", "--data", data];
    args.extend_from_slice(extra);
    run_json(args)
}

// ---- ragged rows and headers ----

#[test]
fn ragged_row_with_too_few_fields_is_rejected() {
    let d = case("ragged_short");
    let v = expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "-",
            &["expected 6 fields, found 5"],
        )],
    );
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (3, 2, 1));
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (4, 4, 0));
    assert!(
        !v["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unquoted"),
        "no comma hint for a short row"
    );
}

#[test]
fn ragged_row_with_too_many_fields_is_rejected() {
    let d = case("ragged_long");
    let v = expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "-",
            &["expected 6 fields, found 7"],
        )],
    );
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (3, 2, 1));
}

#[test]
fn missing_required_column_lists_what_is_missing_and_what_was_found() {
    let d = case("missing_column");
    expect_fatal(
        &[&d],
        &format!(
            "{}:1: header: missing required column(s) value; found shipment_id, date, shipper, consignee, hs_code",
            file_in(&d, "shipments.csv")
        ),
    );
}

// ---- ids and references ----

#[test]
fn duplicate_id_in_one_file_names_the_first_definition() {
    let d = case("duplicate_id");
    let f = file_in(&d, "shipments.csv");
    let v = expect_rejections(
        &[&d],
        &[rej(
            f.clone(),
            4,
            "shipment_id",
            &["duplicate id 'S-2'", &format!("first defined at {f}:3")],
        )],
    );
    assert_eq!(counts(&v, &f), (4, 3, 1));
}

#[test]
fn duplicate_id_across_two_datasets_names_both_places() {
    let a = case("duplicate_across/a");
    let b = case("duplicate_across/b");
    let v = expect_rejections(
        &[&a, &b],
        &[rej(
            file_in(&b, "shipments.csv"),
            2,
            "shipment_id",
            &[
                "duplicate id 'S-2'",
                &format!("first defined at {}:3", file_in(&a, "shipments.csv")),
            ],
        )],
    );
    assert_eq!(counts(&v, &file_in(&a, "parties.csv")), (4, 4, 0));
    assert_eq!(counts(&v, &file_in(&a, "shipments.csv")), (2, 2, 0));
    assert_eq!(counts(&v, &file_in(&b, "shipments.csv")), (2, 1, 1));
}

#[test]
fn unknown_party_in_shipments_is_rejected() {
    let d = case("unknown_party_shipment");
    let v = expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "consignee",
            &["unknown party 'Q'"],
        )],
    );
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (3, 2, 1));
}

#[test]
fn unknown_party_in_supplier_links_is_rejected() {
    let d = case("unknown_party_link");
    let f = file_in(&d, "supplier_links.csv");
    let v = expect_rejections(
        &[&d],
        &[
            rej(
                f.clone(),
                2,
                "supplier",
                &["unknown party 'Q'", "country:XX"],
            ),
            rej(f.clone(), 3, "buyer", &["unknown party 'Q'"]),
        ],
    );
    assert_eq!(counts(&v, &f), (3, 1, 2));
}

// ---- values ----

#[test]
fn impossible_date_is_rejected() {
    let d = case("bad_date");
    expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "date",
            &["'2023-02-30'", "not a calendar day"],
        )],
    );
}

#[test]
fn negative_value_is_rejected() {
    let d = case("negative_value");
    expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "value",
            &["negative value '-5'"],
        )],
    );
}

#[test]
fn value_with_letters_is_rejected() {
    let d = case("value_letters");
    expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "value",
            &["'12O000' is not a number"],
        )],
    );
}

#[test]
fn thousands_separator_in_an_unquoted_field_is_a_ragged_row_with_a_hint() {
    let d = case("thousands_unquoted");
    let v = expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "-",
            &[
                "expected 6 fields, found 8",
                "an unquoted ','",
                "quote values such as \"1,000\"",
            ],
        )],
    );
    assert_eq!(
        v["problems"][0]["raw"],
        "S-2,2023-03-20,L,X,670420,1,250,000"
    );
}

#[test]
fn thousands_separator_in_a_quoted_field_is_accepted() {
    let d = case("thousands_quoted");
    let v = expect_clean(&[&d]);
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (3, 3, 0));
    let t = trace_json(&d, "S-2", &[]);
    assert_eq!(t["value_usd"], "1250000");
}

#[test]
fn currency_without_a_rate_names_the_currency_and_month() {
    let d = case("currency_no_rate");
    let f = file_in(&d, "shipments.csv");
    let v = expect_rejections(
        &[&d],
        &[rej(
            f.clone(),
            3,
            "currency",
            &["no rate for EUR in 2023-03"],
        )],
    );
    // The EUR shipment of 2023-04 has its rate and is accepted.
    assert_eq!(counts(&v, &f), (3, 2, 1));
    assert_eq!(counts(&v, &file_in(&d, "rates.csv")), (1, 1, 0));
    let t = trace_json(&d, "S-3", &["--skip-invalid"]);
    close(
        t["value_usd"].as_str().unwrap().parse::<f64>().unwrap(),
        261000.0,
        1e-9,
    );
}

#[test]
fn unknown_country_code_is_rejected() {
    let d = case("unknown_country");
    let v = expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "parties.csv"),
            3,
            "country",
            &["unknown country code 'XX'"],
        )],
    );
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (3, 2, 1));
}

#[test]
fn unknown_region_code_is_rejected() {
    let d = case("unknown_region");
    expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "parties.csv"),
            3,
            "region",
            &["unknown region code 'CN-ZZ'"],
        )],
    );
}

#[test]
fn region_outside_its_party_country_is_rejected() {
    let d = case("region_outside_country");
    expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "parties.csv"),
            3,
            "region",
            &["US-CA", "not in the party's country CN"],
        )],
    );
}

#[test]
fn share_above_one_is_rejected() {
    let d = case("share_out_of_range");
    let f = file_in(&d, "supplier_links.csv");
    let v = expect_rejections(
        &[&d],
        &[rej(f.clone(), 2, "share", &["1.5", "outside 0..1"])],
    );
    assert_eq!(counts(&v, &f), (2, 1, 1));
}

#[test]
fn hs_code_with_letters_is_rejected() {
    let d = case("hs_letters");
    expect_rejections(
        &[&d],
        &[rej(
            file_in(&d, "shipments.csv"),
            3,
            "hs_code",
            &["HS code '67O420' is not digits"],
        )],
    );
}

#[test]
fn flow_neither_import_nor_export_is_rejected() {
    let d = case("flow_invalid");
    let f = file_in(&d, "trade_flows.csv");
    let v = expect_rejections(
        &[&d],
        &[rej(
            f.clone(),
            3,
            "flow",
            &["'transit' is not import or export"],
        )],
    );
    assert_eq!(counts(&v, &f), (3, 2, 1));
}

// ---- files and encodings ----

#[test]
fn empty_file_is_an_error() {
    let d = case("empty_file");
    let f = file_in(&d, "shipments.csv");
    assert_eq!(
        std::fs::metadata(&f).unwrap().len(),
        0,
        "the fixture is 0 bytes"
    );
    expect_fatal(&[&d], &format!("{f}:1: header: the file is empty"));
}

#[test]
fn header_only_file_is_accepted_with_nothing_read() {
    let d = case("header_only");
    let v = expect_clean(&[&d]);
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (0, 0, 0));
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (4, 4, 0));
}

#[test]
fn utf8_bom_is_accepted() {
    let d = case("bom");
    assert!(
        std::fs::read(file_in(&d, "parties.csv"))
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF")
    );
    let v = expect_clean(&[&d]);
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (4, 4, 0));
    assert_eq!(
        v["files"][0]["unknown_columns"],
        serde_json::json!([]),
        "the BOM is not part of a column name"
    );
    let t = trace_json(&d, "S-3", &[]);
    assert_eq!(t["shipper"]["party_id"], "X");
}

#[test]
fn crlf_line_ends_are_accepted() {
    let d = case("crlf");
    assert!(
        std::fs::read(file_in(&d, "shipments.csv"))
            .unwrap()
            .windows(2)
            .any(|w| w == b"\r\n")
    );
    let v = expect_clean(&[&d]);
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (4, 4, 0));
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (3, 3, 0));
    // No carriage return is left in the last column.
    let t = trace_json(&d, "S-2", &[]);
    assert_eq!(t["value_usd"], "120000");
    assert_eq!(t["shipper"]["region"], "CN-LN");
    assert_eq!(t["consignee"]["region"], "CN-HA");
}

#[test]
fn latin1_bytes_are_rejected_with_a_byte_offset() {
    let d = case("latin1");
    let f = file_in(&d, "parties.csv");
    let bytes = std::fs::read(&f).unwrap();
    // Line 3 starts after the second newline; its name field is the 5th byte of "Soci\xe9t\xe9".
    let row_start = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0
        + 1;
    assert_eq!(bytes[row_start + 2 + 4], 0xE9);
    let v = expect_rejections(
        &[&d],
        &[rej(
            f.clone(),
            3,
            "name",
            &[
                "not valid UTF-8",
                "byte 4 of this field",
                &format!("byte offset {row_start}"),
            ],
        )],
    );
    assert_eq!(counts(&v, &f), (3, 2, 1));
}

#[test]
fn latin1_bytes_in_the_header_give_the_file_byte_offset() {
    let d = case("latin1_header");
    let f = file_in(&d, "parties.csv");
    let bytes = std::fs::read(&f).unwrap();
    let at = bytes.iter().position(|b| *b == 0xE9).unwrap();
    assert_eq!(at, 23);
    expect_fatal(&[&d], "not valid UTF-8");
    let r = run(["check", "--data", &d]);
    assert!(
        r.stderr.contains(&format!("{f}:1: header: ")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("byte offset {at}")),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_column_is_accepted_and_listed_by_check() {
    let d = case("unknown_column");
    let v = expect_clean(&[&d]);
    let f = file_in(&d, "shipments.csv");
    assert_eq!(counts(&v, &f), (3, 3, 0));
    let s = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["file"] == f.as_str())
        .unwrap();
    assert_eq!(s["unknown_columns"], serde_json::json!(["notes"]));
    let text = run(["check", "--data", &d]);
    assert_eq!(text.code, 0);
    let row = text
        .stdout
        .lines()
        .find(|l| l.starts_with(&f))
        .expect("a row for shipments.csv");
    assert!(row.trim_end().ends_with("notes"), "{row:?}");
}

#[test]
fn header_case_and_surrounding_whitespace_are_accepted() {
    let d = case("header_case_ws");
    let v = expect_clean(&[&d]);
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (4, 4, 0));
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (3, 3, 0));
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["unknown_columns"], serde_json::json!([]), "{f}");
    }
    let t = trace_json(&d, "S-3", &[]);
    assert_eq!(t["value_usd"], "240000");
    assert_eq!(t["consignee"]["party_id"], "Y");
}

#[test]
fn dataset_dir_without_canonical_files_is_an_error() {
    let d = case("no_canonical");
    expect_fatal(&[&d], &format!("{d}: not a dataset: no canonical files"));
}

#[test]
fn data_path_that_does_not_exist_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("no-such-dataset").display().to_string();
    expect_fatal(&[&d], &format!("{d}: not found"));
}

#[test]
fn default_flow_ids_of_two_datasets_do_not_collide() {
    let a = case("default_ids/a");
    let b = case("default_ids/b");
    let v = expect_clean(&[&a, &b]);
    assert_eq!(counts(&v, &file_in(&a, "trade_flows.csv")), (2, 2, 0));
    assert_eq!(counts(&v, &file_in(&b, "trade_flows.csv")), (2, 2, 0));
}

/// SPEC §2: a missing flow_id "defaults to `DATASET/trade_flows.csv:LINE` (so two datasets never collide)".
#[test]
fn default_flow_ids_of_same_named_dataset_dirs_do_not_collide() {
    let a = case("same_name_dirs/one/data");
    let b = case("same_name_dirs/two/data");
    let v = expect_clean(&[&a, &b]);
    assert_eq!(counts(&v, &file_in(&a, "trade_flows.csv")), (2, 2, 0));
    assert_eq!(counts(&v, &file_in(&b, "trade_flows.csv")), (2, 2, 0));
}

// ---- strict listing and --skip-invalid ----

/// Splits `FILE:LINE: column: reason` (FILE ends in `.csv`).
fn parse_problem_line(line: &str) -> Option<(&str, u64, &str, &str)> {
    let at = line.find(".csv:")? + 4;
    let (file, rest) = (&line[..at], &line[at + 1..]);
    let (num, rest) = rest.split_once(": ")?;
    let (column, reason) = rest.split_once(": ")?;
    let ok = !column.is_empty() && !column.contains(' ') && !reason.trim().is_empty();
    ok.then_some((file, num.parse().ok()?, column, reason))
}

#[test]
fn strict_mode_prints_every_rejection_on_its_own_line() {
    let d = case("mixed");
    let (_, table) = check_json(&[&d], &["--skip-invalid"]);
    let problems = table["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 5);
    for cmd in ["check", "report", "vet"] {
        let mut args = vec![cmd];
        if cmd == "vet" {
            args.push("X");
        }
        args.extend(["--data", &d]);
        let r = run(&args);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        let lines = rejection_lines(&r.stderr);
        assert_eq!(
            lines.len(),
            problems.len(),
            "{cmd}: one line per rejected row:\n{}",
            r.stderr
        );
        for (line, p) in lines.iter().zip(problems) {
            let (file, n, column, reason) = parse_problem_line(line)
                .unwrap_or_else(|| panic!("{cmd}: not FILE:LINE: column: reason: {line:?}"));
            assert!(Path::new(file).is_file(), "{file} is the file as given");
            assert!(file.starts_with(&d), "{file} starts with the --data path");
            assert_eq!(
                (file, n, column, reason),
                (
                    p["file"].as_str().unwrap(),
                    p["line"].as_u64().unwrap(),
                    p["column"].as_str().unwrap(),
                    p["reason"].as_str().unwrap()
                )
            );
        }
        assert!(r.stderr.ends_with("origintrace: error: 5 row(s) rejected (use --skip-invalid to skip them and --rejects FILE to keep them)\n"), "{}", r.stderr);
    }
}

#[test]
fn strict_mode_lists_the_first_50_then_a_count() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("many");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(
        d.join("parties.csv"),
        "party_id,name,country\nA,Example A,CN\nB,Example B,US\n",
    )
    .unwrap();
    let mut s = String::from("shipment_id,date,shipper,consignee,hs_code,value\n");
    for i in 0..60 {
        s.push_str(&format!("S-{i},2023-02-30,A,B,670420,100\n"));
    }
    std::fs::write(d.join("shipments.csv"), s).unwrap();
    let d = d.display().to_string();
    let (r, v) = check_json(&[&d], &[]);
    assert_eq!(r.code, 2);
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (60, 0, 60));
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 52, "{}", r.stderr);
    let f = file_in(&d, "shipments.csv");
    for (i, l) in lines[..50].iter().enumerate() {
        assert!(l.starts_with(&format!("{f}:{}: date: ", i + 2)), "{l}");
    }
    assert_eq!(lines[50], "… and 10 more");
    assert!(lines[51].starts_with("origintrace: error: 60 row(s) rejected"));
}

#[test]
fn skip_invalid_writes_the_rejects_file_and_goes_on() {
    let d = case("mixed");
    let tmp = tempfile::tempdir().unwrap();
    let rejects = tmp.path().join("rejects.csv");
    let rejects_s = rejects.display().to_string();
    let r = run([
        "report",
        "--data",
        &d,
        "--skip-invalid",
        "--rejects",
        &rejects_s,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
    let mut ids: Vec<&str> = rows.iter().map(|l| l.split(',').next().unwrap()).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["S-1", "S-2", "S-3"],
        "the accepted shipments are scored"
    );

    let (c, v) = check_json(&[&d], &["--skip-invalid"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(counts(&v, &file_in(&d, "parties.csv")), (5, 4, 1));
    assert_eq!(counts(&v, &file_in(&d, "shipments.csv")), (6, 3, 3));
    assert_eq!(counts(&v, &file_in(&d, "trade_flows.csv")), (2, 2, 0));
    assert_eq!(counts(&v, &file_in(&d, "supplier_links.csv")), (2, 1, 1));
    assert_eq!(uint(&v, "rejected"), 5);

    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(text.starts_with("file,line,column,reason,raw\n"), "{text}");
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, ["file", "line", "column", "reason", "raw"]);
    let recs: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(
        recs.len() as u64,
        uint(&v, "rejected"),
        "one row per rejected row:\n{text}"
    );
    let expected = [
        ("parties.csv", 6, "country"),
        ("shipments.csv", 3, "date"),
        ("shipments.csv", 5, "consignee"),
        ("shipments.csv", 7, "-"),
        ("supplier_links.csv", 2, "share"),
    ];
    for (rec, (name, line, column)) in recs.iter().zip(expected) {
        let file = file_in(&d, name);
        assert_eq!(&rec[0], file.as_str(), "{rec:?}");
        assert_eq!(&rec[1], line.to_string().as_str(), "{rec:?}");
        assert_eq!(&rec[2], column, "{rec:?}");
        assert!(!rec[3].is_empty(), "{rec:?}");
        // The raw row is the row as it stands in the file.
        let source = std::fs::read_to_string(&file).unwrap();
        assert_eq!(&rec[4], source.lines().nth(line - 1).unwrap(), "{rec:?}");
    }
    // Per file, the rejects file holds exactly the rows check counts as rejected.
    for f in v["files"].as_array().unwrap() {
        let n = recs
            .iter()
            .filter(|r| &r[0] == f["file"].as_str().unwrap())
            .count() as u64;
        assert_eq!(n, uint(f, "rejected"), "{f}");
    }
}

// ---- the sample ----

#[test]
fn sample_dataset_loads_without_rejections() {
    let r = run(["check", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_accounted(&v);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 6, "all six canonical files");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    for f in files {
        assert_eq!(uint(f, "rejected"), 0, "{f}");
        // Every record of the file was read.
        let name = f["file"].as_str().unwrap().rsplit('/').next().unwrap();
        let records = csv::Reader::from_path(root.join(name))
            .unwrap()
            .into_records()
            .count() as u64;
        assert_eq!(uint(f, "read"), records, "{f}");
        assert!(records > 0, "{name} has rows");
    }
    assert_eq!(uint(&v, "rejected"), 0);
}

// ---- snapshots ----

/// Builds a snapshot of `data` (the sample when `None`) into `dir`; returns its path.
fn build(dir: &Path, name: &str, data: Option<&str>) -> String {
    let out = dir.join(name).display().to_string();
    let mut args = vec!["build", "-o", &out];
    if let Some(d) = data {
        args.extend(["--data", d]);
    }
    let r = run(&args);
    assert_eq!(r.code, 0, "build: {}", r.stderr);
    assert!(r.stdout.is_empty(), "build writes the snapshot, not stdout");
    assert!(Path::new(&out).is_file());
    out
}

/// Runs `args` on the CSV data (`data_csv`, none = the sample) and on the snapshot, and asserts identical
/// output.
#[track_caller]
fn same_output(args: &[&str], data_csv: Option<&str>, snap: &str) {
    let mut a = args.to_vec();
    if let Some(d) = data_csv {
        a.extend(["--data", d]);
    }
    let csv_run = run(&a);
    let mut b = args.to_vec();
    b.extend(["--data", snap]);
    let snap_run = run(&b);
    assert_eq!(csv_run.code, 0, "{a:?}: {}", csv_run.stderr);
    assert_eq!(snap_run.code, 0, "{b:?}: {}", snap_run.stderr);
    assert!(!csv_run.stdout.is_empty());
    assert!(
        csv_run.stdout == snap_run.stdout,
        "{args:?}: snapshot output differs from the CSV run"
    );
}

#[test]
fn snapshot_of_the_sample_gives_the_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = build(tmp.path(), "sample.snap", None);
    same_output(&["report"], None, &snap);
    same_output(&["check", "--format", "json"], None, &snap);
    // Trace the highest- and lowest-ranked shipments of the report.
    let rep = run(["report"]);
    let ids: Vec<&str> = rep
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert!(ids.len() > 2);
    for id in [ids[0], ids[ids.len() / 2], ids[ids.len() - 1]] {
        same_output(&["trace", id, "--format", "json"], None, &snap);
    }
}

#[test]
fn snapshot_of_example_b_gives_the_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture("example_b").display().to_string();
    let snap = build(tmp.path(), "b.snap", Some(&data));
    same_output(&["report"], Some(&data), &snap);
    same_output(&["trace", "B-4", "--format", "json"], Some(&data), &snap);
    same_output(&["trace", "B-4"], Some(&data), &snap);
    let t = trace_json(&snap, "B-4", &[]);
    close(num(&t, "/exposure/sanctioned"), 0.416667, 1e-6);
}

#[test]
fn snapshot_report_json_gives_the_same_output() {
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture("example_b").display().to_string();
    let snap = build(tmp.path(), "b.snap", Some(&data));
    same_output(&["report", "--format", "json"], Some(&data), &snap);
    same_output(
        &["report", "--format", "json"],
        None,
        &build(tmp.path(), "sample.snap", None),
    );
}

#[test]
fn damaged_or_foreign_snapshots_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture("example_b").display().to_string();
    let snap = build(tmp.path(), "b.snap", Some(&data));
    let good = std::fs::read(&snap).unwrap();
    assert!(good.len() > 200);
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let truncated = write("truncated.snap", &good[..good.len() / 2]);
    let header_cut = write("header-cut.snap", &good[..30]);
    // A byte in the middle of the largest section, read from the section table (magic 16 bytes, version
    // and count u32, length u64, then offset, length, checksum u64 per section): a fixed offset in the file
    // lands in another part of it whenever a section changes size.
    let mut flipped = good.clone();
    let u64_at = |i: usize| u64::from_le_bytes(good[i..i + 8].try_into().unwrap()) as usize;
    let count = u32::from_le_bytes(good[20..24].try_into().unwrap()) as usize;
    let (off, len) = (0..count)
        .map(|k| (u64_at(32 + 24 * k), u64_at(40 + 24 * k)))
        .max_by_key(|s| s.1)
        .unwrap();
    flipped[off + len / 2] ^= 0xFF;
    let flipped = write("flipped.snap", &flipped);
    let random = write(
        "random.snap",
        b"Lorem ipsum dolor sit amet, consectetur adipiscing elit; 4f1c 9a77 e2d0 not a snapshot at all\n",
    );
    let mut versioned = good.clone();
    versioned[16..20].copy_from_slice(&7u32.to_le_bytes());
    let versioned = write("version.snap", &versioned);
    let cases: [(&str, &[&str]); 5] = [
        (&truncated, &["damaged snapshot", "rebuild it"]),
        (&header_cut, &["damaged snapshot", "rebuild it"]),
        (&flipped, &["damaged snapshot", "checksum"]),
        (&random, &["not an origintrace snapshot"]),
        (
            &versioned,
            &["snapshot format version 7", "reads version 3", "rebuild it"],
        ),
    ];
    for (path, words) in cases {
        for args in [
            vec!["report", "--data", path],
            vec!["trace", "B-4", "--format", "json", "--data", path],
        ] {
            let r = run(&args);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert!(!r.stderr.contains("panicked"), "{args:?}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
            assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
            assert!(r.stderr.contains(path), "names the file: {}", r.stderr);
            for w in words {
                assert!(
                    r.stderr.contains(w),
                    "{args:?}: stderr should contain {w:?}: {}",
                    r.stderr
                );
            }
        }
    }
}

#[test]
fn lag_days_on_a_snapshot_recomputes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture("example_b").display().to_string();
    let snap = build(tmp.path(), "b.snap", Some(&data));
    let base = trace_json(&snap, "B-4", &[]);
    assert_eq!(base["window"], "2022-10-12..2023-04-09");
    close(num(&base, "/exposure/sanctioned"), 0.416667, 1e-6);
    for lag in ["30", "20"] {
        let from_snap = run([
            "trace",
            "B-4",
            "--format",
            "json",
            "--data",
            &snap,
            "--lag-days",
            lag,
        ]);
        let from_csv = run([
            "trace",
            "B-4",
            "--format",
            "json",
            "--data",
            &data,
            "--lag-days",
            lag,
        ]);
        assert_eq!(from_snap.code, 0, "{}", from_snap.stderr);
        assert_eq!(
            from_snap.stdout, from_csv.stdout,
            "lag {lag}: the snapshot recomputes like the CSV run"
        );
        let v: Value = serde_json::from_str(&from_snap.stdout).unwrap();
        assert_ne!(v, base, "lag {lag} differs from the snapshot's lag 180");
        match lag {
            // B-1 (40 days before B-4) reaches B-4 through B-2 (21 days before), which stays in the window.
            "30" => {
                assert_eq!(v["window"], "2023-03-11..2023-04-09");
                close(num(&v, "/exposure/sanctioned"), 0.416667, 1e-6);
            }
            // B-2, 21 days before B-4, leaves the window: only B-3 (clean, half the value) remains.
            _ => {
                assert_eq!(v["window"], "2023-03-21..2023-04-09");
                close(num(&v, "/exposure/sanctioned"), 0.0, 1e-9);
                close(num(&v, "/exposure/clean"), 0.5, 1e-6);
                close(num(&v, "/exposure/unknown"), 0.5, 1e-6);
                assert_eq!(v["reachable"], false);
            }
        }
    }
}

/// Line numbers count the lines an editor shows, whatever the line ends, blank lines and quoted line breaks.
#[test]
fn line_numbers_are_right_with_crlf_blank_lines_and_quoted_line_breaks() {
    for (ends, expected) in [("\n", [5, 6, 8]), ("\r\n", [5, 6, 8])] {
        let dir = tempfile::tempdir().unwrap();
        let text = [
            "party_id,name,country",
            "A,x,CN",
            "",
            "",
            "B,y,ZZ",
            "\"C",
            "D\",z,QQ",
            "E,z,Q1",
            "",
        ]
        .join(ends);
        std::fs::write(dir.path().join("parties.csv"), text).unwrap();
        let r = run(["check", "--data", dir.path().to_str().unwrap()]);
        assert_eq!(r.code, 2);
        for line in expected {
            assert!(
                r.stderr.contains(&format!("parties.csv:{line}: country:")),
                "line {line} with {ends:?}:\n{}",
                r.stderr
            );
        }
    }
}
