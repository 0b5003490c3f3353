//! `origintrace import FORMAT FILES… -o DIR`: real-world source files turned into a canonical dataset
//! (SPEC §2), with the accounting of `check`: every source row is accepted, rejected with a reason
//! (`FILE:LINE: column: reason`), or — for rows that are not data (a DOS end-of-file byte, a non-total
//! statistics row that would count twice, a table the import does not use) — skipped with a reason. Per
//! file `read = accepted + rejected + skipped`.
//!
//! Any rejected row stops the import (exit 2) unless `--skip-invalid` is given; either way `--rejects FILE`
//! gets them. Nothing is half-written: every output file is written to a temporary name in DIR first and
//! renamed only when all of them are complete. Importing into a directory that already holds canonical
//! files adds rows to them: existing ids are loaded first and a duplicate id is a rejection; existing
//! parties (same normalised name and country) are reused.
//!
//! One module per format: [`china_customs`], [`comtrade`], [`ams`], [`ofac`], [`opensanctions`], [`csl`];
//! code tables in [`cn_codes`] and [`countries`]. `docs/import/*.md` describes each for users.

pub(crate) mod ams;
pub(crate) mod china_customs;
pub(crate) mod cn_codes;
pub(crate) mod comtrade;
pub(crate) mod countries;
pub(crate) mod csl;
pub(crate) mod entity;
pub(crate) mod ofac;
pub(crate) mod opensanctions;

