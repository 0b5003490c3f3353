//! The engine: the attribution model of SPEC §3 and everything that scores its answer. Uses [`crate::data`]
//! and [`crate::util`] only; every layer above asks the engine and restates none of its rules.
//!
//! Read in this order: [`model`] (the index, the lookups and the one pass in date order), [`pool`]
//! (statistics pools), [`paths`] and [`toppath`] (path search), [`chains`] (chains without weights), [`screening`] (watchlist matching),
//! [`rules`] (the flags), [`analysis`] (a scored run).

pub mod analysis;
pub(crate) mod chains;
pub mod model;
pub mod paths;
pub(crate) mod pool;
pub mod rules;
pub mod screening;
pub mod toppath;
