//! `export`: the goods-flow graph of a dataset, whole or around one party, for Graphviz (DOT), Gephi
//! (GraphML) and scripts (JSON).
//!
//! Nodes are countries, regions and parties; edges are shipments (aggregated per shipper, consignee and HS
//! heading), supplier links (one per declaration), statistics rows (aggregated per partner and reporter side,
//! flow and heading) and the statistics pool each shipping party draws on. Attributes carry the kind, the
//! place, HS codes, dates, values and the model's computed shares (for a party: the value-weighted mix of its
//! outbound shipments). One [`ExportGraph`] is built here, then written by one renderer per format
//! (`present`). The output is sorted, so the same data always gives the same bytes.

use crate::data::codes::{Country, Date, Hs, Period, Region};
use crate::data::dataset::{Flow, LinkSupplier, PartyId};
use crate::engine::analysis::Analysis;
use crate::engine::model::Grade;
use crate::engine::model::Mix;
use crate::engine::pool::to_f64;
use crate::query::{QueryError, resolve_party};
use crate::util::fmt::{money, share};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The type of an attribute, as GraphML declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    String,
    Long,
    Double,
    Boolean,
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Money: a decimal string in JSON and DOT, a double in GraphML.
    Money(Decimal),
}

impl Val {
    /// The value as text (money exact; a share with up to nine decimals).
    pub fn text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => share(*f),
            Val::Bool(b) => b.to_string(),
            Val::Money(d) => money(*d),
        }
    }
}

/// Node attributes (name, type), in the order they are written. Every node attribute is one of these.
pub const NODE_KEYS: &[(&str, Ty)] = &[
    ("kind", Ty::String),
    ("label", Ty::String),
    ("code", Ty::String),
    ("party_id", Ty::String),
    ("name", Ty::String),
    ("country", Ty::String),
    ("region", Ty::String),
    ("city", Ty::String),
    ("sanctioned_origin", Ty::Boolean),
    ("watchlist", Ty::String),
    ("shipments_out", Ty::Long),
    ("value_out_usd", Ty::Double),
    ("shipments_in", Ty::Long),
    ("value_in_usd", Ty::Double),
    ("first_date", Ty::String),
    ("last_date", Ty::String),
    ("sanctioned", Ty::Double),
    ("clean", Ty::Double),
    ("unknown", Ty::Double),
    ("documented", Ty::Double),
    ("declared", Ty::Double),
    ("statistical", Ty::Double),
    ("coverage", Ty::Double),
];

/// Edge attributes (name, type), in the order they are written. Every edge attribute is one of these.
pub const EDGE_KEYS: &[(&str, Ty)] = &[
    ("kind", Ty::String),
    ("hs", Ty::String),
    ("hs_codes", Ty::String),
    ("count", Ty::Long),
    ("value_usd", Ty::Double),
    ("first_date", Ty::String),
    ("last_date", Ty::String),
    ("sanctioned", Ty::Double),
    ("unknown", Ty::Double),
    ("declared_origins", Ty::String),
    ("link_id", Ty::String),
    ("share", Ty::Double),
    ("valid_from", Ty::String),
    ("valid_to", Ty::String),
    ("document", Ty::String),
    ("flow", Ty::String),
    ("reporter", Ty::String),
    ("regimes", Ty::String),
    ("scope", Ty::String),
];

/// Graph attributes (name, type).
pub const GRAPH_KEYS: &[(&str, Ty)] = &[
    ("tool", Ty::String),
    ("version", Ty::String),
    ("model_version", Ty::String),
    ("sanctioned_origins", Ty::String),
    ("lag_days", Ty::Long),
    ("around", Ty::String),
    ("hops", Ty::Long),
];

