//! SPEC §3, the attribution model, case by case through the CLI. Every fixture lives in
//! `tests/fixtures/model/<case>/`; the expected numbers are worked out by hand in the comment above each
//! test (default settings unless the fixture has an `origintrace.toml`: lag 180 days,
//! `hs_inputs["6704"] = 0501, 6703, 6704`, KP sanctioned, HK/MO transit, severity medium 0.01 / high 0.10).

use crate::harness::*;
use serde_json::Value;

const TOL: f64 = 1e-6;

fn data(case: &str) -> String {
    fixture(&format!("model/{case}")).display().to_string()
}

/// `trace ID --format json` on a model fixture.
fn trace(case: &str, id: &str) -> Value {
    run_json(["trace", id, "--format", "json", "--data", &data(case)])
}

/// Asserts the three shares of a trace.
#[track_caller]
fn mix(v: &Value, sanctioned: f64, clean: f64, unknown: f64) {
    close(num(v, "/exposure/sanctioned"), sanctioned, TOL);
    close(num(v, "/exposure/clean"), clean, TOL);
    close(num(v, "/exposure/unknown"), unknown, TOL);
}

/// Asserts the sanctioned share per evidence grade (documented, declared, statistical).
#[track_caller]
fn sanctioned_by(v: &Value, documented: f64, declared: f64, statistical: f64) {
    close(num(v, "/exposure/by_evidence/documented"), documented, TOL);
    close(num(v, "/exposure/by_evidence/declared"), declared, TOL);
    close(
        num(v, "/exposure/by_evidence/statistical"),
        statistical,
        TOL,
    );
}

/// Asserts the clean share per evidence grade (documented, declared, statistical).
#[track_caller]
fn clean_by(v: &Value, documented: f64, declared: f64, statistical: f64) {
    close(
        num(v, "/exposure/clean_by_evidence/documented"),
        documented,
        TOL,
    );
    close(
        num(v, "/exposure/clean_by_evidence/declared"),
        declared,
        TOL,
    );
    close(
        num(v, "/exposure/clean_by_evidence/statistical"),
        statistical,
        TOL,
    );
}

/// The severity of flag `rule`, if raised.
fn flag(v: &Value, rule: &str) -> Option<String> {
    v["flags"]
        .as_array()
        .expect("flags array")
        .iter()
        .find(|f| f["rule"] == rule)
        .map(|f| f["severity"].as_str().expect("severity string").to_string())
}

#[track_caller]
fn assert_flag(v: &Value, rule: &str, severity: &str) {
    assert_eq!(
        flag(v, rule).as_deref(),
        Some(severity),
        "flag {rule} in {}",
        v["flags"]
    );
}

#[track_caller]
fn assert_no_flag(v: &Value, rule: &str) {
    assert_eq!(
        flag(v, rule),
        None,
        "flag {rule} should not be raised: {}",
        v["flags"]
    );
}

/// The paths' node chains and shares, in output order.
fn paths(v: &Value) -> Vec<(String, f64)> {
    v["paths"]
        .as_array()
        .expect("paths array")
        .iter()
        .map(|p| {
            (
                p["nodes"].as_str().expect("nodes").to_string(),
                p["share"].as_f64().expect("share"),
            )
        })
        .collect()
}

/// Asserts that the paths (all of them shown, none cut) add up to the sanctioned share.
#[track_caller]
fn paths_add_up(v: &Value) {
    assert_eq!(v["paths_truncated"], false, "paths cut: {v}");
    let sum: f64 = paths(v).iter().map(|(_, s)| s).sum();
    close(sum, num(v, "/exposure/sanctioned"), 1e-9);
}

// Lag boundary, lag 180. OUT-X and OUT-X2 ship on 2023-07-01: window [2023-07-01 - 180 d, 2023-07-01) =
// [2023-01-02, 2023-07-01).
// X: IN-EDGE (K in KP -> X, 2023-01-02, 100) is on the window's first day, so in. D = 100, O = 400 (OUT-X),
//    weight 100 / max(100, 400) = 0.25 sanctioned documented; no links, no statistics: the rest, 0.75, unknown.
// X2: IN-OUT (K -> X2, 2023-01-01) is one day before the window: D = 0, no weight, no links, no pool:
//    unknown 1; nothing sanctioned reaches it.
#[test]
fn lag_boundary_first_day_in_day_before_out() {
    let x = trace("lag_boundary", "OUT-X");
    mix(&x, 0.25, 0.0, 0.75);
    sanctioned_by(&x, 0.25, 0.0, 0.0);
    close(num(&x, "/exposure/coverage"), 0.25, TOL);
    assert_eq!(paths(&x), vec![("K>X>Y".to_string(), 0.25)]);
    let x2 = trace("lag_boundary", "OUT-X2");
    mix(&x2, 0.0, 0.0, 1.0);
    assert_eq!(x2["reachable"], false);
    assert_no_flag(&x2, "sanctioned-exposure");
}

// Strict time order. OUT (X -> Y, 2023-05-10, 400); window [2022-11-11, 2023-05-10).
// D-BEFORE (K -> X, 2023-05-09, 100) is in; D-SAME (K -> X, 2023-05-10, 100) is on t itself, so out.
// D = 100, O = 400: weight 0.25 sanctioned documented, unknown 0.75. (Were the same-day input counted,
// D = 200 would give 0.5.)
#[test]
fn same_day_input_is_not_an_input() {
    let v = trace("same_day", "OUT");
    mix(&v, 0.25, 0.0, 0.75);
    sanctioned_by(&v, 0.25, 0.0, 0.0);
    assert_eq!(
        v["paths"][0]["hops"][0]["records"],
        serde_json::json!(["D-BEFORE"])
    );
}

// Processing loop. C (CN-HA) sends hair to K (KP): P-1, 0501, 2023-02-01, 50000. K sends wigs back: P-2,
// 6704, 2023-03-01, 80000. C ships wigs to Y (US): P-3, 2023-04-01, 100000.
// P-2: K is located in KP, so sanctioned 1 documented (rule 4) whatever its own inputs.
// P-1: C's 0501 output on 2023-02-01 has no earlier input, no link, no pool: unknown 1.
// P-3: D = 80000 (P-2, 6704 is relevant to 6704), O = 100000: weight 0.8 carrying sanctioned 1 documented,
//      remainder 0.2 unknown. The loop C -> K -> C is harmless: every input is strictly earlier.
#[test]
fn processing_loop_hair_out_wigs_back() {
    let k = trace("processing_loop", "P-2");
    mix(&k, 1.0, 0.0, 0.0);
    sanctioned_by(&k, 1.0, 0.0, 0.0);
    close(num(&k, "/exposure/coverage"), 1.0, TOL);
    let hair = trace("processing_loop", "P-1");
    mix(&hair, 0.0, 0.0, 1.0);
    let c = trace("processing_loop", "P-3");
    mix(&c, 0.8, 0.0, 0.2);
    sanctioned_by(&c, 0.8, 0.0, 0.0);
    assert_eq!(paths(&c), vec![("K>C>Y".to_string(), 0.8)]);
    assert_eq!(c["paths"][0]["grade"], "documented");
    assert_flag(&c, "sanctioned-exposure", "high");
    assert_flag(&c, "pattern:henan-to-us", "high");
}

