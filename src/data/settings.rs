//! Settings of the model (`origintrace.toml`). The defaults are the file `data/origintrace.toml`, compiled
//! in; a dataset's own `origintrace.toml` or `--config FILE` overrides them key by key.

use crate::data::codes::{Country, Hs, Region};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// The default settings file, compiled into the binary.
/// How many route patterns a run may define: the engine's marks keep four bits per pattern in one `u64`.
pub const MAX_PATTERNS: usize = 16;

pub const DEFAULT_TOML: &str = include_str!("../../data/origintrace.toml");

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    Value {
        file: String,
        key: String,
        message: String,
    },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Severity {
    pub medium: f64,
    pub high: f64,
}

/// A named route pattern (SPEC §3, flag `pattern:<name>`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Pattern {
    pub name: String,
    pub origins: Vec<Country>,
    pub via_regions: Vec<Region>,
    pub hs: Vec<Hs>,
    pub destinations: Vec<Country>,
}

/// Settings in force for a run. Every field is part of the run metadata, so a report can be reproduced.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    pub sanctioned_origins: Vec<Country>,
    pub transit_partners: Vec<Country>,
    pub lag_days: i32,
    /// How far back a firm's own trade with a party in a sanctioned country is flagged (SPEC §3 v2).
    pub counterparty_days: i32,
    pub severity: Severity,
    /// Output heading -> input HS prefixes (the heading itself is always relevant too).
    pub hs_inputs: BTreeMap<Hs, Vec<Hs>>,
    /// Expected input value per unit of output value, per heading (default 1.0).
    pub input_ratio: BTreeMap<Hs, f64>,
    pub patterns: Vec<Pattern>,
    /// Score (0..1) at or above which a fuzzy watchlist hit is reported.
    pub match_threshold: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeverity {
    medium: Option<f64>,
    high: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    name: String,
    #[serde(default)]
    origins: Vec<String>,
    #[serde(default)]
    via_regions: Vec<String>,
    #[serde(default)]
    hs: Vec<String>,
    #[serde(default)]
    destinations: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    sanctioned_origins: Option<Vec<String>>,
    transit_partners: Option<Vec<String>>,
    lag_days: Option<i64>,
    counterparty_days: Option<i64>,
    severity: Option<RawSeverity>,
    hs_inputs: Option<BTreeMap<String, Vec<String>>>,
    input_ratio: Option<BTreeMap<String, f64>>,
    patterns: Option<Vec<RawPattern>>,
    match_threshold: Option<f64>,
}

