//! Loading: every canonical file of every source, in dependency order (rates before money, parties before
//! anything that names one), with duplicate ids refused across sources.

use super::read::{self, read_table};
use super::*;
use super::{IdIndex, shipment_key};
use crate::data::codes::{self, Country, Date, Hs, Period, Region};
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A dataset compiled into the binary.
pub struct EmbeddedDataset {
    pub name: &'static str,
    pub files: &'static [(&'static str, &'static [u8])],
}

/// Where a dataset is read from.
pub enum DataSource {
    Dir(PathBuf),
    Embedded(&'static EmbeddedDataset),
    /// Files held in memory, by canonical name (tests and fuzzing feed bytes through the same loader).
    Memory {
        name: String,
        files: Vec<(String, Vec<u8>)>,
    },
}

/// A dataset file must be a regular file: a dataset from outside can hold links to anything its reader may
/// read (a key, `/dev/zero`), and a device or FIFO never ends.
fn not_regular(path: &Path, m: &std::fs::Metadata) -> Result<(), FileError> {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "a special file"
    };
    Err(FileError::NotRegular {
        file: path.display().to_string(),
        kind,
    })
}

impl DataSource {
    fn dataset_name(&self) -> String {
        match self {
            DataSource::Dir(p) => p
                .canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
                .or_else(|| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "dataset".into()),
            DataSource::Embedded(e) => e.name.to_string(),
            DataSource::Memory { name, .. } => name.clone(),
        }
    }

    fn display(&self, file: &str) -> String {
        match self {
            DataSource::Dir(p) => p.join(file).display().to_string(),
            DataSource::Embedded(e) => format!("{}/{}", e.name, file),
            DataSource::Memory { name, .. } => format!("{name}/{file}"),
        }
    }

