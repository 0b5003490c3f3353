//! UN Comtrade downloads → `trade_flows.csv`: the Comtrade+ CSV (API and portal) and the legacy API CSV.
//! Only total rows are kept (customs procedure C00, mode of transport 0, second partner 0, partner other than
//! World, flows M and X), so nothing is counted twice; the other rows are skipped with their reason. North
//! Korea does not report to Comtrade: its exports exist only as its partners' imports (reporter 156,
//! partner 408, flow M).

use super::file_error;
use super::{Bad, Ctx, FileReport, Header, ImportError, Verdict, bad, countries};
use crate::data::codes::{self, Hs, Period};
use crate::data::dataset::Flow;
use crate::data::dataset::Table;

/// The columns used, by their Comtrade+ and legacy names.
struct Cols {
    freq: Option<usize>,
    period: Option<usize>,
    ref_year: Option<usize>,
    ref_month: Option<usize>,
    ref_period: Option<usize>,
    reporter: usize,
    partner: usize,
    partner2: Option<usize>,
    flow: usize,
    cmd: usize,
    customs: Option<usize>,
    mot: Option<usize>,
    qty: Option<usize>,
    qty_unit: Option<usize>,
    value: usize,
    /// The flow in words (`Trade Flow` of the legacy layout: `Import`, or `M` in bulk files; `flowDesc`).
    flow_words: Option<usize>,
    /// `Classification` / `classificationCode`: `H0`…`H6`, `HS`, or another classification refused.
    class: Option<usize>,
    legacy: bool,
    /// Column names as the file spells them: every message names the column the analyst can see.
    spelled: Vec<String>,
}

impl Cols {
    fn name(&self, i: Option<usize>, fallback: &str) -> String {
        i.and_then(|i| self.spelled.get(i))
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| fallback.to_string())
    }
}

const USED: &[&str] = &[
    "freqcode",
    "period",
    "refyear",
    "refmonth",
    "refperiodid",
    "reportercode",
    "partnercode",
    "partner2code",
    "flowcode",
    "cmdcode",
    "customscode",
    "motcode",
    "qty",
    "qtyunitabbr",
    "primaryvalue",
    "year",
    "reporter code",
    "partner code",
    "2nd partner code",
    "trade flow code",
    "trade flow",
    "commodity code",
    "customs proc. code",
    "mode of transport code",
    "qty unit",
    "trade value (us$)",
];

/// Columns of both layouts that are read past on purpose (names, ISO codes, weights, CIF/FOB).
const KNOWN: &[&str] = &[
    "typecode",
    "reporteriso",
    "reporterdesc",
    "flowdesc",
    "partneriso",
    "partnerdesc",
    "partner2iso",
    "partner2desc",
    "classificationcode",
    "classificationsearchcode",
    "isoriginalclassification",
    "cmddesc",
    "aggrlevel",
    "isleaf",
    "customsdesc",
    "moscode",
    "motdesc",
    "qtyunitcode",
    "isqtyestimated",
    "altqtyunitcode",
    "altqtyunitabbr",
    "altqty",
    "isaltqtyestimated",
    "netwgt",
    "isnetwgtestimated",
    "grosswgt",
    "isgrosswgtestimated",
    "cifvalue",
    "fobvalue",
    "legacyestimationflag",
    "isreported",
    "isaggregate",
    "classification",
    "period desc.",
    "aggregate level",
    "is leaf code",
    "reporter",
    "reporter iso",
    "partner",
    "partner iso",
    "2nd partner",
    "2nd partner iso",
    "customs",
    "mode of transport",
    "commodity",
    "qty unit code",
    "alt qty unit code",
    "alt qty unit",
    "alt qty",
    "netweight (kg)",
    "gross weight (kg)",
    "cif trade value (us$)",
    "fob trade value (us$)",
    "flag",
];