impl Settings {
    /// The model's built-in values, used under the compiled-in file.
    fn base() -> Settings {
        Settings {
            sanctioned_origins: vec![Country(*b"KP")],
            transit_partners: vec![Country(*b"HK"), Country(*b"MO")],
            lag_days: 180,
            counterparty_days: 730,
            severity: Severity {
                medium: 0.01,
                high: 0.10,
            },
            hs_inputs: BTreeMap::new(),
            input_ratio: BTreeMap::new(),
            patterns: vec![],
            match_threshold: 0.90,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        // The compiled-in file is covered by a test below, so the fallback is never taken in a released
        // binary; it exists so that a broken build degrades to the SPEC's base values instead of panicking.
        Settings::base()
            .overlay_str(DEFAULT_TOML, "data/origintrace.toml")
            .unwrap_or_else(|_| Settings::base())
    }
}

fn heading_key(file: &str, key: &str, s: &str) -> Result<Hs, SettingsError> {
    let hs = Hs::parse(s).map_err(|m| SettingsError::Value {
        file: file.into(),
        key: key.into(),
        message: m,
    })?;
    if hs.len != 4 {
        return Err(SettingsError::Value {
            file: file.into(),
            key: key.into(),
            message: format!("'{s}' is not a 4-digit HS heading"),
        });
    }
    Ok(hs)
}

fn list<T>(
    file: &str,
    key: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, SettingsError> {
    items
        .iter()
        .map(|s| {
            parse(s).map_err(|m| SettingsError::Value {
                file: file.into(),
                key: key.into(),
                message: m,
            })
        })
        .collect()
}

impl Settings {
    /// Reads a settings file and lays it over `self`.
    pub fn overlay_file(&self, path: &Path) -> Result<Settings, SettingsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            file: file.clone(),
            source,
        })?;
        self.overlay_str(&text, &file)
    }

    /// Lays the settings in `text` over `self`: scalar keys replace, `hs_inputs` and `input_ratio` merge by
    /// heading, `patterns` replaces the whole list.
    pub fn overlay_str(&self, text: &str, file: &str) -> Result<Settings, SettingsError> {
        let raw: RawSettings = toml::from_str(text).map_err(|e| SettingsError::Parse {
            file: file.into(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let mut s = self.clone();
        if let Some(v) = raw.sanctioned_origins {
            s.sanctioned_origins = list(file, "sanctioned_origins", &v, Country::parse)?;
        }
        if let Some(v) = raw.transit_partners {
            s.transit_partners = list(file, "transit_partners", &v, Country::parse)?;
        }
        if let Some(v) = raw.lag_days {
            s.lag_days = days(file, "lag_days", v)?;
        }
        if let Some(v) = raw.counterparty_days {
            s.counterparty_days = days(file, "counterparty_days", v)?;
        }
        if let Some(sev) = raw.severity {
            if let Some(m) = sev.medium {
                s.severity.medium = m;
            }
            if let Some(h) = sev.high {
                s.severity.high = h;
            }
            let ok = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
            if !ok(s.severity.medium) || !ok(s.severity.high) || s.severity.medium > s.severity.high
            {
                return Err(SettingsError::Value {
                    file: file.into(),
                    key: "severity".into(),
                    message: "medium and high must be shares in 0..1 with medium <= high".into(),
                });
            }
        }
        if let Some(map) = raw.hs_inputs {
            for (k, v) in map {
                let key = heading_key(file, "hs_inputs", &k)?;
                s.hs_inputs
                    .insert(key, list(file, &format!("hs_inputs.{k}"), &v, Hs::parse)?);
            }
        }
        if let Some(map) = raw.input_ratio {
            for (k, v) in map {
                let key = heading_key(file, "input_ratio", &k)?;
                if !v.is_finite() || v < 0.0 {
                    return Err(SettingsError::Value {
                        file: file.into(),
                        key: format!("input_ratio.{k}"),
                        message: format!("{v} is not a ratio >= 0"),
                    });
                }
                s.input_ratio.insert(key, v);
            }
        }
        if let Some(ps) = raw.patterns {
            let mut out = Vec::new();
            for p in ps {
                if let Err(message) = check_pattern_name(&p.name) {
                    return Err(SettingsError::Value {
                        file: file.into(),
                        key: "patterns".into(),
                        message,
                    });
                }
                let key = format!("patterns.{}", p.name);
                out.push(Pattern {
                    name: p.name,
                    origins: list(file, &key, &p.origins, Country::parse)?,
                    via_regions: list(file, &key, &p.via_regions, Region::parse)?,
                    hs: list(file, &key, &p.hs, Hs::parse)?,
                    destinations: list(file, &key, &p.destinations, Country::parse)?,
                });
            }
            if out.len() > MAX_PATTERNS {
                return Err(SettingsError::Value {
                    file: file.into(),
                    key: "patterns".into(),
                    message: format!(
                        "{} patterns; at most {} are supported",
                        out.len(),
                        MAX_PATTERNS
                    ),
                });
            }
            s.patterns = out;
        }
        if let Some(t) = raw.match_threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(SettingsError::Value {
                    file: file.into(),
                    key: "match_threshold".into(),
                    message: format!("{t} is outside 0..1"),
                });
            }
            s.match_threshold = t;
        }
        Ok(s)
    }

    /// Whether every value is one a settings file could have set: what a snapshot brings is checked
    /// like a file, since a matching checksum says nothing about the values.
    pub fn check(&self) -> Result<(), String> {
        let share = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        let days = |d: i32| (0..=36_500).contains(&d);
        if !days(self.lag_days) || !days(self.counterparty_days) {
            return Err("a number of days outside 0..36500".into());
        }
        if !share(self.severity.medium)
            || !share(self.severity.high)
            || self.severity.medium > self.severity.high
            || !share(self.match_threshold)
        {
            return Err("a threshold outside 0..1".into());
        }
        if self
            .input_ratio
            .values()
            .any(|v| !v.is_finite() || *v < 0.0)
        {
            return Err("an input ratio that is not >= 0".into());
        }
        if self.patterns.len() > MAX_PATTERNS {
            return Err("too many patterns".into());
        }
        self.patterns
            .iter()
            .try_for_each(|p| check_pattern_name(&p.name))
    }

    /// The top-level keys whose values differ between `self` and `other`.
    pub fn differing_keys(&self, other: &Settings) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut key = |k: &'static str, same: bool| {
            if !same {
                v.push(k);
            }
        };
        key(
            "sanctioned_origins",
            self.sanctioned_origins == other.sanctioned_origins,
        );
        key(
            "transit_partners",
            self.transit_partners == other.transit_partners,
        );
        key("lag_days", self.lag_days == other.lag_days);
        key(
            "counterparty_days",
            self.counterparty_days == other.counterparty_days,
        );
        key("severity", self.severity == other.severity);
        key("hs_inputs", self.hs_inputs == other.hs_inputs);
        key("input_ratio", self.input_ratio == other.input_ratio);
        key("patterns", self.patterns == other.patterns);
        key(
            "match_threshold",
            self.match_threshold == other.match_threshold,
        );
        v
    }

    /// The settings in force on one line, for stderr and `check`: the keys that decide a result.
    pub fn summary(&self) -> String {
        let join = |v: &[Country]| {
            v.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let names: Vec<&str> = self.patterns.iter().map(|p| p.name.as_str()).collect();
        format!(
            "sanctioned_origins={} transit_partners={} lag_days={} counterparty_days={} severity={}/{} match_threshold={} hs_inputs={} input_ratio={} patterns={}",
            join(&self.sanctioned_origins),
            join(&self.transit_partners),
            self.lag_days,
            self.counterparty_days,
            self.severity.medium,
            self.severity.high,
            self.match_threshold,
            self.hs_inputs.len(),
            self.input_ratio.len(),
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join(",")
            },
        )
    }

    pub fn is_sanctioned(&self, c: Country) -> bool {
        self.sanctioned_origins.contains(&c)
    }

    pub fn is_transit(&self, c: Country) -> bool {
        self.transit_partners.contains(&c)
    }

    /// The HS prefixes whose codes are relevant inputs of heading `o` (SPEC §3), `o` itself included.
    pub fn input_prefixes(&self, o: Hs) -> Vec<Hs> {
        let mut v = vec![o];
        if let Some(extra) = self.hs_inputs.get(&o) {
            for p in extra {
                if !v.contains(p) {
                    v.push(*p);
                }
            }
        }
        v
    }

    pub fn ratio(&self, o: Hs) -> f64 {
        self.input_ratio.get(&o).copied().unwrap_or(1.0)
    }
}