    fn open(&self, file: &str) -> Result<Option<Box<dyn Read + Send + '_>>, FileError> {
        match self {
            DataSource::Dir(p) => {
                let path = p.join(file);
                let io = |source| FileError::Io {
                    file: path.display().to_string(),
                    source,
                };
                let meta = match std::fs::symlink_metadata(&path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(io(e)),
                    Ok(m) => m,
                };
                not_regular(&path, &meta)?;
                // No link followed and no wait on a FIFO swapped in since the check; the opened file is
                // checked again, so what is read is what was checked.
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
                    .open(&path)
                    .map_err(io)?;
                not_regular(&path, &f.metadata().map_err(io)?)?;
                // Unbuffered: the CSV reader has a buffer of its own, and a second one would copy every byte
                // once more.
                Ok(Some(Box::new(f)))
            }
            DataSource::Embedded(e) => Ok(e
                .files
                .iter()
                .find(|(n, _)| *n == file)
                .map(|(_, b)| Box::new(*b) as Box<dyn Read + Send>)),
            DataSource::Memory { files, .. } => Ok(files
                .iter()
                .find(|(n, _)| n == file)
                .map(|(_, b)| Box::new(b.as_slice()) as Box<dyn Read + Send + '_>)),
        }
    }

    /// How a dataset without a settings file is named when its (default) settings are compared.
    pub fn defaults_label(&self) -> String {
        format!("{} (no origintrace.toml: the defaults)", self.display(""))
    }

    /// The dataset's own settings file, if it has one.
    pub fn settings_text(&self) -> Result<Option<(String, String)>, FileError> {
        const NAME: &str = "origintrace.toml";
        match self.open(NAME)? {
            None => Ok(None),
            Some(mut r) => {
                let mut s = String::new();
                r.read_to_string(&mut s).map_err(|source| FileError::Io {
                    file: self.display(NAME),
                    source,
                })?;
                Ok(Some((self.display(NAME), s)))
            }
        }
    }
}

/// The canonical file names, in the order they are loaded.
pub use super::schema::FILES;

fn split_list(s: Option<&str>) -> Vec<String> {
    s.map(|v| {
        v.split(';')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

/// Identifiers are `scheme:value`; the scheme is case-insensitive, the value exact.
fn parse_identifiers(s: Option<&str>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for id in split_list(s) {
        match id.split_once(':') {
            Some((scheme, value)) if !scheme.trim().is_empty() && !value.trim().is_empty() => out
                .push(format!(
                    "{}:{}",
                    scheme.trim().to_ascii_lowercase(),
                    value.trim()
                )),
            _ => return Err(format!("identifier '{id}' is not scheme:value")),
        }
    }
    Ok(out)
}

/// Appends `n` in decimal (what `write!` does, without the formatting machinery: the default id of every
/// statistics row takes one).
fn push_decimal(s: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    s.extend(digits[i..].iter().map(|&d| d as char));
}

/// The rejection of a row whose text the arena cannot hold; `columns` are the columns of the fields
/// handed to [`Arena::push_all`], in order.
fn text_rejection(row: &read::Row, columns: &[usize], e: TooLong) -> Rejection {
    let column = match e {
        TooLong::Field(i) => columns.get(i).copied().unwrap_or(0),
        TooLong::Arena => 0,
    };
    row.reject(column, e.to_string())
}

/// Ids seen so far for one kind of record, with the place each was defined.
#[derive(Default)]
struct Ids(crate::util::fxhash::FxMap<Box<str>, (u32, u64)>);

impl Ids {
    /// Claims `id` for the row at `file` (an index into `files`) and `line`; a second claim names the first.
    fn claim(
        &mut self,
        id: &str,
        file: u32,
        line: u64,
        files: &[SourceFile],
    ) -> Result<(), String> {
        if let Some((f, l)) = self.0.get(id) {
            let path = files
                .get(*f as usize)
                .map(|x| x.path.as_str())
                .unwrap_or("?");
            return Err(format!("duplicate id '{id}' (first defined at {path}:{l})"));
        }
        self.0.insert(id.into(), (file, line));
        Ok(())
    }
}

/// The message for an id already taken by the row recorded at `first`.
fn duplicate(id: &str, first: Rec, files: &[SourceFile]) -> String {
    let path = files
        .get(first.file as usize)
        .map(|x| x.path.as_str())
        .unwrap_or("?");
    format!(
        "duplicate id '{id}' (first defined at {path}:{})",
        first.line
    )
}

/// Ids claimed so far for one kind of row. Files are often written in id order: while each id comes
/// after the one before (shorter first, then byte by byte, so that `S9` < `S10` and the default
/// `DATASET/trade_flows.csv:LINE` ids ascend with their lines), none can repeat and nothing needs hashing.
/// The first id out of order indexes all the ids before it, and from then on every id is claimed there.
#[derive(Default)]
enum AscendingIds {
    #[default]
    Ascending,
    Indexed(IdIndex),
}

impl AscendingIds {
    /// Claims `id` for row `n`, where `key` gives the ids of rows `0..n`; a clash is the row that holds it.
    fn claim<'k>(&mut self, id: &str, n: usize, key: impl Fn(u32) -> &'k str) -> Result<(), u32> {
        if let AscendingIds::Ascending = self {
            let after = |last: &str| (last.len(), last.as_bytes()) < (id.len(), id.as_bytes());
            if n == 0 || after(key(n as u32 - 1)) {
                return Ok(());
            }
            *self = AscendingIds::Indexed(IdIndex::rebuild(n, &key));
        }
        match self {
            AscendingIds::Indexed(ix) => ix.claim(id, n as u32, key),
            AscendingIds::Ascending => Ok(()),
        }
    }
}

/// USD per unit of a currency, by month or year (rates.csv).
#[derive(Default)]
struct Rates(HashMap<([u8; 3], Period), Decimal>);

impl Rates {
    fn rate(&self, cur: [u8; 3], month: Period) -> Option<Decimal> {
        if &cur == b"USD" {
            return Some(Decimal::ONE);
        }
        self.0
            .get(&(cur, month))
            .or_else(|| {
                self.0.get(&(
                    cur,
                    Period {
                        year: month.year,
                        month: 0,
                    },
                ))
            })
            .copied()
    }

    /// `value` comes from [`codes::parse_amount`], so it is at most [`codes::max_amount`].
    /// The period is asked for only when a rate is needed: a date's month takes some arithmetic.
    fn to_usd(
        &self,
        value: Decimal,
        cur: [u8; 3],
        period: impl FnOnce() -> Period,
    ) -> Result<Decimal, String> {
        if &cur == b"USD" && !value.is_zero() {
            // Multiplying a non-zero amount by one gives the same value, scale included (tested in
            // codes); a zero would lose its scale, as it always has.
            return Ok(value);
        }
        let period = period();
        let rate = self.rate(cur, period).ok_or_else(|| {
            format!(
                "no rate for {} in {} (add a row to rates.csv: {},{},USD-per-unit)",
                String::from_utf8_lossy(&cur),
                period,
                String::from_utf8_lossy(&cur),
                period
            )
        })?;
        let usd = value
            .checked_mul(rate)
            .ok_or_else(|| "value in USD overflows".to_string())?;
        if usd > codes::max_amount() {
            return Err(format!("value in USD {usd} is too large (more than 10^15)"));
        }
        Ok(usd)
    }
}

/// What the load keeps from file to file: the dataset so far, the rejected rows, the rates, and the ids
/// claimed. Party and shipment ids are claimed in the dataset's own indexes, the others in indexes kept for
/// the load; a clash names the row that holds the id through that row's `rec`.
#[derive(Default)]
struct Loader {
    ds: Dataset,
    rejects: Vec<Rejection>,
    rates: Rates,
    shipment_ids: AscendingIds,
    flow_ids: AscendingIds,
    /// The default id of the statistics row at hand, built in one buffer rather than a string per row.
    default_id: String,
    link_ids: Ids,
    entry_ids: Ids,
}

/// The file being read.
struct FileAt<'a> {
    /// As messages name it.
    display: &'a str,
    /// Its index in [`Dataset::files`].
    index: u32,
    /// The name of its source in default ids.
    dataset: &'a str,
}

impl FileAt<'_> {
    fn rec(&self, row: &read::Row) -> Rec {
        Rec {
            file: self.index,
            line: row.line as u32,
        }
    }
}

/// A shipment row's values, parsed on the reading thread; the id and the free text are added in file order.
struct ShipmentValues {
    date: Date,
    shipper: PartyId,
    consignee: PartyId,
    hs: Hs,
    value: Decimal,
    currency: [u8; 3],
    value_usd: Decimal,
    quantity: Option<Decimal>,
    weight_kg: Option<Decimal>,
    origin: Option<Country>,
}

/// A statistics row's values, parsed on the reading thread.
struct FlowValues {
    period: Period,
    reporter: Country,
    region: Option<Region>,
    partner: Country,
    flow: Flow,
    hs: Hs,
    value: Decimal,
    currency: [u8; 3],
    value_usd: Decimal,
    quantity: Option<Decimal>,
}

/// Each parse function below reads one table through [`read_table`]: its `prepare` parses a row on a worker
/// thread (so it only reads what earlier files built), its `on_row` claims the id and stores the row, in
/// file order. Columns are addressed by their index in [`Table::columns`].
impl Loader {
    fn add_file(&mut self, src: &DataSource, dataset: &str, name: &str) -> u32 {
        self.ds.files.push(SourceFile {
            path: src.display(name),
            dataset: dataset.to_string(),
            name: name.to_string(),
        });
        (self.ds.files.len() - 1) as u32
    }

