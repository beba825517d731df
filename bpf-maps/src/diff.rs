//! Comparing two readings of a map: entries added, removed and changed, field by field.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::Schema;
use super::read::Entries;

/// What changed between two readings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// Entries only in the newer reading.
    pub added: Vec<Value>,
    /// Entries only in the older reading.
    pub removed: Vec<Value>,
    /// Entries in both whose value differs.
    pub changed: Vec<Changed>,
}

/// One entry whose value changed.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    /// The key.
    pub key: Value,
    /// Each changed field: its path, old and new value.
    pub fields: Vec<FieldChange>,
}

/// One field that changed.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// Dotted path in the value (`""` for a scalar value).
    pub path: String,
    /// Value in the older reading.
    pub old: Value,
    /// Value in the newer reading.
    pub new: Value,
}

impl Diff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Compares `old` and `new` (raw bytes decide what changed; `schema` names it).
pub fn diff(old: &Entries, new: &Entries, schema: &Schema) -> Diff {
    let before: HashMap<&[u8], &[u8]> = old.iter().collect();
    let after: HashMap<&[u8], &[u8]> = new.iter().collect();
    let mut d = Diff::default();
    for (k, v) in new.iter() {
        match before.get(k) {
            None => d.added.push(schema.entry_json(k, v, false)),
            Some(ov) if *ov != v => d.changed.push(Changed {
                key: schema.decode_key(k),
                fields: field_changes(&schema.decode_value(ov), &schema.decode_value(v)),
            }),
            Some(_) => {}
        }
    }
    for (k, v) in old.iter() {
        if !after.contains_key(k) {
            d.removed.push(schema.entry_json(k, v, false));
        }
    }
    d
}

/// The leaves that differ between two decoded values.
pub fn field_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    if out.is_empty() && old != new {
        out.push(FieldChange {
            path: String::new(),
            old: old.clone(),
            new: new.clone(),
        });
    }
    out
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                walk(&join(k), v, b.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                walk(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if old != new => out.push(FieldChange {
            path: path.to_string(),
            old: old.clone(),
            new: new.clone(),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_that_differ_are_named_by_path() {
        let a = json!({"packets": 1, "addr": {"ip": "10.0.0.1", "port": 80}, "v": [1, 2]});
        let b = json!({"packets": 5, "addr": {"ip": "10.0.0.1", "port": 81}, "v": [1, 3]});
        let paths: Vec<String> = field_changes(&a, &b).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, ["packets", "addr.port", "v[1]"]);
        assert_eq!(field_changes(&json!(3), &json!(4))[0].path, "");
    }
}
