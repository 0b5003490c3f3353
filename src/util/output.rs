//! Writing results: to stdout, or to a file replaced atomically, so an error, a full disk or a `kill -9`
//! never leaves a half-written report where the report was.
//!
//! A regular file (or a missing one) is written to a temporary file beside it and renamed over it. The
//! temporary file has an unpredictable name and is opened with `O_EXCL | O_NOFOLLOW`, so a link planted in
//! the directory cannot redirect the write; it is fsynced before the rename, and the directory after it. A
//! symbolic link as target has the file it points to replaced, never the link itself; the target's mode
//! (and, where the process may, its owner) is kept. A device, a FIFO or a socket is not a file to replace:
//! it is written through (`-o /dev/null` stays a device). The temporary files of a run that was killed are
//! named `.NAME.PID.RANDOM.origintrace-tmp`, and the next write into that directory removes those whose
//! process is gone.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The suffix that marks a temporary file of this tool.
pub const TMP_SUFFIX: &str = ".origintrace-tmp";

/// How many symbolic links are followed to reach the file a target names (Linux's own limit).
const MAX_LINKS: usize = 40;

#[derive(Debug, Error)]
pub enum OutputError {
    #[error("{output}: refusing to write over an input of this run ({input})")]
    IsInput { output: String, input: String },
    #[error("{0}: named twice as an output of this run")]
    Twice(String),
}

/// Writes `bytes` to `path` (see the module's documentation for how).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams what `f` writes to `path`, so a report of tens of millions of rows is never held in memory whole,
/// and an error still leaves the target untouched.
pub fn write_atomic_with<T>(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut out = AtomicFile::create(path)?;
    let v = f(&mut out)?;
    out.commit()?;
    Ok(v)
}

/// A file being written in place of `path` (see the module's documentation): what is written goes to the
/// temporary file, [`AtomicFile::commit`] puts it in place, and dropping it uncommitted removes it, so
/// the target is either the old file or the whole new one.
pub struct AtomicFile {
    w: std::io::BufWriter<File>,
    /// The temporary file, the target and its directory; `None` when writing through a special file.
    rename: Option<(PathBuf, PathBuf, PathBuf)>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let target = resolve_links(path)?;
        let existing = match std::fs::metadata(&target) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if let Some(m) = &existing {
            if m.is_dir() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory",
                ));
            }
            if !m.is_file() {
                // A device, FIFO or socket: opened for writing and written, never replaced by a file.
                let file = OpenOptions::new().write(true).open(&target)?;
                return Ok(AtomicFile {
                    w: std::io::BufWriter::with_capacity(1 << 20, file),
                    rename: None,
                });
            }
        }
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        remove_stale(&dir, &name);
        let (tmp, file) = create_temp(&dir, &name)?;
        let keep = (|| {
            if let Some(m) = &existing {
                // The owner first: a chown can clear the set-id bits that the chmod then restores.
                let _ = std::os::unix::fs::fchown(&file, Some(m.uid()), Some(m.gid()));
                file.set_permissions(std::fs::Permissions::from_mode(m.mode() & 0o7777))?;
            }
            Ok(())
        })();
        let out = AtomicFile {
            w: std::io::BufWriter::with_capacity(1 << 20, file),
            rename: Some((tmp, target, dir)),
        };
        // On an error `out` is dropped, which removes the temporary file.
        keep.map(|()| out)
    }

    /// Flushes, fsyncs and renames the file over its target, then fsyncs the directory.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.w.flush()?;
        if let Some((tmp, target, dir)) = self.rename.clone() {
            self.w.get_ref().sync_all()?;
            std::fs::rename(&tmp, &target)?;
            self.rename = None;
            // The rename is durable only once the directory is: without this a crash can bring the old
            // file back.
            File::open(&dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.w.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.w.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some((tmp, _, _)) = &self.rename {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// The path a chain of symbolic links ends at (which may not exist yet), each relative link taken from the
/// directory of the link that holds it.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(parent) if next.is_relative() => parent.join(next),
                    _ => next,
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "more than {MAX_LINKS} symbolic links"
    )))
}

