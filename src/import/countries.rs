//! Country codes of the other sources: UN Comtrade's numeric codes (ISO 3166-1 numeric / M49 with Comtrade's
//! own codes for a few reporters) and the country names that sanctions lists write out in full.

use crate::data::codes::Country;

/// Comtrade codes that differ from ISO 3166-1 numeric: the reporting areas that include a neighbour.
const COMTRADE_OWN: &[(u16, &str, &str)] = &[
    (842, "US", "USA (incl. Puerto Rico and US Virgin Islands)"),
    (251, "FR", "France (incl. Monaco)"),
    (381, "IT", "Italy (incl. San Marino and Holy See)"),
    (579, "NO", "Norway (incl. Svalbard and Jan Mayen)"),
    (699, "IN", "India"),
    (757, "CH", "Switzerland (incl. Liechtenstein)"),
];

/// Comtrade codes that are not one country: totals, regional remainders, special categories, and former
/// countries whose ISO codes were withdrawn.
const COMTRADE_NOT_A_COUNTRY: &[(u16, &str)] = &[
    (0, "World"),
    (58, "Belgium-Luxembourg (former)"),
    (97, "EU-27/EU-28"),
    (200, "Czechoslovakia (former)"),
    (230, "Ethiopia (former, incl. Eritrea)"),
    (278, "German Democratic Republic (former)"),
    (280, "Federal Republic of Germany (former)"),
    (290, "Northern Africa, nes"),
    (472, "Africa CAMEU region, nes"),
    (473, "LAIA, nes"),
    (
        490,
        "Other Asia, nes (in practice mostly Taiwan; not mapped)",
    ),
    (492, "Europe EU, nes"),
    (527, "Oceania, nes"),
    (530, "Netherlands Antilles (former)"),
    (532, "Netherlands Antilles and Aruba (former)"),
    (536, "Neutral Zone"),
    (568, "Other Europe, nes"),
    (577, "Other Africa, nes"),
    (588, "Panama-Canal-Zone (former)"),
    (636, "Rest of America, nes"),
    (637, "North America and Central America, nes"),
    (697, "Europe EFTA, nes"),
    (711, "Southern African Customs Union (former)"),
    (720, "Democratic Yemen (former)"),
    (736, "Sudan (former, incl. South Sudan)"),
    (810, "USSR (former)"),
    (837, "Bunkers"),
    (838, "Free Zones"),
    (839, "Special Categories"),
    (849, "US Misc. Pacific Islands"),
    (866, "Viet Nam (former)"),
    (868, "Yemen Arab Republic (former)"),
    (879, "Western Asia, nes"),
    (886, "Arab Republic of Yemen (former)"),
    (890, "Yugoslavia (former)"),
    (891, "Serbia and Montenegro (former)"),
    (899, "Areas, nes"),
];

/// The alpha-2 code of a Comtrade reporter or partner code, or why there is none.
pub fn comtrade(code: &str) -> Result<Country, String> {
    let t = code.trim();
    let n: u16 = t
        .parse()
        .map_err(|_| format!("'{code}' is not a numeric Comtrade country code"))?;
    if let Some((_, a2, _)) = COMTRADE_OWN.iter().find(|c| c.0 == n) {
        return Country::parse(a2);
    }
    if let Some((_, name)) = COMTRADE_NOT_A_COUNTRY.iter().find(|c| c.0 == n) {
        return Err(format!("Comtrade code {n} is '{name}', not one country"));
    }
    match rust_iso3166::from_numeric(n) {
        Some(c) => Country::parse(c.alpha2),
        None => Err(format!(
            "unknown Comtrade country code {n} (not ISO 3166-1 numeric nor a Comtrade reporter code)"
        )),
    }
}

