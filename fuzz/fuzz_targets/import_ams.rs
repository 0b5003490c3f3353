#![no_main]
//! Fuzzes the `ams` import: any bytes are imported or refused with a reason, never a panic.

#[path = "../common/import.rs"]
mod import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    import::run("ams", "ams__header_2023__202305221500.csv", data);
});
