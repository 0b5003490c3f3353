#![no_main]
//! Fuzzes snapshot loading: a damaged or foreign snapshot is an error, never a panic.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = origintrace::snapshot::Snapshot::from_bytes("fuzz.snap", data);
});
