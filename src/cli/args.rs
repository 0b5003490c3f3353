//! What the command line accepts, as types: one options struct per subcommand, holding only the options that
//! command uses, so its `--help` lists what applies and any other option is a usage error. Option groups
//! shared by several commands (the data options, the path limits, `--fail-on`) are flattened into exactly the
//! commands that take them. Formats, severities and tables are value enums: a value the command does not
//! take is refused when the line is parsed, naming the option and the values it takes.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use origintrace::engine::paths::{Limits, MAX_HOPS_BOUND, MAX_PATHS_BOUND};
use origintrace::engine::rules::Severity;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "origintrace",
    version,
    about = "Trace whether imported goods could carry inputs from a sanctioned origin, how much, by which path, and on what evidence."
)]
pub struct Cli {
    /// The data options may also come before the command (`origintrace --data DIR report`), as scripts
    /// written for the earlier command line do; [`Cli::resolve`] hands them to the command, or refuses them
    /// where the command reads no data.
    #[command(flatten)]
    pub before: DataArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data comes from and how rows that do not load are handled: for every command that reads data.
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Data options")]
pub struct DataArgs {
    /// Dataset directory (repeatable), or one snapshot file made by `build`. Default: the compiled-in sample.
    #[arg(long, value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// Settings file laid over the defaults and the dataset's own origintrace.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How many days an input may wait before it leaves in an output (overrides the settings).
    #[arg(long, value_name = "N")]
    pub lag_days: Option<i32>,
    #[command(flatten)]
    pub rows: RowArgs,
}

/// What to do with rejected rows: for the commands that read data, and `import`, which reads source files.
#[derive(Args, Clone, Debug, Default)]
pub struct RowArgs {
    /// Skip rejected rows instead of stopping (they are still counted, and written to --rejects).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Write rejected rows as CSV (file, line, column, reason, raw row).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

/// `-o` for the commands whose output goes to stdout unless told otherwise.
#[derive(Args, Clone, Debug, Default)]
pub struct OutputArg {
    /// Write the output to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--fail-on`: for the commands that raise flags.
#[derive(Args, Clone, Debug, Default)]
pub struct FailOn {
    /// Exit with 1 when a flag at or above this severity is raised.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    pub fail_on: Option<Level>,
}

impl FailOn {
    /// Whether a result of severity `s` trips `--fail-on`.
    pub fn trips(&self, s: Severity) -> bool {
        self.fail_on.is_some_and(|f| s >= f.severity())
    }
}

/// `--max-paths`: for the commands that collect record-level paths (`trace`, `report`).
#[derive(Args, Clone, Debug)]
pub struct MaxPaths {
    /// Safety limit: record-level paths collected per output (1 to 100000; each also allows the search a
    /// fixed amount of work, see docs/security.md "Bounded work").
    #[arg(long, default_value_t = Limits::default().max_paths, value_parser = bounded(MAX_PATHS_BOUND))]
    pub max_paths: usize,
}

/// `--max-hops`: for every command that searches paths (`trace`, `report`, `paths`).
#[derive(Args, Clone, Debug)]
pub struct MaxHops {
    /// Safety limit: hops per path (1 to 64).
    #[arg(long, default_value_t = Limits::default().max_hops, value_parser = bounded(MAX_HOPS_BOUND))]
    pub max_hops: usize,
}

/// The limits of a run: the command's own where it takes them, the defaults elsewhere.
pub fn limits(max_paths: Option<&MaxPaths>, max_hops: Option<&MaxHops>) -> Limits {
    let d = Limits::default();
    Limits {
        max_paths: max_paths.map_or(d.max_paths, |m| m.max_paths),
        max_hops: max_hops.map_or(d.max_hops, |m| m.max_hops),
        records: true,
        top: None,
    }
}

/// A count option from 1 to `max`, checked when the command line is parsed: 0 is a usage error rather than
/// a silent 1, and a huge value cannot buy unbounded work.
fn bounded(max: usize) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=max as u64)
}

/// A severity threshold (`--fail-on`, `--min-severity`): `none` is no threshold, so it is not offered.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn severity(self) -> Severity {
        match self {
            Level::Low => Severity::Low,
            Level::Medium => Severity::Medium,
            Level::High => Severity::High,
        }
    }
}

