//! Properties of the attribution model (SPEC §3) on small random datasets: a few parties in CN regions, KP,
//! IN and the US; 5-40 shipments over ~120 days of HS 0501 / 670420 / 670300; some supplier links (to
//! parties, `country:KP`, `country:IN`, `country:CN`); some CN-HA / CN-SD statistics rows with KP, IN and HK
//! partners and 6704 exports; lag_days and input_ratio["6704"] vary too. Each dataset is written as CSV into a
//! temporary directory and run through the library (or, for the byte comparison of reports, the binary).

use crate::harness::run;
use origintrace::data::dataset::{DataSource, Dataset, load};
use origintrace::data::settings::Settings;
use origintrace::engine::model::{EPS, Engine, Index, Key, Outcome};
use origintrace::engine::paths::Limits;
use origintrace::engine::screening::screen;
use origintrace::engine::toppath::{Memo, TopPaths};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::BTreeMap;
use std::path::Path;

const CASES: u32 = 64;

/// (country, region) of the party kinds drawn from.
const KINDS: [(&str, &str); 7] = [
    ("CN", "CN-HA"),
    ("CN", "CN-SD"),
    ("CN", "CN-LN"),
    ("CN", ""),
    ("KP", ""),
    ("IN", ""),
    ("US", ""),
];
const HS: [&str; 3] = ["0501", "670420", "670300"];
const LINK_HS: [&str; 3] = ["0501", "6704", "6703"];
const ORIGINS: [&str; 6] = ["", "", "", "KP", "CN", "IN"];
const COUNTRY_SUPPLIERS: [&str; 3] = ["country:KP", "country:IN", "country:CN"];
const FLOW_REGIONS: [&str; 2] = ["CN-HA", "CN-SD"];
const PARTNERS: [&str; 3] = ["KP", "IN", "HK"];

/// `YYYY-MM-DD` of day `n` counted from 2023-01-01 (n < 365 + 59).
fn day(n: u32) -> String {
    const DAYS: [u32; 14] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28];
    let mut rest = n;
    for (i, len) in DAYS.iter().enumerate() {
        if rest < *len {
            return format!("{}-{:02}-{:02}", 2023 + i as u32 / 12, i % 12 + 1, rest + 1);
        }
        rest -= len;
    }
    panic!("day {n} out of range")
}

/// `YYYY-MM` of month `m` counted from 2022-09 (m < 24).
fn month(m: u32) -> String {
    let y = 2022 + (8 + m) / 12;
    format!("{y}-{:02}", (8 + m) % 12 + 1)
}

/// The day index (from 2023-01-01) of the first day of month `m` counted from 2022-09 (m < 12): negative
/// before 2023.
fn month_start(m: u32) -> i64 {
    const STARTS: [i64; 12] = [-122, -92, -61, -31, 0, 31, 59, 90, 120, 151, 181, 212];
    STARTS[m as usize]
}

#[derive(Clone, Debug)]
struct Ship {
    day: u32,
    shipper: usize,
    consignee: usize,
    hs: usize,
    value: u32,
    origin: usize,
    weight: Option<u32>,
}

#[derive(Clone, Debug)]
struct Link {
    buyer: usize,
    /// `Ok(party)` or `Err(country supplier index)`.
    supplier: Result<usize, usize>,
    hs: usize,
    share_pct: u32,
    from: Option<u32>,
    to: Option<u32>,
}

#[derive(Clone, Debug)]
struct FlowRow {
    month: u32,
    region: usize,
    /// `Some(partner)` for an import of `hs`, `None` for an export of 6704.
    partner: Option<usize>,
    hs: usize,
    value: u32,
}

#[derive(Clone, Debug)]
struct Data {
    parties: Vec<usize>,
    ships: Vec<Ship>,
    links: Vec<Link>,
    flows: Vec<FlowRow>,
    /// `origintrace.toml`: the lag and the input ratio of 6704 vary too.
    toml: String,
}

