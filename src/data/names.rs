//! Name normalisation and similarity: what makes two spellings of a company's name the same name.
//!
//! A name is normalised (NFKC, lower case, CJK legal forms removed, CJK and Cyrillic transliterated by
//! `deunicode`, punctuation and dotted initials folded, legal forms and filler words such as `Co.`, `Ltd.`,
//! `Company Limited`, `Inc.`, `Trading` set aside) into tokens. Two token lists are then scored: tokens pair
//! up in any order; syllables written apart on one side (`Xu Chang`, `Dan Dong` from `丹东`) join to meet a
//! word on the other; known spelling variants of names (`Pak` / `Park`) pair; other tokens pair on a
//! typo-tolerant string similarity. Watchlist screening ([`crate::engine::screening`]) and the importers'
//! entity resolution ([`crate::import::entity`]) both build on it, so it sits in the data layer below them.

use unicode_normalization::UnicodeNormalization;
/// Legal-form and filler words that say nothing about who a company is.
pub(crate) const LEGAL_FORMS: &[&str] = &[
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
pub(crate) const CJK_FORMS: &[&str] = &[
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
pub(crate) const ABBREVIATIONS: &[(&str, &str)] = &[
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
pub(crate) const FORM_SPELLINGS: &[(&str, &str)] = &[
    ("company", "co"),
    ("limited", "ltd"),
    ("incorporated", "inc"),
    ("corporation", "corp"),
    ("international", "intl"),
    ("&", "and"),
];

/// Multi-word legal forms, folded to their abbreviation before the words are set aside.
pub(crate) const PHRASES: &[(&[&str], &str)] = &[
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
pub(crate) const VARIANTS: &[&[&str]] = &[
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
pub(crate) const CYRILLIC: &[(char, &str)] = &[
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

pub(crate) fn variant_class(t: &str) -> Option<usize> {
    VARIANTS.iter().position(|v| v.contains(&t))
}

/// The ASCII words of a name: NFKC, lower case, (optionally) CJK legal forms removed, transliterated,
/// apostrophes dropped, dotted initials (`L.L.C.`) joined, `co-op` read as one word.
pub(crate) fn words(name: &str, strip_cjk_forms: bool) -> Vec<String> {
    // NFKC leaves ASCII as it is, and no CJK legal form is ASCII: most names skip both.
    let mut s: String = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        name.nfkc().collect::<String>().to_lowercase()
    };
    if strip_cjk_forms && !s.is_ascii() {
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
    tokens_of(words(name, true))
}

/// [`tokens`] from the words of a name.
pub(crate) fn tokens_of(words: Vec<String>) -> Vec<String> {
    words
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

/// Every word of a name (its [`words`] with the CJK legal forms kept) with the legal forms' spellings
/// unified (`Company Limited` = `Co., Ltd.`), for the strict comparison of names of little substance.
pub(crate) fn form_of(words: Vec<String>) -> String {
    words
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
    pub(crate) form: String,
    pub(crate) toks: Vec<Tok>,
    /// Runs of 2–4 adjacent tokens joined.
    pub(crate) runs: Vec<String>,
}

impl Name {
    pub fn new(raw: &str) -> Name {
        let stripped = words(raw, true);
        // An ASCII name has no CJK legal form to strip: its words are read once.
        let whole = if raw.is_ascii() {
            stripped.clone()
        } else {
            words(raw, false)
        };
        let tokens = tokens_of(stripped);
        Name {
            raw: raw.to_string(),
            norm: tokens.join(" "),
            compact: tokens.concat(),
            form: form_of(whole),
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
pub(crate) const SUFFIXES: &[&str] = &[
    "s", "es", "ation", "ations", "ing", "al", "ical", "ic", "ics",
];

/// A token with `y` read as `i` and doubled letters single, so that romanisations agree (`severnyy`,
/// `severnyi`, `severny`; `mohammed`, `mohamed`).
pub(crate) fn fold(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.chars().map(|c| if c == 'y' { 'i' } else { c }) {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// A token with what its comparisons need, computed once.
#[derive(Clone, Debug)]
pub(crate) struct Tok {
    pub(crate) s: String,
    pub(crate) fold: String,
    pub(crate) variant: Option<usize>,
}

impl Tok {
    pub(crate) fn new(s: &str) -> Tok {
        Tok {
            s: s.to_string(),
            fold: fold(s),
            variant: variant_class(s),
        }
    }
}

/// Similarity of two tokens in 0..1: equal 1, another form of the same word (a plural, `-ation`) or a
/// spelling variant of a personal name 0.95, the same once romanisation is folded 0.93, short tokens (three
/// letters or fewer) nothing otherwise, else the lower of Jaro-Winkler and the optimal-string-alignment
/// similarity (edit distance over the longer length), so that one typo in a long word scores high while a
/// shared prefix alone (`northeast` / `northwest`, `weidong` / `weiguo`) does not.
///
/// With `cut`, pairs that cannot reach [`TOKEN_FLOOR`] (their lengths alone say so) score 0 without
/// computing the string distances.
pub(crate) fn tok_similarity(x: &Tok, y: &Tok, cut: bool) -> f64 {
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
pub(crate) const TOKEN_FLOOR: f64 = 0.85;

/// Joins runs of 2–4 adjacent tokens of `x` whose concatenation is a token of `other` (`xu chang` meets
/// `xuchang`).
pub(crate) fn merge_against(x: &[String], other: &[String]) -> Vec<String> {
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
/// [`tok_similarity`] summed and divided by the mean token count, so extra words on either side lower the
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
pub(crate) fn pair_score(a: &[Tok], b: &[Tok]) -> f64 {
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
pub(crate) fn joins(a: &Name, b: &Name) -> bool {
    a.runs.iter().any(|r| b.tokens.contains(r)) || b.runs.iter().any(|r| a.tokens.contains(r))
}

/// The runs of 2–4 adjacent tokens of a name joined (`xu chang` → `xuchang`), as [`similarity`] joins them
/// to meet a token of the other name.
pub(crate) fn joined_runs(tokens: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for k in 2..=4 {
        for w in tokens.windows(k) {
            out.push(w.concat());
        }
    }
    out
}
