//! Issue 14, item 14: the same rows in another order give byte-identical reports in every format. Sums of
//! shares are taken in a canonical order, not the order the rows came in.

use crate::harness::run;
use std::path::Path;

/// A fixed permutation of `n` items (Fisher–Yates over a xorshift stream): the same seed, the same order.
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut x = seed | 1;
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p.swap(i, (x % (i as u64 + 1)) as usize);
    }
    p
}

/// Copies the dataset `from` into `to`, the data rows of every CSV file in the order of `seed` (the
/// header stays first). The sample's fields hold no line breaks, so a row is a line.
fn shuffled_copy(from: &Path, to: &Path, seed: u64) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dataset dir") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().expect("file name");
        let text = std::fs::read_to_string(&path).expect("read dataset file");
        if path.extension().is_some_and(|e| e == "csv") {
            let mut lines = text.lines();
            let header = lines.next().expect("header");
            let rows: Vec<&str> = lines.collect();
            let mut out = format!("{header}\n");
            for i in permutation(rows.len(), seed) {
                out.push_str(rows[i]);
                out.push('\n');
            }
            std::fs::write(to.join(name), out).expect("write shuffled file");
        } else {
            std::fs::write(to.join(name), text).expect("copy file");
        }
    }
}

/// `s` with every run of 64 hex digits (an input file's SHA-256, which shuffling changes by design) made
/// `<sha256>`; nothing else is touched.
fn mask_hashes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let run = b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if run == 64 {
            out.push_str("<sha256>");
            i += run;
        } else {
            // A run of hex digits is ASCII; otherwise step over one whole character.
            let step = if run > 0 {
                run
            } else {
                s[i..].chars().next().map_or(1, char::len_utf8)
            };
            out.push_str(&s[i..i + step]);
            i += step;
        }
    }
    out
}

/// Every report output of the dataset at `dir`: each format, and each CSV table.
fn reports(dir: &Path) -> Vec<(String, String)> {
    let d = dir.to_str().expect("utf-8 path");
    let mut v = Vec::new();
    let mut cases: Vec<Vec<&str>> = ["csv", "json", "md", "html"]
        .iter()
        .map(|f| vec!["report", "--format", f])
        .collect();
    cases.push(vec!["report", "--table", "importers"]);
    cases.push(vec!["report", "--table", "exporters"]);
    for args in cases {
        let r = run(args.iter().copied().chain(["--data", d]));
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        v.push((args.join(" "), mask_hashes(&r.stdout)));
    }
    v
}

#[test]
fn reports_are_byte_identical_under_shuffled_rows() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let tmp = tempfile::tempdir().expect("tempdir");
    // One directory, rewritten for each order: reports name their input files, and the directory's name
    // is part of default row ids.
    let dir = tmp.path().join("sample");
    shuffled_copy(&sample, &dir, 0);
    let want = reports(&dir);
    for seed in [7u64, 1_000_003, 0xDEAD_BEEF] {
        shuffled_copy(&sample, &dir, seed);
        for ((what, a), (_, b)) in want.iter().zip(reports(&dir)) {
            if *a != b {
                let line = a
                    .lines()
                    .zip(b.lines())
                    .find(|(x, y)| x != y)
                    .map(|(x, y)| format!("\n  in order: {x}\n  shuffled: {y}"))
                    .unwrap_or_default();
                panic!("`{what}` differs after shuffling with seed {seed}{line}");
            }
        }
    }
}