impl Data {
    fn settings(&self) -> Settings {
        Settings::default()
            .overlay_str(&self.toml, "generated origintrace.toml")
            .expect("generated settings parse")
    }
}

fn ship_strategy(n: usize, days: std::ops::Range<u32>) -> impl Strategy<Value = Ship> {
    (
        days,
        0..n,
        1..n,
        0..HS.len(),
        prop_oneof![1 => Just(0u32), 9 => 1u32..100_000],
        0..ORIGINS.len(),
        prop::option::weighted(0.3, 1u32..500),
    )
        .prop_map(
            move |(day, shipper, step, hs, value, origin, weight)| Ship {
                day,
                shipper,
                consignee: (shipper + step) % n,
                hs,
                value,
                origin,
                weight,
            },
        )
}

fn link_strategy(n: usize, days: std::ops::Range<u32>) -> impl Strategy<Value = Link> {
    (
        0..n,
        prop_oneof![
            (0..n).prop_map(Ok),
            (0..COUNTRY_SUPPLIERS.len()).prop_map(Err)
        ],
        0..LINK_HS.len(),
        0u32..=100,
        prop::option::of(days.clone()),
        prop::option::of(days),
    )
        .prop_map(|(buyer, supplier, hs, share_pct, a, b)| {
            let (from, to) = match (a, b) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                other => other,
            };
            Link {
                buyer,
                supplier,
                hs,
                share_pct,
                from,
                to,
            }
        })
}

fn flow_strategy(months: std::ops::Range<u32>) -> impl Strategy<Value = FlowRow> {
    (
        months,
        0..FLOW_REGIONS.len(),
        prop::option::weighted(0.7, 0..PARTNERS.len()),
        0..HS.len(),
        1u32..1_000_000,
    )
        .prop_map(|(month, region, partner, hs, value)| FlowRow {
            month,
            region,
            partner,
            hs,
            value,
        })
}

fn data_strategy() -> impl Strategy<Value = Data> {
    prop::collection::vec(0..KINDS.len(), 3..8).prop_flat_map(|parties| {
        let n = parties.len();
        (
            Just(parties),
            prop::collection::vec(ship_strategy(n, 0..120), 5..40),
            prop::collection::vec(link_strategy(n, 0..120), 0..6),
            prop::collection::vec(flow_strategy(0..8), 0..12),
            prop_oneof![3 => Just(180u32), 1 => 20u32..200],
            prop::sample::select(vec!["1.0", "1.0", "0.5", "2.0", "0"]),
        )
            .prop_map(|(parties, ships, links, flows, lag, ratio)| Data {
                parties,
                ships,
                links,
                flows,
                toml: format!("lag_days = {lag}\n[input_ratio]\n\"6704\" = {ratio}\n"),
            })
    })
}

/// The CSV files of a dataset: (file name, header, rows).
fn files(d: &Data) -> Vec<(&'static str, String, Vec<String>)> {
    let pid = |i: usize| format!("P{i}");
    let parties = d
        .parties
        .iter()
        .enumerate()
        .map(|(i, k)| {
            format!(
                "{},Example Party {i},{},{}",
                pid(i),
                KINDS[*k].0,
                KINDS[*k].1
            )
        })
        .collect();
    let ships = d
        .ships
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "S{i:03},{},{},{},{},{},{},{}",
                day(s.day),
                pid(s.shipper),
                pid(s.consignee),
                HS[s.hs],
                s.value,
                ORIGINS[s.origin],
                s.weight.map(|w| w.to_string()).unwrap_or_default()
            )
        })
        .collect();
    let links = d
        .links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let supplier = match l.supplier {
                Ok(p) => pid(p),
                Err(c) => COUNTRY_SUPPLIERS[c].to_string(),
            };
            format!(
                "L{i:03},{},{supplier},{},{}.{:02},{},{}",
                pid(l.buyer),
                LINK_HS[l.hs],
                l.share_pct / 100,
                l.share_pct % 100,
                l.from.map(day).unwrap_or_default(),
                l.to.map(day).unwrap_or_default()
            )
        })
        .collect();
    let flows = d
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (partner, flow, hs) = match f.partner {
                Some(p) => (PARTNERS[p], "import", HS[f.hs]),
                None => ("US", "export", "6704"),
            };
            format!(
                "F{i:03},{},CN,{},{partner},{flow},{hs},{}",
                month(f.month),
                FLOW_REGIONS[f.region],
                f.value
            )
        })
        .collect();
    vec![
        (
            "parties.csv",
            "party_id,name,country,region".into(),
            parties,
        ),
        (
            "shipments.csv",
            "shipment_id,date,shipper,consignee,hs_code,value,origin_country,weight_kg".into(),
            ships,
        ),
        (
            "supplier_links.csv",
            "link_id,buyer,supplier,hs_code,share,valid_from,valid_to".into(),
            links,
        ),
        (
            "trade_flows.csv",
            "flow_id,period,reporter,region,partner,flow,hs_code,value".into(),
            flows,
        ),
    ]
}

