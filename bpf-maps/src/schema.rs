//! A map's key and value types, from its BTF, and the JSON forms of its entries.

use serde_json::{Value, json};

use super::{MapError, OpenMap, kind, read};
use crate::typed::{self, TypeRef, Types};
use bpf_sys::MapInfo;

/// How to read and write one map's keys and values.
#[derive(Clone)]
pub struct Schema {
    /// The key type, when the map has BTF for it.
    pub key: Option<TypeRef>,
    /// The value type, when the map has BTF for it.
    pub value: Option<TypeRef>,
    /// The map's raw BTF (kept so snapshots decode without the live map).
    pub btf: Option<Vec<u8>>,
    key_size: usize,
    value_size: usize,
    per_cpu: Option<usize>,
}

impl Schema {
    /// The schema of an open map (fetches its BTF from the kernel).
    pub fn of(map: &OpenMap) -> Result<Self, MapError> {
        let btf = if map.info.btf_id != 0 {
            Some(bpf_sys::btf_data(map.info.btf_id)?)
        } else {
            None
        };
        let cpus = if kind::is_per_cpu(map.info.map_type) {
            Some(read::possible_cpus()?)
        } else {
            None
        };
        Self::from_parts(&map.info, btf, cpus)
    }

    /// A schema from saved parts (a snapshot's header).
    pub fn from_parts(
        info: &MapInfo,
        btf: Option<Vec<u8>>,
        per_cpu: Option<usize>,
    ) -> Result<Self, MapError> {
        let (mut key, mut value) = (None, None);
        if let Some(raw) = &btf {
            let types = Types::from_bytes(raw)?;
            if info.btf_key_type_id != 0 {
                key = Some(types.get(info.btf_key_type_id)?);
            }
            if info.btf_value_type_id != 0 {
                value = Some(types.get(info.btf_value_type_id)?);
            }
        }
        Ok(Self {
            key,
            value,
            btf,
            key_size: info.key_size as usize,
            value_size: info.value_size as usize,
            per_cpu,
        })
    }

    /// The size of one value (one CPU's copy).
    pub fn value_size(&self) -> usize {
        self.value_size
    }

    /// The number of per-CPU copies of each value, for per-CPU maps.
    pub fn per_cpu(&self) -> Option<usize> {
        self.per_cpu
    }

    /// C spellings of the key and value types (`"struct fdb_key"`), or `"<N bytes>"`.
    pub fn type_names(&self) -> (String, String) {
        let name = |t: &Option<TypeRef>, n: usize| {
            t.as_ref()
                .map_or_else(|| format!("<{n} bytes>"), |t| t.c_name())
        };
        (
            name(&self.key, self.key_size),
            name(&self.value, self.value_size),
        )
    }

    /// The key as JSON: typed when there is BTF, else hex.
    pub fn decode_key(&self, bytes: &[u8]) -> Value {
        decode(self.key.as_ref(), bytes)
    }

    /// The value as JSON; per-CPU values are summed across CPUs (integers add up).
    pub fn decode_value(&self, bytes: &[u8]) -> Value {
        match self.per_cpu {
            None => decode(self.value.as_ref(), bytes),
            Some(_) if self.value.is_none() => Value::Null,
            Some(_) => {
                let mut cpus = self.decode_per_cpu(bytes).into_iter();
                let first = cpus.next().unwrap_or(Value::Null);
                cpus.fold(first, |acc, v| sum(&acc, &v))
            }
        }
    }

    /// Each CPU's copy of a per-CPU value, in CPU order (a one-element list otherwise).
    pub fn decode_per_cpu(&self, bytes: &[u8]) -> Vec<Value> {
        match self.per_cpu {
            None => vec![self.decode_value(bytes)],
            Some(n) => {
                let slot = read::slot_size(self.value_size);
                (0..n)
                    .filter_map(|cpu| bytes.get(cpu * slot..cpu * slot + self.value_size))
                    .map(|b| decode(self.value.as_ref(), b))
                    .collect()
            }
        }
    }

