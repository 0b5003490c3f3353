//! `origintrace import`: every format through the binary, on fixtures in the real layouts
//! (tests/fixtures/import/), and the end-to-end case of the issue: a China customs download, an AMS extract
//! and an SDN file imported into one directory, then `report`.

use crate::harness::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn imp(name: &str) -> String {
    fixture("import").join(name).display().to_string()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The rows of a canonical CSV file, as maps from column name to value.
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn find<'a>(
    rows: &'a [HashMap<String, String>],
    col: &str,
    value: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r[col] == value)
        .unwrap_or_else(|| panic!("no row with {col} = {value} in {rows:?}"))
}

fn customs(dir: &Path) -> Run {
    run([
        "import",
        "china-customs",
        &imp("china_customs/henan_imports_2023.csv"),
        &imp("china_customs/henan_exports_2023-04.csv"),
        "--flow",
        "import",
        "--flow",
        "export",
        "--period",
        "2023-04",
        "--rate",
        "0.145",
        "-o",
        &s(dir),
    ])
}

fn ams_files() -> Vec<String> {
    let dir = fixture("import/ams");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    v.sort();
    v
}

fn ams(dir: &Path) -> Run {
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    args.extend(ams_files());
    args.extend(["-o".into(), s(dir)]);
    run(args)
}

fn sdn(dir: &Path) -> Run {
    run([
        "import",
        "ofac-sdn",
        &imp("ofac/sdn.csv"),
        &imp("ofac/alt.csv"),
        &imp("ofac/add.csv"),
        "-o",
        &s(dir),
    ])
}

