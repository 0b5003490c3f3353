//! Hostile and extreme inputs (issue 7): the tool must finish, never panic, never write half a report, and
//! say clearly where a limit cut its answer.

use crate::harness::*;
use std::fmt::Write as _;
use std::path::Path;

const PARTIES: &str = "party_id,name,country,region\nK,Coop,KP,\nL,Trader,CN,CN-LN\nX,Maker,CN,CN-HA\nY,Importer,US,\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write fixture");
}

fn no_panic(r: &Run) {
    assert!(!r.stderr.contains("panicked"), "panic:\n{}", r.stderr);
    assert!(
        r.code == 0 || r.code == 1 || r.code == 2,
        "exit {}: {}",
        r.code,
        r.stderr
    );
}

#[test]
fn a_bad_last_row_of_a_large_file_names_its_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "parties.csv", PARTIES);
    let n = 1_000_000;
    let mut s = String::with_capacity(n * 48);
    s.push_str("shipment_id,date,shipper,consignee,hs_code,value\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "S{i},2023-0{}-1{},X,Y,670420,{}",
            1 + i % 9,
            i % 10,
            1000 + i % 777
        );
    }
    s.push_str("BAD,2023-02-30,X,Y,670420,5\n");
    write(dir.path(), "shipments.csv", &s);
    let out = dir.path().join("report.csv");
    let r = run([
        "report",
        "--data",
        dir.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    no_panic(&r);
    assert_eq!(r.code, 2);
    let line = n + 2;
    assert!(
        r.stderr.contains(&format!(
            "shipments.csv:{line}: date: '2023-02-30' is not a calendar day"
        )),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "a failed run must not leave an output file");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn a_file_cut_mid_row_and_nul_bytes_are_rejected_or_read_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "parties.csv", PARTIES);
    write(
        dir.path(),
        "shipments.csv",
        "shipment_id,date,shipper,consignee,hs_code,value\nS1,2023-03-01,X,Y,670420,100\nS2,2023-03-02,X,\"Y",
    );
    let r = run(["check", "--data", dir.path().to_str().unwrap()]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("shipments.csv:3:"), "{}", r.stderr);
    write(
        dir.path(),
        "shipments.csv",
        "shipment_id,date,shipper,consignee,hs_code,value\nS\u{0}1,2023-03-01,X,Y,670420,100\nS2,2023-03-02,X,Y,67\u{0}0420,100\n",
    );
    let r = run([
        "check",
        "--data",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    no_panic(&r);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("shipments.csv:3: hs_code:"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_megabyte_field_is_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "parties.csv", PARTIES);
    let big = "x".repeat(1 << 20);
    write(
        dir.path(),
        "shipments.csv",
        &format!(
            "shipment_id,date,shipper,consignee,hs_code,value,description\nS1,2023-03-01,X,Y,670420,100,{big}\n"
        ),
    );
    let r = run(["report", "--data", dir.path().to_str().unwrap()]);
    no_panic(&r);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_ring_of_a_thousand_parties_finishes_within_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1000;
    let mut p = String::from("party_id,name,country,region\nK,Coop,KP,\n");
    for i in 0..n {
        let _ = writeln!(p, "P{i},Ring firm {i},CN,CN-HA");
    }
    write(dir.path(), "parties.csv", &p);
    // Each firm ships to the next, a day later, around the ring three times; K feeds the ring once.
    let mut s = String::from(
        "shipment_id,date,shipper,consignee,hs_code,value\nS-K,2020-01-01,K,P0,670420,1000\n",
    );
    for j in 0..3 * n {
        let d = 2 + j;
        let date = format!(
            "{}",
            origintrace::data::codes::Date::parse("2020-01-01")
                .unwrap()
                .add_days(d)
        );
        let _ = writeln!(s, "S{j},{date},P{},P{},670420,1000", j % n, (j + 1) % n);
    }
    write(dir.path(), "shipments.csv", &s);
    let data = dir.path().to_str().unwrap();
    let r = run(["report", "--data", data]);
    no_panic(&r);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The chain from K is far longer than --max-hops: the trace says its list was cut.
    let v = run_json([
        "trace",
        "S170",
        "--format",
        "json",
        "--max-hops",
        "8",
        "--data",
        data,
    ]);
    assert!(num(&v, "/exposure/sanctioned") > 0.0);
    assert_eq!(v["paths_truncated"], true);
    let w = run([
        "paths",
        "--from",
        "KP",
        "--to",
        "P500",
        "--max-hops",
        "6",
        "--data",
        data,
    ]);
    no_panic(&w);
    assert_eq!(w.code, 0, "{}", w.stderr);
}

#[test]
fn a_hundred_thousand_links_on_one_party_finish() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "parties.csv", PARTIES);
    write(
        dir.path(),
        "shipments.csv",
        "shipment_id,date,shipper,consignee,hs_code,value\nS1,2023-03-01,L,X,670420,100\nS2,2023-04-01,X,Y,670420,200\n",
    );
    let mut l = String::from("buyer,supplier,hs_code,share\n");
    for i in 0..100_000 {
        let _ = writeln!(
            l,
            "X,{},0501,0.00001",
            if i % 2 == 0 { "country:IN" } else { "L" }
        );
    }
    write(dir.path(), "supplier_links.csv", &l);
    let v = run_json([
        "trace",
        "S2",
        "--format",
        "json",
        "--data",
        dir.path().to_str().unwrap(),
    ]);
    let sum =
        num(&v, "/exposure/sanctioned") + num(&v, "/exposure/clean") + num(&v, "/exposure/unknown");
    close(sum, 1.0, 1e-9);
}

