//! Serde helpers for the types that a snapshot stores: a hash map written in key order, decimals as raw
//! bytes. They sit here, below the types that name them in their serde attributes (the engine's pool index),
//! so that no type reaches up into [`crate::snapshot`] for its own encoding.

use serde::Serialize;
use std::collections::HashMap;

/// Serialises a hash map in key order, so building the same data twice gives the same file.
pub fn sorted_map<K, V, H, S>(m: &HashMap<K, V, H>, s: S) -> Result<S::Ok, S::Error>
where
    K: Serialize + Ord,
    V: Serialize,
    S: serde::Serializer,
{
    let mut v: Vec<(&K, &V)> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    s.collect_map(v)
}

/// Serialises `Vec<Decimal>` as 16 raw bytes each: the text form the `serde-str` feature gives would make
/// decoding the pool index parse a string per running sum.
pub mod decimals {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Decimal], s: S) -> Result<S::Ok, S::Error> {
        let mut b = Vec::with_capacity(v.len() * 16);
        for d in v {
            b.extend_from_slice(&d.serialize());
        }
        s.serialize_bytes(&b)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Decimal>, D::Error> {
        let b: &[u8] = <&[u8]>::deserialize(d)?;
        if !b.len().is_multiple_of(16) {
            return Err(serde::de::Error::custom("decimal array length"));
        }
        Ok(b.chunks_exact(16)
            .map(|c| {
                let mut a = [0u8; 16];
                a.copy_from_slice(c);
                Decimal::deserialize(a)
            })
            .collect())
    }
}
