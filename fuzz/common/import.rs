//! Shared by the import fuzz targets: the fuzz input is written as one source file, imported into a fresh
//! directory, and whatever the import writes is loaded back as a canonical dataset.

use std::path::PathBuf;

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("origintrace-fuzz-import-{}", std::process::id()))
}

/// Imports `data` as a file named `name` in `format` (with `--period`/`--flow` for china-customs).
pub fn run(format: &str, name: &str, data: &[u8]) {
    let dir = scratch();
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let src = dir.join(name);
    if std::fs::write(&src, data).is_err() {
        return;
    }
    let out = dir.join("out");
    let (periods, flows): (Vec<String>, Vec<String>) = if format == "china-customs" {
        (vec!["2023-04".into()], vec!["import".into()])
    } else {
        (vec![], vec![])
    };
    let rate = if format == "china-customs" {
        Some("0.14")
    } else {
        None
    };
    let Ok(opts) = origintrace::import::Options::new(
        format,
        vec![src],
        out.clone(),
        &periods,
        &flows,
        rate,
        true,
        None,
        false,
    ) else {
        return;
    };
    let mut log = Vec::new();
    if origintrace::import::run(&opts, &mut log).is_ok() && out.is_dir() {
        // What an import writes must load as a canonical dataset (parties it names included).
        let ds = origintrace::dataset::load(&[origintrace::dataset::DataSource::Dir(out)]);
        if let Ok(ds) = ds {
            for r in &ds.stats {
                assert_eq!(r.read, r.accepted + r.rejected, "accounting");
            }
        }
    }
}
