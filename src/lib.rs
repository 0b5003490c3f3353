//! origintrace: trace the origin of imported goods through customs and supplier records.
//!
//! The library holds the engine; the `origintrace` binary is a thin command-line layer over it.
//! Read in this order: [`dataset`] (the canonical files and their strict loader), [`settings`],
//! [`model`] (the attribution model of SPEC §3, one pass in date order), [`pool`] (statistics pools),
//! [`paths`] (path search), [`flags`], [`screening`] (watchlist matching), [`analysis`] (a scored run),
//! [`query`] (trace, vet, paths), [`report`] (batch exporters), [`snapshot`].

pub mod analysis;
pub mod check;
pub mod codes;
pub mod dataset;
pub mod export;
pub mod flags;
pub mod fxhash;
pub mod import;
pub mod model;
pub mod output;
pub mod paths;
pub mod pool;
pub mod query;
pub mod screening;
pub mod session;
pub mod settings;

/// The model version written into reports and snapshots; bump it when a number could change.
pub const MODEL_VERSION: &str = "2";
pub mod report;
pub mod snapshot;
pub mod synth;
pub mod timing;
pub mod toppath;