    /// One entry as JSON: `{"key": .., "value": ..}`, plus `"per_cpu": [..]` when asked for or
    /// when a per-CPU value has no BTF to sum it by.
    pub fn entry_json(&self, key: &[u8], value: &[u8], with_per_cpu: bool) -> Value {
        let mut e = json!({ "key": self.decode_key(key), "value": self.decode_value(value) });
        if self.per_cpu.is_some() && (with_per_cpu || self.value.is_none()) {
            e["per_cpu"] = Value::Array(self.decode_per_cpu(value));
        }
        e
    }

    /// A writer of this map's entries as compact JSON, straight from their bytes, with the
    /// key and value types compiled once: the fast path of large dumps.
    pub fn entry_writer(&self) -> EntryWriter<'_> {
        let side = |t: &Option<TypeRef>, size: usize| match t {
            Some(t) if t.size() == size => Side::Plan(t.json_plan()),
            _ => Side::Hex,
        };
        let key = side(&self.key, self.key_size);
        let value = match self.per_cpu {
            None => side(&self.value, self.value_size),
            Some(_) => Side::Summed,
        };
        let entry = match (&self.key, &self.value, &key, &value) {
            (Some(k), Some(v), Side::Plan(_), Side::Plan(_)) => Some((
                k.json_plan_between("{\"key\":", ",\"value\":"),
                v.json_plan_between("", "}"),
            )),
            _ => None,
        };
        EntryWriter {
            schema: self,
            key,
            value,
            entry,
        }
    }

    /// Encodes a key typed in the dump's notation, checked against the BTF (or hex without).
    pub fn encode_key(&self, text: &str) -> Result<Vec<u8>, MapError> {
        encode(self.key.as_ref(), text, self.key_size, "key")
    }

    /// Encodes a whole value (one CPU's copy), checked against the BTF (or hex without).
    pub fn encode_value(&self, text: &str) -> Result<Vec<u8>, MapError> {
        encode(self.value.as_ref(), text, self.value_size, "value")
    }

    /// Applies `field=value` edits onto an existing value (one CPU's copy).
    pub fn edit_value(&self, text: &str, base: &[u8]) -> Result<Vec<u8>, MapError> {
        match &self.value {
            Some(t) => Ok(t.encode_onto(text, base)?),
            None => encode(None, text, self.value_size, "value"),
        }
    }

    /// The bytes one lookup/update of this map takes for `one` copy of the value: per-CPU maps
    /// get the copy on every CPU.
    pub fn replicate(&self, one: &[u8]) -> Vec<u8> {
        match self.per_cpu {
            None => one.to_vec(),
            Some(n) => {
                let slot = read::slot_size(self.value_size);
                let mut out = vec![0u8; slot * n];
                for cpu in 0..n {
                    out[cpu * slot..cpu * slot + one.len()].copy_from_slice(one);
                }
                out
            }
        }
    }
}

/// Writes a map's keys and values as compact JSON, exactly as `serde_json` writes what
/// [`Schema::decode_key`], [`Schema::decode_value`] and [`Schema::entry_json`] return, without
/// building them in memory: each type is compiled once into a [`typed::JsonPlan`].
pub struct EntryWriter<'s> {
    schema: &'s Schema,
    key: Side,
    value: Side,
    /// With both sides typed: the key's plan between `{"key":` and `,"value":`, the value's
    /// followed by `}`, so a whole entry is two plans.
    entry: Option<(typed::JsonPlan, typed::JsonPlan)>,
}

/// How one side of an entry is written.
enum Side {
    /// Through the type's compiled plan.
    Plan(typed::JsonPlan),
    /// As a hex string: no BTF, or BTF of another size than the map's.
    Hex,
    /// Per-CPU values, summed across CPUs through [`Schema::decode_value`].
    Summed,
}

