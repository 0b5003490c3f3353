//! Watchlist screening: every party against every list entry, with explainable matching. Names are
//! normalised (NFKC, case, punctuation, legal forms, transliteration of CJK and Cyrillic), compared token by
//! token, and a hit says which name or alias matched, how well, and why.

use crate::dataset::{Dataset, Party, WatchEntry};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use unicode_normalization::UnicodeNormalization;

/// Legal-form words that say nothing about who a company is.
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
    "llp",
    "lp",
    "pte",
    "pty",
    "srl",
    "spa",
    "kg",
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
    "factory",
];

/// CJK legal forms, removed before transliteration.
const CJK_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团",
    "公司",
    "贸易",
    "进出口",
    "工厂",
    "厂",
];

/// The tokens of a name after normalisation.
pub fn tokens(name: &str) -> Vec<String> {
    let mut s: String = name.nfkc().collect::<String>().to_lowercase();
    for f in CJK_FORMS {
        s = s.replace(f, " ");
    }
    let ascii = deunicode::deunicode(&s).to_lowercase();
    ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty() && !LEGAL_FORMS.contains(t))
        .map(String::from)
        .collect()
}

/// The normalised form of a name: its tokens joined by one space.
pub fn normalize(name: &str) -> String {
    tokens(name).join(" ")
}

/// Token similarity in 0..1: each token of the shorter name is paired with its best match in the other
/// (Jaro-Winkler, pairs under 0.85 count 0), and the sum is divided by the mean token count, so extra
/// words on either side lower the score.
pub fn similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut used = vec![false; long.len()];
    let mut total = 0.0;
    for t in short {
        let mut best = (0.0, usize::MAX);
        for (j, u) in long.iter().enumerate() {
            if used[j] {
                continue;
            }
            let s = if t == u {
                1.0
            } else {
                strsim::jaro_winkler(t, u)
            };
            if s > best.0 {
                best = (s, j);
            }
        }
        if best.0 >= 0.85 && best.1 != usize::MAX {
            used[best.1] = true;
            total += best.0;
        }
    }
    2.0 * total / (a.len() + b.len()) as f64
}

/// One watchlist hit of a party.
#[derive(Clone, Debug, Serialize, PartialEq)]
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

/// A fuzzy match needs a name of some substance: one short token ("ABC", "Li") must not match everything.
fn substantial(tok: &[String]) -> bool {
    let chars: usize = tok.iter().map(|t| t.len()).sum();
    tok.len() >= 2 && chars >= 8
}

/// The hits of every party (indexed like `Dataset::parties`), best first.
pub fn screen(ds: &Dataset, threshold: f64) -> Vec<Vec<Hit>> {
    // Entry names by normalised form, by token, and entry identifiers.
    let mut exact: HashMap<String, Vec<(u32, String)>> = HashMap::new();
    let mut by_token: HashMap<String, BTreeSet<u32>> = HashMap::new();
    let mut entry_tokens: Vec<Vec<(String, Vec<String>)>> = Vec::with_capacity(ds.watchlist.len());
    let mut ids: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, e) in ds.watchlist.iter().enumerate() {
        let mut names = Vec::new();
        for n in names_of_entry(e) {
            let tok = tokens(n);
            if tok.is_empty() {
                continue;
            }
            exact
                .entry(tok.join(" "))
                .or_default()
                .push((i as u32, n.to_string()));
            for t in &tok {
                by_token.entry(t.clone()).or_default().insert(i as u32);
            }
            names.push((n.to_string(), tok));
        }
        entry_tokens.push(names);
        for id in &e.identifiers {
            ids.entry(id.as_str()).or_default().push(i as u32);
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
                let better = best.get(&h.entry).is_none_or(|o| (h.exact, h.score) > (o.exact, o.score));
                if better {
                    best.insert(h.entry, h);
                }
            };
            for id in &p.identifiers {
                for &e in ids.get(id.as_str()).into_iter().flatten() {
                    keep(hit(e, 1.0, true, id, id, format!("identifier {id} is on the entry")));
                }
            }
            for n in names_of_party(p) {
                let tok = tokens(n);
                if tok.is_empty() {
                    continue;
                }
                let norm = tok.join(" ");
                for (e, m) in exact.get(&norm).into_iter().flatten() {
                    keep(hit(*e, 1.0, true, n, m, format!("same name once case, punctuation and legal forms are set aside ('{norm}')")));
                }
                if !substantial(&tok) {
                    continue;
                }
                let cands: BTreeSet<u32> = tok.iter().filter_map(|t| by_token.get(t)).flatten().copied().collect();
                for e in cands {
                    let entry = &ds.watchlist[e as usize];
                    if entry.country.is_some_and(|c| c != p.country) {
                        continue;
                    }
                    for (m, etok) in &entry_tokens[e as usize] {
                        if !substantial(etok) {
                            continue;
                        }
                        let s = similarity(&tok, etok);
                        if s >= threshold && s < 1.0 {
                            let country = if entry.country.is_some() { ", same country" } else { "" };
                            keep(hit(e, s, false, n, m, format!("similar names (token similarity {s:.2} >= {threshold:.2}{country})")));
                        } else if s >= 1.0 && norm != etok.join(" ") {
                            keep(hit(e, s, false, n, m, "the same words in another order".into()));
                        }
                    }
                }
            }
            let mut v: Vec<Hit> = best.into_values().collect();
            v.sort_by(|a, b| (b.exact, b.score).partial_cmp(&(a.exact, a.score)).unwrap_or(std::cmp::Ordering::Equal).then(a.entry.cmp(&b.entry)));
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_forms_and_case_do_not_matter() {
        assert_eq!(
            normalize("DANDONG ZHICHENG METALLIC MATERIAL CO., LTD."),
            normalize("Dandong Zhicheng Metallic Material Company Limited")
        );
        assert_ne!(
            normalize("Dandong Zhicheng Food Co., Ltd."),
            normalize("Dandong Zhicheng Metallic Material Co., Ltd.")
        );
    }

    #[test]
    fn near_misses_score_low() {
        let a = tokens("Dandong Zhicheng Food Co., Ltd.");
        let b = tokens("DANDONG ZHICHENG METALLIC MATERIAL CO., LTD.");
        assert!(similarity(&a, &b) < 0.8);
    }

    #[test]
    fn cjk_is_transliterated() {
        assert_eq!(
            normalize("丹东志诚有限公司"),
            normalize("Dan Dong Zhi Cheng")
        );
    }
}
