//! HTML: one self-contained page per report, trace, vet or paths query. No external request (inline CSS,
//! inline JS, inline SVG, and a Content-Security-Policy that forbids anything else), every string escaped,
//! readable on screen and on paper.
//!
//! The pages share their building blocks: [`page`] (the document shell), a header, a grid of headline
//! figures, tables, and a path diagram ([`Diagram`]) that lays the paths of a shipment out in tiers, origin →
//! region → traders → exporter → importer, with each path's share as line width and its evidence grade as
//! line style. Every figure is printed from the report row or the trace it belongs to, never recomputed
//! here, so the page, the CSV, the JSON and `trace` always agree.

use super::{Exporter, Report, ShipmentRow, Summary};
use crate::data::dataset::Dataset;
use crate::engine::analysis::{Analysis, Scored};
use crate::engine::model::EPS;
use crate::engine::paths::{HopKind, Node, Path};
use crate::query::trace::{HopJson, PathJson, TraceJson};
use crate::query::vet::VetJson;
use crate::query::walk::WalkJson;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// The report exporter: headline figures, the flagged shipments, the summaries, the top shipments' paths.
pub struct Html;

/// How many of the top flagged shipments get a path diagram.
pub const TOP_DIAGRAMS: usize = 10;
/// How many paths a diagram draws (as `trace`'s default `--paths`).
pub const PATHS_PER_DIAGRAM: usize = 5;
/// Rows at most in a table of the page (the page stays openable on a large dataset; the CSV has them all).
pub const MAX_TABLE_ROWS: usize = 5000;

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

/// A share as a percentage with two decimals, as `trace` prints it.
pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A decimal string with its integer part grouped by thousands (`1234567.5` → `1,234,567.5`). The digits
/// are the ones given: nothing is rounded or recomputed.
pub fn group(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_string();
    }
    let mut o = String::with_capacity(s.len() + int.len() / 3);
    o.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            o.push(',');
        }
        o.push(c);
    }
    o.push_str(frac);
    o
}

/// Shortens a label to `n` characters (an ellipsis marks the cut).
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut o: String = s.chars().take(n.saturating_sub(1)).collect();
        o.push('…');
        o
    }
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

// ---------------------------------------------------------------------------------------------------------
// The path diagram.

/// A node of a diagram.
#[derive(Clone, Debug)]
pub struct DNode {
    /// Identity within the diagram (`party:ID`, `geo:KP`).
    key: String,
    /// First line (a name or a code).
    label: String,
    /// Second line (an id and a place, or a country's name).
    sub: String,
    /// The full description, shown as a tooltip.
    title: String,
    geo: bool,
    /// A sanctioned source: drawn in red.
    hot: bool,
}

struct DHop {
    from: usize,
    to: usize,
    grade: &'static str,
}

struct DPath {
    share: Option<f64>,
    hops: Vec<DHop>,
}

/// Paths to draw: nodes (deduplicated by key) and chains of hops between them.
#[derive(Default)]
pub struct Diagram {
    nodes: Vec<DNode>,
    index: HashMap<String, usize>,
    paths: Vec<DPath>,
    /// Band of each node, when the caller fixes them (otherwise derived from the paths).
    bands: Option<Vec<usize>>,
    band_names: [&'static str; 5],
}

const PATH_BANDS: [&str; 5] = [
    "origin",
    "region / statistics",
    "traders",
    "exporter",
    "importer",
];

fn grade_of_kind(kind: &str) -> &'static str {
    match kind {
        "shipment" => "documented",
        "declared" => "declared",
        _ => "statistical",
    }
}

/// A code that looks like a country (`KP`) or a region (`CN-HA`).
fn looks_geo(s: &str) -> bool {
    let b = s.as_bytes();
    let upper = |x: &[u8]| x.iter().all(|c| c.is_ascii_uppercase());
    match b.len() {
        2 => upper(b),
        4..=6 => {
            upper(&b[..2])
                && b[2] == b'-'
                && b[3..]
                    .iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        }
        _ => false,
    }
}

fn geo_name(code: &str) -> String {
    if code.len() == 2 {
        rust_iso3166::from_alpha2(code)
            .map(|c| c.name.to_string())
            .unwrap_or_default()
    } else {
        rust_iso3166::iso3166_2::from_code(code)
            .map(|s| s.name.to_string())
            .unwrap_or_default()
    }
}

fn geo_node(code: &str, hot: bool) -> DNode {
    let name = geo_name(code);
    DNode {
        key: format!("geo:{code}"),
        label: code.to_string(),
        sub: short(&name, 26),
        title: if name.is_empty() {
            code.to_string()
        } else {
            format!("{code} {name}")
        },
        geo: true,
        hot,
    }
}

fn party_node(ds: &Dataset, p: u32, hot: bool) -> DNode {
    let pt = ds.party(p);
    let at = pt
        .region
        .map(|r| r.to_string())
        .unwrap_or_else(|| pt.country.to_string());
    DNode {
        key: format!("party:{}", pt.id),
        label: short(&pt.name, 24),
        sub: short(&format!("{} · {at}", pt.id), 30),
        title: format!("{} ({}, {at})", pt.name, pt.id),
        geo: false,
        hot,
    }
}

fn bare_party_node(id: &str) -> DNode {
    DNode {
        key: format!("party:{id}"),
        label: short(id, 26),
        sub: String::new(),
        title: id.to_string(),
        geo: false,
        hot: false,
    }
}