impl EntryWriter<'_> {
    /// Appends the key's JSON to `out` (what [`Schema::decode_key`] returns).
    pub fn write_key(&self, key: &[u8], out: &mut Vec<u8>) {
        self.write(&self.key, key, out);
    }

    /// Appends the value's JSON to `out` (what [`Schema::decode_value`] returns: per-CPU
    /// values summed).
    pub fn write_value(&self, value: &[u8], out: &mut Vec<u8>) {
        self.write(&self.value, value, out);
    }

    /// Appends `{"key":..,"value":..}` to `out`: [`Schema::entry_json`] without `per_cpu`.
    pub fn write_entry(&self, key: &[u8], value: &[u8], out: &mut Vec<u8>) {
        if let Some((k, v)) = &self.entry
            && k.size() == key.len()
            && v.size() == value.len()
        {
            // Neither can fail: the sizes fit.
            let _ = k.write(key, out);
            let _ = v.write(value, out);
            return;
        }
        out.extend_from_slice(b"{\"key\":");
        self.write_key(key, out);
        out.extend_from_slice(b",\"value\":");
        self.write_value(value, out);
        out.push(b'}');
    }

    fn write(&self, side: &Side, bytes: &[u8], out: &mut Vec<u8>) {
        match side {
            // The plan refuses only bytes of another size, which decoding shows as hex.
            Side::Plan(plan) if plan.write(bytes, out).is_ok() => {}
            Side::Plan(_) | Side::Hex => {
                out.push(b'"');
                out.extend_from_slice(typed::hex(bytes).as_bytes());
                out.push(b'"');
            }
            // Writing to memory cannot fail; a decoded value always serializes.
            Side::Summed => {
                let _ = serde_json::to_writer(out, &self.schema.decode_value(bytes));
            }
        }
    }
}

fn decode(t: Option<&TypeRef>, bytes: &[u8]) -> Value {
    match t {
        Some(t) => t
            .decode(bytes)
            .unwrap_or_else(|_| Value::String(typed::hex(bytes))),
        None => Value::String(typed::hex(bytes)),
    }
}

fn encode(t: Option<&TypeRef>, text: &str, size: usize, what: &str) -> Result<Vec<u8>, MapError> {
    if let Some(t) = t {
        return Ok(t.encode(text)?);
    }
    // Without BTF: hex bytes, or a plain unsigned number for 4- and 8-byte keys/values.
    let bytes = match text.trim().parse::<u64>() {
        Ok(n) if size == 4 && n <= u32::MAX as u64 => (n as u32).to_ne_bytes().to_vec(),
        Ok(n) if size == 8 => n.to_ne_bytes().to_vec(),
        _ => typed::parse_hex(text)?,
    };
    if bytes.len() != size {
        return Err(MapError::Input(format!(
            "the {what} has {} bytes but the map takes {size}; this map has no BTF, so give \
             the {what} as {size} hex bytes (for example `{}`)",
            bytes.len(),
            typed::hex(&vec![0u8; size])
        )));
    }
    Ok(bytes)
}

/// Adds two decoded values: integers add up, objects and arrays member by member, anything
/// else keeps the first.
pub(crate) fn sum(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                json!(x.wrapping_add(y))
            } else if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                json!(x.wrapping_add(y))
            } else {
                a.clone()
            }
        }
        (Value::Object(x), Value::Object(y)) => Value::Object(
            x.iter()
                .map(|(k, v)| (k.clone(), y.get(k).map_or_else(|| v.clone(), |w| sum(v, w))))
                .collect(),
        ),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            Value::Array(x.iter().zip(y).map(|(v, w)| sum(v, w)).collect())
        }
        _ => a.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_cpu_sums_add_integers_member_by_member() {
        let a = json!({"packets": 1, "bytes": 60, "name": "x", "v": [1, 2]});
        let b = json!({"packets": 2, "bytes": 40, "name": "y", "v": [3, 4]});
        assert_eq!(
            sum(&a, &b),
            json!({"packets": 3, "bytes": 100, "name": "x", "v": [4, 6]})
        );
    }
}