// Supplier-link validity, both bounds inclusive. OUT: X -> Y on t = 2023-05-10, X has no inbound shipment
// (r = 1) and no statistics (no pool).
// L1 country:KP 0501 0.3 valid_from 2023-05-10 = t: in -> 0.3 sanctioned declared.
// L2 country:KP 6704 0.2 valid_to 2023-05-09 = t - 1: expired, out.
// L3 country:IN 0501 0.4 valid_to 2023-05-10 = t: in; IN has no national pool -> 0.4 clean declared.
// L4 country:KP 6703 0.1 valid_from 2023-05-11 = t + 1: not yet, out.
// Shares in force 0.7 <= 1; the rest 1 - 0.7 = 0.3 takes the pool, which does not exist: unknown 0.3.
#[test]
fn supplier_link_validity_dates_are_inclusive() {
    let v = trace("link_validity", "OUT");
    mix(&v, 0.3, 0.4, 0.3);
    sanctioned_by(&v, 0.0, 0.3, 0.0);
    clean_by(&v, 0.0, 0.4, 0.0);
    close(num(&v, "/exposure/coverage"), 0.7, TOL);
    assert_eq!(paths(&v).len(), 1);
    assert_eq!(v["paths"][0]["grade"], "declared");
    assert_eq!(
        v["paths"][0]["hops"][0]["records"],
        serde_json::json!(["L1-FROM-T"])
    );
}

// Link shares over 1. OUT: X -> Y, 2023-04-01, 200. IN-Z: Z (IN) -> X, 0501, 2023-03-01, 50; Z has no
// input, link or pool, so IN-Z carries unknown 1.
// Documented: D = 50, O = 200, weight 0.25 (unknown). r = 0.75.
// Links: country:KP 6704 0.6 and country:IN 0501 0.9, sum 1.5 > 1, scaled to 0.4 and 0.6:
// KP 0.75 * 0.4 = 0.3 sanctioned declared; IN (no pool) 0.75 * 0.6 = 0.45 clean declared.
// Statistical: 0.75 * (1 - min(1, 1.5)) = 0. Total: sanctioned 0.3, clean 0.45, unknown 0.25.
#[test]
fn link_shares_over_one_are_scaled_to_one() {
    let v = trace("link_shares_over_one", "OUT");
    mix(&v, 0.3, 0.45, 0.25);
    sanctioned_by(&v, 0.0, 0.3, 0.0);
    clean_by(&v, 0.0, 0.45, 0.0);
    close(num(&v, "/exposure/coverage"), 0.75, TOL);
    paths_add_up(&v);
}

// Pool fallback. Statistics for 2023-04 (inside every window [2022-11-11, 2023-05-10)):
// national CN rows: KP 670420 import 60, IN 0501 import 30, export 6704 300;
// CN-HA rows: KP 670420 import 50, export 6704 100.
// A (CN-JL: no CN-JL rows) -> national pool: S = 60, U = 0, I = 90, E = 300, T = max(90, 300) = 300:
//   sanctioned 60/300 = 0.2, clean (90-60)/300 = 0.1, remainder (300-90)/300 = 0.7 unknown (v2: a national
//   pool's remainder is unknown); prevalence 0.2 / (0.2 + 0.1) = 2/3.
// C0 (CN, no region) -> the same national pool: 0.2 / 0.1 / 0.7.
// H (CN-HA) -> its region pool: S = 50, I = 50, E = 100, T = 100: sanctioned 0.5, clean 0, remainder 0.5.
//   National rows exist, so the rest of the country = national minus CN-HA class by class: S = 60-50 = 10,
//   U = 0, clean imports 30-0 = 30, E = 300-100 = 200; I = 40, T = 200: s_rest = 10/200 = 0.05.
//   H: sanctioned 0.5 + 0.5*0.05 = 0.525, clean 0, unknown 0.5*0.95 = 0.475; paths KP>CN-HA>H>Y 0.5 and
//   KP>CN>CN-HA>H>Y 0.025 (the rest_of_country hop); prevalence 0.525 / (0.525 + 0) = 1.
// N (IN: no rows at all) -> no pool: unknown 1, prevalence null.
#[test]
fn pool_falls_back_region_then_national_then_unknown() {
    let a = trace("pool_fallback", "OUT-A");
    mix(&a, 0.2, 0.1, 0.7);
    sanctioned_by(&a, 0.0, 0.0, 0.2);
    clean_by(&a, 0.0, 0.0, 0.1);
    close(num(&a, "/exposure/prevalence"), 2.0 / 3.0, TOL);
    assert_eq!(paths(&a)[0].0, "KP>CN>A>Y");
    let c0 = trace("pool_fallback", "OUT-C0");
    mix(&c0, 0.2, 0.1, 0.7);
    let h = trace("pool_fallback", "OUT-H");
    mix(&h, 0.525, 0.0, 0.475);
    sanctioned_by(&h, 0.0, 0.0, 0.525);
    close(num(&h, "/exposure/prevalence"), 1.0, TOL);
    paths_add_up(&h);
    let hp = paths(&h);
    assert_eq!(hp.len(), 2, "{hp:?}");
    assert_eq!(hp[0].0, "KP>CN-HA>H>Y");
    close(hp[0].1, 0.5, TOL);
    assert_eq!(hp[1].0, "KP>CN>CN-HA>H>Y");
    close(hp[1].1, 0.025, TOL);
    let n = trace("pool_fallback", "OUT-N");
    mix(&n, 0.0, 0.0, 1.0);
    close(num(&n, "/exposure/coverage"), 0.0, TOL);
    assert!(n["exposure"]["prevalence"].is_null(), "{}", n["exposure"]);
}

