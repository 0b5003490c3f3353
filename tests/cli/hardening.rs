//! Issue 14, the outputs and inputs half: outputs that never clobber what they should not, inputs parsed
//! exactly and trusted no further than a regular file in a dataset directory.

use crate::harness::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A copy of a fixture dataset in a fresh temporary directory, as `DIR/inp`.
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("inp");
    std::fs::create_dir(&inp).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), inp.join(e.file_name())).unwrap();
    }
    (dir, inp)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_fifo_is_written_through_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let r = run(["report", "--format", "json", "-o", s(&fifo)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = reader.join().unwrap();
    assert!(got.starts_with(b"{"), "{}", String::from_utf8_lossy(&got));
    let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(t.is_fifo(), "the FIFO was replaced: {t:?}");
}

#[test]
fn a_symlinked_target_has_its_file_replaced_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.csv");
    std::fs::write(&real, "old").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    let r = run(["report", "-o", s(&link)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
        "the link itself was replaced"
    );
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(text.starts_with("shipment_id,"), "{text}");
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the mode of the replaced file changed");
}

#[test]
fn an_existing_files_mode_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = run(["report", "-o", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("shipment_id,"));
}

/// The pid of a process that has ended (a child that ran and was reaped).
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn leftovers_of_a_killed_run_are_removed_by_the_next_and_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let dead = dead_pid();
    let old = dir.path().join(format!(".r.csv.tmp-{dead}"));
    let new = dir
        .path()
        .join(format!(".r.csv.{dead}.00112233aabbccdd.origintrace-tmp"));
    // This test's own process is alive: its temporary file may be a write in progress.
    let live = dir.path().join(format!(
        ".r.csv.{}.00112233aabbccdd.origintrace-tmp",
        std::process::id()
    ));
    let other = dir.path().join(format!(".q.csv.tmp-{dead}"));
    for p in [&old, &new, &live, &other] {
        std::fs::write(p, "partial").unwrap();
    }
    let out = dir.path().join("r.csv");
    let r = run(["report", "-o", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!old.exists() && !new.exists(), "stale temporary files left");
    assert!(live.exists(), "a live run's temporary file was removed");
    assert!(other.exists(), "another target's file was removed");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn outputs_that_are_inputs_are_refused() {
    let (dir, inp) = copy_fixture("example_a");
    let before: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&inp)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(inp.join("parties.csv"), &link).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "lag_days = 90\n").unwrap();
    let shipments = inp.join("shipments.csv");
    let parties = inp.join("parties.csv");
    let out = dir.path().join("out.csv");
    let cases: Vec<Vec<&str>> = vec![
        vec!["report", "--data", s(&inp), "-o", s(&shipments)],
        vec!["check", "--data", s(&inp), "--rejects", s(&parties)],
        vec!["build", "--data", s(&inp), "-o", s(&parties)],
        vec!["report", "--data", s(&inp), "-o", s(&link)],
        vec!["report", "--data", s(&inp), "--config", s(&cfg), "-o", s(&cfg)],
    ];
    for args in &cases {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("refusing to write over an input"),
            "{args:?}: {}",
            r.stderr
        );
    }
    std::fs::write(&out, "x").unwrap();
    let r = run(["report", "-o", s(&out), "--rejects", s(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("named twice"), "{}", r.stderr);
    for (p, b) in before {
        assert_eq!(std::fs::read(&p).unwrap(), b, "{} changed", p.display());
    }
    assert_eq!(std::fs::read(&cfg).unwrap(), b"lag_days = 90\n");
}
