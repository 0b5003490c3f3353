//! `export --format parquet -o DIR` (cargo feature `parquet`): the canonical tables and every shipment's
//! computed mix as Parquet files, so the data can leave this tool for DuckDB, Polars, Spark or any other SQL
//! engine without losing a cent (docs/parquet.md).
//!
//! One file per canonical table (`parties`, `shipments`, `trade_flows`, `supplier_links`, `watchlist`,
//! `rates`), with the canonical CSV column names (SPEC §2) plus the record id (`record`, `DATASET/FILE:LINE`)
//! and the converted `value_usd` where there is one, and `mixes.parquet`: one row per shipment with the
//! report's share columns and `reachable`.
//!
//! Why it is written the way it is:
//! - **Money is DECIMAL(38, s)**, never a float: `s` is the largest scale any value of that column needs, so
//!   every value is stored exactly; a value that would need more than 38 digits at that scale is refused with
//!   an error naming the file, column and row (it cannot happen with amounts the loader accepts, up to 10^15,
//!   unless a value carries more than 22 decimals). Nothing is rounded.
//! - **Dates are DATE**, periods (`YYYY-MM` or `YYYY`) and codes are strings, as in the CSV files.
//! - **Deterministic bytes**: rows in dataset order, a fixed `created_by`, no timestamps, no per-run metadata;
//!   the same input and settings always give byte-identical files (a pipeline can hash them).
//! - **Atomic**: every file goes to a temporary name in DIR first and is renamed only once all seven are
//!   complete, so an error never leaves a half-written or half-updated set behind.
//! - The low-level column writer of the `parquet` crate (no arrow) keeps the feature's compile time small.

use crate::data::codes::Date;
use crate::data::dataset::{Dataset, LinkSupplier, PartyId, ShipmentId};
use crate::engine::analysis::Analysis;
use crate::engine::model::Grade;
use crate::engine::model::Mix;
use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::{ByteArray, FixedLenByteArray};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// The files written, in the order they are written.
pub const FILES: [&str; 7] = [
    "parties.parquet",
    "shipments.parquet",
    "trade_flows.parquet",
    "supplier_links.parquet",
    "watchlist.parquet",
    "rates.parquet",
    "mixes.parquet",
];

/// Rows per row group: large enough for column statistics and compression to pay, small enough that a
/// reader can split a large table across workers (Spark, DuckDB's parallel scan).
const ROW_GROUP: usize = 1 << 20;

/// The decimal precision of every money column: the widest a 16-byte DECIMAL holds, and what DuckDB, Polars
/// and Spark all read.
pub const PRECISION: u32 = 38;

/// Everything that stops a Parquet export, each naming the file or directory concerned.
#[derive(Debug, Error)]
pub enum ParquetExportError {
    #[error("{dir}: cannot create the output directory: {source}")]
    Dir { dir: String, source: std::io::Error },
    #[error("{file}: cannot write: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: cannot encode Parquet: {source}")]
    Encode {
        file: String,
        source: parquet::errors::ParquetError,
    },
    #[error(
        "{file}: column {column}, row {row}: {value} does not fit DECIMAL({PRECISION}, {scale}) exactly (the scale is the largest any value of the column needs); nothing was written"
    )]
    Decimal {
        file: String,
        column: &'static str,
        row: usize,
        value: String,
        scale: u32,
    },
    #[error("{file}: column {column}, row {row}: a required value is missing")]
    Missing {
        file: String,
        column: &'static str,
        row: usize,
    },
}

type Getter<'a, T> = Box<dyn Fn(usize) -> Option<T> + 'a>;

/// How one column reads its value for row `i`; the variant decides the Parquet type.
enum Get<'a> {
    Str(Getter<'a, Cow<'a, str>>),
    Date(Getter<'a, Date>),
    Dec(Getter<'a, Decimal>),
    F64(Getter<'a, f64>),
    Bool(Getter<'a, bool>),
}

struct Col<'a> {
    name: &'static str,
    /// Required (`NOT NULL` for a reader) where the canonical file requires the column.
    required: bool,
    get: Get<'a>,
}

fn col<'a>(name: &'static str, required: bool, get: Get<'a>) -> Col<'a> {
    Col {
        name,
        required,
        get,
    }
}

fn text<'a>(f: impl Fn(usize) -> Option<Cow<'a, str>> + 'a) -> Get<'a> {
    Get::Str(Box::new(f))
}

fn date<'a>(f: impl Fn(usize) -> Option<Date> + 'a) -> Get<'a> {
    Get::Date(Box::new(f))
}