/// A number of days in 0..=36500 (a century), the range of every day-count setting.
pub fn days(file: &str, key: &str, v: i64) -> Result<i32, SettingsError> {
    if (0..=36_500).contains(&v) {
        Ok(v as i32)
    } else {
        Err(SettingsError::Value {
            file: file.into(),
            key: key.into(),
            message: format!("{v} is outside 0..36500"),
        })
    }
}

/// A pattern name is `[a-z0-9-]+` (SPEC §3): it becomes the flag token `pattern:<name>` in every output,
/// so a `;`, `:` or space in it could forge or split a flag.
fn check_pattern_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "pattern name {name:?} is not made of a-z, 0-9 and '-' only"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_defaults_parse() {
        let s = Settings::default()
            .overlay_str(DEFAULT_TOML, "defaults")
            .unwrap();
        assert_eq!(s.sanctioned_origins, vec![Country(*b"KP")]);
        assert_eq!(s.lag_days, 180);
        assert!(s.patterns.iter().any(|p| p.name == "henan-to-us"));
        let o = Hs::parse("6704").unwrap();
        assert!(s.input_prefixes(o).contains(&Hs::parse("0501").unwrap()));
    }

    #[test]
    fn bad_settings_are_errors() {
        let s = Settings::default();
        assert!(s.overlay_str("lag_days = -3", "x.toml").is_err());
        assert!(s.overlay_str("nonsense = 1", "x.toml").is_err());
        assert!(
            s.overlay_str("sanctioned_origins = [\"ZZ\"]", "x.toml")
                .is_err()
        );
        assert!(
            s.overlay_str("[hs_inputs]\n\"67\" = [\"0501\"]", "x.toml")
                .is_err()
        );
    }

    #[test]
    fn pattern_names_are_lowercase_digits_and_dashes() {
        let s = Settings::default();
        let with = |name: &str| {
            s.overlay_str(
                &format!("[[patterns]]\nname = {name:?}\norigins = [\"KP\"]"),
                "x.toml",
            )
        };
        assert!(with("kp-route-2").is_ok());
        for bad in ["x;watchlist-match:FAKE", "A", "a b", " a", "", "a:b", "é"] {
            let e = with(bad).unwrap_err().to_string();
            assert!(e.contains("x.toml: patterns: pattern name"), "{bad}: {e}");
        }
    }

    #[test]
    fn counterparty_days_defaults_and_ranges() {
        let s = Settings::default();
        assert_eq!(s.counterparty_days, 730);
        assert_eq!(
            s.overlay_str("counterparty_days = 0", "x")
                .unwrap()
                .counterparty_days,
            0
        );
        assert!(s.overlay_str("counterparty_days = 36501", "x").is_err());
        assert!(s.check().is_ok());
        let mut bad = s.clone();
        bad.severity.medium = f64::NAN;
        assert!(bad.check().is_err());
    }
}
