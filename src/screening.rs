//! Watchlist screening: every party against every list entry, with explainable matching.
//!
//! A name is normalised (NFKC, lower case, CJK legal forms removed, CJK and Cyrillic transliterated by
//! `deunicode`, punctuation and dotted initials folded, legal forms and filler words such as `Co.`, `Ltd.`,
//! `Company Limited`, `Inc.`, `Trading` set aside) into tokens. Two names then match:
//! - **exactly** when their tokens are equal (a name of little substance — one short word, initials —
//!   must also have the same legal form: `ABC Co., Ltd.` = `ABC Company Limited`, but not `ABC Trading`);
//! - **fuzzily** when both have substance (two words, eight letters) and their token similarity reaches the
//!   threshold (`match_threshold`, chosen on the labelled set `data/screening_pairs.csv`, see
//!   docs/screening.md). Tokens pair up in any order; syllables written apart on one side (`Xu Chang`,
//!   `Dan Dong` from `丹东`) join to meet a word on the other; known spelling variants of names (`Pak` /
//!   `Park`) pair; other tokens pair on a typo-tolerant string similarity.
//!
//! Countries count when both sides have one: an exact name in another country is still reported but not as
//! exact (medium), a fuzzy name in another country is not reported. Identifiers (`scheme:value`) match
//! exactly; the generic scheme `id` matches any scheme with the same value. Every hit says which name or
//! alias matched, its score and why.

use crate::codes::Country;
use crate::dataset::{Dataset, Party, WatchEntry};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use unicode_normalization::UnicodeNormalization;

/// Legal-form and filler words that say nothing about who a company is.
const LEGAL_FORMS: &[&str] = &[
    "co",
    "company",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "llc",
    "plc",
    "gmbh",
    "sa",
    "ag",
    "bv",
    "nv",
    "jsc",
    "ojsc",
    "pjsc",
    "cjsc",
    "oao",
    "zao",
    "ooo",
    "ao",
    "pao",
    "tov",
    "llp",
    "lp",
    "pte",
    "pty",
    "srl",
    "spa",
    "kg",
    "sdn",
    "bhd",
    "pvt",
    "ltda",
    "sro",
    "the",
    "and",
    "of",
    "sarl",
    "kk",
    "group",
    "holdings",
    "holding",
    "intl",
    "international",
    "trading",
    "trade",
    "imp",
    "exp",
    "import",
    "export",
    "industrial",
    "industry",
    "enterprise",
    "enterprises",
    "ent",
    "factory",
    "youxian",
    "gongsi",
    "youxiangongsi",
    "zeren",
    "gufen",
    "jituan",
];

/// CJK legal forms, removed before transliteration.
const CJK_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "集团",
    "集團",
    "公司",
    "贸易",
    "貿易",
    "进出口",
    "進出口",
    "工厂",
    "工廠",
    "厂",
    "廠",
];

/// Abbreviations read as the word they stand for.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("mfg", "manufacturing"),
    ("mfr", "manufacturing"),
    ("tech", "technology"),
    ("techn", "technology"),
    ("elec", "electronics"),
    ("dev", "development"),
    ("bros", "brothers"),
    ("svcs", "services"),
    ("mgmt", "management"),
    ("natl", "national"),
    ("coop", "cooperative"),
];