fn dec<'a>(f: impl Fn(usize) -> Option<Decimal> + 'a) -> Get<'a> {
    Get::Dec(Box::new(f))
}

fn num<'a>(f: impl Fn(usize) -> Option<f64> + 'a) -> Get<'a> {
    Get::F64(Box::new(f))
}

fn flag<'a>(f: impl Fn(usize) -> Option<bool> + 'a) -> Get<'a> {
    Get::Bool(Box::new(f))
}

/// A borrowed string, `None` when empty (an empty CSV cell is a missing value).
fn some(s: &str) -> Option<Cow<'_, str>> {
    (!s.is_empty()).then_some(Cow::Borrowed(s))
}

fn owned<'a>(s: String) -> Option<Cow<'a, str>> {
    (!s.is_empty()).then_some(Cow::Owned(s))
}

fn joined<'a>(v: &[String]) -> Option<Cow<'a, str>> {
    owned(v.join(";"))
}

fn currency(c: &[u8; 3]) -> Option<Cow<'_, str>> {
    std::str::from_utf8(c).ok().map(Cow::Borrowed)
}

/// One table: its file name, its row count and its columns.
struct Table<'a> {
    file: &'static str,
    rows: usize,
    cols: Vec<Col<'a>>,
    meta: Vec<KeyValue>,
}

fn parties(ds: &Dataset) -> Table<'_> {
    let p = |i: usize| &ds.parties[i];
    Table {
        file: "parties.parquet",
        rows: ds.parties.len(),
        cols: vec![
            col("party_id", true, text(move |i| some(&p(i).id))),
            col("name", true, text(move |i| some(&p(i).name))),
            col("country", true, text(move |i| some(p(i).country.as_str()))),
            col(
                "region",
                false,
                text(move |i| p(i).region.map(|r| Cow::Owned(r.to_string()))),
            ),
            col(
                "city",
                false,
                text(move |i| p(i).city.as_deref().and_then(some)),
            ),
            col("aliases", false, text(move |i| joined(&p(i).aliases))),
            col(
                "identifiers",
                false,
                text(move |i| joined(&p(i).identifiers)),
            ),
            col("record", true, text(move |i| owned(ds.rec_id(p(i).rec)))),
        ],
        meta: Vec::new(),
    }
}

fn shipments(ds: &Dataset) -> Table<'_> {
    let s = |i: usize| &ds.shipments[i];
    let party = |p: PartyId| some(&ds.party(p).id);
    Table {
        file: "shipments.parquet",
        rows: ds.shipments.len(),
        cols: vec![
            col(
                "shipment_id",
                true,
                text(move |i| some(ds.text.get(s(i).id))),
            ),
            col("date", true, date(move |i| Some(s(i).date))),
            col("shipper", true, text(move |i| party(s(i).shipper))),
            col("consignee", true, text(move |i| party(s(i).consignee))),
            col("hs_code", true, text(move |i| owned(s(i).hs.to_string()))),
            col("value", true, dec(move |i| Some(s(i).value))),
            col("currency", true, text(move |i| currency(&s(i).currency))),
            col("quantity", false, dec(move |i| s(i).quantity)),
            col("unit", false, text(move |i| some(ds.text.get(s(i).unit)))),
            col("weight_kg", false, dec(move |i| s(i).weight_kg)),
            col(
                "origin_country",
                false,
                text(move |i| s(i).origin.map(|c| Cow::Owned(c.to_string()))),
            ),
            col(
                "description",
                false,
                text(move |i| some(ds.text.get(s(i).description))),
            ),
            col(
                "port_lading",
                false,
                text(move |i| some(ds.text.get(s(i).port_lading))),
            ),
            col(
                "port_unlading",
                false,
                text(move |i| some(ds.text.get(s(i).port_unlading))),
            ),
            col("value_usd", true, dec(move |i| Some(s(i).value_usd))),
            col("record", true, text(move |i| owned(ds.rec_id(s(i).rec)))),
        ],
        meta: Vec::new(),
    }
}

