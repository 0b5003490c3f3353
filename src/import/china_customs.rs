//! China customs statistics platform downloads (stats.customs.gov.cn) → `trade_flows.csv`, reporter CN,
//! one row per (month, registration place, partner, regime, commodity). Chinese or English headers,
//! GB18030 or UTF-8, a trailing comma on every line, `?` for missing, thousands separators, stray TABs. The
//! file never says import or export (`--flow`) and single-month downloads have no date column
//! (`--period`). RMB values keep their currency; their USD rate comes from DIR's rates.csv or `--rate`.

use super::{Bad, ImportError};
use super::{Ctx, FileReport, Header, bad, cn_codes, file_error};
use crate::data::codes::{self, Country, Hs, Period};
use crate::data::dataset::Flow;
use crate::data::dataset::Table;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

const PERIOD: &[&str] = &["数据年月", "date of data"];
const HS: &[&str] = &["商品编码", "commodity code"];
const PARTNER: &[&str] = &["贸易伙伴编码", "trading partner code"];
const REGIME: &[&str] = &["贸易方式编码", "customs regime code"];
const PLACE: &[&str] = &[
    "注册地编码",
    "收发货人注册地编码",
    "locations of importers and exporters code",
];
const QTY: &[&str] = &["第一数量", "quantity"];
const UNIT: &[&str] = &["第一计量单位", "unit"];
const USD: &[&str] = &["美元", "us dollar"];
const CNY: &[&str] = &["人民币", "renminbi yuan"];
/// Columns read but not used: names (the codes are used), and the supplementary quantity.
const IGNORED: &[&str] = &[
    "商品名称",
    "commodity",
    "贸易伙伴名称",
    "trading partner",
    "贸易方式名称",
    "customs regime",
    "注册地名称",
    "收发货人注册地名称",
    "locations of importers and exporters",
    "第二数量",
    "第二计量单位",
    "supplementary quantity",
    "supplimentary quantity",
    "supplementary unit",
    "supplimentary unit",
];

/// The platform cuts downloads at this many rows without saying so.
const TRUNCATION: u64 = 10_000;

/// A cell with every TAB removed and surrounding blanks trimmed; `?` and empty are missing.
fn get(rec: &csv::StringRecord, i: Option<usize>) -> Option<String> {
    let v: String = rec.get(i?)?.chars().filter(|c| *c != '\t').collect();
    let v = v.trim();
    if v.is_empty() || v == "?" || v == "？" {
        None
    } else {
        Some(v.to_string())
    }
}

/// `202304`, `2023-04`, `2023/04`, `2023年04月` or `2023年4月` → the month.
fn parse_month(s: &str) -> Result<Period, String> {
    let t = s.trim();
    let p = if let Some((y, m)) = t.split_once('年') {
        let m = m.trim_end_matches('月');
        format!("{y}-{:0>2}", m)
    } else if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}", &t[..4], &t[4..])
    } else {
        t.replace('/', "-")
    };
    let per = Period::parse(&p).map_err(|_| format!("'{s}' is not a month YYYYMM"))?;
    if per.is_year() {
        return Err(format!("'{s}' is not a month YYYYMM"));
    }
    Ok(per)
}

fn unit(u: &str) -> String {
    match u.to_lowercase().as_str() {
        "千克" | "公斤" | "kilogram" | "kilograms" | "kg" => "kg".into(),
        "吨" | "ton" | "tons" | "tonne" | "tonnes" => "t".into(),
        "克" | "gram" | "grams" => "g".into(),
        _ => u.to_string(),
    }
}

struct Cols {
    period: Option<usize>,
    hs: usize,
    partner: usize,
    regime: Option<usize>,
    place: Option<usize>,
    qty: Option<usize>,
    unit: Option<usize>,
    value: usize,
    currency: &'static str,
}

