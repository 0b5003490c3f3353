//! One function per command: it takes that command's options, already checked, runs the command through the
//! library and says what to print. The commands that read data do it through [`analysed`], so that they all
//! load, validate and report their settings alike.

use super::Outcome;
use super::args::{
    BuildArgs, CheckArgs, CheckFormat, DataArgs, ExportArgs, ExportFormat, ImportArgs, PageFormat,
    PathsArgs, ReportArgs, ReportFormat, SynthArgs, TableArg, TraceArgs, VetArgs, limits,
};
use super::output::{emit, emit_with, note_settings, write_sidecar};
use anyhow::{Context as _, Result, anyhow, bail};
use origintrace::data::codes::{Country, Date, Hs};
use origintrace::data::dataset::Dataset;
use origintrace::engine::analysis::Analysis;
use origintrace::engine::paths::Limits;
use origintrace::engine::rules::Severity;
use origintrace::present::{Csv, Html, Json, Markdown, PresentError, Render, Table, Text};
use origintrace::query::report;
use origintrace::query::{QueryError, find_shipment, resolve_party};
use origintrace::session::Session;
use origintrace::util::progress;
use std::path::Path;

/// Nothing to print: the command wrote its own files, or streamed its output.
const WROTE: Outcome = Outcome {
    bytes: None,
    failed: false,
};

/// Loads the data, refuses rejected rows unless told to skip them, says which settings are in force, and
/// runs `f` on the analysis. `top_paths`: make the report's top paths in the engine pass.
fn analysed<T>(
    data: &DataArgs,
    limits: Limits,
    top_paths: bool,
    f: impl FnOnce(&Session, &Analysis) -> Result<T>,
) -> Result<T> {
    analysed_if(data, limits, top_paths, |_| Ok(()), f)
}

/// [`analysed`], with `names` run on the dataset right after the load: a shipment or party the command
/// names and the data lacks is an error before the engine runs, not after a national-scale pass.
fn analysed_if<T>(
    data: &DataArgs,
    limits: Limits,
    top_paths: bool,
    names: impl FnOnce(&Dataset) -> Result<(), QueryError>,
    f: impl FnOnce(&Session, &Analysis) -> Result<T>,
) -> Result<T> {
    let session = Session::open(&data.request())?;
    origintrace::util::timing::phase("load");
    session.dataset.ensure_valid(data.rows.skip_invalid)?;
    names(&session.dataset)?;
    note_settings(&session);
    let a = if top_paths {
        session.analysis_with_top_paths(limits)
    } else {
        session.analysis(limits)
    };
    origintrace::util::timing::phase("medians");
    let result = f(&session, &a);
    // The process ends next, and the kernel takes its memory back whole. Handing gigabytes of small
    // allocations back to the allocator one by one first took 5.5 s of a 10M-shipment report
    // (docs/benchmarks.md). Neither holds an output: outputs go through their own writers, which flush and
    // rename them (in the command, or in `main` from the returned bytes).
    std::mem::forget(a);
    std::mem::forget(session);
    result
}

impl PageFormat {
    /// `view` in this format: every page (`trace`, `vet`, `paths`) is written in each of them.
    fn render<V>(self, view: &V) -> Result<Vec<u8>, PresentError>
    where
        Text: Render<V>,
        Json: Render<V>,
        Html: Render<V>,
    {
        match self {
            PageFormat::Text => Text.to_bytes(view),
            PageFormat::Json => Json.to_bytes(view),
            PageFormat::Html => Html.to_bytes(view),
        }
    }
}

/// Bytes to print (to stdout or `-o`), and whether `--fail-on` tripped.
fn page(bytes: Vec<u8>, failed: bool) -> Outcome {
    Outcome {
        bytes: Some(bytes),
        failed,
    }
}

pub fn check(args: CheckArgs) -> Result<Outcome> {
    let session = Session::open(&args.data.request())?;
    origintrace::util::timing::phase("load");
    let mut report = origintrace::query::check::check(&session.dataset);
    report.settings = Some(session.settings.clone());
    let bytes = match args.format {
        CheckFormat::Json => Json.to_bytes(&report)?,
        CheckFormat::Text => Text.to_bytes(&report)?,
    };
    origintrace::util::timing::phase("check");
    if !args.data.rows.skip_invalid && !session.dataset.rejections.is_empty() {
        // The table still goes out: it is what the user needs to fix the data.
        emit(args.out.output.as_deref(), &bytes)?;
        return Err(session
            .dataset
            .ensure_valid(false)
            .err()
            .map(anyhow::Error::from)
            .unwrap_or_else(|| anyhow!("rejected rows")));
    }
    note_settings(&session);
    Ok(page(bytes, false))
}

