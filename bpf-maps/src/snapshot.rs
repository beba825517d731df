//! Saving a map's entries to a file, with the schema to decode them later, and loading it back.
//!
//! Two formats carry the same thing. JSON (`.json`) holds a header and every entry both decoded
//! and as raw hex. The binary format is compact: the magic `XDPSNAP1`, a little-endian `u32`
//! header length, the header as JSON, a `u64` entry count, then each entry's raw key and value
//! bytes back to back (sizes in the header). Both keep the map's BTF, so `map diff` decodes a
//! snapshot without the live map.

use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::read::{Entries, ReadMethod};
use super::{MapError, OpenMap, Schema, kind, read};
use crate::typed;
use bpf_sys::MapInfo;

const MAGIC: &[u8; 8] = b"XDPSNAP1";
const FORMAT: &str = "xdpdbg-snapshot";

/// The file format of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Self-describing JSON with decoded and raw forms.
    Json,
    /// Compact binary: header JSON, then raw records.
    Binary,
}

/// What a snapshot records about its map and how it was taken.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    /// Always `xdpdbg-snapshot`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Map id at the time.
    pub map_id: u32,
    /// Map name.
    pub map_name: String,
    /// Map type name.
    pub map_type: String,
    /// Map type number.
    pub map_type_id: u32,
    /// Key size.
    pub key_size: u32,
    /// Value size (per CPU).
    pub value_size: u32,
    /// Bytes per stored value (per-CPU maps: a slot per CPU).
    pub value_len: usize,
    /// Capacity.
    pub max_entries: u32,
    /// BTF type id of the key in `btf_hex`.
    pub btf_key_type_id: u32,
    /// BTF type id of the value in `btf_hex`.
    pub btf_value_type_id: u32,
    /// The map's raw BTF, as hex; absent without BTF.
    pub btf_hex: Option<String>,
    /// Possible CPUs, for per-CPU maps.
    pub per_cpu: Option<usize>,
    /// C type of the key.
    pub key_type: String,
    /// C type of the value.
    pub value_type: String,
    /// When the read started, in nanoseconds since the Unix epoch.
    pub taken_at_unix_ns: u128,
    /// How the entries were read (`batch-per-bucket`, ...).
    pub method: String,
    /// What that guarantees, in words.
    pub guarantee: String,
    /// Number of entries.
    pub entries: usize,
}

/// A map's entries and the header that says how to read them.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The header.
    pub header: Header,
    /// The entries, raw.
    pub entries: Entries,
}

impl Snapshot {
    /// Reads the map now.
    pub fn take(map: &OpenMap, schema: &Schema) -> Result<Self, MapError> {
        let taken_at = SystemTime::now();
        Ok(Self::from_entries(
            &map.info,
            schema,
            read::read_all(map)?,
            taken_at,
        ))
    }

    /// A snapshot of entries already read from the map `info` describes, at `taken_at`.
    pub fn from_entries(
        info: &MapInfo,
        schema: &Schema,
        entries: Entries,
        taken_at: SystemTime,
    ) -> Self {
        let (key_type, value_type) = schema.type_names();
        Self {
            header: Header {
                format: FORMAT.into(),
                version: 1,
                map_id: info.id,
                map_name: info.name.clone(),
                map_type: kind::type_name(info.map_type),
                map_type_id: info.map_type,
                key_size: info.key_size,
                value_size: info.value_size,
                value_len: entries.value_len,
                max_entries: info.max_entries,
                btf_key_type_id: info.btf_key_type_id,
                btf_value_type_id: info.btf_value_type_id,
                btf_hex: schema.btf.as_deref().map(to_hex),
                per_cpu: schema.per_cpu(),
                key_type,
                value_type,
                taken_at_unix_ns: taken_at
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
                method: entries.method.name().into(),
                guarantee: entries.method.guarantee().into(),
                entries: entries.len(),
            },
            entries,
        }
    }

    /// The schema to decode the entries with, rebuilt from the header.
    pub fn schema(&self) -> Result<Schema, MapError> {
        let h = &self.header;
        let info = MapInfo {
            id: h.map_id,
            map_type: h.map_type_id,
            name: h.map_name.clone(),
            key_size: h.key_size,
            value_size: h.value_size,
            max_entries: h.max_entries,
            flags: 0,
            btf_id: 0,
            btf_key_type_id: h.btf_key_type_id,
            btf_value_type_id: h.btf_value_type_id,
            map_extra: 0,
        };
        let btf = match &h.btf_hex {
            Some(hex) => Some(from_hex(hex).ok_or_else(|| MapError::BadSnapshot {
                path: String::new(),
                why: "its BTF is not valid hex".into(),
            })?),
            None => None,
        };
        Schema::from_parts(&info, btf, h.per_cpu)
    }

