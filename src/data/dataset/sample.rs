//! The sample dataset of SPEC §1 (`data/sample/`), compiled into the binary so that every command works
//! on a fresh machine without `--data`.

use super::load::EmbeddedDataset;

pub static SAMPLE: EmbeddedDataset = EmbeddedDataset {
    name: "sample",
    files: &[
        (
            "parties.csv",
            include_bytes!("../../../data/sample/parties.csv"),
        ),
        (
            "shipments.csv",
            include_bytes!("../../../data/sample/shipments.csv"),
        ),
        (
            "trade_flows.csv",
            include_bytes!("../../../data/sample/trade_flows.csv"),
        ),
        (
            "supplier_links.csv",
            include_bytes!("../../../data/sample/supplier_links.csv"),
        ),
        (
            "watchlist.csv",
            include_bytes!("../../../data/sample/watchlist.csv"),
        ),
        (
            "rates.csv",
            include_bytes!("../../../data/sample/rates.csv"),
        ),
    ],
};
