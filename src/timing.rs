//! Phase timings on stderr, for finding where a run spends its time at scale without a profiler.
//!
//! Off unless the environment variable `ORIGINTRACE_TIMINGS` is set (to anything but `0`): then each
//! [`phase`] prints one line, `timing: NAME S.SSS s (total T.TTT s)`, to stderr. Nothing in a report
//! depends on it, so outputs stay byte-identical with it on or off.

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
                "timing: {name} {:.3} s (total {:.3} s)",
                (now - *last).as_secs_f64(),
                (now - c.start).as_secs_f64()
            );
            *last = now;
        }
    }
}
