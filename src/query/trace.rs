//! `trace SHIPMENT_ID`: one shipment's mix, flags and paths, every number tied to the rows behind it.

use super::{PartyJson, QueryError};
use crate::data::codes::Date;
use crate::data::dataset::{Dataset, FlowId};
use crate::engine::analysis::{Analysis, Scored, node_id, path_string};
use crate::engine::model::Grade;
use crate::engine::model::{EPS, Mix};
use crate::engine::paths::{Hop, HopKind, Node, Path, RecordRef};
use crate::engine::rules::Flag;
use crate::util::fmt::{money, pct};
use serde::Serialize;

#[derive(Serialize, Clone, Debug)]
pub struct Grades {
    pub documented: f64,
    pub declared: f64,
    pub statistical: f64,
}

#[derive(Serialize, Clone, Debug)]
pub struct Exposure {
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    pub coverage: f64,
    pub by_evidence: Grades,
    pub clean_by_evidence: Grades,
    /// `[sanctioned, sanctioned + unknown]`.
    pub interval: [f64; 2],
    /// The prevalence of the pool the output takes (`null` when it takes none).
    pub prevalence: Option<f64>,
}

impl Exposure {
    pub fn of(m: &Mix, prevalence: Option<f64>) -> Exposure {
        Exposure {
            prevalence,
            sanctioned: m.sanctioned(),
            clean: m.clean(),
            unknown: m.u,
            coverage: m.coverage(),
            by_evidence: Grades {
                documented: m.sanctioned_by(Grade::Documented),
                declared: m.sanctioned_by(Grade::Declared),
                statistical: m.sanctioned_by(Grade::Statistical),
            },
            clean_by_evidence: Grades {
                documented: m.clean_by(Grade::Documented),
                declared: m.clean_by(Grade::Declared),
                statistical: m.clean_by(Grade::Statistical),
            },
            interval: [m.sanctioned(), (m.sanctioned() + m.u).min(1.0)],
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct HopJson {
    pub from: String,
    pub to: String,
    pub kind: &'static str,
    pub date: Option<String>,
    pub hs_code: Option<String>,
    pub value_usd: Option<String>,
    pub records: Vec<String>,
    /// `FILE:LINE` of each record, in the order of `records`.
    pub locations: Vec<String>,
    /// What `from` names, for a renderer that draws the hop (the JSON has the id alone).
    #[serde(skip)]
    pub from_node: NodeView,
    /// What `to` names, as `from_node`.
    #[serde(skip)]
    pub to_node: NodeView,
}

/// What a node id of a path names, for a page that draws the path: a party's box carries its name and
/// place, a country's or region's its code.
#[derive(Clone, Debug, Default)]
pub enum NodeView {
    /// Known by its id alone: a renderer tells a place code from a party id by its look (`paths` draws its
    /// chains so).
    #[default]
    Id,
    /// A country or a region: the id is its code.
    Place,
    /// A party of the data.
    Party(PartyJson),
}

impl NodeView {
    /// The node as the path holds it: a party, or a place.
    pub fn of(ds: &Dataset, n: Node) -> NodeView {
        match n {
            Node::Party(p) => NodeView::Party(PartyJson::of(ds, p)),
            Node::Country(_) | Node::Region(_) => NodeView::Place,
        }
    }

    /// The party the id names in the data, else [`NodeView::Id`]. `trace` resolves its nodes by id, as its
    /// page always has: a place whose code is also some party's id is drawn as that party.
    pub fn by_id(ds: &Dataset, id: &str) -> NodeView {
        ds.party_by_id(id)
            .map_or(NodeView::Id, |p| NodeView::Party(PartyJson::of(ds, p)))
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct PathJson {
    pub share: f64,
    pub grade: &'static str,
    pub nodes: String,
    pub hops: Vec<HopJson>,
}

/// A pool's sanctioned imports under one customs regime (outward processing is the strongest sign of
/// subcontracting).
#[derive(Serialize, Clone, Debug)]
pub struct RegimeJson {
    pub regime: String,
    pub value_usd: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct PoolJson {
    pub scope: String,
    pub window: String,
    pub sanctioned_imports_usd: String,
    pub unknown_imports_usd: String,
    pub imports_usd: String,
    pub exports_usd: String,
    /// The heading's `input_ratio` k, and `T = max(I, k·E)`.
    pub input_ratio: f64,
    pub throughput_usd: String,
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    /// `R = (T − I) / T`: the inputs the statistics do not show.
    pub remainder: f64,
    /// `sanctioned / (sanctioned + clean)`: the sanctioned share of the inputs whose origin they show.
    pub prevalence: f64,
    /// Sanctioned imports by customs regime (empty where the rows were not read).
    pub sanctioned_by_regime: Vec<RegimeJson>,
    /// `FILE:LINE` of every statistics row behind the figures (empty where the rows were not read).
    pub rows: Vec<String>,
    pub rest_of_country: Option<Box<PoolJson>>,
    /// The rows of `rows`, as indices, for [`backing`] to sort by class.
    #[serde(skip)]
    pub row_ids: Vec<FlowId>,
}

#[derive(Serialize, Clone, Debug)]
pub struct TraceJson {
    pub shipment_id: String,
    pub date: String,
    pub hs_code: String,
    pub value_usd: String,
    pub value: String,
    pub currency: String,
    pub origin_country: Option<String>,
    pub shipper: PartyJson,
    pub consignee: PartyJson,
    pub exposure: Exposure,
    pub reachable: bool,
    pub severity: &'static str,
    pub flags: Vec<Flag>,
    pub paths: Vec<PathJson>,
    pub paths_truncated: bool,
    pub paths_found: usize,
    pub pool: Option<PoolJson>,
    pub window: String,
    /// What backs each part of the mix (sanctioned, clean and unknown alike).
    pub backing: Vec<BackingJson>,
    /// The exposure interval in plain words.
    pub explanation: Vec<String>,
    /// The shipper's sanctioned counterparties in `[t − counterparty_days, t)`.
    pub counterparties: Vec<super::vet::Counterparty>,
}

fn record_id(ds: &Dataset, r: RecordRef) -> (String, String) {
    match r {
        RecordRef::Shipment(i) => {
            let s = ds.shipment(i);
            (ds.shipment_id(s).to_string(), ds.rec_path(s.rec))
        }
        RecordRef::Link(i) => {
            let l = ds.link(i);
            (l.id.clone(), ds.rec_path(l.rec))
        }
        RecordRef::Flow(i) => {
            let f = ds.flow(i);
            (ds.flow_id(f).to_string(), ds.rec_path(f.rec))
        }
    }
}

fn range(mut v: Vec<String>) -> Option<String> {
    v.sort();
    v.dedup();
    match (v.first(), v.last()) {
        (Some(a), Some(b)) if a == b => Some(a.clone()),
        (Some(a), Some(b)) => Some(format!("{a}..{b}")),
        _ => None,
    }
}

/// The HS code of a hop: the code when all its records share it, else the distinct codes joined by `/`.
fn hop_hs(mut codes: Vec<crate::data::codes::Hs>) -> Option<String> {
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return None;
    }
    Some(
        codes
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// The JSON form of a hop.
pub fn hop_json(ds: &Dataset, h: &Hop, window: &str, heading: &str) -> HopJson {
    let mut dates = Vec::new();
    let mut codes = Vec::new();
    let mut records = Vec::new();
    let mut locations = Vec::new();
    let mut total = rust_decimal::Decimal::ZERO;
    for (r, v) in &h.records {
        let (id, loc) = record_id(ds, *r);
        records.push(id);
        locations.push(loc);
        total += *v;
        match r {
            RecordRef::Shipment(i) => {
                let s = ds.shipment(*i);
                dates.push(s.date.to_string());
                codes.push(s.hs);
            }
            RecordRef::Flow(i) => {
                let f = ds.flow(*i);
                dates.push(f.period.to_string());
                codes.push(f.hs);
            }
            RecordRef::Link(i) => {
                let l = ds.link(*i);
                let from = l
                    .valid_from
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "open".into());
                let to = l
                    .valid_to
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "open".into());
                if l.valid_from.is_some() || l.valid_to.is_some() {
                    dates.push(format!("{from}..{to}"));
                }
                codes.push(l.hs);
            }
        }
    }
    let pool = matches!(
        h.kind,
        HopKind::RegionalPool | HopKind::NationalPool | HopKind::RestOfCountry
    );
    HopJson {
        from: node_id(ds, h.from),
        to: node_id(ds, h.to),
        kind: h.kind.as_str(),
        date: if pool {
            (!window.is_empty()).then(|| window.to_string())
        } else {
            range(dates)
        },
        hs_code: if pool {
            (!heading.is_empty()).then(|| heading.to_string())
        } else {
            hop_hs(codes)
        },
        value_usd: matches!(h.kind, HopKind::Shipment | HopKind::TradeFlow).then(|| money(total)),
        records,
        locations,
        from_node: NodeView::Id,
        to_node: NodeView::Id,
    }
}

/// The JSON form of a path.
pub fn path_json(ds: &Dataset, p: &Path, window: &str, heading: &str) -> PathJson {
    PathJson {
        share: p.share,
        grade: p.grade.as_str(),
        nodes: path_string(ds, p),
        hops: p
            .hops
            .iter()
            .map(|h| hop_json(ds, h, window, heading))
            .collect(),
    }
}

/// The inputs window of an output on `date` ([`Engine::lag_window`]) as every view prints it, `FROM..TO`.
///
/// [`Engine::lag_window`]: crate::engine::model::Engine::lag_window
pub fn window(e: &crate::engine::model::Engine, date: Date) -> String {
    let (lo, hi) = e.lag_window(date);
    format!("{lo}..{hi}")
}

impl PoolJson {
    /// The figures of a pool over `window`, with the rest of the country whose sanctioned share its
    /// remainder carries.
    pub fn of(pl: &crate::engine::pool::Pool, window: String) -> PoolJson {
        let figures = |scope: String,
                       f: &crate::engine::pool::Figures,
                       m: crate::engine::pool::PoolMix,
                       rest: Option<Box<PoolJson>>| {
            let t = f.throughput(pl.k);
            PoolJson {
                scope,
                window: window.clone(),
                sanctioned_imports_usd: money(f.s_total()),
                unknown_imports_usd: money(f.unknown),
                imports_usd: money(f.imports),
                exports_usd: money(f.exports),
                input_ratio: pl.k,
                throughput_usd: money(
                    rust_decimal::Decimal::from_f64_retain(t)
                        .unwrap_or_default()
                        .round_dp(2),
                ),
                sanctioned: m.sanctioned,
                clean: m.clean,
                unknown: m.unknown,
                remainder: if t > 0.0 {
                    (1.0 - crate::engine::pool::to_f64(f.imports) / t).max(0.0)
                } else {
                    0.0
                },
                prevalence: m.prevalence(),
                sanctioned_by_regime: Vec::new(),
                rows: Vec::new(),
                row_ids: Vec::new(),
                rest_of_country: rest,
            }
        };
        let rest = pl.rest.as_ref().map(|r| {
            // The rest of the country's own remainder is unknown: only its sanctioned share travels.
            let m = crate::engine::pool::shares(r, pl.k, 0.0);
            Box::new(figures(format!("rest of {}", pl.reporter), r, m, None))
        });
        let scope = match pl.scope {
            crate::engine::pool::Scope::Region(r) => format!("region {r}"),
            _ => format!("national {}", pl.reporter),
        };
        figures(scope, &pl.own, pl.mix, rest)
    }

    /// [`PoolJson::of`] with the rows behind it read: every row's `FILE:LINE`, and the sanctioned imports
    /// by customs regime, for the pool of heading `o` that an output on day `t` takes.
    pub fn of_rows(
        a: &Analysis,
        pl: &crate::engine::pool::Pool,
        o: crate::data::codes::Hs,
        t: Date,
    ) -> PoolJson {
        let (ds, st) = (a.ds(), a.st());
        let mut j = PoolJson::of(pl, window(&a.engine, t));
        let fill = |j: &mut PoolJson, scope: crate::engine::pool::Scope| {
            let f = a.engine.ix.pools.figures(ds, st, pl.reporter, scope, o, t);
            let mut rows: Vec<FlowId> = f.rows.iter().map(|x| x.0).collect();
            rows.sort_unstable();
            rows.dedup();
            j.rows = rows.iter().map(|&i| ds.rec_path(ds.flow(i).rec)).collect();
            j.row_ids = rows;
            let mut by: std::collections::BTreeMap<String, rust_decimal::Decimal> =
                std::collections::BTreeMap::new();
            for (i, v) in &f.sanctioned_rows {
                let regime = ds.text.get(ds.flow(*i).regime);
                let regime = if regime.is_empty() {
                    "unstated"
                } else {
                    regime
                };
                *by.entry(regime.to_string()).or_default() += *v;
            }
            j.sanctioned_by_regime = by
                .into_iter()
                .map(|(regime, v)| RegimeJson {
                    regime,
                    value_usd: money(v),
                })
                .collect();
        };
        fill(&mut j, pl.scope);
        if let (crate::engine::pool::Scope::Region(r), Some(rest)) =
            (pl.scope, j.rest_of_country.as_mut())
        {
            fill(rest, crate::engine::pool::Scope::RestOf(r));
        }
        j
    }
}

/// The pool the shipment's output takes (its pool term has weight > 0), with its rows; `None` when it takes
/// none, so a trace never shows statistics that carry no weight in its numbers.
fn pool_json(a: &Analysis, sc: &Scored) -> Option<PoolJson> {
    sc.outcome.prevalence?;
    let s = a.ds().shipment(sc.ship);
    let pl = a.engine.party_pool(s.shipper, s.hs.heading(), s.date)?;
    Some(PoolJson::of_rows(a, &pl, s.hs.heading(), s.date))
}

/// One part of a shipment's inputs and what backs it: the share it brings to sanctioned, clean and unknown,
/// and the records behind it. Together the parts add up to the mix, so clean and unknown are traced to
/// their evidence the way sanctioned is traced by its paths.
#[derive(Serialize, Clone, Debug)]
pub struct BackingJson {
    /// `shipment`, `declared`, `pool`, `no_pool`, `sanctioned_party` or `declared_origin`.
    pub kind: &'static str,
    /// The supplier party, the `country:XX` of a declaration, or the pool's scope.
    pub source: String,
    /// For a pool: `sanctioned_imports`, `clean_imports`, `transit_or_reimports`, `remainder_sanctioned`
    /// (the rest of the country's sanctioned share) or `remainder_unknown`.
    pub part: Option<&'static str>,
    pub weight: f64,
    pub sanctioned: f64,
    pub clean: f64,
    pub unknown: f64,
    pub grade: &'static str,
    /// `ID (FILE:LINE)` of each record behind the part.
    pub records: Vec<String>,
    pub note: String,
}

fn rec_label(ds: &Dataset, r: RecordRef) -> String {
    let (id, loc) = record_id(ds, r);
    if id == loc {
        id
    } else {
        format!("{id} ({loc})")
    }
}

/// The parts of a scored shipment's mix ([`BackingJson`]), largest first within each kind.
pub fn backing(a: &Analysis, sc: &Scored) -> Vec<BackingJson> {
    use crate::engine::model::Source;
    let (ds, e) = (a.ds(), &a.engine);
    let s = ds.shipment(sc.ship);
    if s.origin.is_some_and(|c| a.st().is_sanctioned(c)) && !e.is_sanctioned_party(s.shipper) {
        return vec![BackingJson {
            kind: "declared_origin",
            source: s.origin.map(|c| c.to_string()).unwrap_or_default(),
            part: None,
            weight: 1.0,
            sanctioned: 1.0,
            clean: 0.0,
            unknown: 0.0,
            grade: "documented",
            records: vec![rec_label(ds, RecordRef::Shipment(sc.ship))],
            note: "the shipment itself declares a sanctioned origin".into(),
        }];
    }
    let key = e.key(sc.key);
    let mut out: Vec<BackingJson> = Vec::new();
    // The weakest grade the part's sanctioned and clean shares rest on; a part that is all unknown rests on
    // no evidence at all, and says so (never "documented").
    let grade_of = |m: &Mix| m.weakest_grade(EPS).map_or("none", Grade::as_str);
    for it in e.decompose(sc.key) {
        if it.weight <= EPS {
            continue;
        }
        let m = e.source_mix(key, &it.source);
        let w = it.weight;
        let mut push = |kind, source: String, part, m: &Mix, w: f64, records, note: String| {
            // Shipments and links of one supplier are one part: a hub's hundred deliveries read as one line.
            if let Some(x) = out
                .iter_mut()
                .find(|x| x.kind == kind && x.source == source && x.part == part)
            {
                x.weight += w;
                x.sanctioned += w * m.sanctioned();
                x.clean += w * m.clean();
                x.unknown += w * m.u;
                x.records.extend(records);
                return;
            }
            out.push(BackingJson {
                kind,
                source,
                part,
                weight: w,
                sanctioned: w * m.sanctioned(),
                clean: w * m.clean(),
                unknown: w * m.u,
                grade: grade_of(m),
                records,
                note,
            });
        };
        match &it.source {
            Source::SanctionedParty => push(
                "sanctioned_party",
                ds.party(key.party).id.clone(),
                None,
                &m,
                w,
                vec![],
                "the shipper is located in a sanctioned country".into(),
            ),
            Source::Shipment { ship, direct, .. } => {
                let q = ds.shipment(*ship).shipper;
                let note = if *direct {
                    "deliveries from a sanctioned source (its shipper is located in a sanctioned country, or it declares a sanctioned origin)".to_string()
                } else {
                    "deliveries recorded shipment by shipment; each carries its supplier's own mix".to_string()
                };
                push(
                    "shipment",
                    ds.party(q).id.clone(),
                    None,
                    &m,
                    w,
                    vec![rec_label(ds, RecordRef::Shipment(*ship))],
                    note,
                )
            }
            Source::LinkSanctionedCountry { link }
            | Source::LinkCountryPool { link, .. }
            | Source::LinkCountryClean { link }
            | Source::LinkSanctionedParty { link }
            | Source::LinkParty { link, .. }
            | Source::LinkPartyUnknown { link } => {
                let l = ds.link(*link);
                let source = match l.supplier {
                    crate::data::dataset::LinkSupplier::Country(c) => format!("country:{c}"),
                    crate::data::dataset::LinkSupplier::Party(q) => ds.party(q).id.clone(),
                };
                let note = match &it.source {
                    Source::LinkSanctionedCountry { .. } => "a declaration naming a sanctioned origin",
                    Source::LinkCountryPool { .. } => "a declaration naming a country, scored by that country's statistics",
                    Source::LinkCountryClean { .. } => "a declaration naming a non-sanctioned country (no statistics for it): clean on the declaration alone",
                    Source::LinkSanctionedParty { .. } => "a declaration naming a supplier located in a sanctioned country",
                    Source::LinkParty { .. } => "a declaration naming a supplier, scored by that supplier's latest shipment",
                    _ => "a declaration naming a supplier with no shipment in the window: its inputs are unknown",
                };
                push(
                    "declared",
                    source,
                    None,
                    &m,
                    w,
                    vec![rec_label(ds, RecordRef::Link(*link))],
                    note.into(),
                )
            }
            Source::NoPool => push(
                "no_pool",
                String::new(),
                None,
                &m,
                w,
                vec![],
                "no firm-level record and no statistics pool covers this part of the inputs: nothing shows where it came from".into(),
            ),
            Source::Pool { .. } => {
                let Some(pl) = e.party_pool(key.party, key.heading, key.date) else {
                    continue;
                };
                let pj = PoolJson::of_rows(a, &pl, key.heading, key.date);
                let tt = pl.throughput();
                let scope = pj.scope.clone();
                let place = match pl.scope {
                    crate::engine::pool::Scope::Region(r) => r.to_string(),
                    _ => pl.reporter.to_string(),
                };
                let to = |x: rust_decimal::Decimal| {
                    if tt > 0.0 {
                        crate::engine::pool::to_f64(x) / tt
                    } else {
                        0.0
                    }
                };
                let sanc = to(pl.own.s_total());
                let transit = to(pl.own.unknown);
                let clean = pl.mix.clean;
                let rem = pl.remainder_share();
                let s_rest = pl.rest_sanctioned();
                let stat_s = Mix::sanctioned_at(crate::engine::model::Grade::Statistical);
                let stat_c = Mix::clean_at(crate::engine::model::Grade::Statistical);
                let unk = Mix::unknown();
                let parts: [(&'static str, &Mix, f64, String); 5] = [
                    ("sanctioned_imports", &stat_s, sanc, format!("{place}'s recorded imports from sanctioned partners, pro-rated to the window")),
                    ("clean_imports", &stat_c, clean, format!("{place}'s recorded imports from other partners: the only statistical evidence of clean inputs")),
                    ("transit_or_reimports", &unk, transit, format!("{place}'s imports through transit partners or re-imports: their origin is not shown")),
                    ("remainder_sanctioned", &stat_s, rem * s_rest, format!("{place}'s exports exceed what its recorded imports explain; the rest of {} is {} sanctioned, and that share of the remainder is counted sanctioned", pl.reporter, pct(s_rest))),
                    ("remainder_unknown", &unk, rem * (1.0 - s_rest), format!("{place}'s exports exceed what its recorded imports explain; nothing shows where the rest came from")),
                ];
                for (part, pm, f, note) in parts {
                    if f * w <= EPS {
                        continue;
                    }
                    // The rows behind each part: its own class of imports; for the remainder, the export
                    // rows that exceed the imports, and the rest of the country's sanctioned rows.
                    let class = |j: &PoolJson, want: &dyn Fn(&crate::data::dataset::TradeFlow) -> bool| {
                        j.row_ids
                            .iter()
                            .filter(|&&i| want(ds.flow(i)))
                            .map(|&i| ds.rec_path(ds.flow(i).rec))
                            .collect::<Vec<String>>()
                    };
                    let st = a.st();
                    let import = |f: &crate::data::dataset::TradeFlow| f.flow == crate::data::dataset::Flow::Import;
                    let transit = |f: &crate::data::dataset::TradeFlow| {
                        st.is_transit(f.partner) || f.partner == f.reporter
                    };
                    let records = match part {
                        "sanctioned_imports" => class(&pj, &|f| import(f) && st.is_sanctioned(f.partner)),
                        "clean_imports" => class(&pj, &|f| {
                            import(f) && !st.is_sanctioned(f.partner) && !transit(f)
                        }),
                        "transit_or_reimports" => class(&pj, &|f| import(f) && transit(f)),
                        "remainder_sanctioned" => {
                            let mut r = class(&pj, &|f| !import(f));
                            if let Some(rest) = &pj.rest_of_country {
                                r.extend(class(rest, &|f| import(f) && st.is_sanctioned(f.partner)));
                            }
                            r
                        }
                        _ => class(&pj, &|f| !import(f)),
                    };
                    push("pool", scope.clone(), Some(part), pm, w * f, records, note);
                }
            }
        }
    }
    // Records stay in the order they were met (shipments by date, statistics rows by line); a record met
    // twice is listed once.
    for x in &mut out {
        let mut seen = std::collections::HashSet::new();
        x.records.retain(|r| seen.insert(r.clone()));
    }
    out
}

/// The exposure interval in plain words: what makes up sanctioned, unknown and clean, largest part first.
pub fn explain(e: &Exposure, parts: &[BackingJson]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut say = |label: &str, total: f64, of: &dyn Fn(&BackingJson) -> f64| {
        if total <= EPS {
            return;
        }
        let mut ps: Vec<&BackingJson> = parts.iter().filter(|p| of(p) > EPS).collect();
        ps.sort_by(|a, b| of(b).total_cmp(&of(a)));
        let why: Vec<String> = ps
            .iter()
            .take(3)
            .map(|p| {
                let src = if p.source.is_empty() {
                    String::new()
                } else {
                    format!("{} — ", p.source)
                };
                format!("{} {src}{}", pct(of(p)), p.note)
            })
            .collect();
        let more = if ps.len() > 3 {
            format!("; and {} more part(s)", ps.len() - 3)
        } else {
            String::new()
        };
        lines.push(format!("{label} {}: {}{more}", pct(total), why.join("; ")));
    };
    say("sanctioned", e.sanctioned, &|p| p.sanctioned);
    say("unknown", e.unknown, &|p| p.unknown);
    say("clean", e.clean, &|p| p.clean);
    lines
}

/// Builds the trace of a shipment id, showing the top `k` paths.
pub fn trace(a: &Analysis, shipment_id: &str, k: usize) -> Result<TraceJson, QueryError> {
    let ds = a.ds();
    let ship = super::find_shipment(ds, shipment_id)?;
    let sc = a.score(ship);
    Ok(trace_of(a, &sc, k))
}

/// The trace of a scored shipment.
pub fn trace_of(a: &Analysis, sc: &Scored, k: usize) -> TraceJson {
    let ds = a.ds();
    let s = ds.shipment(sc.ship);
    let window = window(&a.engine, s.date);
    let heading = s.hs.heading().to_string();
    let exposure = Exposure::of(&sc.outcome.mix, sc.outcome.prevalence);
    let backing = backing(a, sc);
    TraceJson {
        shipment_id: ds.shipment_id(s).to_string(),
        date: s.date.to_string(),
        hs_code: s.hs.to_string(),
        value_usd: money(s.value_usd),
        value: money(s.value),
        currency: String::from_utf8_lossy(&s.currency).into_owned(),
        origin_country: s.origin.map(|c| c.to_string()),
        shipper: PartyJson::of(ds, s.shipper),
        consignee: PartyJson::of(ds, s.consignee),
        reachable: sc.outcome.reachable,
        severity: sc.severity.as_str(),
        flags: sc.flags.clone(),
        paths: sc
            .paths
            .iter()
            .take(k)
            .map(|p| {
                let mut j = path_json(ds, p, &window, &heading);
                for h in &mut j.hops {
                    h.from_node = NodeView::by_id(ds, &h.from);
                    h.to_node = NodeView::by_id(ds, &h.to);
                }
                j
            })
            .collect(),
        paths_truncated: sc.truncated || sc.paths.len() > k,
        paths_found: sc.paths.len(),
        pool: pool_json(a, sc),
        window,
        explanation: explain(&exposure, &backing),
        backing,
        counterparties: {
            let (lo, hi) = a.engine.counterparty_window(s.date);
            super::vet::counterparties(a, s.shipper, lo, hi)
        },
        exposure,
    }
}
