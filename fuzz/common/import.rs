//! Shared by the import fuzz targets: the fuzz input is written as source files (split at 0x1E), imported
//! into a fresh directory, and whatever the import writes is loaded back as a canonical dataset.

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
    // The byte 0x1E (record separator) splits the input into several source files, so that the formats read
    // as a set (AMS tables, OFAC's sdn/alt/add) are joined, not only read one file at a time.
    let mut files = Vec::new();
    for (i, part) in data.split(|&b| b == 0x1e).take(8).enumerate() {
        let src = if i == 0 {
            dir.join(name)
        } else {
            dir.join(format!("part{i}.csv"))
        };
        if std::fs::write(&src, part).is_err() {
            return;
        }
        files.push(src);
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
        files,
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
        let ds = origintrace::data::dataset::load(&[origintrace::data::dataset::DataSource::Dir(out)]);
        if let Ok(ds) = ds {
            for r in &ds.stats {
                assert_eq!(r.read, r.accepted + r.rejected, "accounting");
            }
        }
    }
}