fn trade_flows(ds: &Dataset) -> Table<'_> {
    let f = |i: usize| &ds.flows[i];
    Table {
        file: "trade_flows.parquet",
        rows: ds.flows.len(),
        cols: vec![
            col("flow_id", true, text(move |i| some(ds.flow_id(f(i))))),
            col(
                "period",
                true,
                text(move |i| owned(f(i).period.to_string())),
            ),
            col(
                "reporter",
                true,
                text(move |i| some(f(i).reporter.as_str())),
            ),
            col(
                "region",
                false,
                text(move |i| f(i).region.map(|r| Cow::Owned(r.to_string()))),
            ),
            col("partner", true, text(move |i| some(f(i).partner.as_str()))),
            col("flow", true, text(move |i| some(f(i).flow.as_str()))),
            col("hs_code", true, text(move |i| owned(f(i).hs.to_string()))),
            col("value", true, dec(move |i| Some(f(i).value))),
            col("currency", true, text(move |i| currency(&f(i).currency))),
            col("quantity", false, dec(move |i| f(i).quantity)),
            col("unit", false, text(move |i| some(ds.text.get(f(i).unit)))),
            col(
                "regime",
                false,
                text(move |i| some(ds.text.get(f(i).regime))),
            ),
            col("value_usd", true, dec(move |i| Some(f(i).value_usd))),
            col("superseded", true, flag(move |i| Some(f(i).superseded))),
            col("record", true, text(move |i| owned(ds.rec_id(f(i).rec)))),
        ],
        meta: Vec::new(),
    }
}

fn supplier_links(ds: &Dataset) -> Table<'_> {
    let l = |i: usize| &ds.links[i];
    Table {
        file: "supplier_links.parquet",
        rows: ds.links.len(),
        cols: vec![
            col("link_id", true, text(move |i| some(&l(i).id))),
            col("buyer", true, text(move |i| some(&ds.party(l(i).buyer).id))),
            col(
                "supplier",
                true,
                text(move |i| match l(i).supplier {
                    LinkSupplier::Party(q) => some(&ds.party(q).id),
                    LinkSupplier::Country(c) => owned(format!("country:{c}")),
                }),
            ),
            col("hs_code", true, text(move |i| owned(l(i).hs.to_string()))),
            // A share is a fraction, not money: the loader keeps it as a double, and so does the file.
            col("share", true, num(move |i| Some(l(i).share))),
            col("valid_from", false, date(move |i| l(i).valid_from)),
            col("valid_to", false, date(move |i| l(i).valid_to)),
            col(
                "source",
                false,
                text(move |i| l(i).source.as_deref().and_then(some)),
            ),
            col("record", true, text(move |i| owned(ds.rec_id(l(i).rec)))),
        ],
        meta: Vec::new(),
    }
}

fn watchlist(ds: &Dataset) -> Table<'_> {
    let w = |i: usize| &ds.watchlist[i];
    Table {
        file: "watchlist.parquet",
        rows: ds.watchlist.len(),
        cols: vec![
            col("entry_id", true, text(move |i| some(&w(i).id))),
            col("name", true, text(move |i| some(&w(i).name))),
            col("aliases", false, text(move |i| joined(&w(i).aliases))),
            col(
                "country",
                false,
                text(move |i| {
                    let cs = &w(i).countries;
                    (!cs.is_empty()).then(|| {
                        Cow::Owned(
                            cs.iter()
                                .map(|c| c.to_string())
                                .collect::<Vec<_>>()
                                .join(";"),
                        )
                    })
                }),
            ),
            col(
                "program",
                false,
                text(move |i| w(i).program.as_deref().and_then(some)),
            ),
            col(
                "identifiers",
                false,
                text(move |i| joined(&w(i).identifiers)),
            ),
            col(
                "source",
                false,
                text(move |i| w(i).source.as_deref().and_then(some)),
            ),
            col("record", true, text(move |i| owned(ds.rec_id(w(i).rec)))),
        ],
        meta: Vec::new(),
    }
}

