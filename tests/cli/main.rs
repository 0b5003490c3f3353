//! The one integration-test crate: runs the real `origintrace` binary on fixture datasets in
//! `tests/fixtures/` and checks its output, exit codes and files.

mod harness;

mod adversarial;
mod bounded;
mod examples;
mod exports;
mod hardening;
mod imports;
mod ingest;
mod layers;
mod model;
mod properties;
mod reports;
mod shuffled;
mod usage;
mod vet;
