#![no_main]
//! Fuzzes the settings file: any text is either settings or a clear error.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = origintrace::data::settings::Settings::default().overlay_str(text, "fuzz.toml");
    }
});
