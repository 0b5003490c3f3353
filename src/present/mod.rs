//! Every renderer, behind one trait. A query builds a view model ([`crate::query`]); [`Render`] writes it in
//! one format, and each format is one unit struct implementing it for the views it can write:
//!
//! | renderer | views |
//! |---|---|
//! | [`Text`] | trace, vet, paths, check |
//! | [`Json`] | report, trace, vet, paths, check, export graph |
//! | [`Html`] | report (with its top shipments traced), trace, vet, paths |
//! | [`Markdown`] | report |
//! | [`Csv`] | report (one table) |
//! | [`Dot`], [`GraphMl`] | export graph |
//!
//! Renderers print the figures they are given and compute none: what a page needs (a window, a party's
//! name on a diagram) is in its view model. The formats of figures are in [`fmt`]. Two writers are not
//! renderers of a view model, and say why: the streamed shipments table ([`csv::stream_shipments`]) and the
//! Parquet tables (`parquet`, cargo feature `parquet`).

pub mod csv;
pub(crate) mod dot;
pub(crate) mod fmt;
pub(crate) mod graphml;
pub(crate) mod html;
pub mod json;
pub(crate) mod markdown;
#[cfg(feature = "parquet")]
pub mod parquet;
pub(crate) mod text;

pub use self::csv::{Csv, Table};
pub use dot::Dot;
pub use graphml::GraphMl;
pub use html::Html;
pub use json::Json;
pub use markdown::Markdown;
pub use text::Text;

use thiserror::Error;

/// Why a view could not be written.
#[derive(Debug, Error)]
pub enum PresentError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Csv(#[from] ::csv::Error),
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// A format a view model of type `V` can be written in.
pub trait Render<V: ?Sized> {
    /// Writes `view` to `out`.
    fn render(&self, view: &V, out: &mut dyn std::io::Write) -> Result<(), PresentError>;

    /// The bytes [`Render::render`] writes, for an output written whole (atomically to a file, or to stdout).
    fn to_bytes(&self, view: &V) -> Result<Vec<u8>, PresentError> {
        let mut out = Vec::new();
        self.render(view, &mut out)?;
        Ok(out)
    }
}

/// Every `--format` of `export`: the graph formats, and `parquet` (tables in a directory). `parquet` is listed
/// whether or not the feature is compiled in, so a build without it can say how to get it instead of calling
/// the format unknown.
pub const EXPORT_FORMATS: [&str; 4] = ["dot", "graphml", "json", "parquet"];

/// Whether this build can write `--format parquet` (the cargo feature `parquet`).
pub const PARQUET: bool = cfg!(feature = "parquet");

/// Why `--format parquet` is unavailable in this build, with the way to get it.
pub const NO_PARQUET: &str = "--format parquet is not compiled into this build of origintrace: rebuild with `cargo build --release --features parquet` (or `cargo install --features parquet`); see docs/parquet.md";