fn write(dir: &Path, files: &[(&'static str, String, Vec<String>)], toml: &str) {
    std::fs::write(dir.join("origintrace.toml"), toml).expect("write settings");
    for (name, header, rows) in files {
        let mut text = header.clone();
        text.push('\n');
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        std::fs::write(dir.join(name), text).expect("write fixture file");
    }
}

/// Writes the dataset into a fresh temporary directory.
fn write_temp(d: &Data) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &files(d), &d.toml);
    dir
}

fn load_dir(dir: &Path) -> Dataset {
    let ds = load(&[DataSource::Dir(dir.to_path_buf())]).expect("generated dataset loads");
    assert!(
        ds.rejections.is_empty(),
        "generated rows rejected: {:?}",
        ds.rejections
    );
    ds
}

/// Every output's outcome, by key.
fn outcomes(ds: &Dataset, st: &Settings) -> BTreeMap<Key, Outcome> {
    let e = Engine::run(ds, st, screen(ds, st.match_threshold));
    e.ix.keys
        .iter()
        .copied()
        .zip(e.outcomes.iter().copied())
        .collect()
}

fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every share is in [0, 1], and sanctioned + clean + unknown = 1.
    #[test]
    fn shares_are_a_mix(d in data_strategy()) {
        let dir = write_temp(&d);
        let ds = load_dir(dir.path());
        let st = d.settings();
        let e = Engine::run(&ds, &st, screen(&ds, st.match_threshold));
        for (k, o) in e.outcomes.iter().enumerate() {
            let m = &o.mix;
            for x in m.s.iter().chain(m.c.iter()).chain([&m.u]) {
                prop_assert!((0.0..=1.0).contains(x), "share {x} outside [0, 1] in output {:?}: {m:?}", e.ix.keys[k]);
            }
            let sum = m.sanctioned() + m.clean() + m.u;
            prop_assert!((sum - 1.0).abs() <= 1e-9, "shares add up to {sum} in output {:?}: {m:?}", e.ix.keys[k]);
        }
    }

    /// A new shipment from a KP party into some firm never lowers any output's sanctioned share.
    #[test]
    fn sanctioned_inflow_never_lowers_sanctioned(
        d in data_strategy(),
        into in 0usize..64,
        when in 0u32..120,
        hs in 0..HS.len(),
        value in 0u32..100_000,
    ) {
        let st = d.settings();
        let before_dir = write_temp(&d);
        let before = outcomes(&load_dir(before_dir.path()), &st);
        let mut d2 = d.clone();
        let kp = match d2.parties.iter().position(|k| KINDS[*k].0 == "KP") {
            Some(p) => p,
            None => {
                d2.parties.push(4);
                d2.parties.len() - 1
            }
        };
        let n = d2.parties.len();
        let mut consignee = into % n;
        if consignee == kp {
            consignee = (consignee + 1) % n;
        }
        d2.ships.push(Ship { day: when, shipper: kp, consignee, hs, value, origin: 0, weight: None });
        let after_dir = write_temp(&d2);
        let after = outcomes(&load_dir(after_dir.path()), &st);
        for (k, o) in &before {
            let a = after.get(k).expect("every output is still there");
            prop_assert!(
                a.mix.sanctioned() >= o.mix.sanctioned() - 1e-9,
                "output {k:?}: sanctioned {} fell to {} after adding a KP shipment into P{consignee} on {}",
                o.mix.sanctioned(), a.mix.sanctioned(), day(when)
            );
        }
    }

    /// Rows dated after `t` (shipments after t, statistics months starting after t, links valid only after
    /// t) change nothing at t.
    #[test]
    fn rows_after_t_change_nothing_at_t(
        d in data_strategy(),
        cut in 0u32..120,
        later in (
            prop::collection::vec(ship_strategy(8, 1..90), 1..10),
            prop::collection::vec(link_strategy(8, 1..90), 0..4),
            prop::collection::vec(flow_strategy(0..12), 0..6),
        ),
    ) {
        let st = d.settings();
        let n = d.parties.len();
        let (ships, links, flows) = later;
        let mut d2 = d.clone();
        for mut s in ships {
            s.day += cut;
            s.shipper %= n;
            s.consignee %= n;
            if s.consignee == s.shipper {
                s.consignee = (s.shipper + 1) % n;
            }
            d2.ships.push(s);
        }
        for mut l in links {
            l.buyer %= n;
            if let Ok(p) = l.supplier {
                l.supplier = Ok(p % n);
            }
            // valid only after the cut
            l.from = Some(l.from.unwrap_or(1) + cut);
            l.to = l.to.map(|t| t + cut).map(|t| t.max(l.from.unwrap_or(0)));
            d2.links.push(l);
        }
        for f in flows {
            if month_start(f.month) > i64::from(cut) {
                d2.flows.push(f);
            }
        }
        let dir1 = write_temp(&d);
        let dir2 = write_temp(&d2);
        let before = outcomes(&load_dir(dir1.path()), &st);
        let after = outcomes(&load_dir(dir2.path()), &st);
        let cut_date = day(cut);
        for (k, o) in &before {
            if k.date.to_string() > cut_date {
                continue;
            }
            let a = after.get(k).expect("every output is still there");
            prop_assert_eq!(a, o, "output {:?} (on or before {}) changed", k, cut_date);
        }
    }

    /// Shuffling the rows of every file changes nothing: the report is byte for byte the same.
    #[test]
    fn row_order_does_not_matter(d in data_strategy(), seed in any::<u64>()) {
        let fs = files(&d);
        let mut shuffled = fs.clone();
        let mut state = seed | 1;
        for (_, _, rows) in &mut shuffled {
            // Fisher-Yates with a xorshift generator.
            for i in (1..rows.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = (state % (i as u64 + 1)) as usize;
                rows.swap(i, j);
            }
        }
        let dir1 = tempfile::tempdir().expect("tempdir");
        let dir2 = tempfile::tempdir().expect("tempdir");
        write(dir1.path(), &fs, &d.toml);
        write(dir2.path(), &shuffled, &d.toml);
        let r1 = run(["report", "--data", &dir1.path().display().to_string()]);
        let r2 = run(["report", "--data", &dir2.path().display().to_string()]);
        prop_assert_eq!(r1.code, 0, "{}", r1.stderr);
        prop_assert_eq!(r2.code, 0, "{}", r2.stderr);
        prop_assert_eq!(r1.stdout, r2.stdout);
    }

    /// A query's engine (a snapshot's: one-party lookups built on demand) decomposes every output, and
    /// every hypothetical output `vet` asks about, into the same terms as the pass's whole lookup table.
    #[test]
    fn one_party_lookups_decompose_like_the_whole_table(d in data_strategy()) {
        let dir = write_temp(&d);
        let ds = load_dir(dir.path());
        let st = d.settings();
        let e = Engine::run(&ds, &st, screen(&ds, st.match_threshold));
        let q = Engine::from_parts(&ds, &st, Index::new(&ds, &st), e.outcomes.clone(), e.hits.clone())
            .expect("parts fit");
        for k in (0..e.ix.keys.len() as u32).rev() {
            prop_assert_eq!(q.decompose(k), e.decompose(k), "output {:?}", e.ix.keys[k as usize]);
            let key = e.ix.keys[k as usize];
            let later = key.date.add_days(3);
            prop_assert_eq!(
                q.decompose_at(key.party, key.heading, later),
                e.decompose_at(key.party, key.heading, later)
            );
        }
    }

    /// The paths of an output add up to its sanctioned share when the search was not cut.
    #[test]
    fn paths_add_up_to_sanctioned(d in data_strategy()) {
        let dir = write_temp(&d);
        let ds = load_dir(dir.path());
        let st = d.settings();
        let e = Engine::run(&ds, &st, screen(&ds, st.match_threshold));
        for k in 0..e.ix.keys.len() as u32 {
            let set = e.paths_of_key(k, Limits::default());
            if set.truncated {
                continue;
            }
            let sum: f64 = set.paths.iter().map(|p| p.share).sum();
            let s = e.outcomes[k as usize].mix.sanctioned();
            prop_assert!((sum - s).abs() <= 1e-9, "output {:?}: paths add up to {sum}, sanctioned {s}", e.ix.keys[k as usize]);
        }
    }

    /// The top path carried through the pass is the search's first path, with the same share, however few
    /// chains each output keeps; where the bounds cannot settle it, it says so rather than guess.
    #[test]
    fn top_paths_match_the_search(d in data_strategy(), keep in 1usize..4) {
        let dir = write_temp(&d);
        let ds = load_dir(dir.path());
        let st = d.settings();
        let e = Engine::run(&ds, &st, screen(&ds, st.match_threshold));
        let tops = TopPaths::compute_keeping(&e, Limits::default().max_hops, keep);
        let mut memo = Memo::default();
        for k in 0..e.ix.keys.len() as u32 {
            let set = e.paths_of_key(k, Limits::default());
            let top = tops.top(&e, k, &mut memo);
            if e.outcomes[k as usize].mix.sanctioned() <= EPS {
                prop_assert!(top.is_none());
                continue;
            }
            let Some(top) = top else { continue };
            prop_assert!(!set.truncated, "a search within the limits was cut");
            let first = &set.paths[0];
            let tie = set.paths.get(1).is_some_and(|p| (p.share - first.share).abs() <= 1e-12);
            prop_assert!(!tie, "output {:?}: a tie was settled", e.ix.keys[k as usize]);
            prop_assert_eq!(top.nodes(), first.nodes(), "output {:?}", e.ix.keys[k as usize]);
            prop_assert!((top.share - first.share).abs() <= 1e-12, "output {:?}: share {} vs {}", e.ix.keys[k as usize], top.share, first.share);
            prop_assert_eq!(top.grade, first.grade);
        }
    }
}