    /// Reads one file of `table` into the dataset: the one place that dispatches on the table.
    fn read(
        &mut self,
        table: Table,
        at: &FileAt,
        input: impl Read + Send,
    ) -> Result<FileStats, FileError> {
        match table {
            Table::Rates => self.rates(at, input),
            Table::Parties => self.parties(at, input),
            Table::Shipments => self.shipments(at, input),
            Table::TradeFlows => self.trade_flows(at, input),
            Table::SupplierLinks => self.supplier_links(at, input),
            Table::Watchlist => self.watchlist(at, input),
        }
    }

    fn rates(&mut self, at: &FileAt, input: impl Read + Send) -> Result<FileStats, FileError> {
        read_table(
            at.display,
            input,
            Table::Rates.columns(),
            &mut self.rejects,
            |_| {},
            |row| {
                let cur = row.parse(0, codes::parse_currency)?;
                let period = row.parse(1, Period::parse)?;
                let rate = row.parse(2, codes::parse_amount)?;
                if rate.is_zero() {
                    return Err(row.reject(2, "a rate must be greater than 0"));
                }
                Ok((cur, period, rate))
            },
            |row, (cur, period, rate)| {
                if self.rates.0.contains_key(&(cur, period)) {
                    return Err(row.reject(
                        1,
                        format!(
                            "duplicate rate for {} {}",
                            String::from_utf8_lossy(&cur),
                            period
                        ),
                    ));
                }
                self.rates.0.insert((cur, period), rate);
                self.ds.rates.push((cur, period, rate));
                Ok(())
            },
        )
    }

    fn parties(&mut self, at: &FileAt, input: impl Read + Send) -> Result<FileStats, FileError> {
        read_table(
            at.display,
            input,
            Table::Parties.columns(),
            &mut self.rejects,
            |_| {},
            |row| {
                let id = row.id(0, true)?;
                let name = row.need(1)?;
                let country = row.parse(2, Country::parse)?;
                let region = row.parse_opt(3, Region::parse)?;
                if let Some(r) = region
                    && r.country() != country
                {
                    return Err(row.reject(
                        3,
                        format!("region {r} is not in the party's country {country}"),
                    ));
                }
                let identifiers = parse_identifiers(row.get(6)).map_err(|m| row.reject(6, m))?;
                Ok(Party {
                    id: id.to_string(),
                    name: name.to_string(),
                    country,
                    region,
                    city: row.get(4).map(String::from),
                    aliases: split_list(row.get(5)),
                    identifiers,
                    rec: at.rec(row),
                })
            },
            |row, party| {
                let parties = &self.ds.parties;
                self.ds.party_ids.claim(&party.id).map_err(|j| {
                    let first = parties[j.index()].rec;
                    row.reject(0, duplicate(&party.id, first, &self.ds.files))
                })?;
                self.ds.parties.push(party);
                Ok(())
            },
        )
    }

    fn shipments(&mut self, at: &FileAt, input: impl Read + Send) -> Result<FileStats, FileError> {
        read_table(
            at.display,
            input,
            Table::Shipments.columns(),
            &mut self.rejects,
            |rows| {
                let ids = rows.iter().flat_map(|r| [r.get(2), r.get(3)]);
                self.ds.party_ids.prefetch(ids.flatten());
            },
            |row| {
                row.id(0, false)?;
                let date = row.parse(1, Date::parse)?;
                let party = |i: usize| -> Result<PartyId, Rejection> {
                    let p = row.need(i)?;
                    self.ds.party_ids.get(p).ok_or_else(|| {
                        row.reject(i, format!("unknown party '{p}' (not in parties.csv)"))
                    })
                };
                let shipper = party(2)?;
                let consignee = party(3)?;
                let hs = row.parse(4, Hs::parse)?;
                let value = row.parse(5, codes::parse_amount)?;
                let currency = row.parse_opt(6, codes::parse_currency)?.unwrap_or(*b"USD");
                let quantity = row.parse_opt(7, codes::parse_amount)?;
                let weight_kg = row.parse_opt(9, codes::parse_amount)?;
                let origin = row.parse_opt(10, Country::parse)?;
                let month = || {
                    let (year, month, _) = date.ymd();
                    Period { year, month }
                };
                let value_usd = self
                    .rates
                    .to_usd(value, currency, month)
                    .map_err(|e| row.reject(6, e))?;
                Ok(ShipmentValues {
                    date,
                    shipper,
                    consignee,
                    hs,
                    value,
                    currency,
                    value_usd,
                    quantity,
                    weight_kg,
                    origin,
                })
            },
            |row, v| {
                let id = row.need(0)?;
                // The columns whose text the arena keeps, checked before the id is claimed.
                const TEXT: [usize; 5] = [0, 8, 11, 12, 13];
                let fields = TEXT.map(|i| if i == 0 { Some(id) } else { row.get(i) });
                let too_long = |e| text_rejection(row, &TEXT, e);
                self.ds.text.fits(&fields).map_err(too_long)?;
                let (shipments, text) = (&self.ds.shipments, &self.ds.text);
                let key = |j| shipment_key(shipments, text, j);
                self.shipment_ids
                    .claim(id, shipments.len(), key)
                    .map_err(|j| {
                        let first = shipments[j as usize].rec;
                        row.reject(0, duplicate(id, first, &self.ds.files))
                    })?;
                let [id, unit, description, port_lading, port_unlading] =
                    self.ds.text.push_all(fields).map_err(too_long)?;
                self.ds.shipments.push(Shipment {
                    id,
                    date: v.date,
                    shipper: v.shipper,
                    consignee: v.consignee,
                    hs: v.hs,
                    value: v.value,
                    currency: v.currency,
                    value_usd: v.value_usd,
                    quantity: v.quantity,
                    unit,
                    weight_kg: v.weight_kg,
                    origin: v.origin,
                    description,
                    port_lading,
                    port_unlading,
                    rec: at.rec(row),
                });
                Ok(())
            },
        )
    }

