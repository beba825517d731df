//! What the browser reads from and writes to the kernel, through the map library.
//!
//! The browser holds no file descriptor between two operations: each one opens the map by
//! id, so watching a map never keeps it alive after its owner lets it go, and a map that
//! vanishes is noticed at the next refresh.

use bpf_maps::inventory::{self, MapSummary};
use bpf_maps::{MapError, OpenMap, Schema, kind, read};

use super::state::{Entry, EntrySet, Failure};

/// Where the browser's data comes from (the kernel, or a fake in tests).
pub trait Source {
    /// Every map on the system.
    fn maps(&mut self) -> Result<Vec<MapSummary>, String>;
    /// Every entry of map `id`, decoded.
    fn entries(&mut self, id: u32) -> Result<EntrySet, Failure>;
    /// Deletes `key` from map `id`; returns what to tell the user.
    fn delete(&mut self, id: u32, key: &[u8]) -> Result<String, Failure>;
    /// Applies `text` (edits or a whole value) onto the current value of `key` in map `id`.
    fn edit(&mut self, id: u32, key: &[u8], text: &str) -> Result<String, Failure>;
}

/// The maps of the running kernel.
#[derive(Default)]
pub struct Kernel {
    /// The map last opened: its identity and schema, so BTF is fetched once per map.
    cached: Option<(Identity, Schema)>,
}

/// What tells a map apart from another that reused its id.
#[derive(Clone, PartialEq, Eq)]
struct Identity {
    id: u32,
    name: String,
    map_type: u32,
    key_size: u32,
    value_size: u32,
    btf_id: u32,
}

impl Identity {
    fn of(map: &OpenMap) -> Self {
        Self {
            id: map.info.id,
            name: map.info.name.clone(),
            map_type: map.info.map_type,
            key_size: map.info.key_size,
            value_size: map.info.value_size,
            btf_id: map.info.btf_id,
        }
    }
}

fn failed(e: MapError) -> Failure {
    Failure::Failed(e.to_string())
}

impl Kernel {
    /// Opens map `id` again; a map that is gone, or whose id now names another map, is
    /// [`Failure::Gone`].
    fn open(&mut self, id: u32) -> Result<(OpenMap, Schema), Failure> {
        let map = match bpf_maps::open(&format!("id:{id}")) {
            Ok(m) => m,
            Err(MapError::NotFound(_)) => return Err(Failure::Gone(id)),
            Err(e) => return Err(failed(e)),
        };
        let identity = Identity::of(&map);
        if let Some((known, schema)) = &self.cached
            && known.id == id
        {
            if *known != identity {
                self.cached = None;
                return Err(Failure::Gone(id));
            }
            return Ok((map, schema.clone()));
        }
        let schema = Schema::of(&map).map_err(failed)?;
        self.cached = Some((identity, schema.clone()));
        Ok((map, schema))
    }

    /// Reads the current value of `key`, the whole lookup buffer (every CPU's copy).
    fn current(map: &OpenMap, key: &[u8]) -> Result<Option<Vec<u8>>, Failure> {
        let mut buf = vec![0u8; read::value_len(map).map_err(failed)?];
        match map.fd.lookup(key, &mut buf, 0) {
            Ok(true) => Ok(Some(buf)),
            Ok(false) => Ok(None),
            Err(e) => Err(failed(e.into())),
        }
    }
}

impl Source for Kernel {
    fn maps(&mut self) -> Result<Vec<MapSummary>, String> {
        inventory::list().map_err(|e| e.to_string())
    }

    fn entries(&mut self, id: u32) -> Result<EntrySet, Failure> {
        let (map, schema) = self.open(id)?;
        let read = read::read_all(&map).map_err(failed)?;
        let entries = read
            .iter()
            .map(|(k, v)| {
                let full = schema.entry_json(k, v, true);
                let one = one_cpu(&schema, v);
                Entry::new(k.to_vec(), full, one)
            })
            .collect();
        Ok(EntrySet {
            id,
            name: map.info.name.clone(),
            kind: kind::type_name(map.info.map_type),
            max_entries: map.info.max_entries,
            is_array: kind::is_array(map.info.map_type),
            per_cpu: schema.per_cpu(),
            method: read.method.name(),
            schema,
            entries,
        })
    }

    fn delete(&mut self, id: u32, key: &[u8]) -> Result<String, Failure> {
        let (map, schema) = self.open(id)?;
        let shown = super::state::compact(&schema.decode_key(key));
        match map.fd.delete(key) {
            Ok(true) => Ok(format!("deleted key {shown}")),
            Ok(false) => Err(Failure::Failed(format!(
                "key {shown} was already gone (deleted by someone else)"
            ))),
            Err(e) => Err(failed(e.into())),
        }
    }

    fn edit(&mut self, id: u32, key: &[u8], text: &str) -> Result<String, Failure> {
        let (map, schema) = self.open(id)?;
        let shown = super::state::compact(&schema.decode_key(key));
        let Some(current) = Self::current(&map, key)? else {
            return Err(Failure::Failed(format!(
                "key {shown} is gone (deleted by someone else); nothing was written"
            )));
        };
        let value_size = map.info.value_size as usize;
        let one = schema
            .edit_value(text, &current[..value_size])
            .map_err(|e| Failure::Failed(format!("not written: {e}")))?;
        let bytes = schema.replicate(&one);
        // EXIST: never re-create a key deleted since the lookup.
        map.fd
            .update(key, &bytes, bpf_sys::EXIST)
            .map_err(|e| match e.errno() {
                libc::ENOENT => Failure::Failed(format!(
                    "key {shown} was deleted meanwhile; nothing was written"
                )),
                _ => failed(e.into()),
            })?;
        let value = super::state::compact(&one_cpu(&schema, &bytes));
        Ok(match schema.per_cpu() {
            Some(n) => format!("key {shown} now holds {value} on each of {n} CPUs"),
            None => format!("key {shown} now holds {value}"),
        })
    }
}

/// The value as one lookup returned it, decoded; for per-CPU maps, CPU 0's copy.
fn one_cpu(schema: &Schema, bytes: &[u8]) -> serde_json::Value {
    schema
        .decode_per_cpu(bytes)
        .into_iter()
        .next()
        .unwrap_or(serde_json::Value::Null)
}
