//! Map commands: ids, info, element operations, batch reads, freeze, create and pin.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use aya_obj::generated::{bpf_attr, bpf_cmd, bpf_map_info};

use super::syscall::{bpf, bpf_fd, c_name, fd_by_id, ids, obj_info, zeroed};
use super::{Op, Result, SysError};

/// The ids of every map on the system, in increasing order.
///
/// Maps can be freed between two steps of the walk; they simply do not appear.
pub fn map_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Op("BPF_MAP_GET_NEXT_ID"), bpf_cmd::BPF_MAP_GET_NEXT_ID)
}

/// What the kernel reports about a map (`struct bpf_map_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapInfo {
    /// The map's id.
    pub id: u32,
    /// The map type (`enum bpf_map_type`).
    pub map_type: u32,
    /// The name given at creation (at most 15 bytes).
    pub name: String,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (per CPU for per-CPU maps).
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
    /// Creation flags (`BPF_F_*`).
    pub flags: u32,
    /// Id of the map's BTF, 0 when it has none.
    pub btf_id: u32,
    /// BTF type id of the key, 0 when unknown.
    pub btf_key_type_id: u32,
    /// BTF type id of the value, 0 when unknown.
    pub btf_value_type_id: u32,
    /// The map-type specific `map_extra` field (bloom filter hashes, arena address).
    pub map_extra: u64,
}

/// A map, owned through a file descriptor.
#[derive(Debug)]
pub struct MapFd(OwnedFd);

/// How to create a map with [`MapFd::create`].
#[derive(Debug, Clone, Default)]
pub struct MapCreate<'a> {
    /// The map type (`enum bpf_map_type`).
    pub map_type: u32,
    /// The name (at most 15 bytes are kept).
    pub name: &'a str,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
    /// Creation flags (`BPF_F_*`).
    pub flags: u32,
    /// For maps of maps: a map whose shape every inner map must have.
    pub inner_map: Option<BorrowedFd<'a>>,
}

/// One batch of a [`MapFd::lookup_batch`] walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRead {
    /// How many elements the kernel copied into the buffers.
    pub count: usize,
    /// True when the walk reached the end of the map.
    pub done: bool,
}

impl MapFd {
    /// Opens the map with this id.
    pub fn from_id(id: u32) -> Result<Self> {
        fd_by_id(
            Op("BPF_MAP_GET_FD_BY_ID"),
            bpf_cmd::BPF_MAP_GET_FD_BY_ID,
            id,
        )
        .map(Self)
    }

    /// Opens the map pinned at `path` on a bpffs.
    ///
    /// Fails with `EINVAL` from `BPF_OBJ_GET_INFO_BY_FD` if the path holds a program or a link.
    pub fn from_pin(path: &Path) -> Result<Self> {
        let fd = obj_get(path)?;
        let map = Self(fd);
        map.info()?;
        Ok(map)
    }

