#![no_main]
//! Fuzzes supplier_links.csv through the loader and the whole pipeline.

#[path = "../common/mod.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::run_with("supplier_links.csv", data);
});
