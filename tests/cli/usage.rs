//! The command line as a user meets it: each command's `--help` lists only what it takes, and an option or
//! value a command does not take is a usage error (exit 2, naming the option) found before any data is read.

use crate::harness::{fixture, run};

fn help(command: &str) -> String {
    let r = run([command, "--help"]);
    assert_eq!(r.code, 0, "{command} --help: {}", r.stderr);
    r.stdout
}

/// Asserts a usage error: exit 2, and a message naming each of `words`.
#[track_caller]
fn usage_error(args: &[&str], words: &[&str]) -> String {
    let r = run(args);
    assert_eq!(
        r.code, 2,
        "{args:?}: stdout {} stderr {}",
        r.stdout, r.stderr
    );
    for w in words {
        assert!(r.stderr.contains(w), "{args:?}: no {w:?} in:\n{}", r.stderr);
    }
    r.stderr
}

#[test]
fn help_lists_only_what_the_command_takes() {
    let synth = help("synth");
    for absent in [
        "--fail-on",
        "--format",
        "--max-paths",
        "--max-hops",
        "--data",
        "--table",
    ] {
        assert!(
            !synth.contains(absent),
            "synth --help offers {absent}:\n{synth}"
        );
    }
    assert!(
        synth.contains("--shipments") && synth.contains("--seed") && synth.contains("--output")
    );
    let report = help("report");
    for present in [
        "--table",
        "--format",
        "--fail-on",
        "--max-paths",
        "--max-hops",
        "--data",
    ] {
        assert!(
            report.contains(present),
            "report --help lacks {present}:\n{report}"
        );
    }
    let build = help("build");
    for absent in ["--format", "--fail-on", "--max-paths", "--table"] {
        assert!(
            !build.contains(absent),
            "build --help offers {absent}:\n{build}"
        );
    }
    let check = help("check");
    assert!(
        !check.contains("--fail-on") && !check.contains("--max-paths"),
        "{check}"
    );
    let paths = help("paths");
    assert!(
        paths.contains("--max-hops") && !paths.contains("--max-paths"),
        "{paths}"
    );
}