fn columns(h: &Header, file: &str) -> Result<Cols, ImportError> {
    let legacy = h.has("trade value (us$)");
    let plus = h.has("primaryvalue");
    if !legacy && !plus {
        return Err(file_error(
            file,
            format!(
                "header: not a Comtrade CSV (no 'primaryValue' nor 'Trade Value (US$)' column); found: {}",
                h.names.join(", ")
            ),
        ));
    }
    let need = |names: &[&str]| -> Result<usize, ImportError> {
        h.find(names).ok_or_else(|| {
            file_error(
                file,
                format!("header: missing column '{}'", names.join("' or '")),
            )
        })
    };
    Ok(if plus {
        Cols {
            freq: h.find(&["freqcode"]),
            period: h.find(&["period"]),
            ref_year: h.find(&["refyear"]),
            ref_month: h.find(&["refmonth"]),
            ref_period: h.find(&["refperiodid"]),
            reporter: need(&["reportercode"])?,
            partner: need(&["partnercode"])?,
            partner2: h.find(&["partner2code"]),
            flow: need(&["flowcode"])?,
            cmd: need(&["cmdcode"])?,
            customs: h.find(&["customscode"]),
            mot: h.find(&["motcode"]),
            qty: h.find(&["qty"]),
            qty_unit: h.find(&["qtyunitabbr"]),
            value: need(&["primaryvalue"])?,
            flow_words: h.find(&["flowdesc"]),
            class: h.find(&["classificationcode"]),
            legacy: false,
            spelled: h.spelled.clone(),
        }
    } else {
        Cols {
            freq: None,
            period: h.find(&["period"]),
            ref_year: h.find(&["year"]),
            ref_month: None,
            ref_period: None,
            reporter: need(&["reporter code"])?,
            partner: need(&["partner code"])?,
            partner2: h.find(&["2nd partner code"]),
            flow: need(&["trade flow code", "trade flow"])?,
            flow_words: h.find(&["trade flow"]),
            class: h.find(&["classification"]),
            spelled: h.spelled.clone(),
            cmd: need(&["commodity code"])?,
            customs: h.find(&["customs proc. code"]),
            mot: h.find(&["mode of transport code"]),
            qty: h.find(&["qty"]),
            qty_unit: h.find(&["qty unit"]),
            value: need(&["trade value (us$)"])?,
            legacy: true,
        }
    })
}

/// `2023` (a year) or `202304` (a month), as Comtrade writes `period`.
fn parse_period(s: &str) -> Result<Period, String> {
    let t = s.trim().trim_end_matches(".0");
    match t.len() {
        4 => Period::parse(t),
        6 if t.bytes().all(|b| b.is_ascii_digit()) => {
            Period::parse(&format!("{}-{}", &t[..4], &t[4..]))
        }
        8 if t.bytes().all(|b| b.is_ascii_digit()) => {
            Period::parse(&format!("{}-{}", &t[..4], &t[4..6]))
        }
        _ => Err(format!("'{s}' is not a period YYYY or YYYYMM")),
    }
    .map_err(|_| format!("'{s}' is not a period YYYY or YYYYMM"))
}

/// Imports every file of the command.
pub(crate) fn import(ctx: &mut Ctx) -> Result<(), ImportError> {
    for path in ctx.opts.files.clone() {
        let src = super::load_source(&path, encoding_rs::WINDOWS_1252)?;
        let mut rows = super::Rows::new(&src);
        let Some((_, first)) = rows.next()? else {
            return Err(file_error(&src.display, "the file is empty"));
        };
        let header = Header::new(first);
        let cols = columns(&header, &src.display)?;
        if let Some(d) = header.duplicate() {
            return Err(file_error(
                &src.display,
                format!("header: column '{d}' appears twice"),
            ));
        }
        if cols.period.is_none() && cols.ref_year.is_none() && cols.ref_period.is_none() {
            return Err(file_error(
                &src.display,
                "header: no period column ('period', 'refYear' or 'Year')",
            ));
        }
        let role = if cols.legacy {
            "Comtrade legacy CSV"
        } else {
            "Comtrade+ CSV"
        };
        let mut rep = FileReport::new(&src, role);
        let mut known: Vec<&str> = USED.to_vec();
        known.extend_from_slice(KNOWN);
        let unknown = header.unknown(&known);
        if !unknown.is_empty() {
            rep.notes
                .push(format!("ignored unknown column(s): {}", unknown.join(", ")));
        }
        let width = header.names.len();
        let mut pads = 0u64;
        while let Some((line, rec)) = rows.next()? {
            let v = row(ctx, &cols, width, rec, &mut pads);
            ctx.tally(&mut rep, line, rec, v);
        }
        if pads > 0 {
            rep.notes.push(format!(
                "warning: {pads} commodity code(s) with an odd number of digits read as having lost a leading zero ('1' as chapter 01) in column '{}'",
                cols.name(Some(cols.cmd), "cmdCode")
            ));
        }
        ctx.reports.push(rep);
    }
    Ok(())
}

fn cell(rec: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    super::cell(rec, i)
}

/// A code column that must be "total" when present: empty counts as total in files that leave it blank.
fn is_total(v: Option<&str>, totals: &[&str]) -> bool {
    v.is_none_or(|v| totals.iter().any(|t| t.eq_ignore_ascii_case(v)))
}

/// What a classification code is when it is not HS (`H0`…`H6`, `HS`).
fn not_hs(k: &str) -> Option<String> {
    let u = k.trim().to_ascii_uppercase();
    if u == "HS" || (u.len() == 2 && u.starts_with('H') && u.as_bytes()[1].is_ascii_digit()) {
        return None;
    }
    Some(match u.as_str() {
        "S1" | "S2" | "S3" | "S4" => format!("SITC Rev. {}", &u[1..]),
        "ST" | "SITC" => "SITC".into(),
        "BE" | "BEC" => "BEC (Broad Economic Categories)".into(),
        "B4" | "B5" => format!("BEC Rev. {}", &u[1..]),
        "EB" | "EB02" | "EB10" => "EBOPS (services)".into(),
        _ => format!("classification '{k}', not HS"),
    })
}