    fn trade_flows(
        &mut self,
        at: &FileAt,
        input: impl Read + Send,
    ) -> Result<FileStats, FileError> {
        read_table(
            at.display,
            input,
            Table::TradeFlows.columns(),
            &mut self.rejects,
            |_| {},
            |row| {
                let period = row.parse(1, Period::parse)?;
                let reporter = row.parse(2, Country::parse)?;
                let region = row.parse_opt(3, Region::parse)?;
                if let Some(r) = region
                    && r.country() != reporter
                {
                    return Err(row.reject(
                        3,
                        format!("region {r} is not in the reporter's country {reporter}"),
                    ));
                }
                let partner = row.parse(4, Country::parse)?;
                let flow = row.parse(5, |s| {
                    if s.eq_ignore_ascii_case("import") {
                        Ok(Flow::Import)
                    } else if s.eq_ignore_ascii_case("export") {
                        Ok(Flow::Export)
                    } else {
                        Err(format!("'{s}' is not import or export"))
                    }
                })?;
                let hs = row.parse(6, Hs::parse)?;
                let value = row.parse(7, codes::parse_amount)?;
                let currency = row.parse_opt(8, codes::parse_currency)?.unwrap_or(*b"USD");
                let quantity = row.parse_opt(9, codes::parse_amount)?;
                let value_usd = self
                    .rates
                    .to_usd(value, currency, || period)
                    .map_err(|e| row.reject(8, e))?;
                Ok(FlowValues {
                    period,
                    reporter,
                    region,
                    partner,
                    flow,
                    hs,
                    value,
                    currency,
                    value_usd,
                    quantity,
                })
            },
            |row, v| {
                let id = match row.get(0) {
                    Some(id) => {
                        row.id(0, false)?;
                        id
                    }
                    None => {
                        let d = &mut self.default_id;
                        d.clear();
                        d.push_str(at.dataset);
                        d.push_str("/trade_flows.csv:");
                        push_decimal(d, row.line);
                        d.as_str()
                    }
                };
                const TEXT: [usize; 3] = [0, 10, 11];
                let fields = [Some(id), row.get(10), row.get(11)];
                let too_long = |e| text_rejection(row, &TEXT, e);
                self.ds.text.fits(&fields).map_err(too_long)?;
                let (flows, text) = (&self.ds.flows, &self.ds.text);
                self.flow_ids
                    .claim(id, flows.len(), |j| {
                        flows.get(j as usize).map_or("", |f| text.get(f.id))
                    })
                    .map_err(|j| {
                        let first = flows[j as usize].rec;
                        row.reject(0, duplicate(id, first, &self.ds.files))
                    })?;
                let [id, unit, regime] = self.ds.text.push_all(fields).map_err(too_long)?;
                self.ds.flows.push(TradeFlow {
                    id,
                    period: v.period,
                    reporter: v.reporter,
                    region: v.region,
                    partner: v.partner,
                    flow: v.flow,
                    hs: v.hs,
                    value: v.value,
                    currency: v.currency,
                    value_usd: v.value_usd,
                    quantity: v.quantity,
                    unit,
                    regime,
                    rec: at.rec(row),
                    superseded: false,
                });
                Ok(())
            },
        )
    }

    fn supplier_links(
        &mut self,
        at: &FileAt,
        input: impl Read + Send,
    ) -> Result<FileStats, FileError> {
        read_table(
            at.display,
            input,
            Table::SupplierLinks.columns(),
            &mut self.rejects,
            |_| {},
            |row| {
                let b = row.need(1)?;
                let buyer = self.ds.party_ids.get(b).ok_or_else(|| {
                    row.reject(1, format!("unknown party '{b}' (not in parties.csv)"))
                })?;
                let s = row.need(2)?;
                let supplier = match s.strip_prefix("country:") {
                    Some(c) => {
                        LinkSupplier::Country(Country::parse(c).map_err(|m| row.reject(2, m))?)
                    }
                    None => LinkSupplier::Party(self.ds.party_ids.get(s).ok_or_else(|| {
                        row.reject(
                            2,
                            format!(
                                "unknown party '{s}' (not in parties.csv; a country is written country:XX)"
                            ),
                        )
                    })?),
                };
                let hs = row.parse(3, Hs::parse)?;
                let share = row.parse(4, codes::parse_share)?;
                let valid_from = row.parse_opt(5, Date::parse)?;
                let valid_to = row.parse_opt(6, Date::parse)?;
                if let (Some(f), Some(t)) = (valid_from, valid_to)
                    && t < f
                {
                    return Err(row.reject(6, format!("valid_to {t} is before valid_from {f}")));
                }
                Ok(SupplierLink {
                    id: String::new(),
                    buyer,
                    supplier,
                    hs,
                    share,
                    valid_from,
                    valid_to,
                    source: row.get(7).map(String::from),
                    rec: at.rec(row),
                })
            },
            |row, mut link| {
                link.id = match row.get(0) {
                    Some(_) => row.id(0, false)?.to_string(),
                    None => format!("{}/supplier_links.csv:{}", at.dataset, row.line),
                };
                self.link_ids
                    .claim(&link.id, at.index, row.line, &self.ds.files)
                    .map_err(|m| row.reject(0, m))?;
                self.ds.links.push(link);
                Ok(())
            },
        )
    }