/// Legal forms with several spellings, for the strict comparison of short names.
const FORM_SPELLINGS: &[(&str, &str)] = &[
    ("company", "co"),
    ("limited", "ltd"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("international", "intl"),
    ("&", "and"),
];

/// Multi-word legal forms, folded to their abbreviation before the words are set aside.
const PHRASES: &[(&[&str], &str)] = &[
    (&["limited", "liability", "company"], "llc"),
    (&["public", "joint", "stock", "company"], "pjsc"),
    (&["open", "joint", "stock", "company"], "ojsc"),
    (&["closed", "joint", "stock", "company"], "cjsc"),
    (&["joint", "stock", "company"], "jsc"),
    (&["public", "limited", "company"], "plc"),
    (&["private", "limited"], "pvt ltd"),
];

/// Spelling variants of personal names that are the same name (romanisations of Korean and Chinese
/// surnames, common given-name variants).
const VARIANTS: &[&[&str]] = &[
    &["pak", "park", "bak", "bark"],
    &["ri", "rhee", "lee", "yi", "li", "rhie"],
    &["choe", "choi", "chwe"],
    &["kim", "gim"],
    &["jong", "jung", "chong", "chung"],
    &["kang", "gang"],
    &["ryu", "yu", "yoo", "ryoo"],
    &["han", "hahn"],
    &[
        "mohammed", "mohammad", "muhammad", "mohamed", "muhammed", "mohamad",
    ],
    &["aleksei", "alexei", "alexey", "aleksey"],
    &["yuri", "yury", "iurii", "yuriy"],
];

/// Cyrillic letters as the sanctions lists romanise them (BGN/PCGN, simplified), before `deunicode`, whose
/// own scheme (`й` → `i`, `я` → `ia`) the lists do not use.
const CYRILLIC: &[(char, &str)] = &[
    ('а', "a"),
    ('б', "b"),
    ('в', "v"),
    ('г', "g"),
    ('ґ', "g"),
    ('д', "d"),
    ('е', "e"),
    ('є', "ye"),
    ('ё', "yo"),
    ('ж', "zh"),
    ('з', "z"),
    ('и', "i"),
    ('і', "i"),
    ('ї', "yi"),
    ('й', "y"),
    ('к', "k"),
    ('л', "l"),
    ('м', "m"),
    ('н', "n"),
    ('о', "o"),
    ('п', "p"),
    ('р', "r"),
    ('с', "s"),
    ('т', "t"),
    ('у', "u"),
    ('ф', "f"),
    ('х', "kh"),
    ('ц', "ts"),
    ('ч', "ch"),
    ('ш', "sh"),
    ('щ', "shch"),
    ('ъ', ""),
    ('ы', "y"),
    ('ь', ""),
    ('э', "e"),
    ('ю', "yu"),
    ('я', "ya"),
];

fn variant_class(t: &str) -> Option<usize> {
    VARIANTS.iter().position(|v| v.contains(&t))
}

/// The ASCII words of a name: NFKC, lower case, (optionally) CJK legal forms removed, transliterated,
/// apostrophes dropped, dotted initials (`L.L.C.`) joined, `co-op` read as one word.
fn words(name: &str, strip_cjk_forms: bool) -> Vec<String> {
    let mut s: String = name.nfkc().collect::<String>().to_lowercase();
    if strip_cjk_forms {
        for f in CJK_FORMS {
            s = s.replace(f, " ");
        }
    }
    if s.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c)) {
        s = s
            .chars()
            .map(|c| match CYRILLIC.iter().find(|(k, _)| *k == c) {
                Some((_, v)) => v.to_string(),
                None => c.to_string(),
            })
            .collect();
    }
    let mut ascii = deunicode::deunicode(&s).to_lowercase();
    for (from, to) in [
        ("co-operative", "cooperative"),
        ("co-op", "cooperative"),
        ("'", ""),
        ("`", ""),
        ("&", " & "),
    ] {
        ascii = ascii.replace(from, to);
    }
    // Dotted initials: a run of single letters each followed by a dot, with no blank between (L.L.C.).
    let b: Vec<char> = ascii.chars().collect();
    let mut folded = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if starts_word && b[i].is_ascii_alphabetic() && b.get(i + 1) == Some(&'.') {
            let mut j = i;
            let mut run = String::new();
            while j + 1 < b.len() && b[j].is_ascii_alphabetic() && b[j + 1] == '.' {
                if j > i && b[j - 1] != '.' {
                    break;
                }
                run.push(b[j]);
                j += 2;
            }
            if run.len() >= 2 && !b.get(j).is_some_and(|c| c.is_ascii_alphanumeric()) {
                folded.push(' ');
                folded.push_str(&run);
                folded.push(' ');
                i = j;
                continue;
            }
        }
        folded.push(b[i]);
        i += 1;
    }
    let raw: Vec<String> = folded
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '&'))
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect();
    // Multi-word legal forms.
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    'outer: while i < raw.len() {
        for (phrase, abbr) in PHRASES {
            if raw.len() - i >= phrase.len()
                && raw[i..i + phrase.len()]
                    .iter()
                    .zip(phrase.iter())
                    .all(|(a, b)| a == b)
            {
                out.extend(abbr.split(' ').map(String::from));
                i += phrase.len();
                continue 'outer;
            }
        }
        out.push(raw[i].clone());
        i += 1;
    }
    out
}

/// The tokens of a name after normalisation: legal forms and filler words set aside, abbreviations read
/// out.
pub fn tokens(name: &str) -> Vec<String> {
    words(name, true)
        .into_iter()
        .filter(|t| t != "&" && !LEGAL_FORMS.contains(&t.as_str()))
        .map(|t| {
            ABBREVIATIONS
                .iter()
                .find(|(a, _)| *a == t)
                .map(|(_, w)| w.to_string())
                .unwrap_or(t)
        })
        .collect()
}

/// The normalised form of a name: its tokens joined by one space.
pub fn normalize(name: &str) -> String {
    tokens(name).join(" ")
}

