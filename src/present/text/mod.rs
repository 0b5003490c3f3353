//! Text for a person at a terminal: `trace`, `vet`, `paths` and `check`, one file per view.

mod check;
mod trace;
mod vet;
mod walk;

/// The text renderer: [`crate::present::Render`] for `TraceJson`, `VetJson`, `WalkJson` and `CheckReport`.
pub struct Text;