// A region pool whose domestic remainder carries the rest of the country's sanctioned share (region rows
// only, all 2023-04; no national rows, so the rest is the other regions' rows).
// CN-HA: KP 670420 import 10, IN 0501 import 40, export 6704 200.
// CN-LN: KP 670420 import 60, IN 0501 import 20, HK 6704 import 10, export 6704 100.
// X in CN-HA: own S = 10, U = 0, I = 50, E = 200, T = 200: sanctioned 0.05, clean 40/200 = 0.2,
//   remainder R = (200-50)/200 = 0.75.
//   Rest (CN-LN): S = 60, U = 10, I = 90, E = 100, T = 100: s_rest = 0.6.
//   X: sanctioned 0.05 + 0.75*0.6 = 0.5, clean 0.2, unknown 0.75*(1-0.6) = 0.3.
//   (Without the Liaoning importer of KP wigs it would be 0.05: the Liaoning rows raise it tenfold.)
//   Paths: KP>CN-LN>CN-HA>X>Y 0.45 and KP>CN-HA>X>Y 0.05. Prevalence 0.5 / (0.5 + 0.2) = 5/7.
// L2 in CN-LN: own pool S = 60, U = 10, clean 20, T = 100: 0.6 / unknown 0.1 / clean 0.2, R = 0.1; its rest
//   is CN-HA (S = 10, T = 200: s_rest = 0.05): sanctioned 0.6 + 0.1*0.05 = 0.605, clean 0.2,
//   unknown 0.1 + 0.1*0.95 = 0.195. Prevalence 0.605 / 0.805.
#[test]
fn region_pool_remainder_takes_rest_of_country() {
    let x = trace("region_rest", "OUT-X");
    mix(&x, 0.5, 0.2, 0.3);
    sanctioned_by(&x, 0.0, 0.0, 0.5);
    clean_by(&x, 0.0, 0.0, 0.2);
    close(num(&x, "/exposure/prevalence"), 5.0 / 7.0, TOL);
    paths_add_up(&x);
    let p = paths(&x);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].0, "KP>CN-LN>CN-HA>X>Y");
    close(p[0].1, 0.45, TOL);
    assert_eq!(p[1].0, "KP>CN-HA>X>Y");
    close(p[1].1, 0.05, TOL);
    let l2 = trace("region_rest", "OUT-L2");
    mix(&l2, 0.605, 0.2, 0.195);
    close(num(&l2, "/exposure/prevalence"), 0.605 / 0.805, TOL);
    paths_add_up(&l2);
}

// Imports but no exports. CN-HA: KP 670420 import 10, IN 0501 import 40, no export: the region pool does
// not exist (E = 0), nor the national one (CN has no national rows: the sum of region rows, still E = 0).
// X (CN-HA) -> unknown 1, sanctioned 0. V (VN) has exports only (VN export 6704 100, I = 0): unknown 1.
#[test]
fn pool_without_exports_or_imports_does_not_exist() {
    let x = trace("pool_no_exports", "OUT-X");
    mix(&x, 0.0, 0.0, 1.0);
    assert!(x["pool"].is_null(), "no pool expected: {}", x["pool"]);
    let v = trace("pool_no_exports", "OUT-V");
    mix(&v, 0.0, 0.0, 1.0);
}

// Hong Kong import. CN-HA 2023-04: HK 670420 import 30, IN 0501 import 20, export 6704 100.
// S = 0, U = 30 (HK is a transit partner), I = 50, E = 100, T = 100: unknown 30/100 = 0.3,
// clean (50-0-30)/100 = 0.2, remainder (100-50)/100 = 0.5 unknown (no other region, no national rows: no
// rest-of-country pool). Total: clean 0.2, unknown 0.8. Prevalence 0 / (0 + 0.2) = 0 (not null: a pool is
// taken), so no regional-prevalence flag (it needs prevalence > 0).
#[test]
fn hong_kong_import_is_unknown() {
    let v = trace("hk_import", "OUT");
    mix(&v, 0.0, 0.2, 0.8);
    clean_by(&v, 0.0, 0.0, 0.2);
    close(num(&v, "/exposure/prevalence"), 0.0, TOL);
    assert_no_flag(&v, "regional-prevalence");
}

// A yearly row beside monthly rows of the same reporter, region, partner and flow. CN-HA: yearly 2023 KP
// 670420 import 1200, monthly 2023-04 KP 670420 import 10, IN 0501 import 40, export 6704 200.
// The yearly row is superseded: pool S = 10, I = 50, E = 200, T = 200: sanctioned 0.05, clean 40/200 = 0.2,
// remainder 150/200 = 0.75 unknown (no rest of the country).
// (Were it counted, 129 of 2023's 365 days lie in [2022-11-11, 2023-05-10): +1200*129/365 = 424.11.)
#[test]
fn yearly_row_beside_monthly_rows_is_superseded() {
    let v = trace("yearly_superseded", "OUT");
    mix(&v, 0.05, 0.2, 0.75);
    sanctioned_by(&v, 0.0, 0.0, 0.05);
    let c = run_json([
        "check",
        "--format",
        "json",
        "--data",
        &data("yearly_superseded"),
    ]);
    let sup = c["superseded"].as_array().expect("superseded array");
    assert_eq!(sup.len(), 1, "{sup:?}");
    assert_eq!(sup[0]["period"], "2023");
    assert_eq!(sup[0]["partner"], "KP");
    assert_eq!(sup[0]["hs_code"], "670420");
}

// A statistics month partly inside the window. lag_days = 30 (fixture's origintrace.toml); t = 2023-05-15:
// window [2023-04-15, 2023-05-15). April: 16 of 30 days (15..30) count; May: 14 of 31 days (1..14) count;
// March: nothing.
// S = 300*16/30 + 310*14/31 = 160 + 140 = 300; I = S + 600*16/30 = 300 + 320 = 620;
// E = 3000*16/30 + 3100*14/31 = 1600 + 1400 = 3000 = T.
// sanctioned 300/3000 = 0.1, clean 320/3000 = 0.1066667, unknown (remainder) (3000-620)/3000 = 0.7933333.
#[test]
fn statistics_month_partly_inside_window_is_pro_rated() {
    let v = trace("partial_month", "OUT");
    mix(&v, 0.1, 320.0 / 3000.0, 2380.0 / 3000.0);
    sanctioned_by(&v, 0.0, 0.0, 0.1);
    assert_eq!(v["pool"]["sanctioned_imports_usd"], "300");
    assert_eq!(v["pool"]["imports_usd"], "620");
    assert_eq!(v["pool"]["exports_usd"], "3000");
}

// `country:CN` link (B in VN, link country:CN 6704 share 1, so the link takes everything).
// With CN national statistics (2023-04: KP 670420 import 20, IN 0501 import 30, HK 6704 import 10, export
// 6704 200): CN's national pool S = 20, U = 10, I = 60, E = 200, T = 200: sanctioned 0.1, unknown
// 10/200 = 0.05, clean 30/200 = 0.15, remainder 140/200 = 0.7 unknown (national pool): unknown 0.75. The
// path's weakest hop is the pool: graded statistical (coverage 0); path KP>CN>B>Y 0.1. The link is declared
// evidence, not B's pool: B takes no pool, so prevalence is null and there is no regional-prevalence flag.
// With the same figures as region rows only (CN-HA, CN-SD), the national pool is their sum: the same.
// Without statistics: the declaration stands, clean 1 declared, coverage 1.
#[test]
fn country_link_takes_national_pool_or_is_clean() {
    for case in ["country_link_stats", "country_link_region_rows"] {
        let v = trace(case, "OUT");
        mix(&v, 0.1, 0.15, 0.75);
        sanctioned_by(&v, 0.0, 0.0, 0.1);
        clean_by(&v, 0.0, 0.0, 0.15);
        assert!(
            v["exposure"]["prevalence"].is_null(),
            "{case}: {}",
            v["exposure"]
        );
        assert_no_flag(&v, "regional-prevalence");
        close(num(&v, "/exposure/coverage"), 0.0, TOL);
        assert_eq!(paths(&v).len(), 1, "{case}");
        assert_eq!(paths(&v)[0].0, "KP>CN>B>Y", "{case}");
        paths_add_up(&v);
    }
    let v = trace("country_link_nostats", "OUT");
    mix(&v, 0.0, 1.0, 0.0);
    clean_by(&v, 0.0, 1.0, 0.0);
    close(num(&v, "/exposure/coverage"), 1.0, TOL);
}