/// Every word of a name with the legal forms' spellings unified (`Company Limited` = `Co., Ltd.`), for the
/// strict comparison of names of little substance.
fn form(name: &str) -> String {
    words(name, false)
        .into_iter()
        .map(|t| {
            FORM_SPELLINGS
                .iter()
                .find(|(a, _)| *a == t)
                .map(|(_, w)| w.to_string())
                .unwrap_or(t)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name prepared for comparison.
#[derive(Clone, Debug)]
pub struct Name {
    pub raw: String,
    pub tokens: Vec<String>,
    /// The tokens joined by one space.
    pub norm: String,
    /// The tokens joined without spaces.
    pub compact: String,
    form: String,
    toks: Vec<Tok>,
    /// Runs of 2–4 adjacent tokens joined.
    runs: Vec<String>,
}

impl Name {
    pub fn new(raw: &str) -> Name {
        let tokens = tokens(raw);
        Name {
            raw: raw.to_string(),
            norm: tokens.join(" "),
            compact: tokens.concat(),
            form: form(raw),
            toks: tokens.iter().map(|t| Tok::new(t)).collect(),
            runs: joined_runs(&tokens),
            tokens,
        }
    }

    /// An exact match of a short name needs the same legal form too, unless the name has eight letters or
    /// more (`Amberfield Holdings` = `Amberfield Holding Pte Ltd`, but `ABC Co.` ≠ `ABC Trading`).
    pub fn distinctive(&self) -> bool {
        self.compact.len() >= 8
    }

    /// A fuzzy match needs a name of some substance: one short word or initials must not match
    /// everything.
    pub fn substantial(&self) -> bool {
        let chars: usize = self.tokens.iter().map(|t| t.len()).sum();
        self.tokens.len() >= 2 && chars >= 8
    }
}

/// Word endings that make another form of the same word (`wig` / `wigs`, `transport` / `transportation`).
const SUFFIXES: &[&str] = &[
    "s", "es", "ation", "ations", "ing", "al", "ical", "ic", "ics",
];

/// A token with `y` read as `i` and doubled letters single, so that romanisations agree (`severnyy`,
/// `severnyi`, `severny`; `mohammed`, `mohamed`).
fn fold(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars().map(|c| if c == 'y' { 'i' } else { c }) {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Similarity of two tokens in 0..1: equal 1, another form of the same word (a plural, `-ation`) or a
/// spelling variant of a personal name 0.95, the same once romanisation is folded 0.93, short tokens (three
/// letters or fewer) nothing otherwise, else the lower of Jaro-Winkler and the optimal-string-alignment
/// similarity (edit distance over the longer length), so that one typo in a long word scores high while a
/// shared prefix alone (`northeast` / `northwest`, `weidong` / `weiguo`) does not.
pub fn token_similarity(a: &str, b: &str) -> f64 {
    tok_similarity(&Tok::new(a), &Tok::new(b), false)
}

/// A token with what its comparisons need, computed once.
#[derive(Clone, Debug)]
struct Tok {
    s: String,
    fold: String,
    variant: Option<usize>,
}

impl Tok {
    fn new(s: &str) -> Tok {
        Tok {
            s: s.to_string(),
            fold: fold(s),
            variant: variant_class(s),
        }
    }
}

/// [`token_similarity`]; with `cut`, pairs that cannot reach [`TOKEN_FLOOR`] (their lengths alone say so)
/// score 0 without computing the string distances.
fn tok_similarity(x: &Tok, y: &Tok, cut: bool) -> f64 {
    let (a, b) = (x.s.as_str(), y.s.as_str());
    if a == b {
        return 1.0;
    }
    if let (Some(p), Some(q)) = (x.variant, y.variant)
        && p == q
    {
        return 0.95;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() >= 3
        && long
            .strip_prefix(short)
            .is_some_and(|rest| SUFFIXES.contains(&rest))
    {
        return 0.95;
    }
    if short.len() <= 3 {
        return 0.0;
    }
    if x.fold == y.fold {
        return 0.93;
    }
    let longer = a.len().max(b.len()) as f64;
    if cut && 1.0 - (a.len().abs_diff(b.len())) as f64 / longer < TOKEN_FLOOR {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(a, b);
    let osa = 1.0 - strsim::osa_distance(a, b) as f64 / a.len().max(b.len()) as f64;
    jw.min(osa)
}

/// Pairs below this token similarity count nothing.
const TOKEN_FLOOR: f64 = 0.85;

/// Joins runs of 2–4 adjacent tokens of `x` whose concatenation is a token of `other` (`xu chang` meets
/// `xuchang`).
fn merge_against(x: &[String], other: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(x.len());
    let mut i = 0;
    'outer: while i < x.len() {
        for k in (2..=4).rev() {
            if i + k <= x.len() {
                let cat: String = x[i..i + k].concat();
                if other.contains(&cat) {
                    out.push(cat);
                    i += k;
                    continue 'outer;
                }
            }
        }
        out.push(x[i].clone());
        i += 1;
    }
    out
}

/// Token similarity of two names in 0..1: tokens paired in any order (best pairs first), each pair's
/// [`token_similarity`] summed and divided by the mean token count, so extra words on either side lower the
/// score.
pub fn similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let a = merge_against(a, b);
    let b = merge_against(b, &a);
    let a: Vec<Tok> = a.iter().map(|t| Tok::new(t)).collect();
    let b: Vec<Tok> = b.iter().map(|t| Tok::new(t)).collect();
    pair_score(&a, &b)
}

/// Pairs tokens in any order, best pairs first, and divides the sum of their similarities by the mean
/// token count.
fn pair_score(a: &[Tok], b: &[Tok]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            let s = tok_similarity(x, y, true);
            if s >= TOKEN_FLOOR {
                pairs.push((s, i, j));
            }
        }
    }
    pairs.sort_by(|p, q| q.0.partial_cmp(&p.0).unwrap_or(std::cmp::Ordering::Equal));
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    let mut total = 0.0;
    for (s, i, j) in pairs {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            total += s;
        }
    }
    2.0 * total / (a.len() + b.len()) as f64
}

/// The similarity of two prepared names: 1 when their tokens, or their letters once spaces are set aside,
/// are the same; else [`similarity`].
pub fn name_similarity(a: &Name, b: &Name) -> f64 {
    if a.norm == b.norm || a.compact == b.compact {
        return 1.0;
    }
    if joins(a, b) {
        similarity(&a.tokens, &b.tokens)
    } else {
        pair_score(&a.toks, &b.toks)
    }
}

/// Whether syllables of one name join to meet a token of the other.
fn joins(a: &Name, b: &Name) -> bool {
    a.runs.iter().any(|r| b.tokens.contains(r)) || b.runs.iter().any(|r| a.tokens.contains(r))
}

/// The verdict on one name pair.
#[derive(Clone, Debug, PartialEq)]
pub struct NameMatch {
    pub score: f64,
    pub exact: bool,
    pub why: String,
}

fn country_clause(a: Option<Country>, b: Option<Country>) -> String {
    match (a, b) {
        (Some(x), Some(y)) if x == y => format!("; same country {x}"),
        (_, None) => "; the entry has no country".into(),
        (None, Some(_)) => "; the party has no country".into(),
        _ => String::new(),
    }
}

/// Decides whether a party's name matches a list entry's name (SPEC: watchlist matching), and why.
pub fn compare(
    party: &Name,
    party_country: Option<Country>,
    entry: &Name,
    entry_country: Option<Country>,
    threshold: f64,
) -> Option<NameMatch> {
    if party.tokens.is_empty() || entry.tokens.is_empty() {
        return None;
    }
    let disagree = matches!((party_country, entry_country), (Some(a), Some(b)) if a != b);
    if party.norm == entry.norm {
        if !(party.distinctive() || party.form == entry.form) {
            return None;
        }
        let norm = &party.norm;
        return Some(if disagree {
            NameMatch {
                score: 1.0,
                exact: false,
                why: format!(
                    "same name once case, punctuation and legal forms are set aside ('{norm}'), but the entry's country is {} and the party's {}",
                    entry_country.map(|c| c.to_string()).unwrap_or_default(),
                    party_country.map(|c| c.to_string()).unwrap_or_default()
                ),
            }
        } else {
            NameMatch {
                score: 1.0,
                exact: true,
                why: format!(
                    "same name once case, punctuation and legal forms are set aside ('{norm}'){}",
                    country_clause(entry_country, party_country)
                ),
            }
        });
    }
    if disagree || !party.substantial() || !entry.substantial() {
        return None;
    }
    // Without joined syllables, the token counts alone bound the score: 2·min / (m + n).
    let (m, n) = (party.tokens.len(), entry.tokens.len());
    if 2.0 * m.min(n) as f64 / (m + n) as f64 + 1e-9 < threshold
        && party.compact != entry.compact
        && !joins(party, entry)
    {
        return None;
    }
    let s = name_similarity(party, entry);
    if s < threshold {
        return None;
    }
    let how = if s >= 1.0 {
        format!(
            "the same words in another order or spacing ('{}' / '{}')",
            party.norm, entry.norm
        )
    } else {
        format!(
            "similar names ('{}' / '{}'): token similarity {s:.2} >= {threshold:.2}",
            party.norm, entry.norm
        )
    };
    Some(NameMatch {
        score: s,
        exact: false,
        why: format!("{how}{}", country_clause(entry_country, party_country)),
    })
}

/// One watchlist hit of a party.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Hit {
    pub entry: u32,
    pub entry_id: String,
    pub entry_name: String,
    pub program: Option<String>,
    pub source: Option<String>,
    /// 1.0 for an exact normalised name or identifier match.
    pub score: f64,
    pub exact: bool,
    /// The party's name or alias that matched.
    pub party_name: String,
    /// The entry's name or alias it matched.
    pub matched: String,
    pub why: String,
}

fn names_of_party(p: &Party) -> Vec<&str> {
    std::iter::once(p.name.as_str())
        .chain(p.aliases.iter().map(String::as_str))
        .collect()
}

fn names_of_entry(e: &WatchEntry) -> Vec<&str> {
    std::iter::once(e.name.as_str())
        .chain(e.aliases.iter().map(String::as_str))
        .collect()
}

/// Index keys of a token: every token that can pair with it at [`TOKEN_FLOOR`] or more shares one of them —
/// equal once folded, another form of the word (its stem), a spelling variant of a name, or (seven letters
/// or more) one edit away (every single deletion: two tokens one edit apart share one).
fn token_keys(t: &str, out: &mut Vec<String>) {
    let f = fold(t);
    if let Some(v) = variant_class(t) {
        out.push(format!("#{v}"));
    }
    for suffix in SUFFIXES {
        if let Some(stem) = f.strip_suffix(suffix)
            && stem.len() >= 3
        {
            out.push(stem.to_string());
        }
    }
    if f.len() >= 7 {
        let chars: Vec<char> = f.chars().collect();
        for skip in 0..chars.len() {
            let d: String = chars
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != skip)
                .map(|(_, c)| *c)
                .collect();
            out.push(d);
        }
    }
    out.push(f);
}

