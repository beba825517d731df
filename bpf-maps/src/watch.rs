//! `map watch`: successive readings of a map turned into changes and rates.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::diff::{Diff, diff};
use super::read::{self, Entries};
use super::{MapError, OpenMap, Schema};

/// Watches one map.
pub struct Watch<'a> {
    map: &'a OpenMap,
    schema: &'a Schema,
    prev: Entries,
    at: Instant,
}

/// What changed since the previous reading.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// Time since the previous reading.
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    /// Entries in the map now.
    pub entries: usize,
    /// Added, removed and changed entries.
    #[serde(flatten)]
    pub diff: Diff,
    /// Per changed integer field: how fast it moves, per second.
    pub rates: Vec<Rate>,
}

/// The speed of one integer field of one entry.
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    /// The entry's key.
    pub key: Value,
    /// The field's path in the value.
    pub path: String,
    /// Change per second (negative when it goes down).
    pub per_second: f64,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl<'a> Watch<'a> {
    /// Takes the first reading.
    pub fn new(map: &'a OpenMap, schema: &'a Schema) -> Result<Self, MapError> {
        Ok(Self {
            map,
            schema,
            prev: read::read_all(map)?,
            at: Instant::now(),
        })
    }

    /// Reads again and reports what changed since the previous reading.
    pub fn tick(&mut self) -> Result<Tick, MapError> {
        let now = read::read_all(self.map)?;
        let at = Instant::now();
        let elapsed = at - self.at;
        let d = diff(&self.prev, &now, self.schema);
        let secs = elapsed.as_secs_f64().max(1e-9);
        let rates = d
            .changed
            .iter()
            .flat_map(|c| {
                c.fields.iter().filter_map(move |f| {
                    let delta = match (f.old.as_i64(), f.new.as_i64()) {
                        (Some(o), Some(n)) => n.wrapping_sub(o) as f64,
                        _ => f.new.as_u64()? as f64 - f.old.as_u64()? as f64,
                    };
                    Some(Rate {
                        key: c.key.clone(),
                        path: f.path.clone(),
                        per_second: delta / secs,
                    })
                })
            })
            .collect();
        self.prev = now;
        self.at = at;
        Ok(Tick {
            elapsed,
            entries: self.prev.len(),
            diff: d,
            rates,
        })
    }
}