impl Diagram {
    fn new(band_names: [&'static str; 5]) -> Diagram {
        Diagram {
            band_names,
            ..Diagram::default()
        }
    }

    fn add(&mut self, n: DNode) -> usize {
        if let Some(&i) = self.index.get(&n.key) {
            if n.hot {
                self.nodes[i].hot = true;
            }
            return i;
        }
        self.index.insert(n.key.clone(), self.nodes.len());
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    /// The diagram of an analysed shipment's paths (the report), with their own nodes.
    pub fn of_paths(a: &Analysis, paths: &[Path]) -> Diagram {
        let ds = a.ds();
        let mut d = Diagram::new(PATH_BANDS);
        for p in paths {
            let mut hops = Vec::new();
            for (i, h) in p.hops.iter().enumerate() {
                let node = |d: &mut Diagram, n: Node, first: bool| -> usize {
                    match n {
                        Node::Country(c) => d.add(geo_node(c.as_str(), first)),
                        Node::Region(r) => d.add(geo_node(r.as_str(), first)),
                        Node::Party(q) => d.add(party_node(ds, q, first)),
                    }
                };
                let from = node(&mut d, h.from, i == 0);
                let to = node(&mut d, h.to, false);
                let grade = match h.kind {
                    HopKind::Shipment => "documented",
                    HopKind::Declared => "declared",
                    _ => "statistical",
                };
                hops.push(DHop { from, to, grade });
            }
            d.paths.push(DPath {
                share: Some(p.share),
                hops,
            });
        }
        d
    }

    /// The diagram of paths in their JSON form (`trace`, `paths`). Node ids are resolved in `ds` when given:
    /// a party id is a party; a country or region code is a place.
    fn of_hops<'h>(
        ds: Option<&Dataset>,
        paths: impl Iterator<Item = (Option<f64>, &'h [HopJson])>,
    ) -> Diagram {
        let mut d = Diagram::new(PATH_BANDS);
        let resolve = |d: &mut Diagram, id: &str, first: bool| -> usize {
            let party = ds.and_then(|ds| ds.party_by_id(id).map(|p| (ds, p)));
            let mut n = match party {
                Some((ds, p)) => party_node(ds, p, first),
                None if looks_geo(id) => geo_node(id, first),
                None => bare_party_node(id),
            };
            n.hot = first;
            d.add(n)
        };
        for (share, hs) in paths {
            let mut hops = Vec::new();
            for (i, h) in hs.iter().enumerate() {
                let from = resolve(&mut d, &h.from, i == 0);
                let to = resolve(&mut d, &h.to, false);
                hops.push(DHop {
                    from,
                    to,
                    grade: grade_of_kind(h.kind),
                });
            }
            d.paths.push(DPath { share, hops });
        }
        d
    }

    /// Bands: the last node of a path is the importer, the one before it the exporter; a path's first node is
    /// the origin; other places are regions or statistics; other parties are traders.
    fn derive_bands(&self) -> Vec<usize> {
        let n = self.nodes.len();
        let mut band: Vec<Option<usize>> = vec![None; n];
        let set = |i: usize, b: usize, band: &mut Vec<Option<usize>>| {
            band[i] = Some(band[i].map_or(b, |x| x.max(b)));
        };
        for p in &self.paths {
            if let Some(last) = p.hops.last() {
                set(last.to, 4, &mut band);
                set(last.from, 3, &mut band);
            }
        }
        for p in &self.paths {
            if let Some(first) = p.hops.first()
                && band[first.from].is_none()
            {
                band[first.from] = Some(0);
            }
        }
        for (i, b) in band.iter_mut().enumerate() {
            if b.is_none() {
                *b = Some(if self.nodes[i].geo { 1 } else { 2 });
            }
        }
        band.into_iter().map(|b| b.unwrap_or(2)).collect()
    }

    /// The diagram as an inline SVG (empty when there is nothing to draw).
    pub fn svg(&self, caption: &str) -> String {
        if self.paths.iter().all(|p| p.hops.is_empty()) {
            return String::new();
        }
        let n = self.nodes.len();
        let band = self.bands.clone().unwrap_or_else(|| self.derive_bands());
        // Columns inside a band: the longest chain of hops inside it (bounded, so loops cannot spin).
        let mut sub = vec![0usize; n];
        for _ in 0..n {
            let mut changed = false;
            for p in &self.paths {
                for h in &p.hops {
                    if band[h.from] == band[h.to] && h.from != h.to && sub[h.to] < sub[h.from] + 1 {
                        sub[h.to] = (sub[h.from] + 1).min(n);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut width_of_band = [0usize; 5];
        for i in 0..n {
            width_of_band[band[i]] = width_of_band[band[i]].max(sub[i] + 1);
        }
        let mut offset = [0usize; 5];
        let mut acc = 0;
        for b in 0..5 {
            offset[b] = acc;
            acc += width_of_band[b];
        }
        let cols = acc.max(1);
        let col: Vec<usize> = (0..n).map(|i| offset[band[i]] + sub[i]).collect();
        // Rows, path by path (paths come largest share first): a path's new nodes share the first row that is
        // free in their columns and in every column between them, so the main path runs straight along the top
        // and no line is drawn through a box it does not touch.
        let mut order: Vec<usize> = Vec::new();
        let mut row = vec![usize::MAX; n];
        let mut taken: Vec<Vec<bool>> = vec![Vec::new(); cols];
        let free =
            |taken: &Vec<Vec<bool>>, c: usize, r: usize| !taken[c].get(r).copied().unwrap_or(false);
        for p in &self.paths {
            let mut fresh: Vec<usize> = Vec::new();
            for h in &p.hops {
                for i in [h.from, h.to] {
                    if row[i] == usize::MAX && !fresh.contains(&i) {
                        fresh.push(i);
                    }
                }
            }
            if fresh.is_empty() {
                continue;
            }
            // The columns the new nodes sit in, and every column a hop to or from one of them crosses.
            let (mut lo, mut hi) = (usize::MAX, 0);
            for h in &p.hops {
                let (a, b) = (col[h.from], col[h.to]);
                let mut span = Vec::new();
                if fresh.contains(&h.from) {
                    span.push(a);
                }
                if fresh.contains(&h.to) {
                    span.push(b);
                }
                if span.is_empty() {
                    continue;
                }
                if a.abs_diff(b) > 1 {
                    span.push(a.min(b) + 1);
                    span.push(a.max(b) - 1);
                }
                for c in span {
                    lo = lo.min(c);
                    hi = hi.max(c);
                }
            }
            let mut r = 0;
            loop {
                let ok = (lo..=hi).all(|c| free(&taken, c, r))
                    && fresh.iter().all(|&i| free(&taken, col[i], r));
                if ok {
                    break;
                }
                r += 1;
            }
            // Two new nodes of one path in one column (a loop) take the next free rows.
            for &i in &fresh {
                let mut rr = r;
                while !free(&taken, col[i], rr) {
                    rr += 1;
                }
                row[i] = rr;
                let t = &mut taken[col[i]];
                if t.len() <= rr {
                    t.resize(rr + 1, false);
                }
                t[rr] = true;
                order.push(i);
            }
            for t in taken.iter_mut().take(hi + 1).skip(lo) {
                if t.len() <= r {
                    t.resize(r + 1, false);
                }
                t[r] = true;
            }
        }
        let rows = order.iter().map(|&i| row[i] + 1).max().unwrap_or(1);
        const BW: f64 = 196.0;
        const BH: f64 = 38.0;
        const CW: f64 = 250.0;
        const RH: f64 = 54.0;
        const TOP: f64 = 30.0;
        const LEFT: f64 = 8.0;
        let width = LEFT * 2.0 + (cols as f64 - 1.0) * CW + BW;
        let height = TOP + rows as f64 * RH + 24.0;
        let mut pos = vec![(0.0f64, 0.0f64); n];
        // A fixed layout (suppliers into one party) centres the shorter columns against the tallest.
        let mut height_of = vec![0usize; cols];
        for &i in &order {
            height_of[col[i]] = height_of[col[i]].max(row[i] + 1);
        }
        for &i in &order {
            let pad = if self.bands.is_some() {
                (rows - height_of[col[i]]) as f64 * RH / 2.0
            } else {
                0.0
            };
            pos[i] = (LEFT + col[i] as f64 * CW, TOP + pad + row[i] as f64 * RH);
        }
        // Edges: one per (from, to, grade), its width the summed share of the paths drawn through it.
        let mut edges: BTreeMap<(usize, usize, &'static str), Option<f64>> = BTreeMap::new();
        for p in &self.paths {
            for h in &p.hops {
                let e = edges.entry((h.from, h.to, h.grade)).or_insert(Some(0.0));
                *e = match (*e, p.share) {
                    (Some(a), Some(s)) => Some(a + s),
                    _ => None,
                };
            }
        }
        let mut o = String::new();
        let _ = write!(
            o,
            "<svg class=\"paths\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{}\">",
            esc(caption)
        );
        let _ = write!(o, "<title>{}</title>", esc(caption));
        // Tier labels.
        for b in 0..5 {
            if width_of_band[b] == 0 {
                continue;
            }
            let x0 = LEFT + offset[b] as f64 * CW;
            let x1 = LEFT + (offset[b] + width_of_band[b] - 1) as f64 * CW + BW;
            let _ = write!(
                o,
                "<text x=\"{:.1}\" y=\"16\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5b6675\" letter-spacing=\".06em\">{}</text>",
                (x0 + x1) / 2.0,
                esc(&self.band_names[b].to_uppercase())
            );
        }
        // Edges under the nodes; the widest first, so thin ones stay visible.
        type Edge<'e> = (&'e (usize, usize, &'static str), &'e Option<f64>);
        let mut list: Vec<Edge> = edges.iter().collect();
        list.sort_by(|a, b| {
            b.1.unwrap_or(0.0)
                .total_cmp(&a.1.unwrap_or(0.0))
                .then_with(|| a.0.cmp(b.0))
        });
        for (&(f, t, grade), share) in list {
            let w = share.map_or(2.0, |s| 1.2 + 16.0 * s.clamp(0.0, 1.0));
            let (x1, y1) = pos[f];
            let (x2, y2) = pos[t];
            let d = if x2 > x1 {
                let (sx, sy, ex, ey) = (x1 + BW, y1 + BH / 2.0, x2, y2 + BH / 2.0);
                let mid = (sx + ex) / 2.0;
                format!("M{sx:.1},{sy:.1} C{mid:.1},{sy:.1} {mid:.1},{ey:.1} {ex:.1},{ey:.1}")
            } else {
                // A hop back (a loop in the goods flow): an arc under the boxes.
                let (sx, sy, ex, ey) = (x1 + BW / 2.0, y1 + BH, x2 + BW / 2.0, y2 + BH);
                let dip = sy.max(ey) + 26.0;
                format!("M{sx:.1},{sy:.1} C{sx:.1},{dip:.1} {ex:.1},{dip:.1} {ex:.1},{ey:.1}")
            };
            let (color, dash) = match grade {
                "documented" => ("#b3261e", ""),
                "declared" => ("#b86e00", " stroke-dasharray=\"9 5\""),
                _ => ("#2f6690", " stroke-dasharray=\"1 5\""),
            };
            let share_txt = share
                .map(|s| format!(", share {}", pct(s)))
                .unwrap_or_default();
            let _ = write!(
                o,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-opacity=\"0.85\" stroke-width=\"{w:.2}\" stroke-linecap=\"round\"{dash}><title>{} → {}: {grade}{}</title></path>",
                esc(&self.nodes[f].title),
                esc(&self.nodes[t].title),
                esc(&share_txt)
            );
        }
        for &i in &order {
            let nd = &self.nodes[i];
            let (x, y) = pos[i];
            let (fill, stroke, ink) = if nd.hot {
                ("#fbe9e7", "#b3261e", "#7f1d1d")
            } else if nd.geo {
                ("#eef2f6", "#8a96a5", "#1c2430")
            } else {
                ("#ffffff", "#5b6675", "#1c2430")
            };
            let rx = if nd.geo { 18 } else { 4 };
            let _ = write!(
                o,
                "<g><title>{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{BW}\" height=\"{BH}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.2\"/>",
                esc(&nd.title)
            );
            let _ = write!(
                o,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"600\" fill=\"{ink}\">{}</text>",
                x + 8.0,
                y + 16.0,
                esc(&nd.label)
            );
            if !nd.sub.is_empty() {
                let _ = write!(
                    o,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10.5\" fill=\"#5b6675\">{}</text>",
                    x + 8.0,
                    y + 30.0,
                    esc(&nd.sub)
                );
            }
            o.push_str("</g>");
        }
        o.push_str("</svg>\n");
        o
    }
}

/// The key to the diagrams.
fn legend(width_note: &str) -> String {
    let line = |dash: &str, color: &str, w: f64| {
        format!(
            "<svg width=\"44\" height=\"12\" aria-hidden=\"true\"><line x1=\"2\" y1=\"6\" x2=\"42\" y2=\"6\" stroke=\"{color}\" stroke-width=\"{w}\" stroke-linecap=\"round\"{dash}/></svg>"
        )
    };
    let box_ = |fill: &str, stroke: &str, rx: u8| {
        format!(
            "<svg width=\"26\" height=\"14\" aria-hidden=\"true\"><rect x=\"1\" y=\"1\" width=\"24\" height=\"12\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\"/></svg>"
        )
    };
    format!(
        "<div class=\"legend\"><span>{} documented (shipment records)</span><span>{} declared (supplier declarations)</span><span>{} statistical (customs statistics pools)</span><span>{} {}</span><span>{} sanctioned source</span><span>{} country or region</span><span>{} party</span></div>\n",
        line("", "#b3261e", 3.0),
        line(" stroke-dasharray=\"9 5\"", "#b86e00", 3.0),
        line(" stroke-dasharray=\"1 5\"", "#2f6690", 3.0),
        line("", "#8a96a5", 8.0),
        esc(width_note),
        box_("#fbe9e7", "#b3261e", 4),
        box_("#eef2f6", "#8a96a5", 6),
        box_("#ffffff", "#5b6675", 2),
    )
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

// ---------------------------------------------------------------------------------------------------------
// `report --format html`.

fn summary_table(id: &str, list: &[Summary]) -> String {
    let mut o = format!(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"{}\"><thead><tr><th>party</th><th>name</th><th>place</th><th class=\"r\" data-type=\"num\">shipments</th><th class=\"r\" data-type=\"num\">value (USD)</th><th class=\"r\" data-type=\"num\">exposed value (USD)</th><th class=\"r\" data-type=\"num\">flagged</th><th data-type=\"num\">severity</th><th>flags</th></tr></thead><tbody>",
        esc(id)
    );
    for s in list {
        let flags: Vec<String> = s
            .flag_counts
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        let _ = write!(
            o,
            "<tr data-sev=\"{sev}\"><td class=\"id\">{}</td><td>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\">{}</td><td data-v=\"{}\">{}</td><td>{}</td></tr>",
            esc(&s.party_id),
            esc(&s.name),
            esc(&place(&s.country, &s.region)),
            s.shipments,
            esc(&s.value_usd),
            esc(&group(&s.value_usd)),
            esc(&s.exposed_value_usd),
            esc(&group(&s.exposed_value_usd)),
            s.flagged_shipments,
            s.severity as u8,
            sev_badge(s.severity.as_str()),
            esc(&flags.join(", ")),
            sev = s.severity.as_str()
        );
    }
    o.push_str("</tbody></table></div>\n");
    o
}

fn flagged_table(rows: &[&ShipmentRow], anchors: &HashMap<&str, usize>) -> String {
    let mut o = String::from(
        "<div class=\"controls\" data-filter=\"flagged\"><input type=\"search\" placeholder=\"filter: id, party, flag, path…\" aria-label=\"filter the flagged shipments\"><select aria-label=\"severity\"><option value=\"\">any severity</option><option value=\"high\">high</option><option value=\"medium\">medium</option><option value=\"low\">low</option></select><span><span class=\"shown\"></span> shown</span></div>\n",
    );
    o.push_str("<div class=\"scroll\"><table class=\"sortable\" id=\"flagged\"><thead><tr><th>shipment</th><th>shipper</th><th>consignee</th><th class=\"r\" data-type=\"num\">value (USD)</th><th class=\"r\" data-type=\"num\">sanctioned</th><th class=\"r\" data-type=\"num\">unknown</th><th class=\"r\" data-type=\"num\">exposed value (USD)</th><th data-type=\"num\">severity</th><th>flags</th><th>top path</th></tr></thead><tbody>");
    for x in rows {
        let id = match anchors.get(x.shipment_id.as_str()) {
            Some(k) => format!("<a href=\"#top-{k}\">{}</a>", esc(&x.shipment_id)),
            None => esc(&x.shipment_id),
        };
        let _ = write!(
            o,
            "<tr data-sev=\"{sev}\"><td><span class=\"id\">{id}</span><br><span class=\"mute\">{} · HS {}</span></td><td title=\"{}\">{}<br><span class=\"id mute\">{}</span></td><td title=\"{}\">{}<br><span class=\"id mute\">{}</span></td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td class=\"r\" data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td class=\"wrap\">{}</td><td class=\"id wrap path\">{}</td></tr>",
            esc(&x.date),
            esc(&x.hs_code),
            esc(&format!(
                "{} ({}, {})",
                x.shipper_name,
                x.shipper_id,
                place(&x.shipper_country, &x.shipper_region)
            )),
            esc(&short(&x.shipper_name, 20)),
            esc(&x.shipper_id),
            esc(&format!(
                "{} ({}, {})",
                x.consignee_name, x.consignee_id, x.consignee_country
            )),
            esc(&short(&x.consignee_name, 20)),
            esc(&x.consignee_id),
            esc(&x.value_usd),
            esc(&group(&x.value_usd)),
            x.sanctioned,
            pct(x.sanctioned),
            x.unknown,
            pct(x.unknown),
            esc(&x.exposed_value_usd),
            esc(&group(&x.exposed_value_usd)),
            x.severity as u8,
            sev_badge(x.severity.as_str()),
            esc(&x.flags.join(", ")),
            esc(&format!(
                "{}{}",
                x.top_path.replace('>', " → "),
                if x.paths_truncated {
                    " (path search cut)"
                } else {
                    ""
                }
            )),
            sev = x.severity.as_str()
        );
    }
    o.push_str("</tbody></table></div>\n");
    o
}

fn shipment_card(a: &Analysis, k: usize, x: &ShipmentRow, sc: &Scored) -> String {
    let ds = a.ds();
    let mut o = format!("<article class=\"card\" id=\"top-{k}\">");
    let _ = write!(
        o,
        "<h3>{}. {} <span class=\"sev {}\">{}</span></h3><div class=\"meta\">{} · HS {} · {} → {}</div>",
        k,
        esc(&x.shipment_id),
        esc(x.severity.as_str()),
        esc(x.severity.as_str()),
        esc(&x.date),
        esc(&x.hs_code),
        esc(&format!(
            "{} ({}, {})",
            x.shipper_name,
            x.shipper_id,
            place(&x.shipper_country, &x.shipper_region)
        )),
        esc(&format!(
            "{} ({}, {})",
            x.consignee_name, x.consignee_id, x.consignee_country
        )),
    );
    let _ = write!(
        o,
        "<div class=\"nums\"><span>value <b>{}</b> USD</span><span>sanctioned <b>{}</b></span><span>unknown <b>{}</b></span><span>clean <b>{}</b></span><span>coverage <b>{}</b></span><span>exposed value <b>{}</b> USD</span><span>by evidence: documented {}, declared {}, statistical {}</span></div>",
        esc(&group(&x.value_usd)),
        pct(x.sanctioned),
        pct(x.unknown),
        pct(x.clean),
        pct(x.coverage),
        esc(&group(&x.exposed_value_usd)),
        pct(x.documented),
        pct(x.declared),
        pct(x.statistical),
    );
    if !sc.flags.is_empty() {
        o.push_str(&flag_list(&sc.flags));
    }
    let shown = &sc.paths[..sc.paths.len().min(PATHS_PER_DIAGRAM)];
    if shown.is_empty() {
        o.push_str("<p class=\"mute\">No path from a sanctioned source carries weight into this shipment.</p>");
    } else {
        let d = Diagram::of_paths(a, shown);
        o.push_str(&d.svg(&format!("paths into shipment {}", x.shipment_id)));
        let s = &ds.shipments[sc.ship as usize];
        let window = format!(
            "{}..{}",
            s.date.add_days(-a.st().lag_days),
            s.date.add_days(-1)
        );
        let heading = s.hs.heading().to_string();
        let pj: Vec<PathJson> = shown
            .iter()
            .map(|p| crate::query::trace::path_json(ds, p, &window, &heading))
            .collect();
        o.push_str(&path_table(&pj, sc.paths.len(), sc.truncated));
    }
    let _ = write!(
        o,
        "<p class=\"mute noprint\">Every record behind these paths: <code>origintrace trace {}</code>.</p>",
        esc(&x.shipment_id)
    );
    o.push_str("</article>\n");
    o
}

fn by(r: &Report, k: &str) -> usize {
    r.totals.by_severity.get(k).copied().unwrap_or(0)
}

/// Counts by severity, with a bar of their proportions.
fn severity_card(r: &Report) -> String {
    let kinds = [
        ("high", "high"),
        ("medium", "medium"),
        ("low", "low"),
        ("none", "not flagged"),
    ];
    let mut o = String::from(
        "<div class=\"fig wide\" id=\"fig-severity\"><div class=\"l\">shipments by severity</div><div class=\"bar\" aria-hidden=\"true\">",
    );
    for (k, _) in kinds {
        let n = by(r, k);
        if n > 0 {
            let _ = write!(o, "<span class=\"{k}\" style=\"flex:{n}\"></span>");
        }
    }
    o.push_str("</div><div class=\"counts\">");
    for (k, label) in kinds {
        let _ = write!(
            o,
            "<span id=\"fig-{k}\"><i class=\"sw {k}\"></i>{label} <b>{}</b></span>",
            group(&by(r, k).to_string())
        );
    }
    o.push_str("</div></div>");
    o
}

impl Exporter for Html {
    fn export(&self, a: &Analysis, r: &Report) -> Result<Vec<u8>, String> {
        let t = &r.totals;
        let m = &r.meta;
        let st = &m.settings;
        let mut b = String::new();
        let inputs: Vec<&str> = m.inputs.iter().map(|i| i.file.as_str()).collect();
        let origins: Vec<String> = st
            .sanctioned_origins
            .iter()
            .map(|c| c.to_string())
            .collect();
        let mut lines = vec![
            format!(
                "{} shipments scored from {}",
                m.shipments,
                if inputs.is_empty() {
                    "no file".to_string()
                } else {
                    inputs.join(", ")
                }
            ),
            format!(
                "sanctioned origins {}; inputs counted {} days back; origintrace {}, model v{}",
                origins.join(", "),
                st.lag_days,
                m.version,
                m.model_version
            ),
        ];
        if m.flagged_only || m.min_severity > crate::engine::rules::Severity::None {
            lines.push(format!(
                "rows shown: {}{} ({} of {}); the headline figures count every shipment",
                if m.flagged_only { "flagged only" } else { "" },
                if m.min_severity > crate::engine::rules::Severity::None {
                    format!(" severity ≥ {}", m.min_severity.as_str())
                } else {
                    String::new()
                },
                m.rows_shown,
                m.shipments
            ));
        }
        b.push_str(&header(
            "origin exposure report",
            "Could these shipments carry sanctioned inputs?",
            &lines,
        ));
        b.push_str(&figures(
            &[
                Fig {
                    id: "shipments",
                    label: "shipments",
                    value: group(&t.shipments.to_string()),
                    note: format!("{} USD", group(&t.value_usd)),
                    class: "",
                },
                Fig {
                    id: "flagged",
                    label: "flagged shipments",
                    value: group(&t.flagged_shipments.to_string()),
                    note: format!("{} USD", group(&t.flagged_value_usd)),
                    class: "alert",
                },
                Fig {
                    id: "exposed",
                    label: "exposed value (USD)",
                    value: group(&t.exposed_value_usd),
                    note: "Σ value × sanctioned share".into(),
                    class: "alert",
                },
            ],
            &severity_card(r),
        ));
        // The top flagged shipments: the highest exposed value first.
        let mut top: Vec<usize> = (0..r.rows.len())
            .filter(|&i| !r.rows[i].flags.is_empty())
            .collect();
        top.sort_by(|&i, &j| {
            let (x, y) = (&r.rows[i], &r.rows[j]);
            y.exposed
                .cmp(&x.exposed)
                .then_with(|| y.severity.cmp(&x.severity))
                .then_with(|| x.shipment_id.cmp(&y.shipment_id))
        });
        top.truncate(TOP_DIAGRAMS);
        let anchors: HashMap<&str, usize> = top
            .iter()
            .enumerate()
            .map(|(k, &i)| (r.rows[i].shipment_id.as_str(), k + 1))
            .collect();
        let flagged: Vec<&ShipmentRow> = r.rows.iter().filter(|x| !x.flags.is_empty()).collect();
        let _ = write!(
            b,
            "<h2>Flagged shipments ({})</h2>\n<p class=\"mute\">Sorted by sanctioned share; click a column to sort, type to filter. Shares are of the shipment's value; exposed value = value × sanctioned share.</p>\n",
            flagged.len()
        );
        if flagged.is_empty() {
            b.push_str("<p>No shipment raised a flag.</p>\n");
        } else {
            let shown = flagged.len().min(MAX_TABLE_ROWS);
            b.push_str(&flagged_table(&flagged[..shown], &anchors));
            b.push_str(&cut_note(shown, flagged.len(), "flagged shipments"));
        }
        b.push_str("<h2>Importers</h2>\n<p class=\"mute\">Per consignee, the highest exposed value first.</p>\n");
        let shown = r.importers.len().min(MAX_TABLE_ROWS);
        b.push_str(&summary_table("importers", &r.importers[..shown]));
        b.push_str(&cut_note(shown, r.importers.len(), "importers"));
        let _ = write!(
            b,
            "<details><summary>Exporters ({})</summary>\n{}</details>\n",
            r.exporters.len(),
            summary_table(
                "exporters",
                &r.exporters[..r.exporters.len().min(MAX_TABLE_ROWS)]
            ) + &cut_note(
                r.exporters.len().min(MAX_TABLE_ROWS),
                r.exporters.len(),
                "exporters"
            )
        );
        let _ = write!(
            b,
            "<h2>Top flagged shipments: paths</h2>\n<p class=\"mute\">The {} flagged shipments with the highest exposed value, each with its top {} paths from a sanctioned source, laid out origin → region → traders → exporter → importer.</p>\n",
            top.len(),
            PATHS_PER_DIAGRAM
        );
        b.push_str(&legend("line width: share of the shipment's value"));
        for (k, &i) in top.iter().enumerate() {
            // Scored again with the analysis's own limits, exactly as `trace` scores it: a batch run may have
            // kept only what the tables need, and the card draws and lists the paths the trace shows.
            let sc = a.score(r.rows[i].ship);
            b.push_str(&shipment_card(a, k + 1, &r.rows[i], &sc));
        }
        // The run, for the file.
        b.push_str("<h2>Run</h2>\n<table><thead><tr><th>input</th><th class=\"r\">read</th><th class=\"r\">accepted</th><th class=\"r\">rejected</th><th>sha256</th></tr></thead><tbody>");
        for f in &m.inputs {
            let _ = write!(
                b,
                "<tr><td class=\"id\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"id\">{}</td></tr>",
                esc(&f.file),
                f.read,
                f.accepted,
                f.rejected,
                esc(&f.sha256)
            );
        }
        b.push_str("</tbody></table>\n");
        let transit: Vec<String> = st.transit_partners.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(
            b,
            "<footer>origintrace {} · model v{} · sanctioned origins {} · transit partners {} · lag {} days · severity thresholds medium {} / high {} · settings in force: {} · the JSON report (<code>--format json</code>) carries every setting in force.</footer>",
            esc(m.version),
            esc(m.model_version),
            esc(&origins.join(", ")),
            esc(&transit.join(", ")),
            st.lag_days,
            st.severity.medium,
            st.severity.high,
            esc(&st.summary())
        );
        Ok(page("origintrace report", &b).into_bytes())
    }
}

// ---------------------------------------------------------------------------------------------------------
// `trace --format html`.

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

fn party_line(p: &crate::query::PartyJson) -> String {
    format!("{} ({}{})", p.name, p.party_id, p.place())
}

/// A trace as a page: the verdict and its figures, the flags, the pool, the path diagram, every hop's records.
pub fn trace_page(a: &Analysis, t: &TraceJson) -> String {
    let e = &t.exposure;
    let mut b = String::new();
    let mut lines = vec![
        format!(
            "{} · HS {} · {} USD{}",
            t.date,
            t.hs_code,
            group(&t.value_usd),
            if t.currency != "USD" {
                format!(" ({} {})", group(&t.value), t.currency)
            } else {
                String::new()
            }
        ),
        format!(
            "from {} to {}",
            party_line(&t.shipper),
            party_line(&t.consignee)
        ),
    ];
    if let Some(c) = &t.origin_country {
        lines.push(format!("declared origin {c}"));
    }
    lines.push(format!("inputs counted from {}", t.window));
    b.push_str(&header(
        "shipment trace",
        &format!("Shipment {}", t.shipment_id),
        &lines,
    ));
    let verdict = if e.sanctioned > EPS {
        "may carry sanctioned inputs"
    } else if e.unknown > EPS {
        "no sanctioned input found; part unknown"
    } else {
        "no sanctioned input found"
    };
    b.push_str(&figures(
        &[
            Fig {
                id: "severity",
                label: "severity",
                value: t.severity.to_string(),
                note: verdict.into(),
                class: t.severity,
            },
            Fig {
                id: "sanctioned",
                label: "sanctioned",
                value: pct(e.sanctioned),
                note: format!("exposure {} to {}", pct(e.interval[0]), pct(e.interval[1])),
                class: if e.sanctioned > EPS { "alert" } else { "" },
            },
            Fig {
                id: "unknown",
                label: "unknown",
                value: pct(e.unknown),
                note: "missing data widens the interval".into(),
                class: "",
            },
            Fig {
                id: "clean",
                label: "clean",
                value: pct(e.clean),
                note: format!(
                    "documented {}, declared {}, statistical {}",
                    pct(e.clean_by_evidence.documented),
                    pct(e.clean_by_evidence.declared),
                    pct(e.clean_by_evidence.statistical)
                ),
                class: "",
            },
            Fig {
                id: "coverage",
                label: "coverage",
                value: pct(e.coverage),
                note: "firm-level evidence".into(),
                class: "",
            },
            Fig {
                id: "documented",
                label: "sanctioned, documented",
                value: pct(e.by_evidence.documented),
                note: format!(
                    "declared {}, statistical {}",
                    pct(e.by_evidence.declared),
                    pct(e.by_evidence.statistical)
                ),
                class: "",
            },
        ],
        "",
    ));
    if t.reachable && e.sanctioned <= EPS {
        b.push_str("<p>A sanctioned source is linked to the chain, with no weight.</p>\n");
    }
    if let Some(p) = e.prevalence {
        let _ = writeln!(
            b,
            "<p>Prevalence <b>{}</b>: the sanctioned share of the inputs its pool's statistics show.</p>",
            pct(p)
        );
    }
    if !t.explanation.is_empty() {
        b.push_str("<h2>Where the shares come from</h2>\n<ul>");
        for line in &t.explanation {
            let _ = write!(b, "<li>{}</li>", esc(line));
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<h2>Flags</h2>\n");
    if t.flags.is_empty() {
        b.push_str("<p>None.</p>\n");
    } else {
        b.push_str(&flag_list(&t.flags));
        b.push('\n');
    }
    b.push_str(&counterparty_table(&t.counterparties));
    if !t.backing.is_empty() {
        b.push_str("<h2>What backs each share</h2>\n<table><thead><tr><th>kind</th><th>source</th><th>part</th><th class=\"r\">weight</th><th class=\"r\">sanctioned</th><th class=\"r\">clean</th><th class=\"r\">unknown</th><th>records</th><th>note</th></tr></thead><tbody>");
        for x in &t.backing {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"mute\">{}</td><td>{}</td></tr>",
                esc(x.kind),
                esc(&x.source),
                esc(x.part.unwrap_or("")),
                pct(x.weight),
                pct(x.sanctioned),
                pct(x.clean),
                pct(x.unknown),
                esc(&x.records.join(", ")),
                esc(&x.note)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    if let Some(p) = &t.pool {
        let _ = write!(
            b,
            "<h2>Statistics pool</h2>\n<p>{} ({}): sanctioned imports {} USD, transit/re-imports {} USD, all relevant imports {} USD, exports {} USD → sanctioned {}, clean {}, unknown {}.</p>\n",
            esc(&p.scope),
            esc(&p.window),
            esc(&group(&p.sanctioned_imports_usd)),
            esc(&group(&p.unknown_imports_usd)),
            esc(&group(&p.imports_usd)),
            esc(&group(&p.exports_usd)),
            pct(p.sanctioned),
            pct(p.clean),
            pct(p.unknown)
        );
        let _ = writeln!(
            b,
            "<p>T = max(imports, {} × exports) = {} USD; remainder {} (inputs the statistics do not show); prevalence {}.</p>",
            p.input_ratio,
            esc(&group(&p.throughput_usd)),
            pct(p.remainder),
            pct(p.prevalence)
        );
        if !p.sanctioned_by_regime.is_empty() {
            let _ = writeln!(
                b,
                "<p>Sanctioned imports by customs regime: {}.</p>",
                esc(&p
                    .sanctioned_by_regime
                    .iter()
                    .map(|r| format!("{} {} USD", r.regime, group(&r.value_usd)))
                    .collect::<Vec<_>>()
                    .join(", "))
            );
        }
        if !p.rows.is_empty() {
            let _ = writeln!(b, "<p class=\"mute\">Rows: {}</p>", esc(&p.rows.join(", ")));
        }
        if let Some(r) = &p.rest_of_country {
            let _ = writeln!(
                b,
                "<p class=\"mute\">The remainder carries the {}'s sanctioned share (the rest of it is unknown): sanctioned imports {} USD, imports {} USD, exports {} USD → sanctioned {}.</p>",
                esc(&r.scope),
                esc(&group(&r.sanctioned_imports_usd)),
                esc(&group(&r.imports_usd)),
                esc(&group(&r.exports_usd)),
                pct(r.sanctioned)
            );
        }
    }
    b.push_str("<h2>Paths from a sanctioned source</h2>\n");
    if t.paths.is_empty() {
        b.push_str(if t.paths_truncated {
            "<p>None listed: the search was cut by its limits (--max-paths, --max-hops) before it completed one. The shares above are exact.</p>\n"
        } else if e.sanctioned > EPS {
            "<p>None listed.</p>\n"
        } else {
            "<p>None (no sanctioned share).</p>\n"
        });
    } else {
        let d = Diagram::of_hops(
            Some(a.ds()),
            t.paths.iter().map(|p| (Some(p.share), p.hops.as_slice())),
        );
        b.push_str(&legend("line width: share of the shipment's value"));
        b.push_str(&d.svg(&format!("paths into shipment {}", t.shipment_id)));
        b.push_str(&path_table(&t.paths, t.paths_found, t.paths_truncated));
        for (i, p) in t.paths.iter().enumerate() {
            let _ = writeln!(
                b,
                "<h3 style=\"margin-top:14px\">{}. {} <span class=\"mute\">share {} ({})</span></h3>{}",
                i + 1,
                esc(&p.nodes.replace('>', " → ")),
                pct(p.share),
                esc(p.grade),
                hop_rows(&p.hops)
            );
        }
    }
    page(&format!("trace {}", t.shipment_id), &b)
}

/// "; sanctioned imports by regime: outward-processing 30474000 USD" (nothing when none are known).
fn regimes(r: &[crate::query::trace::RegimeJson]) -> String {
    if r.is_empty() {
        return String::new();
    }
    format!(
        "; sanctioned imports by regime: {}",
        r.iter()
            .map(|x| format!("{} {} USD", x.regime, group(&x.value_usd)))
            .collect::<Vec<_>>()
            .join(", ")
    )
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

// ---------------------------------------------------------------------------------------------------------
// `vet --format html`.

/// A vet as a page: identity, watchlist, mix per heading, suppliers (drawn and listed), flags, next steps.
pub fn vet_page(v: &VetJson) -> String {
    let p = &v.party;
    let mut b = String::new();
    let mut lines = vec![format!(
        "{} · {}{}{}",
        p.party_id,
        p.country,
        p.region
            .as_ref()
            .map(|r| format!(", {r}"))
            .unwrap_or_default(),
        p.city
            .as_ref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default()
    )];
    if !p.aliases.is_empty() {
        lines.push(format!("also known as: {}", p.aliases.join("; ")));
    }
    if !p.identifiers.is_empty() {
        lines.push(format!("identifiers: {}", p.identifiers.join("; ")));
    }
    lines.push(format!(
        "as of {} (inputs counted from {})",
        v.as_of, v.window
    ));
    b.push_str(&header("supplier vetting", &p.name, &lines));
    if p.located_in_sanctioned_country {
        b.push_str("<p><span class=\"sev high\">sanctioned origin</span> Located in a sanctioned country: everything it ships is a sanctioned input.</p>\n");
    }
    let worst = v
        .headings
        .iter()
        .max_by(|a, b| a.now.sanctioned.total_cmp(&b.now.sanctioned));
    b.push_str(&figures(
        &[
            Fig {
                id: "severity",
                label: "overall severity",
                value: v.severity.as_str().into(),
                note: format!(
                    "{} finding(s); {} flag rule(s) on its own shipments",
                    v.findings.len(),
                    v.flags.len()
                ),
                class: v.severity.as_str(),
            },
            Fig {
                id: "watchlist",
                label: "watchlist matches",
                value: v.watchlist.len().to_string(),
                note: if v.watchlist.is_empty() {
                    "no match".into()
                } else {
                    "screen before any purchase".into()
                },
                class: if v.watchlist.is_empty() { "" } else { "alert" },
            },
            Fig {
                id: "sanctioned",
                label: "sanctioned now",
                value: worst.map_or("n/a".into(), |h| pct(h.now.sanctioned)),
                note: worst.map_or("nothing shipped".into(), |h| {
                    format!(
                        "HS {} (of {} heading(s)); exposure {} to {}",
                        h.heading,
                        v.headings.len(),
                        pct(h.now.interval[0]),
                        pct(h.now.interval[1])
                    )
                }),
                class: if worst.is_some_and(|h| h.now.sanctioned > EPS) {
                    "alert"
                } else {
                    ""
                },
            },
            Fig {
                id: "suppliers",
                label: "suppliers",
                value: (v.documented_suppliers.len() + v.declared_suppliers.len()).to_string(),
                note: format!(
                    "{} documented, {} declared",
                    v.documented_suppliers.len(),
                    v.declared_suppliers.len()
                ),
                class: "",
            },
        ],
        "",
    ));
    for w in &v.warnings {
        let _ = writeln!(b, "<p class=\"alert\"><b>Warning:</b> {}</p>", esc(w));
    }
    if !v.findings.is_empty() {
        b.push_str("<h2>Why the overall severity</h2>\n<ul>");
        for f in &v.findings {
            let _ = write!(
                b,
                "<li><span class=\"sev {}\">{}</span> {}</li>",
                f.severity.as_str(),
                f.severity.as_str(),
                esc(&f.what)
            );
        }
        b.push_str("</ul>\n");
    }
    if !v.watchlist.is_empty() {
        b.push_str("<h2>Watchlist</h2>\n<table><thead><tr><th>listed entity</th><th>list</th><th>entry</th><th>program</th><th>matched</th><th class=\"r\">score</th><th>why</th></tr></thead><tbody>");
        for h in &v.watchlist {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"id\">{}</td><td>{}</td><td>{}</td><td class=\"r\">{:.2}</td><td>{}</td></tr>",
                esc(&h.entry_name),
                esc(h.source.as_deref().unwrap_or("")),
                esc(&h.entry_id),
                esc(h.program.as_deref().unwrap_or("")),
                esc(&h.matched),
                h.score,
                esc(&h.why)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str(&counterparty_table(&v.counterparties));
    let bo = &v.bought;
    let _ = writeln!(b, "<h2>What it bought ({})</h2>", esc(&bo.window));
    if bo.shipments == 0 {
        b.push_str("<p>Nothing.</p>\n");
    } else {
        let _ = writeln!(
            b,
            "<p>{} shipment(s), {} USD; value-weighted sanctioned <b>{}</b>, unknown {}, clean {}; highest flag <span class=\"sev {}\">{}</span>.</p>",
            bo.shipments,
            esc(&group(&bo.value_usd)),
            pct(bo.mix.sanctioned),
            pct(bo.mix.unknown),
            pct(bo.mix.clean),
            bo.severity.as_str(),
            bo.severity.as_str()
        );
        if !bo.flagged.is_empty() {
            b.push_str("<table><thead><tr><th>shipment</th><th>date</th><th>supplier</th><th>HS</th><th class=\"r\">value (USD)</th><th class=\"r\">sanctioned</th><th>severity</th><th>flags</th></tr></thead><tbody>");
            for x in &bo.flagged {
                let _ = write!(
                    b,
                    "<tr><td class=\"id\">{}</td><td>{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td><span class=\"sev {}\">{}</span></td><td>{}</td></tr>",
                    esc(&x.shipment_id),
                    esc(&x.date),
                    esc(&x.supplier),
                    esc(&x.hs_code),
                    esc(&group(&x.value_usd)),
                    pct(x.sanctioned),
                    x.severity.as_str(),
                    x.severity.as_str(),
                    esc(&x.flags.join("; "))
                );
            }
            b.push_str("</tbody></table>\n");
        }
    }
    b.push_str("<h2>What its goods carry, per heading</h2>\n");
    if v.headings.is_empty() {
        b.push_str("<p>No outbound shipment up to the as-of date.</p>\n");
    }
    for h in &v.headings {
        let e = &h.now;
        let _ = write!(
            b,
            "<div class=\"card\"><h3>HS {}</h3><div class=\"nums\"><span><b>{}</b> shipments</span><span><b>{}</b> USD</span><span>now: sanctioned <b>{}</b></span><span>unknown <b>{}</b></span><span>clean <b>{}</b></span><span>exposure {} to {}</span><span>coverage {}</span></div>",
            esc(&h.heading),
            h.shipments,
            esc(&group(&h.value_usd)),
            pct(e.sanctioned),
            pct(e.unknown),
            pct(e.clean),
            pct(e.interval[0]),
            pct(e.interval[1]),
            pct(e.coverage)
        );
        b.push_str("<table><thead><tr><th>month</th><th class=\"r\">shipments</th><th class=\"r\">value (USD)</th><th class=\"r\">sanctioned</th><th class=\"r\">unknown</th><th class=\"r\">coverage</th></tr></thead><tbody>");
        for m in &h.months {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
                esc(&m.month),
                m.shipments,
                esc(&group(&m.value_usd)),
                pct(m.sanctioned),
                pct(m.unknown),
                pct(m.coverage)
            );
        }
        b.push_str("</tbody></table>");
        if let Some(pl) = &h.pool {
            let _ = write!(
                b,
                "<p class=\"mute\">Pool {} ({}): sanctioned imports {} USD of {} USD imports, exports {} USD → sanctioned {}, clean {}, unknown {}; prevalence {}{}.</p>",
                esc(&pl.scope),
                esc(&pl.window),
                esc(&group(&pl.sanctioned_imports_usd)),
                esc(&group(&pl.imports_usd)),
                esc(&group(&pl.exports_usd)),
                pct(pl.sanctioned),
                pct(pl.clean),
                pct(pl.unknown),
                pct(pl.prevalence),
                esc(&regimes(&pl.sanctioned_by_regime))
            );
        }
        b.push_str("</div>\n");
    }
    b.push_str("<h2>Suppliers</h2>\n");
    // The suppliers drawn into the party: documented ones by their share of the value received, declared
    // ones by their declared share.
    let total: f64 = v
        .documented_suppliers
        .iter()
        .filter_map(|s| s.value_usd.parse::<f64>().ok())
        .sum();
    let mut d = Diagram::new(["", "", "suppliers", "", "party"]);
    let me = d.add(DNode {
        key: format!("party:{}", p.party_id),
        label: short(&p.name, 24),
        sub: short(&p.party_id, 30),
        title: format!("{} ({})", p.name, p.party_id),
        geo: false,
        hot: p.located_in_sanctioned_country,
    });
    for s in &v.documented_suppliers {
        let i = d.add(DNode {
            key: format!("party:{}", s.party_id),
            label: short(&s.name, 24),
            sub: short(
                &format!(
                    "{} · {}",
                    s.party_id,
                    s.region.clone().unwrap_or_else(|| s.country.clone())
                ),
                30,
            ),
            title: format!(
                "{} ({}): {} shipments, {} USD, sanctioned {}",
                s.name,
                s.party_id,
                s.shipments,
                s.value_usd,
                pct(s.mix.sanctioned)
            ),
            geo: false,
            hot: s.mix.sanctioned > EPS,
        });
        let share = if total > 0.0 {
            s.value_usd.parse::<f64>().unwrap_or(0.0) / total
        } else {
            0.0
        };
        d.paths.push(DPath {
            share: Some(share),
            hops: vec![DHop {
                from: i,
                to: me,
                grade: "documented",
            }],
        });
    }
    for s in &v.declared_suppliers {
        let mut n = match s.supplier.strip_prefix("country:") {
            Some(c) => geo_node(c, false),
            None => bare_party_node(&s.supplier),
        };
        n.hot = s.mix.sanctioned > EPS;
        let i = d.add(n);
        d.paths.push(DPath {
            share: Some(s.share),
            hops: vec![DHop {
                from: i,
                to: me,
                grade: "declared",
            }],
        });
    }
    if d.paths.is_empty() {
        b.push_str("<p>No supplier on record.</p>\n");
    } else {
        let bands = (0..d.nodes.len())
            .map(|i| if i == me { 4 } else { 2 })
            .collect();
        d.bands = Some(bands);
        b.push_str(&legend(
            "line width: share of its inputs (documented: of the value received; declared: the declared share)",
        ));
        b.push_str(&d.svg(&format!("suppliers of {}", p.party_id)));
    }
    let _ = write!(
        b,
        "<h3 style=\"margin-top:12px\">Documented suppliers (shipments received {})</h3>",
        esc(&v.window)
    );
    if v.documented_suppliers.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<table><thead><tr><th>supplier</th><th>screening</th><th>place</th><th class=\"r\">shipments</th><th class=\"r\">value (USD)</th><th>HS</th><th>dates</th><th class=\"r\">sanctioned</th><th class=\"r\">unknown</th></tr></thead><tbody>");
        for s in &v.documented_suppliers {
            let mut screening: Vec<String> = s.watchlist.clone();
            if s.located_in_sanctioned_country {
                screening.insert(0, format!("located in {}, a sanctioned country", s.country));
            }
            screening.extend(s.counterparties.iter().map(|c| {
                format!(
                    "{} {} ({}), {} shipment(s)",
                    c.direction.replace('_', " "),
                    c.party_id,
                    c.country,
                    c.shipments
                )
            }));
            let _ = write!(
                b,
                "<tr><td>{}<br><span class=\"id mute\">{}</span></td><td>{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td><td>{}..{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td></tr>",
                esc(&s.name),
                esc(&s.party_id),
                if screening.is_empty() {
                    "no match".to_string()
                } else {
                    esc(&screening.join("; "))
                },
                esc(s.region.as_deref().unwrap_or(&s.country)),
                s.shipments,
                esc(&group(&s.value_usd)),
                esc(&s.hs_codes.join("/")),
                esc(&s.first),
                esc(&s.last),
                pct(s.mix.sanctioned),
                pct(s.mix.unknown)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("<h3 style=\"margin-top:12px\">Declared suppliers</h3>");
    if v.declared_suppliers.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<table><thead><tr><th>declaration</th><th>supplier</th><th>HS</th><th class=\"r\">share</th><th>valid</th><th>source</th><th class=\"r\">sanctioned</th><th class=\"r\">unknown</th><th>basis</th></tr></thead><tbody>");
        for s in &v.declared_suppliers {
            let _ = write!(
                b,
                "<tr><td class=\"id\">{}</td><td class=\"id\">{}</td><td>{}</td><td class=\"r\">{}</td><td>{}..{}</td><td>{}</td><td class=\"r\">{}</td><td class=\"r\">{}</td><td>{}</td></tr>",
                esc(&s.link_id),
                esc(&s.supplier),
                esc(&s.hs_code),
                s.share,
                esc(s.valid_from.as_deref().unwrap_or("open")),
                esc(s.valid_to.as_deref().unwrap_or("open")),
                esc(s.source.as_deref().unwrap_or("")),
                pct(s.mix.sanctioned),
                pct(s.mix.unknown),
                esc(&s.basis)
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push('\n');
    if !v.flags.is_empty() {
        b.push_str("<h2>Flags on its own shipments</h2>\n<ul class=\"flags\">");
        for f in &v.flags {
            let _ = write!(
                b,
                "<li>{} <b>{}</b> on {} shipment(s)</li>",
                sev_badge(f.severity.as_str()),
                esc(&f.rule),
                f.shipments
            );
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<h2>Next steps</h2>\n");
    if v.next_steps.is_empty() {
        b.push_str("<p>None: its inputs are covered by firm-level evidence and nothing sanctioned was found.</p>\n");
    } else {
        b.push_str("<ol class=\"steps\">");
        for s in &v.next_steps {
            let _ = write!(b, "<li>{}</li>", esc(s));
        }
        b.push_str("</ol>\n");
    }
    page(&format!("vet {}", p.party_id), &b)
}

// ---------------------------------------------------------------------------------------------------------
// `paths --format html`.

/// Paths as a page: the chains drawn (weights ignored: every line has the same width) and listed.
pub fn walk_page(w: &WalkJson) -> String {
    let mut b = String::new();
    let mut lines = vec![format!(
        "time-respecting chains from {} to {}{}, at most {} hops; weights ignored",
        w.from,
        w.to,
        w.hs.as_ref()
            .map(|h| format!(", HS {h}"))
            .unwrap_or_default(),
        w.max_hops
    )];
    if w.truncated {
        lines.push(format!(
            "the list was cut ({})",
            if w.cut_by.is_empty() {
                "limit".to_string()
            } else {
                w.cut_by.join(", ")
            }
        ));
    }
    b.push_str(&header(
        "paths",
        &format!("From {} to {}", w.from, w.to),
        &lines,
    ));
    b.push_str(&figures(
        &[Fig {
            id: "paths",
            label: "paths found",
            value: w.paths.len().to_string(),
            note: if w.truncated {
                "list cut".into()
            } else {
                "all found".into()
            },
            class: if w.paths.is_empty() { "" } else { "alert" },
        }],
        "",
    ));
    if w.paths.is_empty() {
        b.push_str("<p>No chain links the origin to the party.</p>\n");
    } else {
        let d = Diagram::of_hops(None, w.paths.iter().map(|p| (None, p.hops.as_slice())));
        b.push_str(&legend("every chain drawn at the same width"));
        b.push_str(&d.svg(&format!("paths from {} to {}", w.from, w.to)));
        for (i, p) in w.paths.iter().enumerate() {
            let _ = writeln!(
                b,
                "<h3 style=\"margin-top:14px\">{}. {}</h3>{}",
                i + 1,
                esc(&p.nodes.replace('>', " → ")),
                hop_rows(&p.hops)
            );
        }
    }
    page(&format!("paths to {}", w.to), &b)
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

    #[test]
    fn groups_digits_without_changing_them() {
        assert_eq!(group("98652650"), "98,652,650");
        assert_eq!(group("28119744.04"), "28,119,744.04");
        assert_eq!(group("-1234.5"), "-1,234.5");
        assert_eq!(group("999"), "999");
        assert_eq!(group("n/a"), "n/a");
    }

    #[test]
    fn geo_codes() {
        assert!(looks_geo("KP"));
        assert!(looks_geo("CN-HA"));
        assert!(!looks_geo("xuchang-silkwave"));
        assert!(!looks_geo("K"));
    }
}