pub fn build(args: BuildArgs) -> Result<Outcome> {
    let out = args.output_path()?;
    analysed(&args.data, limits(None, None), false, |_, a| {
        let (ds, st) = (a.ds(), a.st());
        let parts = origintrace::snapshot::Parts {
            tool_version: env!("CARGO_PKG_VERSION"),
            model_version: origintrace::MODEL_VERSION,
            settings: st,
            dataset: ds,
            index: &a.engine.ix,
            outcomes: &a.engine.outcomes,
            hits: &a.engine.hits,
            medians: &a.medians,
        };
        // Streamed into the file: the snapshot is never held in memory whole.
        let shown = progress::spinner("writing the snapshot");
        let written = origintrace::util::output::write_atomic_with(out, |w| {
            origintrace::snapshot::encode_to(&parts, w).map_err(|e| match e {
                origintrace::snapshot::EncodeError::Io(e) => e,
                e => std::io::Error::other(format!("cannot encode the snapshot: {e}")),
            })
        })
        .with_context(|| format!("{}: cannot write", out.display()))?;
        drop(shown);
        eprintln!(
            "wrote {} ({} bytes): {} parties, {} shipments, {} statistics rows, {} outputs computed",
            out.display(),
            written,
            ds.parties.len(),
            ds.shipments.len(),
            ds.flows.len(),
            a.engine.outcomes.len()
        );
        Ok(WROTE)
    })
}

pub fn trace(args: TraceArgs) -> Result<Outcome> {
    let limits = limits(Some(&args.max_paths), Some(&args.max_hops));
    let names = |ds: &Dataset| find_shipment(ds, &args.shipment_id).map(drop);
    analysed_if(&args.data, limits, false, names, |_, a| {
        let t = origintrace::query::trace::trace(a, &args.shipment_id, args.paths)?;
        let severity = Severity::parse(t.severity).unwrap_or(Severity::None);
        Ok(page(args.format.render(&t)?, args.fail_on.trips(severity)))
    })
}

pub fn vet(args: VetArgs) -> Result<Outcome> {
    let as_of = args
        .as_of
        .as_deref()
        .map(|d| Date::parse(d).map_err(|e| anyhow!("--as-of: {e}")))
        .transpose()?;
    let names = |ds: &Dataset| resolve_party(ds, &args.party).map(drop);
    analysed_if(&args.data, limits(None, None), false, names, |_, a| {
        let v = origintrace::query::vet::vet(a, &args.party, as_of)?;
        for w in &v.warnings {
            eprintln!("warning: {w}");
        }
        Ok(page(
            args.format.render(&v)?,
            args.fail_on.trips(v.severity),
        ))
    })
}

pub fn paths(args: PathsArgs) -> Result<Outcome> {
    let origin = Country::parse(&args.from).map_err(|e| anyhow!("--from: {e}"))?;
    let hs = args
        .hs
        .as_deref()
        .map(|h| Hs::parse(h).map_err(|e| anyhow!("--hs: {e}")))
        .transpose()?;
    let limits = limits(None, Some(&args.max_hops));
    let names = |ds: &Dataset| resolve_party(ds, &args.to).map(drop);
    analysed_if(&args.data, limits, false, names, |_, a| {
        let w = origintrace::query::walk::walk(
            &a.engine,
            origin,
            &args.to,
            hs,
            args.limit,
            limits.max_hops,
        )?;
        Ok(page(args.format.render(&w)?, false))
    })
}

pub fn synth(args: SynthArgs) -> Result<Outcome> {
    let dir = args.output_path()?;
    let spec = origintrace::data::synth::SynthSpec {
        shipments: args.shipments,
        seed: args.seed,
    };
    let s = origintrace::data::synth::generate(&spec, dir).map_err(|e| anyhow!("synth: {e}"))?;
    eprintln!(
        "wrote {}: {} parties, {} shipments, {} statistics rows, {} supplier links, {} watchlist entries, {} HS headings",
        dir.display(),
        s.parties,
        s.shipments,
        s.trade_flows,
        s.supplier_links,
        s.watchlist,
        s.headings
    );
    Ok(WROTE)
}

pub fn import(args: ImportArgs) -> Result<Outcome> {
    let out = args.output_path()?.to_path_buf();
    let opts = origintrace::import::Options::new(
        &args.format,
        args.files,
        out,
        &args.period,
        &args.flow,
        args.rate.as_deref(),
        args.rows.skip_invalid,
        args.rows.rejects,
        args.replace,
    )?;
    origintrace::import::run(&opts, &mut std::io::stderr())?;
    Ok(WROTE)
}

