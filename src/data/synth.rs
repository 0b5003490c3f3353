//! `synth`: deterministic, realistic synthetic datasets for benchmarks and scale tests. Firm sizes follow a
//! power law, every Chinese province and ~200 countries trade, hundreds of HS headings form processing chains
//! up to six tiers deep (raw input → … → finished good → importer), some of it loops through North Korea,
//! and the statistics rows are aggregated from the shipments themselves, so they are consistent with them.
//!
//! The generator is seeded and uses its own PRNG, so the same `--seed` gives byte-identical files on every
//! machine and every version of its dependencies.

use crate::data::codes::Date;
use crate::data::dataset::Table;
use crate::util::output::AtomicFile;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// SplitMix64: tiny, fast, and fully specified.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Zipf-like sampling over `n` items (item 0 the largest), by inverse CDF over cumulative weights.
struct PowerLaw {
    cum: Vec<f64>,
}

impl PowerLaw {
    fn new(n: usize, s: f64) -> PowerLaw {
        let mut cum = Vec::with_capacity(n);
        let mut acc = 0.0;
        for i in 0..n {
            acc += 1.0 / ((i + 1) as f64).powf(s);
            cum.push(acc);
        }
        PowerLaw { cum }
    }

    fn sample(&self, r: &mut Rng) -> usize {
        let total = self.cum.last().copied().unwrap_or(1.0);
        let x = r.unit() * total;
        self.cum
            .partition_point(|c| *c < x)
            .min(self.cum.len().saturating_sub(1))
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthSpec {
    pub shipments: usize,
    pub seed: u64,
}

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct SynthSummary {
    pub parties: usize,
    pub shipments: usize,
    pub trade_flows: usize,
    pub supplier_links: usize,
    pub watchlist: usize,
    pub headings: usize,
}

const TIERS: usize = 6;
const PROVINCES: [&str; 31] = [
    "CN-AH", "CN-BJ", "CN-CQ", "CN-FJ", "CN-GD", "CN-GS", "CN-GX", "CN-GZ", "CN-HA", "CN-HB",
    "CN-HE", "CN-HI", "CN-HL", "CN-HN", "CN-JL", "CN-JS", "CN-JX", "CN-LN", "CN-NM", "CN-NX",
    "CN-QH", "CN-SC", "CN-SD", "CN-SH", "CN-SN", "CN-SX", "CN-TJ", "CN-XJ", "CN-XZ", "CN-YN",
    "CN-ZJ",
];

struct Firm {
    country: &'static str,
    region: Option<&'static str>,
    tier: usize,
    family: usize,
}

/// Why `synth` wrote nothing, or not everything.
#[derive(Debug, Error)]
pub enum SynthError {
    #[error("--shipments {shipments} is above the limit of {MAX_SHIPMENTS}")]
    TooLarge { shipments: usize },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path, source: std::io::Error) -> SynthError {
    SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The most shipments `synth` writes: 100 times the largest size benchmarked (10 M). A bound is needed at
/// all because the firm table is sized from it: `usize::MAX` overflowed that allocation.
pub const MAX_SHIPMENTS: usize = 1_000_000_000;

/// Writes a synthetic dataset into `dir` (created if missing). A size above [`MAX_SHIPMENTS`] is refused
/// before anything is created.
pub fn generate(spec: &SynthSpec, dir: &Path) -> Result<SynthSummary, SynthError> {
    if spec.shipments > MAX_SHIPMENTS {
        return Err(SynthError::TooLarge {
            shipments: spec.shipments,
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut r = Rng(spec.seed ^ 0x0005_EED0_F0A1_6100);
    let n_ship = spec.shipments;
    // Countries: the ISO list, without China and North Korea (which play their own parts).
    let countries: Vec<&'static str> = rust_iso3166::ALL_ALPHA2
        .iter()
        .copied()
        .filter(|c| *c != "CN" && *c != "KP" && *c != "HK" && *c != "MO")
        .take(200)
        .collect();
    // Product families: a chain of headings, one per tier of processing (raw → … → finished).
    let n_fam = 60usize;
    let mut headings: Vec<[String; TIERS]> = Vec::with_capacity(n_fam);
    let mut used = std::collections::HashSet::new();
    for f in 0..n_fam {
        let mut chain: [String; TIERS] = Default::default();
        for (t, slot) in chain.iter_mut().enumerate() {
            let code = loop {
                let ch = 1 + (f * 7 + t * 13 + r.below(90)) % 97;
                let hd = 1 + r.below(60);
                let code = format!("{ch:02}{hd:02}");
                if used.insert(code.clone()) {
                    break code;
                }
            };
            *slot = code;
        }
        headings.push(chain);
    }
    // Firms per tier: tier 0 raw suppliers (worldwide and KP), tiers 1-4 processors (mostly Chinese),
    // tier 5 importers (worldwide).
    let n_firms = (n_ship / 40).max(60);
    let mut firms: Vec<Firm> = Vec::with_capacity(n_firms);
    let mut by_tier: Vec<Vec<usize>> = vec![Vec::new(); TIERS];
    for i in 0..n_firms {
        let tier = i % TIERS;
        let family = r.below(n_fam);
        let (country, region) = match tier {
            0 if r.chance(0.04) => ("KP", None),
            0 => (countries[r.below(countries.len())], None),
            1..=4 if r.chance(0.8) => ("CN", Some(PROVINCES[r.below(PROVINCES.len())])),
            1..=4 if r.chance(0.05) => ("KP", None),
            1..=4 => (countries[r.below(countries.len())], None),
            _ => (countries[r.below(countries.len())], None),
        };
        by_tier[tier].push(i);
        firms.push(Firm {
            country,
            region,
            tier,
            family,
        });
    }
    let pick: Vec<PowerLaw> = by_tier
        .iter()
        .map(|v| PowerLaw::new(v.len(), 1.05))
        .collect();
    let pid = |i: usize| format!("F{i:07}");
    // parties.csv
    let path = dir.join(Table::Parties.file());
    let mut w = AtomicFile::create(&path).map_err(|e| io(&path, e))?;
    writeln!(w, "party_id,name,country,region,city,aliases,identifiers")
        .map_err(|e| io(&path, e))?;
    for (i, f) in firms.iter().enumerate() {
        let kind = [
            "Raw Materials",
            "Processing",
            "Manufacturing",
            "Assembly",
            "Finishing",
            "Imports",
        ][f.tier];
        writeln!(
            w,
            "{},\"Synthetic {} {:07} Co., Ltd.\",{},{},,,uscc:S{:017}",
            pid(i),
            kind,
            i,
            f.country,
            f.region.unwrap_or(""),
            i
        )
        .map_err(|e| io(&path, e))?;
    }
    w.commit().map_err(|e| io(&path, e))?;
    // shipments.csv, and the statistics they imply.
    let start = Date::from_ymd(2021, 1, 1);
    let days = 3 * 365;
    let path = dir.join(Table::Shipments.file());
    let mut w = AtomicFile::create(&path).map_err(|e| io(&path, e))?;
    writeln!(
        w,
        "shipment_id,date,shipper,consignee,hs_code,value,weight_kg,origin_country"
    )
    .map_err(|e| io(&path, e))?;
    // (year, month, region, partner, export?, heading) -> cents
    let mut stats: HashMap<(i32, u32, &'static str, &'static str, bool, String), u64> =
        HashMap::new();
    let mut written = 0usize;
    let mut i = 0u64;
    while written < n_ship {
        i += 1;
        let tier = r.below(TIERS - 1);
        let shipper = by_tier[tier][pick[tier].sample(&mut r)];
        // Consignee in the next tier, preferring the same product family.
        let mut consignee = by_tier[tier + 1][pick[tier + 1].sample(&mut r)];
        for _ in 0..3 {
            if firms[consignee].family == firms[shipper].family {
                break;
            }
            consignee = by_tier[tier + 1][pick[tier + 1].sample(&mut r)];
        }
        // The loop through KP: a Chinese processor sends inputs to a KP processor, and goods come back.
        if tier >= 1
            && firms[shipper].country == "CN"
            && r.chance(0.002)
            && let Some(&kp) = by_tier[tier + 1]
                .iter()
                .find(|&&x| firms[x].country == "KP")
        {
            consignee = kp;
        }
        let fam = firms[shipper].family;
        let hs = format!("{}{:02}", headings[fam][tier], r.below(5) * 10);
        let date = start.add_days(r.below(days) as i32);
        let base = 2_000_000.0 * (1.0 + tier as f64) * (0.2 + 3.0 * r.unit() * r.unit());
        let cents = base as u64 + 100;
        let weight = (cents / 100) / (20 + r.below(400) as u64) + 1;
        let origin = if firms[shipper].country == "KP" && r.chance(0.3) {
            "KP"
        } else if firms[shipper].country == "CN" && r.chance(0.5) {
            "CN"
        } else {
            ""
        };
        writeln!(
            w,
            "S{:09},{},{},{},{},{},{},{}",
            i,
            date,
            pid(shipper),
            pid(consignee),
            hs,
            money(cents),
            weight,
            origin
        )
        .map_err(|e| io(&path, e))?;
        written += 1;
        let (y, m, _) = date.ymd();
        let (fs, fc) = (&firms[shipper], &firms[consignee]);
        let heading = hs[..4].to_string();
        if fc.country == "CN"
            && fs.country != "CN"
            && let Some(reg) = fc.region
        {
            *stats
                .entry((y, m, reg, fs.country, false, heading.clone()))
                .or_default() += cents * 3;
        }
        if fs.country == "CN"
            && fc.country != "CN"
            && let Some(reg) = fs.region
        {
            *stats
                .entry((y, m, reg, fc.country, true, heading))
                .or_default() += cents * 3;
        }
    }
    w.commit().map_err(|e| io(&path, e))?;
    // trade_flows.csv: the implied statistics (the shipments are a third of all trade), plus transit imports
    // through Hong Kong.
    let path = dir.join(Table::TradeFlows.file());
    let mut w = AtomicFile::create(&path).map_err(|e| io(&path, e))?;
    writeln!(
        w,
        "period,reporter,region,partner,flow,hs_code,value,regime"
    )
    .map_err(|e| io(&path, e))?;
    let mut rows: Vec<_> = stats.into_iter().collect();
    rows.sort_unstable();
    let n_flows = rows.len();
    for ((y, m, reg, partner, export, heading), cents) in &rows {
        let regime = if *partner == "KP" {
            "outward-processing"
        } else {
            "general"
        };
        writeln!(
            w,
            "{y:04}-{m:02},CN,{reg},{partner},{},{heading},{},{regime}",
            if *export { "export" } else { "import" },
            money(*cents)
        )
        .map_err(|e| io(&path, e))?;
    }
    w.commit().map_err(|e| io(&path, e))?;
    // supplier_links.csv: a few percent of processors declare their inputs.
    let path = dir.join(Table::SupplierLinks.file());
    let mut w = AtomicFile::create(&path).map_err(|e| io(&path, e))?;
    writeln!(
        w,
        "link_id,buyer,supplier,hs_code,share,valid_from,valid_to,source"
    )
    .map_err(|e| io(&path, e))?;
    let mut n_links = 0;
    for (i, f) in firms.iter().enumerate() {
        if f.tier == 0 || f.tier == TIERS - 1 || !r.chance(0.03) {
            continue;
        }
        let input = &headings[f.family][f.tier - 1];
        let supplier = if r.chance(0.5) {
            format!(
                "country:{}",
                if r.chance(0.05) {
                    "KP"
                } else {
                    countries[r.below(countries.len())]
                }
            )
        } else {
            pid(by_tier[f.tier - 1][pick[f.tier - 1].sample(&mut r)])
        };
        n_links += 1;
        writeln!(
            w,
            "L{n_links:07},{},{supplier},{input},{:.2},2021-01-01,,questionnaire",
            pid(i),
            0.1 + 0.5 * r.unit()
        )
        .map_err(|e| io(&path, e))?;
    }
    w.commit().map_err(|e| io(&path, e))?;
    // watchlist.csv: some KP and border firms by name, and near misses.
    let path = dir.join(Table::Watchlist.file());
    let mut w = AtomicFile::create(&path).map_err(|e| io(&path, e))?;
    writeln!(
        w,
        "entry_id,name,aliases,country,program,identifiers,source"
    )
    .map_err(|e| io(&path, e))?;
    let mut n_watch = 0;
    for (i, f) in firms.iter().enumerate() {
        if f.country == "KP" && r.chance(0.2) || f.country == "CN" && r.chance(0.001) {
            n_watch += 1;
            writeln!(w, "W{n_watch:06},\"Synthetic Processing {i:07} Company Limited\",,{},DPRK3,,synthetic list", f.country).map_err(|e| io(&path, e))?;
        }
    }
    w.commit().map_err(|e| io(&path, e))?;
    // origintrace.toml: the processing chains as hs_inputs.
    let path = dir.join("origintrace.toml");
    let mut t = String::from(
        "# Written by `origintrace synth`: each synthetic heading takes the heading of the tier before it.\n[hs_inputs]\n",
    );
    for chain in &headings {
        for k in 1..TIERS {
            t.push_str(&format!("\"{}\" = [\"{}\"]\n", chain[k], chain[k - 1]));
        }
    }
    crate::util::output::write_atomic(&path, t.as_bytes()).map_err(|e| io(&path, e))?;
    Ok(SynthSummary {
        parties: firms.len(),
        shipments: written,
        trade_flows: n_flows,
        supplier_links: n_links,
        watchlist: n_watch,
        headings: n_fam * TIERS,
    })
}
