//! SPEC §3's worked examples, through the CLI.

use crate::harness::*;

#[test]
fn worked_example_a_statistical() {
    let v = run_json(
        ["trace", "S-1", "--format", "json", "--data"]
            .map(String::from)
            .into_iter()
            .chain([fixture("example_a").display().to_string()]),
    );
    // Model v2: T = E = 516666667; S = 11220000, clean imports 65000000, the remainder unknown.
    close(num(&v, "/exposure/sanctioned"), 0.0217161, 1e-6);
    close(num(&v, "/exposure/clean"), 0.1258065, 1e-6);
    close(num(&v, "/exposure/unknown"), 0.8524774, 1e-6);
    close(num(&v, "/exposure/coverage"), 0.0, 1e-9);
    close(num(&v, "/exposure/prevalence"), 0.147205, 1e-6);
    close(num(&v, "/exposure/interval/1"), 0.8741935, 1e-6);
    close(
        num(&v, "/exposure/by_evidence/statistical"),
        0.0217161,
        1e-6,
    );
    close(
        num(&v, "/exposure/clean_by_evidence/statistical"),
        0.1258065,
        1e-6,
    );
    let flags: Vec<(String, String)> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        flags.contains(&("sanctioned-exposure".into(), "medium".into())),
        "{flags:?}"
    );
    // A statistical pattern match is low (v2).
    assert!(
        flags.contains(&("pattern:henan-to-us".into(), "low".into())),
        "{flags:?}"
    );
    assert!(
        flags.contains(&("regional-prevalence".into(), "medium".into())),
        "{flags:?}"
    );
    assert_eq!(flags.len(), 4, "{flags:?}");
    // The unknown share is explained in plain words, and every part is backed by rows.
    let expl = v["explanation"].as_array().unwrap();
    assert!(
        expl.iter()
            .any(|l| l.as_str().unwrap().starts_with("unknown 85.25%")
                && l.as_str()
                    .unwrap()
                    .contains("exports exceed what its recorded imports explain")),
        "{expl:?}"
    );
    let parts = v["backing"].as_array().unwrap();
    let part = |p: &str| {
        parts
            .iter()
            .find(|x| x["part"] == p)
            .unwrap_or_else(|| panic!("{p}: {parts:?}"))
    };
    close(
        part("clean_imports")["clean"].as_f64().unwrap(),
        0.1258065,
        1e-6,
    );
    close(
        part("remainder_unknown")["unknown"].as_f64().unwrap(),
        0.8524774,
        1e-6,
    );
    // An all-unknown part rests on no evidence, and is never called documented.
    assert_eq!(part("remainder_unknown")["grade"], "none");
    assert_eq!(part("clean_imports")["grade"], "statistical");
    assert_eq!(
        part("sanctioned_imports")["records"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        part("clean_imports")["records"].as_array().unwrap().len(),
        2
    );
    assert_eq!(v["pool"]["rows"].as_array().unwrap().len(), 6);
    assert!(
        flags.contains(&("low-coverage".into(), "low".into())),
        "{flags:?}"
    );
    assert_eq!(v["paths"][0]["hops"][0]["kind"], "trade_flow");
    assert_eq!(v["paths"][0]["hops"][0]["from"], "KP");
    assert_eq!(v["paths"][0]["hops"][0]["to"], "CN-HA");
    assert_eq!(v["paths"][0]["hops"][0]["value_usd"], "11220000");
    assert_eq!(v["paths"][0]["nodes"], "KP>CN-HA>X>Y");
    assert_eq!(v["reachable"], true);
    assert_eq!(v["paths_truncated"], false);
}

#[test]
fn worked_example_b_documented_and_declared() {
    let data = fixture("example_b").display().to_string();
    let v = run_json(["trace", "B-4", "--format", "json", "--data", &data]);
    close(num(&v, "/exposure/sanctioned"), 0.416667, 1e-6);
    close(num(&v, "/exposure/clean"), 0.5, 1e-6);
    close(num(&v, "/exposure/unknown"), 0.083333, 1e-6);
    close(num(&v, "/exposure/coverage"), 0.916667, 1e-6);
    close(num(&v, "/exposure/by_evidence/documented"), 0.416667, 1e-6);
    close(num(&v, "/exposure/clean_by_evidence/declared"), 0.5, 1e-6);
    assert_eq!(v["paths"].as_array().unwrap().len(), 1);
    assert_eq!(v["paths"][0]["grade"], "documented");
    close(num(&v, "/paths/0/share"), 0.416667, 1e-6);
    assert_eq!(v["paths"][0]["nodes"], "K>L>X>Y");
    let rules: Vec<&str> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"sanctioned-exposure"));
    assert!(rules.contains(&"pattern:henan-to-us"));
    // X never traded with K itself: no counterparty flag on X's shipment.
    assert!(!rules.contains(&"sanctioned-counterparty"), "{rules:?}");
    assert!(v["exposure"]["prevalence"].is_null());
    for f in v["flags"].as_array().unwrap() {
        if f["rule"] == "sanctioned-exposure" || f["rule"] == "pattern:henan-to-us" {
            assert_eq!(f["severity"], "high");
        }
    }
    // L's own output: its markup has no documented input, so it shows as unknown.
    let l = run_json(["trace", "B-2", "--format", "json", "--data", &data]);
    close(num(&l, "/exposure/sanctioned"), 0.833333, 1e-6);
    close(num(&l, "/exposure/unknown"), 0.166667, 1e-6);
    // L received 6704 from K, located in KP: its shipment carries sanctioned-counterparty (high).
    let lf = l["flags"].as_array().unwrap();
    assert!(
        lf.iter()
            .any(|f| f["rule"] == "sanctioned-counterparty" && f["severity"] == "high"),
        "{lf:?}"
    );
    assert_eq!(l["counterparties"][0]["party_id"], "K");
    assert_eq!(l["counterparties"][0]["direction"], "received_from");
    // The report's row agrees with the trace, and names the top path.
    let r = run(["report", "--data", &data]);
    assert_eq!(r.code, 0);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("B-4,"))
        .expect("B-4 row");
    // `prevalence` follows `top_path`, empty when the output takes no pool.
    assert!(row.ends_with(",K>L>X>Y,,0.916666667,100000,false"), "{row}");
}
