//! Reading the dumps' JSON as it streams in, counting entries without keeping them.

use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};

/// Counts the elements of a JSON array without keeping them.
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        d.deserialize_seq(V)
    }
}

/// Counts `entries` and checks each is a `{"key": ..., "value": ...}` object.
pub struct Entries(pub u64);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Entry {
            #[serde(rename = "key")]
            _key: IgnoredAny,
            #[serde(rename = "value")]
            _value: IgnoredAny,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of {key, value} objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entries, A::Error> {
                let mut n = 0;
                while seq.next_element::<Entry>()?.is_some() {
                    n += 1;
                }
                Ok(Entries(n))
            }
        }
        d.deserialize_seq(V)
    }
}

/// What `xdpdbg map dump --json` prints, entries counted.
#[derive(Deserialize)]
pub struct XdpdbgDump {
    #[serde(rename = "map")]
    _map: IgnoredAny,
    pub method: serde_json::Value,
    pub guarantee: serde_json::Value,
    pub entries: Entries,
}
