//! The one schema of the canonical files (SPEC §2): each file's name and its columns, in order. The loader
//! reads by it and the importers write by it, so the two cannot drift apart.

use std::cmp::Ordering;

/// A column a file may carry, and whether it must.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

/// A required column.
pub const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

/// An optional column.
pub const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

/// A canonical file of a dataset.
///
/// Ordered by file name, not by variant: the importers keep their output per table in an ordered map and
/// write (and report) the files in that order, which must not depend on how the variants are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    Rates,
    Parties,
    Shipments,
    TradeFlows,
    SupplierLinks,
    Watchlist,
}

impl Table {
    /// Every table, in the order the loader reads them: rates before any money, parties before anything
    /// that names one.
    pub const LOAD_ORDER: [Table; 6] = [
        Table::Rates,
        Table::Parties,
        Table::Shipments,
        Table::TradeFlows,
        Table::SupplierLinks,
        Table::Watchlist,
    ];

    /// The file's name in a dataset directory.
    pub const fn file(self) -> &'static str {
        match self {
            Table::Rates => "rates.csv",
            Table::Parties => "parties.csv",
            Table::Shipments => "shipments.csv",
            Table::TradeFlows => "trade_flows.csv",
            Table::SupplierLinks => "supplier_links.csv",
            Table::Watchlist => "watchlist.csv",
        }
    }

    /// The columns, in SPEC §2's order: the order the importers write them in. The loader matches them by
    /// header name, in any order, and its parse functions address them by their index in this list, so a
    /// column is added at the end or the loader changes with it.
    pub const fn columns(self) -> &'static [Column] {
        match self {
            Table::Rates => RATES,
            Table::Parties => PARTIES,
            Table::Shipments => SHIPMENTS,
            Table::TradeFlows => TRADE_FLOWS,
            Table::SupplierLinks => SUPPLIER_LINKS,
            Table::Watchlist => WATCHLIST,
        }
    }

    /// The column that identifies a row (always the first), where the table has one.
    pub const fn id_column(self) -> Option<&'static str> {
        match self {
            Table::Rates => None,
            Table::Parties => Some("party_id"),
            Table::Shipments => Some("shipment_id"),
            Table::TradeFlows => Some("flow_id"),
            Table::SupplierLinks => Some("link_id"),
            Table::Watchlist => Some("entry_id"),
        }
    }
}

const RATES: &[Column] = &[req("currency"), req("period"), req("usd_per_unit")];
const PARTIES: &[Column] = &[
    req("party_id"),
    req("name"),
    req("country"),
    opt("region"),
    opt("city"),
    opt("aliases"),
    opt("identifiers"),
];
const SHIPMENTS: &[Column] = &[
    req("shipment_id"),
    req("date"),
    req("shipper"),
    req("consignee"),
    req("hs_code"),
    req("value"),
    opt("currency"),
    opt("quantity"),
    opt("unit"),
    opt("weight_kg"),
    opt("origin_country"),
    opt("description"),
    opt("port_lading"),
    opt("port_unlading"),
];
const TRADE_FLOWS: &[Column] = &[
    opt("flow_id"),
    req("period"),
    req("reporter"),
    opt("region"),
    req("partner"),
    req("flow"),
    req("hs_code"),
    req("value"),
    opt("currency"),
    opt("quantity"),
    opt("unit"),
    opt("regime"),
];
const SUPPLIER_LINKS: &[Column] = &[
    opt("link_id"),
    req("buyer"),
    req("supplier"),
    req("hs_code"),
    req("share"),
    opt("valid_from"),
    opt("valid_to"),
    opt("source"),
];
const WATCHLIST: &[Column] = &[
    req("entry_id"),
    req("name"),
    opt("aliases"),
    opt("country"),
    opt("program"),
    opt("identifiers"),
    opt("source"),
];

impl PartialOrd for Table {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Table {
    fn cmp(&self, other: &Self) -> Ordering {
        self.file().cmp(other.file())
    }
}

/// The canonical file names, in [`Table::LOAD_ORDER`].
pub const FILES: [&str; 6] = {
    let mut names = [""; 6];
    let mut i = 0;
    while i < names.len() {
        names[i] = Table::LOAD_ORDER[i].file();
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_its_file_and_its_id_first() {
        let distinct: std::collections::HashSet<&str> = FILES.into_iter().collect();
        assert_eq!(distinct.len(), FILES.len());
        for t in Table::LOAD_ORDER {
            if let Some(id) = t.id_column() {
                assert_eq!(t.columns().first().map(|c| c.name), Some(id), "{t:?}");
            }
        }
        let mut by_name = Table::LOAD_ORDER;
        by_name.sort();
        let names: Vec<&str> = by_name.iter().map(|t| t.file()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn the_not_a_dataset_message_names_every_file() {
        let msg = super::super::DatasetError::NoFiles { path: "x".into() }.to_string();
        for f in FILES {
            assert!(msg.contains(f), "{f} missing from {msg}");
        }
    }
}
