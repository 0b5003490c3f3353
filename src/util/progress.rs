//! Progress on a terminal: each long phase of a run (reading a file, building the index, the pass in date
//! order, writing) shows its name, how far it is where that is known, and the time it has taken, so a
//! national-scale run is never silent for a minute. Nothing is drawn when stderr is not a terminal (a
//! script, CI, a pipe), and nothing here changes an output.
//!
//! A phase is a value: it draws from [`bar`] or [`spinner`] until it is dropped, so an early return or an
//! error clears it too. One phase is drawn at a time; phases do not nest.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

/// Whether progress is drawn: stderr is a terminal, and `ORIGINTRACE_PROGRESS` is not `0` (for a terminal
/// session that wants a quiet stderr).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        std::io::stderr().is_terminal()
            && std::env::var_os("ORIGINTRACE_PROGRESS").is_none_or(|v| v != "0")
    })
}

/// A phase being drawn; cleared when dropped.
pub struct Phase(Option<ProgressBar>);

/// Starts drawing a phase whose length is known: a bar of `total` `unit`s, with the time taken.
pub fn bar(label: &str, total: u64, unit: &str) -> Phase {
    if !enabled() {
        return Phase(None);
    }
    let pb = ProgressBar::new(total);
    let template = format!("{{msg}} {{bar:40}} {{pos}}/{{len}} {unit} ({{elapsed}})");
    pb.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(label.to_string());
    Phase(Some(pb))
}

/// Starts drawing a phase whose length is not known: a spinner with the time taken.
pub fn spinner(label: &str) -> Phase {
    if !enabled() {
        return Phase(None);
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb.set_message(label.to_string());
    Phase(Some(pb))
}

impl Phase {
    /// Adds `n` units done.
    pub fn inc(&self, n: u64) {
        if let Some(pb) = &self.0 {
            pb.inc(n);
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under `cargo test` stderr is captured, not a terminal: a phase draws nothing and counts nothing.
    #[test]
    fn nothing_is_drawn_off_a_terminal() {
        if std::io::stderr().is_terminal() {
            return;
        }
        let p = bar("loading", 10, "rows");
        p.inc(3);
        assert!(p.0.is_none());
        assert!(spinner("indexing").0.is_none());
        assert!(!enabled());
    }
}
