//! The command line: what it accepts, as types ([`args`]), and one function per command that runs it
//! through the library ([`commands`]) and writes its output ([`output`]).

mod args;
mod commands;
mod output;

pub use args::Cli;
use args::Command;
pub use output::emit;

use anyhow::Result;

/// What a command produced: the bytes for stdout or `-o` (`None` when the command wrote its own files, as
/// `build`, `import` and `synth` do with `-o`, or streamed its output), and whether `--fail-on` tripped.
pub struct Outcome {
    pub bytes: Option<Vec<u8>>,
    pub failed: bool,
}

/// Runs the command. Before anything is read, it refuses to write over any of its own inputs.
pub fn run(cli: Cli) -> Result<Outcome> {
    let command = cli.command;
    let sidecar = command.output().map(output::settings_sidecar);
    let outputs: Vec<&std::path::Path> = command
        .output()
        .into_iter()
        .chain(command.rejects())
        .chain(sidecar.as_deref())
        .collect();
    origintrace::util::output::refuse_inputs(&outputs, &command.inputs())?;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    crate::HUGE_PAGES.store(
        command.reads_at_random(),
        std::sync::atomic::Ordering::Relaxed,
    );
    match command {
        Command::Check(a) => commands::check(a),
        Command::Build(a) => commands::build(a),
        Command::Trace(a) => commands::trace(a),
        Command::Vet(a) => commands::vet(a),
        Command::Paths(a) => commands::paths(a),
        Command::Synth(a) => commands::synth(a),
        Command::Import(a) => commands::import(a),
        Command::Report(a) => commands::report(a),
        Command::Export(a) => commands::export(a),
    }
}