/// A commodity code with an odd number of digits lost its leading zero in a spreadsheet (`1` for chapter
/// `01`, `10121` for `010121`): HS codes have 2, 4, 6, 8 or 10 digits.
fn pad_code(cmd: &str) -> (String, bool) {
    if !cmd.is_empty()
        && cmd.len() < 10
        && cmd.len() % 2 == 1
        && cmd.bytes().all(|b| b.is_ascii_digit())
    {
        (format!("0{cmd}"), true)
    } else {
        (cmd.to_string(), false)
    }
}

/// A value or quantity. Scientific notation (`1.50044E+11`) is what a spreadsheet writes once it has
/// rounded a number to its display digits: the lost digits cannot be recovered.
fn number(s: &str) -> Result<rust_decimal::Decimal, String> {
    let t = s.trim();
    if t.bytes().any(|b| b.is_ascii_digit()) && t.contains(['e', 'E']) {
        return Err(format!(
            "'{t}' is in scientific notation: precision lost (spreadsheet export); download the file again or save the column as a number with all its digits"
        ));
    }
    codes::parse_amount(t)
}

fn row(ctx: &mut Ctx, c: &Cols, width: usize, rec: &csv::StringRecord, pads: &mut u64) -> Verdict {
    let n = super::width(rec);
    if n > width {
        return super::reject(
            "-",
            format!("expected {width} fields, found {n} (an unquoted ',' inside a value?)"),
        );
    }
    // Breakdowns that would count the same trade twice.
    let customs = cell(rec, c.customs);
    if !is_total(customs, &["C00"]) {
        return Verdict::Skip(format!(
            "not a total row: customs procedure {} (only C00 is kept)",
            customs.unwrap_or("")
        ));
    }
    let mot = cell(rec, c.mot);
    if !is_total(mot, &["0"]) {
        return Verdict::Skip("not a total row: mode of transport is not 0 (total)".into());
    }
    let p2 = cell(rec, c.partner2);
    if !is_total(p2, &["0"]) {
        return Verdict::Skip("not a total row: second partner is not 0 (World)".into());
    }
    // A non-HS classification: its codes look like HS chapters but are not.
    if let Some(k) = cell(rec, c.class)
        && let Some(what) = not_hs(k)
    {
        return super::reject(
            &c.name(c.class, "classificationCode"),
            format!("{k} is {what}; origintrace reads HS (download the data in HS: H0…H6)"),
        );
    }
    // The flow from its code; legacy bulk files write code 0 and give the flow in words only.
    let code = cell(rec, Some(c.flow)).unwrap_or("");
    let words = if c.flow_words == Some(c.flow) {
        None
    } else {
        cell(rec, c.flow_words)
    };
    let (flow_raw, flow_col) = match (code, words) {
        ("" | "0", Some(w)) => (w, c.flow_words),
        _ => (code, Some(c.flow)),
    };
    let flow = match flow_raw.to_ascii_lowercase().as_str() {
        "m" | "1" | "import" | "imports" => Flow::Import,
        "x" | "2" | "export" | "exports" => Flow::Export,
        "" | "0" => {
            return super::reject(
                &c.name(flow_col, "flowCode"),
                "the flow is empty (and no flow in words beside it)",
            );
        }
        _ => {
            return Verdict::Skip(
                "flow is a breakdown of M or X (re-import, re-export, domestic, processing): only M and X are kept"
                    .into(),
            );
        }
    };
    let partner_code = cell(rec, Some(c.partner)).unwrap_or("");
    if partner_code == "0" {
        return Verdict::Skip("partner is World (0), a total over partners".into());
    }
    let cmd = cell(rec, Some(c.cmd)).unwrap_or("");
    if cmd.eq_ignore_ascii_case("TOTAL") {
        return Verdict::Skip("commodity TOTAL (all commodities) has no HS code".into());
    }
    let r: Result<(), Bad> = (|| {
        let cmd_col = c.name(Some(c.cmd), "cmdCode");
        let (cmd, padded) = pad_code(cmd);
        let hs = Hs::parse(&cmd).map_err(|e| bad(&cmd_col, e))?;
        let period = period(c, rec)?;
        let reporter_col = c.name(Some(c.reporter), "reporterCode");
        let reporter_code = cell(rec, Some(c.reporter))
            .ok_or_else(|| bad(&reporter_col, "required value is empty"))?;
        let reporter = countries::comtrade(reporter_code).map_err(|e| bad(&reporter_col, e))?;
        let partner_col = c.name(Some(c.partner), "partnerCode");
        if partner_code.is_empty() {
            return Err(bad(&partner_col, "required value is empty"));
        }
        let partner = countries::comtrade(partner_code).map_err(|e| bad(&partner_col, e))?;
        let value_col = c.name(Some(c.value), "primaryValue");
        let value_raw =
            cell(rec, Some(c.value)).ok_or_else(|| bad(&value_col, "the value is empty"))?;
        let value = number(value_raw).map_err(|e| bad(&value_col, e))?;
        let unit = cell(rec, c.qty_unit)
            .filter(|u| !u.eq_ignore_ascii_case("n/a") && !u.eq_ignore_ascii_case("no quantity"))
            .unwrap_or("");
        let quantity = if unit.is_empty() {
            None
        } else {
            cell(rec, c.qty)
                .map(|q| number(q).map_err(|e| bad(&c.name(c.qty, "qty"), e)))
                .transpose()?
        };
        if padded {
            *pads += 1;
        }
        let flow_code = if flow == Flow::Import { "M" } else { "X" };
        let id = format!("comtrade:{period}:{reporter_code}:{partner_code}:{flow_code}:{hs}");
        ctx.claim(
            Table::TradeFlows,
            &id,
            format!("line {}", rec.position().map(|p| p.line()).unwrap_or(0)),
        )
        .map_err(|e| {
            bad(
                "-",
                format!(
                    "the same period, reporter, partner, flow and commodity as another row: {e}"
                ),
            )
        })?;
        ctx.push(
            Table::TradeFlows,
            vec![
                id,
                period.to_string(),
                reporter.to_string(),
                String::new(),
                partner.to_string(),
                flow.as_str().into(),
                hs.to_string(),
                value.to_string(),
                "USD".into(),
                quantity.map(|q| q.to_string()).unwrap_or_default(),
                if quantity.is_some() {
                    unit.to_string()
                } else {
                    String::new()
                },
                String::new(),
            ],
        );
        Ok(())
    })();
    r.into()
}

