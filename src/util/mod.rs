//! The lowest layer: tools that know nothing of trade, used by every layer above.

pub mod codec;
pub mod fmt;
pub mod fxhash;
pub mod output;
pub mod text;
pub mod timing;