/// The formats of `trace`, `vet` and `paths`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFormat {
    Text,
    Json,
    Html,
}

/// The formats of `check`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Json,
}

/// The formats of `report`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Csv,
    Json,
    #[value(alias = "markdown")]
    Md,
    Html,
}

/// The formats of `export`. `parquet` is offered whether or not the feature is compiled in, so a build
/// without it can say how to get it instead of calling the format unknown.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Dot,
    Graphml,
    Json,
    Parquet,
}

/// The table of a CSV report. Matched exactly, as it always was (the formats and severities ignore case).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableArg {
    Shipments,
    Importers,
    Exporters,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read and validate everything: per-file counts, problems, superseded statistics rows, a summary.
    Check(CheckArgs),
    /// Read once, compute once, and save a snapshot (-o FILE) that later commands load with --data FILE.
    Build(BuildArgs),
    /// One shipment: its mix, flags and top paths, every number tied to its rows.
    Trace(TraceArgs),
    /// A supplier's profile: identity, watchlist, mix per heading, suppliers, pool, flags, next steps.
    Vet(VetArgs),
    /// Time-respecting paths from an origin country to a party.
    Paths(PathsArgs),
    /// Write a deterministic synthetic dataset (-o DIR) for benchmarks and scale tests.
    Synth(SynthArgs),
    /// Convert real-world source files (china-customs, comtrade, ams, ofac-sdn, opensanctions, csl) into
    /// canonical CSV files in the dataset directory -o DIR (appending to what it holds).
    Import(ImportArgs),
    /// Every shipment scored, with summaries per importer and per exporter.
    Report(ReportArgs),
    /// The goods-flow graph (countries, regions, parties; shipments, supplier links, statistics, pools) as
    /// DOT, GraphML or JSON (--format dot|graphml|json), whole or around one party; or, with --format parquet
    /// -o DIR (a build with the `parquet` feature), the canonical tables and every shipment's mix as Parquet.
    Export(ExportArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub out: OutputArg,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The snapshot file to write (atomically); required.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    pub shipment_id: String,
    /// How many paths to show (1 to 100000).
    #[arg(long, default_value_t = 5, value_parser = bounded(MAX_PATHS_BOUND))]
    pub paths: usize,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = PageFormat::Text)]
    pub format: PageFormat,
    #[command(flatten)]
    pub out: OutputArg,
    #[command(flatten)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub max_paths: MaxPaths,
    #[command(flatten)]
    pub max_hops: MaxHops,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct VetArgs {
    /// A party_id or a name.
    pub party: String,
    /// The day to vet as of (default: the last date in the data).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = PageFormat::Text)]
    pub format: PageFormat,
    #[command(flatten)]
    pub out: OutputArg,
    #[command(flatten)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct PathsArgs {
    #[arg(long, value_name = "XX")]
    pub from: String,
    #[arg(long, value_name = "PARTY")]
    pub to: String,
    /// Only goods of this HS code (prefix) into the party.
    #[arg(long)]
    pub hs: Option<String>,
    /// How many paths to list (1 to 100000).
    #[arg(long, default_value_t = 20, value_parser = bounded(MAX_PATHS_BOUND))]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = PageFormat::Text)]
    pub format: PageFormat,
    #[command(flatten)]
    pub out: OutputArg,
    #[command(flatten)]
    pub max_hops: MaxHops,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// How many shipments to generate.
    #[arg(long, default_value_t = 100_000)]
    pub shipments: usize,
    /// The seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The directory to write the dataset in; required.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The source format: china-customs, comtrade, ams, ofac-sdn, opensanctions or csl.
    pub format: String,
    /// The source files (AMS: every table of the extract; OFAC: sdn.csv with alt.csv and add.csv).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// china-customs: the month of a single-month download (YYYY-MM); once, or once per file.
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Vec<String>,
    /// china-customs: import or export (the files do not say); once, or once per file.
    #[arg(long, value_name = "import|export")]
    pub flow: Vec<String>,
    /// china-customs: USD per yuan for RMB values (written to rates.csv for each month).
    #[arg(long, value_name = "USD_PER_CNY")]
    pub rate: Option<String>,
    /// Replace the rows this source wrote before (a list whole; statistics for the periods the files
    /// cover), print what was added, removed and changed, and write DIR/changes-FORMAT.csv.
    #[arg(long)]
    pub replace: bool,
    /// The dataset directory to write the canonical files in (appending to what it holds); required.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub rows: RowArgs,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Only shipments with at least one flag.
    #[arg(long)]
    pub flagged_only: bool,
    /// Only shipments whose highest flag is at least this severity.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    pub min_severity: Option<Level>,
    /// The CSV table (--format csv only; the other formats hold every table) [default: shipments].
    #[arg(long, value_enum)]
    pub table: Option<TableArg>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ReportFormat::Csv)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub out: OutputArg,
    #[command(flatten)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub max_paths: MaxPaths,
    #[command(flatten)]
    pub max_hops: MaxHops,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Only the neighbourhood of this party (an id or a name).
    #[arg(long, value_name = "PARTY")]
    pub around: Option<String>,
    /// With --around: how many hops out, following edges either way.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub hops: usize,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ExportFormat::Dot)]
    pub format: ExportFormat,
    /// Write the output to FILE (atomically) instead of stdout; with --format parquet, the directory to
    /// write the files in (required).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
}