// Party links. t = 2023-05-10, window [2022-11-11, 2023-05-10).
// X links to Q (0501, share 1). Q's 0501 shipments: Q-OLD 2022-11-10 (before the window), Q-SAME
// 2023-05-10 (not before t); Q-6704 (2023-03-01) is another heading. None qualifies: the link carries
// unknown 1 (Q-OLD and Q-6704 are sanctioned 1, so picking either would show).
// X2 links to Q2 (0501, share 1). Q2's 0501 shipments: Q2-A 2023-01-15 and Q2-B 2023-03-01; the latest is
// Q2-B. Q2-B: window [2022-09-02, 2023-03-01): K-Q2 (K in KP, 2023-02-01, 50) in, D = 50;
// O = Q2-A + Q2-B = 200: sanctioned 0.25 documented, unknown 0.75. Through the link it is declared:
// X2 sanctioned 0.25 declared, unknown 0.75; path K>Q2>X2>Y.
#[test]
fn party_link_takes_latest_earlier_shipment_or_unknown() {
    let x = trace("party_link", "OUT-X");
    mix(&x, 0.0, 0.0, 1.0);
    let q2 = trace("party_link", "Q2-B");
    mix(&q2, 0.25, 0.0, 0.75);
    let x2 = trace("party_link", "OUT-X2");
    mix(&x2, 0.25, 0.0, 0.75);
    sanctioned_by(&x2, 0.0, 0.25, 0.0);
    assert_eq!(paths(&x2).len(), 1);
    assert_eq!(paths(&x2)[0].0, "K>Q2>X2>Y");
    assert_eq!(x2["paths"][0]["grade"], "declared");
}

// A declared KP link masked by full documentation. IN-Z: Z (IN, link country:IN 0501 1: clean 1 declared)
// -> X, 0501, 2023-03-01, 200. OUT: X -> Y, 2023-04-10, 200. D = 200, O = 200: weight 1, r = 0, so X's
// link country:KP 6704 0.5 gets weight 0. X: clean 1 (declared, carried through the documented shipment),
// sanctioned 0; reachable (the KP link touches the chain with no weight) -> sanctioned-reachable (medium),
// no sanctioned-exposure.
#[test]
fn declared_kp_link_masked_by_full_documentation() {
    let v = trace("masked_link", "OUT");
    mix(&v, 0.0, 1.0, 0.0);
    clean_by(&v, 0.0, 1.0, 0.0);
    close(num(&v, "/exposure/coverage"), 1.0, TOL);
    assert_eq!(v["reachable"], true);
    assert_flag(&v, "sanctioned-reachable", "medium");
    assert_no_flag(&v, "sanctioned-exposure");
    assert!(paths(&v).is_empty());
}

// A party located in KP. K receives clean hair (Z-K: Z in IN, link country:IN -> clean 1 declared) and
// ships wigs to Y (K-Y). Rule 4: K's shipments are sanctioned 1 documented, its inputs notwithstanding.
#[test]
fn party_located_in_kp_ships_sanctioned() {
    let v = trace("kp_party", "K-Y");
    mix(&v, 1.0, 0.0, 0.0);
    sanctioned_by(&v, 1.0, 0.0, 0.0);
    close(num(&v, "/exposure/coverage"), 1.0, TOL);
    assert_flag(&v, "sanctioned-exposure", "high");
    paths_add_up(&v);
    assert_eq!(paths(&v)[0].0, "K>Y");
}

// A declared origin_country KP on a shipment from a CN trader. T-X: T (CN-LN) -> X, 2023-03-01, 100,
// origin_country KP. OUT: X -> Y, 2023-04-01, 200. D = 100, O = 200: weight 0.5, sanctioned documented
// (a declared sanctioned origin is a documented hop); the rest unknown 0.5. Path KP>T>X>Y, documented.
#[test]
fn declared_kp_origin_is_documented_sanctioned() {
    let v = trace("declared_origin", "OUT");
    mix(&v, 0.5, 0.0, 0.5);
    sanctioned_by(&v, 0.5, 0.0, 0.0);
    assert_eq!(paths(&v), vec![("KP>T>X>Y".to_string(), 0.5)]);
    assert_eq!(v["paths"][0]["grade"], "documented");
}

// origin-mislabel (v2): declares a non-empty, non-sanctioned origin (CN) while the documented + declared
// sanctioned share >= severity.medium = 0.01. Each Xi receives K-Xi from K (KP) on 2023-03-01 and ships 200
// to Y on 2023-04-01, no links, no statistics (D/O below):
// X1: 150/200 = 0.75, declares CN -> flagged (high). X2: 100/200 = 0.5 -> flagged.
// X3: 1/200 = 0.005 < 0.01, declares CN -> not flagged (v1's 0.5 threshold case 0.4 would now be flagged).
// X5: 2/200 = 0.01 = severity.medium, declares CN -> flagged (the threshold is inclusive).
// X4: 0.75 but declares no origin -> not flagged.
// X6 (VN, no inbound shipment): link country:KP 6704 0.05 -> 0.05 sanctioned declared; the rest 0.95 takes
//   VN's national pool (KP 670420 import 600, export 6704 1000: S = I = 600, T = 1000: sanctioned 0.6,
//   remainder 0.4 unknown) -> statistical 0.95*0.6 = 0.57, unknown 0.95*0.4 = 0.38; declares CN. Declared
//   0.05 >= 0.01: flagged.
// X7 (VN, no shipments in, no links): the same pool alone, sanctioned 0.6 statistical, declares CN -> not
//   flagged: only documented + declared shares count.
#[test]
fn origin_mislabel_threshold() {
    for (id, s, flagged) in [
        ("OUT-X1", 0.75, true),
        ("OUT-X2", 0.5, true),
        ("OUT-X3", 0.005, false),
        ("OUT-X5", 0.01, true),
        ("OUT-X4", 0.75, false),
    ] {
        let v = trace("origin_mislabel", id);
        close(num(&v, "/exposure/sanctioned"), s, TOL);
        sanctioned_by(&v, s, 0.0, 0.0);
        if flagged {
            assert_flag(&v, "origin-mislabel", "high");
        } else {
            assert_no_flag(&v, "origin-mislabel");
        }
    }
    let x6 = trace("origin_mislabel", "OUT-X6");
    mix(&x6, 0.05 + 0.57, 0.0, 0.38);
    sanctioned_by(&x6, 0.0, 0.05, 0.57);
    assert_flag(&x6, "origin-mislabel", "high");
    let x7 = trace("origin_mislabel", "OUT-X7");
    mix(&x7, 0.6, 0.0, 0.4);
    sanctioned_by(&x7, 0.0, 0.0, 0.6);
    assert_no_flag(&x7, "origin-mislabel");
}