    /// Wraps a file descriptor that refers to a map (for example one that aya opened).
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self(fd)
    }

    /// Another file descriptor for the same map.
    pub fn try_clone(&self) -> std::io::Result<Self> {
        self.0.try_clone().map(Self)
    }

    /// Creates a new map.
    pub fn create(spec: &MapCreate<'_>) -> Result<Self> {
        let mut attr = zeroed();
        // SAFETY: writing plain integers into the BPF_MAP_CREATE member of a zeroed union.
        let a = unsafe { &mut attr.__bindgen_anon_1 };
        a.map_type = spec.map_type;
        a.key_size = spec.key_size;
        a.value_size = spec.value_size;
        a.max_entries = spec.max_entries;
        a.map_flags = spec.flags;
        a.inner_map_fd = spec.inner_map.map_or(0, |fd| fd.as_raw_fd() as u32);
        for (dst, src) in a.map_name.iter_mut().zip(spec.name.bytes().take(15)) {
            *dst = src as std::ffi::c_char;
        }
        bpf_fd(Op("BPF_MAP_CREATE"), bpf_cmd::BPF_MAP_CREATE, &mut attr).map(Self)
    }

    /// The map's info.
    pub fn info(&self) -> Result<MapInfo> {
        // SAFETY: bpf_map_info is plain integers; all-zero is valid.
        let mut info: bpf_map_info = unsafe { std::mem::zeroed() };
        obj_info(Op("BPF_OBJ_GET_INFO_BY_FD"), self.0.as_raw_fd(), &mut info)?;
        Ok(MapInfo {
            id: info.id,
            map_type: info.type_,
            name: c_name(&info.name),
            key_size: info.key_size,
            value_size: info.value_size,
            max_entries: info.max_entries,
            flags: info.map_flags,
            btf_id: info.btf_id,
            btf_key_type_id: info.btf_key_type_id,
            btf_value_type_id: info.btf_value_type_id,
            map_extra: info.map_extra,
        })
    }

    /// Looks `key` up and copies its value into `value`; `Ok(false)` when the key is absent.
    ///
    /// `value` must hold the whole value: `value_size` bytes, or for per-CPU maps one
    /// 8-byte-rounded slot per possible CPU.
    pub fn lookup(&self, key: &[u8], value: &mut [u8], flags: u64) -> Result<bool> {
        let mut attr = self.elem_attr(key.as_ptr() as u64, value.as_mut_ptr() as u64, flags);
        absent_is_false(bpf(
            Op("BPF_MAP_LOOKUP_ELEM"),
            bpf_cmd::BPF_MAP_LOOKUP_ELEM,
            &mut attr,
        ))
    }

    /// Writes `value` under `key` (`flags`: [`super::ANY`], [`super::NOEXIST`],
    /// [`super::EXIST`], optionally with [`super::F_LOCK`]).
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<()> {
        let mut attr = self.elem_attr(key.as_ptr() as u64, value.as_ptr() as u64, flags);
        bpf(
            Op("BPF_MAP_UPDATE_ELEM"),
            bpf_cmd::BPF_MAP_UPDATE_ELEM,
            &mut attr,
        )
        .map(drop)
    }

    /// Deletes `key`; `Ok(false)` when it was not there.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        let mut attr = self.elem_attr(key.as_ptr() as u64, 0, 0);
        absent_is_false(bpf(
            Op("BPF_MAP_DELETE_ELEM"),
            bpf_cmd::BPF_MAP_DELETE_ELEM,
            &mut attr,
        ))
    }

    /// Deletes `key` and returns the value it held, atomically (hash maps, queues, stacks).
    pub fn lookup_and_delete(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        let mut attr = self.elem_attr(key.as_ptr() as u64, value.as_mut_ptr() as u64, 0);
        absent_is_false(bpf(
            Op("BPF_MAP_LOOKUP_AND_DELETE_ELEM"),
            bpf_cmd::BPF_MAP_LOOKUP_AND_DELETE_ELEM,
            &mut attr,
        ))
    }

    /// Copies the key after `key` (or the first key, for `None`) into `next`;
    /// `Ok(false)` at the end of the map.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        let mut attr = self.elem_attr(
            key.map_or(0, |k| k.as_ptr() as u64),
            next.as_mut_ptr() as u64,
            0,
        );
        absent_is_false(bpf(
            Op("BPF_MAP_GET_NEXT_KEY"),
            bpf_cmd::BPF_MAP_GET_NEXT_KEY,
            &mut attr,
        ))
    }

    /// Reads up to `count` elements in one call (`BPF_MAP_LOOKUP_BATCH`, 5.6+).
    ///
    /// `cursor` is opaque: pass `None` for the first batch, then the same buffer (at least
    /// `key_size` bytes, 4 for arrays) each time; the kernel writes where to resume. `keys` and
    /// `values` must hold `count` keys and values. Hash maps copy whole buckets under the
    /// bucket lock and fail with `ENOSPC` when `count` cannot hold one bucket.
    pub fn lookup_batch(
        &self,
        cursor: (&mut [u8], bool),
        keys: &mut [u8],
        values: &mut [u8],
        count: usize,
        elem_flags: u64,
    ) -> Result<BatchRead> {
        let (cursor, started) = cursor;
        let mut attr = zeroed();
        attr.batch.in_batch = if started { cursor.as_ptr() as u64 } else { 0 };
        attr.batch.out_batch = cursor.as_mut_ptr() as u64;
        attr.batch.keys = keys.as_mut_ptr() as u64;
        attr.batch.values = values.as_mut_ptr() as u64;
        attr.batch.count = count as u32;
        attr.batch.map_fd = self.0.as_raw_fd() as u32;
        attr.batch.elem_flags = elem_flags;
        match bpf(
            Op("BPF_MAP_LOOKUP_BATCH"),
            bpf_cmd::BPF_MAP_LOOKUP_BATCH,
            &mut attr,
        ) {
            Ok(_) => Ok(BatchRead {
                // SAFETY: the kernel wrote the batch member back; it is plain integers.
                count: unsafe { attr.batch.count } as usize,
                done: false,
            }),
            Err(e) if e.errno() == libc::ENOENT => Ok(BatchRead {
                // SAFETY: as above.
                count: unsafe { attr.batch.count } as usize,
                done: true,
            }),
            Err(e) => Err(e),
        }
    }

    fn elem_attr(&self, key: u64, value: u64, flags: u64) -> bpf_attr {
        let mut attr = zeroed();
        // SAFETY: the union was zeroed; we fill the BPF_MAP_*_ELEM member with plain integers.
        let e = unsafe { &mut attr.__bindgen_anon_2 };
        e.map_fd = self.0.as_raw_fd() as u32;
        e.key = key;
        e.__bindgen_anon_1.value = value;
        e.flags = flags;
        attr
    }

    /// Blocks every further write from syscalls (`BPF_MAP_FREEZE`); programs still write.
    pub fn freeze(&self) -> Result<()> {
        let mut attr = zeroed();
        attr.__bindgen_anon_2.map_fd = self.0.as_raw_fd() as u32;
        bpf(Op("BPF_MAP_FREEZE"), bpf_cmd::BPF_MAP_FREEZE, &mut attr).map(drop)
    }

    /// Pins the map at `path` on a bpffs.
    pub fn pin(&self, path: &Path) -> Result<()> {
        let cpath = path_cstring(path)?;
        let mut attr = zeroed();
        attr.__bindgen_anon_4.pathname = cpath.as_ptr() as u64;
        attr.__bindgen_anon_4.bpf_fd = self.0.as_raw_fd() as u32;
        bpf(Op("BPF_OBJ_PIN"), bpf_cmd::BPF_OBJ_PIN, &mut attr).map(drop)
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Opens whatever is pinned at `path` (`BPF_OBJ_GET`): a map, a program or a link.
pub fn obj_get(path: &Path) -> Result<OwnedFd> {
    let cpath = path_cstring(path)?;
    let mut attr = zeroed();
    attr.__bindgen_anon_4.pathname = cpath.as_ptr() as u64;
    bpf_fd(Op("BPF_OBJ_GET"), bpf_cmd::BPF_OBJ_GET, &mut attr)
}

fn path_cstring(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| SysError::new(Op("BPF_OBJ_GET"), libc::EINVAL))
}

fn absent_is_false(r: Result<i64>) -> Result<bool> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if e.errno() == libc::ENOENT => Ok(false),
        Err(e) => Err(e),
    }
}