/// Imports every file of the command.
pub(crate) fn import(ctx: &mut Ctx) -> Result<(), ImportError> {
    // CNY months that need a rate from --rate.
    let mut rate_months: BTreeMap<Period, ()> = BTreeMap::new();
    let mut any_cny = false;
    for (i, path) in ctx.opts.files.iter().enumerate() {
        let src = super::load_source(path, encoding_rs::GB18030)?;
        let mut rows = super::Rows::new(&src);
        let Some((_, first)) = rows.next()? else {
            return Err(file_error(
                &src.display,
                "the file is empty; expected a China customs download with a header row",
            ));
        };
        let header = Header::new(first);
        let found = header.names.join(", ");
        let need = |aliases: &[&str], what: &str| -> Result<usize, ImportError> {
            header.find(aliases).ok_or_else(|| {
                file_error(
                    &src.display,
                    format!(
                        "header: no {what} column ('{}'); found: {found}. Download with this dimension, or check the file is a China customs download in UTF-8 or GB18030",
                        aliases.join("' or '")
                    ),
                )
            })
        };
        let hs = need(HS, "commodity code")?;
        let partner = need(PARTNER, "trading partner code")?;
        let (value, currency) = match (header.find(USD), header.find(CNY)) {
            (Some(u), _) => (u, "USD"),
            (None, Some(c)) => (c, "CNY"),
            (None, None) => {
                return Err(file_error(
                    &src.display,
                    format!(
                        "header: no value column ('US dollar'/'美元' or 'Renminbi Yuan'/'人民币'); found: {found}"
                    ),
                ));
            }
        };
        if let Some(d) = header.duplicate() {
            return Err(file_error(
                &src.display,
                format!("header: column '{d}' appears twice"),
            ));
        }
        let cols = Cols {
            period: header.find(PERIOD),
            hs,
            partner,
            regime: header.find(REGIME),
            place: header.find(PLACE),
            qty: header.find(QTY),
            unit: header.find(UNIT),
            value,
            currency,
        };
        // --period is for single-month downloads; a file with its own date column keeps its dates.
        let flag_period = ctx.opts.period_for(i).filter(|_| cols.period.is_none());
        if cols.period.is_none() && flag_period.is_none() {
            return Err(file_error(
                &src.display,
                "no 'Date of data'/'数据年月' column (a single-month download): give --period YYYY-MM",
            ));
        }
        let Some(flow) = ctx.opts.flow_for(i) else {
            return Err(file_error(
                &src.display,
                "the file does not say whether it holds imports or exports: give --flow import or --flow export (once per file, in order, when they differ)",
            ));
        };
        let mut rep = FileReport::new(
            &src,
            format!("trade statistics, CN {}, {currency}", flow.as_str()),
        );
        let mut known: Vec<&str> = IGNORED.to_vec();
        for a in [PERIOD, HS, PARTNER, REGIME, PLACE, QTY, UNIT, USD, CNY] {
            known.extend_from_slice(a);
        }
        let unknown = header.unknown(&known);
        if !unknown.is_empty() {
            rep.notes
                .push(format!("ignored unknown column(s): {}", unknown.join(", ")));
        }
        if header.find(USD).is_some() && header.find(CNY).is_some() {
            rep.notes
                .push("both US dollar and RMB columns: the US dollar values are used".into());
        }
        if cols.period.is_some() && ctx.opts.period_for(i).is_some() && ctx.opts.periods.len() > 1 {
            rep.notes
                .push("the file has its own date column: its --period is not used".into());
        }
        if cols.place.is_none() {
            rep.notes
                .push("no registration-place column: rows are national (no region)".into());
        }
        let width = header.names.len();
        while let Some((line, rec)) = rows.next()? {
            let v = row(
                ctx,
                &src.name,
                &src.sha8,
                &cols,
                width,
                flag_period,
                flow,
                line,
                rec,
                &mut rate_months,
            );
            if v.is_ok() && currency == "CNY" {
                any_cny = true;
            }
            ctx.tally(&mut rep, line, rec, v);
        }
        if rep.read == TRUNCATION {
            rep.notes.push(format!(
                "exactly {TRUNCATION} data rows: the platform cuts downloads at {TRUNCATION} rows without saying so; this file is probably incomplete (split the query)"
            ));
        }
        ctx.reports.push(rep);
    }
    if let Some(rate) = ctx.opts.rate {
        if !any_cny && let Some(rep) = ctx.reports.last_mut() {
            rep.notes
                .push("--rate unused: no accepted row holds RMB values".into());
        }
        for month in rate_months.keys() {
            match ctx.existing.rates.get(&("CNY".to_string(), *month)) {
                Some(old) if *old != rate => {
                    if let Some(rep) = ctx.reports.last_mut() {
                        rep.notes.push(format!(
                            "rates.csv already has CNY {month} = {old}; kept it (--rate {rate} not written)"
                        ));
                    }
                }
                Some(_) => {}
                None => ctx.push(
                    Table::Rates,
                    vec!["CNY".into(), month.to_string(), rate.to_string()],
                ),
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn row(
    ctx: &mut Ctx,
    file_name: &str,
    sha8: &str,
    c: &Cols,
    width: usize,
    flag_period: Option<Period>,
    flow: Flow,
    line: u64,
    rec: &csv::StringRecord,
    rate_months: &mut BTreeMap<Period, ()>,
) -> Result<(), Bad> {
    let n = super::width(rec);
    if n > width {
        return Err(bad(
            "-",
            format!("expected {width} fields, found {n} (an unquoted ',' inside a value?)"),
        ));
    }
    if rec.len() < width {
        return Err(bad(
            "-",
            format!("expected {width} fields, found {}", rec.len()),
        ));
    }
    let period = match (c.period, flag_period) {
        (Some(i), _) => {
            let s = get(rec, Some(i)).ok_or_else(|| bad("date of data", "the month is missing"))?;
            parse_month(&s).map_err(|e| bad("date of data", e))?
        }
        (None, Some(f)) => f,
        (None, None) => unreachable!("checked per file"),
    };
    let hs_raw = get(rec, Some(c.hs)).ok_or_else(|| bad("commodity code", "missing ('?')"))?;
    let hs = Hs::parse(&hs_raw).map_err(|e| bad("commodity code", e))?;
    let partner_code =
        get(rec, Some(c.partner)).ok_or_else(|| bad("trading partner code", "missing ('?')"))?;
    let partner = cn_codes::partner(&partner_code)
        .and_then(Country::parse)
        .map_err(|e| bad("trading partner code", e))?;
    let (place_code, region) = match c.place {
        None => (None, None),
        Some(i) => {
            let code = get(rec, Some(i)).ok_or_else(|| {
                bad(
                    "locations of importers and exporters code",
                    "registration place is missing ('?')",
                )
            })?;
            let iso = cn_codes::place(&code)
                .map_err(|e| bad("locations of importers and exporters code", e))?;
            (Some(code), Some(iso))
        }
    };
    let regime_code = get(rec, c.regime);
    let regime = regime_code
        .as_deref()
        .map(cn_codes::regime)
        .unwrap_or_default();
    let quantity = get(rec, c.qty)
        .map(|q| codes::parse_amount(&q).map_err(|e| bad("quantity", e)))
        .transpose()?;
    let unit = if quantity.is_some() {
        get(rec, c.unit).map(|u| unit(&u)).unwrap_or_default()
    } else {
        String::new()
    };
    let col = if c.currency == "USD" {
        "us dollar"
    } else {
        "renminbi yuan"
    };
    let value_raw =
        get(rec, Some(c.value)).ok_or_else(|| bad(col, "the value is missing ('?')"))?;
    let value: Decimal = codes::parse_amount(&value_raw).map_err(|e| bad(col, e))?;
    if c.currency == "CNY" {
        let year = Period {
            year: period.year,
            month: 0,
        };
        let have = ctx.existing.rates.contains_key(&("CNY".into(), period))
            || ctx.existing.rates.contains_key(&("CNY".into(), year));
        if ctx.opts.rate.is_some() {
            rate_months.insert(period, ());
        } else if !have {
            return Err(bad(
                col,
                format!(
                    "RMB value needs a rate: no CNY rate for {period} in {}; give --rate USD-per-yuan or add 'CNY,{period},RATE' to rates.csv",
                    ctx.opts.out.join(Table::Rates.file()).display()
                ),
            ));
        }
    }
    let id = format!(
        "cn-customs:{period}:{}:{partner_code}:{}:{hs}:{}",
        place_code.as_deref().unwrap_or("national"),
        regime_code.as_deref().unwrap_or("-"),
        flow.as_str()
    );
    ctx.claim(
        Table::TradeFlows,
        &id,
        format!("{file_name}:{line} ({sha8})"),
    )
    .map_err(|e| {
        bad(
            "-",
            format!(
                "the same month, place, partner, regime, commodity and flow as another row: {e}"
            ),
        )
    })?;
    ctx.push(
        Table::TradeFlows,
        vec![
            id,
            period.to_string(),
            "CN".into(),
            region.unwrap_or_default().to_string(),
            partner.to_string(),
            flow.as_str().into(),
            hs.to_string(),
            value.to_string(),
            c.currency.into(),
            quantity.map(|q| q.to_string()).unwrap_or_default(),
            unit,
            regime,
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(parse_month("202304").unwrap().to_string(), "2023-04");
        assert_eq!(parse_month("2023年4月").unwrap().to_string(), "2023-04");
        assert_eq!(parse_month("2023/04").unwrap().to_string(), "2023-04");
        assert!(parse_month("2023").is_err());
        assert!(parse_month("202313").is_err());
    }
}