fn rates(ds: &Dataset) -> Table<'_> {
    let r = |i: usize| &ds.rates[i];
    Table {
        file: "rates.parquet",
        rows: ds.rates.len(),
        cols: vec![
            col("currency", true, text(move |i| currency(&r(i).0))),
            col("period", true, text(move |i| owned(r(i).1.to_string()))),
            col("usd_per_unit", true, dec(move |i| Some(r(i).2))),
        ],
        meta: Vec::new(),
    }
}

/// Every shipment's mix as the report prints it: the mix of its output, or — for a shipment that itself
/// declares a sanctioned origin — sanctioned 1, documented. It is taken from
/// [`Analysis::score_for_counts`] (only the outcome is read) so the file can never disagree with `report` or
/// `trace`.
fn shipment_mixes(a: &Analysis) -> Vec<(Mix, bool)> {
    (0..a.ds().shipments.len() as u32)
        .into_par_iter()
        .map(|i| {
            let o = a.score_for_counts(ShipmentId::new(i)).outcome;
            (o.mix, o.reachable)
        })
        .collect()
}

fn mixes<'a>(a: &Analysis<'a>, m: &'a [(Mix, bool)]) -> Table<'a> {
    let ds = a.ds();
    let x = |i: usize| m.get(i).map(|p| &p.0);
    let settings = serde_json::to_string(a.st()).unwrap_or_default();
    Table {
        file: "mixes.parquet",
        rows: m.len(),
        cols: vec![
            col(
                "shipment_id",
                true,
                text(move |i| ds.shipments.get(i).and_then(|s| some(ds.text.get(s.id)))),
            ),
            col("sanctioned", true, num(move |i| x(i).map(Mix::sanctioned))),
            col("clean", true, num(move |i| x(i).map(Mix::clean))),
            col("unknown", true, num(move |i| x(i).map(|m| m.u))),
            col(
                "documented",
                true,
                num(move |i| x(i).map(|m| m.sanctioned_by(Grade::Documented))),
            ),
            col(
                "declared",
                true,
                num(move |i| x(i).map(|m| m.sanctioned_by(Grade::Declared))),
            ),
            col(
                "statistical",
                true,
                num(move |i| x(i).map(|m| m.sanctioned_by(Grade::Statistical))),
            ),
            col("coverage", true, num(move |i| x(i).map(Mix::coverage))),
            col("reachable", true, flag(move |i| m.get(i).map(|p| p.1))),
        ],
        // What the mixes were computed with, so a file found later can be reproduced.
        meta: vec![
            KeyValue::new(
                "origintrace.model_version".into(),
                crate::MODEL_VERSION.to_string(),
            ),
            KeyValue::new("origintrace.settings".into(), settings),
        ],
    }
}

/// The physical and logical type of a column.
fn field(c: &Col, scale: u32) -> Result<Arc<Type>, parquet::errors::ParquetError> {
    let rep = if c.required {
        Repetition::REQUIRED
    } else {
        Repetition::OPTIONAL
    };
    let b = match &c.get {
        Get::Str(_) => Type::primitive_type_builder(c.name, Physical::BYTE_ARRAY)
            .with_logical_type(Some(LogicalType::String)),
        Get::Date(_) => Type::primitive_type_builder(c.name, Physical::INT32)
            .with_logical_type(Some(LogicalType::Date)),
        Get::Dec(_) => Type::primitive_type_builder(c.name, Physical::FIXED_LEN_BYTE_ARRAY)
            .with_length(16)
            .with_logical_type(Some(LogicalType::decimal(scale as i32, PRECISION as i32)))
            .with_precision(PRECISION as i32)
            .with_scale(scale as i32),
        Get::F64(_) => Type::primitive_type_builder(c.name, Physical::DOUBLE),
        Get::Bool(_) => Type::primitive_type_builder(c.name, Physical::BOOLEAN),
    };
    Ok(Arc::new(b.with_repetition(rep).build()?))
}

