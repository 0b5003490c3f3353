//! origintrace: trace the origin of imported goods through customs and supplier records.
//!
//! The library holds the engine; the `origintrace` binary is a thin command-line layer over it. The modules
//! are layers, and each uses only the ones listed before it (docs/architecture.md):
//!
//! - [`util`]: hashing, phase timings, progress on a terminal, the safe output writer. Knows nothing of
//!   trade.
//! - [`data`]: codes, settings, the canonical dataset and its one schema, name normalisation, `synth`.
//! - [`import`]: real-world source files converted into the canonical dataset.
//! - [`engine`]: the attribution model of SPEC §3 (one pass in date order), pools, path search,
//!   watchlist screening, the rules that raise flags, and the scored [`engine::analysis::Analysis`].
//! - [`snapshot`]: a computed analysis saved to one file and read back.
//! - [`query`]: trace, vet, paths and check; each returns a view model and computes nothing the engine knows.
//! - [`present`]: every renderer (text, html, md, csv, json, dot, graphml, parquet) over the view models.
//! - [`session`]: opens a dataset or a snapshot with its settings: what every command starts from.

pub mod data;
pub mod engine;
pub mod import;
pub mod present;
pub mod query;
pub mod session;
pub mod snapshot;
pub mod util;

/// The model version written into reports and snapshots; bump it when a number could change.
pub const MODEL_VERSION: &str = "2";