    fn watchlist(&mut self, at: &FileAt, input: impl Read + Send) -> Result<FileStats, FileError> {
        read_table(
            at.display,
            input,
            Table::Watchlist.columns(),
            &mut self.rejects,
            |_| {},
            |row| {
                let id = row.id(0, false)?;
                let name = row.need(1)?;
                let mut countries: Vec<Country> = Vec::new();
                for c in split_list(row.get(3)) {
                    let c = Country::parse(&c).map_err(|m| row.reject(3, m))?;
                    if !countries.contains(&c) {
                        countries.push(c);
                    }
                }
                let identifiers = parse_identifiers(row.get(5)).map_err(|m| row.reject(5, m))?;
                Ok(WatchEntry {
                    id: id.to_string(),
                    name: name.to_string(),
                    aliases: split_list(row.get(2)),
                    countries,
                    program: row.get(4).map(String::from),
                    identifiers,
                    source: row.get(6).map(String::from),
                    rec: at.rec(row),
                })
            },
            |row, entry| {
                self.entry_ids
                    .claim(&entry.id, at.index, row.line, &self.ds.files)
                    .map_err(|m| row.reject(0, m))?;
                self.ds.watchlist.push(entry);
                Ok(())
            },
        )
    }
}

/// Reads every source. Rows that break a rule are collected in `Dataset::rejections` and counted in
/// `Dataset::stats`; whether they are fatal is the caller's choice ([`Dataset::ensure_valid`]), so that
/// `check` can print its table either way.
pub fn load(sources: &[DataSource]) -> Result<Dataset, DatasetError> {
    for src in sources {
        if let DataSource::Dir(p) = src {
            if !p.is_dir() {
                return Err(DatasetError::NotFound {
                    path: p.display().to_string(),
                });
            }
            if !FILES.iter().any(|f| p.join(f).exists()) {
                return Err(DatasetError::NoFiles {
                    path: p.display().to_string(),
                });
            }
        }
    }
    // The name of each source in default ids: its directory's name, or the whole path as given where two
    // sources share a name, so that two datasets never produce the same default id.
    let short: Vec<String> = sources.iter().map(DataSource::dataset_name).collect();
    let names: Vec<String> = sources
        .iter()
        .zip(&short)
        .map(|(s, n)| {
            if short.iter().filter(|m| *m == n).count() > 1 {
                s.display("").trim_end_matches('/').to_string()
            } else {
                n.clone()
            }
        })
        .collect();
    let mut l = Loader::default();
    let mut any = false;
    for table in Table::LOAD_ORDER {
        let file = table.file();
        for (src, dataset) in sources.iter().zip(&names) {
            let Some(input) = src.open(file)? else {
                continue;
            };
            any = true;
            let index = l.add_file(src, dataset, file);
            let display = src.display(file);
            let at = FileAt {
                display: &display,
                index,
                dataset,
            };
            let shown = crate::util::progress::spinner(&format!("reading {display}"));
            let stats = l.read(table, &at, input)?;
            drop(shown);
            l.ds.stats.push(stats);
            crate::util::timing::phase(&format!("load {file}"));
        }
    }
    if !any {
        let path = sources.first().map(|s| s.display("")).unwrap_or_default();
        return Err(DatasetError::NoFiles { path });
    }
    mark_superseded(&mut l.ds.flows);
    crate::util::timing::phase("load superseded");
    if let AscendingIds::Indexed(ix) = l.shipment_ids {
        l.ds.shipment_index = ix.into();
    }
    let mut ds = l.ds;
    ds.rejections = l.rejects;
    Ok(ds)
}

/// A code padded to ten digits, then its length, as the low bits of a sort key: codes starting with a prefix
/// form one contiguous run in this order, the prefix itself first.
fn code_key(h: Hs) -> u128 {
    let padded = h.code * 10u64.pow(10 - h.len as u32);
    (padded as u128) << 8 | h.len as u128
}

/// The end (exclusive) of the run of codes under `h`, as a code key.
fn code_end(h: Hs) -> u128 {
    let padded = h.code * 10u64.pow(10 - h.len as u32) + 10u64.pow(10 - h.len as u32);
    (padded as u128) << 8
}

/// A sort key: the bucket (two ids) in the high 64 bits, the code in the low.
fn bucket(a: u32, b: u32) -> u128 {
    (a as u128) << 96 | (b as u128) << 64
}

const BUCKET: u128 = !0u128 << 64;

type Group = (Country, Option<Region>, Country, Flow);

/// Ids given to values in the order they first appear, and those values in that order.
struct Interner<K> {
    ids: crate::util::fxhash::FxMap<K, u32>,
    order: Vec<K>,
}

impl<K: std::hash::Hash + Eq + Copy> Interner<K> {
    fn new() -> Self {
        Interner {
            ids: Default::default(),
            order: Vec::new(),
        }
    }

