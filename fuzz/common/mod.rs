//! Shared by the fuzz targets: a small valid dataset into which one file is replaced by fuzz input, then
//! the whole pipeline (load, check, engine, scoring, report) runs on whatever loads.

use origintrace::engine::analysis::Analysis;
use origintrace::data::dataset::{DataSource, load};
use origintrace::engine::paths::Limits;
use origintrace::data::settings::Settings;

pub const PARTIES: &[u8] = b"party_id,name,country,region\nK,Coop,KP,\nL,Trader,CN,CN-LN\nX,Maker,CN,CN-HA\nY,Importer,US,\n";
pub const SHIPMENTS: &[u8] = b"shipment_id,date,shipper,consignee,hs_code,value,currency,weight_kg,origin_country\nS1,2023-03-01,K,L,670420,100000,USD,10,\nS2,2023-03-20,L,X,670420,120000,CNY,12,CN\nS3,2023-04-10,X,Y,670420,240000,USD,20,CN\n";
pub const FLOWS: &[u8] = b"period,reporter,region,partner,flow,hs_code,value\n2023-02,CN,CN-HA,KP,import,670420,1000\n2023-02,CN,CN-HA,US,export,6704,5000\n2023,CN,CN-HA,KP,import,670420,9000\n";
pub const LINKS: &[u8] =
    b"buyer,supplier,hs_code,share,valid_from\nX,country:KP,0501,0.2,2023-01-01\nX,L,6704,0.5,\n";
pub const WATCH: &[u8] = b"entry_id,name,aliases,country\nW1,Trader Co Ltd,,CN\n";
pub const RATES: &[u8] = b"currency,period,usd_per_unit\nCNY,2023-03,0.14\n";

/// Loads the base dataset with `file` replaced by `data`, and runs everything on it.
pub fn run_with(file: &str, data: &[u8]) {
    let mut files: Vec<(String, Vec<u8>)> = [
        ("parties.csv", PARTIES),
        ("shipments.csv", SHIPMENTS),
        ("trade_flows.csv", FLOWS),
        ("supplier_links.csv", LINKS),
        ("watchlist.csv", WATCH),
        ("rates.csv", RATES),
    ]
    .iter()
    .map(|(n, b)| (n.to_string(), b.to_vec()))
    .collect();
    for f in files.iter_mut() {
        if f.0 == file {
            f.1 = data.to_vec();
        }
    }
    let Ok(ds) = load(&[DataSource::Memory {
        name: "fuzz".into(),
        files,
    }]) else {
        return;
    };
    let c = origintrace::query::check::check(&ds);
    let _ = origintrace::present::Render::to_bytes(&origintrace::present::Text, &c);
    for r in &ds.stats {
        assert_eq!(r.read, r.accepted + r.rejected, "accounting");
    }
    if ds.shipments.len() > 200 {
        return;
    }
    let st = Settings::default();
    let a = Analysis::new(
        &ds,
        &st,
        Limits {
            max_paths: 50,
            max_hops: 8,
            records: true,
            top: None,
        },
    );
    for m in &a.engine.outcomes {
        let s = m.mix.sanctioned() + m.mix.clean() + m.mix.u;
        assert!(
            ds.shipments.is_empty() || (s - 1.0).abs() < 1e-6 || s == 0.0,
            "shares add up to {s}"
        );
    }
    let scored = a.score_all();
    let r = origintrace::query::report::build(
        &a,
        scored,
        origintrace::query::report::Filter {
            flagged_only: false,
            min_severity: origintrace::engine::rules::Severity::None,
        },
    );
    use origintrace::present::{Csv, Json, Render, Table};
    let _ = Csv {
        table: Table::Shipments,
    }
    .to_bytes(&r);
    let _ = Json.to_bytes(&r);
}
