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
    close(num(&v, "/exposure/sanctioned"), 0.0217161, 1e-6);
    close(num(&v, "/exposure/clean"), 0.9782839, 1e-6);
    close(num(&v, "/exposure/unknown"), 0.0, 1e-9);
    close(num(&v, "/exposure/coverage"), 0.0, 1e-9);
    close(
        num(&v, "/exposure/by_evidence/statistical"),
        0.0217161,
        1e-6,
    );
    close(
        num(&v, "/exposure/clean_by_evidence/statistical"),
        0.9782839,
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
    assert!(
        flags.contains(&("pattern:henan-to-us".into(), "medium".into())),
        "{flags:?}"
    );
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
    for f in v["flags"].as_array().unwrap() {
        if f["rule"] == "sanctioned-exposure" || f["rule"] == "pattern:henan-to-us" {
            assert_eq!(f["severity"], "high");
        }
    }
    // L's own output: its markup has no documented input, so it shows as unknown.
    let l = run_json(["trace", "B-2", "--format", "json", "--data", &data]);
    close(num(&l, "/exposure/sanctioned"), 0.833333, 1e-6);
    close(num(&l, "/exposure/unknown"), 0.166667, 1e-6);
    // The report's row agrees with the trace, and names the top path.
    let r = run(["report", "--data", &data]);
    assert_eq!(r.code, 0);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("B-4,"))
        .expect("B-4 row");
    assert!(row.ends_with(",K>L>X>Y,0.916666667,100000"), "{row}");
}
