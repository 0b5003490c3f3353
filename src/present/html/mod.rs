//! HTML: one self-contained page per report, trace, vet or paths query. No external request (inline CSS,
//! inline JS, inline SVG, and a Content-Security-Policy that forbids anything else), every string escaped,
//! readable on screen and on paper.
//!
//! The pages share their building blocks, here: [`page`] (the document shell), a header, a grid of headline
//! figures and tables; and a path diagram (`svg::Diagram`) that lays the paths of a shipment out in tiers,
//! origin → region → traders → exporter → importer, with each path's share as line width and its evidence
//! grade as line style. Every figure is printed from the view model it belongs to, never recomputed here, so
//! the page, the CSV, the JSON and `trace` always agree. One file per page: `report`, `trace`, `vet`,
//! `paths`.

mod paths;
mod report;
mod svg;
mod trace;
mod vet;

use crate::present::fmt::{group, pct};
use crate::query::trace::{HopJson, PathJson};
use std::fmt::Write;

/// The HTML renderer: [`crate::present::Render`] for the traced report, `TraceJson`, `VetJson` and
/// `WalkJson`.
pub struct Html;

/// Rows at most in a table of the page (the page stays openable on a large dataset; the CSV has them all):
/// the number the report's page view lists flagged rows to.
pub const MAX_TABLE_ROWS: usize = crate::query::report::PAGE_ROWS;

/// A note for a table cut at [`MAX_TABLE_ROWS`].
fn cut_note(shown: usize, total: usize, what: &str) -> String {
    if shown < total {
        format!(
            "<p class=\"mute\">The first {} of {} {what} are listed here; the CSV report (<code>--table</code>) has every one.</p>\n",
            group(&shown.to_string()),
            group(&total.to_string())
        )
    } else {
        String::new()
    }
}

/// Flags as a list: severity badge, rule, detail.
fn flag_list(flags: &[crate::engine::rules::Flag]) -> String {
    let mut o = String::from("<ul class=\"flags\">");
    for f in flags {
        let _ = write!(
            o,
            "<li>{} <b>{}</b>: {}</li>",
            sev_badge(f.severity.as_str()),
            esc(&f.rule),
            esc(&f.detail)
        );
    }
    o.push_str("</ul>");
    o
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // Control characters have no business in a page (and some are not allowed in SVG at all).
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{FFFD}'),
            _ => o.push(c),
        }
    }
    o
}

const CSS: &str = r#"
:root{--ink:#1c2430;--mute:#5b6675;--line:#d7dde5;--bg:#f6f8fa;--high:#b3261e;--medium:#b86e00;--low:#3c6e9e;--none:#6b7785;
--doc:#b3261e;--dec:#b86e00;--stat:#2f6690}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}
header.top{border-bottom:3px solid var(--ink);padding-bottom:10px;margin-bottom:18px}
header.top .kicker{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--mute)}
header.top h1{margin:2px 0 4px;font-size:26px}
header.top p{margin:2px 0;color:var(--mute)}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:0 0 4px}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:10px;margin:8px 0 6px}
.fig.wide{grid-column:span 2}
.bar{display:flex;height:12px;border-radius:3px;overflow:hidden;margin:8px 0 6px;background:var(--line)}
.bar span{display:block;height:100%}
.bar .high{background:var(--high)}.bar .medium{background:var(--medium)}.bar .low{background:var(--low)}.bar .none{background:#c4cbd4}
.counts{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:13px}
.counts b{font-size:17px;font-variant-numeric:tabular-nums}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;background:#c4cbd4}
.sw.high{background:var(--high)}.sw.medium{background:var(--medium)}.sw.low{background:var(--low)}
.fig{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:var(--bg)}
.fig .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;white-space:nowrap}
.fig .l{font-size:12px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em}
.fig .n{font-size:12px;color:var(--mute)}
.fig.high{border-left:5px solid var(--high)}.fig.medium{border-left:5px solid var(--medium)}
.fig.low{border-left:5px solid var(--low)}.fig.none{border-left:5px solid var(--none)}
.fig.alert .v{color:var(--high)}
table{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600;position:sticky;top:0}
td.r,th.r{text-align:right}
td.nw{white-space:nowrap}
#flagged td{white-space:nowrap}
#flagged td.wrap{white-space:normal;min-width:120px}
#flagged td.path{min-width:130px}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \2195";color:#a0a8b3;font-size:10px}
table.sortable th[aria-sort=ascending]:after{content:" \25B2";color:var(--ink)}
table.sortable th[aria-sort=descending]:after{content:" \25BC";color:var(--ink)}
.scroll{max-height:640px;overflow:auto;border:1px solid var(--line);border-radius:6px}
.sev{display:inline-block;padding:0 6px;border-radius:9px;font-size:11px;font-weight:600;color:#fff;background:var(--none)}
.sev.high{background:var(--high)}.sev.medium{background:var(--medium)}.sev.low{background:var(--low)}
.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px}
.mute{color:var(--mute)}
.controls{display:flex;gap:10px;align-items:center;margin:6px 0 8px;flex-wrap:wrap}
.controls input,.controls select{font:inherit;padding:4px 6px;border:1px solid var(--line);border-radius:4px}
.controls input{min-width:280px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:14px 0;break-inside:avoid;page-break-inside:avoid}
.card .meta{color:var(--mute);margin-bottom:6px}
.card .nums{display:flex;flex-wrap:wrap;gap:4px 18px;margin:4px 0 8px}
.card .nums b{font-variant-numeric:tabular-nums}
svg.paths{display:block;max-width:100%;height:auto;margin:4px 0}
svg.paths text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.legend{display:flex;flex-wrap:wrap;gap:6px 22px;align-items:center;font-size:12px;color:var(--mute);margin:6px 0}
.legend svg{vertical-align:middle}
ul.flags{margin:4px 0;padding-left:18px}
ol.steps li{margin:3px 0}
details summary{cursor:pointer;color:var(--mute)}
footer{margin-top:32px;color:var(--mute);font-size:12px;border-top:1px solid var(--line);padding-top:8px}
@page{size:A4 landscape;margin:12mm}
@media print{
 body{font-size:10.5px}
 main{max-width:none;padding:0}
 .controls,.noprint{display:none!important}
 .scroll{max-height:none;overflow:visible;border:0}
 #flagged td.wrap,#flagged td.path{min-width:0}
 table.sortable th:after{content:none}
 table{font-size:9px}
 .id{font-size:8.5px}
 th,td{padding:2px 4px}
 th{position:static}
 h2{break-after:avoid;page-break-after:avoid}
 tr,.fig{break-inside:avoid;page-break-inside:avoid}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:inherit;text-decoration:none}
 details{display:block}
}
"#;

