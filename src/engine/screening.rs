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
//!
//! A party's name is compared in full only with the list names it can match (see `List`): those with its
//! normalised or compact form, those whose syllables join to meet its tokens or the other way round, and
//! those with enough tokens that pair with the party's at the floor of `tok_similarity` to reach the
//! threshold at all, found through the party's rarest tokens. Common words (`trading`, a place name, the
//! `synthetic` of generated data) then cost nothing: however many names share them, the match needs more.
//! On top of that, a fuzzy hit keeps the key rule of the index this filter replaced (`List::admits`), so
//! the hits are exactly what they were. Parties are screened in parallel.

use crate::data::codes::Country;
use crate::data::dataset::{Dataset, Party, WatchEntry};
use crate::data::names::*;
use crate::util::fxhash::FxMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hasher;

/// The verdict on one name pair.
#[derive(Clone, Debug, PartialEq)]
pub struct NameMatch {
    pub score: f64,
    pub exact: bool,
    pub why: String,
}

/// The countries of a list entry as one text (`CW;SX;BQ`).
fn countries_text(cs: &[Country]) -> String {
    cs.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// Which side lacks a country, or the country both share. An entry with addresses in several countries
/// shares a country with a party in any of them.
fn country_clause(entry: &[Country], party: Option<Country>) -> String {
    match (entry.is_empty(), party) {
        (true, _) => "; the list entry has no country".into(),
        (false, None) => "; the party has no country".into(),
        (false, Some(p)) if entry.contains(&p) => format!("; same country {p}"),
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
    compare_entry(
        party,
        party_country,
        entry,
        entry_country.as_slice(),
        threshold,
    )
}

/// [`compare`] with every country of the entry: the countries agree when the party's is one of them.
pub fn compare_entry(
    party: &Name,
    party_country: Option<Country>,
    entry: &Name,
    entry_countries: &[Country],
    threshold: f64,
) -> Option<NameMatch> {
    if party.tokens.is_empty() || entry.tokens.is_empty() {
        return None;
    }
    let disagree =
        party_country.is_some_and(|a| !entry_countries.is_empty() && !entry_countries.contains(&a));
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
                    countries_text(entry_countries),
                    party_country.map(|c| c.to_string()).unwrap_or_default()
                ),
            }
        } else {
            NameMatch {
                score: 1.0,
                exact: true,
                why: format!(
                    "same name once case, punctuation and legal forms are set aside ('{norm}'){}",
                    country_clause(entry_countries, party_country)
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
        why: format!("{how}{}", country_clause(entry_countries, party_country)),
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
    /// The same entity on other lists (entries that share an identifier with this one, such as OFAC's
    /// `ofac:N` that the CSL and OpenSanctions carry): one hit lists every source.
    #[serde(default)]
    pub linked: Vec<Linked>,
}

/// Another list's entry for the entity of a [`Hit`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Linked {
    pub entry_id: String,
    pub entry_name: String,
    pub source: Option<String>,
    pub program: Option<String>,
}

/// Each entry's group: entries that share an identifier (`scheme:value`, the generic `id` scheme matching any)
/// are one entity, transitively. The group is its lowest entry index.
fn link_groups(list: &[WatchEntry]) -> Vec<u32> {
    fn root(p: &mut [u32], mut i: u32) -> u32 {
        while p[i as usize] != i {
            p[i as usize] = p[p[i as usize] as usize];
            i = p[i as usize];
        }
        i
    }
    let mut parent: Vec<u32> = (0..list.len() as u32).collect();
    let mut by_value: HashMap<&str, Vec<(u32, &str)>> = HashMap::new();
    for (i, e) in list.iter().enumerate() {
        for id in &e.identifiers {
            let (scheme, value) = split_id(id);
            by_value.entry(value).or_default().push((i as u32, scheme));
        }
    }
    for entries in by_value.values() {
        for (k, &(a, sa)) in entries.iter().enumerate() {
            for &(b, sb) in &entries[k + 1..] {
                if a != b && (sa == sb || sa == "id" || sb == "id") {
                    let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                    if ra != rb {
                        parent[ra.max(rb) as usize] = ra.min(rb);
                    }
                }
            }
        }
    }
    (0..list.len() as u32)
        .map(|i| root(&mut parent, i))
        .collect()
}

/// Folds the hits of one entity into its best-ranked hit, which then lists the other entries as linked.
fn merge_linked(hits: Vec<Hit>, group: &[u32], list: &[WatchEntry]) -> Vec<Hit> {
    let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
    let mut at: HashMap<u32, usize> = HashMap::new();
    for h in hits {
        let g = group.get(h.entry as usize).copied().unwrap_or(h.entry);
        match at.get(&g) {
            Some(&i) => {
                let e = &list[h.entry as usize];
                out[i].linked.push(Linked {
                    entry_id: e.id.clone(),
                    entry_name: e.name.clone(),
                    source: e.source.clone(),
                    program: e.program.clone(),
                });
            }
            None => {
                at.insert(g, out.len());
                out.push(h);
            }
        }
    }
    out
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

/// Keys of a token for the key rule ([`List::admits`]): the folded token, its folded stems, its spelling-variant
/// class, and (seven letters or more once folded) every single deletion of the folded token. Most tokens that
/// pair at [`TOKEN_FLOOR`] share one, not all: a stem's last letter folded into a suffix's first (`supply` /
/// `supplying`), doubled letters that leave fewer than seven once folded (`goodwill` / `goodwell`,
/// `0000128` / `0000129`), two edits in a long word. [`pair_keys`] finds every pair.
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

/// The keys of a name for the key rule, unit by unit: each token with all its [`token_keys`], each joined run
/// of tokens as it is.
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

/// The most edits (OSA distance) a pair of tokens whose longer one has `longer` letters can have and still
/// reach [`TOKEN_FLOOR`] on the edit-distance similarity of [`tok_similarity`], computed as it computes it.
fn max_edits(longer: usize) -> usize {
    (0..=longer)
        .rev()
        .find(|&d| 1.0 - d as f64 / longer as f64 >= TOKEN_FLOOR)
        .unwrap_or(0)
}

/// Longest pair (by its longer token) that reaches [`TOKEN_FLOOR`] on edit distance only one edit apart:
/// [`max_edits`] is 0 up to six letters, 1 from seven to thirteen, 2 from fourteen to nineteen, then 3 and
/// more (a test checks these against [`TOKEN_FLOOR`]).
const ONE_EDIT_MAX: usize = 13;

/// Shortest token of such a pair: the pair needs seven letters, the other token has at most one more.
const ONE_EDIT_MIN: usize = 6;

/// Longest pair that reaches [`TOKEN_FLOOR`] two edits apart; longer pairs are found by length
/// ([`List::neighbours`]).
const TWO_EDITS_MAX: usize = 19;

/// Shortest token of a pair two edits apart: fourteen letters on the longer side, two fewer at most.
const TWO_EDITS_MIN: usize = 12;

/// Slack on the score bounds of the candidate filter, far above the rounding of a sum of a few similarities:
/// a bound may let a hopeless name through, never keep out one that reaches the threshold.
const BOUND_SLACK: f64 = 1e-9;

/// The kinds of key a token is found by when the list is searched for its partners ([`pair_keys`]).
mod key_kind {
    /// The spelling-variant class of a personal name.
    pub const VARIANT: u8 = 0;
    /// The token itself (three letters or more) and every stem left by one of the suffixes: another form
    /// of a word has the word itself as a stem.
    pub const STEM: u8 = 1;
    /// The folded token.
    pub const FOLD: u8 = 2;
    /// The token and every single deletion of it ([`super::ONE_EDIT_MIN`] to [`super::ONE_EDIT_MAX`]
    /// letters): two tokens one edit apart (insertion, deletion, substitution or transposition) share one.
    pub const EDIT: u8 = 3;
    /// The token and every deletion of one or two of its letters ([`super::TWO_EDITS_MIN`] to
    /// [`super::TWO_EDITS_MAX`] letters): two tokens at most two edits apart share one (each edit is undone by deleting at most one letter on each side,
    /// a transposition by deleting the same letter on both).
    pub const EDITS2: u8 = 4;
}

/// A key: its kind and its letters, hashed to 64 bits one byte at a time (so a string hashes the same
/// whichever letters were deleted to make it). Two keys that collide only bring a token to be compared
/// for nothing; equal keys always meet.
fn key(kind: u8, bytes: impl Iterator<Item = u8>) -> u64 {
    let mut h = crate::util::fxhash::FxHasher::default();
    h.write_u8(kind);
    for b in bytes {
        h.write_u8(b);
    }
    h.finish()
}

/// The keys of a token (see [`key_kind`]), ascending, once each. Two tokens that [`tok_similarity`] scores
/// at [`TOKEN_FLOOR`] or more share one, but for pairs on edit distance whose longer token has more than
/// [`TWO_EDITS_MAX`] letters, which [`List::neighbours`] finds by length:
/// - equal tokens, or equal once folded (0.93): the same `FOLD` key;
/// - spelling variants (0.95): the same `VARIANT` key;
/// - another form of the word (0.95, the shorter one of three letters or more plus a suffix): the shorter
///   is a `STEM` of both;
/// - else the lower of Jaro-Winkler and the edit-distance similarity, which needs `1 - d / L >= 0.85` for
///   the OSA distance `d` and the longer length `L` ([`max_edits`]): `d = 0` (equal) up to six letters;
///   `d <= 1` up to [`ONE_EDIT_MAX`] letters, both tokens then of [`ONE_EDIT_MIN`] letters or more and
///   sharing an `EDIT` key; `d <= 2` up to [`TWO_EDITS_MAX`], both of [`TWO_EDITS_MIN`] or more and sharing
///   an `EDITS2` key.
fn pair_keys(t: &Tok, out: &mut Vec<u64>) {
    use key_kind::*;
    let s = t.s.as_bytes();
    if let Some(v) = t.variant {
        out.push(key(VARIANT, (v as u64).to_le_bytes().into_iter()));
    }
    if s.len() >= 3 {
        out.push(key(STEM, s.iter().copied()));
    }
    for suffix in SUFFIXES {
        if let Some(stem) = s.strip_suffix(suffix.as_bytes())
            && stem.len() >= 3
        {
            out.push(key(STEM, stem.iter().copied()));
        }
    }
    out.push(key(FOLD, t.fold.bytes()));
    // Tokens are ASCII (`words` splits on everything else): a byte is a letter.
    let without = |kind: u8, i: usize, j: usize| {
        key(
            kind,
            s.iter()
                .enumerate()
                .filter(|&(k, _)| k != i && k != j)
                .map(|(_, &b)| b),
        )
    };
    let none = usize::MAX;
    if (ONE_EDIT_MIN..=ONE_EDIT_MAX).contains(&s.len()) {
        out.push(without(EDIT, none, none));
        for i in 0..s.len() {
            out.push(without(EDIT, i, none));
        }
    }
    if (TWO_EDITS_MIN..=TWO_EDITS_MAX).contains(&s.len()) {
        out.push(without(EDITS2, none, none));
        for i in 0..s.len() {
            out.push(without(EDITS2, i, none));
            for j in i + 1..s.len() {
                out.push(without(EDITS2, i, j));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// How often each letter and digit occurs in a token (anything else counted together), saturating: a cheap
/// lower bound on the edit distance of two long tokens ([`edits_at_least`]).
type LetterCounts = [u8; 37];

fn letter_counts(s: &str) -> LetterCounts {
    let mut c = [0u8; 37];
    for b in s.bytes() {
        let i = match b {
            b'a'..=b'z' => (b - b'a') as usize,
            b'0'..=b'9' => 26 + (b - b'0') as usize,
            _ => 36,
        };
        c[i] = c[i].saturating_add(1);
    }
    c
}

/// A lower bound on the OSA distance of two tokens from their letter counts: an insertion or a deletion
/// changes the counts by one, a substitution by two, a transposition not at all. (Saturated counts only
/// lower the bound.)
fn edits_at_least(a: &LetterCounts, b: &LetterCounts) -> usize {
    let diff: usize = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as usize).sum();
    diff.div_ceil(2)
}

/// Whether two token lengths leave a pair any chance on edit distance: the cut of [`tok_similarity`].
fn lengths_can_pair(a: usize, b: usize) -> bool {
    let longer = a.max(b) as f64;
    1.0 - (a.abs_diff(b)) as f64 / longer >= TOKEN_FLOOR
}

/// The fewest token pairs with which a name of `m` tokens can reach `threshold` against one of `n` tokens
/// without joined syllables: each pair scores at most 1, so the score is at most `2 · pairs / (m + n)`;
/// `None` when even `min(m, n)` pairs fall short.
fn pairs_needed(m: usize, n: usize, threshold: f64) -> Option<usize> {
    (0..=m.min(n)).find(|&p| 2.0 * p as f64 / (m + n) as f64 + BOUND_SLACK >= threshold)
}

/// The watchlist's names, prepared once, with the indexes that find the few names a party's name can match.
///
/// A party's name meets an entry's name in [`compare`] in one of these ways, and the candidates are the
/// union of what finds each, so they hold every name [`compare`] accepts:
/// - the same normalised name, or the same letters once spaces are set aside: [`List::exact`];
/// - syllables of one side joined meet a token of the other ([`joins`]): [`List::by_token`] and
///   [`List::runs`], looked up exactly;
/// - otherwise tokens pair one to one, each pair counting its [`tok_similarity`] (at most 1, nothing below
///   [`TOKEN_FLOOR`]) and the sum divided by the mean token count. A party's token and the list's tokens it
///   can pair with are found by [`List::neighbours`]. A name of `n` tokens then needs at least
///   [`pairs_needed`]`(m, n)` of the party's `m` tokens to pair, so at least one of any `m − k + 1` of them,
///   `k` the least over the list's token counts: the names reached from the `m − k + 1` tokens with the
///   fewest names are the only ones to look at. Pairs use each token once, so their sum is at most the sum
///   of the party's tokens' best similarities with the name's tokens, and at most the same the other way
///   round: a name is kept when both sums can still reach the threshold, it has substance and its country
///   does not differ from the party's (a fuzzy match needs both).
struct List {
    /// Every entry name with tokens, by entry and then as the entry lists its names: a name's position
    /// orders the candidates as the entries and their aliases are listed.
    names: Vec<Name>,
    /// The entry of each name, and its country.
    entry: Vec<u32>,
    country: Vec<Vec<Country>>,
    /// Normalised and compact names to the names that have them.
    exact: FxMap<String, Vec<u32>>,
    /// The distinct tokens of the names of substance (only those match fuzzily).
    toks: Vec<Tok>,
    /// A token to its position in `toks`.
    by_token: FxMap<String, u32>,
    /// The names of substance each token of `toks` occurs in, ascending, once each.
    tok_names: Vec<Vec<u32>>,
    /// The tokens of each name of substance (empty for the others).
    name_toks: Vec<Vec<u32>>,
    /// The token counts of the names of substance.
    counts: Vec<usize>,
    /// Joined runs of adjacent tokens to the names of substance that have them.
    runs: FxMap<String, Vec<u32>>,
    /// Every [`pair_keys`] key of every token with the token, ascending: flat, since two-deletion keys are
    /// many.
    keys: Vec<(u64, u32)>,
    /// Tokens by length, for the long ones that may be three edits or more from a partner, and the letter
    /// counts of each token.
    by_len: Vec<Vec<u32>>,
    counts_of: Vec<LetterCounts>,
    /// The key rule (see [`List::admits`]): every key of a name of substance, numbered, and each name's
    /// keys by number, ascending.
    key_id: FxMap<String, u32>,
    name_keys: Vec<Vec<u32>>,
}

impl List {
    fn new(ds: &Dataset) -> List {
        let mut l = List {
            names: Vec::new(),
            entry: Vec::new(),
            country: Vec::new(),
            exact: FxMap::default(),
            toks: Vec::new(),
            by_token: FxMap::default(),
            tok_names: Vec::new(),
            name_toks: Vec::new(),
            counts: Vec::new(),
            runs: FxMap::default(),
            keys: Vec::new(),
            by_len: Vec::new(),
            counts_of: Vec::new(),
            key_id: FxMap::default(),
            name_keys: Vec::new(),
        };
        for (e, entry) in ds.watchlist.iter().enumerate() {
            for n in names_of_entry(entry) {
                let name = Name::new(n);
                if name.tokens.is_empty() {
                    continue;
                }
                let g = l.names.len() as u32;
                for k in [&name.norm, &name.compact] {
                    let v = l.exact.entry(k.clone()).or_default();
                    if v.last() != Some(&g) {
                        v.push(g);
                    }
                }
                let mut toks = Vec::new();
                let mut keys = Vec::new();
                if name.substantial() {
                    for t in &name.toks {
                        let u = match l.by_token.get(&t.s) {
                            Some(&u) => u,
                            None => {
                                let u = l.toks.len() as u32;
                                l.by_token.insert(t.s.clone(), u);
                                l.toks.push(t.clone());
                                l.tok_names.push(Vec::new());
                                u
                            }
                        };
                        let names = &mut l.tok_names[u as usize];
                        if names.last() != Some(&g) {
                            names.push(g);
                        }
                        toks.push(u);
                    }
                    for r in &name.runs {
                        let v = l.runs.entry(r.clone()).or_default();
                        if v.last() != Some(&g) {
                            v.push(g);
                        }
                    }
                    if !l.counts.contains(&toks.len()) {
                        l.counts.push(toks.len());
                    }
                    for key in name_keys(&name.tokens).into_iter().flatten() {
                        let next = l.key_id.len() as u32;
                        keys.push(*l.key_id.entry(key).or_insert(next));
                    }
                    keys.sort_unstable();
                    keys.dedup();
                }
                l.names.push(name);
                l.entry.push(e as u32);
                l.country.push(entry.countries.clone());
                l.name_toks.push(toks);
                l.name_keys.push(keys);
            }
        }
        let mut keys = Vec::new();
        for (u, t) in l.toks.iter().enumerate() {
            keys.clear();
            pair_keys(t, &mut keys);
            l.keys.extend(keys.iter().map(|&k| (k, u as u32)));
            let len = t.s.len();
            if l.by_len.len() <= len {
                l.by_len.resize(len + 1, Vec::new());
            }
            l.by_len[len].push(u as u32);
            l.counts_of.push(letter_counts(&t.s));
        }
        l.keys.sort_unstable();
        l
    }

    /// The list's tokens that `t` pairs with at [`TOKEN_FLOOR`] or more, with their [`tok_similarity`]
    /// (the party's token first, as [`pair_score`] has it), ascending by token.
    fn neighbours(&self, t: &Tok) -> Vec<(u32, f64)> {
        let mut keys = Vec::new();
        pair_keys(t, &mut keys);
        let mut found: Vec<u32> = Vec::new();
        for &k in &keys {
            let from = self.keys.partition_point(|&(x, _)| x < k);
            found.extend(
                self.keys[from..]
                    .iter()
                    .take_while(|&&(x, _)| x == k)
                    .map(|&(_, u)| u),
            );
        }
        // Past TWO_EDITS_MAX letters a partner may be three edits away or more: every token of a length
        // that can pair is looked at, unless its letters alone are too many edits away.
        let len = t.s.len();
        let mut counts = None;
        for (other, us) in self.by_len.iter().enumerate() {
            let longer = len.max(other);
            if longer > TWO_EDITS_MAX && lengths_can_pair(len, other) {
                let most = max_edits(longer);
                let mine = counts.get_or_insert_with(|| letter_counts(&t.s));
                found.extend(
                    us.iter()
                        .filter(|&&u| edits_at_least(mine, &self.counts_of[u as usize]) <= most),
                );
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter_map(|u| {
                let s = tok_similarity(t, &self.toks[u as usize], true);
                (s >= TOKEN_FLOOR).then_some((u, s))
            })
            .collect()
    }

    /// The key rule the screening has always applied on top of [`compare`]: a name of substance is only
    /// compared fuzzily with the names that share [`token_keys`] with `need` of its units (each token with
    /// its keys, each joined run as it is; `need` is 2 above a threshold of 2/3, else 1). It is kept so that
    /// the hits stay what they were, although it misses pairs [`compare`] accepts whose tokens pair without
    /// sharing such a key (`supply` / `supplying`, `goodwill` / `goodwell`, `0000128` / `0000129`).
    fn admits(&self, units: &[Vec<u32>], g: u32, need: usize) -> bool {
        let Some(keys) = self.name_keys.get(g as usize) else {
            return false;
        };
        let shared = units
            .iter()
            .filter(|unit| unit.iter().any(|k| keys.binary_search(k).is_ok()))
            .count();
        shared >= need
    }

    /// A party name's units for [`List::admits`], by key number (keys no name of the list has dropped).
    fn units(&self, name: &Name) -> Vec<Vec<u32>> {
        name_keys(&name.tokens)
            .into_iter()
            .map(|unit| {
                unit.iter()
                    .filter_map(|k| self.key_id.get(k).copied())
                    .collect()
            })
            .collect()
    }
}

/// What screening one party needs of its own: marks by name (a stamp per party name, so nothing is
/// cleared between names) and the neighbours of the tokens seen so far.
struct Scratch {
    stamp: u32,
    /// The stamp of the last party name that reached a list name.
    seen: Vec<u32>,
    /// The stamp of the last party name whose exact or compact form a list name has.
    exact: Vec<u32>,
    /// A token to its neighbours in `lists`.
    cache: FxMap<String, usize>,
    lists: Vec<Vec<(u32, f64)>>,
}

impl Scratch {
    fn new(names: usize) -> Scratch {
        Scratch {
            stamp: 0,
            seen: vec![0; names],
            exact: vec![0; names],
            cache: FxMap::default(),
            lists: Vec::new(),
        }
    }

    fn next_stamp(&mut self) {
        if self.stamp == u32::MAX {
            self.seen.fill(0);
            self.exact.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
    }

    /// The position in `lists` of the neighbours of `t`, found once per token.
    fn neighbours(&mut self, list: &List, t: &Tok) -> usize {
        if let Some(&i) = self.cache.get(&t.s) {
            return i;
        }
        let i = self.lists.len();
        self.lists.push(list.neighbours(t));
        self.cache.insert(t.s.clone(), i);
        i
    }

    /// The list names a party's name may match (see [`List`]), ascending; those found by the name's exact or
    /// compact form are marked in `exact` with the name's stamp.
    fn candidates(
        &mut self,
        list: &List,
        name: &Name,
        country: Country,
        threshold: f64,
    ) -> Vec<u32> {
        self.next_stamp();
        let stamp = self.stamp;
        let mut out = Vec::new();
        for k in [&name.norm, &name.compact] {
            for &g in list.exact.get(k.as_str()).into_iter().flatten() {
                self.exact[g as usize] = stamp;
                if self.seen[g as usize] != stamp {
                    self.seen[g as usize] = stamp;
                    out.push(g);
                }
            }
        }
        if !name.substantial() {
            return out;
        }
        let joined = name
            .runs
            .iter()
            .filter_map(|r| list.by_token.get(r).map(|&u| &list.tok_names[u as usize]))
            .chain(name.tokens.iter().filter_map(|t| list.runs.get(t)))
            .flatten();
        for &g in joined {
            if self.seen[g as usize] != stamp {
                self.seen[g as usize] = stamp;
                out.push(g);
            }
        }
        let nbrs: Vec<usize> = name.toks.iter().map(|t| self.neighbours(list, t)).collect();
        let m = nbrs.len();
        let Some(k) = list
            .counts
            .iter()
            .filter_map(|&n| pairs_needed(m, n, threshold))
            .min()
        else {
            return out;
        };
        // Some k of the party's tokens pair, so one of any m − k + 1 of them does: those with the fewest
        // names. With k = 0 (a threshold of 0) every name of substance is a candidate.
        let mut order: Vec<(usize, usize)> = nbrs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let names: usize = self.lists[x]
                    .iter()
                    .map(|&(u, _)| list.tok_names[u as usize].len())
                    .sum();
                (names, i)
            })
            .collect();
        order.sort_unstable();
        let reached: Vec<u32> = if k == 0 {
            (0..list.names.len() as u32).collect()
        } else {
            order
                .iter()
                .take(m - k + 1)
                .flat_map(|&(_, i)| self.lists[nbrs[i]].iter())
                .flat_map(|&(u, _)| list.tok_names[u as usize].iter().copied())
                .collect()
        };
        let mut best_party = vec![0.0; m];
        let mut best_entry = Vec::new();
        for g in reached {
            if self.seen[g as usize] == stamp {
                continue;
            }
            self.seen[g as usize] = stamp;
            let entry_toks = &list.name_toks[g as usize];
            let n = entry_toks.len();
            // A fuzzy match needs a name of substance, in no other country.
            let other_country = list
                .country
                .get(g as usize)
                .is_some_and(|cs| !cs.is_empty() && !cs.contains(&country));
            if n == 0 || other_country || pairs_needed(m, n, threshold).is_none() {
                continue;
            }
            best_party.iter_mut().for_each(|b| *b = 0.0);
            best_entry.clear();
            best_entry.resize(n, 0.0);
            for (i, &x) in nbrs.iter().enumerate() {
                let nb = &self.lists[x];
                for (j, &u) in entry_toks.iter().enumerate() {
                    if let Ok(p) = nb.binary_search_by_key(&u, |&(v, _)| v) {
                        let s = nb[p].1;
                        best_party[i] = f64::max(best_party[i], s);
                        best_entry[j] = f64::max(best_entry[j], s);
                    }
                }
            }
            let bound = f64::min(best_party.iter().sum(), best_entry.iter().sum());
            if 2.0 * bound / (m + n) as f64 + BOUND_SLACK >= threshold {
                out.push(g);
            }
        }
        out.sort_unstable();
        out
    }
}

/// The hits of every party (indexed like `Dataset::parties`), best first. Parties are screened in parallel;
/// each party's hits depend on nothing but the party and the list, so the result is the same on any number of
/// threads.
pub fn screen(ds: &Dataset, threshold: f64) -> Vec<Vec<Hit>> {
    let list = List::new(ds);
    let mut ids: HashMap<&str, Vec<(u32, &str)>> = HashMap::new();
    for (i, e) in ds.watchlist.iter().enumerate() {
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
            linked: Vec::new(),
        }
    };
    let group = link_groups(&ds.watchlist);
    // Above 2/3 the key rule asks for two shared units (see `List::admits`).
    let need = if threshold > 2.0 / 3.0 { 2 } else { 1 };
    ds.parties
        .par_iter()
        .with_min_len(64)
        .map_init(
            || Scratch::new(list.names.len()),
            |scratch, p| {
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
                            // The texts name the listed entity: an identifier alone tells a reader nothing.
                            let entry = &ds.watchlist[e as usize];
                            let on_entry = entry
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
                                &format!("identifier {on_entry} of {}", entry.name),
                                format!(
                                    "the party's identifier {id} is the list entry's {on_entry} ({}, {})",
                                    entry.name, entry.id
                                ),
                            ));
                        }
                    }
                }
                for n in names_of_party(p) {
                    let name = Name::new(n);
                    if name.tokens.is_empty() {
                        continue;
                    }
                    // In list order, so that of an entry's names scoring alike the first listed (its primary
                    // name before its aliases) is the one kept, as in the reference scan.
                    let mut cands = scratch.candidates(&list, &name, p.country, threshold);
                    cands.sort_unstable();
                    let mut units: Option<Vec<Vec<u32>>> = None;
                    for g in cands {
                        let (Some(en), Some(&e)) =
                            (list.names.get(g as usize), list.entry.get(g as usize))
                        else {
                            continue;
                        };
                        let entry = &ds.watchlist[e as usize];
                        let Some(m) =
                            compare_entry(&name, Some(p.country), en, &entry.countries, threshold)
                        else {
                            continue;
                        };
                        let by_form = scratch.exact.get(g as usize) == Some(&scratch.stamp);
                        if !by_form {
                            let units = units.get_or_insert_with(|| list.units(&name));
                            if !(name.substantial() && list.admits(units, g, need)) {
                                continue;
                            }
                        }
                        keep(hit(e, m.score, m.exact, n, &en.raw, m.why));
                    }
                }
                merge_linked(ranked(best), &group, &ds.watchlist)
            },
        )
        .collect()
}

