//! The queries: `trace` (one shipment), `vet` (one supplier), `paths` (time-respecting chains from an
//! origin to a party), `check` (what a dataset holds), `report` (every shipment scored) and the `export`
//! graph. Each returns a view model: the figures the engine computed, picked and labelled for a reader, with
//! nothing of its own computed and nothing formatted for one output; `present` writes them out.

pub mod check;
pub mod graph;
pub mod report;
pub mod trace;
pub mod vet;
pub mod walk;

use crate::data::dataset::{Dataset, PartyId, ShipmentId};
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueryError {
    #[error("unknown shipment '{0}'")]
    UnknownShipment(String),
    #[error("unknown party '{0}'{1}")]
    UnknownParty(String, String),
    #[error("'{name}' is ambiguous; it names {count} parties:\n{candidates}")]
    Ambiguous {
        name: String,
        count: usize,
        candidates: String,
    },
    #[error("{0}")]
    Bad(String),
}

#[derive(Serialize, Clone, Debug)]
pub struct PartyJson {
    pub party_id: String,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
}

impl PartyJson {
    pub fn of(ds: &Dataset, p: PartyId) -> PartyJson {
        let party = ds.party(p);
        PartyJson {
            party_id: party.id.clone(),
            name: party.name.clone(),
            country: party.country.to_string(),
            region: party.region.map(|r| r.to_string()),
        }
    }

    /// ", CN-HA" or ", US".
    pub fn place(&self) -> String {
        match &self.region {
            Some(r) => format!(", {r}"),
            None => format!(", {}", self.country),
        }
    }
}

/// Finds a party by id, or by name (ignoring case, punctuation and legal forms). An ambiguous name is an
/// error listing the candidates.
/// The shipment a query names, by its id.
pub fn find_shipment(ds: &Dataset, id: &str) -> Result<ShipmentId, QueryError> {
    ds.shipment_by_id(id)
        .ok_or_else(|| QueryError::UnknownShipment(id.to_string()))
}

pub fn resolve_party(ds: &Dataset, query: &str) -> Result<PartyId, QueryError> {
    if let Some(p) = ds.party_by_id(query) {
        return Ok(p);
    }
    // An identifier, `scheme:value` or the bare value (`uscc:9141…` or `9141…`), matched exactly (the scheme
    // without regard to case).
    let q = query.trim();
    let by_id: Vec<PartyId> = ds
        .parties
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.identifiers.iter().any(|id| {
                let (scheme, value) = id.split_once(':').unwrap_or(("", id));
                match q.split_once(':') {
                    Some((qs, qv)) => qs.eq_ignore_ascii_case(scheme) && qv.trim() == value,
                    None => !q.is_empty() && q == value,
                }
            })
        })
        .map(|(i, _)| PartyId::from_index(i))
        .collect();
    // Several parties sharing an identifier are listed as candidates, like an ambiguous name.
    let norm = crate::data::names::normalize(query);
    let mut found: Vec<PartyId> = by_id;
    if found.is_empty() && !norm.is_empty() {
        for (i, p) in ds.parties.iter().enumerate() {
            let names = std::iter::once(&p.name).chain(p.aliases.iter());
            if names
                .into_iter()
                .any(|n| crate::data::names::normalize(n) == norm)
            {
                found.push(PartyId::from_index(i));
            }
        }
    }
    if found.is_empty() && !norm.is_empty() {
        // A part of a name: every query word must be in the name.
        let words: Vec<String> = crate::data::names::tokens(query);
        for (i, p) in ds.parties.iter().enumerate() {
            let names = std::iter::once(&p.name).chain(p.aliases.iter());
            if names.into_iter().any(|n| {
                let t = crate::data::names::tokens(n);
                words.iter().all(|w| t.contains(w))
            }) {
                found.push(PartyId::from_index(i));
            }
        }
    }
    match found.len() {
        1 => Ok(found[0]),
        0 => Err(QueryError::UnknownParty(
            query.to_string(),
            " (not a party_id, name or alias in the data)".into(),
        )),
        n => {
            let candidates = found
                .iter()
                .map(|&p| {
                    let party = ds.party(p);
                    format!(
                        "  {}  {} ({}{})",
                        party.id,
                        party.name,
                        party.country,
                        party.region.map(|r| format!(", {r}")).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Err(QueryError::Ambiguous {
                name: query.to_string(),
                count: n,
                candidates,
            })
        }
    }
}
