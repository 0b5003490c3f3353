//! OpenSanctions `targets.simple.csv` → `watchlist.csv`. Columns by header name (the order and the column set
//! change between versions; extra columns are ignored); multi-valued cells are `;`-joined; countries are
//! lowercase alpha-2 codes.

use super::{Bad, Ctx, FileReport, Header, ImportError, bad, file_error};
use super::{join_list, list_item, split_multi};
use crate::data::codes::Country;
use crate::data::dataset::Table;

const USED: &[&str] = &[
    "id",
    "schema",
    "name",
    "aliases",
    "countries",
    "identifiers",
    "sanctions",
    "sanction",
    "program_ids",
    "dataset",
];

/// Imports every file of the command.
pub(crate) fn import(ctx: &mut Ctx) -> Result<(), ImportError> {
    for path in ctx.opts.files.clone() {
        let src = super::load_source(&path, encoding_rs::WINDOWS_1252)?;
        let mut rows = super::Rows::new(&src);
        let Some((_, first)) = rows.next()? else {
            return Err(file_error(&src.display, "the file is empty"));
        };
        let h = Header::new(first);
        let (Some(id), Some(name)) = (h.find(&["id"]), h.find(&["name"])) else {
            return Err(file_error(
                &src.display,
                format!(
                    "header: not an OpenSanctions simple CSV (needs 'id' and 'name'); found: {}",
                    h.names.join(", ")
                ),
            ));
        };
        if let Some(d) = h.duplicate() {
            return Err(file_error(
                &src.display,
                format!("header: column '{d}' appears twice"),
            ));
        }
        let aliases = h.find(&["aliases"]);
        let countries = h.find(&["countries"]);
        let identifiers = h.find(&["identifiers"]);
        let sanctions = h.find(&["sanctions", "sanction"]);
        let program_ids = h.find(&["program_ids"]);
        let dataset = h.find(&["dataset"]);
        let mut rep = FileReport::new(&src, "OpenSanctions targets.simple.csv");
        let ignored = h.unknown(USED);
        if !ignored.is_empty() {
            rep.notes
                .push(format!("columns not used: {}", ignored.join(", ")));
        }
        let width = h.names.len();
        let mut odd_countries: Vec<String> = Vec::new();
        let mut several = 0usize;
        while let Some((line, rec)) = rows.next()? {
            let v: Result<(), Bad> = (|| {
                let n = super::width(rec);
                if n > width {
                    return Err(bad("-", format!("expected {width} fields, found {n}")));
                }
                let eid = super::cell(rec, Some(id))
                    .ok_or_else(|| bad("id", "required value is empty"))?;
                let nm = super::cell(rec, Some(name))
                    .ok_or_else(|| bad("name", "required value is empty"))?;
                let multi = |i: Option<usize>| -> Vec<String> {
                    super::cell(rec, i).map(split_multi).unwrap_or_default()
                };
                let mut cs: Vec<Country> = Vec::new();
                for c in multi(countries) {
                    match Country::parse(&c) {
                        Ok(c) if !cs.contains(&c) => cs.push(c),
                        Ok(_) => {}
                        Err(_) => {
                            if !odd_countries.contains(&c) {
                                odd_countries.push(c);
                            }
                        }
                    }
                }
                if cs.len() > 1 {
                    several += 1;
                }
                let country = super::countries_cell(&cs);
                let programs: Vec<String> =
                    if program_ids.is_some() && !multi(program_ids).is_empty() {
                        multi(program_ids)
                    } else {
                        multi(sanctions)
                            .iter()
                            .filter_map(|s| s.split(" - ").next())
                            .map(|s| s.trim().to_string())
                            .collect()
                    };
                // OpenSanctions' per-source exports keep the source's own key: `ofac-22603` is OFAC's ent_num
                // 22603, linked to that entry of an OFAC import as `ofac:22603`.
                let ofac = eid
                    .strip_prefix("ofac-")
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    .map(|n| format!("ofac:{n}"));
                let ids: Vec<String> = multi(identifiers)
                    .into_iter()
                    .map(|v| {
                        if v.contains(':') {
                            v
                        } else {
                            format!("id:{v}")
                        }
                    })
                    .chain(ofac)
                    .collect();
                let entry_id = format!("opensanctions:{eid}");
                ctx.claim(
                    Table::Watchlist,
                    &entry_id,
                    format!("{}:{line}", src.display),
                )
                .map_err(|e| bad("id", e))?;
                let source = super::cell(rec, dataset)
                    .map(|d| join_list(split_multi(d).iter().map(String::as_str)))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "OpenSanctions".into());
                ctx.push(
                    Table::Watchlist,
                    vec![
                        entry_id,
                        list_item(nm),
                        join_list(multi(aliases).iter().map(String::as_str)),
                        country,
                        join_list(programs.iter().map(String::as_str)),
                        join_list(ids.iter().map(String::as_str)),
                        source,
                    ],
                );
                Ok(())
            })();
            ctx.tally(&mut rep, line, rec, v);
        }
        if !odd_countries.is_empty() {
            rep.notes.push(format!(
                "country codes outside ISO 3166-1 ({}) give no country: those entries are screened against parties of every country",
                odd_countries.join(", ")
            ));
        }
        if several > 0 {
            rep.notes.push(format!(
                "{several} entr(y/ies) name several countries: all are kept (a party in any of them shares the entry's country)"
            ));
        }
        ctx.reports.push(rep);
    }
    Ok(())
}
