//! The US Consolidated Screening List CSV (trade.gov) → `watchlist.csv`. Columns by header name (two column
//! orders are in circulation); `alt_names`, `addresses`, `programs` and `ids` are `;`-separated. A trailing
//! row holding only a DOS end-of-file byte (0x1A) is skipped.

use super::{Bad, Ctx, FileReport, Header, ImportError, Verdict, bad, countries};
use super::{file_error, join_list, list_item, split_multi};
use crate::data::codes::Country;
use crate::data::dataset::Table;

const USED: &[&str] = &[
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "alt_names",
    "addresses",
    "nationalities",
    "citizenships",
    "ids",
];

/// A scheme name from an identifier type: `Unified Social Credit Code (USCC)` → `uscc`, `Registration ID` →
/// `registration-id`.
pub(crate) fn scheme(t: &str) -> String {
    let l = t.to_ascii_lowercase();
    if l.contains("uscc") || l.contains("unified social credit") {
        return "uscc".into();
    }
    if l.contains("swift") {
        return "swift".into();
    }
    if l.starts_with("imo") || l.contains(" imo") {
        return "imo".into();
    }
    let s: String = l
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() { "id".into() } else { s }
}

/// The country of an address written as `street, city, state, postal code, country`, when its last part is
/// a country code or name.
/// A two-letter last part counts only after a postal code or in a five-part address, so that a US state
/// (`SCOTTSDALE, AZ`) is never read as a country (Azerbaijan).
fn address_country(a: &str) -> Option<Country> {
    let parts: Vec<&str> = a.split(',').map(str::trim).collect();
    let last = *parts.last()?;
    if last.len() <= 3 {
        let prev = parts.len().checked_sub(2).map(|i| parts[i]).unwrap_or("");
        if parts.len() < 5 && !prev.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    match countries::by_name(last) {
        Ok(countries::Named::Country(c)) => Some(c),
        _ => None,
    }
}

/// Imports every file of the command.
pub(crate) fn import(ctx: &mut Ctx) -> Result<(), ImportError> {
    for path in ctx.opts.files.clone() {
        let src = super::load_source(&path, encoding_rs::WINDOWS_1252)?;
        let mut rows = super::Rows::new(&src);
        let Some((_, first)) = rows.next()? else {
            return Err(file_error(&src.display, "the file is empty"));
        };
        let h = Header::new(first);
        let Some(name) = h.find(&["name"]) else {
            return Err(file_error(
                &src.display,
                format!(
                    "header: not a Consolidated Screening List CSV (no 'name' column); found: {}",
                    h.names.join(", ")
                ),
            ));
        };
        let id_col = h.find(&["_id"]);
        let num_col = h.find(&["entity_number"]);
        if id_col.is_none() && num_col.is_none() {
            return Err(file_error(
                &src.display,
                "header: no '_id' nor 'entity_number' column to identify entries",
            ));
        }
        if let Some(d) = h.duplicate() {
            return Err(file_error(
                &src.display,
                format!("header: column '{d}' appears twice"),
            ));
        }
        let source = h.find(&["source"]);
        let programs = h.find(&["programs"]);
        let alt = h.find(&["alt_names"]);
        let addresses = h.find(&["addresses"]);
        let nationalities = h.find(&["nationalities"]);
        let citizenships = h.find(&["citizenships"]);
        let ids = h.find(&["ids"]);
        let mut rep = FileReport::new(&src, "Consolidated Screening List CSV");
        let ignored = h.unknown(USED);
        if !ignored.is_empty() {
            rep.notes
                .push(format!("columns not used: {}", ignored.join(", ")));
        }
        let width = h.names.len();
        while let Some((line, rec)) = rows.next()? {
            let only_eof = super::width(rec) <= 1
                && rec
                    .get(0)
                    .unwrap_or("")
                    .trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}')
                    .is_empty();
            if only_eof {
                ctx.tally(
                    &mut rep,
                    line,
                    rec,
                    Verdict::Skip("not a data row: the DOS end-of-file byte 0x1A".into()),
                );
                continue;
            }
            let v: Result<(), Bad> = (|| {
                let n = super::width(rec);
                if n > width {
                    return Err(bad("-", format!("expected {width} fields, found {n}")));
                }
                let cell = |i: Option<usize>| super::cell(rec, i);
                let multi = |i: Option<usize>| cell(i).map(split_multi).unwrap_or_default();
                let nm = cell(Some(name)).ok_or_else(|| bad("name", "required value is empty"))?;
                let key = cell(id_col)
                    .or(cell(num_col))
                    .ok_or_else(|| bad("_id", "no _id nor entity_number"))?;
                let entry_id = format!("csl:{key}");
                ctx.claim(
                    Table::Watchlist,
                    &entry_id,
                    format!("{}:{line}", src.display),
                )
                .map_err(|e| bad("_id", e))?;
                let from_addresses: Vec<Country> = multi(addresses)
                    .iter()
                    .filter_map(|a| address_country(a))
                    .collect();
                let from_people: Vec<Country> = multi(nationalities)
                    .into_iter()
                    .chain(multi(citizenships))
                    .filter_map(|c| match countries::by_name(&c) {
                        Ok(countries::Named::Country(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                // Addresses say where a firm is; a person's nationalities only when no address does.
                let country = super::countries_cell(if from_addresses.is_empty() {
                    &from_people
                } else {
                    &from_addresses
                });
                // An entry from one of OFAC's lists carries OFAC's ent_num: `ofac:N` links it to the entry of
                // an OFAC import (screening shows the two as one hit).
                let ofac_num = cell(num_col).filter(|n| {
                    n.bytes().all(|b| b.is_ascii_digit())
                        && cell(source).is_some_and(|s| s.contains("Treasury Department"))
                });
                let identifiers: Vec<String> = multi(ids)
                    .iter()
                    .filter_map(|item| {
                        let parts: Vec<&str> = item.split(',').map(str::trim).collect();
                        match parts.as_slice() {
                            [] | [""] => None,
                            [v] => Some(format!("id:{v}")),
                            [t, v, ..] if !v.is_empty() => Some(format!("{}:{v}", scheme(t))),
                            _ => None,
                        }
                    })
                    .chain(ofac_num.map(|n| format!("ofac:{n}")))
                    .collect();
                ctx.push(
                    Table::Watchlist,
                    vec![
                        entry_id,
                        list_item(nm),
                        join_list(multi(alt).iter().map(String::as_str)),
                        country,
                        join_list(multi(programs).iter().map(String::as_str)),
                        join_list(identifiers.iter().map(String::as_str)),
                        cell(source).map(list_item).unwrap_or_else(|| "CSL".into()),
                    ],
                );
                Ok(())
            })();
            ctx.tally(&mut rep, line, rec, v);
        }
        ctx.reports.push(rep);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_countries() {
        assert_eq!(scheme("Unified Social Credit Code (USCC)"), "uscc");
        assert_eq!(scheme("Registration ID"), "registration-id");
        assert_eq!(
            address_country("No. 9 Riverside Road, Dandong, Liaoning, 118000, CN"),
            Some(Country::parse("CN").unwrap())
        );
        assert_eq!(
            address_country("123 S. TEST DRIVE, SCOTTSDALE, AZ, 85251"),
            None
        );
        assert_eq!(address_country("1 Main St, SCOTTSDALE, AZ"), None);
        assert_eq!(
            address_country("Pyongyang, Korea, North"),
            None,
            "a comma inside the country name leaves only 'North'"
        );
        assert_eq!(
            address_country("Sinuiju, North Korea"),
            Some(Country::parse("KP").unwrap())
        );
    }
}