/// Sorting and filtering of `table.sortable`; plain JS, no library, nothing fetched.
const JS: &str = r#"
(function(){
  function key(td,num){var v=td.getAttribute('data-v');if(v===null)v=td.textContent;if(num){var f=parseFloat(v);return isNaN(f)?-Infinity:f;}return v.toLowerCase();}
  function sort(t,i,th){
    var num=th.getAttribute('data-type')==='num';
    var dir=th.getAttribute('aria-sort')==='descending'?1:(th.getAttribute('aria-sort')==='ascending'?-1:(num?-1:1));
    Array.prototype.forEach.call(t.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',dir>0?'ascending':'descending');
    var b=t.tBodies[0];var rows=Array.prototype.slice.call(b.rows);
    rows.sort(function(a,c){var x=key(a.cells[i],num),y=key(c.cells[i],num);return (x<y?-1:x>y?1:0)*dir;});
    rows.forEach(function(r){b.appendChild(r);});
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(t){
    Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
      th.tabIndex=0;th.title='sort';
      th.addEventListener('click',function(){sort(t,i,th);});
      th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort(t,i,th);}});
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-filter]'),function(box){
    var t=document.getElementById(box.getAttribute('data-filter'));if(!t)return;
    var q=box.querySelector('input'),s=box.querySelector('select'),n=box.querySelector('.shown');
    function apply(){
      var text=(q&&q.value||'').toLowerCase(),sev=s?s.value:'',shown=0;
      Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
        var ok=(!text||r.textContent.toLowerCase().indexOf(text)>=0)&&(!sev||r.getAttribute('data-sev')===sev);
        r.hidden=!ok;if(ok)shown++;
      });
      if(n)n.textContent=String(shown);
    }
    if(q)q.addEventListener('input',apply);if(s)s.addEventListener('change',apply);apply();
  });
})();
"#;

/// The document shell: CSP that forbids every external request, inline CSS, the body, inline JS.
pub fn page(title: &str, body: &str) -> String {
    let mut o = String::with_capacity(body.len() + CSS.len() + JS.len() + 512);
    o.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str("<meta name=\"generator\" content=\"origintrace ");
    o.push_str(env!("CARGO_PKG_VERSION"));
    o.push_str("\">\n<title>");
    o.push_str(&esc(title));
    o.push_str("</title>\n<style>");
    o.push_str(CSS);
    o.push_str("</style>\n</head>\n<body>\n<main>\n");
    o.push_str(body);
    o.push_str("</main>\n<script>");
    o.push_str(JS);
    o.push_str("</script>\n</body>\n</html>\n");
    o
}

