//! The `origintrace` command line: parses arguments, runs one command through the library, writes its
//! output (atomically when to a file), and maps failures to exit codes: 0 done, 1 a flag at or above
//! `--fail-on`, 2 bad usage or bad input.

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use origintrace::data::codes::{Country, Date, Hs};
use origintrace::engine::paths::Limits;
use origintrace::engine::rules::Severity;
use origintrace::present::{Csv, Html, Json, Markdown, Render, Table, Text};
use origintrace::query::report;
use origintrace::session::{Request, Session};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// The system allocator, asking for transparent huge pages on every block of 32 MiB or more. This
/// kernel, like most distributions', gives them only where asked (`madvise` mode). The engine reads
/// gigabyte arrays (shipments, outcomes, keys, chains, the lookups) at random. With 4 KiB pages nearly
/// every such read also misses the TLB; with 2 MiB pages a 10M-shipment report ran in 124 s, not 151 s
/// (docs/benchmarks.md). Only large blocks are advised, so the process gains a few hundred mappings at
/// most, far below the kernel's limit. The advice is a hint: where it fails, nothing changes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
struct HugePages;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl HugePages {
    fn advise(p: *mut u8, size: usize) {
        const MIN: usize = 32 << 20;
        const HUGE: usize = 2 << 20;
        if p.is_null() || size < MIN || !HUGE_PAGES.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let start = (p as usize).next_multiple_of(HUGE);
        let end = (p as usize + size) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside a block the allocator just handed out; MADV_HUGEPAGE only
            // changes how its pages are backed, never their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; `advise` only adds a hint on the returned block.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe impl std::alloc::GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc(layout) };
        HugePages::advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let p = unsafe { std::alloc::System.alloc_zeroed(layout) };
        HugePages::advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        let q = unsafe { std::alloc::System.realloc(p, layout, size) };
        HugePages::advise(q, size);
        q
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOC: HugePages = HugePages;

/// Whether [`HugePages`] advises: for the commands that go on to read the data at random, not for `check`,
/// `synth` or `import`, which read and write in order, where huge pages only add memory (a 10M-shipment
/// `check` took 1.1 GB and 1-2 s more with them).
static HUGE_PAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[derive(Parser)]
#[command(
    name = "origintrace",
    version,
    about = "Trace whether imported goods could carry inputs from a sanctioned origin, how much, by which path, and on what evidence."
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Debug)]
struct Common {
    /// Dataset directory (repeatable), or one snapshot file made by `build`. Default: the compiled-in sample.
    #[arg(long, global = true, value_name = "PATH")]
    data: Vec<PathBuf>,
    /// Settings file laid over the defaults and the dataset's own origintrace.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How many days an input may wait before it leaves in an output (overrides the settings).
    #[arg(long, global = true, value_name = "N")]
    lag_days: Option<i32>,
    /// Skip rejected rows instead of stopping (they are still counted, and written to --rejects).
    #[arg(long, global = true)]
    skip_invalid: bool,
    /// Write rejected rows as CSV (file, line, column, reason, raw row).
    #[arg(long, global = true, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Output format (trace, vet, paths: text, json, html; report: csv, json, md, html; check: text, json;
    /// export: dot, graphml, json, parquet).
    #[arg(long, global = true)]
    format: Option<String>,
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, global = true, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with 1 when a flag at or above this severity is raised (low, medium, high).
    #[arg(long, global = true, value_name = "SEVERITY")]
    fail_on: Option<String>,
    /// Safety limit: record-level paths collected per output (1 to 100000; each also allows the search a
    /// fixed amount of work, see docs/security.md "Bounded work").
    #[arg(long, global = true, default_value_t = Limits::default().max_paths,
          value_parser = bounded(origintrace::engine::paths::MAX_PATHS_BOUND))]
    max_paths: usize,
    /// Safety limit: hops per path (1 to 64).
    #[arg(long, global = true, default_value_t = Limits::default().max_hops,
          value_parser = bounded(origintrace::engine::paths::MAX_HOPS_BOUND))]
    max_hops: usize,
}

