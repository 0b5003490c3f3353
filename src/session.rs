//! Opening the data a command runs on: dataset directories, a snapshot, or the compiled-in sample; and the
//! settings in force (defaults, then the dataset's own file, then `--config`, then `--lag-days`).

use crate::data::dataset::{self, DataSource, Dataset, DatasetError};
use crate::data::settings::{Settings, SettingsError};
use crate::engine::analysis::Analysis;
use crate::engine::model::Engine;
use crate::engine::paths::Limits;
use crate::snapshot::{Derived, Snapshot, SnapshotError};
use std::path::PathBuf;
use std::sync::Mutex;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SessionError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("a snapshot must be the only --data (got {0} paths)")]
    MixedSnapshot(usize),
    #[error(
        "the datasets' settings disagree: {first} and {second} (differing in {keys}); a dataset's own settings would re-score the others, so pass --config FILE to settle them"
    )]
    SettingsDisagree {
        first: String,
        second: String,
        keys: String,
    },
}

/// What the user asked for on the command line that decides the data and the settings.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub data: Vec<PathBuf>,
    pub config: Option<PathBuf>,
    pub lag_days: Option<i32>,
    pub skip_invalid: bool,
    pub rejects: Option<PathBuf>,
}

/// The settings the datasets bring. Each dataset is scored under its own file, or the defaults without
/// one; when they disagree no dataset may impose its settings on the others, so that is an error naming
/// two files that differ, unless `--config` settles it: then the datasets' own files are set aside and
/// the defaults with `--config` apply to all (the sources in force say so).
fn agreed_settings(
    sources: &[DataSource],
    own: Vec<Option<(String, String)>>,
    config: bool,
    used: &mut Vec<String>,
) -> Result<Settings, SessionError> {
    let mut each: Vec<(String, Settings)> = Vec::with_capacity(own.len());
    for (src, o) in sources.iter().zip(own) {
        each.push(match o {
            Some((file, text)) => {
                let s = Settings::default().overlay_str(&text, &file)?;
                (file, s)
            }
            None => (src.defaults_label(), Settings::default()),
        });
    }
    let files: Vec<&String> = each
        .iter()
        .filter(|(f, _)| f.ends_with("origintrace.toml"))
        .map(|(f, _)| f)
        .collect();
    let Some((first, s0)) = each.first() else {
        return Ok(Settings::default());
    };
    if let Some((second, s1)) = each.iter().find(|(_, s)| s != s0) {
        if config {
            used.push(format!(
                "not the datasets' own settings ({first} and {second} disagree)"
            ));
            return Ok(Settings::default());
        }
        return Err(SessionError::SettingsDisagree {
            first: first.clone(),
            second: second.clone(),
            keys: s0.differing_keys(s1).join(", "),
        });
    }
    used.extend(files.into_iter().cloned());
    Ok(s0.clone())
}

impl Request {
    /// Every file this request may read: each dataset's canonical files and settings, a snapshot, the
    /// `--config` file. An output that is one of them is refused ([`crate::util::output::refuse_inputs`]).
    pub fn input_files(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for d in &self.data {
            if d.is_dir() {
                for f in dataset::load::FILES.iter().chain(&["origintrace.toml"]) {
                    v.push(d.join(f));
                }
            } else {
                v.push(d.clone());
            }
        }
        v.extend(self.config.iter().cloned());
        v
    }
}

/// The settings in force and where they came from, as recorded beside every output.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SettingsInForce {
    pub sources: Vec<String>,
    pub settings: Settings,
}

impl SettingsInForce {
    /// One line: where the settings came from, then the values that decide a result.
    pub fn line(&self) -> String {
        format!("{} ({})", self.settings.summary(), self.sources.join(" + "))
    }
}

/// Loaded data with its settings, and what a snapshot derived when it was built for exactly these settings.
pub struct Session {
    pub dataset: Dataset,
    pub settings: Settings,
    /// Where the settings in force came from, in the order laid over each other.
    pub settings_sources: Vec<String>,
    pub from_snapshot: bool,
    /// Moved into the first engine built, not cloned: at scale it is as large as the dataset.
    derived: Mutex<Option<Derived>>,
}