fn period(c: &Cols, rec: &csv::StringRecord) -> Result<Period, Bad> {
    let freq = cell(rec, c.freq).map(|f| f.to_ascii_uppercase());
    let p = if let Some(p) = cell(rec, c.period) {
        parse_period(p).map_err(|e| bad(&c.name(c.period, "period"), e))?
    } else if let Some(y) = cell(rec, c.ref_year) {
        let month = cell(rec, c.ref_month).unwrap_or("52");
        if month == "52" || freq.as_deref() == Some("A") {
            Period::parse(y).map_err(|e| bad(&c.name(c.ref_year, "refYear"), e))?
        } else {
            Period::parse(&format!("{y}-{month:0>2}"))
                .map_err(|e| bad(&c.name(c.ref_month, "refMonth"), e))?
        }
    } else if let Some(r) = cell(rec, c.ref_period) {
        let p = parse_period(r).map_err(|e| bad(&c.name(c.ref_period, "refPeriodId"), e))?;
        if freq.as_deref() == Some("A") {
            Period {
                year: p.year,
                month: 0,
            }
        } else {
            p
        }
    } else {
        return Err(bad(&c.name(c.period, "period"), "the period is empty"));
    };
    match freq.as_deref() {
        Some("A") if !p.is_year() => Err(bad(
            &c.name(c.period.or(c.ref_period), "period"),
            format!("freqCode A (annual) but period {p} is a month"),
        )),
        Some("M") if p.is_year() => Err(bad(
            &c.name(c.period.or(c.ref_period), "period"),
            format!("freqCode M (monthly) but period {p} is a year"),
        )),
        _ => Ok(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        assert_eq!(parse_period("2023").unwrap().to_string(), "2023");
        assert_eq!(parse_period("202304").unwrap().to_string(), "2023-04");
        assert_eq!(parse_period("20230101").unwrap().to_string(), "2023-01");
        assert!(parse_period("23").is_err());
    }

    #[test]
    fn spreadsheet_damage() {
        assert_eq!(pad_code("1"), ("01".into(), true));
        assert_eq!(pad_code("10121"), ("010121".into(), true));
        assert_eq!(pad_code("670420"), ("670420".into(), false));
        assert_eq!(pad_code("TOTAL"), ("TOTAL".into(), false));
        assert!(
            number("1.50044E+11")
                .unwrap_err()
                .contains("precision lost (spreadsheet export)")
        );
        assert_eq!(number("150044000000").unwrap().to_string(), "150044000000");
        assert_eq!(not_hs("S4").as_deref(), Some("SITC Rev. 4"));
        assert_eq!(not_hs("H4"), None);
        assert_eq!(not_hs("HS"), None);
    }
}