/// A random 64-bit number: the standard library seeds its hash keys from the operating system's generator,
/// which is all an unguessable file name needs (no extra dependency).
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    h.finish()
}

/// Creates `p`, failing if anything is there already, a symbolic link included (never followed).
fn open_new(p: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        // A new target gets what the umask gives any new file; an existing one's mode replaces this
        // before a byte is written.
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(p)
}

fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!(".{name}.{pid}.{:016x}{TMP_SUFFIX}", random()));
        match open_new(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// The process id in a temporary file name of ours for target `name`, if `file` is one (also in the
/// `.NAME.tmp-PID` form of earlier versions, which nothing removed).
fn tmp_owner(file: &str, name: &str) -> Option<i32> {
    let legacy = file
        .strip_prefix('.')
        .and_then(|f| f.strip_prefix(name))
        .and_then(|f| f.strip_prefix(".tmp-"));
    if let Some(pid) = legacy {
        return pid.parse().ok();
    }
    let rest = file
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('.')?
        .strip_suffix(TMP_SUFFIX)?;
    let (pid, random) = rest.split_once('.')?;
    (random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| pid.parse().ok())
        .flatten()
}

/// Removes what killed runs left behind for target `name` in `dir`: our temporary files whose process no
/// longer exists (a live one may be another run writing the same target right now). Best effort: a file
/// that cannot be removed is left for the next run.
fn remove_stale(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file.to_str().and_then(|f| tmp_owner(f, name)) else {
            continue;
        };
        if pid <= 0 || pid as u32 == std::process::id() {
            continue;
        }
        // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The identity of an existing file (following links), to compare two names of it.
fn identity(p: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// Refuses an output that is one of the run's inputs (by identity, so another name or a link to it is caught
/// too), and two outputs that are one file: either would silently destroy data the user still needs.
pub fn refuse_inputs(outputs: &[&Path], inputs: &[PathBuf]) -> Result<(), OutputError> {
    let ins: Vec<((u64, u64), &PathBuf)> = inputs
        .iter()
        .filter_map(|p| identity(p).map(|id| (id, p)))
        .collect();
    let mut seen: Vec<(u64, u64)> = Vec::new();
    for out in outputs {
        let Some(id) = identity(out) else { continue };
        if let Some((_, input)) = ins.iter().find(|(i, _)| *i == id) {
            return Err(OutputError::IsInput {
                output: out.display().to_string(),
                input: input.display().to_string(),
            });
        }
        if seen.contains(&id) {
            return Err(OutputError::Twice(out.display().to_string()));
        }
        seen.push(id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_and_only_ours() {
        assert_eq!(
            tmp_owner(".r.csv.27151.0123456789abcdef.origintrace-tmp", "r.csv"),
            Some(27151)
        );
        assert_eq!(
            tmp_owner(".r.csv.27151.0123456789abcdef.origintrace-tmp", "q.csv"),
            None
        );
        assert_eq!(tmp_owner(".r.csv.tmp-27151", "r.csv"), Some(27151));
        assert_eq!(tmp_owner(".r.csv.tmp-27151x", "r.csv"), None);
        assert_eq!(
            tmp_owner(".r.csv.x.0123456789abcdef.origintrace-tmp", "r.csv"),
            None
        );
        assert_ne!(random(), random());
    }

    #[test]
    fn a_planted_link_at_the_temporary_name_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("ot-out-{}-{}", std::process::id(), random()));
        std::fs::create_dir(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let planted = dir.join(".r.csv.1.0123456789abcdef.origintrace-tmp");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(open_new(&planted).is_err());
        let (a, _) = create_temp(&dir, "r.csv").unwrap();
        let (b, _) = create_temp(&dir, "r.csv").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