#[test]
fn table_is_for_csv_only() {
    for f in ["json", "md", "html"] {
        let e = usage_error(
            &["report", "--format", f, "--table", "importers"],
            &["--table"],
        );
        assert!(e.contains(&format!("--format {f}")), "{e}");
    }
    usage_error(
        &["report", "--format", "json", "--table", "parties"],
        &["--table"],
    );
    // An unknown table lists the tables.
    usage_error(
        &["report", "--table", "parties"],
        &["--table", "shipments", "importers", "exporters"],
    );
    let r = run(["report", "--table", "importers", "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("party_id,"), "{}", r.stdout);
}

#[test]
fn options_a_command_does_not_take_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let o = out.to_str().unwrap();
    usage_error(&["build", "--format", "json", "-o", o], &["--format"]);
    assert!(!out.exists(), "build wrote {o} despite the usage error");
    usage_error(&["synth", "--fail-on", "high", "-o", o], &["--fail-on"]);
    usage_error(&["synth", "--format", "json", "-o", o], &["--format"]);
    usage_error(&["check", "--max-paths", "5"], &["--max-paths"]);
    usage_error(
        &["vet", "xuchang-silkwave", "--max-hops", "3"],
        &["--max-hops"],
    );
    usage_error(&["export", "--fail-on", "low"], &["--fail-on"]);
    usage_error(
        &["import", "csl", "x.csv", "--format", "json", "-o", o],
        &["--format"],
    );
    // The data options may come before the command, but not for a command that reads no data.
    usage_error(&["--data", o, "synth", "-o", o], &["--data", "synth"]);
    usage_error(
        &["--config", o, "import", "csl", "x.csv", "-o", o],
        &["--config", "import"],
    );
    assert!(!out.exists());
}

#[test]
fn a_missing_output_is_found_before_the_data_is_read() {
    // The data does not exist: had it been read first, the error would be about it.
    let missing = "/nonexistent/origintrace-usage-test-data";
    for args in [
        vec!["build", "--data", missing],
        vec!["--data", missing, "build"],
    ] {
        let e = usage_error(&args, &["-o"]);
        assert!(!e.contains(missing), "{args:?} read the data first:\n{e}");
    }
    let e = usage_error(&["synth", "--shipments", "10"], &["synth needs -o DIR"]);
    assert!(e.contains("Usage:"), "{e}");
    // A bad value is found before the data is read, too.
    let e = usage_error(
        &["report", "--data", missing, "--format", "xml"],
        &["--format"],
    );
    assert!(!e.contains(missing), "{e}");
}

#[test]
fn an_unknown_value_lists_the_accepted_ones() {
    usage_error(
        &["trace", "S-1", "--format", "pdf"],
        &["--format", "text", "json", "html"],
    );
    usage_error(
        &["report", "--format", "xml"],
        &["--format", "csv", "json", "md", "html"],
    );
    usage_error(
        &["check", "--format", "html"],
        &["--format", "text", "json"],
    );
    usage_error(
        &["export", "--format", "csv"],
        &["--format", "dot", "graphml", "json"],
    );
    usage_error(
        &["report", "--fail-on", "none"],
        &["--fail-on", "low", "medium", "high"],
    );
    usage_error(
        &["report", "--min-severity", "severe"],
        &["--min-severity", "low"],
    );
}

#[test]
fn formats_and_severities_ignore_case() {
    let lower = run(["check", "--format", "json"]);
    assert_eq!(lower.code, 0, "{}", lower.stderr);
    let upper = run(["check", "--format", "JSON"]);
    assert_eq!(upper.code, 0, "{}", upper.stderr);
    assert_eq!(lower.stdout, upper.stdout);
    let md = run(["report", "--format", "md"]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    let markdown = run(["report", "--format", "Markdown", "--min-severity", "MEDIUM"]);
    let md_medium = run(["report", "--format", "md", "--min-severity", "medium"]);
    assert_eq!(markdown.code, 0, "{}", markdown.stderr);
    assert_eq!(markdown.stdout, md_medium.stdout);
    // The sample raises high flags: `--fail-on High` trips as `--fail-on high` does.
    assert_eq!(
        run(["report", "--fail-on", "High", "--format", "json"]).code,
        1
    );
}

#[test]
fn data_options_before_the_command_still_apply() {
    let d = fixture("example_b").display().to_string();
    let before = run(["--data", &d, "check", "--format", "json"]);
    let after = run(["check", "--format", "json", "--data", &d]);
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert_eq!(before.stdout, after.stdout);
    let sample = run(["check", "--format", "json"]);
    assert_ne!(
        before.stdout, sample.stdout,
        "--data before the command was ignored"
    );
}

/// A shipment or party the command names and the data lacks is refused right after the load, before the
/// engine runs: on a national dataset the pass would cost a minute first (issue 17). The phase timings
/// show how far the run got.
#[test]
fn unknown_ids_are_refused_before_the_engine_runs() {
    let cases: [&[&str]; 3] = [
        &["trace", "SH-NO-SUCH"],
        &["vet", "no-such-party"],
        &["paths", "--from", "KP", "--to", "no-such-party"],
    ];
    for args in cases {
        let out = assert_cmd::Command::cargo_bin("origintrace")
            .expect("binary built")
            .args(args)
            .env("ORIGINTRACE_TIMINGS", "1")
            .output()
            .expect("binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("unknown"), "{args:?}: {stderr}");
        assert!(stderr.contains("timing: load"), "{args:?}: {stderr}");
        for later in ["timing: screening", "timing: index", "timing: engine"] {
            assert!(!stderr.contains(later), "{args:?} ran {later}:\n{stderr}");
        }
    }
}

/// Progress is for a terminal: with stderr piped (a script, CI), a report writes no bar, no spinner and no
/// carriage return there, only its settings line.
#[test]
fn no_progress_off_a_terminal() {
    let r = run(["report", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains('\r'), "{:?}", r.stderr);
    for drawn in ["attribution pass", "scoring", "reading "] {
        assert!(!r.stderr.contains(drawn), "{drawn:?} in {:?}", r.stderr);
    }
}
