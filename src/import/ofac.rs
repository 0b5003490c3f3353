//! OFAC's legacy CSV files → `watchlist.csv`: `sdn.csv` (or the consolidated list's `cons_prim.csv`), with
//! `alt.csv` (aliases) and `add.csv` (addresses: the country) when given. No header row; each file's role is
//! told by its number of fields (12, 5, 6; `sdn_comments.csv` has 2 and is not used). Nulls are `-0-`, often
//! followed by a space; several programs are packed as `DPRK3] [NPWMD`. Only rows whose first field
//! (`ent_num`) is all digits are data: after the last data row, a DOS end-of-file byte (0x1A) or a footer is
//! skipped with its reason; a non-numeric row anywhere else is rejected.

use super::{Bad, Ctx, FileReport, ImportError, Source, Verdict, bad, countries};
use super::{file_error, join_list, list_item, records};
use crate::data::codes::Country;
use crate::data::dataset::Table;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Primary,
    Alt,
    Add,
    Comments,
}

impl Role {
    fn fields(self) -> usize {
        match self {
            Role::Primary => 12,
            Role::Alt => 5,
            Role::Add => 6,
            Role::Comments => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Primary => "sdn.csv layout (entries)",
            Role::Alt => "alt.csv layout (aliases)",
            Role::Add => "add.csv layout (addresses)",
            Role::Comments => "sdn_comments.csv layout (not used)",
        }
    }
}