    fn id(&mut self, k: K) -> u32 {
        let n = self.order.len() as u32;
        *self.ids.entry(k).or_insert_with(|| {
            self.order.push(k);
            n
        })
    }
}

/// Rows handled at a time when the keys are computed in parallel.
const PART: usize = 1 << 16;

/// Marks coarser statistics rows that finer rows of the same reporter, region, partner and flow overlap
/// (SPEC §3): a yearly row under monthly rows of its year, an HS code under its own sub-codes.
///
/// Every row gets one sort key, (period and group, code); one sort puts the rows of a period and group
/// together with the codes under any prefix in a run just after it. A row then has a strictly finer
/// neighbour exactly when the next different key in its bucket is still inside its run. Only yearly rows
/// look further, by binary search among the monthly rows of their group and year.
///
/// The keys are computed part by part in parallel, each part numbering groups and periods as they first
/// appear in it (a row usually has those of the row before, which are then not looked up again); the
/// parts' numbers are then mapped to those of one pass in order. A file written in order (by period, then
/// group, then code) thus gives keys already in order, which the sort only checks. The result does not
/// depend on the numbering, nor on the number of threads.
pub fn mark_superseded(flows: &mut [TradeFlow]) {
    mark_superseded_in_parts(flows, PART);
}

/// [`mark_superseded`], with the keys computed `part` rows at a time.
fn mark_superseded_in_parts(flows: &mut [TradeFlow], part: usize) {
    use rayon::prelude::*;
    type Local = (Interner<Group>, Interner<Period>);
    let mut keyed: Vec<(u128, u32)> = vec![(0, 0); flows.len()];
    let parts: Vec<Local> = keyed
        .par_chunks_mut(part)
        .zip(flows.par_chunks(part))
        .enumerate()
        .map(|(n, (keys, rows))| {
            let (mut groups, mut periods) = (Interner::new(), Interner::new());
            let mut last: Option<((Group, Period), u128)> = None;
            for (j, (k, f)) in keys.iter_mut().zip(rows).enumerate() {
                let at = ((f.reporter, f.region, f.partner, f.flow), f.period);
                let b = match last {
                    Some((l, b)) if l == at => b,
                    _ => {
                        let b = bucket(periods.id(at.1), groups.id(at.0));
                        last = Some((at, b));
                        b
                    }
                };
                *k = (b | code_key(f.hs), (n * part + j) as u32);
            }
            (groups, periods)
        })
        .collect();
    let (mut groups, mut periods) = (Interner::new(), Interner::new());
    let maps: Vec<(Vec<u32>, Vec<u32>)> = parts
        .iter()
        .map(|(g, p)| {
            let g = g.order.iter().map(|&x| groups.id(x)).collect();
            (g, p.order.iter().map(|&x| periods.id(x)).collect())
        })
        .collect();
    let local = |k: u128| ((k >> 96) as usize, (k >> 64) as u32 as usize);
    keyed
        .par_chunks_mut(part)
        .zip(&maps)
        .for_each(|(keys, (g, p))| {
            for k in keys {
                let (lp, lg) = local(k.0);
                let b = bucket(
                    p.get(lp).copied().unwrap_or(0),
                    g.get(lg).copied().unwrap_or(0),
                );
                k.0 = b | (k.0 & !BUCKET);
            }
        });
    // Yearly rows with their (group, year) bucket, and the monthly rows keyed by (group, year, code), which
    // only yearly rows look at.
    let mut years = Interner::new();
    let year: Vec<(bool, u32)> = periods
        .order
        .iter()
        .map(|p| (p.is_year(), years.id(p.year)))
        .collect();
    let mut yearly: Vec<(u32, u128)> = Vec::new();
    let mut monthly: Vec<u128> = Vec::new();
    if year.iter().any(|&(y, _)| y) {
        for &(k, i) in &keyed {
            let (p, g) = local(k);
            let (is_year, y) = year.get(p).copied().unwrap_or((false, 0));
            if is_year {
                yearly.push((i, bucket(g as u32, y)));
            } else {
                monthly.push(bucket(g as u32, y) | (k & !BUCKET));
            }
        }
    }
    // The keys are distinct (they hold the row), so any sort gives the same order.
    keyed.par_sort_unstable();
    monthly.par_sort_unstable();
    let mut a = 0;
    while a < keyed.len() {
        let k = keyed[a].0;
        let mut b = a + 1;
        while b < keyed.len() && keyed[b].0 == k {
            b += 1;
        }
        let finer = keyed.get(b).is_some_and(|&(next, _)| {
            let i = keyed[a].1 as usize;
            next & BUCKET == k & BUCKET && next < (k & BUCKET) | code_end(flows[i].hs)
        });
        for &(_, i) in &keyed[a..b] {
            flows[i as usize].superseded = finer;
        }
        a = b;
    }
    for (i, year) in yearly {
        let f = &mut flows[i as usize];
        let under = {
            let at = monthly.partition_point(|&m| m < year | code_key(f.hs));
            monthly
                .get(at)
                .is_some_and(|&m| m & BUCKET == year && m < year | code_end(f.hs))
        };
        let over = (2..=f.hs.len).any(|n| {
            monthly
                .binary_search(&(year | code_key(f.hs.prefix(n))))
                .is_ok()
        });
        f.superseded |= under || over;
    }
}

/// The settings file of each source, `None` for a source without one: (file name, text).
pub fn dataset_settings(
    sources: &[DataSource],
) -> Result<Vec<Option<(String, String)>>, FileError> {
    sources.iter().map(DataSource::settings_text).collect()
}

/// Writes rejected rows as CSV: file, line, column, reason, raw; cells formula-escaped.
pub fn write_rejects(path: &Path, rejects: &[Rejection]) -> Result<(), DatasetError> {
    let err = |source: std::io::Error| DatasetError::Rejects {
        file: path.display().to_string(),
        source,
    };
    let mut buf = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        let to_io = |e: csv::Error| std::io::Error::other(e.to_string());
        w.write_record(["file", "line", "column", "reason", "raw"])
            .map_err(to_io)
            .map_err(err)?;
        for r in rejects {
            // The raw row is hostile by definition: a cell starting `=1+1` must show as text when the file
            // is opened in a spreadsheet, as in the report's CSV.
            let n = crate::util::text::neutralise;
            w.write_record([
                n(&r.at.file),
                r.at.line.to_string(),
                if r.at.column == "-" {
                    "-".into()
                } else {
                    n(&r.at.column)
                },
                n(&r.reason),
                n(&r.raw),
            ])
            .map_err(to_io)
            .map_err(err)?;
        }
        w.flush().map_err(err)?;
    }
    crate::util::output::write_atomic(path, &buf).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The rule as first written, one hash map per bucket: the reference for the sorted version.
    fn reference(flows: &[TradeFlow]) -> Vec<bool> {
        fn sort_key(h: Hs) -> (u64, u8) {
            (h.code * 10u64.pow(10 - h.len as u32), h.len)
        }
        fn has_strictly_finer(sorted: &[(u64, u8)], h: Hs, or_equal: bool) -> bool {
            let (lo, _) = sort_key(h);
            let hi = lo + 10u64.pow(10 - h.len as u32);
            let start = sorted.partition_point(|k| k.0 < lo);
            sorted[start..]
                .iter()
                .take_while(|k| k.0 < hi)
                .any(|k| k.1 > h.len || (or_equal && k.1 == h.len))
        }
        let mut by_month: HashMap<(Group, i32, u32), Vec<(u64, u8)>> = HashMap::new();
        let mut monthly_in_year: HashMap<(Group, i32), Vec<(u64, u8)>> = HashMap::new();
        let mut monthly_codes: HashSet<(Group, i32, Hs)> = HashSet::new();
        let mut yearly: HashMap<(Group, i32), Vec<(u64, u8)>> = HashMap::new();
        for f in flows {
            let g = (f.reporter, f.region, f.partner, f.flow);
            if f.period.is_year() {
                yearly
                    .entry((g, f.period.year))
                    .or_default()
                    .push(sort_key(f.hs));
            } else {
                by_month
                    .entry((g, f.period.year, f.period.month))
                    .or_default()
                    .push(sort_key(f.hs));
                monthly_in_year
                    .entry((g, f.period.year))
                    .or_default()
                    .push(sort_key(f.hs));
                monthly_codes.insert((g, f.period.year, f.hs));
            }
        }
        for v in by_month
            .values_mut()
            .chain(monthly_in_year.values_mut())
            .chain(yearly.values_mut())
        {
            v.sort_unstable();
        }
        flows
            .iter()
            .map(|f| {
                let g = (f.reporter, f.region, f.partner, f.flow);
                let y = f.period.year;
                if f.period.is_year() {
                    yearly
                        .get(&(g, y))
                        .is_some_and(|v| has_strictly_finer(v, f.hs, false))
                        || monthly_in_year
                            .get(&(g, y))
                            .is_some_and(|v| has_strictly_finer(v, f.hs, true))
                        || (2..=f.hs.len).any(|n| monthly_codes.contains(&(g, y, f.hs.prefix(n))))
                } else {
                    by_month
                        .get(&(g, y, f.period.month))
                        .is_some_and(|v| has_strictly_finer(v, f.hs, false))
                }
            })
            .collect()
    }

