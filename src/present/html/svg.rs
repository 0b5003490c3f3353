//! The path diagram: paths laid out in tiers as an inline SVG, and its legend. The pages hand it their paths
//! (`trace`, `paths`, the report's top shipments) or a vet's suppliers; it places the boxes and draws the
//! lines, and prints only the figures it is given.

use crate::present::fmt::{pct, short};
use crate::query::PartyJson;
use crate::query::trace::{HopJson, NodeView};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::esc;

/// A node of a diagram.
#[derive(Clone, Debug)]
pub(super) struct DNode {
    /// Identity within the diagram (`party:ID`, `geo:KP`).
    pub(super) key: String,
    /// First line (a name or a code).
    pub(super) label: String,
    /// Second line (an id and a place, or a country's name).
    pub(super) sub: String,
    /// The full description, shown as a tooltip.
    pub(super) title: String,
    pub(super) geo: bool,
    /// A sanctioned source: drawn in red.
    pub(super) hot: bool,
}

/// A line from node `from` to node `to` (indices into the diagram's nodes), styled by its evidence grade.
pub(super) struct DHop {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) grade: &'static str,
}

/// A chain of hops, with the share that sets its line width (`None`: every line the same width).
pub(super) struct DPath {
    pub(super) share: Option<f64>,
    pub(super) hops: Vec<DHop>,
}

/// Paths to draw: nodes (deduplicated by key) and chains of hops between them.
#[derive(Default)]
pub(super) struct Diagram {
    pub(super) nodes: Vec<DNode>,
    index: HashMap<String, usize>,
    pub(super) paths: Vec<DPath>,
    /// Band of each node, when the caller fixes them (otherwise derived from the paths).
    pub(super) bands: Option<Vec<usize>>,
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

/// A country's or region's box: its code, and its name from ISO 3166.
pub(super) fn geo_node(code: &str, hot: bool) -> DNode {
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

/// A party's box: its name, id and place.
fn party_node(pt: &PartyJson, hot: bool) -> DNode {
    let at = pt.region.as_deref().unwrap_or(&pt.country);
    DNode {
        key: format!("party:{}", pt.party_id),
        label: short(&pt.name, 24),
        sub: short(&format!("{} · {at}", pt.party_id), 30),
        title: format!("{} ({}, {at})", pt.name, pt.party_id),
        geo: false,
        hot,
    }
}

/// A box for an id alone.
pub(super) fn bare_party_node(id: &str) -> DNode {
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
    /// An empty diagram whose five bands carry these names.
    pub(super) fn new(band_names: [&'static str; 5]) -> Diagram {
        Diagram {
            band_names,
            ..Diagram::default()
        }
    }

    /// Adds a node, or finds the one with its key (a hot node makes it hot); its index either way.
    pub(super) fn add(&mut self, n: DNode) -> usize {
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

    /// The diagram of paths in their JSON form (`trace`, `paths`, the report's top shipments), each with the
    /// share that sets its width. A node is drawn as its hop names it ([`NodeView`]); one known by its id
    /// alone is a place when its id looks like a country or region code, else a bare id. The first node of a
    /// path is its sanctioned source.
    pub(super) fn of_hops<'h>(
        paths: impl Iterator<Item = (Option<f64>, &'h [HopJson])>,
    ) -> Diagram {
        let mut d = Diagram::new(PATH_BANDS);
        let resolve = |d: &mut Diagram, id: &str, view: &NodeView, first: bool| -> usize {
            let mut n = match view {
                NodeView::Party(p) => party_node(p, first),
                NodeView::Place => geo_node(id, first),
                NodeView::Id if looks_geo(id) => geo_node(id, first),
                NodeView::Id => bare_party_node(id),
            };
            n.hot = first;
            d.add(n)
        };
        for (share, hs) in paths {
            let mut hops = Vec::new();
            for (i, h) in hs.iter().enumerate() {
                let from = resolve(&mut d, &h.from, &h.from_node, i == 0);
                let to = resolve(&mut d, &h.to, &h.to_node, false);
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
    pub(super) fn svg(&self, caption: &str) -> String {
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
pub(super) fn legend(width_note: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geo_codes() {
        assert!(looks_geo("KP"));
        assert!(looks_geo("CN-HA"));
        assert!(!looks_geo("xuchang-silkwave"));
        assert!(!looks_geo("K"));
    }
}
