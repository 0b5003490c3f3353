//! Prints every party's watchlist hits, one line each, so that two builds of `screening::screen` can be
//! compared byte for byte (a faster candidate filter must not change a single hit, score or word).
//!
//! ```text
//! cargo run --release --example screen_dump -- [--threshold T] SOURCE
//! ```
//!
//! SOURCE is a dataset directory, `sample` (the compiled-in sample), `pairs:FILE` (every name of a
//! labelled pairs file such as `data/screening_pairs.csv` as a party and as an entry, with aliases, so
//! every name meets every name), or `random:SEED:PARTIES:ENTRIES` (names drawn from a small vocabulary
//! with typos, syllables written apart or together, legal forms and country clashes). Without
//! `--threshold` the default `match_threshold` applies. Output: one line per party (its index and hit
//! count), then one line per hit with the entry, the score as `{:?}` (every bit), the exact flag, the
//! names that matched and the why-text.

use origintrace::data::codes::Country;
use origintrace::data::dataset::{self, DataSource, Dataset, Party, Rec, WatchEntry};
use origintrace::data::settings::Settings;
use origintrace::engine::screening::screen;
use std::io::Write;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threshold = Settings::default().match_threshold;
    if let Some(i) = args.iter().position(|a| a == "--threshold") {
        let v = args
            .get(i + 1)
            .ok_or_else(|| anyhow::anyhow!("--threshold needs a value"))?;
        threshold = v.parse()?;
        args.drain(i..i + 2);
    }
    let [source] = args.as_slice() else {
        anyhow::bail!("usage: screen_dump [--threshold T] DIR|sample|pairs:FILE|random:SEED:P:E");
    };
    let ds = if source == "sample" {
        dataset::load(&[DataSource::Embedded(&dataset::SAMPLE)])?
    } else if let Some(file) = source.strip_prefix("pairs:") {
        pairs(file)?
    } else if let Some(spec) = source.strip_prefix("random:") {
        let n: Vec<u64> = spec.split(':').map(str::parse).collect::<Result<_, _>>()?;
        let [seed, p, e] = n.as_slice() else {
            anyhow::bail!("random:SEED:PARTIES:ENTRIES");
        };
        random(*seed, *p as usize, *e as usize)
    } else {
        dataset::load(&[DataSource::Dir(PathBuf::from(source))])?
    };
    let started = std::time::Instant::now();
    let hits = screen(&ds, threshold);
    eprintln!(
        "screened {} parties against {} entries at {threshold} in {:.3} s",
        ds.parties.len(),
        ds.watchlist.len(),
        started.elapsed().as_secs_f64()
    );
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "threshold {threshold:?}")?;
    for (i, hs) in hits.iter().enumerate() {
        writeln!(out, "party {i} {} hits {}", ds.parties[i].id, hs.len())?;
        for h in hs {
            writeln!(
                out,
                "  entry {} {} score {:?} exact {} party_name {:?} matched {:?} why {:?} entry_name {:?} program {:?} source {:?}",
                h.entry,
                h.entry_id,
                h.score,
                h.exact,
                h.party_name,
                h.matched,
                h.why,
                h.entry_name,
                h.program,
                h.source
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

const REC: Rec = Rec { file: 0, line: 0 };

fn party(id: String, name: String, country: Country, aliases: Vec<String>) -> Party {
    Party {
        id,
        name,
        country,
        region: None,
        city: None,
        aliases,
        identifiers: vec![],
        rec: REC,
    }
}

fn entry(id: String, name: String, country: Option<Country>, aliases: Vec<String>) -> WatchEntry {
    WatchEntry {
        id,
        name,
        aliases,
        countries: country.into_iter().collect(),
        program: None,
        identifiers: vec![],
        source: None,
        rec: REC,
    }
}

/// Every name of the pairs file as a party and as an entry: party i is row i's party name with row
/// i + 7's entry name as an alias, entry i is row i's entry name with row i + 1's party name as an alias.
fn pairs(file: &str) -> anyhow::Result<Dataset> {
    let mut rdr = csv::Reader::from_path(file)?;
    let mut rows: Vec<(String, Option<Country>, String, Option<Country>)> = Vec::new();
    let country = |s: &str| Country::parse(s).ok();
    for r in rdr.records() {
        let r = r?;
        rows.push((
            r[1].to_string(),
            country(&r[2]),
            r[3].to_string(),
            country(&r[4]),
        ));
    }
    let n = rows.len();
    let mut ds = Dataset::default();
    for (i, (a, ac, b, bc)) in rows.iter().enumerate() {
        let cn = Country(*b"CN");
        ds.parties.push(party(
            format!("p{i}"),
            a.clone(),
            ac.unwrap_or(cn),
            vec![rows[(i + 7) % n].2.clone()],
        ));
        // Parties also as the entry's names, with and without countries.
        ds.parties.push(party(
            format!("q{i}"),
            b.clone(),
            bc.unwrap_or(Country(*b"KP")),
            vec![],
        ));
        ds.watchlist.push(entry(
            format!("e{i}"),
            b.clone(),
            *bc,
            vec![rows[(i + 1) % n].0.clone()],
        ));
        ds.watchlist
            .push(entry(format!("f{i}"), a.clone(), None, vec![]));
    }
    Ok(ds)
}

/// A small deterministic generator (SplitMix64), so the example needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "xu",
    "chang",
    "xuchang",
    "dan",
    "dong",
    "dandong",
    "zhi",
    "cheng",
    "zhicheng",
    "metallic",
    "material",
    "materials",
    "hair",
    "hairs",
    "product",
    "products",
    "production",
    "transport",
    "transportation",
    "koryo",
    "lustre",
    "brightfall",
    "synthetic",
    "processing",
    "manufacturing",
    "mfg",
    "tech",
    "technology",
    "severnyy",
    "severny",
    "severnyi",
    "fonar",
    "mohammed",
    "mohamed",
    "muhammad",
    "pak",
    "park",
    "kim",
    "gim",
    "ri",
    "lee",
    "li",
    "wei",
    "wen",
    "weidong",
    "weiguo",
    "northeast",
    "northwest",
    "abc",
    "kp",
    "sun",
    "moon",
    "sunmoon",
    "global",
    "globals",
    "logistic",
    "logistics",
    "shipping",
    "0000128",
    "0000166",
    "0000129",
    "1000128",
    "amberfield",
    "amberfeld",
    "orchid",
    "blue",
    "丹东",
    "志诚",
    "许昌",
    "Северный",
    "Фонарь",
];

const FORMS: &[&str] = &[
    "",
    "",
    "Co., Ltd.",
    "Company Limited",
    "Trading",
    "Trading Co",
    "LLC",
    "Limited Liability Company",
    "Inc.",
    "Group",
    "有限公司",
    "L.L.C.",
    "& Sons",
];

const COUNTRIES: &[&str] = &["CN", "KP", "RU", "HK"];

/// A word with one typo (letters only, ASCII words only).
fn typo(rng: &mut Rng, w: &str) -> String {
    if !w.is_ascii() || w.len() < 2 {
        return w.to_string();
    }
    let mut c: Vec<u8> = w.bytes().collect();
    let i = rng.below(c.len());
    let letter = b"abcdeghiklnorsuyz"[rng.below(17)];
    match rng.below(5) {
        0 => {
            c.remove(i);
        }
        1 => c.insert(i, letter),
        2 => c[i] = letter,
        3 if i + 1 < c.len() => c.swap(i, i + 1),
        _ => c.insert(i, c[i]),
    }
    String::from_utf8(c).unwrap_or_else(|_| w.to_string())
}

/// A name: 1–5 words, some with typos, some joined or split, a legal form.
fn name(rng: &mut Rng) -> String {
    let k = 1 + rng.below(5);
    let mut ws: Vec<String> = (0..k)
        .map(|_| {
            let w = rng.pick(WORDS);
            if rng.below(4) == 0 {
                typo(rng, w)
            } else {
                w.to_string()
            }
        })
        .collect();
    // Join two adjacent words, or split one.
    match rng.below(6) {
        0 if ws.len() >= 2 => {
            let i = rng.below(ws.len() - 1);
            let j = ws.remove(i + 1);
            ws[i].push_str(&j);
        }
        1 => {
            let i = rng.below(ws.len());
            let w = ws[i].clone();
            if w.is_ascii() && w.len() >= 4 {
                let at = 2 + rng.below(w.len() - 3);
                ws[i] = format!("{} {}", &w[..at], &w[at..]);
            }
        }
        _ => {}
    }
    let mut s = ws.join(" ");
    if rng.below(3) == 0 {
        s = s.to_uppercase();
    }
    let f = rng.pick(FORMS);
    if !f.is_empty() {
        s.push(' ');
        s.push_str(f);
    }
    s
}

/// Parties and entries drawn from [`WORDS`]; each entry is either fresh or a variant of a party's name,
/// so that near matches are frequent.
fn random(seed: u64, parties: usize, entries: usize) -> Dataset {
    let mut rng = Rng(seed);
    let mut ds = Dataset::default();
    let country = |rng: &mut Rng| {
        let c = rng.pick(COUNTRIES).as_bytes();
        Country([c[0], c[1]])
    };
    for i in 0..parties {
        let aliases = (0..rng.below(3)).map(|_| name(&mut rng)).collect();
        let n = name(&mut rng);
        let c = country(&mut rng);
        ds.parties.push(party(format!("p{i}"), n, c, aliases));
    }
    for i in 0..entries {
        let n = if rng.below(2) == 0 && parties > 0 {
            let p = &ds.parties[rng.below(parties)];
            p.name
                .split(' ')
                .map(|w| {
                    if rng.below(3) == 0 {
                        typo(&mut rng, w)
                    } else {
                        w.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            name(&mut rng)
        };
        let aliases = (0..rng.below(3)).map(|_| name(&mut rng)).collect();
        let c = if rng.below(3) == 0 {
            None
        } else {
            Some(country(&mut rng))
        };
        ds.watchlist.push(entry(format!("e{i}"), n, c, aliases));
    }
    ds
}