/// The runs of 2–4 adjacent tokens of a name joined (`xu chang` → `xuchang`), as [`similarity`] joins them
/// to meet a token of the other name.
fn joined_runs(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for k in 2..=4 {
        for w in tokens.windows(k) {
            out.push(w.concat());
        }
    }
    out
}

/// The index keys of a name, unit by unit: each token with all its keys, each joined run of tokens as it is
/// (a run pairs only with an equal token).
fn name_keys(tokens: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = tokens
        .iter()
        .map(|t| {
            let mut v = Vec::new();
            token_keys(t, &mut v);
            v.sort();
            v.dedup();
            v
        })
        .collect();
    out.extend(joined_runs(tokens).into_iter().map(|r| vec![fold(&r)]));
    out
}

fn split_id(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or(("id", id))
}

/// The hits of every party (indexed like `Dataset::parties`), best first.
pub fn screen(ds: &Dataset, threshold: f64) -> Vec<Vec<Hit>> {
    let mut exact: HashMap<String, Vec<(u32, usize)>> = HashMap::new();
    let mut by_key: HashMap<String, Vec<(u32, usize)>> = HashMap::new();
    let mut entry_names: Vec<Vec<Name>> = Vec::with_capacity(ds.watchlist.len());
    let mut ids: HashMap<&str, Vec<(u32, &str)>> = HashMap::new();
    for (i, e) in ds.watchlist.iter().enumerate() {
        let mut names = Vec::new();
        for n in names_of_entry(e) {
            let name = Name::new(n);
            if name.tokens.is_empty() {
                continue;
            }
            let k = names.len();
            exact
                .entry(name.norm.clone())
                .or_default()
                .push((i as u32, k));
            exact
                .entry(name.compact.clone())
                .or_default()
                .push((i as u32, k));
            if name.substantial() {
                let mut keys: Vec<String> = name_keys(&name.tokens).into_iter().flatten().collect();
                keys.sort();
                keys.dedup();
                for key in keys {
                    by_key.entry(key).or_default().push((i as u32, k));
                }
            }
            names.push(name);
        }
        entry_names.push(names);
        for id in &e.identifiers {
            let (scheme, value) = split_id(id);
            ids.entry(value).or_default().push((i as u32, scheme));
        }
    }
    let hit = |e: u32, score: f64, exact: bool, party_name: &str, matched: &str, why: String| {
        let entry = &ds.watchlist[e as usize];
        Hit {
            entry: e,
            entry_id: entry.id.clone(),
            entry_name: entry.name.clone(),
            program: entry.program.clone(),
            source: entry.source.clone(),
            score,
            exact,
            party_name: party_name.to_string(),
            matched: matched.to_string(),
            why,
        }
    };
    ds.parties
        .iter()
        .map(|p| {
            let mut best: HashMap<u32, Hit> = HashMap::new();
            let mut keep = |h: Hit| {
                let better = best
                    .get(&h.entry)
                    .is_none_or(|o| (h.exact, h.score) > (o.exact, o.score));
                if better {
                    best.insert(h.entry, h);
                }
            };
            for id in &p.identifiers {
                let (scheme, value) = split_id(id);
                for &(e, s) in ids.get(value).into_iter().flatten() {
                    if s == scheme || s == "id" || scheme == "id" {
                        let entry_id = ds.watchlist[e as usize]
                            .identifiers
                            .iter()
                            .find(|x| split_id(x).1 == value)
                            .cloned()
                            .unwrap_or_default();
                        keep(hit(
                            e,
                            1.0,
                            true,
                            id,
                            &entry_id,
                            format!("identifier {id} is on the entry ({entry_id})"),
                        ));
                    }
                }
            }
            for n in names_of_party(p) {
                let name = Name::new(n);
                if name.tokens.is_empty() {
                    continue;
                }
                let mut cands: BTreeSet<(u32, usize)> = BTreeSet::new();
                for k in [&name.norm, &name.compact] {
                    cands.extend(exact.get(k.as_str()).into_iter().flatten().copied());
                }
                if name.substantial() {
                    // One token pair scores at most 2 · 1 / (1 + 2) = 2/3 (when one name's syllables all
                    // join into one token; both joining is the compact match above): above 2/3 a fuzzy match
                    // pairs at least two tokens, so a candidate shares keys with two of the party's units.
                    let need = if threshold > 2.0 / 3.0 { 2 } else { 1 };
                    let mut shared: HashMap<(u32, usize), usize> = HashMap::new();
                    for unit_keys in name_keys(&name.tokens) {
                        let mut hit: BTreeSet<(u32, usize)> = BTreeSet::new();
                        for k in &unit_keys {
                            hit.extend(by_key.get(k).into_iter().flatten().copied());
                        }
                        for c in hit {
                            *shared.entry(c).or_default() += 1;
                        }
                    }
                    cands.extend(
                        shared
                            .into_iter()
                            .filter(|&(_, n)| n >= need)
                            .map(|(c, _)| c),
                    );
                }
                for (e, k) in cands {
                    let entry = &ds.watchlist[e as usize];
                    let en = &entry_names[e as usize][k];
                    if let Some(m) = compare(&name, Some(p.country), en, entry.country, threshold) {
                        keep(hit(e, m.score, m.exact, n, &en.raw, m.why));
                    }
                }
            }
            let mut v: Vec<Hit> = best.into_values().collect();
            v.sort_by(|a, b| {
                (b.exact, b.score)
                    .partial_cmp(&(a.exact, a.score))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.entry.cmp(&b.entry))
            });
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: &str, b: &str, t: f64) -> Option<NameMatch> {
        compare(&Name::new(a), None, &Name::new(b), None, t)
    }

    const T: f64 = 0.88;

    #[test]
    fn legal_forms_and_case_do_not_matter() {
        assert_eq!(
            normalize("DANDONG ZHICHENG METALLIC MATERIAL CO., LTD."),
            normalize("Dandong Zhicheng Metallic Material Company Limited")
        );
        let hit = m(
            "DANDONG ZHICHENG METALLIC MATERIAL CO., LTD.",
            "Dandong Zhicheng Metallic Material Company Limited",
            T,
        )
        .unwrap();
        assert!(hit.exact, "{hit:?}");
        assert_eq!(normalize("Koryo L.L.C."), "koryo");
        assert_eq!(normalize("ACME G.m.b.H."), "acme");
        assert_eq!(
            normalize("Blue Orchid Mfg Co"),
            normalize("Blue Orchid Manufacturing Company")
        );
    }

    #[test]
    fn near_misses_do_not_match() {
        assert_ne!(
            normalize("Dandong Zhicheng Food Co., Ltd."),
            normalize("Dandong Zhicheng Metallic Material Co., Ltd.")
        );
        let a = tokens("Dandong Zhicheng Food Co., Ltd.");
        let b = tokens("DANDONG ZHICHENG METALLIC MATERIAL CO., LTD.");
        assert!(similarity(&a, &b) < 0.8);
        assert_eq!(
            m(
                "Dandong Zhicheng Food Co., Ltd.",
                "DANDONG ZHICHENG METALLIC MATERIAL CO., LTD.",
                T
            ),
            None
        );
    }

    #[test]
    fn short_names_and_initials_do_not_match_everything() {
        assert_eq!(m("ABC Co., Ltd.", "ABC Trading Co., Ltd.", T), None);
        assert!(m("ABC Co., Ltd.", "ABC Company Limited", T).is_some());
        assert_eq!(m("Koryo", "Koryo Lustre Trading Corporation", T), None);
        assert_eq!(m("J. S. Kim", "Kim Jong Su", T), None);
        assert_eq!(m("Kim", "Kim Chol Su", T), None);
        assert_eq!(m("Li Wei", "Li Wen", T), None);
        // Even at a threshold of 0, a short name only ever matches exactly.
        assert_eq!(m("ABC", "ABD Holdings", 0.0), None);
        assert_eq!(m("KP", "KP Hair Products", 0.0), None);
    }

    #[test]
    fn cjk_and_cyrillic_are_transliterated() {
        assert!(m("丹东志诚有限公司", "Dan Dong Zhi Cheng", T).is_some());
        assert!(m("丹东志诚有限公司", "Dandong Zhicheng Co., Ltd.", T).is_some());
        assert!(
            m("許昌晨曦髮製品有限公司", "许昌晨曦发制品有限公司", T)
                .unwrap()
                .exact
        );
        assert!(m("ООО Северный Фонарь", "Severny Fonar LLC", T).is_some());
        assert_eq!(
            m("丹东志诚食品有限公司", "丹东志诚金属材料有限公司", T),
            None
        );
    }

    #[test]
    fn screen_finds_a_match_resting_on_joined_syllables_alone() {
        use crate::dataset::{Rec, WatchEntry};
        let rec = Rec { file: 0, line: 0 };
        let mut ds = Dataset::default();
        ds.parties.push(Party {
            id: "p".into(),
            name: "丹东志诚".into(),
            country: Country(*b"CN"),
            region: None,
            city: None,
            aliases: vec![],
            identifiers: vec![],
            rec,
        });
        ds.watchlist.push(WatchEntry {
            id: "e".into(),
            name: "Dandongzhicheng Lustre".into(),
            aliases: vec![],
            country: None,
            program: None,
            identifiers: vec![],
            source: None,
            rec,
        });
        let t = 0.6;
        let want = compare(
            &Name::new("丹东志诚"),
            None,
            &Name::new("Dandongzhicheng Lustre"),
            None,
            t,
        );
        assert!(want.is_some());
        assert_eq!(screen(&ds, t)[0].len(), 1);
        assert!(screen(&ds, 0.9)[0].is_empty());
    }

    #[test]
    fn countries_count_when_both_sides_have_one() {
        let cn = Country::parse("CN").ok();
        let kp = Country::parse("KP").ok();
        let a = Name::new("Koryo Lustre Trading Corporation");
        let b = Name::new("KORYO LUSTRE TRADING CORP.");
        let same = compare(&a, cn, &b, cn, T).unwrap();
        assert!(same.exact && same.why.contains("same country CN"));
        let other = compare(&a, cn, &b, kp, T).unwrap();
        assert!(!other.exact && other.why.contains("country is KP"));
        let c = Name::new("Koryo Lustre Tradng Corporation Ltd Hair");
        let d = Name::new("Koryo Lustre Trading Corporation Hair");
        assert!(compare(&c, cn, &d, cn, 0.8).is_some());
        assert!(compare(&c, cn, &d, kp, 0.8).is_none());
    }
}

