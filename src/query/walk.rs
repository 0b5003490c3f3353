//! `paths --from XX --to PARTY`: the chains [`crate::engine::chains`] finds from an origin country to a
//! party, shortest first, as a view with each hop's records.

use super::trace::{HopJson, hop_json};
use super::{QueryError, resolve_party};
use crate::data::codes::{Country, Hs};
use crate::engine::analysis::node_id;
use crate::engine::chains::{Chains, chains};
use crate::engine::model::Engine;
use serde::Serialize;

#[derive(Serialize, Debug)]
pub struct WalkPath {
    pub nodes: String,
    pub hops: Vec<HopJson>,
}

#[derive(Serialize, Debug)]
pub struct WalkJson {
    pub from: String,
    pub to: String,
    pub hs: Option<String>,
    pub max_hops: usize,
    pub paths: Vec<WalkPath>,
    pub truncated: bool,
    /// What cut the list, when it was cut: "limit" (`--limit` paths found), "max_hops" (a chain would
    /// have been longer), "work" (the search spent [`crate::engine::chains::WALK_WORK`]); in the order
    /// they first struck.
    pub cut_by: Vec<&'static str>,
}

/// Finds up to `limit` chains from `origin` to `to` and lists them with their records.
pub fn walk(
    e: &Engine,
    origin: Country,
    to: &str,
    hs: Option<Hs>,
    limit: usize,
    max_hops: usize,
) -> Result<WalkJson, QueryError> {
    let ds = e.ds;
    let target = resolve_party(ds, to)?;
    let Chains { found, cut_by } = chains(e, origin, target, hs, limit, max_hops);
    let heading = hs.map(|h| h.to_string()).unwrap_or_default();
    let paths = found
        .iter()
        .map(|hops| {
            let mut nodes = vec![node_id(ds, hops[0].from)];
            nodes.extend(hops.iter().map(|h| node_id(ds, h.to)));
            WalkPath {
                nodes: nodes.join(">"),
                hops: hops.iter().map(|h| hop_json(ds, h, "", &heading)).collect(),
            }
        })
        .collect();
    Ok(WalkJson {
        from: origin.to_string(),
        to: ds.party(target).id.clone(),
        hs: hs.map(|h| h.to_string()),
        max_hops,
        paths,
        truncated: !cut_by.is_empty(),
        cut_by,
    })
}
