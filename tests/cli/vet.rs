//! `vet` as SPEC §4 (model v2) describes it, read as a compliance officer would: an importer profiled by what
//! it bought, an outward-processing firm, a supplier whose own suppliers are listed, a date past the data's
//! end, and a party found by an identifier. All on the compiled-in sample.

use crate::harness::*;

fn vet_json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["vet"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    run_json(a)
}

fn steps(v: &serde_json::Value) -> Vec<String> {
    v["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// A US importer with 31 of 32 purchases flagged high is high, and says why; it is never asked for the
/// outbound shipments it does not make.
#[test]
fn an_importer_is_profiled_by_what_it_bought() {
    let v = vet_json(&["brightlash-beauty"]);
    assert_eq!(v["severity"], "high", "{}", v["findings"]);
    assert_eq!(v["bought"]["shipments"], 32);
    assert_eq!(v["bought"]["severity"], "high");
    let high = v["bought"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "sanctioned-exposure")
        .unwrap();
    assert_eq!(high["severity"], "high");
    assert!(v["bought"]["mix"]["sanctioned"].as_f64().unwrap() > 0.1);
    assert!(
        v["findings"][0]["what"]
            .as_str()
            .unwrap()
            .starts_with("bought 32 shipment(s)")
    );
    let s = steps(&v);
    assert!(s.iter().any(|x| x.starts_with("Its purchases in")), "{s:?}");
    assert!(
        !s.iter()
            .any(|x| x.contains("no outbound shipment") || x.contains("shipment records")),
        "an end buyer is asked for outbound shipments: {s:?}"
    );
    let text = run(["vet", "brightlash-beauty"]);
    assert!(
        text.stdout.contains("overall severity high"),
        "{}",
        text.stdout
    );
}

/// The outward-processing loop: hair sent to a KP factory is a sanctioned counterparty with its records and
/// direction, the overall severity is high, and the first steps stop and escalate.
#[test]
fn an_outward_processing_firm_is_stopped_and_escalated() {
    let v = vet_json(&["xuchang-brightmane"]);
    assert_eq!(v["severity"], "high");
    let cps = v["counterparties"].as_array().unwrap();
    let out = cps
        .iter()
        .find(|c| c["direction"] == "shipped_to")
        .expect("shipped_to kumbit-factory");
    assert_eq!(out["party_id"], "kumbit-factory");
    assert_eq!(out["country"], "KP");
    assert!(out["shipments"].as_u64().unwrap() >= 14);
    assert!(
        out["records"][0]
            .as_str()
            .unwrap()
            .contains("shipments.csv:"),
        "{out}"
    );
    let s = steps(&v);
    assert!(s[0].starts_with("Stop and escalate"), "{s:?}");
    // Its own shipments to KP carry sanctioned-consignee, its later ones sanctioned-counterparty.
    let rules: Vec<&str> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"sanctioned-consignee"), "{rules:?}");
    assert!(rules.contains(&"sanctioned-counterparty"), "{rules:?}");
    // It is not asked for papers while it trades with KP.
    assert!(
        !s.iter().any(|x| x.contains("ask Xuchang Brightmane")),
        "{s:?}"
    );
}

/// A supplier whose own suppliers are listed: each carries its watchlist status by the listed entity's
/// name, and none is asked for documents.
#[test]
fn watchlisted_suppliers_get_stop_and_escalate_never_a_request() {
    let v = vet_json(&["xuchang-silkwave"]);
    assert_eq!(v["severity"], "high");
    let sups = v["documented_suppliers"].as_array().unwrap();
    let hunchun = sups
        .iter()
        .find(|s| s["party_id"] == "hunchun-eastwind")
        .unwrap();
    let w = hunchun["watchlist"][0].as_str().unwrap();
    // The listed entity's own name, list, id and program, and what matched (an identifier).
    assert!(w.contains("Tumen Eastgate Commerce Co., Ltd."), "{w}");
    assert!(w.contains("WL-003") && w.contains("DPRK3"), "{w}");
    assert!(w.contains("uscc:91222404MAN4RAPYBK"), "{w}");
    assert!(!hunchun["counterparties"].as_array().unwrap().is_empty());
    for s in steps(&v) {
        for name in ["Hunchun Eastwind", "Dandong Riverside"] {
            if s.contains(name) {
                assert!(s.starts_with("Stop and escalate"), "{s}");
                assert!(!s.starts_with("Ask"), "{s}");
            }
        }
    }
    assert!(
        steps(&v)
            .iter()
            .any(|s| s.starts_with("Stop and escalate: Hunchun Eastwind"))
    );
}