#[derive(Subcommand)]
enum Command {
    /// Read and validate everything: per-file counts, problems, superseded statistics rows, a summary.
    Check,
    /// Read once, compute once, and save a snapshot (-o FILE) that later commands load with --data FILE.
    Build,
    /// One shipment: its mix, flags and top paths, every number tied to its rows.
    Trace {
        shipment_id: String,
        /// How many paths to show (1 to 100000).
        #[arg(long, default_value_t = 5, value_parser = bounded(origintrace::engine::paths::MAX_PATHS_BOUND))]
        paths: usize,
    },
    /// A supplier's profile: identity, watchlist, mix per heading, suppliers, pool, flags, next steps.
    Vet {
        /// A party_id or a name.
        party: String,
        /// The day to vet as of (default: the last date in the data).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// Time-respecting paths from an origin country to a party.
    Paths {
        #[arg(long, value_name = "XX")]
        from: String,
        #[arg(long, value_name = "PARTY")]
        to: String,
        /// Only goods of this HS code (prefix) into the party.
        #[arg(long)]
        hs: Option<String>,
        /// How many paths to list (1 to 100000).
        #[arg(long, default_value_t = 20, value_parser = bounded(origintrace::engine::paths::MAX_PATHS_BOUND))]
        limit: usize,
    },
    /// Write a deterministic synthetic dataset (-o DIR) for benchmarks and scale tests.
    Synth {
        /// How many shipments to generate.
        #[arg(long, default_value_t = 100_000)]
        shipments: usize,
        /// The seed: the same seed gives byte-identical files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Convert real-world source files (china-customs, comtrade, ams, ofac-sdn, opensanctions, csl) into
    /// canonical CSV files in the dataset directory -o DIR (appending to what it holds).
    Import {
        /// The source format: china-customs, comtrade, ams, ofac-sdn, opensanctions or csl.
        format: String,
        /// The source files (AMS: every table of the extract; OFAC: sdn.csv with alt.csv and add.csv).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// china-customs: the month of a single-month download (YYYY-MM); once, or once per file.
        #[arg(long, value_name = "YYYY-MM")]
        period: Vec<String>,
        /// china-customs: import or export (the files do not say); once, or once per file.
        #[arg(long, value_name = "import|export")]
        flow: Vec<String>,
        /// china-customs: USD per yuan for RMB values (written to rates.csv for each month).
        #[arg(long, value_name = "USD_PER_CNY")]
        rate: Option<String>,
        /// Replace the rows this source wrote before (a list whole; statistics for the periods the files
        /// cover), print what was added, removed and changed, and write DIR/changes-FORMAT.csv.
        #[arg(long)]
        replace: bool,
    },
    /// Every shipment scored, with summaries per importer and per exporter.
    Report {
        /// Only shipments with at least one flag.
        #[arg(long)]
        flagged_only: bool,
        /// Only shipments whose highest flag is at least this severity.
        #[arg(long, value_name = "SEVERITY")]
        min_severity: Option<String>,
        /// The CSV table: shipments, importers or exporters.
        #[arg(long, default_value = "shipments")]
        table: String,
    },
    /// The goods-flow graph (countries, regions, parties; shipments, supplier links, statistics, pools) as
    /// DOT, GraphML or JSON (--format dot|graphml|json), whole or around one party; or, with --format parquet
    /// -o DIR (a build with the `parquet` feature), the canonical tables and every shipment's mix as Parquet.
    Export {
        /// Only the neighbourhood of this party (an id or a name).
        #[arg(long, value_name = "PARTY")]
        around: Option<String>,
        /// With --around: how many hops out, following edges either way.
        #[arg(long, value_name = "N", default_value_t = 1)]
        hops: usize,
    },
}

/// A count option from 1 to `max`, checked when the command line is parsed: 0 is a usage error rather than
/// a silent 1, and a huge value cannot buy unbounded work.
fn bounded(max: usize) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=max as u64)
}

fn severity(s: &str, what: &str) -> Result<Severity> {
    match Severity::parse(&s.to_ascii_lowercase()) {
        Some(Severity::None) | None => bail!("{what}: '{s}' is not low, medium or high"),
        Some(x) => Ok(x),
    }
}

/// What a command produced: the bytes for stdout or `-o` (`None` when the command wrote its own files, as
/// `build`, `import` and `synth` do with `-o`), and whether `--fail-on` tripped.
struct Outcome {
    bytes: Option<Vec<u8>>,
    failed: bool,
}

fn format_of(common: &Common, allowed: &[&str]) -> Result<String> {
    let f = common
        .format
        .clone()
        .unwrap_or_else(|| allowed[0].to_string())
        .to_ascii_lowercase();
    let f = if f == "markdown" { "md".to_string() } else { f };
    if !allowed.contains(&f.as_str()) {
        bail!(
            "--format {f} is not available here (use one of: {})",
            allowed.join(", ")
        );
    }
    Ok(f)
}

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    Ok(b)
}