impl Cli {
    /// Parses the command line and refuses the combinations the types cannot: an option before the command
    /// that the command does not take, a missing `-o` where the command cannot do without one, `--table` with
    /// a format that is not CSV. Every error is a usage error, reported before any data is read.
    pub fn parse_checked() -> Result<Cli, clap::Error> {
        Cli::try_parse()?.resolve()
    }

    /// Hands the data options given before the command to the command (those given after it win, as they
    /// did when the options were global), and checks what clap cannot.
    fn resolve(mut self) -> Result<Cli, clap::Error> {
        let before = std::mem::take(&mut self.before);
        let name = self.command.name();
        match &mut self.command {
            Command::Check(a) => a.data.take_before(before),
            Command::Build(a) => a.data.take_before(before),
            Command::Trace(a) => a.data.take_before(before),
            Command::Vet(a) => a.data.take_before(before),
            Command::Paths(a) => a.data.take_before(before),
            Command::Report(a) => a.data.take_before(before),
            Command::Export(a) => a.data.take_before(before),
            Command::Import(a) => {
                refuse_before(name, &before, false)?;
                a.rows.take_before(before.rows);
            }
            Command::Synth(_) => refuse_before(name, &before, true)?,
        }
        match &self.command {
            Command::Build(a) => _ = a.output_path()?,
            Command::Synth(a) => _ = a.output_path()?,
            Command::Import(a) => _ = a.output_path()?,
            _ => {}
        }
        if let Command::Report(a) = &self.command
            && a.table.is_some()
            && a.format != ReportFormat::Csv
        {
            let f = a
                .format
                .to_possible_value()
                .map(|v| v.get_name().to_string());
            return Err(usage_error(
                name,
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--table applies to --format csv only, not --format {}: the other formats hold every table",
                    f.unwrap_or_default()
                ),
            ));
        }
        Ok(self)
    }

    /// Where the command writes what it prints (`-o`), if it was given.
    pub fn output(&self) -> Option<PathBuf> {
        self.command.output().map(Path::to_path_buf)
    }
}

impl DataArgs {
    /// Takes the options given before the command where the command did not give them itself.
    fn take_before(&mut self, before: DataArgs) {
        if self.data.is_empty() {
            self.data = before.data;
        }
        self.config = self.config.take().or(before.config);
        self.lag_days = self.lag_days.or(before.lag_days);
        self.rows.take_before(before.rows);
    }

    /// The data this run reads and how.
    pub fn request(&self) -> origintrace::session::Request {
        origintrace::session::Request {
            data: self.data.clone(),
            config: self.config.clone(),
            lag_days: self.lag_days,
            skip_invalid: self.rows.skip_invalid,
            rejects: self.rows.rejects.clone(),
        }
    }
}

impl RowArgs {
    fn take_before(&mut self, before: RowArgs) {
        self.skip_invalid |= before.skip_invalid;
        self.rejects = self.rejects.take().or(before.rejects);
    }
}

/// `-o` of a command that cannot run without it: a usage error, found before anything is read, whose
/// message says what the output is.
fn required_output<'a>(
    output: Option<&'a Path>,
    command: &str,
    what: &str,
) -> Result<&'a Path, clap::Error> {
    output.ok_or_else(|| {
        usage_error(
            command,
            clap::error::ErrorKind::MissingRequiredArgument,
            format!("{command} needs {what}"),
        )
    })
}

