//! US CBP AMS vessel-manifest tables → `shipments.csv` and `parties.csv`. Each file's table is told by its
//! columns (header, shipper, consignee, tariff, cargodesc are used; notifyparty, billgen, container,
//! marksnumbers and hazmat are recognised and skipped); the tables join on `identifier` (one bill of lading).
//!
//! One shipment per bill and HS code: HS from the tariff table's `harmonized_number`, else from text such as
//! `HS CODE 6704.20` in the cargo description; a bill with neither is rejected. AMS has no country of
//! origin (`origin_country` stays empty) and no value: `value` is the tariff table's `harmonized_value`
//! when it is there, else 0 — and then the weight goes into the description, not `weight_kg`, so the
//! `low-price` check never reads a missing value as a cheap one. Parties are keyed by normalised name and
//! country, each spelling kept as an alias; a Chinese party's province becomes its ISO 3166-2 region when
//! the text names exactly one.

use super::{Bad, Ctx, FileReport, Header, ImportError, Verdict, bad};
use super::{cn_codes, entity, file_error, join_list, list_item, records};
use crate::data::codes::{self, Country, Date, Hs, Region};
use crate::data::dataset;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Table {
    Header,
    Shipper,
    Consignee,
    Tariff,
    CargoDesc,
    Unused(&'static str),
}

impl Table {
    fn name(self) -> String {
        match self {
            Table::Header => "AMS header table".into(),
            Table::Shipper => "AMS shipper table".into(),
            Table::Consignee => "AMS consignee table".into(),
            Table::Tariff => "AMS tariff table".into(),
            Table::CargoDesc => "AMS cargodesc table".into(),
            Table::Unused(t) => format!("AMS {t} table (not used)"),
        }
    }
}

fn detect(h: &Header) -> Option<Table> {
    if !h.has("identifier") {
        return None;
    }
    Some(if h.has("shipper_party_name") {
        Table::Shipper
    } else if h.has("consignee_name") {
        Table::Consignee
    } else if h.has("harmonized_number") {
        Table::Tariff
    } else if h.has("description_text") {
        Table::CargoDesc
    } else if h.has("notify_party_name") {
        Table::Unused("notifyparty")
    } else if h.has("master_bol_number") {
        Table::Unused("billgen")
    } else if h.has("marks_and_numbers_1") {
        Table::Unused("marksnumbers")
    } else if h.has("hazmat_classification") {
        Table::Unused("hazmatclass")
    } else if h.has("hazmat_code") {
        Table::Unused("hazmat")
    } else if h.has("seal_number_1") || h.has("equipment_description_code") {
        Table::Unused("container")
    } else if h.has("estimated_arrival_date") || h.has("actual_arrival_date") {
        Table::Header
    } else {
        return None;
    })
}

/// Reads HS codes written in free text: `HS CODE 6704.20`, `HS: 670420`, `H.S. CODE 6704.20.00`,
/// `HTS 6704200000`, `HS CODE 6704.20, 6704.90`. A code needs 4 to 10 digits.
pub(crate) fn hs_in_text(text: &str) -> Vec<Hs> {
    let up = text.to_ascii_uppercase();
    let b = up.as_bytes();
    let mut out: Vec<Hs> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let kw = if !word_start {
            0
        } else if b[i..].starts_with(b"H.S.") {
            4
        } else if b[i..].starts_with(b"HTS")
            && !b.get(i + 3).is_some_and(|c| c.is_ascii_alphabetic())
        {
            3
        } else if b[i..].starts_with(b"HS")
            && !b
                .get(i + 2)
                .is_some_and(|c| c.is_ascii_alphabetic() && !b[i + 2..].starts_with(b"CODE"))
        {
            2
        } else {
            0
        };
        if kw == 0 {
            i += 1;
            continue;
        }
        let mut j = i + kw;
        // Separators and the words CODE / NO / NUMBER between the keyword and the code.
        loop {
            while j < b.len() && matches!(b[j], b' ' | b'.' | b':' | b'#' | b'-' | b'=') {
                j += 1;
            }
            let rest = &b[j..];
            let skip = [&b"CODES"[..], b"CODE", b"NUMBER", b"NO"]
                .iter()
                .find(|w| {
                    rest.starts_with(w)
                        && !rest.get(w.len()).is_some_and(|c| c.is_ascii_alphabetic())
                })
                .map(|w| w.len());
            match skip {
                Some(n) => j += n,
                None => break,
            }
        }
        // One code, then more after ',', '/', '&' or AND.
        loop {
            let start = j;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            // Only ASCII digits and dots lie between start and j, so this never fails.
            let code = std::str::from_utf8(&b[start..j])
                .unwrap_or("")
                .trim_end_matches('.');
            let digits = code.bytes().filter(u8::is_ascii_digit).count();
            if !(4..=10).contains(&digits) {
                break;
            }
            if let Ok(h) = Hs::parse(code)
                && !out.contains(&h)
            {
                out.push(h);
            }
            let mut k = j;
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            if k < b.len() && matches!(b[k], b',' | b'/' | b'&' | b';') {
                k += 1;
            } else if b[k..].starts_with(b"AND ") {
                k += 4;
            } else {
                break;
            }
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            if k < b.len() && b[k].is_ascii_digit() {
                j = k;
            } else {
                break;
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// A weight in kilograms, from a number and AMS's unit (`Pounds`, `Kilograms`, `Metric Tons` and their
/// abbreviations), rounded to the gram.
pub(crate) fn weight_kg(value: &str, unit: Option<&str>) -> Result<Decimal, String> {
    let v = codes::parse_amount(value)?;
    let u = unit.unwrap_or("").trim().to_ascii_lowercase();
    let factor = match u.as_str() {
        "pounds" | "pound" | "lb" | "lbs" => Decimal::new(45_359_237, 8),
        "kilograms" | "kilogram" | "kg" | "kgs" | "k" => Decimal::ONE,
        "metric tons" | "metric ton" | "mt" | "tonnes" | "t" => Decimal::from(1000),
        "" => return Err(format!("weight {value} has no unit (Pounds or Kilograms)")),
        _ => return Err(format!("unknown weight unit '{}'", unit.unwrap_or(""))),
    };
    v.checked_mul(factor)
        .map(|x| x.round_dp(3).normalize())
        .ok_or_else(|| format!("weight {value} is too large"))
}

/// `2023-05-20`, `20230520` or `2023-05-20 00:00:00`.
fn parse_date(s: &str) -> Result<Date, String> {
    let t = s.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Date::parse(&format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]));
    }
    let head = t.split([' ', 'T']).next().unwrap_or(t);
    Date::parse(head)
}

struct File {
    src: super::Source,
    header: Header,
    recs: Vec<(u64, csv::StringRecord)>,
    table: Table,
    verdicts: Vec<Option<Verdict>>,
}

impl File {
    fn cell(&self, r: usize, name: &str) -> Option<&str> {
        super::cell(&self.recs[r].1, self.header.find(&[name]))
    }

    fn place(&self, r: usize) -> String {
        format!("{}:{}", self.src.display, self.recs[r].0)
    }
}

/// A tariff line: HS code, value, weight in kg.
type Line = (Hs, Option<Decimal>, Option<Decimal>);

/// Rows of one bill, as (file, row) positions.
#[derive(Default)]
struct Bill {
    headers: Vec<(usize, usize)>,
    shippers: Vec<(usize, usize)>,
    consignees: Vec<(usize, usize)>,
    tariffs: Vec<(usize, usize)>,
    descs: Vec<(usize, usize)>,
}

impl Bill {
    fn all(&self) -> impl Iterator<Item = &(usize, usize)> {
        self.headers
            .iter()
            .chain(&self.shippers)
            .chain(&self.consignees)
            .chain(&self.tariffs)
            .chain(&self.descs)
    }
}

/// A party being built from the spellings of its bills.
struct PartyAcc {
    id: String,
    name: String,
    country: Country,
    /// `None` unset, `Some(None)` conflicting provinces.
    region: Option<Option<Region>>,
    city: Option<String>,
    aliases: Vec<String>,
    new: bool,
}

#[derive(Default)]
struct Parties {
    list: Vec<PartyAcc>,
    by_key: HashMap<(String, Country), usize>,
}

fn clean_name(s: &str) -> String {
    list_item(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn slug(norm: &str, country: Country) -> String {
    let mut s = format!(
        "{}-{}",
        country.as_str().to_ascii_lowercase(),
        norm.replace(' ', "-")
    );
    if norm.is_empty() {
        s.push_str("party");
    }
    if s.len() > 60 {
        let mut cut = 60;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s = s.trim_end_matches('-').to_string();
    }
    s
}

/// The region a party row names: a Chinese province (state_province, else city, else the one province
/// named in the address lines), or a US state.
fn region_of(f: &File, r: usize, country: Country) -> Option<Region> {
    let state = f.cell(r, "state_province");
    match country.as_str() {
        "CN" => {
            let iso = state
                .and_then(cn_codes::province_by_name)
                .or_else(|| f.cell(r, "city").and_then(cn_codes::province_by_name))
                .or_else(|| cn_codes::province_in_text(&address_cells(f, r).join(" ")))?;
            Region::parse(iso).ok()
        }
        "US" => {
            let s = state?.trim();
            if s.len() == 2 {
                Region::parse(&format!("US-{}", s.to_ascii_uppercase())).ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The non-empty address and city cells of row `r`: what the province search and the entity matcher read.
fn address_cells(f: &File, r: usize) -> Vec<&str> {
    f.header
        .names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.contains("address") || *n == "city")
        .filter_map(|(i, _)| super::cell(&f.recs[r].1, Some(i)))
        .collect()
}

/// The existing party a shipper or consignee row is, by `entity_map.csv` (a person's decision first), then by
/// the matcher (identifiers, country, normalised name, address) against the parties already in DIR. The
/// decision is recorded in the map.
fn match_existing(
    ctx: &mut Ctx,
    f: &File,
    r: usize,
    raw: &str,
    country: Country,
) -> Option<String> {
    let c = country.to_string();
    let (mapped, not) = ctx.entity_map.lookup(raw, &c);
    let not: Vec<String> = not.into_iter().map(String::from).collect();
    // A person's `same` wins, when the party it names exists (else the matcher decides, as if unmapped).
    if let Some(m) = mapped
        && m.by_person()
        && ctx.existing.firms.iter().any(|(id, _)| *id == m.party_id)
    {
        return Some(m.party_id.clone());
    }
    let address = address_cells(f, r);
    let me = entity::Firm {
        name: raw.to_string(),
        country: Some(country),
        address: address.join(", "),
        identifiers: Vec::new(),
    };
    let norm = crate::data::names::normalize(raw);
    let exact = ctx
        .existing
        .parties
        .get(&(norm, country))
        .filter(|id| !not.contains(id))
        .cloned();
    let best = match exact {
        Some(id) => Some((id, 1.0, "name")),
        None => {
            let mut cands: Vec<usize> = crate::data::names::tokens(raw)
                .iter()
                .filter_map(|t| ctx.existing.firm_tokens.get(t))
                .filter(|v| v.len() <= entity::MAX_BLOCK)
                .flatten()
                .copied()
                .collect();
            cands.sort_unstable();
            cands.dedup();
            cands
                .into_iter()
                .filter_map(|k| {
                    let (id, firm) = &ctx.existing.firms[k];
                    let d = entity::decide(&me, firm);
                    (d.same && !not.contains(id)).then(|| (id.clone(), d.score, d.basis))
                })
                .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
        }
    };
    let (id, score, basis) = best?;
    ctx.entity_map.record(entity::MapRow {
        source_name: raw.to_string(),
        country: c,
        party_id: id.clone(),
        same: true,
        decided_by: format!("matcher:{basis}"),
        score: format!("{score:.3}"),
    });
    ctx.entity_dirty = true;
    Some(id)
}

impl Parties {
    /// The party of a shipper or consignee row, created or extended.
    fn resolve(
        &mut self,
        ctx: &mut Ctx,
        f: &File,
        r: usize,
        name_col: &str,
        country: Country,
    ) -> String {
        let raw = clean_name(f.cell(r, name_col).unwrap_or(""));
        let norm = crate::data::names::normalize(&raw);
        let key = if norm.is_empty() {
            (raw.to_lowercase(), country)
        } else {
            (norm.clone(), country)
        };
        let region = region_of(f, r, country);
        let city = f.cell(r, "city").map(clean_name);
        let idx = match self.by_key.get(&key) {
            Some(&i) => i,
            None => {
                let found = match_existing(ctx, f, r, &raw, country);
                let (id, new) = match found {
                    Some(id) => (id, false),
                    None => {
                        let base = slug(&norm, country);
                        let mut id = base.clone();
                        let mut n = 2;
                        while ctx.taken(dataset::Table::Parties, &id) {
                            id = format!("{base}-{n}");
                            n += 1;
                        }
                        let _ = ctx.claim(dataset::Table::Parties, &id, f.place(r));
                        ctx.entity_map.record(entity::MapRow {
                            source_name: raw.clone(),
                            country: country.to_string(),
                            party_id: id.clone(),
                            same: true,
                            decided_by: "matcher:new".into(),
                            score: String::new(),
                        });
                        ctx.entity_dirty = true;
                        (id, true)
                    }
                };
                self.list.push(PartyAcc {
                    id,
                    name: raw.clone(),
                    country,
                    region: None,
                    city: None,
                    aliases: Vec::new(),
                    new,
                });
                self.by_key.insert(key, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let p = &mut self.list[idx];
        if p.name != raw && !p.aliases.contains(&raw) {
            p.aliases.push(raw);
        }
        if let Some(reg) = region {
            p.region = match p.region {
                None => Some(Some(reg)),
                Some(Some(old)) if old == reg => Some(Some(old)),
                _ => Some(None),
            };
        }
        if p.city.is_none() {
            p.city = city;
        }
        p.id.clone()
    }
}

/// Imports every file of the command.
pub(crate) fn import(ctx: &mut Ctx) -> Result<(), ImportError> {
    let mut files: Vec<File> = Vec::new();
    for path in &ctx.opts.files {
        let src = super::load_source(path, encoding_rs::WINDOWS_1252)?;
        let mut recs = records(&src)?;
        if recs.is_empty() {
            return Err(file_error(&src.display, "the file is empty"));
        }
        let (_, first) = recs.remove(0);
        let header = Header::new(&first);
        let table = detect(&header).ok_or_else(|| {
            file_error(
                &src.display,
                format!(
                    "header: not an AMS table (expected 'identifier' and the columns of the header, shipper, consignee, tariff or cargodesc table); found: {}",
                    header.names.join(", ")
                ),
            )
        })?;
        if let Some(d) = header.duplicate() {
            return Err(file_error(
                &src.display,
                format!("header: column '{d}' appears twice"),
            ));
        }
        let n = recs.len();
        files.push(File {
            src,
            header,
            recs,
            table,
            verdicts: (0..n).map(|_| None).collect(),
        });
    }
    for (t, what) in [
        (Table::Header, "header"),
        (Table::Shipper, "shipper"),
        (Table::Consignee, "consignee"),
    ] {
        if !files.iter().any(|f| f.table == t) {
            return Err(ImportError::Usage(format!(
                "ams needs the {what} table in the same command (header, shipper and consignee, plus tariff and/or cargodesc for the HS codes); got: {}",
                files
                    .iter()
                    .map(|f| f.table.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if !files
        .iter()
        .any(|f| matches!(f.table, Table::Tariff | Table::CargoDesc))
    {
        return Err(ImportError::Usage(
            "ams needs the tariff or the cargodesc table for the HS codes".into(),
        ));
    }
    // Group rows by bill; unused tables and rows without an identifier are settled now.
    let mut bills: BTreeMap<String, Bill> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (fi, f) in files.iter_mut().enumerate() {
        for r in 0..f.recs.len() {
            if let Table::Unused(t) = f.table {
                f.verdicts[r] = Some(Verdict::Skip(format!("the AMS {t} table is not used")));
                continue;
            }
            let w = super::width(&f.recs[r].1);
            if w > f.header.names.len() {
                f.verdicts[r] = Some(super::reject(
                    "-",
                    format!("expected {} fields, found {w}", f.header.names.len()),
                ));
                continue;
            }
            let Some(id) = super::cell(&f.recs[r].1, f.header.find(&["identifier"])) else {
                f.verdicts[r] = Some(super::reject("identifier", "required value is empty"));
                continue;
            };
            if !bills.contains_key(id) {
                order.push(id.to_string());
            }
            let b = bills.entry(id.to_string()).or_default();
            match f.table {
                Table::Header => b.headers.push((fi, r)),
                Table::Shipper => b.shippers.push((fi, r)),
                Table::Consignee => b.consignees.push((fi, r)),
                Table::Tariff => b.tariffs.push((fi, r)),
                Table::CargoDesc => b.descs.push((fi, r)),
                Table::Unused(_) => unreachable!(),
            }
        }
    }
    let mut parties = Parties::default();
    let mut no_value = 0usize;
    let mut us_default = 0usize;
    for id in order {
        let b = &bills[&id];
        settle_bill(
            ctx,
            &mut files,
            &mut parties,
            &id,
            b,
            &mut no_value,
            &mut us_default,
        );
    }
    // Account for every row, file by file.
    let mut ambiguous = 0usize;
    for p in &parties.list {
        if matches!(p.region, Some(None)) {
            ambiguous += 1;
        }
        if !p.new {
            continue;
        }
        ctx.push(
            dataset::Table::Parties,
            vec![
                p.id.clone(),
                p.name.clone(),
                p.country.to_string(),
                p.region
                    .flatten()
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                p.city.clone().unwrap_or_default(),
                join_list(p.aliases.iter().map(String::as_str)),
                String::new(),
            ],
        );
    }
    let reused = parties.list.iter().filter(|p| !p.new).count();
    for f in &mut files {
        let mut rep = FileReport::new(&f.src, f.table.name());
        for r in 0..f.recs.len() {
            let v = f.verdicts[r].take().unwrap_or(Verdict::Accept);
            let (line, rec) = &f.recs[r];
            ctx.tally(&mut rep, *line, rec, v);
        }
        match f.table {
            Table::Header => {
                if no_value > 0 {
                    rep.notes.push(format!(
                        "{no_value} shipment(s) without harmonized_value: written with value 0 (AMS carries no value); their weight is in the description, not weight_kg"
                    ));
                }
                rep.notes
                    .push("origin_country left empty: AMS has no country of origin".into());
            }
            Table::Consignee if us_default > 0 => rep.notes.push(format!(
                "{us_default} consignee row(s) without country_code taken as US (AMS lists imports into the US)"
            )),
            Table::Shipper => {
                if reused > 0 {
                    rep.notes.push(format!(
                        "{reused} part(y/ies) already in the dataset (same normalised name and country) reused"
                    ));
                }
                if ambiguous > 0 {
                    rep.notes.push(format!(
                        "{ambiguous} part(y/ies) whose rows name different provinces or states: written without a region"
                    ));
                }
            }
            _ => {}
        }
        ctx.reports.push(rep);
    }
    Ok(())
}

fn set(files: &mut [File], at: (usize, usize), v: Verdict) {
    let slot = &mut files[at.0].verdicts[at.1];
    if slot.is_none() {
        *slot = Some(v);
    }
}

/// The last of several rows for one bill wins; the earlier ones are skipped.
fn last_of(files: &mut [File], rows: &[(usize, usize)], what: &str) -> Option<(usize, usize)> {
    let last = *rows.last()?;
    for &r in &rows[..rows.len() - 1] {
        set(
            files,
            r,
            Verdict::Skip(format!(
                "superseded by a later {what} row for the same bill (an amendment)"
            )),
        );
    }
    Some(last)
}

#[allow(clippy::too_many_arguments)]
fn settle_bill(
    ctx: &mut Ctx,
    files: &mut [File],
    parties: &mut Parties,
    id: &str,
    b: &Bill,
    no_value: &mut usize,
    us_default: &mut usize,
) {
    let Some(h) = last_of(files, &b.headers, "header") else {
        for &r in b.all() {
            set(
                files,
                r,
                super::reject(
                    "identifier",
                    format!("no header row for bill {id} in the header table(s) given"),
                ),
            );
        }
        return;
    };
    let hf = &files[h.0];
    if hf
        .cell(h.1, "record_status_indicator")
        .is_some_and(|s| s.eq_ignore_ascii_case("deleted"))
    {
        for &r in b.all() {
            set(
                files,
                r,
                Verdict::Skip("the bill is deleted (record_status_indicator Deleted)".into()),
            );
        }
        return;
    }
    let header_place = hf.place(h.1);
    let shipper = last_of(files, &b.shippers, "shipper");
    let consignee = last_of(files, &b.consignees, "consignee");
    // Judge the party rows.
    let party_row = |files: &[File], at: Option<(usize, usize)>, what: &str, name_col: &str| {
        let Some(at) = at else {
            return Err((None, format!("no {what} row for this bill")));
        };
        let f = &files[at.0];
        if f.cell(at.1, name_col).is_none() {
            return Err((
                Some((
                    at,
                    name_col.to_string(),
                    format!("the {what} name is empty (suppressed on request?)"),
                )),
                format!("no usable {what} row ({})", f.place(at.1)),
            ));
        }
        match f.cell(at.1, "country_code") {
            None if what == "consignee" => Ok((at, None)),
            None => Err((
                Some((
                    at,
                    "country_code".into(),
                    format!("the {what}'s country_code is empty"),
                )),
                format!("no usable {what} row ({})", f.place(at.1)),
            )),
            Some(c) => match Country::parse(c) {
                Ok(c) => Ok((at, Some(c))),
                Err(e) => Err((
                    Some((at, "country_code".into(), e)),
                    format!("no usable {what} row ({})", f.place(at.1)),
                )),
            },
        }
    };
    let s = party_row(files, shipper, "shipper", "shipper_party_name");
    let c = party_row(files, consignee, "consignee", "consignee_name");
    // Judge the tariff rows. A line repeated (same container and line number, an amendment in a later
    // drop) counts once: the last one.
    let mut latest: HashMap<(String, String), (usize, usize)> = HashMap::new();
    let mut tariffs: Vec<(usize, usize)> = Vec::new();
    for &t in &b.tariffs {
        let f = &files[t.0];
        let key = (
            f.cell(t.1, "container_number").unwrap_or("").to_string(),
            f.cell(t.1, "description_sequence_number")
                .unwrap_or("")
                .to_string(),
        );
        if !key.1.is_empty()
            && let Some(prev) = latest.insert(key, t)
        {
            tariffs.retain(|x| *x != prev);
            set(
                files,
                prev,
                Verdict::Skip(
                    "superseded by a later tariff row for the same bill, container and line (an amendment)"
                        .into(),
                ),
            );
        }
        tariffs.push(t);
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut tariff_problem: Option<String> = None;
    for &t in &tariffs {
        let f = &files[t.0];
        let r: Result<Option<Line>, Bad> = (|| {
            let Some(num) = f.cell(t.1, "harmonized_number") else {
                return Ok(None);
            };
            let digits: String = num
                .chars()
                .filter(|c| !matches!(c, '.' | ' ' | '-'))
                .collect();
            let hs = Hs::parse(&digits).map_err(|e| bad("harmonized_number", e))?;
            if hs.code == 0 {
                return Err(bad(
                    "harmonized_number",
                    format!("'{num}' is all zeros, not an HS code"),
                ));
            }
            let value = f
                .cell(t.1, "harmonized_value")
                .map(|v| codes::parse_amount(v).map_err(|e| bad("harmonized_value", e)))
                .transpose()?
                .filter(|v| !v.is_zero());
            let weight = f
                .cell(t.1, "harmonized_weight")
                .map(|w| {
                    weight_kg(w, f.cell(t.1, "harmonized_weight_unit"))
                        .map_err(|e| bad("harmonized_weight", e))
                })
                .transpose()?
                .filter(|w| !w.is_zero());
            Ok(Some((hs, value, weight)))
        })();
        match r {
            Ok(Some(l)) => lines.push(l),
            Ok(None) => {}
            Err(e) => {
                tariff_problem = Some(format!("{} ({})", e.1, f.place(t.1)));
                set(files, t, e.into());
            }
        }
    }
    let mut desc_texts: Vec<String> = Vec::new();
    let mut desc_hs: Vec<Hs> = Vec::new();
    for &d in &b.descs {
        if let Some(t) = files[d.0].cell(d.1, "description_text") {
            for h in hs_in_text(t) {
                if !desc_hs.contains(&h) {
                    desc_hs.push(h);
                }
            }
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            if !desc_texts.contains(&t) {
                desc_texts.push(t);
            }
        }
    }
    // Judge the header row; every failure rejects the bill.
    let outcome: Result<(), Bad> = (|| {
        let hf = &files[h.0];
        let date = match (
            hf.cell(h.1, "actual_arrival_date"),
            hf.cell(h.1, "estimated_arrival_date"),
        ) {
            (Some(a), _) => parse_date(a).map_err(|e| bad("actual_arrival_date", e))?,
            (None, Some(e)) => parse_date(e).map_err(|m| bad("estimated_arrival_date", m))?,
            (None, None) => {
                return Err(bad(
                    "actual_arrival_date",
                    "no arrival date (actual_arrival_date and estimated_arrival_date are empty)",
                ));
            }
        };
        let gross = hf
            .cell(h.1, "weight")
            .map(|w| weight_kg(w, hf.cell(h.1, "weight_unit")).map_err(|e| bad("weight", e)))
            .transpose()?;
        let manifest_qty = hf
            .cell(h.1, "manifest_quantity")
            .map(|q| codes::parse_amount(q).map_err(|e| bad("manifest_quantity", e)))
            .transpose()?;
        let (s_at, s_country) = s.clone().map_err(|e| bad("identifier", e.1))?;
        let (c_at, c_country) = c.clone().map_err(|e| bad("identifier", e.1))?;
        let mut codes_: Vec<Hs> = Vec::new();
        for l in &lines {
            if !codes_.contains(&l.0) {
                codes_.push(l.0);
            }
        }
        if codes_.is_empty() {
            codes_ = desc_hs.clone();
        }
        if codes_.is_empty() {
            let why = match &tariff_problem {
                Some(p) => format!("no usable HS code: {p}, and no 'HS CODE' in the cargo description"),
                None => "no HS code: harmonized_number is empty or missing and the cargo description has no 'HS CODE ...'".into(),
            };
            return Err(bad("identifier", why));
        }
        let ids: Vec<String> = if codes_.len() == 1 {
            vec![id.to_string()]
        } else {
            codes_.iter().map(|h| format!("{id}-{h}")).collect()
        };
        for sid in &ids {
            ctx.claim(dataset::Table::Shipments, sid, header_place.clone())
                .map_err(|e| bad("identifier", e))?;
        }
        let shipper_id = parties.resolve(
            ctx,
            &files[s_at.0],
            s_at.1,
            "shipper_party_name",
            s_country.unwrap_or(Country(*b"US")),
        );
        let consignee_country = match c_country {
            Some(c) => c,
            None => {
                *us_default += 1;
                Country(*b"US")
            }
        };
        let consignee_id = parties.resolve(
            ctx,
            &files[c_at.0],
            c_at.1,
            "consignee_name",
            consignee_country,
        );
        let hf = &files[h.0];
        let single = codes_.len() == 1;
        for (sid, hs) in ids.iter().zip(&codes_) {
            let mine: Vec<&Line> = lines.iter().filter(|l| l.0 == *hs).collect();
            let value: Option<Decimal> = {
                let vs: Vec<Decimal> = mine.iter().filter_map(|l| l.1).collect();
                if vs.is_empty() {
                    None
                } else {
                    Some(vs.iter().sum())
                }
            };
            let weight: Option<Decimal> = {
                let ws: Vec<Decimal> = mine.iter().filter_map(|l| l.2).collect();
                if !ws.is_empty() && ws.len() == mine.len() {
                    Some(ws.iter().sum())
                } else if single {
                    gross
                } else {
                    None
                }
            };
            let mut description = desc_texts.join(" | ");
            if description.len() > 300 {
                let mut cut = 300;
                while !description.is_char_boundary(cut) {
                    cut -= 1;
                }
                description.truncate(cut);
                description.push('…');
            }
            let (value_s, weight_s) = match value {
                Some(v) => (
                    v.to_string(),
                    weight.map(|w| w.to_string()).unwrap_or_default(),
                ),
                None => {
                    *no_value += 1;
                    let note = match weight {
                        Some(w) => format!("[AMS gives no value; weight {w} kg]"),
                        None => "[AMS gives no value]".to_string(),
                    };
                    description = if description.is_empty() {
                        note
                    } else {
                        format!("{description} {note}")
                    };
                    ("0".to_string(), String::new())
                }
            };
            let (qty, unit) = match (single, manifest_qty) {
                (true, Some(q)) => (
                    q.to_string(),
                    hf.cell(h.1, "manifest_unit").unwrap_or("").to_string(),
                ),
                _ => (String::new(), String::new()),
            };
            ctx.push(
                dataset::Table::Shipments,
                vec![
                    sid.clone(),
                    date.to_string(),
                    shipper_id.clone(),
                    consignee_id.clone(),
                    hs.to_string(),
                    value_s,
                    "USD".into(),
                    qty,
                    unit,
                    weight_s,
                    String::new(),
                    description,
                    hf.cell(h.1, "foreign_port_of_lading")
                        .unwrap_or("")
                        .to_string(),
                    hf.cell(h.1, "port_of_unlading").unwrap_or("").to_string(),
                ],
            );
        }
        Ok(())
    })();
    // Party rows that are themselves broken carry their own reason.
    for p in [&s, &c] {
        if let Err((Some((at, col, why)), _)) = p {
            set(files, *at, super::reject(col, why.clone()));
        }
    }
    match outcome {
        Ok(()) => {
            for &r in b.all() {
                set(files, r, Verdict::Accept);
            }
        }
        Err(e) => {
            set(files, h, e.into());
            for &r in b.all() {
                set(
                    files,
                    r,
                    super::reject(
                        "identifier",
                        format!("bill {id} is rejected (see {header_place})"),
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(v: &[&str]) -> Vec<Hs> {
        v.iter().map(|s| Hs::parse(s).unwrap()).collect()
    }

    #[test]
    fn hs_codes_in_cargo_text() {
        assert_eq!(
            hs_in_text("HUMAN HAIR WIGS HS CODE 6704.20"),
            hs(&["670420"])
        );
        assert_eq!(hs_in_text("wigs hs code:670420 200 ctns"), hs(&["670420"]));
        assert_eq!(hs_in_text("H.S. CODE 6704.20.00"), hs(&["67042000"]));
        assert_eq!(hs_in_text("HTS 6704200000"), hs(&["6704200000"]));
        assert_eq!(
            hs_in_text("HS CODE 6704.20, 6704.90"),
            hs(&["670420", "670490"])
        );
        assert_eq!(
            hs_in_text("HS#670420 AND 670411"),
            hs(&["670420", "670411"])
        );
        assert!(hs_in_text("2 PALLETS HSIANG BRAND 1234").is_empty());
        assert!(hs_in_text("HS 12").is_empty());
        assert!(hs_in_text("THIS SHIPMENT 6704").is_empty());
    }

    /// Issue 14 item 1: the scan stepped byte by byte and sliced the text inside a multi-byte character.
    #[test]
    fn hs_codes_in_non_ascii_text_never_panic() {
        assert!(hs_in_text("PERRUQUES É").is_empty());
        assert_eq!(hs_in_text("PERRUQUES É HS CODE 6704.20"), hs(&["670420"]));
        assert_eq!(hs_in_text("假发 HS：670420 ÉHS 6704.19"), hs(&["670419"]));
        assert_eq!(hs_in_text("ÉÉHS 670411 ÀND 670420"), hs(&["670411"]));
        for s in [
            "É",
            "HÉ",
            "HSÉ",
            "HS É",
            "HS 6704É",
            "HS 670420,É",
            "€HS 670420 AND É",
        ] {
            let _ = hs_in_text(s);
        }
    }

    #[test]
    fn weights() {
        assert_eq!(
            weight_kg("1000", Some("Pounds")).unwrap().to_string(),
            "453.592"
        );
        assert_eq!(
            weight_kg("250", Some("Kilograms")).unwrap().to_string(),
            "250"
        );
        assert!(weight_kg("250", Some("Stones")).is_err());
        assert!(weight_kg("250", None).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("20230520").unwrap().to_string(), "2023-05-20");
        assert_eq!(
            parse_date("2023-05-20 00:00:00").unwrap().to_string(),
            "2023-05-20"
        );
        assert!(parse_date("05/20/2023").is_err());
    }
}