/// The smallest scale that holds every value of a decimal column exactly (0 for other columns).
fn scale_of(c: &Col, rows: usize) -> u32 {
    match &c.get {
        Get::Dec(f) => (0..rows)
            .filter_map(|i| f(i).map(|d| d.normalize().scale()))
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

/// `d` as an unscaled 128-bit integer at `scale`, when it fits [`PRECISION`] digits exactly.
fn unscaled(d: Decimal, scale: u32) -> Option<i128> {
    let d = d.normalize();
    let up = scale.checked_sub(d.scale())?;
    let x = d.mantissa().checked_mul(10i128.checked_pow(up)?)?;
    (x.unsigned_abs() < 10u128.pow(PRECISION)).then_some(x)
}

/// The writer settings: Snappy (read everywhere), and a fixed `created_by` so the bytes never depend on the
/// version of the parquet crate that wrote them.
fn properties(meta: Vec<KeyValue>) -> WriterProperties {
    WriterProperties::builder()
        .set_created_by(format!("origintrace {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_key_value_metadata((!meta.is_empty()).then_some(meta))
        .build()
}

/// Values and definition levels of one column for rows `lo..hi` (a level 1 for a present value, 0 for a
/// missing one; a required column has none).
fn levels<T>(
    get: &Getter<'_, T>,
    c: &Col,
    file: &str,
    lo: usize,
    hi: usize,
) -> Result<(Vec<T>, Vec<i16>), ParquetExportError> {
    let mut values = Vec::with_capacity(hi - lo);
    let mut defs = Vec::with_capacity(if c.required { 0 } else { hi - lo });
    for i in lo..hi {
        match get(i) {
            Some(v) => {
                values.push(v);
                if !c.required {
                    defs.push(1);
                }
            }
            None if c.required => {
                return Err(ParquetExportError::Missing {
                    file: file.to_string(),
                    column: c.name,
                    row: i + 1,
                });
            }
            None => defs.push(0),
        }
    }
    Ok((values, defs))
}

/// Writes one table to `out`.
fn write_table<W: Write + Send>(t: &Table, out: W, file: &str) -> Result<(), ParquetExportError> {
    let enc = |source| ParquetExportError::Encode {
        file: file.to_string(),
        source,
    };
    let scales: Vec<u32> = t.cols.iter().map(|c| scale_of(c, t.rows)).collect();
    let fields = t
        .cols
        .iter()
        .zip(&scales)
        .map(|(c, s)| field(c, *s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(enc)?;
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()
        .map_err(enc)?;
    let props = properties(t.meta.clone());
    let mut w = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(props)).map_err(enc)?;
    let mut lo = 0;
    while lo < t.rows {
        let hi = (lo + ROW_GROUP).min(t.rows);
        let mut rg = w.next_row_group().map_err(enc)?;
        for (c, &scale) in t.cols.iter().zip(&scales) {
            let Some(mut cw) = rg.next_column().map_err(enc)? else {
                break;
            };
            let written = match (&c.get, cw.untyped()) {
                (Get::Str(g), ColumnWriter::ByteArrayColumnWriter(cw)) => {
                    let (v, d) = levels(g, c, file, lo, hi)?;
                    let v: Vec<ByteArray> = v
                        .into_iter()
                        .map(|s| ByteArray::from(s.into_owned().into_bytes()))
                        .collect();
                    cw.write_batch(&v, defs(c, &d), None)
                }
                (Get::Date(g), ColumnWriter::Int32ColumnWriter(cw)) => {
                    let (v, d) = levels(g, c, file, lo, hi)?;
                    let v: Vec<i32> = v.into_iter().map(|x| x.0).collect();
                    cw.write_batch(&v, defs(c, &d), None)
                }
                (Get::Dec(g), ColumnWriter::FixedLenByteArrayColumnWriter(cw)) => {
                    let (v, d) = levels(g, c, file, lo, hi)?;
                    let mut fixed = Vec::with_capacity(v.len());
                    // The row numbers in an error count present values only in a nullable column; find the
                    // real row again for the message.
                    for (k, x) in v.into_iter().enumerate() {
                        let Some(u) = unscaled(x, scale) else {
                            let row = row_of_value(&d, k).map_or(lo + k, |r| lo + r);
                            return Err(ParquetExportError::Decimal {
                                file: file.to_string(),
                                column: c.name,
                                row: row + 1,
                                value: x.to_string(),
                                scale,
                            });
                        };
                        fixed.push(FixedLenByteArray::from(u.to_be_bytes().to_vec()));
                    }
                    cw.write_batch(&fixed, defs(c, &d), None)
                }
                (Get::F64(g), ColumnWriter::DoubleColumnWriter(cw)) => {
                    let (v, d) = levels(g, c, file, lo, hi)?;
                    cw.write_batch(&v, defs(c, &d), None)
                }
                (Get::Bool(g), ColumnWriter::BoolColumnWriter(cw)) => {
                    let (v, d) = levels(g, c, file, lo, hi)?;
                    cw.write_batch(&v, defs(c, &d), None)
                }
                _ => Err(parquet::errors::ParquetError::General(format!(
                    "column {}: the writer's type does not match the schema",
                    c.name
                ))),
            };
            written.map_err(enc)?;
            cw.close().map_err(enc)?;
        }
        rg.close().map_err(enc)?;
        lo = hi;
    }
    w.close().map_err(enc)?;
    Ok(())
}

/// The definition levels to pass to the writer: none for a required column.
fn defs<'d>(c: &Col, d: &'d [i16]) -> Option<&'d [i16]> {
    (!c.required).then_some(d)
}

/// The row (within the chunk) of the `k`-th present value of a nullable column.
fn row_of_value(defs: &[i16], k: usize) -> Option<usize> {
    defs.iter()
        .enumerate()
        .filter(|(_, d)| **d == 1)
        .nth(k)
        .map(|(r, _)| r)
}

/// What [`write_dir`] wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// (file path, rows) per file, in [`FILES`] order.
    pub files: Vec<(PathBuf, usize)>,
}

/// Writes the seven Parquet files into `dir` (created when missing). Every file is written under a temporary
/// name first; only when all are complete are they renamed into place, so an error leaves DIR as it was.
pub fn write_dir(a: &Analysis, dir: &Path) -> Result<Written, ParquetExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ParquetExportError::Dir {
        dir: dir.display().to_string(),
        source,
    })?;
    let ds = a.ds();
    let m = shipment_mixes(a);
    let tables = [
        parties(ds),
        shipments(ds),
        trade_flows(ds),
        supplier_links(ds),
        watchlist(ds),
        rates(ds),
        mixes(a, &m),
    ];
    let mut temps: Vec<(PathBuf, PathBuf, usize)> = Vec::new();
    let result = (|| {
        for t in &tables {
            let path = dir.join(t.file);
            let tmp = dir.join(format!(".{}.tmp-{}", t.file, std::process::id()));
            temps.push((tmp.clone(), path.clone(), t.rows));
            let shown = path.display().to_string();
            let io = |source| ParquetExportError::Io {
                file: shown.clone(),
                source,
            };
            let f = std::fs::File::create(&tmp).map_err(io)?;
            let mut buf = std::io::BufWriter::new(f);
            write_table(t, &mut buf, &shown)?;
            let f = buf.into_inner().map_err(|e| io(e.into_error()))?;
            f.sync_all().map_err(io)?;
        }
        for (tmp, path, _) in &temps {
            std::fs::rename(tmp, path).map_err(|source| ParquetExportError::Io {
                file: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _, _) in &temps {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    Ok(Written {
        files: temps.into_iter().map(|(_, p, n)| (p, n)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimals_are_exact_or_refused() {
        let d = |s: &str| Decimal::from_str(s).unwrap_or_default();
        assert_eq!(unscaled(d("11220000"), 2), Some(1_122_000_000));
        assert_eq!(unscaled(d("0.1384615384615"), 13), Some(1_384_615_384_615));
        assert_eq!(unscaled(d("2.50"), 1), Some(25));
        // More decimals than the column's scale: refused, never rounded.
        assert_eq!(unscaled(d("0.125"), 2), None);
        // 38 digits is the limit.
        assert_eq!(unscaled(d("1000000000000000"), 22), Some(10i128.pow(37)));
        assert_eq!(unscaled(d("1000000000000000"), 23), None);
    }

    #[test]
    fn rows_of_values_skip_nulls() {
        assert_eq!(row_of_value(&[0, 1, 0, 1], 1), Some(3));
        assert_eq!(row_of_value(&[1], 0), Some(0));
        assert_eq!(row_of_value(&[0], 0), None);
    }
}
