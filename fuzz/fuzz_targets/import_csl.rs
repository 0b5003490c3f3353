#![no_main]
//! Fuzzes the `csl` import: any bytes are imported or refused with a reason, never a panic.

#[path = "../common/import.rs"]
mod import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    import::run("csl", "source.csv", data);
});