#[test]
fn end_to_end_customs_ams_and_sdn_then_report() {
    let d = tmp();
    let dir = d.path().join("case");
    for (what, r) in [
        ("customs", customs(&dir)),
        ("ams", ams(&dir)),
        ("sdn", sdn(&dir)),
    ] {
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    }
    let check = run(["check", "--data", &s(&dir)]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let r = run(["report", "--data", &s(&dir)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rdr = csv::Reader::from_reader(r.stdout.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let row = rdr
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[col("shipment_id")] == "2023052000001")
        .expect("the AMS shipment is in the report");
    let flags: Vec<&str> = row[col("flags")].split(';').collect();
    assert!(flags.contains(&"sanctioned-exposure"), "{flags:?}");
    assert!(flags.contains(&"pattern:henan-to-us"), "{flags:?}");
    assert!(flags.contains(&"watchlist-match"), "{flags:?}");
    assert_eq!(&row[col("shipper_region")], "CN-HA");
    assert_eq!(
        &row[col("top_path")],
        "KP>CN-HA>cn-xuchang-brightfall-hair-products>us-brightlocks-beauty-supply"
    );
    // S / T of the Henan pool: KP wigs in March and April (RMB at 0.145) over Henan's April exports.
    let sanctioned: f64 = row[col("sanctioned")].parse().unwrap();
    let expected = (41_379_310.0 + 77_379_310.0) * 0.145 / 516_666_667.0;
    close(sanctioned, expected, 1e-6);
    // The watchlist hit is explained.
    let v = run_json([
        "trace",
        "2023052000001",
        "--format",
        "json",
        "--data",
        &s(&dir),
    ]);
    let wl = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "watchlist-match")
        .expect("watchlist flag");
    assert_eq!(wl["severity"], "high");
    assert!(
        wl["detail"].as_str().unwrap().contains("ofac-sdn:90001"),
        "{wl}"
    );
}

#[test]
fn china_customs_reads_both_languages_and_every_quirk() {
    let d = tmp();
    let r = customs(d.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("gb18030"), "{}", r.stderr);
    assert!(
        r.stderr.contains("read 4, accepted 4, rejected 0"),
        "{}",
        r.stderr
    );
    let flows = rows(&d.path().join("trade_flows.csv"));
    assert_eq!(flows.len(), 8);
    let kp = find(
        &flows,
        "flow_id",
        "cn-customs:2023-04:41:109:27:67042000:import",
    );
    assert_eq!(kp["reporter"], "CN");
    assert_eq!(kp["region"], "CN-HA");
    assert_eq!(kp["partner"], "KP");
    assert_eq!(kp["flow"], "import");
    assert_eq!(kp["value"], "77379310");
    assert_eq!(kp["currency"], "CNY");
    assert_eq!(kp["quantity"], "15020");
    assert_eq!(kp["unit"], "kg");
    assert_eq!(kp["regime"], "outward-processing");
    // Stray TABs inside quoted numbers.
    let mm = find(&flows, "partner", "MM");
    assert_eq!(mm["quantity"], "140000");
    assert_eq!(mm["value"], "137931034");
    // The single-month English file takes --period; HK partner, Shandong, processing regime.
    let hk = find(&flows, "partner", "HK");
    assert_eq!(hk["period"], "2023-04");
    assert_eq!(hk["region"], "CN-SD");
    assert_eq!(hk["regime"], "processing-assembly");
    assert_eq!(hk["currency"], "USD");
    // --rate wrote a rate for every RMB month.
    let rates = rows(&d.path().join("rates.csv"));
    assert_eq!(rates.len(), 2);
    assert!(
        rates
            .iter()
            .all(|r| r["currency"] == "CNY" && r["usd_per_unit"] == "0.145")
    );
}

#[test]
fn china_customs_needs_flow_and_period_and_a_rate() {
    let d = tmp();
    let out = d.path().join("x");
    let no_flow = run([
        "import",
        "china-customs",
        &imp("china_customs/henan_exports_2023-04.csv"),
        "--period",
        "2023-04",
        "-o",
        &s(&out),
    ]);
    assert_eq!(no_flow.code, 2);
    assert!(
        no_flow.stderr.contains("--flow import"),
        "{}",
        no_flow.stderr
    );
    let no_period = run([
        "import",
        "china-customs",
        &imp("china_customs/henan_exports_2023-04.csv"),
        "--flow",
        "export",
        "-o",
        &s(&out),
    ]);
    assert_eq!(no_period.code, 2);
    assert!(
        no_period.stderr.contains("--period YYYY-MM"),
        "{}",
        no_period.stderr
    );
    // RMB values without a rate are rejected with the way out in the reason.
    let no_rate = run([
        "import",
        "china-customs",
        &imp("china_customs/henan_imports_2023.csv"),
        "--flow",
        "import",
        "-o",
        &s(&out),
    ]);
    assert_eq!(no_rate.code, 2);
    assert!(
        no_rate
            .stderr
            .contains("renminbi yuan: RMB value needs a rate"),
        "{}",
        no_rate.stderr
    );
    assert!(!out.exists(), "nothing written");
    // A rates.csv in the directory is enough.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("rates.csv"),
        "currency,period,usd_per_unit\nCNY,2023,0.144\n",
    )
    .unwrap();
    let with_rates = run([
        "import",
        "china-customs",
        &imp("china_customs/henan_imports_2023.csv"),
        "--flow",
        "import",
        "-o",
        &s(&out),
    ]);
    assert_eq!(with_rates.code, 0, "{}", with_rates.stderr);
    assert_eq!(rows(&out.join("trade_flows.csv")).len(), 4);
    assert_eq!(rows(&out.join("rates.csv")).len(), 1, "rates.csv untouched");
    // An inverted rate is refused.
    let inverted = run([
        "import",
        "china-customs",
        &imp("china_customs/henan_imports_2023.csv"),
        "--flow",
        "import",
        "--rate",
        "7.1",
        "-o",
        &s(&d.path().join("y")),
    ]);
    assert_eq!(inverted.code, 2);
    assert!(
        inverted.stderr.contains("USD per yuan"),
        "{}",
        inverted.stderr
    );
}

#[test]
fn rejected_rows_stop_the_import_and_nothing_is_written() {
    let d = tmp();
    let out = d.path().join("bad");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "import",
            "china-customs",
            &imp("china_customs/bad_rows.csv"),
            "--flow",
            "export",
            "--period",
            "2023-04",
            "-o",
            &s(&out),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    let r = run(args(&[]));
    assert_eq!(r.code, 2);
    let file = imp("china_customs/bad_rows.csv");
    for (line, column, reason) in [
        (
            3,
            "trading partner code",
            "unknown China customs partner code '998'",
        ),
        (
            4,
            "trading partner code",
            "partner code 199 is 'Other Asia'",
        ),
        (
            5,
            "locations of importers and exporters code",
            "registration place is missing ('?')",
        ),
        (6, "us dollar", "the value is missing ('?')"),
        (7, "commodity code", "HS code '6704x000' is not digits"),
        (8, "-", "expected 13 fields, found 4"),
        (9, "-", "duplicate id"),
    ] {
        let prefix = format!("{file}:{line}: {column}: ");
        assert!(
            r.stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(reason)),
            "no '{prefix}{reason}' in\n{}",
            r.stderr
        );
    }
    assert!(
        r.stderr
            .contains("read 8, accepted 1, rejected 7, skipped 0"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing half-written");
    // --skip-invalid writes the good row; --rejects keeps the others with their reasons.
    let rejects = d.path().join("rejects.csv");
    let r = run(args(&["--skip-invalid", "--rejects", &s(&rejects)]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(rows(&out.join("trade_flows.csv")).len(), 1);
    let rj = rows(&rejects);
    assert_eq!(rj.len(), 7);
    assert_eq!(rj[0]["line"], "3");
    assert!(rj[0]["raw"].contains("998"));
}

#[test]
fn importing_twice_refuses_duplicate_ids_and_leaves_the_data_alone() {
    let d = tmp();
    assert_eq!(customs(d.path()).code, 0);
    let before = std::fs::read(d.path().join("trade_flows.csv")).unwrap();
    let again = customs(d.path());
    assert_eq!(again.code, 2);
    assert!(
        again
            .stderr
            .contains("duplicate id 'cn-customs:2023-03:41:109:27:67042000:import'"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("trade_flows.csv"), "{}", again.stderr);
    assert_eq!(
        std::fs::read(d.path().join("trade_flows.csv")).unwrap(),
        before
    );
    assert_eq!(sdn(d.path()).code, 0);
    let twice = sdn(d.path());
    assert_eq!(twice.code, 2);
    assert!(
        twice.stderr.contains("duplicate id 'ofac-sdn:90001'"),
        "{}",
        twice.stderr
    );
    // No temporary file is left behind.
    for e in std::fs::read_dir(d.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "left {name}");
    }
}

#[test]
fn appending_to_a_dataset_keeps_its_rows_and_adds_missing_columns() {
    let d = tmp();
    for f in ["parties.csv", "shipments.csv", "supplier_links.csv"] {
        std::fs::copy(fixture("example_b").join(f), d.path().join(f)).unwrap();
    }
    let r = ams(d.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let parties = rows(&d.path().join("parties.csv"));
    // Example B's five parties, then the four of the AMS extract; the file gained city and aliases.
    assert_eq!(parties[0]["party_id"], "K");
    assert_eq!(parties.len(), 5 + 4);
    assert_eq!(find(&parties, "party_id", "K")["city"], "");
    let c = run(["check", "--data", &s(d.path())]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    // A second extract naming the same shipper reuses its party.
    let more = d.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    let copy = |name: &str, keep: &str| -> PathBuf {
        let src = std::fs::read_to_string(fixture("import/ams").join(name)).unwrap();
        let mut lines = src.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for l in lines.filter(|l| l.starts_with(keep)) {
            out.push_str(&l.replacen(keep, "2023060100009", 1));
            out.push('\n');
        }
        let p = more.join(name);
        std::fs::write(&p, out).unwrap();
        p
    };
    let files: Vec<PathBuf> = [
        "ams__header_2023__202305221500.csv",
        "ams__shipper_2023__202305221500.csv",
        "ams__consignee_2023__202305221500.csv",
        "ams__tariff_2023__202305221500.csv",
    ]
    .iter()
    .map(|n| copy(n, "2023052000002"))
    .collect();
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    args.extend(files.iter().map(|p| s(p)));
    args.extend(["-o".into(), s(d.path())]);
    // Bill 2's tariff row has no HS code, so bring its cargo description too.
    args.push(s(&copy(
        "ams__cargodesc_2023__202305221500.csv",
        "2023052000002",
    )));
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("reused"), "{}", r.stderr);
    assert_eq!(rows(&d.path().join("parties.csv")).len(), 9, "no new party");
    let ships = rows(&d.path().join("shipments.csv"));
    let new = find(&ships, "shipment_id", "2023060100009");
    assert_eq!(new["shipper"], "cn-xuchang-brightfall-hair-products");
}

#[test]
fn ams_joins_the_tables_into_shipments_and_parties() {
    let d = tmp();
    let r = ams(d.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("the bill is deleted"), "{}", r.stderr);
    assert!(
        r.stderr.contains("the AMS notifyparty table is not used"),
        "{}",
        r.stderr
    );
    let ships = rows(&d.path().join("shipments.csv"));
    assert_eq!(ships.len(), 4);
    // Bill 1: HS from the tariff table, value from harmonized_value, pounds to kilograms, actual arrival.
    let b1 = find(&ships, "shipment_id", "2023052000001");
    assert_eq!(b1["hs_code"], "670420");
    assert_eq!(b1["value"], "250000");
    assert_eq!(b1["weight_kg"], "1000.171");
    assert_eq!(b1["date"], "2023-05-20");
    assert_eq!(b1["origin_country"], "");
    assert_eq!(b1["port_unlading"], "Long Beach, California");
    // Bill 2: HS only in the cargo text, no value (0, weight kept in the description), estimated arrival.
    let b2 = find(&ships, "shipment_id", "2023052000002");
    assert_eq!(b2["hs_code"], "670420");
    assert_eq!(b2["value"], "0");
    assert_eq!(b2["weight_kg"], "");
    assert!(b2["description"].contains("weight 640 kg"), "{b2:?}");
    assert_eq!(b2["date"], "2023-05-22");
    // Bill 3: two HS codes, two shipments.
    assert_eq!(
        find(&ships, "shipment_id", "2023052000003-670490")["value"],
        "15000"
    );
    // Parties: two spellings of one shipper, one alias; provinces from HENAN, Henan Sheng and 河南省.
    let parties = rows(&d.path().join("parties.csv"));
    assert_eq!(parties.len(), 4);
    let xc = find(&parties, "party_id", "cn-xuchang-brightfall-hair-products");
    assert_eq!(xc["name"], "XUCHANG BRIGHTFALL HAIR PRODUCTS CO., LTD.");
    assert_eq!(
        xc["aliases"],
        "Xuchang Brightfall Hair Products Company Limited"
    );
    assert_eq!(xc["region"], "CN-HA");
    let zh = parties
        .iter()
        .find(|p| p["name"] == "许昌晨曦发制品有限公司")
        .unwrap();
    assert_eq!(zh["region"], "CN-HA");
    // A consignee without country_code is taken as US.
    let crown = find(&parties, "party_id", "us-crownline-salon-wholesale");
    assert_eq!(crown["country"], "US");
    assert_eq!(crown["region"], "US-NJ");
}

#[test]
fn ams_rejects_bills_it_cannot_use() {
    let d = tmp();
    let dir = fixture("import/ams_bad");
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    for f in [
        "header.csv",
        "shipper.csv",
        "consignee.csv",
        "tariff.csv",
        "cargodesc.csv",
    ] {
        args.push(s(&dir.join(f)));
    }
    args.extend(["-o".into(), s(&d.path().join("x"))]);
    let r = run(args.clone());
    assert_eq!(r.code, 2);
    let h = s(&dir.join("header.csv"));
    for (line, needle) in [
        (2, "identifier: no HS code"),
        (
            3,
            "identifier: no usable HS code: HS code '67O420' is not digits",
        ),
        (4, "identifier: no usable shipper row"),
        (5, "weight: unknown weight unit 'Stones'"),
        (6, "actual_arrival_date: no arrival date"),
    ] {
        let prefix = format!("{h}:{line}: {needle}");
        assert!(
            r.stderr.lines().any(|l| l.starts_with(&prefix)),
            "no '{prefix}' in\n{}",
            r.stderr
        );
    }
    let t = s(&dir.join("tariff.csv"));
    assert!(
        r.stderr.contains(&format!(
            "{t}:2: harmonized_number: HS code '67O420' is not digits"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{t}:6: identifier: no header row for bill B9")),
        "{}",
        r.stderr
    );
    let sh = s(&dir.join("shipper.csv"));
    assert!(
        r.stderr.contains(&format!(
            "{sh}:4: country_code: the shipper's country_code is empty"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn ofac_sdn_with_aliases_addresses_and_the_eof_byte() {
    let d = tmp();
    let r = sdn(d.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("the DOS end-of-file byte 0x1A"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("read 5, accepted 4, rejected 0, skipped 1"),
        "{}",
        r.stderr
    );
    let wl = rows(&d.path().join("watchlist.csv"));
    assert_eq!(wl.len(), 4);
    let e1 = find(&wl, "entry_id", "ofac-sdn:90001");
    assert_eq!(e1["name"], "XUCHANG BRIGHTFALL HAIR PRODUCTS CO., LTD.");
    assert_eq!(e1["aliases"], "XUCHANG BRIGHT FALL HAIR CO.");
    assert_eq!(e1["country"], "CN");
    assert_eq!(e1["program"], "DPRK3");
    assert_eq!(e1["identifiers"], "uscc:91411000MA9FICT01X;ofac:90001");
    assert_eq!(e1["source"], "OFAC SDN");
    let e2 = find(&wl, "entry_id", "ofac-sdn:90002");
    assert_eq!(e2["program"], "DPRK3;NPWMD");
    assert_eq!(e2["country"], "KP");
    assert!(e2["aliases"].contains("KORYO LUSTER TRADING CORP."));
    let e4 = find(&wl, "entry_id", "ofac-sdn:90004");
    assert_eq!(e4["identifiers"], "imo:8999999;ofac:90004");
    // Nulls with a trailing blank are empty, not "-0-".
    assert!(wl.iter().all(|r| r.values().all(|v| !v.contains("-0-"))));
    // alt.csv alone is refused: it only adds to sdn.csv's entries.
    let alone = run([
        "import",
        "ofac-sdn",
        &imp("ofac/alt.csv"),
        "-o",
        &s(&d.path().join("y")),
    ]);
    assert_eq!(alone.code, 2);
    assert!(alone.stderr.contains("needs sdn.csv"), "{}", alone.stderr);
}

#[test]
fn ofac_rows_that_are_not_entries() {
    let d = tmp();
    let out = d.path().join("x");
    let r = run([
        "import",
        "ofac-sdn",
        &imp("ofac/sdn_bad.csv"),
        "-o",
        &s(&out),
    ]);
    assert_eq!(r.code, 2);
    let f = imp("ofac/sdn_bad.csv");
    assert!(
        r.stderr
            .contains(&format!("{f}:2: ent_num: 'X9' is not a number")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{f}:3: SDN_Name: the name is empty")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{f}:4: ent_num: duplicate id 'ofac-sdn:90011'")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("{f}:5: -: expected 12 fields, found 2")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("a footer after the last entry"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("read 6, accepted 1, rejected 4, skipped 1"),
        "{}",
        r.stderr
    );
}

#[test]
fn opensanctions_by_header_name() {
    let d = tmp();
    let r = run([
        "import",
        "opensanctions",
        &imp("opensanctions/targets.simple.csv"),
        "-o",
        &s(d.path()),
        "--skip-invalid",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("columns not used"), "{}", r.stderr);
    assert!(r.stderr.contains("outside ISO 3166-1 (xk)"), "{}", r.stderr);
    let wl = rows(&d.path().join("watchlist.csv"));
    assert_eq!(wl.len(), 4);
    let k = find(&wl, "entry_id", "opensanctions:NK-fict01");
    assert_eq!(k["country"], "KP");
    assert_eq!(k["program"], "US-DPRK3;US-NPWMD");
    assert_eq!(k["aliases"], "Koryo Luster Trading Corp.;Lustre, Koryo Co");
    assert_eq!(
        k["source"],
        "US OFAC Specially Designated Nationals (SDN) List"
    );
    let p = find(&wl, "entry_id", "opensanctions:NK-fict02");
    assert_eq!(p["identifiers"], "id:KP1234567");
    assert_eq!(p["program"], "OFAC DPRK3");
    assert_eq!(
        find(&wl, "entry_id", "opensanctions:NK-fict03")["country"],
        "CN;HK",
        "several countries, all kept"
    );
    // The row without an id is rejected, not invented.
    assert!(
        r.stderr.contains("read 5, accepted 4, rejected 1"),
        "{}",
        r.stderr
    );
}

#[test]
fn csl_in_both_column_orders() {
    let d = tmp();
    let r = run([
        "import",
        "csl",
        &imp("csl/consolidated_a.csv"),
        &imp("csl/consolidated_b.csv"),
        "-o",
        &s(d.path()),
        "--skip-invalid",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("the DOS end-of-file byte 0x1A"),
        "{}",
        r.stderr
    );
    let wl = rows(&d.path().join("watchlist.csv"));
    assert_eq!(wl.len(), 3);
    let el = find(
        &wl,
        "entry_id",
        "csl:fict0000000000000000000000000000000000a1",
    );
    assert_eq!(el["name"], "DANDONG RIVERMIST ELECTRONICS CO., LTD.");
    assert_eq!(el["country"], "CN");
    assert_eq!(el["identifiers"], "uscc:91210600MAFICT0002");
    assert_eq!(el["aliases"], "Rivermist Electronics;Dandong Rivermist");
    assert_eq!(
        el["source"],
        "Entity List (EL) - Bureau of Industry and Security"
    );
    let pak = wl.iter().find(|e| e["name"] == "PAK, Chol Myong").unwrap();
    assert_eq!(pak["country"], "KP");
    assert_eq!(pak["program"], "DPRK3");
    let dpl = wl
        .iter()
        .find(|e| e["name"] == "HAIRLINE EXPORT SERVICES LLC")
        .unwrap();
    assert_eq!(dpl["country"], "", "a US state is not a country");
    assert!(
        r.stderr
            .contains("duplicate id 'csl:fict0000000000000000000000000000000000a1'"),
        "{}",
        r.stderr
    );
}

#[test]
fn comtrade_keeps_only_total_rows() {
    let d = tmp();
    let r = run([
        "import",
        "comtrade",
        &imp("comtrade/comtrade_plus.csv"),
        &imp("comtrade/comtrade_legacy.csv"),
        "-o",
        &s(d.path()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for reason in [
        "customs procedure C01",
        "mode of transport is not 0",
        "partner is World (0)",
        "flow is a breakdown of M or X",
        "commodity TOTAL",
    ] {
        assert!(r.stderr.contains(reason), "no '{reason}' in {}", r.stderr);
    }
    assert!(
        r.stderr
            .contains("read 8, accepted 3, rejected 0, skipped 5"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("read 3, accepted 2, rejected 0, skipped 1"),
        "{}",
        r.stderr
    );
    let flows = rows(&d.path().join("trade_flows.csv"));
    assert_eq!(flows.len(), 5);
    let kp = find(&flows, "flow_id", "comtrade:2023-04:156:408:M:670420");
    assert_eq!(
        (kp["reporter"].as_str(), kp["partner"].as_str()),
        ("CN", "KP")
    );
    assert_eq!(kp["flow"], "import");
    assert_eq!(kp["value"], "11220000");
    assert_eq!(kp["quantity"], "15020");
    let us = find(&flows, "flow_id", "comtrade:2023:842:156:M:6704");
    assert_eq!(
        (us["period"].as_str(), us["reporter"].as_str()),
        ("2023", "US")
    );
    let legacy = find(&flows, "flow_id", "comtrade:2016-04:156:842:X:670420");
    assert_eq!(legacy["value"], "210000000");
    assert_eq!(legacy["flow"], "export");
    // Rows that are not one country, not an HS code, or inconsistent are rejected with their reason.
    let bad = run([
        "import",
        "comtrade",
        &imp("comtrade/comtrade_plus_bad.csv"),
        "-o",
        &s(&d.path().join("bad")),
    ]);
    assert_eq!(bad.code, 2);
    let f = imp("comtrade/comtrade_plus_bad.csv");
    for (line, msg) in [
        (2, "partnerCode: Comtrade code 490 is 'Other Asia, nes"),
        (3, "cmdCode: HS code '67042A' is not digits"),
        (
            4,
            "period: freqCode A (annual) but period 2023-04 is a month",
        ),
        (5, "primaryValue: negative value '-5'"),
    ] {
        let want = format!("{f}:{line}: {msg}");
        assert!(bad.stderr.contains(&want), "no '{want}' in\n{}", bad.stderr);
    }
}

#[test]
fn usage_errors() {
    let d = tmp();
    let out = s(d.path());
    let r = run(["import", "xlsx", &imp("ofac/sdn.csv"), "-o", &out]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown import format 'xlsx'"),
        "{}",
        r.stderr
    );
    let r = run([
        "import",
        "comtrade",
        &imp("comtrade/comtrade_plus.csv"),
        "--flow",
        "import",
        "-o",
        &out,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--flow applies to china-customs only"),
        "{}",
        r.stderr
    );
    let r = run(["import", "ofac-sdn", &imp("ofac/sdn.csv")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("import needs -o DIR"), "{}", r.stderr);
    let r = run(["import", "ams", &imp("ofac/sdn.csv"), "-o", &out]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an AMS table"), "{}", r.stderr);
    let r = run(["import", "comtrade", &imp("ofac/sdn.csv"), "-o", &out]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a Comtrade CSV"), "{}", r.stderr);
}

#[test]
fn ams_amendments_in_a_later_drop_replace_the_earlier_rows() {
    let d = tmp();
    let drop2 = d.path().join("drop2");
    std::fs::create_dir_all(&drop2).unwrap();
    // The second weekly drop amends bill 1: a new tariff value, the same container and line.
    for name in [
        "ams__header_2023__202305221500.csv",
        "ams__shipper_2023__202305221500.csv",
        "ams__consignee_2023__202305221500.csv",
        "ams__tariff_2023__202305221500.csv",
    ] {
        let src = std::fs::read_to_string(fixture("import/ams").join(name)).unwrap();
        let mut lines = src.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        for l in lines.filter(|l| l.starts_with("2023052000001,")) {
            out.push_str(
                &l.replace(",250000,", ",260000,")
                    .replace(",New,", ",Amended,"),
            );
            out.push('\n');
        }
        std::fs::write(
            drop2.join(name.replace("202305221500", "202305291500")),
            out,
        )
        .unwrap();
    }
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    args.extend(ams_files());
    let mut second: Vec<String> = std::fs::read_dir(&drop2)
        .unwrap()
        .map(|e| s(&e.unwrap().path()))
        .collect();
    second.sort();
    args.extend(second);
    args.extend(["-o".into(), s(&d.path().join("out"))]);
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("superseded by a later header row"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("superseded by a later tariff row"),
        "{}",
        r.stderr
    );
    let ships = rows(&d.path().join("out/shipments.csv"));
    assert_eq!(ships.len(), 4, "the amended bill is one shipment");
    assert_eq!(
        find(&ships, "shipment_id", "2023052000001")["value"],
        "260000"
    );
}

/// Issue 14 item 1: a cargo description with non-ASCII letters made `import ams` panic (exit 101).
#[test]
fn ams_reads_non_ascii_cargo_descriptions() {
    let d = tmp();
    let src = d.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    for f in ams_files() {
        let p = PathBuf::from(&f);
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let mut text = std::fs::read_to_string(&p).unwrap();
        if name.contains("cargodesc") {
            text = text.replace("HUMAN HAIR WIGS\n", "PERRUQUES É\n").replace(
                "LACE FRONT WIGS OF HUMAN HAIR",
                "PERRUQUES DE CHEVEUX É 假发",
            );
        }
        std::fs::write(src.join(&name), text).unwrap();
        args.push(s(&src.join(&name)));
    }
    args.extend(["-o".into(), s(&d.path().join("out"))]);
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ships = rows(&d.path().join("out/shipments.csv"));
    let b2 = find(&ships, "shipment_id", "2023052000002");
    assert_eq!(b2["hs_code"], "670420", "the code after the non-ASCII text");
    assert!(b2["description"].contains("假发"), "{b2:?}");
}

fn sdn_2026(dir: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<String> = [
        "import",
        "ofac-sdn",
        &imp("ofac_2026/sdn.csv"),
        &imp("ofac_2026/alt.csv"),
        &imp("ofac_2026/add.csv"),
        "-o",
        &s(dir),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    run(args)
}

/// Issue 15 items 1 and 7: OFAC's own country vocabulary, several countries per entry, an unknown name a
/// counted warning, and every SWIFT/BIC of a remark.
#[test]
fn ofac_country_vocabulary_and_every_identifier() {
    let d = tmp();
    let r = sdn_2026(d.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let add = imp("ofac_2026/add.csv");
    assert!(
        r.stderr
            .contains("read 14, accepted 13, rejected 0, skipped 1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "warning: 1 address row(s) name a country no table knows, kept without it: 'Atlantis' ×1 (first at {add}:13)"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("1 entr(y/ies) with addresses in several countries: every country is kept"),
        "{}",
        r.stderr
    );
    let wl = rows(&d.path().join("watchlist.csv"));
    // Gaza and Palestinian are one country; the Netherlands Antilles its three successors; Kafia Kingi none.
    assert_eq!(
        find(&wl, "entry_id", "ofac-sdn:90006")["country"],
        "PS;CW;SX;BQ;IM;MK;UA;ML"
    );
    assert_eq!(
        find(&wl, "entry_id", "ofac-sdn:90001")["identifiers"],
        "uscc:91411000MA9FICT01X;swift:XBFHCNB1;swift:XBFHCNB2;ofac:90001"
    );
    // The dataset reads back: check accepts the `;`-separated countries.
    let c = run(["check", "--data", &s(d.path())]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
}

/// Issue 15 items 3–6: a legacy bulk download resaved by a spreadsheet (flow code 0 with the flow in words,
/// chapter codes without their leading zero, values in scientific notation), a SITC file, and an import that
/// accepts nothing.
#[test]
fn comtrade_legacy_bulk_files_as_downloaded() {
    let d = tmp();
    let f = imp("comtrade/comtrade_legacy_bulk_resaved.csv");
    let strict = run(["import", "comtrade", &f, "-o", &s(&d.path().join("a"))]);
    assert_eq!(strict.code, 2, "{}", strict.stderr);
    // The message names the column as the file spells it.
    assert!(
        strict.stderr.contains(&format!(
            "{f}:6: Trade Value (US$): '1.50044E+11' is in scientific notation: precision lost (spreadsheet export)"
        )),
        "{}",
        strict.stderr
    );
    let out = d.path().join("b");
    let r = run(["import", "comtrade", &f, "--skip-invalid", "-o", &s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("read 6, accepted 3, rejected 1, skipped 2"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("warning: 2 commodity code(s) with an odd number of digits read as having lost a leading zero ('1' as chapter 01) in column 'Commodity Code'"),
        "{}",
        r.stderr
    );
    let flows = rows(&out.join("trade_flows.csv"));
    assert_eq!(
        find(&flows, "flow_id", "comtrade:2019:156:408:M:01")["flow"],
        "import"
    );
    assert_eq!(
        find(&flows, "flow_id", "comtrade:2019:156:842:X:6704")["value"],
        "1250000000"
    );
    assert_eq!(
        find(&flows, "flow_id", "comtrade:2019:156:408:X:010121")["flow"],
        "export"
    );

    // SITC Rev. 4 codes look like HS chapters: every row is refused, naming the classification.
    let sitc = imp("comtrade/comtrade_sitc4.csv");
    let r = run([
        "import",
        "comtrade",
        &sitc,
        "--skip-invalid",
        "-o",
        &s(&d.path().join("c")),
    ]);
    assert!(
        r.stderr.contains(&format!(
            "{sitc}:2: Classification: S4 is SITC Rev. 4; origintrace reads HS"
        )),
        "{}",
        r.stderr
    );
    // Nothing accepted is a failure, even with --skip-invalid, and nothing is written.
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no row was accepted"), "{}", r.stderr);
    assert!(!d.path().join("c").exists());
}

/// Issue 15 item 2: next month's OFAC release into the dataset holding this month's. Without --replace the
/// duplicates say to use it (and the knock-on rows name the rejected entry); with it, delisted entries go,
/// changed ones change, and the changes are counted and written for monitoring.
#[test]
fn a_list_is_refreshed_with_replace() {
    let d = tmp();
    let dir = d.path().join("case");
    assert_eq!(sdn(&dir).code, 0);
    let before = std::fs::read(dir.join("watchlist.csv")).unwrap();
    let plain = sdn_2026(&dir, &[]);
    assert_eq!(plain.code, 2);
    let wl = s(&dir.join("watchlist.csv"));
    assert!(
        plain.stderr.contains(&format!(
            "ent_num: duplicate id 'ofac-sdn:90001' (already at {wl}); to refresh this source from a newer release, import it again with --replace"
        )),
        "{}",
        plain.stderr
    );
    let sdn_new = imp("ofac_2026/sdn.csv");
    assert!(
        plain.stderr.contains(&format!(
            "ent_num: entry 90001 of the sdn.csv given is rejected (see {sdn_new}:1)"
        )),
        "{}",
        plain.stderr
    );
    assert!(!plain.stderr.contains("no entry 90001"), "{}", plain.stderr);
    assert_eq!(std::fs::read(dir.join("watchlist.csv")).unwrap(), before);

    let r = sdn_2026(&dir, &["--replace"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "replaced 4 row(s) of ofac-sdn in watchlist.csv: 2 added, 1 removed, 1 changed, 2 unchanged"
        ),
        "{}",
        r.stderr
    );
    let list = rows(&dir.join("watchlist.csv"));
    let ids: Vec<&str> = list.iter().map(|r| r["entry_id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "ofac-sdn:90001",
            "ofac-sdn:90002",
            "ofac-sdn:90004",
            "ofac-sdn:90005",
            "ofac-sdn:90006"
        ],
        "the new release's rows, in its order"
    );
    assert_eq!(
        find(&list, "entry_id", "ofac-sdn:90005")["identifiers"],
        "uscc:91130000FICT0005RB;ofac:90005"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("changes-ofac-sdn.csv")).unwrap(),
        "entry,change,fields\nofac-sdn:90001,changed,identifiers\nofac-sdn:90003,removed,\nofac-sdn:90005,added,\nofac-sdn:90006,added,\n"
    );
    let c = run(["check", "--data", &s(&dir)]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    // The same release again changes nothing.
    let again = sdn_2026(&dir, &["--replace"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("0 added, 0 removed, 0 changed, 5 unchanged"),
        "{}",
        again.stderr
    );
    assert_eq!(rows(&dir.join("watchlist.csv")).len(), 5);
    // AMS bills are not a source --replace can replace.
    let ams_replace = run([
        "import",
        "ams",
        &ams_files()[0],
        "--replace",
        "-o",
        &s(&dir),
    ]);
    assert_eq!(ams_replace.code, 2);
    assert!(
        ams_replace.stderr.contains("--replace applies to"),
        "{}",
        ams_replace.stderr
    );
}

/// `--replace` on statistics replaces only the periods the new files cover.
#[test]
fn statistics_are_replaced_for_the_periods_the_files_cover() {
    let d = tmp();
    let dir = s(d.path());
    let both = run([
        "import",
        "comtrade",
        &imp("comtrade/comtrade_plus.csv"),
        &imp("comtrade/comtrade_legacy.csv"),
        "-o",
        &dir,
    ]);
    assert_eq!(both.code, 0, "{}", both.stderr);
    let r = run([
        "import",
        "comtrade",
        &imp("comtrade/comtrade_plus.csv"),
        "--replace",
        "-o",
        &dir,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "replaced 3 row(s) of comtrade in trade_flows.csv: 0 added, 0 removed, 0 changed, 3 unchanged"
        ),
        "{}",
        r.stderr
    );
    let flows = rows(&d.path().join("trade_flows.csv"));
    assert_eq!(flows.len(), 5, "the 2016 rows of the legacy file stay");
    find(&flows, "flow_id", "comtrade:2016-04:156:842:X:670420");
}

/// Issue 15 item 2: one person on OFAC's SDN list, in the CSL (which carries OFAC's ent_num) and in
/// OpenSanctions' OFAC export (whose id is OFAC's): screening shows one hit that lists every source.
#[test]
fn one_entity_on_three_lists_is_one_hit() {
    let d = tmp();
    let dir = d.path().join("case");
    assert_eq!(sdn(&dir).code, 0);
    for (format, file) in [
        ("csl", "csl/consolidated_a.csv"),
        ("opensanctions", "opensanctions/us_ofac_sdn.simple.csv"),
    ] {
        let r = run(["import", format, &imp(file), "-o", &s(&dir)]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    std::fs::write(
        dir.join("parties.csv"),
        "party_id,name,country\npak,Pak Chol Myong,KP\n",
    )
    .unwrap();
    let v = run(["vet", "pak", "--format", "json", "--data", &s(&dir)]);
    let j: serde_json::Value = serde_json::from_str(&v.stdout).expect(&v.stderr);
    let hits = j["watchlist"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["entry_id"], "ofac-sdn:90003");
    let linked: Vec<&str> = hits[0]["linked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["entry_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        linked,
        [
            "csl:fict0000000000000000000000000000000000a2",
            "opensanctions:ofac-90003"
        ]
    );
}

/// One bill of the AMS fixture as a new extract: its rows under a new bill id, the shipper's name replaced.
/// Imports bill 2023052000002 as `new_id`, shipped by the misspelt "XUCHANG BRIGHTFALL HAIR PRODUKTS CO LTD",
/// into `out`, and returns the party the import gave as its shipper.
fn import_bill_shipper(work: &Path, out: &Path, new_id: &str) -> String {
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    args.extend(one_bill_as(
        work,
        "2023052000002",
        new_id,
        "XUCHANG BRIGHTFALL HAIR PRODUKTS CO LTD",
    ));
    args.extend(["-o".into(), s(out)]);
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ships = rows(&out.join("shipments.csv"));
    find(&ships, "shipment_id", new_id)["shipper"].clone()
}

fn one_bill_as(dir: &Path, bill: &str, new_id: &str, shipper: &str) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let mut out = Vec::new();
    for name in [
        "ams__header_2023__202305221500.csv",
        "ams__shipper_2023__202305221500.csv",
        "ams__consignee_2023__202305221500.csv",
        "ams__tariff_2023__202305221500.csv",
        "ams__cargodesc_2023__202305221500.csv",
    ] {
        let src = std::fs::read_to_string(fixture("import/ams").join(name)).unwrap();
        let mut lines = src.lines();
        let mut text = format!("{}\n", lines.next().unwrap());
        for l in lines.filter(|l| l.starts_with(bill)) {
            let mut l = l.replacen(bill, new_id, 1);
            if name.contains("shipper") {
                let (id, rest) = l.split_once(',').unwrap();
                let (_, after) = rest.split_once(",\"No.18").unwrap();
                l = format!("{id},\"{shipper}\",\"No.18{after}");
            }
            text.push_str(&l);
            text.push('\n');
        }
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        out.push(s(&p));
    }
    out
}

/// Issue 15 item 8: each party decision of an AMS import is kept in entity_map.csv; a near spelling is
/// matched to the existing party; a person's `different` wins over the matcher on the next import.
#[test]
fn entity_map_records_decisions_and_a_persons_edit_wins() {
    let d = tmp();
    let dir = d.path().join("case");
    assert_eq!(ams(&dir).code, 0);
    let map = rows(&dir.join("entity_map.csv"));
    let xc = find(
        &map,
        "source_name",
        "XUCHANG BRIGHTFALL HAIR PRODUCTS CO., LTD.",
    );
    assert_eq!(
        (
            xc["party_id"].as_str(),
            xc["decision"].as_str(),
            xc["decided_by"].as_str()
        ),
        ("cn-xuchang-brightfall-hair-products", "same", "matcher:new")
    );
    // A spelling with a typo reaches the same party through the matcher's name rule.
    assert_eq!(
        import_bill_shipper(&d.path().join("b"), &dir, "2023060100007"),
        "cn-xuchang-brightfall-hair-products"
    );
    let map = rows(&dir.join("entity_map.csv"));
    let typo = find(
        &map,
        "source_name",
        "XUCHANG BRIGHTFALL HAIR PRODUKTS CO LTD",
    );
    assert_eq!(typo["decided_by"], "matcher:name");
    assert!(typo["score"].starts_with("0.9"), "{typo:?}");
    // A person says that spelling is another firm: the next import makes a new party for it.
    let text = std::fs::read_to_string(dir.join("entity_map.csv")).unwrap();
    std::fs::write(
        dir.join("entity_map.csv"),
        format!("{text}XUCHANG BRIGHTFALL HAIR PRODUKTS CO LTD,CN,cn-xuchang-brightfall-hair-products,different,j.doe,\n"),
    )
    .unwrap();
    assert_eq!(
        import_bill_shipper(&d.path().join("c"), &dir, "2023060100008"),
        "cn-xuchang-brightfall-hair-produkts"
    );
    let map = rows(&dir.join("entity_map.csv"));
    assert!(
        map.iter()
            .any(|m| m["decided_by"] == "j.doe" && m["decision"] == "different"),
        "the person's row is kept: {map:?}"
    );
    // check lists the two parties as probable duplicates, with the matcher's score and rule.
    let c = run(["check", "--data", &s(&dir)]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert!(
        c.stdout.contains("Probable duplicate parties (1;"),
        "{}",
        c.stdout
    );
    assert!(
        c.stdout
            .lines()
            .any(|l| l.contains("cn-xuchang-brightfall-hair-products '")
                && l.contains("cn-xuchang-brightfall-hair-produkts '")
                && l.ends_with("(name)")),
        "{}",
        c.stdout
    );
    // A broken decision stops the import, naming the line.
    std::fs::write(
        dir.join("entity_map.csv"),
        "source_name,country,party_id,decision,decided_by,score\nX,CN,p,maybe,j.doe,\n",
    )
    .unwrap();
    let r = ams(&dir);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("entity_map.csv:2: decision: 'maybe' is neither same nor different"),
        "{}",
        r.stderr
    );
}

/// Issue 15 item 9: every table of an AMS weekly drop in its published columns, a bill in two containers
/// (a tariff and a cargo row each), cargo descriptions over several lines, and the line numbers after them.
#[test]
fn ams_every_table_of_a_weekly_drop() {
    let d = tmp();
    let dir = fixture("import/ams_full");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| s(&e.unwrap().path()))
        .collect();
    files.sort();
    assert_eq!(files.len(), 11, "all eleven tables");
    let mut args: Vec<String> = vec!["import".into(), "ams".into()];
    args.extend(files);
    args.extend(["--skip-invalid".into(), "-o".into(), s(d.path())]);
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for t in [
        "billgen",
        "container",
        "marksnumbers",
        "hazmat",
        "hazmatclass",
        "notifyparty",
    ] {
        assert!(
            r.stderr.contains(&format!("the AMS {t} table is not used")),
            "{t}: {}",
            r.stderr
        );
    }
    // The fourth cargo record starts on line 10: the three before it span eight lines.
    let cargo = s(&dir.join("ams__cargodesc_2024__202403111500.csv"));
    assert!(
        r.stderr.contains(&format!(
            "{cargo}:10: identifier: no header row for bill 2024030900199"
        )),
        "{}",
        r.stderr
    );
    let ships = rows(&d.path().join("shipments.csv"));
    assert_eq!(ships.len(), 2);
    let two = find(&ships, "shipment_id", "2024030900101");
    assert_eq!(two["value"], "250000", "both containers' tariff lines");
    assert_eq!(two["description"], "HUMAN HAIR WIGS LACE FRONT", "once");
    let lashes = find(&ships, "shipment_id", "2024030900102");
    assert_eq!(
        lashes["hs_code"], "670419",
        "from the third line of the text"
    );
}
