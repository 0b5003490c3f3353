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
    // Checked before the reader is joined: a replaced FIFO leaves the reader waiting for ever.
    let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(t.is_fifo(), "the FIFO was replaced: {t:?}");
    let got = reader.join().unwrap();
    assert!(got.starts_with(b"{"), "{}", String::from_utf8_lossy(&got));
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
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
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
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("shipment_id,")
    );
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
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let live_name = live.file_name().unwrap().to_string_lossy().into_owned();
    let other_name = other.file_name().unwrap().to_string_lossy().into_owned();
    let mut want = vec![
        live_name,
        other_name,
        "r.csv".into(),
        "r.csv.settings.json".into(),
    ];
    want.sort();
    assert_eq!(names, want);
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
        vec![
            "report",
            "--data",
            s(&inp),
            "--config",
            s(&cfg),
            "-o",
            s(&cfg),
        ],
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

/// Rejections from a `--rejects` file, as (file name, line, column, reason, raw).
fn rejects(path: &Path) -> Vec<(String, u64, String, String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            let file = Path::new(&x[0])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                file,
                x[1].parse().unwrap(),
                x[2].to_string(),
                x[3].to_string(),
                x[4].to_string(),
            )
        })
        .collect()
}

#[test]
fn ambiguous_numbers_bare_quotes_and_unprintable_ids_are_rejected_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("parties.csv"),
        "party_id,name,country\nX,Maker,CN\nY,Importer,US\nA>B,Forger,CN\n\"N\u{202E}1\",Rlo,CN\n\"L\n2\",Newline,CN\n",
    )
    .unwrap();
    let tiny = format!("0.{}1", "0".repeat(60));
    let mut ship = String::from("shipment_id,date,shipper,consignee,hs_code,value\n");
    for (id, value) in [
        ("S1", "\"1.500,000\""),
        ("S2", "\"1,000.5,5\""),
        ("S3", "\"12,345.678,9\""),
        ("S4", "\"1,000.\""),
        ("S5", "+5"),
        ("S6", ".5"),
        ("S7", "-0"),
        ("S8", tiny.as_str()),
        ("S9", "1\"0"),
        ("S10", "\"1,000.25\""),
        ("=1+1", "abc"),
        ("S\u{0}N", "7"),
    ] {
        ship.push_str(&format!("{id},2023-03-01,X,Y,670420,{value}\n"));
    }
    std::fs::write(d.join("shipments.csv"), ship).unwrap();
    let rej = d.join("rejects.csv");
    let out = d.join("check.json");
    let r = run([
        "check",
        "--format",
        "json",
        "--skip-invalid",
        "--data",
        s(d),
        "--rejects",
        s(&rej),
        "-o",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = rejects(&rej);
    let want: &[(&str, u64, &str, &str)] = &[
        ("parties.csv", 4, "party_id", "contains '>'"),
        ("parties.csv", 5, "party_id", "U+202E"),
        ("parties.csv", 6, "party_id", "U+000A"),
        ("shipments.csv", 2, "value", "after the decimal point"),
        ("shipments.csv", 3, "value", "after the decimal point"),
        ("shipments.csv", 4, "value", "after the decimal point"),
        (
            "shipments.csv",
            5,
            "value",
            "no digit after the decimal point",
        ),
        ("shipments.csv", 6, "value", "no sign"),
        (
            "shipments.csv",
            7,
            "value",
            "no digit before the decimal point",
        ),
        ("shipments.csv", 8, "value", "negative"),
        ("shipments.csv", 9, "value", "61 decimal places"),
        ("shipments.csv", 10, "value", "bare '\"'"),
        ("shipments.csv", 12, "value", "not a number"),
        ("shipments.csv", 13, "shipment_id", "U+0000"),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!((g.0.as_str(), g.1, g.2.as_str()), (w.0, w.1, w.2), "{g:?}");
        assert!(g.3.contains(w.3), "{g:?} should say {}", w.3);
    }
    // A raw row that starts like a formula is text in a spreadsheet.
    let formula = &got[12].4;
    assert!(formula.starts_with("'=1+1,"), "{formula}");
    assert!(got.iter().all(|g| !g.4.starts_with('=')));
    // Every row is accounted for: S10 is the one accepted shipment, at its exact value.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let files = v["files"].as_array().unwrap();
    let ship = files
        .iter()
        .find(|f| {
            f["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("shipments.csv"))
        })
        .unwrap();
    assert_eq!(
        (
            ship["read"].as_u64(),
            ship["accepted"].as_u64(),
            ship["rejected"].as_u64()
        ),
        (Some(12), Some(1), Some(11)),
        "{v}"
    );
    assert_eq!(v["rejected"].as_u64(), Some(14), "{v}");
}

#[test]
fn dataset_files_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "TOP-SECRET-LINE\n").unwrap();
    type Make<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Make, &str)> = vec![
        (
            "shipments.csv",
            Box::new(|p| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
            "a symbolic link",
        ),
        (
            "parties.csv",
            Box::new(|p| std::os::unix::fs::symlink(dir.path().join("secret"), p).unwrap()),
            "a symbolic link",
        ),
        (
            "trade_flows.csv",
            Box::new(|p| {
                let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            }),
            "a FIFO",
        ),
        (
            "watchlist.csv",
            Box::new(|p| std::fs::create_dir(p).unwrap()),
            "a directory",
        ),
    ];
    for (name, make, kind) in cases {
        let data = tempfile::tempdir().unwrap();
        std::fs::copy(
            fixture("example_a/parties.csv"),
            data.path().join("parties.csv"),
        )
        .ok();
        let _ = std::fs::remove_file(data.path().join(name));
        make(&data.path().join(name));
        let r = run(["check", "--data", data.path().to_str().unwrap()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{name}: is {kind}, not a regular file")),
            "{name}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("TOP-SECRET"), "{}", r.stderr);
    }
}

/// Runs `origintrace` in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = assert_cmd::Command::cargo_bin("origintrace")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn snapshots_keep_input_paths_as_given_whatever_the_checkout() {
    let mut built = Vec::new();
    for depth in ["a", "a-much-longer-directory-name/nested/deeper"] {
        let (dir, inp) = copy_fixture("example_b");
        let place = dir.path().join(depth);
        std::fs::create_dir_all(&place).unwrap();
        std::fs::rename(&inp, place.join("inp")).unwrap();
        let r = run_in(&place, &["build", "--data", "inp", "-o", "b.snap"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let bytes = std::fs::read(place.join("b.snap")).unwrap();
        let abs = place.to_str().unwrap().as_bytes();
        assert!(
            !bytes.windows(abs.len()).any(|w| w == abs),
            "the snapshot holds the absolute path {}",
            place.display()
        );
        assert!(bytes.windows(16).any(|w| w == b"inp/shipments.cs"));
        built.push(bytes);
    }
    assert!(
        built[0] == built[1],
        "snapshots differ with the checkout path"
    );
}

/// Example B with a party name full of terminal escapes, NUL, and bidi overrides and isolates.
fn hostile_name_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, inp) = copy_fixture("example_b");
    let parties = std::fs::read_to_string(inp.join("parties.csv"))
        .unwrap()
        .replace(
            "Xuchang Example Hair",
            "Xu\u{1b}[31mchang\u{0}Example\u{202E}Hair\u{2066}",
        );
    std::fs::write(inp.join("parties.csv"), parties).unwrap();
    (dir, inp)
}

#[test]
fn markdown_strips_control_and_bidi_characters() {
    let (_dir, inp) = hostile_name_fixture();
    let r = run(["report", "--format", "md", "--data", s(&inp)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Xu \\[31mchang Example"), "{}", r.stdout);
    for c in ['\u{1b}', '\0', '\u{202E}', '\u{2066}'] {
        assert!(!r.stdout.contains(c), "{c:?} in the Markdown");
    }
}

/// The same hostile name through every other text output: trace, vet and paths text, and the CSV report.
#[test]
fn every_text_output_strips_control_and_bidi_characters() {
    let (_dir, inp) = hostile_name_fixture();
    let d = s(&inp);
    for args in [
        vec!["trace", "B-4", "--data", d],
        vec!["vet", "X", "--data", d],
        vec!["paths", "--from", "KP", "--to", "Y", "--data", d],
        vec!["report", "--data", d],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        // `paths` prints party ids only; the others print the name, cleaned.
        assert!(
            args[0] == "paths" || r.stdout.contains("Xu [31mchang Example"),
            "{args:?}: {}",
            r.stdout
        );
        for c in ['\u{1b}', '\0', '\u{202E}', '\u{2066}'] {
            assert!(!r.stdout.contains(c), "{c:?} in the output of {args:?}");
        }
    }
}

#[test]
fn a_pattern_name_that_could_forge_a_flag_is_a_bad_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[patterns]]\nname = \"x;watchlist-match:FAKE\"\norigins = [\"KP\"]\n",
    )
    .unwrap();
    let r = run(["report", "--config", s(&cfg)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("c.toml: patterns: pattern name \"x;watchlist-match:FAKE\""),
        "{}",
        r.stderr
    );
}

#[test]
fn datasets_whose_settings_disagree_need_config_and_the_settings_are_recorded() {
    let (dir, base) = copy_fixture("example_b");
    let evil = dir.path().join("evil");
    std::fs::create_dir(&evil).unwrap();
    std::fs::write(
        evil.join("parties.csv"),
        "party_id,name,country\nE1,Example Evil Co,CN\n",
    )
    .unwrap();
    std::fs::write(
        evil.join("origintrace.toml"),
        "sanctioned_origins = [\"AQ\"]\n",
    )
    .unwrap();
    let exposed = |args: &[&str]| {
        let mut a = vec!["report", "--format", "json"];
        a.extend(args);
        let r = run(&a);
        assert_eq!(r.code, 0, "{a:?}: {}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        (
            v["totals"]["exposed_value_usd"]
                .as_str()
                .unwrap()
                .to_string(),
            r.stderr,
        )
    };
    let (alone, note) = exposed(&["--data", s(&base)]);
    assert_ne!(alone, "0", "the fixture has exposure");
    assert!(
        note.contains("origintrace: settings: sanctioned_origins=KP "),
        "{note}"
    );
    // Disagreeing datasets: an error naming both, whichever order they come in.
    for order in [[&evil, &base], [&base, &evil]] {
        let r = run(["report", "--data", s(order[0]), "--data", s(order[1])]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let evil_file = evil.join("origintrace.toml");
        assert!(r.stderr.contains(s(&evil_file)), "{}", r.stderr);
        assert!(r.stderr.contains(s(&base)), "{}", r.stderr);
        assert!(r.stderr.contains("sanctioned_origins"), "{}", r.stderr);
        assert!(r.stderr.contains("--config"), "{}", r.stderr);
        let c = run(["check", "--data", s(order[0]), "--data", s(order[1])]);
        assert_eq!(c.code, 2, "check too: {}", c.stderr);
    }
    // --config settles them: the defaults and the config apply to all; the evil file re-scores nothing.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "lag_days = 180\n").unwrap();
    let (settled, note) = exposed(&["--data", s(&evil), "--data", s(&base), "--config", s(&cfg)]);
    assert_eq!(settled, alone);
    assert!(note.contains("sanctioned_origins=KP "), "{note}");
    assert!(note.contains("disagree"), "{note}");
    // CSV: the table stays plain on stdout and in the file; the settings go to the sidecar.
    let out = dir.path().join("r.csv");
    let args = [
        "report",
        "--data",
        s(&evil),
        "--data",
        s(&base),
        "--config",
        s(&cfg),
    ];
    let r = run(args);
    assert!(r.stdout.starts_with("shipment_id,"), "{}", r.stdout);
    let mut with_o = args.to_vec();
    with_o.extend(["-o", s(&out)]);
    let r = run(&with_o);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("shipment_id,")
    );
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.csv.settings.json")).unwrap())
            .unwrap();
    assert_eq!(
        side["settings"]["sanctioned_origins"],
        serde_json::json!(["KP"])
    );
    assert_eq!(side["settings"]["lag_days"], 180);
    assert_eq!(side["report"], "r.csv");
    // check says which settings the data would be scored under.
    let c = run(["check", "--data", s(&evil)]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert!(
        c.stdout.contains("settings         sanctioned_origins=AQ "),
        "{}",
        c.stdout
    );
    // Two datasets with the same settings agree.
    std::fs::write(
        base.join("origintrace.toml"),
        "sanctioned_origins = [\"AQ\"]\n",
    )
    .unwrap();
    let r = run(["check", "--data", s(&evil), "--data", s(&base)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn synth_refuses_an_impossible_size_before_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("synth");
    for n in ["18446744073709551615", "1000000001"] {
        let r = run(["synth", "--shipments", n, "-o", s(&out)]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            r.stderr.contains("above the limit of 1000000000"),
            "{}",
            r.stderr
        );
        assert!(!out.exists(), "a refused synth left {}", out.display());
    }
    let r = run(["synth", "--shipments", "50", "-o", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.join("shipments.csv").is_file());
}

#[test]
fn error_messages_on_stderr_cannot_act_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("parties.csv"),
        "party_id,na\u{1b}]0;owned\u{7}me\u{202E},country\nA,B,CN\n",
    )
    .unwrap();
    let r = run(["check", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("missing required column(s) name"),
        "{}",
        r.stderr
    );
    for c in ['\u{1b}', '\u{7}', '\u{202E}'] {
        assert!(!r.stderr.contains(c), "{c:?} on stderr: {}", r.stderr);
    }
}

#[test]
fn new_outputs_get_the_usual_mode_and_synth_writes_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new.csv");
    let r = run(["report", "-o", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    // What the umask gives a new file: readable by its owner at least, never executable.
    assert!(mode & 0o600 == 0o600 && mode & 0o111 == 0, "{mode:o}");
    let data = dir.path().join("synth");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("parties.csv"), "old").unwrap();
    std::fs::set_permissions(
        data.join("parties.csv"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let stale = data.join(format!(
        ".parties.csv.{}.0011223344556677.origintrace-tmp",
        dead_pid()
    ));
    std::fs::write(&stale, "partial").unwrap();
    let r = run(["synth", "--shipments", "50", "-o", s(&data)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let parties = data.join("parties.csv");
    assert!(
        std::fs::read_to_string(&parties)
            .unwrap()
            .starts_with("party_id,")
    );
    assert_eq!(
        std::fs::metadata(&parties).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(!stale.exists(), "the stale temporary file is still there");
    let tmp: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
}
