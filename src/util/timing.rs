//! Phase timings on stderr, for finding where a run spends its time at scale without a profiler.
//!
//! Off unless the environment variable `ORIGINTRACE_TIMINGS` is set (to anything but `0`): then each
//! [`phase`] prints one line, `timing: NAME S.SSS s (total T.TTT s, rss R MiB, peak P MiB)`, to stderr,
//! the memory figures where the system reports them (Linux: `/proc/self/status`): resident now, and the
//! peak so far. Nothing in a report depends on it, so outputs stay byte-identical with it on or off.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

struct Clock {
    start: Instant,
    last: Mutex<Instant>,
}

fn clock() -> Option<&'static Clock> {
    static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            let on = std::env::var_os("ORIGINTRACE_TIMINGS").is_some_and(|v| v != "0");
            on.then(|| {
                let now = Instant::now();
                Clock {
                    start: now,
                    last: Mutex::new(now),
                }
            })
        })
        .as_ref()
}

/// Starts the clock (call it first thing, so the first phase counts from process start).
pub fn start() {
    let _ = clock();
}

/// Ends a phase: prints the time since the previous phase ended, when timings are on.
pub fn phase(name: &str) {
    if let Some(c) = clock() {
        let now = Instant::now();
        if let Ok(mut last) = c.last.lock() {
            eprintln!(
                "timing: {name} {:.3} s (total {:.3} s{})",
                (now - *last).as_secs_f64(),
                (now - c.start).as_secs_f64(),
                memory()
            );
            *last = now;
        }
    }
}

/// `, rss R MiB, peak P MiB` from `/proc/self/status`, or nothing where it cannot be read.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    match (kib("VmRSS:"), kib("VmHWM:")) {
        (Some(rss), Some(peak)) => format!(", rss {} MiB, peak {} MiB", rss / 1024, peak / 1024),
        _ => String::new(),
    }
}
