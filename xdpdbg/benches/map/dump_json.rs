//! Reading the dumps' JSON as it streams in, counting entries without keeping them.

use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};

/// Counts the elements of a JSON array, each read as a `T` (so checked to be one) and dropped.
pub struct CountOf<T> {
    /// How many elements the array held.
    pub count: u64,
    element: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for CountOf<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = CountOf<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an array of {}", std::any::type_name::<T>())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CountOf<T>, A::Error> {
                let mut count = 0;
                while seq.next_element::<T>()?.is_some() {
                    count += 1;
                }
                Ok(CountOf {
                    count,
                    element: PhantomData,
                })
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// A `{"key": ..., "value": ...}` object of a dump, its contents ignored.
#[derive(Deserialize)]
pub struct Entry {
    #[serde(rename = "key")]
    _key: IgnoredAny,
    #[serde(rename = "value")]
    _value: IgnoredAny,
}

/// Counts the elements of any JSON array (bpftool's dump).
pub type Count = CountOf<IgnoredAny>;

/// What `xdpdbg map dump --json` prints, entries counted.
#[derive(Deserialize)]
pub struct XdpdbgDump {
    #[serde(rename = "map")]
    _map: IgnoredAny,
    pub method: serde_json::Value,
    pub guarantee: serde_json::Value,
    pub entries: CountOf<Entry>,
}