#[test]
fn distant_dates_extreme_values_and_a_shipment_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "parties.csv", PARTIES);
    write(
        dir.path(),
        "shipments.csv",
        "shipment_id,date,shipper,consignee,hs_code,value\n\
         OLD,1850-06-01,K,X,670420,1000000000000000\n\
         NEW,2150-06-01,X,Y,670420,999999999999999.99\n\
         SELF,2023-03-01,X,X,670420,5\n\
         SELF2,2023-03-02,X,X,670420,5\n\
         HUGE,2023-03-03,X,Y,670420,10000000000000000\n",
    );
    let r = run(["check", "--data", dir.path().to_str().unwrap()]);
    no_panic(&r);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("shipments.csv:6: value: '10000000000000000' is too large"),
        "{}",
        r.stderr
    );
    let r = run([
        "report",
        "--skip-invalid",
        "--data",
        dir.path().to_str().unwrap(),
    ]);
    no_panic(&r);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("SELF2,"), "{}", r.stdout);
    let v = run_json([
        "trace",
        "SELF2",
        "--format",
        "json",
        "--skip-invalid",
        "--data",
        dir.path().to_str().unwrap(),
    ]);
    let sum =
        num(&v, "/exposure/sanctioned") + num(&v, "/exposure/clean") + num(&v, "/exposure/unknown");
    close(sum, 1.0, 1e-9);
}

#[test]
fn every_report_format_is_identical_on_one_and_two_threads() {
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let mut per = Vec::new();
        for fmt in ["csv", "json", "md", "html"] {
            let out = assert_cmd::Command::cargo_bin("origintrace")
                .unwrap()
                .env("RAYON_NUM_THREADS", threads)
                .args(["report", "--format", fmt])
                .output()
                .unwrap();
            assert!(out.status.success());
            per.push(out.stdout);
        }
        outs.push(per);
    }
    for (a, b) in outs[0].iter().zip(&outs[1]) {
        assert!(a == b, "output differs between 1 and 2 threads");
    }
}

/// The engine and top-path passes compute the outputs of one day in parallel; on synthetic data, where a day
/// has hundreds of outputs, the report must still not depend on the thread count.
#[test]
fn a_synthetic_report_is_identical_on_one_and_three_threads_and_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    let r = run([
        "synth",
        "--shipments",
        "20000",
        "--seed",
        "7",
        "-o",
        data.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = |threads: &str| {
        let out = assert_cmd::Command::cargo_bin("origintrace")
            .unwrap()
            .env("RAYON_NUM_THREADS", threads)
            .args(["report", "--data", data.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let one = report("1");
    assert!(one.len() > 20000 * 100, "{} bytes", one.len());
    assert!(
        one == report("3"),
        "the report differs between 1 and 3 threads"
    );
    // From a snapshot the top paths come from a pass of their own, not from beside the engine pass.
    let snap = dir.path().join("synth.snap");
    let r = run([
        "build",
        "--data",
        data.to_str().unwrap(),
        "-o",
        snap.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let from_snapshot = assert_cmd::Command::cargo_bin("origintrace")
        .unwrap()
        .args(["report", "--data", snap.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(from_snapshot.status.success());
    assert!(
        one == from_snapshot.stdout,
        "the report from the snapshot differs from the report from the CSV files"
    );
}

#[test]
fn an_output_that_cannot_be_written_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-dir").join("report.csv");
    let r = run(["report", "-o", target.to_str().unwrap()]);
    no_panic(&r);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
    assert!(!target.exists());
}
