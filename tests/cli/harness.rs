//! A small harness around the binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The path of a fixture dataset or file under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// What a run printed and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `origintrace` with `args` (no stdin, `RAYON_NUM_THREADS` left as it is).
pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::cargo_bin("origintrace")
        .expect("binary built")
        .args(args)
        .output()
        .expect("binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs and parses stdout as JSON, asserting exit 0.
pub fn run_json<I, S>(args: I) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let r = run(args);
    assert_eq!(r.code, 0, "exit code; stderr:\n{}", r.stderr);
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", r.stdout))
}

/// Asserts two floats agree within `tol`.
#[track_caller]
pub fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "expected {expected}, got {actual} (tolerance {tol})"
    );
}

/// The f64 at a JSON pointer.
#[track_caller]
pub fn num(v: &serde_json::Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(|x| x.as_f64())
        .unwrap_or_else(|| panic!("no number at {pointer} in {v}"))
}