use crate::data::codes::{self, Country, Period};
use crate::data::dataset::{DatasetError, Flow, Position, Rejection, Table};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The source formats `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    ChinaCustoms,
    Comtrade,
    Ams,
    OfacSdn,
    OpenSanctions,
    Csl,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::ChinaCustoms,
        Format::Comtrade,
        Format::Ams,
        Format::OfacSdn,
        Format::OpenSanctions,
        Format::Csl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::ChinaCustoms => "china-customs",
            Format::Comtrade => "comtrade",
            Format::Ams => "ams",
            Format::OfacSdn => "ofac-sdn",
            Format::OpenSanctions => "opensanctions",
            Format::Csl => "csl",
        }
    }

    pub fn parse(s: &str) -> Result<Format, String> {
        let k = s.trim().to_ascii_lowercase().replace('_', "-");
        Format::ALL
            .into_iter()
            .find(|f| f.name() == k)
            .or(match k.as_str() {
                "cn-customs" | "china" => Some(Format::ChinaCustoms),
                "ofac" | "sdn" => Some(Format::OfacSdn),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "unknown import format '{s}' (use one of: {})",
                    Format::ALL.map(Format::name).join(", ")
                )
            })
    }
}

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    pub files: Vec<PathBuf>,
    /// The dataset directory written to (created when missing).
    pub out: PathBuf,
    /// `--period`: none, one for every file, or one per file in order.
    pub periods: Vec<Period>,
    /// `--flow`: none, one for every file, or one per file in order.
    pub flows: Vec<Flow>,
    /// `--rate`: USD per yuan, for RMB values.
    pub rate: Option<Decimal>,
    pub skip_invalid: bool,
    pub rejects: Option<PathBuf>,
    /// `--replace`: the rows this source wrote before are replaced by the new files' (see `replace_scope`).
    pub replace: bool,
}

impl Options {
    /// Builds the options from the command line's strings, checking what does not depend on the files.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        format: &str,
        files: Vec<PathBuf>,
        out: PathBuf,
        periods: &[String],
        flows: &[String],
        rate: Option<&str>,
        skip_invalid: bool,
        rejects: Option<PathBuf>,
        replace: bool,
    ) -> Result<Options, ImportError> {
        let usage = |m: String| ImportError::Usage(m);
        let format = Format::parse(format).map_err(usage)?;
        if files.is_empty() {
            return Err(usage("import needs at least one source file".into()));
        }
        if replace && replace_scope(format).is_none() {
            return Err(usage(format!(
                "--replace applies to the lists (ofac-sdn, opensanctions, csl) and the statistics (comtrade, china-customs); {} bills are amended by their own record status",
                format.name()
            )));
        }
        if format != Format::ChinaCustoms {
            for (given, opt) in [
                (!periods.is_empty(), "--period"),
                (!flows.is_empty(), "--flow"),
                (rate.is_some(), "--rate"),
            ] {
                if given {
                    return Err(usage(format!(
                        "{opt} applies to china-customs only (the {} files say it themselves)",
                        format.name()
                    )));
                }
            }
        }
        let per_file = |n: usize, opt: &str| -> Result<(), ImportError> {
            if n > 1 && n != files.len() {
                return Err(usage(format!(
                    "{opt} is given {n} times for {} files: give it once for all files, or once per file in order",
                    files.len()
                )));
            }
            Ok(())
        };
        per_file(periods.len(), "--period")?;
        per_file(flows.len(), "--flow")?;
        let periods = periods
            .iter()
            .map(|p| {
                let per = Period::parse(p.trim()).map_err(|e| usage(format!("--period: {e}")))?;
                if per.is_year() {
                    return Err(usage(format!(
                        "--period {p}: a China customs download is monthly; give YYYY-MM"
                    )));
                }
                Ok(per)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let flows = flows
            .iter()
            .map(|f| match f.trim().to_ascii_lowercase().as_str() {
                "import" | "imports" | "m" => Ok(Flow::Import),
                "export" | "exports" | "x" => Ok(Flow::Export),
                _ => Err(usage(format!("--flow {f}: use import or export"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rate = rate
            .map(|r| {
                let v = codes::parse_amount(r).map_err(|e| usage(format!("--rate: {e}")))?;
                if v.is_zero() {
                    return Err(usage("--rate must be greater than 0".into()));
                }
                if v >= Decimal::ONE {
                    return Err(usage(format!(
                        "--rate {r}: the rate is USD per yuan (about 0.14), not yuan per USD; 1/{r} is what you mean"
                    )));
                }
                Ok(v)
            })
            .transpose()?;
        Ok(Options {
            format,
            files,
            out,
            periods,
            flows,
            rate,
            skip_invalid,
            rejects,
            replace,
        })
    }

    pub(crate) fn period_for(&self, i: usize) -> Option<Period> {
        per_file(&self.periods, i)
    }

    pub(crate) fn flow_for(&self, i: usize) -> Option<Flow> {
        per_file(&self.flows, i)
    }
}

fn per_file<T: Copy>(v: &[T], i: usize) -> Option<T> {
    match v.len() {
        0 => None,
        1 => Some(v[0]),
        _ => v.get(i).copied(),
    }
}

/// A problem that stops the import before any row is judged.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{0}")]
    Usage(String),
    /// Rejected rows (strict mode) or a failure writing the rejects file.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: cannot write: {source}")]
    Write {
        file: String,
        source: std::io::Error,
    },
    /// No source row was accepted: an import that writes nothing is a failure, not a success to miss.
    #[error(
        "no row was accepted from {files} file(s) ({rejected} rejected, {skipped} skipped): nothing written to {out}"
    )]
    NothingAccepted {
        files: usize,
        rejected: u64,
        skipped: u64,
        out: String,
    },
}

pub(crate) fn file_error(file: &str, message: impl Into<String>) -> ImportError {
    ImportError::File {
        file: file.to_string(),
        message: message.into(),
    }
}

/// The accounting of one source file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    /// What the file was read as (`trade statistics`, `AMS header table`, `sdn.csv`, …).
    pub role: String,
    pub encoding: String,
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub skipped: u64,
    /// Skip reasons with their count and first line.
    pub skips: BTreeMap<String, (u64, u64)>,
    pub notes: Vec<String>,
}

impl FileReport {
    pub(crate) fn new(src: &Source, role: impl Into<String>) -> FileReport {
        FileReport {
            file: src.display.clone(),
            role: role.into(),
            encoding: src.encoding.to_string(),
            ..Default::default()
        }
    }
}

/// What became of one row.
pub(crate) enum Verdict {
    Accept,
    Reject { column: String, reason: String },
    Skip(String),
}

pub(crate) fn reject(column: &str, reason: impl Into<String>) -> Verdict {
    Verdict::Reject {
        column: column.to_string(),
        reason: reason.into(),
    }
}

/// A rejection of a row, as `Result` error, for `?` inside row handlers.
pub(crate) struct Bad(pub String, pub String);

impl From<Bad> for Verdict {
    fn from(b: Bad) -> Verdict {
        Verdict::Reject {
            column: b.0,
            reason: b.1,
        }
    }
}

pub(crate) fn bad(column: &str, reason: impl Into<String>) -> Bad {
    Bad(column.to_string(), reason.into())
}

impl From<Result<(), Bad>> for Verdict {
    fn from(r: Result<(), Bad>) -> Verdict {
        match r {
            Ok(()) => Verdict::Accept,
            Err(b) => b.into(),
        }
    }
}

/// A source file read into memory and decoded.
pub(crate) struct Source {
    pub display: String,
    pub name: String,
    pub text: String,
    pub encoding: &'static str,
    /// The first 8 hex digits of the file's SHA-256.
    pub sha8: String,
}

/// Reads a file: UTF-8 (a BOM is removed) when it is valid UTF-8, else `fallback` (GB18030 for China
/// customs, Windows-1252 for the rest); a file that is neither is an error.
pub(crate) fn load_source(
    path: &Path,
    fallback: &'static encoding_rs::Encoding,
) -> Result<Source, ImportError> {
    use sha2::{Digest, Sha256};
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        file: display.clone(),
        source,
    })?;
    let digest = Sha256::digest(&bytes);
    let sha8: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let (text, encoding) = match std::str::from_utf8(body) {
        Ok(s) => (s.to_string(), "UTF-8"),
        Err(_) => {
            let (cow, had_errors) = fallback.decode_without_bom_handling(body);
            if had_errors {
                return Err(file_error(
                    &display,
                    format!(
                        "neither UTF-8 nor {}: cannot decode the file",
                        fallback.name()
                    ),
                ));
            }
            (cow.into_owned(), fallback.name())
        }
    };
    // CRLF and lone-CR line ends become LF: the csv crate miscounts lines after a CR, and OFAC separates
    // records by CR.
    let text = if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.clone());
    Ok(Source {
        display,
        name,
        text,
        encoding,
        sha8,
    })
}

/// A CSV reader over decoded text: no header handling (each format has its own), ragged rows allowed (they
/// are judged row by row).
pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// Reads every record with its line number.
pub(crate) fn records(src: &Source) -> Result<Vec<(u64, csv::StringRecord)>, ImportError> {
    let mut out = Vec::new();
    let mut rdr = csv_reader(&src.text);
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                out.push((line, rec.clone()));
            }
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(file_error(
                    &src.display,
                    format!("line {line}: cannot parse CSV: {e}"),
                ));
            }
        }
    }
    Ok(out)
}

/// Records read one at a time (the header-first formats stream: an OpenSanctions export runs to hundreds of
/// megabytes).
pub(crate) struct Rows<'s> {
    rdr: csv::Reader<&'s [u8]>,
    rec: csv::StringRecord,
    file: &'s str,
}

impl<'s> Rows<'s> {
    pub fn new(src: &'s Source) -> Rows<'s> {
        Rows {
            rdr: csv_reader(&src.text),
            rec: csv::StringRecord::new(),
            file: &src.display,
        }
    }

    /// The next record and its line.
    pub fn next(&mut self) -> Result<Option<(u64, &csv::StringRecord)>, ImportError> {
        match self.rdr.read_record(&mut self.rec) {
            Ok(true) => {
                let line = self.rec.position().map(|p| p.line()).unwrap_or(0);
                Ok(Some((line, &self.rec)))
            }
            Ok(false) => Ok(None),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                Err(file_error(
                    self.file,
                    format!("line {line}: cannot parse CSV: {e}"),
                ))
            }
        }
    }
}

/// A header cell as matched: BOM, TABs and surrounding blanks removed, lower case, inner blanks single.
pub(crate) fn norm_header(s: &str) -> String {
    s.trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A header row, matched by name.
pub(crate) struct Header {
    pub names: Vec<String>,
    /// The names as the file spells them (trimmed), for messages.
    pub spelled: Vec<String>,
}

impl Header {
    pub fn new(rec: &csv::StringRecord) -> Header {
        let mut names: Vec<String> = rec.iter().map(norm_header).collect();
        while names.len() > 1 && names.last().is_some_and(|n| n.is_empty()) {
            names.pop();
        }
        let spelled = rec
            .iter()
            .take(names.len())
            .map(|s| s.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        Header { names, spelled }
    }

    /// The index of the first column whose name is one of `aliases`.
    pub fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases
            .iter()
            .find_map(|a| self.names.iter().position(|n| n == a))
    }

    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Columns that none of `known` names.
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        self.names
            .iter()
            .filter(|n| !n.is_empty() && !known.contains(&n.as_str()))
            .cloned()
            .collect()
    }

    /// A duplicate column name, if any.
    pub fn duplicate(&self) -> Option<&str> {
        let mut seen = HashSet::new();
        self.names
            .iter()
            .filter(|n| !n.is_empty())
            .find(|n| !seen.insert(n.as_str()))
            .map(String::as_str)
    }
}

/// A cell: surrounding blanks and TABs removed.
pub(crate) fn cell(rec: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    let v = rec.get(i?)?.trim_matches(|c: char| c.is_whitespace());
    if v.is_empty() { None } else { Some(v) }
}

/// The number of fields of a record once empty trailing fields (a line ending in a comma) are dropped.
pub(crate) fn width(rec: &csv::StringRecord) -> usize {
    let mut n = rec.len();
    while n > 0 && rec.get(n - 1).is_some_and(|f| f.trim().is_empty()) {
        n -= 1;
    }
    n
}

fn raw_row(rec: &csv::StringRecord) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    if w.write_record(rec).is_err() {
        return String::new();
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// The canonical files an import writes (it never writes supplier links), in the order DIR is read.
const WRITTEN: [Table; 5] = [
    Table::TradeFlows,
    Table::Shipments,
    Table::Parties,
    Table::Watchlist,
    Table::Rates,
];

/// The names of a table's columns, in the order an import writes them.
fn columns(table: Table) -> impl ExactSizeIterator<Item = &'static str> + Clone {
    table.columns().iter().map(|c| c.name)
}

/// A canonical file already in DIR.
struct ExistingFile {
    header: Vec<String>,
    bytes: Vec<u8>,
    records: Vec<csv::StringRecord>,
}

/// What DIR already holds: files (to append to), ids, parties by normalised name and country, rates.
#[derive(Default)]
pub(crate) struct Existing {
    files: HashMap<Table, ExistingFile>,
    pub parties: HashMap<(String, Country), String>,
    /// Every existing party as the matcher sees it, for [`entity::decide`].
    pub firms: Vec<(String, entity::Firm)>,
    /// A name token of an existing party to the parties (in `firms`) that have it.
    pub firm_tokens: HashMap<String, Vec<usize>>,
    pub rates: HashMap<(String, Period), Decimal>,
}

fn read_existing(dir: &Path) -> Result<Existing, ImportError> {
    let mut ex = Existing::default();
    for table in WRITTEN {
        let path = dir.join(table.file());
        if !path.exists() {
            continue;
        }
        let display = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|source| ImportError::Read {
            file: display.clone(),
            source,
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            file_error(
                &display,
                "the existing file is not UTF-8; fix it (origintrace check) before importing into this directory",
            )
        })?;
        let mut rdr = csv_reader(text.trim_start_matches('\u{feff}'));
        let mut all: Vec<csv::StringRecord> = Vec::new();
        for r in rdr.records() {
            all.push(r.map_err(|e| file_error(&display, format!("cannot parse CSV: {e}")))?);
        }
        if all.is_empty() {
            continue;
        }
        let header_rec = all.remove(0);
        let header: Vec<String> = header_rec
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let get = |r: &csv::StringRecord, i: Option<usize>| -> Option<String> {
            i.and_then(|i| r.get(i))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if table == Table::Parties {
            let (id, name, country, aliases) =
                (col("party_id"), col("name"), col("country"), col("aliases"));
            let (city, idents) = (col("city"), col("identifiers"));
            for r in &all {
                let (Some(id), Some(name), Some(c)) = (get(r, id), get(r, name), get(r, country))
                else {
                    continue;
                };
                let Ok(c) = Country::parse(&c) else { continue };
                let k = ex.firms.len();
                let mut toks = crate::data::names::tokens(&name);
                toks.sort();
                toks.dedup();
                for t in toks {
                    ex.firm_tokens.entry(t).or_default().push(k);
                }
                ex.firms.push((
                    id.clone(),
                    entity::Firm {
                        name: name.clone(),
                        country: Some(c),
                        address: get(r, city).unwrap_or_default(),
                        identifiers: get(r, idents)
                            .map(|s| s.split(';').map(|x| x.trim().to_string()).collect())
                            .unwrap_or_default(),
                    },
                ));
                let mut names = vec![name];
                if let Some(a) = get(r, aliases) {
                    names.extend(a.split(';').map(|s| s.trim().to_string()));
                }
                for n in names {
                    let k = crate::data::names::normalize(&n);
                    if !k.is_empty() {
                        ex.parties.entry((k, c)).or_insert_with(|| id.clone());
                    }
                }
            }
        }
        if table == Table::Rates {
            let (cur, per, rate) = (col("currency"), col("period"), col("usd_per_unit"));
            for r in &all {
                let (Some(c), Some(p), Some(v)) = (get(r, cur), get(r, per), get(r, rate)) else {
                    continue;
                };
                if let (Ok(p), Ok(v)) = (Period::parse(&p), codes::parse_amount(&v)) {
                    ex.rates.insert((c.to_ascii_uppercase(), p), v);
                }
            }
        }
        ex.files.insert(
            table,
            ExistingFile {
                header,
                bytes,
                records: all,
            },
        );
    }
    Ok(ex)
}

/// What `--replace` replaces for a format: the canonical file, the id prefixes of that source's rows, and
/// whether only the periods the new rows cover (statistics: a monthly download replaces that month, not the
/// years before it). A list is replaced whole: a delisted entry is one the new release no longer has.
fn replace_scope(f: Format) -> Option<(Table, &'static [&'static str], bool)> {
    match f {
        Format::OfacSdn => Some((Table::Watchlist, &["ofac-sdn", "ofac-cons"], false)),
        Format::OpenSanctions => Some((Table::Watchlist, &["opensanctions"], false)),
        Format::Csl => Some((Table::Watchlist, &["csl"], false)),
        Format::Comtrade => Some((Table::TradeFlows, &["comtrade"], true)),
        Format::ChinaCustoms => Some((Table::TradeFlows, &["cn-customs"], true)),
        Format::Ams => None,
    }
}

/// `ofac-sdn:90001` → `ofac-sdn`; `comtrade:2023-04:…` → `comtrade`.
fn id_prefix(id: &str) -> &str {
    id.split(':').next().unwrap_or("")
}

/// The period of a statistics id (`comtrade:2023-04:…` → `2023-04`).
fn id_period(id: &str) -> &str {
    id.split(':').nth(1).unwrap_or("")
}

/// The state of one import run.
pub(crate) struct Ctx<'a> {
    pub opts: &'a Options,
    pub existing: Existing,
    pub rejects: Vec<Rejection>,
    pub reports: Vec<FileReport>,
    out: BTreeMap<Table, Vec<Vec<String>>>,
    ids: HashMap<Table, HashMap<String, String>>,
    /// DIR's `entity_map.csv`, with this import's decisions added; written back when `entity_dirty`.
    pub entity_map: entity::EntityMap,
    pub entity_dirty: bool,
}

impl<'a> Ctx<'a> {
    fn new(opts: &'a Options, existing: Existing) -> Ctx<'a> {
        let mut ids: HashMap<Table, HashMap<String, String>> = HashMap::new();
        // With --replace, this source's existing rows are not claimed: the new files may carry the same ids.
        let released = opts.replace.then(|| replace_scope(opts.format)).flatten();
        for (table, f) in &existing.files {
            let Some(idc) = table
                .id_column()
                .and_then(|c| f.header.iter().position(|h| h == c))
            else {
                continue;
            };
            let place = opts.out.join(table.file()).display().to_string();
            let m = ids.entry(*table).or_default();
            for r in &f.records {
                if let Some(id) = r.get(idc).map(str::trim).filter(|s| !s.is_empty()) {
                    if released.is_some_and(|(t, prefixes, _)| {
                        t == *table && prefixes.contains(&id_prefix(id))
                    }) {
                        continue;
                    }
                    m.entry(id.to_string()).or_insert_with(|| place.clone());
                }
            }
        }
        Ctx {
            opts,
            existing,
            rejects: Vec::new(),
            reports: Vec::new(),
            out: BTreeMap::new(),
            ids,
            entity_map: entity::EntityMap::default(),
            entity_dirty: false,
        }
    }

    /// Claims an id in a canonical file: a duplicate (in DIR or earlier in this import) is an error.
    pub fn claim(&mut self, table: Table, id: &str, place: String) -> Result<(), String> {
        let in_dir = self.opts.out.join(table.file()).display().to_string();
        let m = self.ids.entry(table).or_default();
        if let Some(first) = m.get(id) {
            let hint = if *first == in_dir && replace_scope(self.opts.format).is_some() {
                "; to refresh this source from a newer release, import it again with --replace"
            } else {
                ""
            };
            return Err(format!("duplicate id '{id}' (already at {first}){hint}"));
        }
        m.insert(id.to_string(), place);
        Ok(())
    }

    /// Whether an id is taken in a canonical file.
    pub fn taken(&self, table: Table, id: &str) -> bool {
        self.ids.get(&table).is_some_and(|m| m.contains_key(id))
    }

    /// Adds a row to a canonical file; `row` follows [`Table::columns`] of that file.
    pub fn push(&mut self, table: Table, row: Vec<String>) {
        debug_assert_eq!(row.len(), table.columns().len());
        self.out.entry(table).or_default().push(row);
    }

    /// Accounts for one row.
    pub fn tally(
        &mut self,
        rep: &mut FileReport,
        line: u64,
        rec: &csv::StringRecord,
        v: impl Into<Verdict>,
    ) {
        rep.read += 1;
        match v.into() {
            Verdict::Accept => rep.accepted += 1,
            Verdict::Reject { column, reason } => {
                rep.rejected += 1;
                self.rejects.push(Rejection {
                    at: Position::new(rep.file.as_str(), line, column),
                    reason,
                    raw: raw_row(rec),
                });
            }
            Verdict::Skip(reason) => {
                rep.skipped += 1;
                rep.skips.entry(reason).or_insert((0, line)).0 += 1;
            }
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub files: Vec<FileReport>,
    /// (file written, rows added).
    pub written: Vec<(String, usize)>,
    pub rejected: usize,
    /// With `--replace`: entries added, removed, changed and unchanged.
    pub replaced: Option<(usize, usize, usize, usize)>,
}

/// What `--replace` does to one canonical file.
struct Replacement {
    table: Table,
    /// The existing records (by index) that the new rows replace.
    drop: HashSet<usize>,
    /// `entry, change, fields` rows, by id.
    changes: Vec<Vec<String>>,
    added: usize,
    removed: usize,
    changed: usize,
    unchanged: usize,
}

/// Compares this source's rows in DIR with the new ones, id by id. A list is replaced whole; statistics only
/// for the periods the new rows cover.
fn replacement(
    format: Format,
    existing: &Existing,
    out: &BTreeMap<Table, Vec<Vec<String>>>,
) -> Option<Replacement> {
    let (table, _, by_period) = replace_scope(format)?;
    let cols = columns(table);
    let new_rows = out.get(&table).map(Vec::as_slice).unwrap_or(&[]);
    let prefixes: HashSet<&str> = new_rows.iter().map(|r| id_prefix(&r[0])).collect();
    let periods: HashSet<&str> = new_rows.iter().map(|r| id_period(&r[0])).collect();
    let mut old: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut drop = HashSet::new();
    if let Some(f) = existing.files.get(&table) {
        let pos: Vec<Option<usize>> = cols
            .clone()
            .map(|c| f.header.iter().position(|h| h == c))
            .collect();
        for (k, r) in f.records.iter().enumerate() {
            let id = pos[0].and_then(|i| r.get(i)).unwrap_or("").trim();
            if prefixes.contains(id_prefix(id)) && (!by_period || periods.contains(id_period(id))) {
                drop.insert(k);
                let vals = pos
                    .iter()
                    .map(|p| p.and_then(|i| r.get(i)).unwrap_or("").trim().to_string())
                    .collect();
                old.insert(id.to_string(), vals);
            }
        }
    }
    let mut r = Replacement {
        table,
        drop,
        changes: Vec::new(),
        added: 0,
        removed: 0,
        changed: 0,
        unchanged: 0,
    };
    let mut rows: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for n in new_rows {
        let id = n[0].as_str();
        match old.remove(id) {
            None => {
                r.added += 1;
                rows.insert(id, vec![id.into(), "added".into(), String::new()]);
            }
            Some(o) => {
                let fields: Vec<&str> = cols
                    .clone()
                    .enumerate()
                    .filter(|(i, _)| o[*i] != n[*i].trim())
                    .map(|(_, c)| c)
                    .collect();
                if fields.is_empty() {
                    r.unchanged += 1;
                } else {
                    r.changed += 1;
                    rows.insert(id, vec![id.into(), "changed".into(), fields.join(";")]);
                }
            }
        }
    }
    r.removed = old.len();
    let mut changes: Vec<Vec<String>> = old
        .into_keys()
        .map(|id| vec![id, "removed".into(), String::new()])
        .collect();
    changes.extend(rows.into_values());
    changes.sort();
    r.changes = changes;
    Some(r)
}

/// Runs an import: reads the sources, judges every row, prints the accounting to `log`, and writes the
/// canonical files (all or none). Rejected rows without `--skip-invalid` are an error
/// ([`DatasetError::Rejected`]) and nothing is written.
pub fn run(opts: &Options, log: &mut dyn Write) -> Result<Summary, ImportError> {
    if opts.out.exists() && !opts.out.is_dir() {
        return Err(ImportError::Usage(format!(
            "-o {}: not a directory (import writes canonical CSV files into a dataset directory)",
            opts.out.display()
        )));
    }
    let existing = if opts.out.is_dir() {
        read_existing(&opts.out)?
    } else {
        Existing::default()
    };
    let mut ctx = Ctx::new(opts, existing);
    if opts.out.is_dir() {
        ctx.entity_map = entity::EntityMap::load(&opts.out)
            .map_err(|m| ImportError::Usage(format!("{m} (fix it, then import again)")))?;
    }
    match opts.format {
        Format::ChinaCustoms => china_customs::import(&mut ctx)?,
        Format::Comtrade => comtrade::import(&mut ctx)?,
        Format::Ams => ams::import(&mut ctx)?,
        Format::OfacSdn => ofac::import(&mut ctx)?,
        Format::OpenSanctions => opensanctions::import(&mut ctx)?,
        Format::Csl => csl::import(&mut ctx)?,
    }
    let mut summary = Summary {
        files: std::mem::take(&mut ctx.reports),
        written: Vec::new(),
        rejected: ctx.rejects.len(),
        replaced: None,
    };
    let _ = writeln!(
        log,
        "import {} -> {}",
        opts.format.name(),
        opts.out.display()
    );
    for f in &summary.files {
        let _ = writeln!(
            log,
            "  {} ({}, {}): read {}, accepted {}, rejected {}, skipped {}",
            f.file, f.role, f.encoding, f.read, f.accepted, f.rejected, f.skipped
        );
        for (reason, (n, first)) in &f.skips {
            let _ = writeln!(log, "    skipped {n}: {reason} (first at line {first})");
        }
        for n in &f.notes {
            let _ = writeln!(log, "    note: {n}");
        }
    }
    if opts.skip_invalid && !ctx.rejects.is_empty() {
        let _ = writeln!(
            log,
            "  {} rejected row(s) skipped (--skip-invalid):",
            ctx.rejects.len()
        );
        for r in ctx.rejects.iter().take(50) {
            let _ = writeln!(log, "    {r}");
        }
        if ctx.rejects.len() > 50 {
            let _ = writeln!(log, "    … and {} more", ctx.rejects.len() - 50);
        }
    }
    if let Some(path) = &opts.rejects {
        crate::data::dataset::load::write_rejects(path, &ctx.rejects)?;
    }
    if !ctx.rejects.is_empty() && !opts.skip_invalid {
        let _ = writeln!(
            log,
            "  nothing written to {}: {} row(s) rejected",
            opts.out.display(),
            ctx.rejects.len()
        );
        return Err(DatasetError::Rejected {
            count: ctx.rejects.len(),
            first: ctx.rejects.iter().take(50).cloned().collect(),
        }
        .into());
    }
    if summary.files.iter().all(|f| f.accepted == 0) {
        let _ = writeln!(log, "  nothing to write: no row was accepted");
        return Err(ImportError::NothingAccepted {
            files: summary.files.len(),
            rejected: summary.files.iter().map(|f| f.rejected).sum(),
            skipped: summary.files.iter().map(|f| f.skipped).sum(),
            out: opts.out.display().to_string(),
        });
    }
    let out = std::mem::take(&mut ctx.out);
    let mut drop: HashMap<Table, HashSet<usize>> = HashMap::new();
    let mut extra: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if opts.replace
        && let Some(r) = replacement(opts.format, &ctx.existing, &out)
    {
        let changes = opts.out.join(format!("changes-{}.csv", opts.format.name()));
        let _ = writeln!(
            log,
            "  replaced {} row(s) of {} in {}: {} added, {} removed, {} changed, {} unchanged (changes in {})",
            r.drop.len(),
            opts.format.name(),
            r.table.file(),
            r.added,
            r.removed,
            r.changed,
            r.unchanged,
            changes.display()
        );
        summary.replaced = Some((r.added, r.removed, r.changed, r.unchanged));
        let bytes = csv_bytes(
            &r.changes,
            Some(&["entry".into(), "change".into(), "fields".into()]),
        )
        .map_err(|source| ImportError::Write {
            file: changes.display().to_string(),
            source,
        })?;
        extra.push((changes, bytes));
        drop.insert(r.table, r.drop);
    }
    if ctx.entity_dirty {
        extra.push((opts.out.join(entity::ENTITY_MAP), ctx.entity_map.to_csv()));
    }
    summary.written = write_outputs(&opts.out, &ctx.existing, out, &drop, extra)?;
    for (file, n) in &summary.written {
        let _ = writeln!(log, "  wrote {file}: +{n} row(s)");
    }
    Ok(summary)
}

fn csv_bytes(rows: &[Vec<String>], header: Option<&[String]>) -> Result<Vec<u8>, std::io::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let io = |e: csv::Error| std::io::Error::other(e.to_string());
    if let Some(h) = header {
        w.write_record(h).map_err(io)?;
    }
    for r in rows {
        w.write_record(r).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// The full new content of one canonical file: the existing file with the new rows appended (its own
/// column order kept; when it lacks a column the new rows fill, it is rewritten with that column added).
fn file_content(
    table: Table,
    existing: Option<&ExistingFile>,
    rows: &[Vec<String>],
    drop: Option<&HashSet<usize>>,
) -> Result<Vec<u8>, std::io::Error> {
    let drop_none = HashSet::new();
    let drop = drop.unwrap_or(&drop_none);
    let ours: Vec<&str> = columns(table).collect();
    let Some(ex) = existing else {
        let header: Vec<String> = ours.iter().map(|s| s.to_string()).collect();
        return csv_bytes(rows, Some(&header));
    };
    let missing: Vec<usize> = ours
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            !ex.header.iter().any(|h| h == *c) && rows.iter().any(|r| !r[*i].is_empty())
        })
        .map(|(i, _)| i)
        .collect();
    let mut header = ex.header.clone();
    header.extend(missing.iter().map(|&i| ours[i].to_string()));
    let place = |r: &Vec<String>| -> Vec<String> {
        header
            .iter()
            .map(|h| {
                ours.iter()
                    .position(|c| c == h)
                    .map(|i| r[i].clone())
                    .unwrap_or_default()
            })
            .collect()
    };
    let new_rows: Vec<Vec<String>> = rows.iter().map(place).collect();
    if missing.is_empty() && drop.is_empty() {
        let mut bytes = ex.bytes.clone();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        bytes.extend(csv_bytes(&new_rows, None)?);
        Ok(bytes)
    } else {
        let mut all: Vec<Vec<String>> = ex
            .records
            .iter()
            .enumerate()
            .filter(|(k, _)| !drop.contains(k))
            .map(|(_, r)| {
                let mut v: Vec<String> = r.iter().map(String::from).collect();
                v.resize(header.len(), String::new());
                v
            })
            .collect();
        all.extend(new_rows);
        csv_bytes(&all, Some(&header))
    }
}

/// Writes every canonical file to a temporary name first, then renames them all: an error leaves DIR as it
/// was.
fn write_outputs(
    dir: &Path,
    existing: &Existing,
    out: BTreeMap<Table, Vec<Vec<String>>>,
    drop: &HashMap<Table, HashSet<usize>>,
    extra: Vec<(PathBuf, Vec<u8>)>,
) -> Result<Vec<(String, usize)>, ImportError> {
    let werr = |p: &Path, source: std::io::Error| ImportError::Write {
        file: p.display().to_string(),
        source,
    };
    if out.values().all(|r| r.is_empty()) {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir).map_err(|e| werr(dir, e))?;
    let mut staged: Vec<(PathBuf, PathBuf, usize)> = Vec::new();
    let result = (|| {
        for (table, rows) in &out {
            if rows.is_empty() {
                continue;
            }
            let bytes = file_content(*table, existing.files.get(table), rows, drop.get(table))
                .map_err(|e| werr(dir, e))?;
            let target = dir.join(table.file());
            let tmp = dir.join(format!(
                ".{}.import-{}.tmp",
                table.file(),
                std::process::id()
            ));
            staged.push((tmp.clone(), target, rows.len()));
            let mut f = std::fs::File::create(&tmp).map_err(|e| werr(&tmp, e))?;
            f.write_all(&bytes).map_err(|e| werr(&tmp, e))?;
            f.sync_all().map_err(|e| werr(&tmp, e))?;
        }
        for (target, bytes) in &extra {
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = dir.join(format!(".{name}.import-{}.tmp", std::process::id()));
            let n = bytes
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                .saturating_sub(1);
            staged.push((tmp.clone(), target.clone(), n));
            let mut f = std::fs::File::create(&tmp).map_err(|e| werr(&tmp, e))?;
            f.write_all(bytes).map_err(|e| werr(&tmp, e))?;
            f.sync_all().map_err(|e| werr(&tmp, e))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    let mut written = Vec::new();
    for (tmp, target, n) in &staged {
        std::fs::rename(tmp, target).map_err(|e| werr(target, e))?;
        written.push((target.display().to_string(), *n));
    }
    Ok(written)
}

/// The `country` cell of a watchlist entry: every country, `;`-separated, in first-seen order.
pub(crate) fn countries_cell(cs: &[Country]) -> String {
    let mut seen: Vec<Country> = Vec::new();
    for c in cs {
        if !seen.contains(c) {
            seen.push(*c);
        }
    }
    seen.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// A value for a CSV cell of a `;`-separated list: the separator cannot appear inside an item.
pub(crate) fn list_item(s: &str) -> String {
    s.replace(';', ",").trim().to_string()
}

/// Distinct, non-empty items in first-seen order, `;`-joined.
pub(crate) fn join_list<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for i in items {
        let v = list_item(i);
        if !v.is_empty() && !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join(";")
}

/// Splits a `;`-separated multi-value cell as OpenSanctions and the CSL write them (an item holding `;` is
/// quoted inside the cell).
pub(crate) fn split_multi(s: &str) -> Vec<String> {
    if !s.contains('"') {
        return s
            .split(';')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect();
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(b';')
        .flexible(true)
        .from_reader(s.as_bytes());
    let mut out = Vec::new();
    for r in rdr.records().flatten() {
        out.extend(
            r.iter()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(String::from),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse("china-customs"), Ok(Format::ChinaCustoms));
        assert_eq!(Format::parse("OFAC_SDN"), Ok(Format::OfacSdn));
        assert!(Format::parse("xlsx").is_err());
    }

    #[test]
    fn multi_values() {
        assert_eq!(split_multi("a;b; c"), vec!["a", "b", "c"]);
        assert_eq!(split_multi("\"a;b\";c"), vec!["a;b", "c"]);
        assert_eq!(join_list(["x", "y;z", "x", ""]), "x;y,z");
    }

    #[test]
    fn options_check_per_file_values() {
        let files = vec![PathBuf::from("a.csv"), PathBuf::from("b.csv")];
        let o = Options::new(
            "china-customs",
            files.clone(),
            PathBuf::from("out"),
            &["2023-04".into()],
            &["import".into(), "export".into()],
            Some("0.1450"),
            false,
            None,
            false,
        )
        .unwrap();
        assert_eq!(o.flow_for(1), Some(Flow::Export));
        assert_eq!(
            o.period_for(1).map(|p| p.to_string()),
            Some("2023-04".into())
        );
        let three = vec!["import".to_string(); 3];
        assert!(
            Options::new(
                "china-customs",
                files.clone(),
                "o".into(),
                &[],
                &three,
                None,
                false,
                None,
                false
            )
            .is_err()
        );
        assert!(
            Options::new(
                "comtrade",
                files.clone(),
                "o".into(),
                &[],
                &three[..1],
                None,
                false,
                None,
                false
            )
            .is_err()
        );
        let inverted = Options::new(
            "china-customs",
            files,
            "o".into(),
            &[],
            &[],
            Some("7.1"),
            false,
            None,
            false,
        );
        assert!(inverted.unwrap_err().to_string().contains("USD per yuan"));
    }
}