fn run(cli: Cli) -> Result<Outcome> {
    let c = &cli.common;
    let fail_on = c
        .fail_on
        .as_deref()
        .map(|s| severity(s, "--fail-on"))
        .transpose()?;
    let limits = Limits {
        max_paths: c.max_paths,
        max_hops: c.max_hops,
        records: true,
        top: None,
    };
    let req = Request {
        data: c.data.clone(),
        config: c.config.clone(),
        lag_days: c.lag_days,
        skip_invalid: c.skip_invalid,
        rejects: c.rejects.clone(),
    };
    let mut inputs = req.input_files();
    if let Command::Import { files, .. } = &cli.command {
        inputs.extend(files.iter().cloned());
    }
    let sidecar = c.output.as_ref().map(|o| settings_sidecar(o));
    let outputs: Vec<&std::path::Path> = c
        .output
        .iter()
        .chain(&c.rejects)
        .chain(&sidecar)
        .map(|p| p.as_path())
        .collect();
    origintrace::util::output::refuse_inputs(&outputs, &inputs)?;
    if let Command::Synth { shipments, seed } = cli.command {
        let dir = c
            .output
            .as_ref()
            .ok_or_else(|| anyhow!("synth needs -o DIR"))?;
        let spec = origintrace::data::synth::SynthSpec { shipments, seed };
        let s =
            origintrace::data::synth::generate(&spec, dir).map_err(|e| anyhow!("synth: {e}"))?;
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
        return Ok(Outcome {
            bytes: None,
            failed: false,
        });
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    HUGE_PAGES.store(
        !matches!(
            cli.command,
            Command::Check | Command::Synth { .. } | Command::Import { .. }
        ),
        std::sync::atomic::Ordering::Relaxed,
    );
    if let Command::Check = cli.command {
        let fmt = format_of(c, &["text", "json"])?;
        let session = Session::open(&req)?;
        origintrace::util::timing::phase("load");
        let mut report = origintrace::query::check::check(&session.dataset);
        report.settings = Some(session.settings.clone());
        let bytes = if fmt == "json" {
            Json.to_bytes(&report)?
        } else {
            Text.to_bytes(&report)?
        };
        origintrace::util::timing::phase("check");
        if !c.skip_invalid && !session.dataset.rejections.is_empty() {
            // The table still goes out: it is what the user needs to fix the data.
            emit(c, &bytes)?;
            return Err(session
                .dataset
                .ensure_valid(false)
                .err()
                .map(anyhow::Error::from)
                .unwrap_or_else(|| anyhow!("rejected rows")));
        }
        note_settings(&session);
        return Ok(Outcome {
            bytes: Some(bytes),
            failed: false,
        });
    }
    if let Command::Import {
        format,
        files,
        period,
        flow,
        rate,
        replace,
    } = &cli.command
    {
        let out = c
            .output
            .clone()
            .ok_or_else(|| anyhow!("import needs -o DIR: the dataset directory to write"))?;
        let opts = origintrace::import::Options::new(
            format,
            files.clone(),
            out,
            period,
            flow,
            rate.as_deref(),
            c.skip_invalid,
            c.rejects.clone(),
            *replace,
        )?;
        origintrace::import::run(&opts, &mut std::io::stderr())?;
        return Ok(Outcome {
            bytes: None,
            failed: false,
        });
    }
    // Refused before the data is read: no point computing a dataset for a format this build cannot write.
    if let Command::Export { around, .. } = &cli.command
        && format_of(c, &origintrace::present::EXPORT_FORMATS)? == "parquet"
    {
        parquet_preflight(c, around.is_some())?;
    }
    let session = Session::open(&req)?;
    origintrace::util::timing::phase("load");
    session.dataset.ensure_valid(c.skip_invalid)?;
    note_settings(&session);
    let ds = &session.dataset;
    let st = &session.settings;
    let a = if matches!(cli.command, Command::Report { .. }) {
        session.analysis_with_top_paths(limits)
    } else {
        session.analysis(limits)
    };
    origintrace::util::timing::phase("medians");
    let trip = |s: Severity| fail_on.is_some_and(|f| s >= f);
    let result = (|| match cli.command {
        Command::Check | Command::Synth { .. } => unreachable!("handled above"),
        Command::Import { .. } => unreachable!("handled above"),
        Command::Build => {
            let out = c
                .output
                .as_ref()
                .ok_or_else(|| anyhow!("build needs -o FILE for the snapshot"))?;
            let bytes = origintrace::snapshot::encode(&origintrace::snapshot::Parts {
                tool_version: env!("CARGO_PKG_VERSION"),
                model_version: origintrace::MODEL_VERSION,
                settings: st,
                dataset: ds,
                index: &a.engine.ix,
                outcomes: &a.engine.outcomes,
                hits: &a.engine.hits,
                medians: &a.medians,
            })
            .map_err(|e| anyhow!("cannot encode the snapshot: {e}"))?;
            origintrace::util::output::write_atomic(out, &bytes)
                .with_context(|| format!("{}: cannot write", out.display()))?;
            eprintln!(
                "wrote {} ({} bytes): {} parties, {} shipments, {} statistics rows, {} outputs computed",
                out.display(),
                bytes.len(),
                ds.parties.len(),
                ds.shipments.len(),
                ds.flows.len(),
                a.engine.outcomes.len()
            );
            Ok(Outcome {
                bytes: None,
                failed: false,
            })
        }
        Command::Trace { shipment_id, paths } => {
            let fmt = format_of(c, &["text", "json", "html"])?;
            let t = origintrace::query::trace::trace(&a, &shipment_id, paths)?;
            let sev = Severity::parse(t.severity).unwrap_or(Severity::None);
            let bytes = match fmt.as_str() {
                "json" => Json.to_bytes(&t)?,
                "html" => Html.to_bytes(&t)?,
                _ => Text.to_bytes(&t)?,
            };
            Ok(Outcome {
                bytes: Some(bytes),
                failed: trip(sev),
            })
        }
        Command::Vet { party, as_of } => {
            let fmt = format_of(c, &["text", "json", "html"])?;
            let as_of = as_of
                .map(|d| Date::parse(&d).map_err(|e| anyhow!("--as-of: {e}")))
                .transpose()?;
            let v = origintrace::query::vet::vet(&a, &party, as_of)?;
            for w in &v.warnings {
                eprintln!("warning: {w}");
            }
            let bytes = match fmt.as_str() {
                "json" => Json.to_bytes(&v)?,
                "html" => Html.to_bytes(&v)?,
                _ => Text.to_bytes(&v)?,
            };
            Ok(Outcome {
                bytes: Some(bytes),
                failed: trip(v.severity),
            })
        }
        Command::Paths {
            from,
            to,
            hs,
            limit,
        } => {
            let fmt = format_of(c, &["text", "json", "html"])?;
            let origin = Country::parse(&from).map_err(|e| anyhow!("--from: {e}"))?;
            let hs = hs
                .map(|h| Hs::parse(&h).map_err(|e| anyhow!("--hs: {e}")))
                .transpose()?;
            let w =
                origintrace::query::walk::walk(&a.engine, origin, &to, hs, limit, limits.max_hops)?;
            let bytes = match fmt.as_str() {
                "json" => Json.to_bytes(&w)?,
                "html" => Html.to_bytes(&w)?,
                _ => Text.to_bytes(&w)?,
            };
            Ok(Outcome {
                bytes: Some(bytes),
                failed: false,
            })
        }
        Command::Export { around, hops } => {
            let fmt = format_of(c, &origintrace::present::EXPORT_FORMATS)?;
            if fmt == "parquet" {
                return export_parquet(c, &a, around.is_some());
            }
            let g = origintrace::query::graph::build(&a, around.as_deref().map(|p| (p, hops)))?;
            let bytes = match fmt.as_str() {
                "dot" => origintrace::present::Dot.to_bytes(&g)?,
                "graphml" => origintrace::present::GraphMl.to_bytes(&g)?,
                _ => Json.to_bytes(&g)?,
            };
            Ok(Outcome {
                bytes: Some(bytes),
                failed: false,
            })
        }
        Command::Report {
            flagged_only,
            min_severity,
            table,
        } => {
            let fmt = format_of(c, &["csv", "json", "md", "html"])?;
            let min_severity = min_severity
                .map(|s| severity(&s, "--min-severity"))
                .transpose()?
                .unwrap_or(Severity::None);
            let table = match table.as_str() {
                "shipments" => Table::Shipments,
                "importers" => Table::Importers,
                "exporters" => Table::Exporters,
                t => bail!("--table {t} is not shipments, importers or exporters"),
            };
            let pb = if std::io::stderr().is_terminal() {
                let pb = indicatif::ProgressBar::new(ds.shipments.len() as u64);
                pb.set_style(
                    indicatif::ProgressStyle::with_template(
                        "scoring {bar:40} {pos}/{len} shipments",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                Some(pb)
            } else {
                None
            };
            // A CSV report's settings go to its sidecar, written once the report is.
            let sidecar = |session: &Session| match (fmt == "csv", &c.output, &sidecar) {
                (true, Some(out), Some(side)) => write_sidecar(out, side, session),
                _ => Ok(()),
            };
            if fmt == "csv" && table == Table::Shipments {
                // The shipments table is streamed: scored and written a block at a time, never held whole.
                let filter = report::Filter {
                    flagged_only,
                    min_severity,
                };
                let worst = emit_with(c, |w| {
                    origintrace::present::csv::stream_shipments(&a, filter, w, pb.as_ref())
                })?;
                if let Some(pb) = pb {
                    pb.finish_and_clear();
                }
                sidecar(&session)?;
                return Ok(Outcome {
                    bytes: None,
                    failed: worst.is_some_and(trip),
                });
            }
            if fmt == "json" && table == Table::Shipments {
                // Streamed too: two passes over the shipments, the rows never held (present::json).
                let filter = report::Filter {
                    flagged_only,
                    min_severity,
                };
                let worst = emit_with(c, |w| {
                    origintrace::present::json::stream_report(&a, filter, w, pb.as_ref()).map_err(
                        |e| match e {
                            origintrace::present::PresentError::Io(e) => e,
                            e => std::io::Error::other(e.to_string()),
                        },
                    )
                })?;
                if let Some(pb) = pb {
                    pb.finish_and_clear();
                }
                return Ok(Outcome {
                    bytes: None,
                    failed: worst.is_some_and(trip),
                });
            }
            if fmt == "html" {
                // The page lists a few thousand rows: its view is made without holding the others.
                let filter = report::Filter {
                    flagged_only,
                    min_severity,
                };
                let (page, worst) = report::report_page(&a, filter, report::PAGE_ROWS, pb.as_ref());
                if let Some(pb) = pb {
                    pb.finish_and_clear();
                }
                return Ok(Outcome {
                    bytes: Some(
                        Html.to_bytes(&page)
                            .map_err(|e| anyhow!("cannot write the report: {e}"))?,
                    ),
                    failed: trip(worst),
                });
            }
            let scored = a.score_all(pb.as_ref());
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            let worst = scored
                .iter()
                .map(|s| s.severity)
                .max()
                .unwrap_or(Severity::None);
            let r = report::build(
                &a,
                scored,
                report::Filter {
                    flagged_only,
                    min_severity,
                },
            );
            let bytes = match fmt.as_str() {
                "json" => Json.to_bytes(&r),
                "md" => Markdown { top: 25 }.to_bytes(&r),
                "html" => Html.to_bytes(&report::traced(&a, r)),
                _ => Csv { table }.to_bytes(&r),
            }
            .map_err(|e| anyhow!("cannot write the report: {e}"))?;
            if fmt == "csv" && c.output.is_some() {
                emit(c, &bytes)?;
                sidecar(&session)?;
                return Ok(Outcome {
                    bytes: None,
                    failed: trip(worst),
                });
            }
            Ok(Outcome {
                bytes: Some(bytes),
                failed: trip(worst),
            })
        }
    })();
    // The process ends next, and the kernel takes its memory back whole. Handing gigabytes of small
    // allocations back to the allocator one by one first took 5.5 s of a 10M-shipment report
    // (docs/benchmarks.md). Neither holds an output: outputs go through their own writers, which flush and
    // rename them (above, or in `main` from the returned bytes).
    std::mem::forget(a);
    std::mem::forget(session);
    result
}

/// What `export --format parquet` needs before any data is read: a build with the `parquet` feature (else
/// an error saying how to get it), `-o DIR`, and no `--around`.
fn parquet_preflight(c: &Common, around: bool) -> Result<&PathBuf> {
    if !origintrace::present::PARQUET {
        bail!("{}", origintrace::present::NO_PARQUET);
    }
    if around {
        bail!("--around does not apply to --format parquet: it writes whole tables");
    }
    c.output.as_ref().ok_or_else(|| {
        anyhow!("export --format parquet needs -o DIR: the directory to write the files in")
    })
}

/// `export --format parquet -o DIR`: the canonical tables and every shipment's mix as Parquet files
/// (docs/parquet.md).
fn export_parquet(
    c: &Common,
    a: &origintrace::engine::analysis::Analysis,
    around: bool,
) -> Result<Outcome> {
    let dir = parquet_preflight(c, around)?;
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
    Ok(Outcome {
        bytes: None,
        failed: false,
    })
}

/// The settings in force, on one line of stderr: a dataset's own `origintrace.toml` or a `--config` can
/// change every number, so a run says which it used.
fn note_settings(session: &Session) {
    let line = session.settings_in_force().line();
    eprintln!(
        "origintrace: settings: {}",
        origintrace::util::text::printable(&line)
    );
}

/// Where the settings of a CSV report written to `out` are recorded: `OUT.settings.json` beside it, so
/// the CSV stays a plain table that any reader parses (docs/security.md). On stdout nothing is added.
fn settings_sidecar(out: &std::path::Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".settings.json");
    PathBuf::from(name)
}

fn write_sidecar(out: &std::path::Path, side: &std::path::Path, session: &Session) -> Result<()> {
    let v = serde_json::json!({
        "tool": "origintrace",
        "version": env!("CARGO_PKG_VERSION"),
        "model_version": origintrace::MODEL_VERSION,
        "report": out.file_name().map(|n| n.to_string_lossy().into_owned()),
        "settings_sources": session.settings_sources,
        "settings": session.settings,
    });
    origintrace::util::output::write_atomic(side, &json(&v)?)
        .with_context(|| format!("{}: cannot write", side.display()))
}

/// Writes the output: atomically to `-o FILE`, else to stdout (a closed pipe is not an error).
fn emit(c: &Common, bytes: &[u8]) -> Result<()> {
    match &c.output {
        Some(path) => origintrace::util::output::write_atomic(path, bytes)
            .with_context(|| format!("{}: cannot write", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("cannot write to stdout"),
            }
        }
    }
}

/// Streams what `f` writes to `-o` (atomically) or stdout. `None` when stdout was closed early (a closed
/// pipe is success, and what was not written was not wanted).
fn emit_with<T>(
    c: &Common,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> Result<Option<T>> {
    match &c.output {
        Some(path) => origintrace::util::output::write_atomic_with(path, f)
            .map(Some)
            .with_context(|| format!("{}: cannot write", path.display())),
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            match f(&mut out).and_then(|v| out.flush().map(|_| v)) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(None),
                r => r.map(Some).context("cannot write to stdout"),
            }
        }
    }
}

fn main() -> ExitCode {
    // Keep freed memory for the next phase instead of handing it back to the kernel: a run frees and
    // allocates large buffers phase after phase, and by default glibc maps each large one afresh and unmaps it
    // on free, so every reuse costs page faults and zeroing (docs/benchmarks.md). The memory is returned when
    // the process exits.
    // SAFETY: `mallopt` sets process-wide allocator parameters; it is called before any other thread exists.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
    origintrace::util::timing::start();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let common = cli.common.clone();
    let result = run(cli);
    origintrace::util::timing::phase("free");
    let result = result.and_then(|o| {
        if let Some(bytes) = &o.bytes {
            emit(&common, bytes)?;
        }
        Ok(o.failed)
    });
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            report_error(&e);
            ExitCode::from(2)
        }
    }
}

