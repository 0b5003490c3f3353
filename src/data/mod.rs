//! The data layer: codes (countries, regions, HS, dates), settings, the canonical dataset with its strict
//! loader, and the synthetic generator. Uses only [`crate::util`].

pub mod codes;
pub mod dataset;
pub(crate) mod names;
pub mod settings;
pub mod synth;
