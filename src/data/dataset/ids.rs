//! Typed row indices into a [`Dataset`](super::Dataset)'s tables.
//!
//! Every table is addressed by a 32-bit row number. As bare `u32`s, a party's row and a shipment's could
//! be passed one for the other, and that compiled and silently read the wrong row; each table now has its
//! own index type. They are `#[repr(transparent)]` over the `u32`, so a `Vec<ShipmentId>` has exactly the
//! layout of a `Vec<u32>` (the index's flat lists stay flat), and `#[serde(transparent)]`, so a stored
//! index has the bytes it had as a plain integer.

use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize,
            Deserialize,
        )]
        #[repr(transparent)]
        #[serde(transparent)]
        pub struct $name(u32);

        impl $name {
            /// The row numbered `i`, as files, snapshots and the index's lists store it.
            #[inline]
            pub const fn new(i: u32) -> $name {
                $name(i)
            }

            /// The row at position `i` of its table. Tables hold fewer than 2^32 rows (the loader
            /// counts them in `u32`), so the conversion keeps the value.
            #[inline]
            pub const fn from_index(i: usize) -> $name {
                $name(i as u32)
            }

            /// The row's position in its table, to index the `Vec` that holds it.
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }

            /// The row number as stored: snapshots write it as a little-endian `u32`.
            #[inline]
            pub const fn get(self) -> u32 {
                self.0
            }

            /// The rows `start..end`, in order.
            pub fn range(
                start: $name,
                end: $name,
            ) -> impl DoubleEndedIterator<Item = $name> + ExactSizeIterator {
                (start.0..end.0).map($name)
            }

            /// Every row of a table of `len` rows, in order.
            pub fn all(len: usize) -> impl DoubleEndedIterator<Item = $name> + ExactSizeIterator {
                $name::range($name(0), $name::from_index(len))
            }
        }
    };
}

row_id! {
    /// A party: its row in [`Dataset::parties`](super::Dataset::parties).
    PartyId
}

row_id! {
    /// A shipment: its row in [`Dataset::shipments`](super::Dataset::shipments).
    ShipmentId
}

row_id! {
    /// A supplier link: its row in [`Dataset::links`](super::Dataset::links).
    LinkId
}

row_id! {
    /// A statistics row: its row in [`Dataset::flows`](super::Dataset::flows).
    FlowId
}