/// Calibration on the labelled set `data/screening_pairs.csv` (see docs/screening.md).
#[cfg(test)]
mod calibration {
    use super::*;
    use crate::settings::Settings;

    const PAIRS: &str = include_str!("../data/screening_pairs.csv");

    struct Pair {
        id: String,
        a: Name,
        ac: Option<Country>,
        b: Name,
        bc: Option<Country>,
        expected: bool,
        kind: String,
        holdout: bool,
    }

    fn pairs() -> Vec<Pair> {
        let mut rdr = csv::Reader::from_reader(PAIRS.as_bytes());
        let country = |s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(Country::parse(s).unwrap())
            }
        };
        rdr.records()
            .map(|r| {
                let r = r.unwrap();
                Pair {
                    id: r[0].to_string(),
                    a: Name::new(&r[1]),
                    ac: country(&r[2]),
                    b: Name::new(&r[3]),
                    bc: country(&r[4]),
                    expected: match &r[5] {
                        "match" => true,
                        "no-match" => false,
                        x => panic!("label {x}"),
                    },
                    kind: r[6].to_string(),
                    holdout: &r[8] == "holdout",
                }
            })
            .collect()
    }

    /// (true positives, false positives, false negatives, true negatives).
    fn confusion(ps: &[Pair], t: f64) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for p in ps {
            match (compare(&p.a, p.ac, &p.b, p.bc, t).is_some(), p.expected) {
                (true, true) => c.0 += 1,
                (true, false) => c.1 += 1,
                (false, true) => c.2 += 1,
                (false, false) => c.3 += 1,
            }
        }
        c
    }

    fn pr(c: (usize, usize, usize, usize)) -> (f64, f64) {
        let p = c.0 as f64 / (c.0 + c.1).max(1) as f64;
        let r = c.0 as f64 / (c.0 + c.2).max(1) as f64;
        (p, r)
    }

    #[test]
    fn the_labelled_set_is_large_and_mixed() {
        let ps = pairs();
        assert!(ps.len() >= 200, "{} pairs", ps.len());
        for kind in [
            "company-latin",
            "company-cjk",
            "person-latin",
            "person-cjk",
            "short",
        ] {
            for label in [true, false] {
                assert!(
                    ps.iter().any(|p| p.kind == kind && p.expected == label),
                    "no {kind} pair labelled {label}"
                );
            }
        }
    }

    /// The candidate index of [`screen`] never loses a pair that comparing every name with every name finds.
    #[test]
    fn screen_finds_every_pair_that_compare_accepts() {
        use crate::dataset::{Rec, WatchEntry};
        let ps = pairs();
        let rec = Rec { file: 0, line: 0 };
        let mut ds = Dataset::default();
        for (i, p) in ps.iter().enumerate() {
            ds.parties.push(Party {
                id: format!("p{i}"),
                name: p.a.raw.clone(),
                country: p.ac.unwrap_or(Country(*b"CN")),
                region: None,
                city: None,
                aliases: vec![],
                identifiers: vec![],
                rec,
            });
            ds.watchlist.push(WatchEntry {
                id: format!("e{i}"),
                name: p.b.raw.clone(),
                aliases: vec![],
                country: p.bc,
                program: None,
                identifiers: vec![],
                source: None,
                rec,
            });
        }
        let entry_names: Vec<Name> = ds.watchlist.iter().map(|e| Name::new(&e.name)).collect();
        for t in [0.3, 0.6, 0.7, 0.9] {
            let hits = screen(&ds, t);
            for (i, party) in ds.parties.iter().enumerate() {
                let pn = Name::new(&party.name);
                for (e, entry) in ds.watchlist.iter().enumerate() {
                    let want = compare(&pn, Some(party.country), &entry_names[e], entry.country, t);
                    let got = hits[i].iter().find(|h| h.entry == e as u32);
                    assert_eq!(
                        want.is_some(),
                        got.is_some(),
                        "threshold {t}: '{}' / '{}'",
                        party.name,
                        entry.name
                    );
                }
            }
        }
    }

    fn report(ps: &[Pair], t: f64, what: &str) -> (f64, f64) {
        let c = confusion(ps, t);
        let (p, r) = pr(c);
        eprintln!(
            "{what} at {t}: {} pairs, precision {p:.3}, recall {r:.3} (tp {} fp {} fn {} tn {})",
            ps.len(),
            c.0,
            c.1,
            c.2,
            c.3
        );
        for q in ps {
            let got = compare(&q.a, q.ac, &q.b, q.bc, t);
            if got.is_some() != q.expected {
                let score = name_similarity(&q.a, &q.b);
                eprintln!(
                    "  {} {} [{}] '{}' / '{}' score {score:.3}",
                    if q.expected { "missed" } else { "false hit" },
                    q.id,
                    q.kind,
                    q.a.raw,
                    q.b.raw
                );
            }
        }
        (p, r)
    }

    /// Precision and recall at the default threshold, on the tuning pairs (where the rules and the threshold
    /// were chosen) and on the held-out pairs (written afterwards, never tuned on). `cargo test calibration
    /// -- --nocapture` prints the sweep and the misclassified pairs that docs/screening.md reports.
    #[test]
    fn precision_and_recall_at_the_default_threshold() {
        let all = pairs();
        let (hold, tune): (Vec<Pair>, Vec<Pair>) = all.into_iter().partition(|p| p.holdout);
        let t = Settings::default().match_threshold;
        for step in 0..=12 {
            let x = 0.70 + step as f64 * 0.025;
            let c = confusion(&tune, x);
            let (p, r) = pr(c);
            eprintln!(
                "tuning pairs, threshold {x:.3}: precision {p:.3} recall {r:.3} (tp {} fp {} fn {} tn {})",
                c.0, c.1, c.2, c.3
            );
        }
        let (p, r) = report(&tune, t, "tuning pairs");
        assert!(p >= 0.97, "precision {p:.3} at {t} on the tuning pairs");
        assert!(r >= 0.97, "recall {r:.3} at {t} on the tuning pairs");
        let (p, r) = report(&hold, t, "held-out pairs");
        assert!(p >= 0.90, "precision {p:.3} at {t} on the held-out pairs");
        assert!(r >= 0.85, "recall {r:.3} at {t} on the held-out pairs");
        let both: Vec<Pair> = tune.into_iter().chain(hold).collect();
        report(&both, t, "all pairs");
    }
}