impl BuildArgs {
    pub fn output_path(&self) -> Result<&Path, clap::Error> {
        required_output(self.output.as_deref(), "build", "-o FILE for the snapshot")
    }
}

impl SynthArgs {
    pub fn output_path(&self) -> Result<&Path, clap::Error> {
        required_output(self.output.as_deref(), "synth", "-o DIR")
    }
}

impl ImportArgs {
    pub fn output_path(&self) -> Result<&Path, clap::Error> {
        required_output(
            self.output.as_deref(),
            "import",
            "-o DIR: the dataset directory to write",
        )
    }
}

/// Refuses data options given before a command that does not take them (`import` takes the two about rows).
fn refuse_before(command: &str, before: &DataArgs, rows_too: bool) -> Result<(), clap::Error> {
    let given = [
        ("--data", !before.data.is_empty()),
        ("--config", before.config.is_some()),
        ("--lag-days", before.lag_days.is_some()),
        ("--skip-invalid", rows_too && before.rows.skip_invalid),
        ("--rejects", rows_too && before.rows.rejects.is_some()),
    ];
    match given.iter().find(|(_, g)| *g) {
        Some((option, _)) => Err(usage_error(
            command,
            clap::error::ErrorKind::UnknownArgument,
            format!("{option} does not apply to {command}"),
        )),
        None => Ok(()),
    }
}

/// A usage error of `command`, printed as clap prints its own (with the command's usage line).
fn usage_error(command: &str, kind: clap::error::ErrorKind, msg: String) -> clap::Error {
    let mut cli = Cli::command();
    cli.build();
    match cli.find_subcommand_mut(command) {
        Some(sub) => sub.error(kind, msg),
        None => cli.error(kind, msg),
    }
}

impl Command {
    /// Whether this run goes on to read the data at random (see `HUGE_PAGES` in main.rs): every command but
    /// `check`, `synth` and `import`, which read and write in order.
    pub fn reads_at_random(&self) -> bool {
        !matches!(
            self,
            Command::Check(_) | Command::Synth(_) | Command::Import(_)
        )
    }

    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Build(_) => "build",
            Command::Trace(_) => "trace",
            Command::Vet(_) => "vet",
            Command::Paths(_) => "paths",
            Command::Synth(_) => "synth",
            Command::Import(_) => "import",
            Command::Report(_) => "report",
            Command::Export(_) => "export",
        }
    }

    /// Where the command writes its output (`-o`), if it was given.
    pub fn output(&self) -> Option<&Path> {
        match self {
            Command::Check(a) => a.out.output.as_deref(),
            Command::Build(a) => a.output.as_deref(),
            Command::Trace(a) => a.out.output.as_deref(),
            Command::Vet(a) => a.out.output.as_deref(),
            Command::Paths(a) => a.out.output.as_deref(),
            Command::Synth(a) => a.output.as_deref(),
            Command::Import(a) => a.output.as_deref(),
            Command::Report(a) => a.out.output.as_deref(),
            Command::Export(a) => a.output.as_deref(),
        }
    }

    /// The data options, for the commands that read data.
    pub fn data(&self) -> Option<&DataArgs> {
        match self {
            Command::Check(a) => Some(&a.data),
            Command::Build(a) => Some(&a.data),
            Command::Trace(a) => Some(&a.data),
            Command::Vet(a) => Some(&a.data),
            Command::Paths(a) => Some(&a.data),
            Command::Report(a) => Some(&a.data),
            Command::Export(a) => Some(&a.data),
            Command::Synth(_) | Command::Import(_) => None,
        }
    }

    /// Where rejected rows are written (`--rejects`), if asked.
    pub fn rejects(&self) -> Option<&Path> {
        match self {
            Command::Import(a) => a.rows.rejects.as_deref(),
            c => c.data().and_then(|d| d.rows.rejects.as_deref()),
        }
    }

    /// Every file the command may read: the data's files, and `import`'s sources.
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v = self
            .data()
            .map(|d| d.request().input_files())
            .unwrap_or_default();
        if let Command::Import(a) = self {
            v.extend(a.files.iter().cloned());
        }
        v
    }
}