pub fn report(args: ReportArgs) -> Result<Outcome> {
    let limits = limits(Some(&args.max_paths), Some(&args.max_hops));
    let filter = report::Filter {
        flagged_only: args.flagged_only,
        min_severity: args.min_severity.map_or(Severity::None, |l| l.severity()),
    };
    let output = args.out.output.as_deref();
    let csv = args.format == ReportFormat::Csv;
    analysed(&args.data, limits, true, |session, a| {
        // A CSV report's settings go to its sidecar, written once the report is.
        let sidecar = || match (csv, output) {
            (true, Some(out)) => write_sidecar(out, session),
            _ => Ok(()),
        };
        let table = match args.table.unwrap_or(TableArg::Shipments) {
            TableArg::Shipments => Table::Shipments,
            TableArg::Importers => Table::Importers,
            TableArg::Exporters => Table::Exporters,
        };
        if csv && table == Table::Shipments {
            // The shipments table is streamed: scored and written a block at a time, never held whole.
            let worst = emit_with(output, |w| {
                origintrace::present::csv::stream_shipments(a, filter, w)
            })?;
            sidecar()?;
            return Ok(Outcome {
                bytes: None,
                failed: worst.is_some_and(|s| args.fail_on.trips(s)),
            });
        }
        if args.format == ReportFormat::Json {
            // Streamed too: two passes over the shipments, the rows never held (present::json).
            let worst = emit_with(output, |w| {
                origintrace::present::json::stream_report(a, filter, w).map_err(|e| match e {
                    PresentError::Io(e) => e,
                    e => std::io::Error::other(e.to_string()),
                })
            })?;
            return Ok(Outcome {
                bytes: None,
                failed: worst.is_some_and(|s| args.fail_on.trips(s)),
            });
        }
        if args.format == ReportFormat::Html {
            // The page lists a few thousand rows: its view is made without holding the others.
            let (view, worst) = report::report_page(a, filter, report::PAGE_ROWS);
            let bytes = Html
                .to_bytes(&view)
                .map_err(|e| anyhow!("cannot write the report: {e}"))?;
            return Ok(page(bytes, args.fail_on.trips(worst)));
        }
        // What is left prints a few rows (markdown: the first flagged ones) or none (a CSV summary
        // table), with the summaries: made without holding the other rows.
        let md = Markdown { top: 25 };
        let listed = if args.format == ReportFormat::Md {
            md.top
        } else {
            0
        };
        let lean = report::lean_report(a, filter, listed, 0);
        let failed = args.fail_on.trips(lean.worst);
        let bytes = if args.format == ReportFormat::Md {
            md.to_bytes(&lean.report)
        } else {
            Csv { table }.to_bytes(&lean.report)
        }
        .map_err(|e| anyhow!("cannot write the report: {e}"))?;
        if csv && output.is_some() {
            emit(output, &bytes)?;
            sidecar()?;
            return Ok(Outcome {
                bytes: None,
                failed,
            });
        }
        Ok(page(bytes, failed))
    })
}

pub fn export(args: ExportArgs) -> Result<Outcome> {
    if args.format == ExportFormat::Parquet {
        // Refused before the data is read: no point computing a dataset for a format this build cannot write.
        let dir = parquet_preflight(&args)?;
        return analysed(&args.data, limits(None, None), false, |_, a| {
            export_parquet(a, dir)
        });
    }
    let around = args.around.as_deref().map(|p| (p, args.hops));
    analysed(&args.data, limits(None, None), false, |_, a| {
        let g = origintrace::query::graph::build(a, around)?;
        let bytes = match args.format {
            ExportFormat::Dot => origintrace::present::Dot.to_bytes(&g)?,
            ExportFormat::Graphml => origintrace::present::GraphMl.to_bytes(&g)?,
            ExportFormat::Json | ExportFormat::Parquet => Json.to_bytes(&g)?,
        };
        Ok(page(bytes, false))
    })
}

/// What `export --format parquet` needs before any data is read: a build with the `parquet` feature (else
/// an error saying how to get it), `-o DIR`, and no `--around`.
fn parquet_preflight(args: &ExportArgs) -> Result<&Path> {
    if !origintrace::present::PARQUET {
        bail!("{}", origintrace::present::NO_PARQUET);
    }
    if args.around.is_some() {
        bail!("--around does not apply to --format parquet: it writes whole tables");
    }
    args.output.as_deref().ok_or_else(|| {
        anyhow!("export --format parquet needs -o DIR: the directory to write the files in")
    })
}

/// `export --format parquet -o DIR`: the canonical tables and every shipment's mix as Parquet files
/// (docs/parquet.md).
fn export_parquet(a: &Analysis, dir: &Path) -> Result<Outcome> {
    #[cfg(feature = "parquet")]
    {
        let w = origintrace::present::parquet::write_dir(a, dir)?;
        let files: Vec<String> = w
            .files
            .iter()
            .map(|(p, n)| {
                let name = p
                    .file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default();
                format!("{name} ({n} rows)")
            })
            .collect();
        eprintln!("wrote {}: {}", dir.display(), files.join(", "));
    }
    #[cfg(not(feature = "parquet"))]
    let _ = (a, dir);
    Ok(WROTE)
}