// Currency. rates.csv: CNY 2023-03 0.14, CNY 2023 0.15.
// C-1: 1000000 CNY on 2023-03-10 -> month rate: 140000 USD. C-2: 1000000 CNY on 2023-02-10 -> no February
// rate, the year's: 150000 USD. Both from K (KP).
// OUT-X: 280000 USD: weight 140000/280000 = 0.5. OUT-X2: 600000 USD: weight 150000/600000 = 0.25.
#[test]
fn currency_is_converted_before_weighting() {
    let c1 = trace("currency", "C-1");
    assert_eq!(c1["value_usd"], "140000");
    assert_eq!(c1["currency"], "CNY");
    let c2 = trace("currency", "C-2");
    assert_eq!(c2["value_usd"], "150000");
    let x = trace("currency", "OUT-X");
    mix(&x, 0.5, 0.0, 0.5);
    let x2 = trace("currency", "OUT-X2");
    mix(&x2, 0.25, 0.0, 0.75);
}

// input_ratio["6704"] = 0.5 (fixture's origintrace.toml).
// X: K-X (KP, 100, 6704) and Z-X (Z in IN, link country:IN: clean 1 declared, 50, 0501); OUT-X 400.
//   D = 150, k*O = 0.5*400 = 200 -> denominator 200: K 0.5 sanctioned documented, Z 0.25 clean declared,
//   r = 0.25, no links, no pool -> unknown 0.25. (With k = 1: 0.25 / 0.125 / 0.625.)
// X2: K-X2 300, OUT-X2 400: D = 300 > k*O = 200 -> weight 300/300 = 1: sanctioned 1 documented.
#[test]
fn input_ratio_scales_the_output_side() {
    let x = trace("input_ratio", "OUT-X");
    mix(&x, 0.5, 0.25, 0.25);
    sanctioned_by(&x, 0.5, 0.0, 0.0);
    clean_by(&x, 0.0, 0.25, 0.0);
    let x2 = trace("input_ratio", "OUT-X2");
    mix(&x2, 1.0, 0.0, 0.0);
    sanctioned_by(&x2, 1.0, 0.0, 0.0);
}

// Severity of sanctioned-exposure. National pools, 2023-04, KP 670420 import S, export 6704 1000:
// I = S, T = max(S, 1000) = 1000: sanctioned S/1000, clean 0, remainder (1000-S)/1000 unknown (v2).
// CN S = 5 -> 0.005 < 0.01: low. VN S = 10 -> 0.01 = medium threshold: medium. TH S = 50 -> 0.05: medium.
// MY S = 100 -> 0.10 = high threshold: high. ID S = 200 -> 0.2: high. All statistical; none of these
// shippers is in CN-HA or CN-SD, so no pattern flag lifts the severity.
// D (IN): K-D 1 from K, OUT-D 1000: 0.001 sanctioned, unknown 0.999, but documented: high.
#[test]
fn sanctioned_exposure_severity_thresholds() {
    for (id, s, sev) in [
        ("OUT-CN", 0.005, "low"),
        ("OUT-VN", 0.01, "medium"),
        ("OUT-TH", 0.05, "medium"),
        ("OUT-MY", 0.1, "high"),
        ("OUT-ID", 0.2, "high"),
    ] {
        let v = trace("severity", id);
        mix(&v, s, 0.0, 1.0 - s);
        sanctioned_by(&v, 0.0, 0.0, s);
        assert_flag(&v, "sanctioned-exposure", sev);
    }
    let d = trace("severity", "OUT-D");
    mix(&d, 0.001, 0.0, 0.999);
    sanctioned_by(&d, 0.001, 0.0, 0.0);
    assert_flag(&d, "sanctioned-exposure", "high");
}

// low-coverage (coverage < 0.5, low). No shipments in, no statistics (no pool).
// X1: no links -> unknown 1, coverage 0: flagged. X2: country:IN 6704 0.5 -> clean 0.5 declared, coverage
// 0.5: not flagged. X3: country:IN 6704 0.4 -> coverage 0.4: flagged.
#[test]
fn low_coverage_below_one_half() {
    let x1 = trace("low_coverage", "OUT-X1");
    close(num(&x1, "/exposure/coverage"), 0.0, TOL);
    assert_flag(&x1, "low-coverage", "low");
    let x2 = trace("low_coverage", "OUT-X2");
    mix(&x2, 0.0, 0.5, 0.5);
    close(num(&x2, "/exposure/coverage"), 0.5, TOL);
    assert_no_flag(&x2, "low-coverage");
    let x3 = trace("low_coverage", "OUT-X3");
    close(num(&x3, "/exposure/coverage"), 0.4, TOL);
    assert_flag(&x3, "low-coverage", "low");
}

// low-price: value per kg under half the median of the same HS6. HS 670420 with weights: LP-A 1000/10 = 100,
// LP-B 120, LP-C 40, LP-D 90 (LP-F has no weight and is not counted): median (90+100)/2 = 95, half 47.5.
// LP-C (40) is flagged (medium); LP-D (90) is not. LP-E (670411, 1/kg) is alone in its HS6: median 1, not
// flagged. LP-F has no weight: no check.
#[test]
fn low_price_under_half_the_hs6_median() {
    assert_flag(&trace("low_price", "LP-C"), "low-price", "medium");
    for id in ["LP-A", "LP-B", "LP-D", "LP-E", "LP-F"] {
        assert_no_flag(&trace("low_price", id), "low-price");
    }
}