/// A party's best hit per entry, in report order: exact hits first, then by score, then by entry.
fn ranked(best: HashMap<u32, Hit>) -> Vec<Hit> {
    let mut v: Vec<Hit> = best.into_values().collect();
    v.sort_by(|a, b| {
        (b.exact, b.score)
            .partial_cmp(&(a.exact, a.score))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.entry.cmp(&b.entry))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15 item 8: which side lacks a country was said the wrong way round; an entry with several
    /// countries agrees with a party in any of them.
    #[test]
    fn country_explanations_and_entries_in_several_countries() {
        let c = |s: &str| Country::parse(s).unwrap();
        let (a, b) = (
            Name::new("Crescent Strand Trading LLC"),
            Name::new("CRESCENT STRAND TRADING L.L.C."),
        );
        let no_entry = compare_entry(&a, Some(c("CN")), &b, &[], T).unwrap();
        assert!(
            no_entry.why.ends_with("; the list entry has no country"),
            "{}",
            no_entry.why
        );
        let no_party = compare_entry(&a, None, &b, &[c("KP")], T).unwrap();
        assert!(
            no_party.why.ends_with("; the party has no country"),
            "{}",
            no_party.why
        );
        let several = [c("CW"), c("SX"), c("BQ")];
        let inside = compare_entry(&a, Some(c("SX")), &b, &several, T).unwrap();
        assert!(
            inside.exact && inside.why.ends_with("same country SX"),
            "{}",
            inside.why
        );
        let outside = compare_entry(&a, Some(c("CN")), &b, &several, T).unwrap();
        assert!(
            !outside.exact
                && outside
                    .why
                    .contains("country is CW;SX;BQ and the party's CN")
        );
        let fuzzy = Name::new("Crescent Strands Trading LLC");
        assert!(compare_entry(&fuzzy, Some(c("CN")), &b, &several, 0.8).is_none());
        assert!(compare_entry(&fuzzy, Some(c("BQ")), &b, &several, 0.8).is_some());
    }

    /// Issue 15 item 8: an identifier hit names the listed entity, not only the identifier.
    #[test]
    fn identifier_hits_name_the_listed_entity() {
        use crate::data::dataset::{Rec, WatchEntry};
        let rec = Rec { file: 0, line: 0 };
        let mut ds = Dataset::default();
        ds.parties.push(Party {
            id: "p".into(),
            name: "Shijiazhuang Bright Optics".into(),
            country: Country(*b"CN"),
            region: None,
            city: None,
            aliases: vec![],
            identifiers: vec!["uscc:91130000FICT0005RB".into()],
            rec,
        });
        ds.watchlist.push(WatchEntry {
            id: "ofac-sdn:90005".into(),
            name: "RAYBEAM OPTRONICS CO. LTD.".into(),
            aliases: vec![],
            countries: vec![Country(*b"CN")],
            program: Some("DPRK3".into()),
            identifiers: vec!["uscc:91130000FICT0005RB".into()],
            source: Some("OFAC SDN".into()),
            rec,
        });
        let hits = screen(&ds, T);
        let h = &hits[0][0];
        assert!(h.exact);
        assert_eq!(
            h.matched,
            "identifier uscc:91130000FICT0005RB of RAYBEAM OPTRONICS CO. LTD."
        );
        assert!(
            h.why
                .contains("(RAYBEAM OPTRONICS CO. LTD., ofac-sdn:90005)"),
            "{}",
            h.why
        );
    }

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
        use crate::data::dataset::{Rec, WatchEntry};
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
            countries: vec![],
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
    use crate::data::settings::Settings;

    const PAIRS: &str = include_str!("../../data/screening_pairs.csv");

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
        use crate::data::dataset::{Rec, WatchEntry};
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
                countries: p.bc.into_iter().collect(),
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
                    let want = compare_entry(
                        &pn,
                        Some(party.country),
                        &entry_names[e],
                        &entry.countries,
                        t,
                    );
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

/// The candidate filter of [`screen`] against comparing every name with every name, on random names.
#[cfg(test)]
mod filter {
    use super::*;
    use crate::data::dataset::{Rec, WatchEntry};
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    /// Words of every length class the filter treats apart: short (no edits count), six to thirteen
    /// letters (one edit), fourteen and more (two edits), with suffix forms, spelling variants, doubled
    /// letters, `y` for `i`, digits, syllables that join, and legal forms that are set aside.
    const VOCAB: &[&str] = &[
        "xu",
        "chang",
        "xuchang",
        "dan",
        "dong",
        "dandong",
        "zhicheng",
        "metallic",
        "material",
        "hair",
        "hairs",
        "product",
        "products",
        "transport",
        "transportation",
        "supply",
        "supplying",
        "copy",
        "copying",
        "ski",
        "skiing",
        "goodwill",
        "bellwood",
        "severnyy",
        "severnyi",
        "mohammed",
        "muhammad",
        "pak",
        "park",
        "ri",
        "lee",
        "kim",
        "koryo",
        "lustre",
        "synthetic",
        "processing",
        "0000128",
        "1234567",
        "telecommunications",
        "pharmaceuticals",
        "electromechanical",
        "verwaltungsgesellschaft",
        "beteiligungsgesellschaften",
        "brightfall",
        "northeast",
        "northwest",
        "sun",
        "moon",
        "abc",
        "trading",
        "co",
        "丹东",
        "志诚",
    ];

    const FORMS: &[&str] = &[
        "",
        "Co., Ltd.",
        "Company Limited",
        "Trading",
        "LLC",
        "有限公司",
    ];

    const LETTERS: &[u8] = b"aeiouyklmnst0129";

    /// One edit: delete, insert, substitute, transpose, double a letter, `i` for `y` or back.
    fn edit(w: &str, op: u8, at: usize, letter: u8) -> String {
        if !w.is_ascii() || w.is_empty() {
            return w.to_string();
        }
        let mut b: Vec<u8> = w.bytes().collect();
        let i = at % b.len();
        match op % 6 {
            0 if b.len() > 1 => {
                b.remove(i);
            }
            1 => b.insert(i, letter),
            2 => b[i] = letter,
            3 if i + 1 < b.len() => b.swap(i, i + 1),
            4 => b.insert(i, b[i]),
            _ => {
                for c in &mut b {
                    *c = match *c {
                        b'y' => b'i',
                        b'i' => b'y',
                        c => c,
                    };
                }
            }
        }
        String::from_utf8(b).unwrap_or_else(|_| w.to_string())
    }

    fn word() -> impl Strategy<Value = String> {
        (
            0..VOCAB.len(),
            prop::collection::vec((any::<u8>(), any::<usize>(), 0..LETTERS.len()), 0..3),
        )
            .prop_map(|(w, edits)| {
                let mut s = VOCAB[w].to_string();
                for (op, at, l) in edits {
                    s = edit(&s, op, at, LETTERS[l]);
                }
                s
            })
    }

    /// How a name is shaped: two words perhaps joined or one split, upper case, a legal form.
    type Shape = (u8, usize, usize, bool);

    fn shape() -> impl Strategy<Value = Shape> {
        (any::<u8>(), any::<usize>(), 0..FORMS.len(), any::<bool>())
    }

    fn shaped(mut ws: Vec<String>, (how, at, form, upper): Shape) -> String {
        match how % 4 {
            0 if ws.len() >= 2 => {
                let i = at % (ws.len() - 1);
                let next = ws.remove(i + 1);
                ws[i].push_str(&next);
            }
            1 if !ws.is_empty() => {
                let i = at % ws.len();
                let w = ws[i].clone();
                if w.is_ascii() && w.len() >= 4 {
                    let cut = 1 + at % (w.len() - 1);
                    ws[i] = format!("{} {}", &w[..cut], &w[cut..]);
                }
            }
            _ => {}
        }
        let mut s = ws.join(" ");
        if upper {
            s = s.to_uppercase();
        }
        if !FORMS[form].is_empty() {
            s = format!("{s} {}", FORMS[form]);
        }
        s
    }

    /// A name drawn afresh, or from one of a few base names (so that near matches are common): some of its
    /// words edited, one perhaps dropped, the words perhaps turned round, then shaped.
    #[derive(Clone, Debug)]
    enum Draw {
        Fresh(Vec<String>, Shape),
        Of {
            base: usize,
            edits: Vec<(usize, u8, usize, usize)>,
            drop: Option<usize>,
            turn: bool,
            shape: Shape,
        },
    }

    fn draw() -> impl Strategy<Value = Draw> {
        prop_oneof![
            1 => (prop::collection::vec(word(), 1..6), shape()).prop_map(|(ws, s)| Draw::Fresh(ws, s)),
            3 => (
                any::<usize>(),
                prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>(), 0..LETTERS.len()), 0..3),
                prop::option::of(any::<usize>()),
                any::<bool>(),
                shape(),
            )
                .prop_map(|(base, edits, drop, turn, shape)| Draw::Of { base, edits, drop, turn, shape }),
        ]
    }

    fn resolve(d: &Draw, bases: &[Vec<String>]) -> String {
        match d {
            Draw::Fresh(ws, s) => shaped(ws.clone(), *s),
            Draw::Of {
                base,
                edits,
                drop,
                turn,
                shape,
            } => {
                let mut ws = bases
                    .get(base % bases.len().max(1))
                    .cloned()
                    .unwrap_or_default();
                if ws.is_empty() {
                    return String::new();
                }
                for &(w, op, at, l) in edits {
                    let i = w % ws.len();
                    ws[i] = edit(&ws[i], op, at, LETTERS[l]);
                }
                if let Some(x) = drop
                    && ws.len() >= 2
                {
                    ws.remove(x % ws.len());
                }
                if *turn {
                    ws.reverse();
                }
                shaped(ws, *shape)
            }
        }
    }

    /// A name of words of the vocabulary, some edited, shaped.
    fn name() -> impl Strategy<Value = String> {
        (prop::collection::vec(word(), 1..6), shape()).prop_map(|(ws, s)| shaped(ws, s))
    }

    const THRESHOLDS: &[f64] = &[
        0.0,
        0.3,
        0.6,
        2.0 / 3.0,
        0.7,
        0.75,
        0.8,
        0.85,
        0.88,
        0.9,
        0.95,
        1.0,
    ];

    const COUNTRIES: &[Option<Country>] = &[None, Some(Country(*b"CN")), Some(Country(*b"KP"))];

    fn dataset(
        parties: &[(String, Vec<String>, usize)],
        entries: &[(String, Vec<String>, usize)],
    ) -> Dataset {
        let rec = Rec { file: 0, line: 0 };
        let mut ds = Dataset::default();
        for (i, (n, aliases, c)) in parties.iter().enumerate() {
            ds.parties.push(Party {
                id: format!("p{i}"),
                name: n.clone(),
                country: COUNTRIES[c % COUNTRIES.len()].unwrap_or(Country(*b"HK")),
                region: None,
                city: None,
                aliases: aliases.clone(),
                identifiers: vec![],
                rec,
            });
        }
        for (i, (n, aliases, c)) in entries.iter().enumerate() {
            ds.watchlist.push(WatchEntry {
                id: format!("e{i}"),
                name: n.clone(),
                aliases: aliases.clone(),
                countries: COUNTRIES[c % COUNTRIES.len()].into_iter().collect(),
                program: None,
                identifiers: vec![],
                source: None,
                rec,
            });
        }
        ds
    }

    /// The screening as it was before the candidate filter: every name of the list compared, and kept when
    /// it has the party name's exact or compact form, or shares [`token_keys`] with `need` of its units.
    fn screen_all_pairs(ds: &Dataset, threshold: f64) -> Vec<Vec<Hit>> {
        let need = if threshold > 2.0 / 3.0 { 2 } else { 1 };
        let entries: Vec<Vec<Name>> = ds
            .watchlist
            .iter()
            .map(|e| {
                names_of_entry(e)
                    .into_iter()
                    .map(Name::new)
                    .filter(|n| !n.tokens.is_empty())
                    .collect()
            })
            .collect();
        ds.parties
            .iter()
            .map(|p| {
                let mut best: HashMap<u32, Hit> = HashMap::new();
                for n in names_of_party(p) {
                    let name = Name::new(n);
                    if name.tokens.is_empty() {
                        continue;
                    }
                    let units = name_keys(&name.tokens);
                    for (e, names) in entries.iter().enumerate() {
                        for en in names {
                            let forms = [&name.norm, &name.compact];
                            let by_form = forms.contains(&&en.norm) || forms.contains(&&en.compact);
                            let keys: Vec<String> =
                                name_keys(&en.tokens).into_iter().flatten().collect();
                            let shared = units
                                .iter()
                                .filter(|u| u.iter().any(|k| keys.contains(k)))
                                .count();
                            let admitted = by_form
                                || (name.substantial() && en.substantial() && shared >= need);
                            let entry = &ds.watchlist[e];
                            let Some(m) = compare_entry(
                                &name,
                                Some(p.country),
                                en,
                                &entry.countries,
                                threshold,
                            ) else {
                                continue;
                            };
                            if !admitted {
                                continue;
                            }
                            let h = Hit {
                                entry: e as u32,
                                entry_id: entry.id.clone(),
                                entry_name: entry.name.clone(),
                                program: None,
                                source: None,
                                score: m.score,
                                exact: m.exact,
                                party_name: n.to_string(),
                                matched: en.raw.clone(),
                                why: m.why,
                                linked: Vec::new(),
                            };
                            if best
                                .get(&h.entry)
                                .is_none_or(|o| (h.exact, h.score) > (o.exact, o.score))
                            {
                                best.insert(h.entry, h);
                            }
                        }
                    }
                }
                ranked(best)
            })
            .collect()
    }

    #[test]
    fn edit_bounds_follow_the_token_floor() {
        let osa = |d: usize, l: usize| 1.0 - d as f64 / l as f64;
        for l in 1..=ONE_EDIT_MIN {
            assert_eq!(max_edits(l), 0, "{l} letters");
            assert!(osa(1, l) < TOKEN_FLOOR, "one edit in {l} letters");
        }
        for l in ONE_EDIT_MIN + 1..=ONE_EDIT_MAX {
            assert_eq!(max_edits(l), 1, "{l} letters");
        }
        for l in ONE_EDIT_MAX + 1..=TWO_EDITS_MAX {
            assert_eq!(max_edits(l), 2, "{l} letters");
        }
        assert_eq!(max_edits(TWO_EDITS_MAX + 1), 3);
        // The bands: the shortest pair with d edits, and the shortest token of it (d letters fewer).
        let first = |d: usize| (1..100).find(|&l| max_edits(l) >= d).unwrap_or(0);
        assert_eq!(ONE_EDIT_MIN, first(1) - 1);
        assert_eq!(ONE_EDIT_MAX, first(2) - 1);
        assert_eq!(TWO_EDITS_MIN, first(2) - 2);
        assert_eq!(TWO_EDITS_MAX, first(3) - 1);
        // A shorter token's partners are at most as many edits away as a longer one's may be.
        assert!((1..=64).all(|l| max_edits(l) <= max_edits(l + 1)));
    }

    #[test]
    fn letter_counts_bound_the_edit_distance() {
        for (a, b) in [
            ("telecommunications", "telecomunicatoins"),
            ("verwaltungsgesellschaft", "verwaltungsgeselschaft"),
            ("abcdefghijklmnopqrstu", "bacdefghijklmnopqrsut"),
            ("0000128", "1000129"),
        ] {
            let d = strsim::osa_distance(a, b);
            assert!(
                edits_at_least(&letter_counts(a), &letter_counts(b)) <= d,
                "{a} / {b}"
            );
        }
    }

    /// Pairs that `compare` accepts and the key rule keeps out: the hits stay what they were; a change of
    /// the rule would change them (and this test).
    #[test]
    fn the_key_rule_still_keeps_out_what_it_kept_out() {
        for (a, b) in [
            ("Supply Chain", "Supplying Chain"),
            ("Goodwill Partners", "Goodwell Partners"),
            ("Koryo 0000128", "Koryo 0000129"),
        ] {
            assert!(
                compare(&Name::new(a), None, &Name::new(b), None, 0.9).is_some(),
                "{a} / {b}"
            );
            let ds = dataset(&[(a.into(), vec![], 0)], &[(b.into(), vec![], 0)]);
            assert_eq!(screen(&ds, 0.9), vec![vec![]], "{a} / {b}");
            assert_eq!(screen_all_pairs(&ds, 0.9), vec![vec![]], "{a} / {b}");
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

        /// Every token of the list that a token pairs with at the floor is among its neighbours, with its
        /// similarity, and nothing else is.
        #[test]
        fn neighbours_are_every_token_that_pairs(
            list in prop::collection::vec(name(), 1..30),
            probes in prop::collection::vec(word(), 1..20),
        ) {
            let entries: Vec<(String, Vec<String>, usize)> = list.into_iter().map(|n| (n, vec![], 0)).collect();
            let ds = dataset(&[], &entries);
            let l = List::new(&ds);
            for w in probes.iter().flat_map(|p| tokens(p)) {
                let t = Tok::new(&w);
                let want: Vec<(u32, f64)> = l
                    .toks
                    .iter()
                    .enumerate()
                    .filter_map(|(u, y)| {
                        let s = tok_similarity(&t, y, true);
                        (s >= TOKEN_FLOOR).then_some((u as u32, s))
                    })
                    .collect();
                prop_assert_eq!(l.neighbours(&t), want, "token {}", w);
            }
        }

        /// The candidates of a party's name hold every list name `compare` accepts, and the hits are those of
        /// comparing every name with every name.
        #[test]
        fn the_filter_loses_nothing_compare_accepts(
            bases in prop::collection::vec(prop::collection::vec(word(), 1..5), 1..4),
            parties in prop::collection::vec((draw(), prop::collection::vec(draw(), 0..2), 0..3usize), 1..8),
            entries in prop::collection::vec((draw(), prop::collection::vec(draw(), 0..3), 0..3usize), 1..25),
            t in 0..THRESHOLDS.len(),
        ) {
            let names = |xs: &[(Draw, Vec<Draw>, usize)]| -> Vec<(String, Vec<String>, usize)> {
                xs.iter()
                    .map(|(n, aliases, c)| {
                        (resolve(n, &bases), aliases.iter().map(|a| resolve(a, &bases)).collect(), *c)
                    })
                    .collect()
            };
            let (parties, entries) = (names(&parties), names(&entries));
            let threshold = THRESHOLDS[t];
            let ds = dataset(&parties, &entries);
            let list = List::new(&ds);
            let mut scratch = Scratch::new(list.names.len());
            for p in &ds.parties {
                for n in names_of_party(p) {
                    let name = Name::new(n);
                    if name.tokens.is_empty() {
                        continue;
                    }
                    let cands = scratch.candidates(&list, &name, p.country, threshold);
                    for (g, en) in list.names.iter().enumerate() {
                        let cs = &ds.watchlist[list.entry[g] as usize].countries;
                        if compare_entry(&name, Some(p.country), en, cs, threshold).is_some() {
                            prop_assert!(
                                cands.contains(&(g as u32)),
                                "threshold {}: '{}' / '{}' not a candidate", threshold, n, en.raw
                            );
                        }
                    }
                }
            }
            prop_assert_eq!(screen(&ds, threshold), screen_all_pairs(&ds, threshold));
        }
    }
}