fn report_error(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    if let Some(origintrace::data::dataset::DatasetError::Rejected { count, first }) =
        find_rejected(e)
    {
        for r in first {
            let _ = writeln!(err, "{r}");
        }
        if *count > first.len() {
            let _ = writeln!(err, "… and {} more", count - first.len());
        }
    }
    // Messages quote values from the input (a header, a setting): on a terminal they must not act.
    let clean = |t: String| origintrace::util::text::printable(&t).into_owned();
    let _ = writeln!(err, "origintrace: error: {}", clean(e.to_string()));
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {}", clean(cause.to_string()));
    }
}

fn find_rejected(e: &anyhow::Error) -> Option<&origintrace::data::dataset::DatasetError> {
    use origintrace::data::dataset::DatasetError;
    e.chain().find_map(|c| {
        let d = c
            .downcast_ref::<DatasetError>()
            .or_else(
                || match c.downcast_ref::<origintrace::session::SessionError>() {
                    Some(origintrace::session::SessionError::Dataset(d)) => Some(d),
                    _ => None,
                },
            )
            .or_else(
                || match c.downcast_ref::<origintrace::import::ImportError>() {
                    Some(origintrace::import::ImportError::Dataset(d)) => Some(d),
                    _ => None,
                },
            )?;
        matches!(d, DatasetError::Rejected { .. }).then_some(d)
    })
}