    /// Writes the snapshot to `path`, atomically: a temporary file renamed into place, so a
    /// failure leaves no half-written snapshot.
    pub fn write(&self, path: &Path, format: Format, schema: &Schema) -> Result<(), MapError> {
        let io = |what: &str| {
            let what = format!("{what} {}", path.display());
            move |source| MapError::Io { what, source }
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(io("creating a file next to"))?;
        {
            let mut w = BufWriter::new(tmp.as_file_mut());
            match format {
                Format::Json => {
                    let mut doc = serde_json::to_value(&self.header).expect("header serializes");
                    doc["entries_list"] = Value::Array(
                        self.entries
                            .iter()
                            .map(|(k, v)| {
                                let mut e = schema.entry_json(k, v, false);
                                e["raw_key"] = Value::String(to_hex(k));
                                e["raw_value"] = Value::String(to_hex(v));
                                e
                            })
                            .collect(),
                    );
                    serde_json::to_writer_pretty(&mut w, &doc).map_err(|e| MapError::Io {
                        what: format!("writing {}", path.display()),
                        source: e.into(),
                    })?;
                    w.write_all(b"\n").map_err(io("writing"))?;
                }
                Format::Binary => {
                    let header = serde_json::to_vec(&self.header).expect("header serializes");
                    w.write_all(MAGIC).map_err(io("writing"))?;
                    w.write_all(&(header.len() as u32).to_le_bytes())
                        .map_err(io("writing"))?;
                    w.write_all(&header).map_err(io("writing"))?;
                    w.write_all(&(self.entries.len() as u64).to_le_bytes())
                        .map_err(io("writing"))?;
                    for (k, v) in self.entries.iter() {
                        w.write_all(k).map_err(io("writing"))?;
                        w.write_all(v).map_err(io("writing"))?;
                    }
                }
            }
            w.flush().map_err(io("writing"))?;
        }
        tmp.persist(path).map_err(|e| MapError::Io {
            what: format!("saving {}", path.display()),
            source: e.error,
        })?;
        Ok(())
    }

    /// Loads a snapshot written by [`Snapshot::write`], in either format.
    pub fn load(path: &Path) -> Result<Self, MapError> {
        let shown = path.display().to_string();
        let bad = |why: String| MapError::BadSnapshot {
            path: shown.clone(),
            why,
        };
        let mut data = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|source| MapError::Io {
                what: format!("reading {shown}"),
                source,
            })?;
        if data.starts_with(MAGIC) {
            let len = data
                .get(8..12)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
                .ok_or_else(|| bad("truncated header".into()))?;
            let header: Header = data
                .get(12..12 + len)
                .ok_or_else(|| bad("truncated header".into()))
                .and_then(|h| serde_json::from_slice(h).map_err(|e| bad(e.to_string())))?;
            let at = 12 + len;
            let count = data
                .get(at..at + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
                .ok_or_else(|| bad("truncated entry count".into()))?;
            let (ks, vs) = (header.key_size as usize, header.value_len);
            let body = &data[at + 8..];
            if count.checked_mul(ks + vs) != Some(body.len()) {
                return Err(bad(format!(
                    "{} bytes of entries for {count} entries of {} bytes",
                    body.len(),
                    ks + vs
                )));
            }
            let mut keys = Vec::with_capacity(count * ks);
            let mut values = Vec::with_capacity(count * vs);
            for rec in body.chunks_exact(ks + vs) {
                keys.extend_from_slice(&rec[..ks]);
                values.extend_from_slice(&rec[ks..]);
            }
            return Self::loaded(header, keys, values).map_err(bad);
        }
        let mut doc: Value = serde_json::from_slice(&data)
            .map_err(|e| bad(format!("neither the binary format nor JSON: {e}")))?;
        let list = doc
            .get_mut("entries_list")
            .map(Value::take)
            .ok_or_else(|| bad("no entries_list".into()))?;
        let header: Header = serde_json::from_value(doc).map_err(|e| bad(e.to_string()))?;
        let (ks, vs) = (header.key_size as usize, header.value_len);
        let mut keys = Vec::new();
        let mut values = Vec::new();
        for (i, e) in list.as_array().into_iter().flatten().enumerate() {
            let field = |name: &str, len: usize| {
                e.get(name)
                    .and_then(Value::as_str)
                    .and_then(from_hex)
                    .filter(|b| b.len() == len)
                    .ok_or_else(|| bad(format!("entry {i}: {name} missing or not {len} hex bytes")))
            };
            keys.extend(field("raw_key", ks)?);
            values.extend(field("raw_value", vs)?);
        }
        Self::loaded(header, keys, values).map_err(bad)
    }

    /// A snapshot from a file's header and records, checked against each other.
    fn loaded(header: Header, keys: Vec<u8>, values: Vec<u8>) -> Result<Self, String> {
        if header.format != FORMAT {
            return Err(format!("format is {:?}", header.format));
        }
        let method = ReadMethod::from_name(&header.method)
            .ok_or_else(|| format!("unknown read method {:?}", header.method))?;
        Ok(Self {
            entries: Entries {
                key_size: header.key_size as usize,
                value_len: header.value_len,
                keys,
                values,
                method,
            },
            header,
        })
    }
}

fn to_hex(bytes: &[u8]) -> String {
    typed::hex(bytes).replace(' ', "")
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    typed::parse_hex(text).ok()
}