/// Names as the OFAC and Consolidated Screening List files write them, where ISO's short name differs.
const NAMES: &[(&str, &str)] = &[
    ("korea north", "KP"),
    ("north korea", "KP"),
    ("dprk", "KP"),
    ("democratic people s republic of korea", "KP"),
    ("korea democratic people s republic of", "KP"),
    ("korea south", "KR"),
    ("south korea", "KR"),
    ("republic of korea", "KR"),
    ("korea republic of", "KR"),
    ("burma", "MM"),
    ("russia", "RU"),
    ("iran", "IR"),
    ("syria", "SY"),
    ("venezuela", "VE"),
    ("bolivia", "BO"),
    ("tanzania", "TZ"),
    ("vietnam", "VN"),
    ("viet nam", "VN"),
    ("laos", "LA"),
    ("moldova", "MD"),
    ("macau", "MO"),
    ("macao", "MO"),
    ("hong kong", "HK"),
    ("taiwan", "TW"),
    ("china", "CN"),
    ("people s republic of china", "CN"),
    ("congo democratic republic of the", "CD"),
    ("democratic republic of the congo", "CD"),
    ("congo republic of the", "CG"),
    ("republic of the congo", "CG"),
    ("cote d ivoire", "CI"),
    ("ivory coast", "CI"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("great britain", "GB"),
    ("united states", "US"),
    ("usa", "US"),
    ("united states of america", "US"),
    ("turkey", "TR"),
    ("turkiye", "TR"),
    ("netherlands", "NL"),
    ("brunei", "BN"),
    ("cape verde", "CV"),
    ("cabo verde", "CV"),
    ("micronesia federated states of", "FM"),
    ("micronesia", "FM"),
    ("west bank", "PS"),
    ("gaza", "PS"),
    ("palestinian territories", "PS"),
    ("palestine", "PS"),
    ("swaziland", "SZ"),
    ("eswatini", "SZ"),
    ("macedonia", "MK"),
    ("north macedonia", "MK"),
    ("the former yugoslav republic of macedonia", "MK"),
    ("bahamas the", "BS"),
    ("the bahamas", "BS"),
    ("gambia the", "GM"),
    ("the gambia", "GM"),
    ("east timor", "TL"),
    ("curacao", "CW"),
    ("sint maarten", "SX"),
    ("holy see", "VA"),
    ("vatican city", "VA"),
    ("reunion", "RE"),
    ("saint martin", "MF"),
    ("st kitts and nevis", "KN"),
    ("st lucia", "LC"),
    ("st vincent and the grenadines", "VC"),
    ("falkland islands", "FK"),
    ("virgin islands british", "VG"),
    ("british virgin islands", "VG"),
    ("virgin islands u s", "VI"),
    ("united arab emirates", "AE"),
    ("uae", "AE"),
    // OFAC's add.csv vocabulary (seen in the 2021–2026 files).
    ("palestinian", "PS"),
    ("man isle of", "IM"),
    ("north macedonia the republic of", "MK"),
];

/// Former countries split into several whose ISO 3166-1 codes all replace the one withdrawn (ISO 3166-3).
/// Netherlands Antilles (`ANHH`, withdrawn 2010) became Curaçao, Sint Maarten and Bonaire, Sint Eustatius
/// and Saba: an address there could be in any of them, so the entry gets all three.
const SPLIT: &[(&str, &[&str])] = &[("netherlands antilles", &["CW", "SX", "BQ"])];

/// OFAC's `Region: X` countries: the ISO country that holds the region, where that is not in dispute
/// between two listed countries. Crimea is Ukraine's (UN General Assembly resolution 68/262, and OFAC's own
/// "Crimea region of Ukraine"); Kafia Kingi is claimed by both Sudan and South Sudan, and the Commonwealth
/// of Independent States is a group of countries: those give no country.
const REGIONS: &[(&str, Option<&str>)] = &[
    ("gaza", Some("PS")),
    ("west bank", Some("PS")),
    ("crimea", Some("UA")),
    ("northern mali", Some("ML")),
    ("kafia kingi", None),
    ("commonwealth of independent states", None),
];

/// Names that are real places without an ISO 3166-1 code (accepted, but they give no country).
const NO_CODE: &[&str] = &[
    "kosovo",
    "undetermined",
    "region",
    "international",
    "unknown",
];

fn name_key(s: &str) -> String {
    deunicode::deunicode(s)
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a country name written out in full stands for.
#[derive(Debug, PartialEq)]
pub enum Named {
    Country(Country),
    /// A former country whose territory is now several (Netherlands Antilles).
    Several(Vec<Country>),
    /// A real place or a placeholder with no ISO 3166-1 code (Kosovo, "undetermined", a disputed region).
    NoCode,
}

impl Named {
    /// The countries named, none for [`Named::NoCode`].
    pub fn countries(self) -> Vec<Country> {
        match self {
            Named::Country(c) => vec![c],
            Named::Several(v) => v,
            Named::NoCode => Vec::new(),
        }
    }
}

/// Looks a country name up: the sanctions lists' own spellings, then ISO's short names (with and without
/// their parenthesised part), then alpha-2 and alpha-3 codes.
pub fn by_name(name: &str) -> Result<Named, String> {
    let k = name_key(name);
    if k.is_empty() {
        return Err("empty country name".into());
    }
    if let Some(region) = k.strip_prefix("region ") {
        return match REGIONS.iter().find(|(r, _)| *r == region) {
            Some((_, Some(a2))) => Country::parse(a2).map(Named::Country),
            Some((_, None)) => Ok(Named::NoCode),
            None => Err(format!(
                "unknown region '{name}' (no country is known to hold it)"
            )),
        };
    }
    if NO_CODE.contains(&k.as_str()) {
        return Ok(Named::NoCode);
    }
    if let Some((_, codes)) = SPLIT.iter().find(|(n, _)| *n == k) {
        return codes
            .iter()
            .map(|c| Country::parse(c))
            .collect::<Result<Vec<_>, _>>()
            .map(Named::Several);
    }
    if let Some((_, a2)) = NAMES.iter().find(|(n, _)| *n == k) {
        return Country::parse(a2).map(Named::Country);
    }
    for (i, iso_name) in rust_iso3166::ALL_NAME.iter().enumerate() {
        let full = name_key(iso_name);
        let short = name_key(iso_name.split('(').next().unwrap_or(iso_name));
        if full == k || short == k {
            return Country::parse(rust_iso3166::ALL_ALPHA2[i]).map(Named::Country);
        }
    }
    let t = name.trim();
    if t.len() == 2
        && let Ok(c) = Country::parse(t)
    {
        return Ok(Named::Country(c));
    }
    if t.len() == 3
        && let Some(c) = rust_iso3166::from_alpha3(&t.to_ascii_uppercase())
    {
        return Country::parse(c.alpha2).map(Named::Country);
    }
    Err(format!("unknown country name '{name}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Country {
        Country::parse(s).unwrap()
    }

    #[test]
    fn comtrade_codes() {
        assert_eq!(comtrade("842"), Ok(c("US")));
        assert_eq!(comtrade("156"), Ok(c("CN")));
        assert_eq!(comtrade("408"), Ok(c("KP")));
        assert_eq!(comtrade("410"), Ok(c("KR")));
        assert_eq!(comtrade("344"), Ok(c("HK")));
        assert_eq!(comtrade("251"), Ok(c("FR")));
        assert_eq!(comtrade("699"), Ok(c("IN")));
        assert_eq!(comtrade("4"), Ok(c("AF")));
        assert!(comtrade("0").unwrap_err().contains("World"));
        assert!(comtrade("490").unwrap_err().contains("not one country"));
        assert!(comtrade("12345").is_err());
    }

    #[test]
    fn list_country_names() {
        assert_eq!(by_name("Korea, North"), Ok(Named::Country(c("KP"))));
        assert_eq!(by_name("China"), Ok(Named::Country(c("CN"))));
        assert_eq!(by_name("Burma"), Ok(Named::Country(c("MM"))));
        assert_eq!(by_name("Russia"), Ok(Named::Country(c("RU"))));
        assert_eq!(by_name("Germany"), Ok(Named::Country(c("DE"))));
        assert_eq!(by_name("Iran"), Ok(Named::Country(c("IR"))));
        assert_eq!(by_name("Côte d'Ivoire"), Ok(Named::Country(c("CI"))));
        assert_eq!(by_name("Kosovo"), Ok(Named::NoCode));
        assert_eq!(by_name("KP"), Ok(Named::Country(c("KP"))));
        assert!(by_name("Atlantis").is_err());
    }

    /// Issue 15 item 1: every name a genuine OFAC add.csv uses.
    #[test]
    fn ofac_vocabulary() {
        for (name, want) in [
            ("Palestinian", "PS"),
            ("Region: Gaza", "PS"),
            ("Region: West Bank", "PS"),
            ("Region: Crimea", "UA"),
            ("Region: Northern Mali", "ML"),
            ("Man, Isle of", "IM"),
            ("North Macedonia, The Republic of", "MK"),
        ] {
            assert_eq!(by_name(name), Ok(Named::Country(c(want))), "{name}");
        }
        assert_eq!(
            by_name("Netherlands Antilles"),
            Ok(Named::Several(vec![c("CW"), c("SX"), c("BQ")]))
        );
        assert_eq!(by_name("Region: Kafia Kingi"), Ok(Named::NoCode));
        assert_eq!(
            by_name("Region: Commonwealth of Independent States"),
            Ok(Named::NoCode)
        );
        assert!(by_name("Region: Atlantis").unwrap_err().contains("region"));
    }
}