/// A natural "today" past the data's end is allowed, warned about on stderr and in every format, and does
/// not make the firm look clean.
#[test]
fn an_as_of_date_past_the_data_is_warned_about_and_keeps_the_record() {
    let r = run(["vet", "xuchang-silkwave", "--as-of", "2030-01-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: as of 2030-01-01 is after the data's last date, 2023-12-31"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("WARNING: as of 2030-01-01"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("overall severity high"), "{}", r.stdout);
    assert!(r.stdout.contains("do not buy"), "{}", r.stdout);
    let v = vet_json(&["xuchang-silkwave", "--as-of", "2030-01-01"]);
    assert_eq!(v["data_end"], "2023-12-31");
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    // Nothing is known of the window but a declaration still in force (`SL-013`, country:IN, 20 %): the rest
    // is unknown, never clean.
    let now = &v["headings"][0]["now"];
    close(now["clean"].as_f64().unwrap(), 0.2, 1e-9);
    close(
        now["clean_by_evidence"]["declared"].as_f64().unwrap(),
        0.2,
        1e-9,
    );
    close(now["unknown"].as_f64().unwrap(), 0.8, 1e-9);
    let html = run([
        "vet",
        "xuchang-silkwave",
        "--as-of",
        "2030-01-01",
        "--format",
        "html",
    ]);
    assert!(html.stdout.contains("Warning:"));
    // Inside the data: no warning.
    let r = run(["vet", "xuchang-silkwave"]);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

/// PARTY may be an identifier, with its scheme or bare.
#[test]
fn a_party_is_found_by_its_identifier() {
    for q in [
        "uscc:91411000MAX8E6D53A",
        "USCC:91411000MAX8E6D53A",
        "91411000MAX8E6D53A",
    ] {
        let v = vet_json(&[q]);
        assert_eq!(v["party"]["party_id"], "xuchang-silkwave", "{q}");
    }
    let r = run(["vet", "uscc:00000000NOSUCHONE"]);
    assert_eq!(r.code, 2);
}

/// The KP supplier outside the lag window: nothing documented-sanctioned in the window, but the export is
/// flagged high for the firm's own purchase from KP 215 days before.
#[test]
fn a_kp_supplier_outside_the_lag_window_is_still_flagged() {
    let t = run_json(["trace", "SH-2023-0900", "--format", "json"]);
    assert!(t["exposure"]["by_evidence"]["documented"].as_f64().unwrap() < 1e-12);
    let f = t["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "sanctioned-counterparty")
        .expect("sanctioned-counterparty");
    assert_eq!(f["severity"], "high");
    assert!(
        f["detail"].as_str().unwrap().contains("SH-2022-0900"),
        "{f}"
    );
    assert_eq!(t["counterparties"][0]["party_id"], "ryonhwa-coop");
    assert_eq!(t["counterparties"][0]["direction"], "received_from");
}

/// Two parties sharing an identifier are candidates, listed, with exit 2, as for an ambiguous name.
#[test]
fn a_shared_identifier_is_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("parties.csv"),
        "party_id,name,country,identifiers\nA,Alpha Hair Co.,CN,uscc:91410000AAAA\nB,Beta Hair Co.,CN,uscc:91410000AAAA\nC,Gamma Hair Co.,CN,duns:123\n",
    )
    .unwrap();
    let d = dir.path().display().to_string();
    let r = run(["vet", "uscc:91410000AAAA", "--data", &d]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("ambiguous") && r.stderr.contains("Alpha") && r.stderr.contains("Beta"),
        "{}",
        r.stderr
    );
    let v = run_json(["vet", "123", "--format", "json", "--data", &d]);
    assert_eq!(v["party"]["party_id"], "C");
}