// Path contributions on a diamond: K (KP) -> A (CN-LN) 150 and K -> B (CN-SD) 100 on 2023-02-01;
// A -> X 200 (2023-03-01); B -> X 100 (2023-03-05); X -> Y 400 (2023-04-01).
// A at 03-01: D = 150, O = 200 -> sanctioned 0.75. B at 03-05: D = 100, O = 100 -> sanctioned 1.
// X: D = 300, O = 400: weights A 0.5, B 0.25 -> sanctioned 0.5*0.75 + 0.25*1 = 0.625,
// unknown 0.5*0.25 + 0.25 = 0.375. Paths: K>A>X>Y 0.375, K>B>X>Y 0.25, adding up to 0.625.
#[test]
fn diamond_paths_add_up_to_sanctioned() {
    let v = trace("diamond", "OUT");
    mix(&v, 0.625, 0.0, 0.375);
    sanctioned_by(&v, 0.625, 0.0, 0.0);
    paths_add_up(&v);
    let p = paths(&v);
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(p[0].0, "K>A>X>Y");
    close(p[0].1, 0.375, TOL);
    assert_eq!(p[1].0, "K>B>X>Y");
    close(p[1].1, 0.25, TOL);
    for path in v["paths"].as_array().unwrap() {
        assert_eq!(path["grade"], "documented");
    }
}

// Zero-value inputs. X: K-X (KP, value 0) -> X; OUT-X 100: D = 0, O = 100, weight 0/100 = 0; r = 1, no
// links, no pool: unknown 1, sanctioned 0. X2: K-X2 value 0, OUT-X2 value 0: D = O = 0, no weight: unknown 1.
// Both are reachable (a zero-value shipment from KP is a time-respecting chain): sanctioned-reachable.
#[test]
fn zero_value_kp_input_is_reachable_with_no_weight() {
    for id in ["OUT-X", "OUT-X2"] {
        let v = trace("zero_value", id);
        mix(&v, 0.0, 0.0, 1.0);
        assert_eq!(v["reachable"], true, "{id}");
        assert_flag(&v, "sanctioned-reachable", "medium");
        assert_no_flag(&v, "sanctioned-exposure");
    }
}

// National rows that disagree with a region's rows (CN-HA reports 100 of IN 0501 imports, the national
// rows only 50). H in CN-HA: own S = 0, U = 0, I = 100, E = 200, T = 200: clean 0.5, remainder 0.5.
// Rest of the country = national minus CN-HA, class by class, each floored at 0: S = 100 - 0 = 100,
// U = 0, clean imports max(0, (150-100-0) - 100) = 0, E = 400 - 200 = 200; rest I = 100, T = 200:
// s_rest = 100/200 = 0.5. H: sanctioned 0.5*0.5 = 0.25, clean 0.5, unknown 0.5*0.5 = 0.25; the shares stay
// in [0, 1] and add up to 1 (SPEC §3).
#[test]
fn inconsistent_national_and_region_rows_still_give_a_mix() {
    let v = trace("rest_inconsistent", "OUT");
    let (s, c, u) = (
        num(&v, "/exposure/sanctioned"),
        num(&v, "/exposure/clean"),
        num(&v, "/exposure/unknown"),
    );
    close(s + c + u, 1.0, 1e-9);
    close(s, 0.25, TOL);
    close(c, 0.5, TOL);
    close(u, 0.25, TOL);
}

// Statistics rows dated after t must not change the mix at t. A (CN, no region) ships on 2023-05-10.
// before/: CN has region rows only (CN-HA 2023-04: KP 670420 import 10, export 6704 100), so CN's national
// pool is their sum: S = 10, I = 10, E = 100, T = 100: sanctioned 0.1, clean 0, remainder 0.9 unknown.
// after/: the same plus one national row for 2023-09, four months after t. The window [2022-11-11,
// 2023-05-10) is unchanged and has no national row, so A must still get 0.1 / 0 / 0.9 (were the national
// pool switched to "national rows only" for the whole dataset, it would find none in the window: unknown 1).
#[test]
fn national_row_after_t_does_not_change_t() {
    let before = trace("future_national_row/before", "OUT");
    mix(&before, 0.1, 0.0, 0.9);
    let after = trace("future_national_row/after", "OUT");
    mix(&after, 0.1, 0.0, 0.9);
}

/// An output of a code shorter than a heading (HS `67`) has as exports every row under it, and as relevant
/// inputs every code overlapping `67` (no `hs_inputs` entry). CN-HA only:
/// S = 10 (KP 670420), I = 10 + 40 (IN 6703) = 50, E = 200 (US 6704), T = 200:
/// sanctioned 10/200 = 0.05, clean 40/200 = 0.2, remainder 150/200 = 0.75 unknown, all statistical.
#[test]
fn short_heading_exports_count_every_heading_under_it() {
    let v = run_json([
        "trace",
        "OUT",
        "--format",
        "json",
        "--data",
        fixture("model/short_heading").to_str().unwrap(),
    ]);
    close(num(&v, "/exposure/sanctioned"), 0.05, 1e-9);
    close(num(&v, "/exposure/clean"), 0.2, 1e-9);
    close(num(&v, "/exposure/unknown"), 0.75, 1e-9);
    close(num(&v, "/exposure/by_evidence/statistical"), 0.05, 1e-9);
}

// ---- model v2: one fixture and test per new or changed rule ----

/// The hop kinds of path `i`, in order.
fn hop_kinds(v: &Value, i: usize) -> Vec<String> {
    v["paths"][i]["hops"]
        .as_array()
        .expect("hops array")
        .iter()
        .map(|h| h["kind"].as_str().expect("kind").to_string())
        .collect()
}

// `T = max(I, k·E)` on a pool. CN-HA 2023-04: KP 670420 import 10, IN 0501 import 40, export 6704 200; X in
// CN-HA ships on 2023-05-10 with no inputs or links, so the whole mix is the pool's. S = 10, I = 50, E = 200.
// half/ (input_ratio["6704"] = 0.5): k·E = 100 > I: T = 100: sanctioned 0.1, clean 40/100 = 0.4,
//   remainder (100-50)/100 = 0.5 unknown (no rest of the country). Prevalence 0.1/0.5 = 0.2.
// tenth/ (input_ratio 0.1): k·E = 20 < I = 50: T = 50: sanctioned 0.2, clean 0.8, remainder 0.
//   Prevalence 0.2. (With k = 1, T = 200: 0.05 / 0.2 / 0.75: value added would dilute.)
#[test]
fn pool_throughput_is_max_of_imports_and_k_times_exports() {
    let h = trace("pool_input_ratio/half", "OUT");
    mix(&h, 0.1, 0.4, 0.5);
    sanctioned_by(&h, 0.0, 0.0, 0.1);
    close(num(&h, "/pool/input_ratio"), 0.5, TOL);
    assert_eq!(h["pool"]["throughput_usd"], "100");
    close(num(&h, "/pool/remainder"), 0.5, TOL);
    close(num(&h, "/exposure/prevalence"), 0.2, TOL);
    let t = trace("pool_input_ratio/tenth", "OUT");
    mix(&t, 0.2, 0.8, 0.0);
    assert_eq!(t["pool"]["throughput_usd"], "50");
    close(num(&t, "/pool/remainder"), 0.0, TOL);
    close(num(&t, "/exposure/prevalence"), 0.2, TOL);
}

