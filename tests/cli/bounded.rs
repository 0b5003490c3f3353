//! Issue 14, items 2 and 3: bounded work on hostile graph shapes. The timings live in
//! `benches/hostile.sh` (never timed tests); these check what the bounds do to the output: limits are
//! checked when parsed, and a list cut by a bound says so in every format, most of all when it is empty.
//! The fixtures under `tests/fixtures/hostile/` are small instances of `benches/hostile.py`.

use crate::harness::{fixture, run, run_json};
use origintrace::engine::screening::screen;

fn data(name: &str) -> String {
    fixture(&format!("hostile/{name}"))
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

#[test]
fn limits_are_bounded_and_checked_when_parsed() {
    let bad: [&[&str]; 8] = [
        &["report", "--max-paths", "0"],
        &["report", "--max-paths", "100001"],
        &["report", "--max-paths", "18446744073709551615"],
        &["report", "--max-hops", "0"],
        &["report", "--max-hops", "65"],
        &["report", "--max-hops", "4294967295"],
        &["paths", "--from", "KP", "--to", "u", "--limit", "0"],
        &["trace", "S1", "--paths", "0"],
    ];
    for args in bad {
        let r = run(args);
        assert_eq!(
            r.code, 2,
            "{args:?} must be a usage error; stderr:\n{}",
            r.stderr
        );
        let flag = args[args.len() - 2];
        assert!(
            r.stderr.contains(flag) && r.stderr.contains("is not in 1.."),
            "{args:?}: the error names the option and its range:\n{}",
            r.stderr
        );
    }
    // The bounds themselves are accepted.
    let d = data("chain");
    let r = run([
        "trace",
        "C38",
        "--max-paths",
        "100000",
        "--max-hops",
        "64",
        "--data",
        &d,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_trace_cut_before_any_path_says_so() {
    // Every path of the lattice's last shipment has 20 hops, more than the default 16: the search finds
    // none, and a 100 % sanctioned shipment must not read "Paths: none".
    let d = data("lattice");
    let r = run(["trace", "L18_2_2", "--data", &d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("sanctioned 100.00%"), "{}", r.stdout);
    assert!(!r.stdout.contains("Paths: none\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Paths: none found, list cut"),
        "{}",
        r.stdout
    );
    let j = run_json(["trace", "L18_2_2", "--format", "json", "--data", &d]);
    assert_eq!(j["paths_truncated"], true, "{j}");
    assert_eq!(j["paths"].as_array().map(Vec::len), Some(0), "{j}");
    let html = run(["trace", "L18_2_2", "--format", "html", "--data", &d]);
    assert_eq!(html.code, 0, "{}", html.stderr);
    // The chain of 40 parties: cut by --max-hops at the default, found whole with room for its 39 hops.
    // The cut, not the data, emptied the list.
    let d = data("chain");
    let r = run(["trace", "C38", "--data", &d]);
    assert!(
        r.stdout.contains("Paths: none found, list cut"),
        "{}",
        r.stdout
    );
    let j = run_json([
        "trace",
        "C38",
        "--format",
        "json",
        "--max-hops",
        "64",
        "--data",
        &d,
    ]);
    assert_eq!(j["paths_truncated"], false, "{j}");
    let first = j["paths"][0]["nodes"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(first.split('>').count(), 40, "{j}");
    assert!(
        first.starts_with("p0>p1>") && first.ends_with(">p38>p39"),
        "{first}"
    );
}

#[test]
fn paths_names_the_bound_that_cut_it() {
    // The lattice: 3^19 chains to its last layer; the walk runs out of work before any is found.
    let d = data("lattice");
    let j = run_json([
        "paths", "--from", "KP", "--to", "l19_0", "--format", "json", "--data", &d,
    ]);
    assert_eq!(j["truncated"], true, "{j}");
    assert_eq!(j["paths"].as_array().map(Vec::len), Some(0), "{j}");
    assert_eq!(j["cut_by"], serde_json::json!(["work"]), "{j}");
    let r = run(["paths", "--from", "KP", "--to", "l19_0", "--data", &d]);
    assert!(
        r.stdout
            .contains("none found before the search was cut (the work bound)"),
        "{}",
        r.stdout
    );
    // The chain of 40 parties: 39 hops, more than the default 16, so cut by --max-hops and named so ...
    let d = data("chain");
    let j = run_json([
        "paths", "--from", "KP", "--to", "p39", "--format", "json", "--data", &d,
    ]);
    assert_eq!(j["cut_by"], serde_json::json!(["max_hops"]), "{j}");
    let r = run(["paths", "--from", "KP", "--to", "p39", "--data", &d]);
    assert!(
        r.stdout
            .contains("none found before the search was cut (--max-hops)"),
        "{}",
        r.stdout
    );
    // ... and found whole with --max-hops 64, when nothing is cut.
    let j = run_json([
        "paths",
        "--from",
        "KP",
        "--to",
        "p39",
        "--max-hops",
        "64",
        "--format",
        "json",
        "--data",
        &d,
    ]);
    assert_eq!(j["truncated"], false, "{j}");
    assert_eq!(j["cut_by"].as_array().map(Vec::len), Some(0), "{j}");
    let nodes = j["paths"][0]["nodes"].as_str().unwrap_or_default();
    assert_eq!(nodes.split('>').count(), 40, "{j}");
    // --limit 1 on a lattice with paths in reach: cut by the limit, and named so.
    let d = data("lattice");
    let j = run_json([
        "paths", "--from", "KP", "--to", "l2_0", "--limit", "1", "--format", "json", "--data", &d,
    ]);
    assert_eq!(j["paths"].as_array().map(Vec::len), Some(1), "{j}");
    assert_eq!(j["cut_by"], serde_json::json!(["limit"]), "{j}");
}

#[test]
fn self_shipments_stay_bounded_and_say_when_cut() {
    // kp -> a, 400 shipments a -> a (8 a day), a -> u: the record-level chains multiply without end. The
    // trace must finish with its paths, or say that its list was cut.
    let d = data("self");
    let j = run_json(["trace", "S401", "--format", "json", "--data", &d]);
    let found = j["paths"].as_array().map(Vec::len).unwrap_or(0);
    assert!(found > 0 || j["paths_truncated"] == true, "{j}");
    let r = run(["trace", "S401", "--data", &d]);
    assert!(!r.stdout.contains("Paths: none\n"), "{}", r.stdout);
    let r = run(["report", "--format", "json", "--data", &d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A report row whose top-path search was cut says so in every format: CSV and JSON `paths_truncated`, and
/// "(path search cut)" in Markdown and HTML; every sanctioned row without a top path is such a row.
#[test]
fn a_cut_top_path_says_so_in_every_report_format() {
    let d = data("lattice");
    let csv = run(["report", "--data", &d]);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut lines = csv.stdout.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (mut cut, mut bare) = (0, 0);
    for l in lines {
        let cells: Vec<&str> = l.split(',').collect();
        let sanctioned: f64 = cells[col("sanctioned")].parse().unwrap();
        let truncated = cells[col("paths_truncated")] == "true";
        cut += truncated as usize;
        if sanctioned > 0.0 && cells[col("top_path")].is_empty() {
            bare += 1;
            assert!(
                truncated,
                "a sanctioned row without a path must say its search was cut: {l}"
            );
        }
    }
    assert!(
        cut > 0 && bare > 0,
        "the lattice cuts some searches ({cut}, {bare})"
    );
    let j = run_json(["report", "--format", "json", "--data", &d]);
    let n = j["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["paths_truncated"] == true)
        .count();
    assert_eq!(n, cut);
    for fmt in ["md", "html"] {
        let r = run(["report", "--format", fmt, "--data", &d]);
        assert!(r.stdout.contains("(path search cut)"), "{fmt}");
    }
}

#[test]
fn cut_reports_do_not_depend_on_the_thread_count() {
    // Where the budgets cut, what was cut must not depend on which outputs a thread did before (the
    // certification's memo is per output for that reason).
    for shape in ["self", "lattice"] {
        let d = data(shape);
        let out = |threads: &str| {
            let o = assert_cmd::Command::cargo_bin("origintrace")
                .expect("binary built")
                .env("RAYON_NUM_THREADS", threads)
                .args(["report", "--format", "json", "--data", &d])
                .output()
                .expect("binary runs");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        };
        let one = out("1");
        for t in ["2", "5"] {
            assert!(
                out(t) == one,
                "{shape}: the report with {t} threads differs from 1 thread"
            );
        }
    }
}

#[test]
fn a_search_spends_at_most_its_budget_and_queues_no_more() {
    use origintrace::data::dataset::{DataSource, load};
    use origintrace::data::settings::Settings;
    use origintrace::engine::model::{EPS, Engine};
    use origintrace::engine::paths::{Limits, MAX_HOPS_BOUND};
    let st = Settings::default();
    for shape in ["self", "lattice", "chain"] {
        let ds =
            load(&[DataSource::Dir(fixture(&format!("hostile/{shape}")))]).expect("fixture loads");
        let e = Engine::run(&ds, &st, screen(&ds, st.match_threshold));
        let n = e.ix.keys.len() as u32;
        // One step may overrun the budget by what it reads before the check: one output's terms, and the
        // chains one term queues (no statistics in these fixtures: at most two, of at most max_hops + 3).
        let widest = (0..n).map(|k| e.decompose(k).len()).max().unwrap_or(0);
        let deep = Limits {
            max_hops: MAX_HOPS_BOUND,
            ..Limits::default()
        };
        let one = Limits {
            max_paths: 1,
            ..Limits::default()
        };
        let batch = Limits {
            records: false,
            top: Some(1),
            ..Limits::default()
        };
        let mut spent_it_all = 0;
        for limits in [Limits::default(), deep, one, batch] {
            let budget = limits.work_budget();
            let slack = widest + 2 * (limits.max_hops + 4);
            // The deepest outputs are the hardest; the last few keys are the latest days.
            let sanctioned = (0..n).filter(|&k| e.outcome(k).mix.sanctioned() > EPS);
            let last: Vec<u32> = sanctioned
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .take(3)
                .collect();
            assert!(!last.is_empty(), "{shape}: no sanctioned output");
            for k in last {
                let set = e.paths_of_key(k, limits);
                assert!(
                    set.work <= budget + slack && set.peak_queue <= budget + slack,
                    "{shape}, key {k}, {limits:?}: work {}, queue {}, budget {budget} + {slack}",
                    set.work,
                    set.peak_queue
                );
                if set.work > budget {
                    spent_it_all += 1;
                    assert!(
                        set.truncated,
                        "{shape}, key {k}: out of work but not marked cut"
                    );
                }
            }
        }
        if shape == "lattice" {
            // 3^19 chains of equal share: the budget, not the paths, ends these searches.
            assert!(spent_it_all > 0, "the lattice never exhausted a budget");
        }
    }
}
