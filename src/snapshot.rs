//! Snapshots (`build -o FILE`): the dataset and the engine's outcomes for the settings it was built with,
//! so later commands load in milliseconds instead of re-reading CSV and recomputing.
//!
//! Layout: magic bytes, format version (u32 LE), body length (u64 LE), SHA-256 of the body, then the body
//! (postcard). A file from another format version, cut short, or altered is refused with a reason.

use crate::dataset::Dataset;
use crate::model::Outcome;
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use thiserror::Error;

pub const MAGIC: &[u8; 16] = b"ORIGINTRACE-SNAP";
/// Bump whenever the body's layout changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum SnapshotError {
    #[error(
        "{file}: not an origintrace snapshot (no magic bytes); pass a dataset directory or a file made by `origintrace build`"
    )]
    Foreign { file: String },
    #[error(
        "{file}: snapshot format version {found}, this build reads version {expected}; rebuild it with `origintrace build`"
    )]
    Version {
        file: String,
        found: u32,
        expected: u32,
    },
    #[error("{file}: damaged snapshot: {why}; rebuild it with `origintrace build`")]
    Damaged { file: String, why: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    pub tool_version: String,
    pub model_version: String,
    pub settings: Settings,
    pub dataset: Dataset,
    pub outcomes: Vec<Outcome>,
}

impl Snapshot {
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let body = postcard::to_stdvec(self).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(body.len() + 60);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&body));
        out.extend_from_slice(&body);
        Ok(out)
    }

    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let damaged = |why: &str| SnapshotError::Damaged {
            file: file.to_string(),
            why: why.to_string(),
        };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SnapshotError::Foreign {
                file: file.to_string(),
            });
        }
        let rest = &bytes[MAGIC.len()..];
        if rest.len() < 4 + 8 + 32 {
            return Err(damaged("the header is cut short"));
        }
        let version = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        if version != FORMAT_VERSION {
            return Err(SnapshotError::Version {
                file: file.to_string(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let mut len8 = [0u8; 8];
        len8.copy_from_slice(&rest[4..12]);
        let len = u64::from_le_bytes(len8);
        let hash = &rest[12..44];
        let body = &rest[44..];
        if body.len() as u64 != len {
            return Err(damaged(&format!(
                "the body has {} bytes, the header says {len}",
                body.len()
            )));
        }
        if Sha256::digest(body).as_slice() != hash {
            return Err(damaged("its checksum does not match its contents"));
        }
        let mut snap: Snapshot =
            postcard::from_bytes(body).map_err(|e| damaged(&format!("cannot decode: {e}")))?;
        if snap.dataset.files.len() != snap.dataset.stats.len() && !snap.dataset.stats.is_empty() {
            return Err(damaged("inconsistent file tables"));
        }
        snap.dataset.reindex();
        Ok(snap)
    }

    pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io {
            file: file.clone(),
            source,
        })?;
        Snapshot::from_bytes(&file, &bytes)
    }

    /// Whether a file starts with the snapshot magic (so `--data FILE` can tell snapshots from CSV files).
    pub fn is_snapshot(path: &Path) -> bool {
        use std::io::Read;
        let mut buf = [0u8; 16];
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut buf))
            .is_ok()
            && &buf == MAGIC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Snapshot {
        Snapshot {
            tool_version: "t".into(),
            model_version: "1".into(),
            settings: Settings::default(),
            dataset: Dataset::default(),
            outcomes: vec![],
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let bytes = tiny().to_bytes().unwrap();
        assert!(Snapshot::from_bytes("x", &bytes).is_ok());
        assert!(matches!(
            Snapshot::from_bytes("x", b"hello"),
            Err(SnapshotError::Foreign { .. })
        ));
        let mut v = bytes.clone();
        v[16] = 99;
        assert!(matches!(
            Snapshot::from_bytes("x", &v),
            Err(SnapshotError::Version { .. })
        ));
        let cut = &bytes[..bytes.len() - 3];
        assert!(matches!(
            Snapshot::from_bytes("x", cut),
            Err(SnapshotError::Damaged { .. })
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        assert!(matches!(
            Snapshot::from_bytes("x", &flipped),
            Err(SnapshotError::Damaged { .. })
        ));
        for n in 0..bytes.len() {
            let _ = Snapshot::from_bytes("x", &bytes[..n]);
        }
    }
}
