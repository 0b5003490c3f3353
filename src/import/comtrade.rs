//! UN Comtrade downloads → `trade_flows.csv`: the Comtrade+ CSV (API and portal) and the legacy API CSV.
//! Only total rows are kept (customs procedure C00, mode of transport 0, second partner 0, partner other than
//! World, flows M and X), so nothing is counted twice; the other rows are skipped with their reason. North
//! Korea does not report to Comtrade: its exports exist only as its partners' imports (reporter 156,
//! partner 408, flow M).

use super::file_error;
use super::{Bad, Ctx, FileReport, Header, ImportError, TRADE_FLOWS, Verdict, bad, countries};
use crate::codes::{self, Hs, Period};
use crate::dataset::Flow;

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
    legacy: bool,
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
            legacy: false,
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
        while let Some((line, rec)) = rows.next()? {
            let v = row(ctx, &cols, width, rec);
            ctx.tally(&mut rep, line, rec, v);
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

fn row(ctx: &mut Ctx, c: &Cols, width: usize, rec: &csv::StringRecord) -> Verdict {
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
    let flow_raw = cell(rec, Some(c.flow)).unwrap_or("");
    let flow = match flow_raw.to_ascii_lowercase().as_str() {
        "m" | "1" | "import" | "imports" => Flow::Import,
        "x" | "2" | "export" | "exports" => Flow::Export,
        "" => return super::reject("flowCode", "the flow is empty"),
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
        let hs = Hs::parse(cmd).map_err(|e| bad("cmdCode", e))?;
        let period = period(c, rec)?;
        let reporter_code = cell(rec, Some(c.reporter))
            .ok_or_else(|| bad("reporterCode", "required value is empty"))?;
        let reporter = countries::comtrade(reporter_code).map_err(|e| bad("reporterCode", e))?;
        if partner_code.is_empty() {
            return Err(bad("partnerCode", "required value is empty"));
        }
        let partner = countries::comtrade(partner_code).map_err(|e| bad("partnerCode", e))?;
        let value_raw =
            cell(rec, Some(c.value)).ok_or_else(|| bad("primaryValue", "the value is empty"))?;
        let value = codes::parse_amount(value_raw).map_err(|e| bad("primaryValue", e))?;
        let unit = cell(rec, c.qty_unit)
            .filter(|u| !u.eq_ignore_ascii_case("n/a") && !u.eq_ignore_ascii_case("no quantity"))
            .unwrap_or("");
        let quantity = if unit.is_empty() {
            None
        } else {
            cell(rec, c.qty)
                .map(|q| codes::parse_amount(q).map_err(|e| bad("qty", e)))
                .transpose()?
        };
        let flow_code = if flow == Flow::Import { "M" } else { "X" };
        let id = format!("comtrade:{period}:{reporter_code}:{partner_code}:{flow_code}:{hs}");
        ctx.claim(
            TRADE_FLOWS,
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
            TRADE_FLOWS,
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
        parse_period(p).map_err(|e| bad("period", e))?
    } else if let Some(y) = cell(rec, c.ref_year) {
        let month = cell(rec, c.ref_month).unwrap_or("52");
        if month == "52" || freq.as_deref() == Some("A") {
            Period::parse(y).map_err(|e| bad("refYear", e))?
        } else {
            Period::parse(&format!("{y}-{month:0>2}")).map_err(|e| bad("refMonth", e))?
        }
    } else if let Some(r) = cell(rec, c.ref_period) {
        let p = parse_period(r).map_err(|e| bad("refPeriodId", e))?;
        if freq.as_deref() == Some("A") {
            Period {
                year: p.year,
                month: 0,
            }
        } else {
            p
        }
    } else {
        return Err(bad("period", "the period is empty"));
    };
    match freq.as_deref() {
        Some("A") if !p.is_year() => Err(bad(
            "period",
            format!("freqCode A (annual) but period {p} is a month"),
        )),
        Some("M") if p.is_year() => Err(bad(
            "period",
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
}