// A national pool's remainder is unknown (pool_fallback, A in CN-JL takes CN's national pool): S = 60,
// I = 90, E = 300, T = 300: R = 210/300 = 0.7, all unknown, no rest-of-country pool; the only clean share is
// the IN imports' 30/300 = 0.1. (v1 called the 0.7 clean.)
#[test]
fn national_pool_remainder_is_unknown() {
    let a = trace("pool_fallback", "OUT-A");
    assert_eq!(a["pool"]["scope"], "national CN");
    close(num(&a, "/pool/remainder"), 0.7, TOL);
    assert!(a["pool"]["rest_of_country"].is_null(), "{}", a["pool"]);
    mix(&a, 0.2, 0.1, 0.7);
    clean_by(&a, 0.0, 0.0, 0.1);
    let kinds = hop_kinds(&a, 0);
    assert_eq!(kinds, ["trade_flow", "national_pool", "shipment"]);
}

// The region remainder carries R·s_rest, through a `rest_of_country` hop; patterns go by the firms' own
// regions. Region rows only (2023-04): CN-HA: IN 0501 import 20, export 6704 100. CN-SD: KP 670420 import
// 30, IN 0501 import 10, export 6704 100. CN-JL: IN 0501 import 10, export 6704 100.
// OUT-X (X in CN-HA, 2023-05-10): own S = 0, I = 20, E = 100, T = 100: clean 0.2, R = 0.8. Rest = CN-SD +
//   CN-JL: S = 30, I = 50, E = 200, T = 200: s_rest = 0.15. X: sanctioned 0.8*0.15 = 0.12 (statistical),
//   clean 0.2, unknown 0.8*0.85 = 0.68; prevalence 0.12/0.32 = 0.375. One path KP>CN-SD>CN-HA>X>Y 0.12 with
//   hops trade_flow, rest_of_country, regional_pool, shipment. Flags: sanctioned-exposure high (0.12 >=
//   0.10), pattern:henan-to-us low (X is in CN-HA; statistical path), NOT pattern:shandong-to-us (CN-SD is
//   reached only through another region's statistics), regional-prevalence medium (0.375, coverage 0).
// OUT-S1 (S1 in CN-SD): own S = 30, I = 40, E = 100, T = 100: 0.3 / clean 0.1 / R 0.6; rest CN-HA + CN-JL
//   has S = 0, so s_rest = 0: unknown 0.6. shandong-to-us low, no henan-to-us; prevalence 0.75.
// OUT-X2 (X2 in CN-HA, 2023-04-01: the April rows are outside [2022-10-03, 2023-04-01), no pool):
//   K -> D1 (CN-SD) 100 on 03-01; D1 -> X2 100 on 03-15 (D1: D = O = 100: sanctioned 1); X2 -> Y 200:
//   D = 100, O = 200: sanctioned 0.5 documented, unknown 0.5. Path K>D1>X2>Y documented: henan-to-us high
//   (shipper in CN-HA) and shandong-to-us high (D1, on a shipment hop, is in CN-SD). X2 never traded with K
//   itself: no sanctioned-counterparty; D1's shipment D1-X2 has one (received from K, 670420: high).
#[test]
fn region_remainder_carries_rest_share_and_patterns_follow_own_regions() {
    let x = trace("rest_hop", "OUT-X");
    mix(&x, 0.12, 0.2, 0.68);
    sanctioned_by(&x, 0.0, 0.0, 0.12);
    close(num(&x, "/exposure/prevalence"), 0.375, TOL);
    close(num(&x, "/pool/remainder"), 0.8, TOL);
    assert_eq!(x["pool"]["rest_of_country"]["sanctioned_imports_usd"], "30");
    assert_eq!(x["pool"]["rest_of_country"]["exports_usd"], "200");
    paths_add_up(&x);
    assert_eq!(paths(&x).len(), 1);
    assert_eq!(paths(&x)[0].0, "KP>CN-SD>CN-HA>X>Y");
    assert_eq!(
        hop_kinds(&x, 0),
        ["trade_flow", "rest_of_country", "regional_pool", "shipment"]
    );
    assert_eq!(x["paths"][0]["grade"], "statistical");
    assert_flag(&x, "sanctioned-exposure", "high");
    assert_flag(&x, "pattern:henan-to-us", "low");
    assert_no_flag(&x, "pattern:shandong-to-us");
    assert_flag(&x, "regional-prevalence", "medium");

    let s1 = trace("rest_hop", "OUT-S1");
    mix(&s1, 0.3, 0.1, 0.6);
    close(num(&s1, "/exposure/prevalence"), 0.75, TOL);
    assert_eq!(paths(&s1)[0].0, "KP>CN-SD>S1>Y");
    assert_flag(&s1, "pattern:shandong-to-us", "low");
    assert_no_flag(&s1, "pattern:henan-to-us");

    let x2 = trace("rest_hop", "OUT-X2");
    mix(&x2, 0.5, 0.0, 0.5);
    sanctioned_by(&x2, 0.5, 0.0, 0.0);
    assert!(x2["exposure"]["prevalence"].is_null());
    assert_eq!(paths(&x2)[0].0, "K>D1>X2>Y");
    assert_flag(&x2, "pattern:henan-to-us", "high");
    assert_flag(&x2, "pattern:shandong-to-us", "high");
    assert_no_flag(&x2, "sanctioned-counterparty");
    let d1 = trace("rest_hop", "D1-X2");
    assert_flag(&d1, "sanctioned-counterparty", "high");
}