    fn memory(files: &[(&str, &str)]) -> DataSource {
        DataSource::Memory {
            name: "m".into(),
            files: files
                .iter()
                .map(|(n, t)| (n.to_string(), t.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn decimals_are_written_as_format_writes_them() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            12345,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut s = "x:".to_string();
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x:{n}"));
        }
    }

    /// A field the arena cannot address rejects its row, names the column, and leaves no text behind; the
    /// rows around it load, and a later row reuses its id.
    #[test]
    fn a_field_longer_than_the_arena_stores_rejects_its_row() {
        let parties = "party_id,name,country\nA,a,CN\nB,b,US\n";
        let long = "x".repeat(Text::MAX_LEN + 1);
        let fits = "y".repeat(Text::MAX_LEN);
        let ships = format!(
            "shipment_id,date,shipper,consignee,hs_code,value,description\n\
             S1,2023-01-01,A,B,6704,1,wigs\n\
             S2,2023-01-02,A,B,6704,1,{long}\n\
             S2,2023-01-03,A,B,6704,1,{fits}\n"
        );
        let flows = format!(
            "period,reporter,partner,flow,hs_code,value,regime\n\
             2023-01,CN,KP,import,6704,10,{long}\n\
             2023-01,CN,KP,import,6704,10,processing\n"
        );
        let ds = load(&[memory(&[
            ("parties.csv", parties),
            ("shipments.csv", &ships),
            ("trade_flows.csv", &flows),
        ])])
        .unwrap();
        let got: Vec<(&str, u64, &str)> = ds
            .rejections
            .iter()
            .map(|r| (r.at.file.as_str(), r.at.line, r.at.column.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("m/shipments.csv", 3, "description"),
                ("m/trade_flows.csv", 2, "regime")
            ]
        );
        assert!(ds.rejections[0].reason.contains("16777215 bytes"));
        assert_eq!(ds.shipments.len(), 2);
        assert_eq!(ds.text.get(ds.shipments[1].id), "S2");
        assert_eq!(ds.text.get(ds.shipments[1].description), fits);
        assert_eq!(ds.text.get(ds.flows[0].regime), "processing");
        // Nothing of the rejected rows is in the arena: the ids, the two kept descriptions and one regime.
        let id_len = ds.text.get(ds.flows[0].id).len();
        assert_eq!(
            ds.text.as_str().len(),
            2 + 4 + 2 + fits.len() + id_len + "processing".len()
        );
    }

    #[test]
    fn text_addresses_what_it_can_and_refuses_the_rest() {
        let t = Text::new(Text::MAX_END - 5, 5).unwrap();
        assert_eq!((t.start(), t.len()), (Text::MAX_END - 5, 5));
        let t = Text::new(7, Text::MAX_LEN as u64).unwrap();
        assert_eq!((t.start(), t.len()), (7, Text::MAX_LEN));
        assert_eq!(Text::new(Text::MAX_END - 4, 5), None);
        assert_eq!(Text::new(0, Text::MAX_LEN as u64 + 1), None);
        assert_eq!(Text::new(u64::MAX, 1), None);
        assert_eq!(Text::default().len(), 0);
        let mut a = Arena::default();
        let [x, y, z] = a.push_all([Some("ab"), None, Some("")]).unwrap();
        assert_eq!((a.get(x), a.get(y), a.get(z)), ("ab", "", ""));
        let long = "z".repeat(Text::MAX_LEN + 1);
        assert_eq!(
            a.push_all([Some("c"), Some(long.as_str())]),
            Err(TooLong::Field(1))
        );
        assert_eq!(a.as_str(), "ab");
    }

    #[test]
    fn shipment_ids_clash_in_and_out_of_order() {
        let parties = "party_id,name,country\nA,a,CN\nB,b,US\n";
        let head = "shipment_id,date,shipper,consignee,hs_code,value\n";
        let row = |id: &str| format!("{id},2023-01-01,A,B,6704,1\n");
        type Case<'a> = (&'a [&'a str], &'a [(u64, &'a str)]);
        let cases: &[Case] = &[
            (&["S1", "S2", "S3"], &[]),
            (
                &["S1", "S2", "S2"],
                &[(4, "duplicate id 'S2' (first defined at m/shipments.csv:3)")],
            ),
            (
                &["S3", "S1", "S3", "S2", "S1"],
                &[
                    (4, "duplicate id 'S3' (first defined at m/shipments.csv:2)"),
                    (6, "duplicate id 'S1' (first defined at m/shipments.csv:3)"),
                ],
            ),
            (
                &["S1", "S3", "S2", "S4", "S2", "S5"],
                &[(6, "duplicate id 'S2' (first defined at m/shipments.csv:4)")],
            ),
            (
                &["S8", "S9", "S10", "S11", "S9"],
                &[(6, "duplicate id 'S9' (first defined at m/shipments.csv:3)")],
            ),
            (
                &["S10", "S9", "S10", "S1"],
                &[(4, "duplicate id 'S10' (first defined at m/shipments.csv:2)")],
            ),
        ];
        for (ids, want) in cases {
            let text: String = head.to_string() + &ids.iter().map(|i| row(i)).collect::<String>();
            let ds = load(&[memory(&[
                ("parties.csv", parties),
                ("shipments.csv", &text),
            ])])
            .unwrap();
            let got: Vec<(u64, &str)> = ds
                .rejections
                .iter()
                .map(|r| (r.at.line, r.reason.as_str()))
                .collect();
            assert_eq!(&got, want, "{ids:?}");
            for (i, s) in ds.shipments.iter().enumerate() {
                assert_eq!(
                    ds.shipment_by_id(ds.shipment_id(s)),
                    Some(ShipmentId::from_index(i))
                );
            }
            assert_eq!(ds.shipment_by_id("S99"), None);
            assert_eq!(ds.party_by_id("B"), Some(PartyId::new(1)));
        }
    }

    #[test]
    fn default_flow_ids_clash_with_explicit_ones() {
        let head = "flow_id,period,reporter,partner,flow,hs_code,value\n";
        let row = |id: &str| format!("{id},2023-04,CN,KP,import,6704,1\n");
        let ids = [
            "",
            "",
            "m/trade_flows.csv:3",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "m/trade_flows.csv:9",
            "",
            "F1",
            "F1",
        ];
        let text: String = head.to_string() + &ids.iter().map(|i| row(i)).collect::<String>();
        let ds = load(&[memory(&[("trade_flows.csv", &text)])]).unwrap();
        let got: Vec<(u64, &str)> = ds
            .rejections
            .iter()
            .map(|r| (r.at.line, r.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    4,
                    "duplicate id 'm/trade_flows.csv:3' (first defined at m/trade_flows.csv:3)"
                ),
                (
                    13,
                    "duplicate id 'm/trade_flows.csv:9' (first defined at m/trade_flows.csv:9)"
                ),
                (
                    16,
                    "duplicate id 'F1' (first defined at m/trade_flows.csv:15)"
                ),
            ]
        );
        let twice = load(&[
            memory(&[("trade_flows.csv", &text)]),
            memory(&[("trade_flows.csv", &text)]),
        ])
        .unwrap();
        // Two sources of one name give the same default ids: every row of the second is a duplicate.
        assert_eq!(twice.flows.len(), ds.flows.len());
        assert_eq!(twice.rejections.len(), ds.rejections.len() + ids.len());
    }

    #[test]
    fn superseded_rows_match_the_reference_rule() {
        let codes = [
            "67",
            "6704",
            "670400",
            "670420",
            "6704201",
            "67042011",
            "6703",
            "670300",
            "05",
            "0501",
            "050100",
            "0501000000",
            "6704000000",
            "9999999999",
            "10",
            "1000",
        ];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut yes, mut no) = (0, 0);
        for round in 0..200 {
            let rows = 1 + next(60) as usize;
            let mut flows: Vec<TradeFlow> = (0..rows)
                .map(|_| TradeFlow {
                    id: Text::default(),
                    period: Period {
                        year: 2022 + next(2) as i32,
                        month: if next(3) == 0 { 0 } else { 1 + next(3) as u32 },
                    },
                    reporter: Country(*b"CN"),
                    region: [None, Region::parse("CN-HA").ok()][next(2) as usize],
                    partner: [Country(*b"KP"), Country(*b"US")][next(2) as usize],
                    flow: [Flow::Import, Flow::Export][next(2) as usize],
                    hs: Hs::parse(codes[next(codes.len() as u64) as usize]).unwrap(),
                    value: Decimal::ONE,
                    currency: *b"USD",
                    value_usd: Decimal::ONE,
                    quantity: None,
                    unit: Text::default(),
                    regime: Text::default(),
                    rec: Rec { file: 0, line: 0 },
                    superseded: round % 2 == 0,
                })
                .collect();
            let want = reference(&flows);
            for part in [1, 3, 7, PART] {
                for f in flows.iter_mut() {
                    f.superseded = round % 2 == 0;
                }
                mark_superseded_in_parts(&mut flows, part);
                let got: Vec<bool> = flows.iter().map(|f| f.superseded).collect();
                assert_eq!(got, want, "round {round}, parts of {part}");
            }
            let got: Vec<bool> = flows.iter().map(|f| f.superseded).collect();
            yes += got.iter().filter(|s| **s).count();
            no += got.iter().filter(|s| !**s).count();
        }
        assert!(yes > 500 && no > 500, "{yes} superseded, {no} not");
    }
}