/// Attributes (name, value), in the order of their keys' list.
pub type Attrs = Vec<(&'static str, Val)>;

/// A node of the graph.
#[derive(Clone, Debug)]
pub struct GNode {
    /// `country:KP`, `region:CN-HA` or `party:<party_id>`.
    pub id: String,
    /// `country`, `region` or `party`.
    pub kind: &'static str,
    /// Everything else, `kind` and `label` included, in [`NODE_KEYS`] order.
    pub attrs: Attrs,
}

/// An edge of the graph.
#[derive(Clone, Debug)]
pub struct GEdge {
    pub source: String,
    pub target: String,
    /// `shipment`, `supplier_link`, `trade_flow` or `pool`.
    pub kind: &'static str,
    /// Everything else, `kind` included, in [`EDGE_KEYS`] order.
    pub attrs: Attrs,
}

/// The graph to write: nodes sorted by kind then id, edges by source, target, kind and attributes.
#[derive(Clone, Debug)]
pub struct ExportGraph {
    pub attrs: Attrs,
    pub nodes: Vec<GNode>,
    pub edges: Vec<GEdge>,
}

impl GNode {
    /// The value of attribute `key`, when the node has it.
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl GEdge {
    /// The value of attribute `key`, when the edge has it.
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.attrs.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

fn country_id(c: Country) -> String {
    format!("country:{c}")
}

fn region_id(r: Region) -> String {
    format!("region:{r}")
}

fn party_id(ds: &crate::data::dataset::Dataset, p: PartyId) -> String {
    format!("party:{}", ds.party(p).id)
}

fn s(x: impl Into<String>) -> Val {
    Val::Str(x.into())
}

/// Value-weighted mixes: a running sum of `value × mix`, with a count-weighted fallback when every value is 0.
#[derive(Default, Clone)]
struct Acc {
    n: i64,
    value: Decimal,
    w: f64,
    mix: Mix,
    plain: Mix,
    first: Option<Date>,
    last: Option<Date>,
}

impl Acc {
    fn add(&mut self, value: Decimal, date: Date, mix: &Mix) {
        self.n += 1;
        self.value += value;
        let w = to_f64(value);
        self.w += w;
        self.mix.add_scaled(w, mix);
        self.plain.add_scaled(1.0, mix);
        self.first = Some(self.first.map_or(date, |d| d.min(date)));
        self.last = Some(self.last.map_or(date, |d| d.max(date)));
    }

    /// The mean mix: value-weighted, or by count when the values add up to 0.
    fn mean(&self) -> Mix {
        let mut m = Mix::default();
        if self.w > 0.0 {
            m.add_scaled(1.0 / self.w, &self.mix);
        } else if self.n > 0 {
            m.add_scaled(1.0 / self.n as f64, &self.plain);
        }
        m
    }
}

fn mix_attrs(attrs: &mut Attrs, m: &Mix) {
    attrs.push(("sanctioned", Val::Float(m.sanctioned())));
    attrs.push(("clean", Val::Float(m.clean())));
    attrs.push(("unknown", Val::Float(m.u)));
    attrs.push(("documented", Val::Float(m.sanctioned_by(Grade::Documented))));
    attrs.push(("declared", Val::Float(m.sanctioned_by(Grade::Declared))));
    attrs.push((
        "statistical",
        Val::Float(m.sanctioned_by(Grade::Statistical)),
    ));
    attrs.push(("coverage", Val::Float(m.coverage())));
}

fn geo_attrs(code: &str, name: String, country: Option<Country>, sanctioned: bool) -> Attrs {
    let kind = if country.is_some() {
        "region"
    } else {
        "country"
    };
    let mut a: Attrs = vec![
        ("kind", s(kind)),
        ("label", s(code)),
        ("code", s(code)),
        ("name", s(name)),
    ];
    if let Some(c) = country {
        a.push(("country", s(c.to_string())));
    }
    a.push(("sanctioned_origin", Val::Bool(sanctioned)));
    a
}

/// Builds the whole graph, or the neighbourhood of `around` (a party id or name) within `hops` hops, edges
/// followed in either direction.
pub fn build(a: &Analysis, around: Option<(&str, usize)>) -> Result<ExportGraph, QueryError> {
    let ds = a.ds();
    let st = a.st();
    let e = &a.engine;
    let centre = around
        .map(|(p, h)| resolve_party(ds, p).map(|i| (i, h)))
        .transpose()?;
    let mut edges: Vec<GEdge> = Vec::new();
    let mut geo: BTreeMap<String, Attrs> = BTreeMap::new();
    let add_country = |geo: &mut BTreeMap<String, Attrs>, c: Country| -> String {
        let id = country_id(c);
        geo.entry(id.clone()).or_insert_with(|| {
            let name = rust_iso3166::from_alpha2(c.as_str())
                .map(|x| x.name.to_string())
                .unwrap_or_default();
            geo_attrs(c.as_str(), name, None, st.is_sanctioned(c))
        });
        id
    };
    let add_region = |geo: &mut BTreeMap<String, Attrs>, r: Region| -> String {
        let id = region_id(r);
        geo.entry(id.clone()).or_insert_with(|| {
            let name = rust_iso3166::iso3166_2::from_code(r.as_str())
                .map(|x| x.name.to_string())
                .unwrap_or_default();
            geo_attrs(
                r.as_str(),
                name,
                Some(r.country()),
                st.is_sanctioned(r.country()),
            )
        });
        id
    };

    // Shipments, per (shipper, consignee, heading); and each party's inbound and outbound totals.
    let mut out_acc: Vec<Acc> = vec![Acc::default(); ds.parties.len()];
    let mut in_acc: Vec<(i64, Decimal)> = vec![(0, Decimal::ZERO); ds.parties.len()];
    struct Ship {
        acc: Acc,
        codes: BTreeSet<String>,
        origins: BTreeSet<String>,
    }
    let mut ships: BTreeMap<(PartyId, PartyId, Hs), Ship> = BTreeMap::new();
    for (i, sh) in ds.shipments.iter().enumerate() {
        let mix = e.outcome(e.ix.key_of_shipment[i]).mix;
        out_acc[sh.shipper.index()].add(sh.value_usd, sh.date, &mix);
        let inn = &mut in_acc[sh.consignee.index()];
        inn.0 += 1;
        inn.1 += sh.value_usd;
        let g = ships
            .entry((sh.shipper, sh.consignee, sh.hs.heading()))
            .or_insert_with(|| Ship {
                acc: Acc::default(),
                codes: BTreeSet::new(),
                origins: BTreeSet::new(),
            });
        g.acc.add(sh.value_usd, sh.date, &mix);
        g.codes.insert(sh.hs.to_string());
        if let Some(o) = sh.origin {
            g.origins.insert(o.to_string());
        }
    }
    for ((from, to, h), g) in ships {
        let m = g.acc.mean();
        let mut at: Attrs = vec![
            ("kind", s("shipment")),
            ("hs", s(h.to_string())),
            ("hs_codes", s(join(&g.codes))),
            ("count", Val::Int(g.acc.n)),
            ("value_usd", Val::Money(g.acc.value)),
        ];
        if let (Some(f), Some(l)) = (g.acc.first, g.acc.last) {
            at.push(("first_date", s(f.to_string())));
            at.push(("last_date", s(l.to_string())));
        }
        at.push(("sanctioned", Val::Float(m.sanctioned())));
        at.push(("unknown", Val::Float(m.u)));
        if !g.origins.is_empty() {
            at.push(("declared_origins", s(join(&g.origins))));
        }
        edges.push(GEdge {
            source: party_id(ds, from),
            target: party_id(ds, to),
            kind: "shipment",
            attrs: at,
        });
    }

    // Supplier links, one edge per declaration.
    for l in &ds.links {
        let source = match l.supplier {
            LinkSupplier::Party(q) => party_id(ds, q),
            LinkSupplier::Country(c) => add_country(&mut geo, c),
        };
        let mut at: Attrs = vec![
            ("kind", s("supplier_link")),
            ("hs", s(l.hs.to_string())),
            ("link_id", s(l.id.clone())),
            ("share", Val::Float(l.share)),
        ];
        if let Some(d) = l.valid_from {
            at.push(("valid_from", s(d.to_string())));
        }
        if let Some(d) = l.valid_to {
            at.push(("valid_to", s(d.to_string())));
        }
        if let Some(src) = &l.source {
            at.push(("document", s(src.clone())));
        }
        edges.push(GEdge {
            source,
            target: party_id(ds, l.buyer),
            kind: "supplier_link",
            attrs: at,
        });
    }

    // Statistics rows (superseded ones left out, as the pools leave them out), per (from, to, flow, heading).
    struct Rows {
        n: i64,
        value: Decimal,
        first: Period,
        last: Period,
        regimes: BTreeSet<String>,
        reporter: Country,
    }
    let mut flows: BTreeMap<(String, String, Flow, Hs), Rows> = BTreeMap::new();
    let mut reporters: BTreeSet<(Country, Option<Region>)> = BTreeSet::new();
    for f in ds.flows.iter().filter(|f| !f.superseded) {
        reporters.insert((f.reporter, f.region));
        let side = match f.region {
            Some(r) => add_region(&mut geo, r),
            None => add_country(&mut geo, f.reporter),
        };
        let partner = add_country(&mut geo, f.partner);
        let (from, to) = match f.flow {
            Flow::Import => (partner, side),
            Flow::Export => (side, partner),
        };
        let r = flows
            .entry((from, to, f.flow, f.hs.heading()))
            .or_insert(Rows {
                n: 0,
                value: Decimal::ZERO,
                first: f.period,
                last: f.period,
                regimes: BTreeSet::new(),
                reporter: f.reporter,
            });
        r.n += 1;
        r.value += f.value_usd;
        r.first = r.first.min(f.period);
        r.last = r.last.max(f.period);
        let regime = ds.text.get(f.regime);
        if !regime.is_empty() {
            r.regimes.insert(regime.to_string());
        }
    }
    for ((from, to, flow, h), r) in flows {
        let mut at: Attrs = vec![
            ("kind", s("trade_flow")),
            ("hs", s(h.to_string())),
            ("count", Val::Int(r.n)),
            ("value_usd", Val::Money(r.value)),
            ("first_date", s(r.first.to_string())),
            ("last_date", s(r.last.to_string())),
            ("flow", s(flow.as_str())),
            ("reporter", s(r.reporter.to_string())),
        ];
        if !r.regimes.is_empty() {
            at.push(("regimes", s(join(&r.regimes))));
        }
        edges.push(GEdge {
            source: from,
            target: to,
            kind: "trade_flow",
            attrs: at,
        });
    }

    // The statistics pool each shipping party draws on: its region's rows, else its country's.
    for (p, pt) in ds.parties.iter().enumerate() {
        if out_acc[p].n == 0 || e.is_sanctioned_party(PartyId::from_index(p)) {
            continue;
        }
        let regional = pt
            .region
            .filter(|r| reporters.contains(&(pt.country, Some(*r))));
        let national =
            reporters.range((pt.country, None)..).next().map(|x| x.0) == Some(pt.country);
        let (source, scope) = match (regional, national) {
            (Some(r), _) => (add_region(&mut geo, r), "regional"),
            (None, true) => (add_country(&mut geo, pt.country), "national"),
            _ => continue,
        };
        edges.push(GEdge {
            source,
            target: party_id(ds, PartyId::from_index(p)),
            kind: "pool",
            attrs: vec![("kind", s("pool")), ("scope", s(scope))],
        });
    }

    // Nodes: places first (countries, then regions), then parties.
    let hits: HashMap<usize, String> = a
        .hits
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.is_empty())
        .map(|(p, h)| {
            let ids: BTreeSet<String> = h.iter().map(|x| x.entry_id.clone()).collect();
            (p, join(&ids))
        })
        .collect();
    let mut nodes: Vec<GNode> = geo
        .into_iter()
        .map(|(id, attrs)| GNode {
            kind: if id.starts_with("region:") {
                "region"
            } else {
                "country"
            },
            id,
            attrs,
        })
        .collect();
    let mut parties: Vec<GNode> = Vec::with_capacity(ds.parties.len());
    for (p, pt) in ds.parties.iter().enumerate() {
        let mut at: Attrs = vec![
            ("kind", s("party")),
            ("label", s(pt.name.clone())),
            ("party_id", s(pt.id.clone())),
            ("name", s(pt.name.clone())),
            ("country", s(pt.country.to_string())),
        ];
        if let Some(r) = pt.region {
            at.push(("region", s(r.to_string())));
        }
        if let Some(c) = &pt.city {
            at.push(("city", s(c.clone())));
        }
        at.push((
            "sanctioned_origin",
            Val::Bool(e.is_sanctioned_party(PartyId::from_index(p))),
        ));
        if let Some(w) = hits.get(&p) {
            at.push(("watchlist", s(w.clone())));
        }
        let o = &out_acc[p];
        at.push(("shipments_out", Val::Int(o.n)));
        at.push(("value_out_usd", Val::Money(o.value)));
        at.push(("shipments_in", Val::Int(in_acc[p].0)));
        at.push(("value_in_usd", Val::Money(in_acc[p].1)));
        if let (Some(f), Some(l)) = (o.first, o.last) {
            at.push(("first_date", s(f.to_string())));
            at.push(("last_date", s(l.to_string())));
        }
        if o.n > 0 {
            mix_attrs(&mut at, &o.mean());
        }
        parties.push(GNode {
            id: party_id(ds, PartyId::from_index(p)),
            kind: "party",
            attrs: at,
        });
    }
    parties.sort_by(|a, b| a.id.cmp(&b.id));
    nodes.sort_by(|a, b| (a.kind != "country", &a.id).cmp(&(b.kind != "country", &b.id)));
    nodes.extend(parties);
    edges.sort_by(|a, b| {
        (&a.source, &a.target, a.kind)
            .cmp(&(&b.source, &b.target, b.kind))
            .then_with(|| attrs_key(&a.attrs).cmp(&attrs_key(&b.attrs)))
    });

    let mut attrs: Attrs = vec![
        ("tool", s("origintrace")),
        ("version", s(env!("CARGO_PKG_VERSION"))),
        ("model_version", s(crate::MODEL_VERSION)),
        (
            "sanctioned_origins",
            s(st.sanctioned_origins
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(";")),
        ),
        ("lag_days", Val::Int(st.lag_days as i64)),
    ];
    let mut g = ExportGraph {
        attrs: Vec::new(),
        nodes,
        edges,
    };
    if let Some((p, hops)) = centre {
        let keep = neighbourhood(&g, &party_id(ds, p), hops);
        g.nodes.retain(|n| keep.contains(n.id.as_str()));
        g.edges
            .retain(|e| keep.contains(e.source.as_str()) && keep.contains(e.target.as_str()));
        attrs.push(("around", s(ds.party(p).id.clone())));
        attrs.push(("hops", Val::Int(hops as i64)));
    }
    g.attrs = attrs;
    Ok(g)
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(";")
}

fn attrs_key(a: &Attrs) -> Vec<String> {
    a.iter().map(|(k, v)| format!("{k}={}", v.text())).collect()
}

/// The ids of the nodes within `hops` hops of `centre`, following edges either way (a breadth-first search
/// over the graph as petgraph holds it).
fn neighbourhood(g: &ExportGraph, centre: &str, hops: usize) -> BTreeSet<String> {
    use petgraph::graph::{DiGraph, NodeIndex};
    let mut pg: DiGraph<usize, ()> = DiGraph::with_capacity(g.nodes.len(), g.edges.len());
    let mut ix: HashMap<&str, NodeIndex> = HashMap::with_capacity(g.nodes.len());
    for (i, n) in g.nodes.iter().enumerate() {
        ix.insert(n.id.as_str(), pg.add_node(i));
    }
    for e in &g.edges {
        if let (Some(&a), Some(&b)) = (ix.get(e.source.as_str()), ix.get(e.target.as_str())) {
            pg.add_edge(a, b, ());
        }
    }
    let mut keep = BTreeSet::new();
    let Some(&start) = ix.get(centre) else {
        return keep;
    };
    let mut depth: HashMap<NodeIndex, usize> = HashMap::new();
    depth.insert(start, 0);
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let d = depth[&n];
        keep.insert(g.nodes[pg[n]].id.clone());
        if d == hops {
            continue;
        }
        for m in pg.neighbors_undirected(n) {
            if let std::collections::hash_map::Entry::Vacant(v) = depth.entry(m) {
                v.insert(d + 1);
                queue.push_back(m);
            }
        }
    }
    keep
}