// Prevalence and regional-prevalence. National pools 2023-04 (export 6704 1000 each, so T = 1000):
// MY: KP 100, IN 100 -> sanctioned 0.1, clean 0.1, unknown 0.8, prevalence 0.5.
// M1 (MY, no links): 0.1 / 0.1 / 0.8, coverage 0: prevalence 0.5 >= 0.01 and coverage < 0.5 -> medium.
// M2 (MY, link country:IN 6704 0.5; IN has no pool: clean 1 declared): clean 0.5 declared + 0.5 * pool:
//   sanctioned 0.05, clean 0.55, unknown 0.4, coverage 0.5 (not < 0.5) -> low; prevalence 0.5.
// M3 (MY, link country:IN share 1): statistical weight 1*(1 - 1) = 0: takes no pool -> prevalence null, no
//   flag; clean 1 declared.
// V1 (VN: KP 1, IN 199): 0.001 / 0.199 / 0.8, prevalence 0.001/0.2 = 0.005 < 0.01 -> low.
// T1 (TH: KP 4, IN 196): 0.004 / 0.196 / 0.8, prevalence 0.02 -> medium (sanctioned-exposure only low).
// I1 (ID: IN 100): prevalence 0/0.1 = 0 -> not null, no flag. N1 (NP: no rows): no pool, prevalence null.
// Report CSV: `prevalence` right after `top_path`, empty where no pool is taken.
#[test]
fn prevalence_and_regional_prevalence_flag() {
    for (id, s, c, u, prev, sev) in [
        ("OUT-M1", 0.1, 0.1, 0.8, 0.5, "medium"),
        ("OUT-M2", 0.05, 0.55, 0.4, 0.5, "low"),
        ("OUT-V1", 0.001, 0.199, 0.8, 0.005, "low"),
        ("OUT-T1", 0.004, 0.196, 0.8, 0.02, "medium"),
    ] {
        let v = trace("prevalence", id);
        mix(&v, s, c, u);
        close(num(&v, "/exposure/prevalence"), prev, TOL);
        assert_flag(&v, "regional-prevalence", sev);
    }
    let t1 = trace("prevalence", "OUT-T1");
    assert_flag(&t1, "sanctioned-exposure", "low");
    let m3 = trace("prevalence", "OUT-M3");
    mix(&m3, 0.0, 1.0, 0.0);
    assert!(m3["exposure"]["prevalence"].is_null(), "{}", m3["exposure"]);
    assert_no_flag(&m3, "regional-prevalence");
    let i1 = trace("prevalence", "OUT-I1");
    mix(&i1, 0.0, 0.1, 0.9);
    close(num(&i1, "/exposure/prevalence"), 0.0, TOL);
    assert_no_flag(&i1, "regional-prevalence");
    let n1 = trace("prevalence", "OUT-N1");
    assert!(n1["exposure"]["prevalence"].is_null());
    assert_no_flag(&n1, "regional-prevalence");

    let r = run(["report", "--data", &data("prevalence")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let top = header
        .iter()
        .position(|h| *h == "top_path")
        .expect("top_path");
    assert_eq!(header[top + 1], "prevalence");
    let rows: std::collections::BTreeMap<String, String> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[top + 1].to_string())
        })
        .collect();
    let cell = |id: &str| rows.get(id).unwrap_or_else(|| panic!("{id} in report"));
    close(cell("OUT-M1").parse().unwrap(), 0.5, TOL);
    close(cell("OUT-V1").parse().unwrap(), 0.005, TOL);
    close(cell("OUT-I1").parse().unwrap(), 0.0, TOL);
    assert_eq!(cell("OUT-M3"), "");
    assert_eq!(cell("OUT-N1"), "");
}

// Outputs of `o` by overlap. X (IN, no pool, no links). K-X: K (KP) -> X, 670420, 2023-03-01, 100.
// OUT-67 (X -> Y, HS 67, 03-15, 100); OUT-6703 (670300, 03-20, 50); OUT (670420, 04-01, 200).
// OUT (o = 6704): D = 100; O = outputs overlapping 6704 in [t - 180, t]: OUT-67 100 + OUT 200 = 300
//   (670300 does not overlap 6704): sanctioned 100/300 = 1/3 documented, unknown 2/3. (Without the overlap
//   rule O = 200 would give 0.5.)
// OUT-67 (o = 67): relevant inputs overlap 67, so K-X counts: D = 100; O = OUT-67 itself, 100 (the later
//   outputs are after t): sanctioned 1.
// OUT-6703 (o = 6703): inputs 0501 / 6703 only, K-X is not relevant: D = 0, no weight: unknown 1. X's
//   record with K is 670420, not relevant to 6703: sanctioned-counterparty medium (high for OUT).
#[test]
fn outputs_of_a_heading_overlap_shorter_codes() {
    let v = trace("output_overlap", "OUT");
    mix(&v, 1.0 / 3.0, 0.0, 2.0 / 3.0);
    sanctioned_by(&v, 1.0 / 3.0, 0.0, 0.0);
    assert_flag(&v, "sanctioned-counterparty", "high");
    let s = trace("output_overlap", "OUT-67");
    mix(&s, 1.0, 0.0, 0.0);
    let h = trace("output_overlap", "OUT-6703");
    mix(&h, 0.0, 0.0, 1.0);
    assert_flag(&h, "sanctioned-counterparty", "medium");
}

// Counterparties (counterparty_days 730, lag 180). K is located in KP. Every OUT-Ci ships 670420 to Y (US)
// on t = 2023-04-01 with no inbound shipment within the lag window and no pool, so each mix is unknown 1
// and sanctioned 0: the flags below stand on the counterparty records alone. Counterparty window
// [2021-04-01, 2023-04-01) (730 days before t).
// C1: outward processing, C1-K (0501 to K, 2023-01-10): 0501 is relevant to 6704 -> high; direction
//   shipped_to. C1-K itself: consignee K in KP -> sanctioned-consignee high; C1 had no earlier record, so
//   no counterparty flag on it.
// C2: C2-K (610910, unrelated to 6704) -> medium.
// C3: C3-K on 2021-03-31, 731 days before t -> not flagged. C4: C4-K on 2021-04-01, exactly 730 days
//   before t -> flagged high.
// C5: K-C5 (670420 bought from K on 2022-08-29, 215 days before t): outside the lag window
//   [2022-10-03, 2023-04-01), so no weight and not reachable, but inside 730 days -> high, received_from.
#[test]
fn sanctioned_counterparty_and_consignee() {
    let c1 = trace("counterparty", "OUT-C1");
    mix(&c1, 0.0, 0.0, 1.0);
    assert_flag(&c1, "sanctioned-counterparty", "high");
    assert_eq!(c1["severity"], "high");
    let cp = c1["counterparties"].as_array().expect("counterparties");
    assert_eq!(cp.len(), 1, "{cp:?}");
    assert_eq!(cp[0]["party_id"], "K");
    assert_eq!(cp[0]["direction"], "shipped_to");
    assert_eq!(cp[0]["hs_codes"], serde_json::json!(["0501"]));
    let out = trace("counterparty", "C1-K");
    assert_flag(&out, "sanctioned-consignee", "high");
    assert_no_flag(&out, "sanctioned-counterparty");

    let c2 = trace("counterparty", "OUT-C2");
    assert_flag(&c2, "sanctioned-counterparty", "medium");
    assert_flag(
        &trace("counterparty", "C2-K"),
        "sanctioned-consignee",
        "high",
    );

    let c3 = trace("counterparty", "OUT-C3");
    assert_no_flag(&c3, "sanctioned-counterparty");
    assert!(c3["counterparties"].as_array().unwrap().is_empty());
    let c4 = trace("counterparty", "OUT-C4");
    assert_flag(&c4, "sanctioned-counterparty", "high");

    let c5 = trace("counterparty", "OUT-C5");
    mix(&c5, 0.0, 0.0, 1.0);
    assert_eq!(c5["reachable"], false);
    assert_flag(&c5, "sanctioned-counterparty", "high");
    assert_eq!(c5["counterparties"][0]["direction"], "received_from");
    for id in ["OUT-C1", "OUT-C2", "OUT-C3", "OUT-C4", "OUT-C5"] {
        assert_no_flag(&trace("counterparty", id), "sanctioned-consignee");
    }
}
