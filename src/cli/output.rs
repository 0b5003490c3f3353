//! Where a command's output goes: atomically to `-o FILE`, else to stdout, where a closed pipe is not an
//! error (what was not written was not wanted). A CSV report written to a file also gets its settings beside
//! it.

use anyhow::{Context as _, Result};
use origintrace::session::Session;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes the output whole: atomically to `output`, else to stdout.
pub fn emit(output: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match output {
        Some(path) => origintrace::util::output::write_atomic(path, bytes)
            .with_context(|| format!("{}: cannot write", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("cannot write to stdout"),
            }
        }
    }
}

/// Streams what `f` writes to `output` (atomically) or stdout. `None` when stdout was closed early.
pub fn emit_with<T>(
    output: Option<&Path>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> Result<Option<T>> {
    match output {
        Some(path) => origintrace::util::output::write_atomic_with(path, f)
            .map(Some)
            .with_context(|| format!("{}: cannot write", path.display())),
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            match f(&mut out).and_then(|v| out.flush().map(|_| v)) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(None),
                r => r.map(Some).context("cannot write to stdout"),
            }
        }
    }
}

/// Where the settings of a CSV report written to `out` are recorded: `OUT.settings.json` beside it, so
/// the CSV stays a plain table that any reader parses (docs/security.md). On stdout nothing is added.
pub fn settings_sidecar(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".settings.json");
    PathBuf::from(name)
}

/// Writes the settings of the CSV report `out` to its sidecar, once the report itself is written.
pub fn write_sidecar(out: &Path, session: &Session) -> Result<()> {
    let side = settings_sidecar(out);
    let v = serde_json::json!({
        "tool": "origintrace",
        "version": env!("CARGO_PKG_VERSION"),
        "model_version": origintrace::MODEL_VERSION,
        "report": out.file_name().map(|n| n.to_string_lossy().into_owned()),
        "settings_sources": session.settings_sources,
        "settings": session.settings,
    });
    let mut bytes = serde_json::to_vec_pretty(&v)?;
    bytes.push(b'\n');
    origintrace::util::output::write_atomic(&side, &bytes)
        .with_context(|| format!("{}: cannot write", side.display()))
}

/// The settings in force, on one line of stderr: a dataset's own `origintrace.toml` or a `--config` can
/// change every number, so a run says which it used.
pub fn note_settings(session: &Session) {
    let line = session.settings_in_force().line();
    eprintln!(
        "origintrace: settings: {}",
        origintrace::util::text::printable(&line)
    );
}