impl Session {
    /// Reads the data. Rejected rows are kept in `dataset.rejections` (and written to `--rejects`); the
    /// caller decides whether they are fatal, so `check` can report on a broken dataset.
    pub fn open(req: &Request) -> Result<Session, SessionError> {
        let mut used = vec!["defaults".to_string()];
        let snapshot = req
            .data
            .iter()
            .any(|p| p.is_file() && Snapshot::is_snapshot(p));
        let (dataset, base, derived, from_snapshot) = if snapshot {
            if req.data.len() != 1 {
                return Err(SessionError::MixedSnapshot(req.data.len()));
            }
            let shown = crate::util::progress::spinner("reading the snapshot");
            let snap = Snapshot::read(&req.data[0])?;
            drop(shown);
            used = vec![format!("{} (as built)", req.data[0].display())];
            (snap.dataset, snap.settings, Some(snap.derived), true)
        } else {
            for p in &req.data {
                if p.is_file() {
                    return Err(SnapshotError::Foreign {
                        file: p.display().to_string(),
                    }
                    .into());
                }
            }
            let sources: Vec<DataSource> = if req.data.is_empty() {
                vec![DataSource::Embedded(&dataset::sample::SAMPLE)]
            } else {
                req.data.iter().cloned().map(DataSource::Dir).collect()
            };
            let own = dataset::load::dataset_settings(&sources).map_err(DatasetError::from)?;
            let base = agreed_settings(&sources, own, req.config.is_some(), &mut used)?;
            let ds = dataset::load(&sources)?;
            (ds, base, None, false)
        };
        let mut settings = base.clone();
        if let Some(c) = &req.config {
            settings = settings.overlay_file(c)?;
            used.push(c.display().to_string());
        }
        if let Some(l) = req.lag_days {
            settings.lag_days = crate::data::settings::days("--lag-days", "lag_days", l.into())?;
            used.push("--lag-days".into());
        }
        // What a snapshot derived holds only for the settings it was built with.
        let derived = if settings == base { derived } else { None };
        if let Some(path) = &req.rejects {
            dataset::load::write_rejects(path, &dataset.rejections)?;
        }
        Ok(Session {
            dataset,
            settings,
            settings_sources: used,
            from_snapshot,
            derived: Mutex::new(derived),
        })
    }

    pub fn settings_in_force(&self) -> SettingsInForce {
        SettingsInForce {
            sources: self.settings_sources.clone(),
            settings: self.settings.clone(),
        }
    }

    /// Every party screened against the watchlist: the hits the engine is handed when it runs.
    fn screen(&self) -> Vec<Vec<crate::engine::screening::Hit>> {
        let shown = crate::util::progress::spinner("screening against the watchlist");
        let hits = crate::engine::screening::screen(&self.dataset, self.settings.match_threshold);
        drop(shown);
        crate::util::timing::phase("screening");
        hits
    }

    /// The snapshot's derived parts, the first time they are asked for.
    fn take_derived(&self) -> Option<Derived> {
        self.derived.lock().ok().and_then(|mut d| d.take())
    }

    /// The engine: the snapshot's when it fits, else one pass over the data.
    pub fn engine(&self) -> Engine<'_> {
        self.take_derived()
            .and_then(|d| {
                Engine::from_parts(&self.dataset, &self.settings, d.index, d.outcomes, d.hits)
            })
            .unwrap_or_else(|| Engine::run(&self.dataset, &self.settings, self.screen()))
    }

    /// The analysis: the snapshot's engine and price medians when they fit, else computed.
    pub fn analysis(&self, limits: Limits) -> Analysis<'_> {
        if let Some(d) = self.take_derived() {
            let medians = d.medians;
            if let Some(e) =
                Engine::from_parts(&self.dataset, &self.settings, d.index, d.outcomes, d.hits)
            {
                return Analysis::with_medians(e, limits, medians);
            }
        }
        Analysis::with_engine(
            Engine::run(&self.dataset, &self.settings, self.screen()),
            limits,
        )
    }

    /// [`Session::analysis`] for a batch report: where the engine pass runs, the top paths a report
    /// prints are made beside it (a snapshot's analysis makes them later, in a pass of their own).
    pub fn analysis_with_top_paths(&self, limits: Limits) -> Analysis<'_> {
        let stored = self.derived.lock().ok().is_some_and(|d| d.is_some());
        if stored {
            return self.analysis(limits);
        }
        let (e, tops) = crate::engine::toppath::run(
            &self.dataset,
            &self.settings,
            self.screen(),
            limits.max_hops,
        );
        Analysis::with_top_paths(e, limits, tops)
    }
}
