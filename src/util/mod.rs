//! The lowest layer: tools that know nothing of trade, used by every layer above.

pub mod fxhash;
pub mod output;
pub mod timing;
