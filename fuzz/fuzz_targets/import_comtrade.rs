#![no_main]
//! Fuzzes the `comtrade` import: any bytes are imported or refused with a reason, never a panic.

#[path = "../common/import.rs"]
mod import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    import::run("comtrade", "source.csv", data);
});