/// The page header: a kicker line, the title, and lines under it (each escaped).
fn header(kicker: &str, title: &str, lines: &[String]) -> String {
    let mut o = format!(
        "<header class=\"top\"><div class=\"kicker\">{}</div><h1>{}</h1>",
        esc(kicker),
        esc(title)
    );
    for l in lines {
        let _ = write!(o, "<p>{}</p>", esc(l));
    }
    o.push_str("</header>\n");
    o
}

/// One headline figure. `value` is printed as given (escaped).
struct Fig<'a> {
    id: &'a str,
    label: &'a str,
    value: String,
    note: String,
    class: &'a str,
}

/// The headline figures, and any further card (`extra`, already HTML) in the same grid.
fn figures(figs: &[Fig], extra: &str) -> String {
    let mut o = String::from("<section class=\"figs\">");
    for f in figs {
        let _ = write!(
            o,
            "<div class=\"fig {}\" id=\"fig-{}\"><div class=\"l\">{}</div><div class=\"v\">{}</div><div class=\"n\">{}</div></div>",
            esc(f.class),
            esc(f.id),
            esc(f.label),
            esc(&f.value),
            esc(&f.note)
        );
    }
    o.push_str(extra);
    o.push_str("</section>\n");
    o
}

fn sev_badge(s: &str) -> String {
    if s == "none" {
        "<span class=\"mute\">none</span>".into()
    } else {
        format!("<span class=\"sev {0}\">{0}</span>", esc(s))
    }
}

fn place(country: &str, region: &str) -> String {
    if region.is_empty() {
        country.to_string()
    } else {
        region.to_string()
    }
}

fn path_table(paths: &[PathJson], found: usize, truncated: bool) -> String {
    let mut o = String::from(
        "<table><thead><tr><th>#</th><th>path</th><th>evidence</th><th class=\"r\">share of value</th></tr></thead><tbody>",
    );
    for (i, p) in paths.iter().enumerate() {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\" data-v=\"{}\">{}</td></tr>",
            i + 1,
            esc(&p.nodes.replace('>', " → ")),
            esc(p.grade),
            p.share,
            pct(p.share)
        );
    }
    o.push_str("</tbody></table>");
    if truncated || found > paths.len() {
        let _ = write!(
            o,
            "<p class=\"mute\">{} of {} paths shown{}.</p>",
            paths.len(),
            found,
            if truncated && found <= paths.len() {
                "; the search was cut at the safety limits"
            } else {
                ""
            }
        );
    }
    o
}

fn hop_rows(hops: &[HopJson]) -> String {
    let mut o = String::from(
        "<table><thead><tr><th>from</th><th>to</th><th>kind</th><th>date</th><th>HS</th><th class=\"r\">value (USD)</th><th>records</th></tr></thead><tbody>",
    );
    for h in hops {
        let recs: Vec<String> = h
            .records
            .iter()
            .zip(&h.locations)
            .map(|(r, l)| format!("{r} ({l})"))
            .collect();
        let records = if recs.len() > 6 {
            format!(
                "{}<details><summary>and {} more</summary>{}</details>",
                esc(&recs[..6].join(", ")),
                recs.len() - 6,
                esc(&recs[6..].join(", "))
            )
        } else {
            esc(&recs.join(", "))
        };
        let _ = write!(
            o,
            "<tr><td class=\"id\">{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"nw\">{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"id\">{}</td></tr>",
            esc(&h.from),
            esc(&h.to),
            esc(h.kind),
            esc(h.date.as_deref().unwrap_or("")),
            esc(h.hs_code.as_deref().unwrap_or("")),
            esc(&h.value_usd.as_deref().map(group).unwrap_or_default()),
            records
        );
    }
    o.push_str("</tbody></table>");
    o
}

/// Sanctioned counterparties as a table (nothing when there are none).
fn counterparty_table(cps: &[crate::query::vet::Counterparty]) -> String {
    if cps.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<h2>Sanctioned counterparties</h2>\n<table><thead><tr><th>direction</th><th>party</th><th>country</th><th class=\"r\">shipments</th><th class=\"r\">value (USD)</th><th>HS</th><th>dates</th><th>records</th></tr></thead><tbody>",
    );
    for c in cps {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{} <span class=\"id\">{}</span></td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td><td>{}..{}</td><td class=\"mute\">{}</td></tr>",
            esc(&c.direction.replace('_', " ")),
            esc(&c.name),
            esc(&c.party_id),
            esc(&c.country),
            c.shipments,
            esc(&group(&c.value_usd)),
            esc(&c.hs_codes.join("/")),
            esc(&c.first),
            esc(&c.last),
            esc(&c.records.join(", "))
        );
    }
    b.push_str("</tbody></table>\n");
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            esc("\"><img src=x onerror=alert(1)>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(esc("a'b&c\u{1}"), "a&#39;b&amp;c\u{FFFD}");
    }
}
