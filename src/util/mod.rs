//! The lowest layer: tools that know nothing of trade, used by every layer above.

pub(crate) mod codec;
pub(crate) mod fmt;
pub(crate) mod fxhash;
pub mod output;
pub mod progress;
pub mod text;
pub mod timing;