fn is_ent_num(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// A field with OFAC's null (`-0-`, with or without trailing blanks) as `None`.
fn field(rec: &csv::StringRecord, i: usize) -> Option<&str> {
    let v = rec.get(i)?.trim();
    if v.is_empty() || v == "-0-" {
        None
    } else {
        Some(v)
    }
}

fn detect(src: &Source, recs: &[(u64, csv::StringRecord)]) -> Result<Role, ImportError> {
    let first = recs
        .iter()
        .find(|(_, r)| r.get(0).is_some_and(is_ent_num))
        .ok_or_else(|| {
            file_error(
                &src.display,
                "no row starts with a numeric ent_num: not an OFAC legacy CSV file (sdn.csv, alt.csv, add.csv)",
            )
        })?;
    let n = super::width(&first.1).max(2);
    let role = match n {
        12 => Role::Primary,
        5 => Role::Alt,
        6 => Role::Add,
        2 => Role::Comments,
        _ => {
            return Err(file_error(
                &src.display,
                format!(
                    "line {}: {n} fields: not an OFAC legacy CSV file (sdn.csv has 12 fields, alt.csv 5, add.csv 6)",
                    first.0
                ),
            ));
        }
    };
    if role == Role::Alt {
        let t = field(&first.1, 2).unwrap_or("aka").to_ascii_lowercase();
        if !["aka", "fka", "nka"].contains(&t.as_str()) {
            return Err(file_error(
                &src.display,
                format!(
                    "line {}: 5 fields but alt_type '{t}' is not aka, fka or nka: not an alt.csv file",
                    first.0
                ),
            ));
        }
    }
    Ok(role)
}

struct Entry {
    id: String,
    name: String,
    aliases: Vec<String>,
    countries: Vec<Country>,
    programs: Vec<String>,
    identifiers: Vec<String>,
    source: &'static str,
}

/// `DPRK3] [NPWMD` → `DPRK3`, `NPWMD`.
pub(crate) fn programs(s: &str) -> Vec<String> {
    s.split("] [")
        .map(|p| p.trim().trim_matches(|c| c == '[' || c == ']').trim())
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// Identifiers written in the remarks that screening can match exactly: USCC, IMO, SWIFT/BIC, digital
/// currency addresses.
pub(crate) fn remark_identifiers(remarks: &str) -> Vec<String> {
    let mut out = Vec::new();
    let first_word = |s: &str| -> Option<String> {
        s.split_whitespace()
            .next()
            .map(|w| w.trim_end_matches(['.', ',', ';']).to_string())
            .filter(|w| !w.is_empty())
    };
    for seg in remarks.split(';') {
        // OFAC writes a second value of a kind as `alt. SWIFT/BIC …`, `alt. Digital Currency Address - …`.
        let seg = seg.trim();
        let seg = seg
            .strip_prefix("alt.")
            .or_else(|| seg.strip_prefix("alt "))
            .map(str::trim_start)
            .unwrap_or(seg);
        if let Some(rest) = seg.strip_prefix("Unified Social Credit Code (USCC)") {
            if let Some(v) = first_word(rest) {
                out.push(format!("uscc:{v}"));
            }
        } else if let Some(rest) = seg.strip_prefix("SWIFT/BIC") {
            if let Some(v) = first_word(rest) {
                out.push(format!("swift:{v}"));
            }
        } else if let Some(rest) = seg.strip_prefix("Digital Currency Address - ") {
            let mut w = rest.split_whitespace();
            if let (Some(cur), Some(addr)) = (w.next(), w.next()) {
                out.push(format!(
                    "{}:{}",
                    cur.to_ascii_lowercase(),
                    addr.trim_end_matches('.')
                ));
            }
        } else if let Some(pos) = seg.find("IMO ")
            && let Some(v) = first_word(&seg[pos + 4..])
            && v.len() == 7
            && v.bytes().all(|b| b.is_ascii_digit())
        {
            out.push(format!("imo:{v}"));
        }
    }
    out
}

/// The entry an alias or address row belongs to.
fn entry_of(
    by_num: &HashMap<String, usize>,
    rejected: &HashMap<String, String>,
    num: &str,
) -> Result<usize, Bad> {
    if let Some(&e) = by_num.get(num) {
        return Ok(e);
    }
    Err(bad(
        "ent_num",
        match rejected.get(num) {
            Some(at) => format!("entry {num} of the sdn.csv given is rejected (see {at})"),
            None => format!("no entry {num} in the sdn.csv given"),
        },
    ))
}

/// Imports every file of the command.
pub(crate) fn import(ctx: &mut Ctx) -> Result<(), ImportError> {
    let mut loaded = Vec::new();
    for path in &ctx.opts.files {
        let src = super::load_source(path, encoding_rs::WINDOWS_1252)?;
        let recs = records(&src)?;
        let role = detect(&src, &recs)?;
        loaded.push((src, recs, role));
    }
    if !loaded.iter().any(|l| l.2 == Role::Primary) {
        return Err(ImportError::Usage(
            "ofac-sdn needs sdn.csv (or cons_prim.csv) in the same command: alt.csv and add.csv only add to its entries"
                .into(),
        ));
    }
    loaded.sort_by_key(|l| match l.2 {
        Role::Primary => 0,
        Role::Alt => 1,
        Role::Add => 2,
        Role::Comments => 3,
    });
    let mut entries: Vec<Entry> = Vec::new();
    let mut by_num: HashMap<String, usize> = HashMap::new();
    // Country names no table knows: (name, count, first place). The address row is still accepted.
    let mut unknown: Vec<(String, u64, String)> = Vec::new();
    // Entries of sdn.csv that were rejected, with their place: their aliases and addresses say so, rather than
    // that the entry is missing.
    let mut rejected: HashMap<String, String> = HashMap::new();
    for (src, recs, role) in &loaded {
        let mut rep = FileReport::new(src, role.name());
        let consolidated = src.name.to_ascii_lowercase().starts_with("cons");
        let last_data = recs
            .iter()
            .rposition(|(_, r)| r.get(0).is_some_and(is_ent_num));
        for (k, (line, rec)) in recs.iter().enumerate() {
            let first = rec.get(0).unwrap_or("");
            if !is_ent_num(first) {
                let stray = first
                    .trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}')
                    .is_empty()
                    && super::width(rec) <= 1;
                let v = if last_data.is_some_and(|l| k > l) {
                    Verdict::Skip(if stray {
                        "not a data row: the DOS end-of-file byte 0x1A after the last entry".into()
                    } else {
                        "not a data row: a footer after the last entry".into()
                    })
                } else if k == 0 && first.trim().eq_ignore_ascii_case("ent_num") {
                    Verdict::Skip("a header row (the official files have none)".into())
                } else {
                    super::reject(
                        "ent_num",
                        format!("'{}' is not a number: not an OFAC row", first.trim()),
                    )
                };
                ctx.tally(&mut rep, *line, rec, v);
                continue;
            }
            let n = rec.len();
            let expect = role.fields();
            if n < expect || super::width(rec) > expect {
                ctx.tally(
                    &mut rep,
                    *line,
                    rec,
                    super::reject("-", format!("expected {expect} fields, found {n}")),
                );
                continue;
            }
            let num = first.trim().to_string();
            let v: Result<(), Bad> = match role {
                Role::Comments => {
                    ctx.tally(
                        &mut rep,
                        *line,
                        rec,
                        Verdict::Skip("sdn_comments.csv is not used (extended remarks)".into()),
                    );
                    continue;
                }
                Role::Primary => (|| {
                    let name = field(rec, 1).ok_or_else(|| bad("SDN_Name", "the name is empty"))?;
                    let (prefix, source) = if consolidated {
                        ("ofac-cons", "OFAC Consolidated (non-SDN)")
                    } else {
                        ("ofac-sdn", "OFAC SDN")
                    };
                    let id = format!("{prefix}:{num}");
                    ctx.claim(Table::Watchlist, &id, format!("{}:{line}", src.display))
                        .map_err(|e| bad("ent_num", e))?;
                    by_num.insert(num.clone(), entries.len());
                    entries.push(Entry {
                        id,
                        name: list_item(name),
                        aliases: Vec::new(),
                        countries: Vec::new(),
                        programs: field(rec, 3).map(programs).unwrap_or_default(),
                        // `ofac:N` links the entry to the same entity in the CSL and OpenSanctions.
                        identifiers: field(rec, 11)
                            .map(remark_identifiers)
                            .unwrap_or_default()
                            .into_iter()
                            .chain(std::iter::once(format!("ofac:{num}")))
                            .collect(),
                        source,
                    });
                    Ok(())
                })(),
                Role::Alt => (|| {
                    let e = entry_of(&by_num, &rejected, &num)?;
                    let name = field(rec, 3).ok_or_else(|| bad("alt_name", "the name is empty"))?;
                    entries[e].aliases.push(list_item(name));
                    Ok(())
                })(),
                Role::Add => (|| {
                    let e = entry_of(&by_num, &rejected, &num)?;
                    if let Some(c) = field(rec, 4) {
                        match countries::by_name(c) {
                            Ok(named) => {
                                for c in named.countries() {
                                    if !entries[e].countries.contains(&c) {
                                        entries[e].countries.push(c);
                                    }
                                }
                            }
                            // A valid entry is never rejected for its address: the name is counted and
                            // reported, the entry keeps its other addresses' countries.
                            Err(_) => match unknown.iter_mut().find(|u| u.0 == c) {
                                Some(u) => u.1 += 1,
                                None => unknown.push((
                                    c.to_string(),
                                    1,
                                    format!("{}:{line}", src.display),
                                )),
                            },
                        }
                    }
                    Ok(())
                })(),
            };
            if *role == Role::Primary && v.is_err() {
                rejected
                    .entry(num)
                    .or_insert_with(|| format!("{}:{line}", src.display));
            }
            ctx.tally(&mut rep, *line, rec, v);
        }
        ctx.reports.push(rep);
    }
    let several = entries.iter().filter(|e| e.countries.len() > 1).count();
    for e in entries {
        let country = super::countries_cell(&e.countries);
        ctx.push(
            Table::Watchlist,
            vec![
                e.id,
                e.name,
                join_list(e.aliases.iter().map(String::as_str)),
                country,
                join_list(e.programs.iter().map(String::as_str)),
                join_list(e.identifiers.iter().map(String::as_str)),
                e.source.into(),
            ],
        );
    }
    if let Some(rep) = ctx.reports.iter_mut().find(|r| r.role.starts_with("add")) {
        if several > 0 {
            rep.notes.push(format!(
                "{several} entr(y/ies) with addresses in several countries: every country is kept"
            ));
        }
        let n: u64 = unknown.iter().map(|u| u.1).sum();
        if n > 0 {
            let names: Vec<String> = unknown
                .iter()
                .map(|(c, k, at)| format!("'{c}' ×{k} (first at {at})"))
                .collect();
            rep.notes.push(format!(
                "warning: {n} address row(s) name a country no table knows, kept without it: {}",
                names.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_programs() {
        assert_eq!(programs("DPRK3] [NPWMD"), vec!["DPRK3", "NPWMD"]);
        assert_eq!(programs("[SDGT]"), vec!["SDGT"]);
        assert_eq!(programs("DPRK3"), vec!["DPRK3"]);
    }

    #[test]
    fn identifiers_in_remarks() {
        let r = "Secondary sanctions risk: North Korea Sanctions Regulations; Unified Social Credit Code (USCC) 91410000MA00000001; Vessel Registration Identification IMO 9123456; Digital Currency Address - ETH 0x098B716B8Aaf21512996dC57EB0615e2383E2f96; SWIFT/BIC KPBKKPPY.";
        assert_eq!(
            remark_identifiers(r),
            vec![
                "uscc:91410000MA00000001",
                "imo:9123456",
                "eth:0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
                "swift:KPBKKPPY"
            ]
        );
        // Issue 15 item 7: the second SWIFT code of a 2024 entry was dropped.
        assert_eq!(
            remark_identifiers(
                "SWIFT/BIC VECARU21; alt. SWIFT/BIC VVBKRU2Y; Website www.example.ru; alt. Digital Currency Address - XBT bc1qexample; Unified Social Credit Code (USCC) 91110000X; alt. Unified Social Credit Code (USCC) 91110000Y."
            ),
            vec![
                "swift:VECARU21",
                "swift:VVBKRU2Y",
                "xbt:bc1qexample",
                "uscc:91110000X",
                "uscc:91110000Y"
            ]
        );
    }
}