/// Model v2 properties run the binary per case (trace JSON, report CSV), so they draw fewer cases.
const V2_CASES: u32 = 12;

fn v2_config() -> Config {
    Config {
        cases: V2_CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

/// `trace ID --format json` on a generated dataset.
fn trace_json(dir: &Path, id: &str) -> serde_json::Value {
    let r = run([
        "trace",
        id,
        "--format",
        "json",
        "--data",
        &dir.display().to_string(),
    ]);
    assert_eq!(r.code, 0, "trace {id}: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("trace JSON")
}

/// Severity per shipment id, from `report`'s CSV (`severity` column found by name).
fn severities(dir: &Path) -> BTreeMap<String, String> {
    let r = run(["report", "--data", &dir.display().to_string()]);
    assert_eq!(r.code, 0, "report: {}", r.stderr);
    let mut lines = r.stdout.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "severity")
        .expect("severity column");
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[col].to_string())
        })
        .collect()
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "none" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        other => panic!("unknown severity {other:?}"),
    }
}

proptest! {
    #![proptest_config(v2_config())]

    /// No statistical-only output has clean > its pool's imported clean share: a new firm (CN-HA, CN-SD or
    /// CN without a region) with no inbound shipment and no supplier link ships 1-3 outputs; each rests on
    /// its pool alone, whose domestic remainder is never clean (v2), so its clean share is at most
    /// `(I − S − U)/T` of that pool (from the trace's `pool` figures; 0 when it takes no pool).
    #[test]
    fn statistical_only_clean_never_exceeds_pool_imported_clean(
        d in data_strategy(),
        kind in prop::sample::select(vec![0usize, 1, 3]),
        outs in prop::collection::vec((0u32..120, 0usize..64, 0..HS.len(), 1u32..100_000), 1..4),
    ) {
        let mut d2 = d.clone();
        d2.parties.push(kind);
        let x = d2.parties.len() - 1;
        let first = d2.ships.len();
        for (day, to, hs, value) in outs {
            d2.ships.push(Ship { day, shipper: x, consignee: to % x, hs, value, origin: 0, weight: None });
        }
        let dir = write_temp(&d2);
        for i in first..d2.ships.len() {
            let id = format!("S{i:03}");
            let v = trace_json(dir.path(), &id);
            let clean = v["exposure"]["clean"].as_f64().expect("clean");
            let pool = &v["pool"];
            // The pool's figures are shown rounded to cents (each off by at most 0.005), so the bound read
            // from them is good to about 0.02 / T; the engine's own `pool.clean` is checked tightly below.
            let (bound, slack) = if pool.is_null() {
                (0.0, 0.0)
            } else {
                let f = |k: &str| -> f64 {
                    pool[k].as_str().unwrap_or_else(|| panic!("pool.{k} in {pool}")).parse().expect("decimal")
                };
                let t = f("throughput_usd");
                if t > 0.0 {
                    ((f("imports_usd") - f("sanctioned_imports_usd") - f("unknown_imports_usd")) / t, 0.02 / t)
                } else {
                    (0.0, 0.0)
                }
            };
            prop_assert!(
                clean <= bound + slack + 1e-9,
                "{id}: clean {clean} > the pool's imported clean share {bound}: {}", v["pool"]
            );
            if let Some(pc) = pool["clean"].as_f64() {
                prop_assert!(clean <= pc + 1e-9, "{id}: clean {clean} > pool.clean {pc}");
            }
        }
    }

    /// Adding a KP counterparty record never lowers severity: the shipper of some output ships to a new
    /// party located in KP, before that output; none of the shipper's outputs dated after the new record
    /// (the chosen one included) goes down in severity. (A record whose HS overlaps an output's heading is
    /// relevant to it, so whatever it takes from the mix, `sanctioned-counterparty` comes back high.)
    #[test]
    fn kp_counterparty_record_never_lowers_severity(
        d in data_strategy(),
        pick in 0usize..64,
        back in 0u32..120,
        hs in 0..HS.len(),
        value in 0u32..100_000,
    ) {
        let out = d.ships[pick % d.ships.len()].clone();
        prop_assume!(out.day > 0);
        let when = out.day - 1 - back % out.day;
        let mut d2 = d.clone();
        d2.parties.push(4);
        let kp = d2.parties.len() - 1;
        d2.ships.push(Ship { day: when, shipper: out.shipper, consignee: kp, hs, value, origin: 0, weight: None });
        let dir1 = write_temp(&d);
        let dir2 = write_temp(&d2);
        let before = severities(dir1.path());
        let after = severities(dir2.path());
        for (i, s) in d.ships.iter().enumerate() {
            if s.shipper != out.shipper || s.day <= when {
                continue;
            }
            let id = format!("S{i:03}");
            let (b, a) = (&before[&id], &after[&id]);
            prop_assert!(
                severity_rank(a) >= severity_rank(b),
                "{id} (P{} on {}): severity {b} fell to {a} after P{} shipped {} to a KP party on {}",
                s.shipper, day(s.day), out.shipper, HS[hs], day(when)
            );
        }
    }
}
