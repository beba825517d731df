//! Compare-and-swap and conditional updates on live maps, atomic against eBPF writers.
//!
//! A map update from userspace and an eBPF program writing the same value race: a plain
//! lookup-then-update (or lookup-then-delete) can silently drop what the program wrote in
//! between. [`Cas`] closes that window:
//!
//! * hash, LRU hash and array maps: a small `BPF_PROG_TYPE_SYSCALL` program (`bpf/map_cas.bpf.c`),
//!   bound to the map, runs with `BPF_PROG_RUN` and does the compare-exchange in the kernel with
//!   the same atomic instruction a data plane uses (4- or 8-byte fields);
//! * values that hold a `struct bpf_spin_lock`: the compare and the write happen under that lock,
//!   so any field width works and a whole value can be replaced conditionally;
//! * `BPF_F_MMAPABLE` arrays: the value is mapped into this process and swapped with the CPU's
//!   own atomics, without any syscall.
//!
//! What the kernel cannot make atomic is refused with the reason (see [`CasError::Unsupported`]):
//! per-CPU maps (one copy per CPU, no single value to compare), multi-field replacement without a
//! spin lock, deletes from arrays. A conditional delete ([`Cas::compare_and_delete`]) is the
//! tombstone protocol: the field is swapped to a marker that cooperating writers treat as
//! absent, then the entry is deleted in the same program run; see docs/map-cas.md.

mod args;
mod mmap;
mod program;

use std::os::fd::AsFd;

use aya_obj::generated::{BPF_F_MMAPABLE, bpf_map_type};

use args::{Args, CasOp, Request};
pub use args::{MAX_KEY, MAX_VALUE};

use bpf_sys::{MapFd, MapInfo, SysError, TestRun};

/// The tombstone of the ageing protocol (`BPF_MAPS_DYING` in `include/bpf_maps/ageing.h`): a
/// `last_seen` holding it means the entry is being deleted and counts as absent.
pub const DYING: u64 = u64::MAX;

/// Why a compare-and-swap could not run.
#[derive(Debug, thiserror::Error)]
pub enum CasError {
    /// A bpf(2) command failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The embedded program object could not be prepared (a build problem of this tool).
    #[error("preparing the compare-and-swap program failed: {0}")]
    Object(String),
    /// The kernel refused the compare-and-swap program.
    #[error(
        "the kernel refused the compare-and-swap program ({error}); syscall programs need \
         Linux 5.14 or later{}", if log.is_empty() { String::new() } else { format!(". Verifier log:\n{log}") }
    )]
    Load {
        /// The load error.
        error: SysError,
        /// The verifier's log, when it wrote one.
        log: String,
    },
    /// The operation cannot be made atomic on this map, and is not attempted.
    #[error("{0}")]
    Unsupported(String),
    /// The arguments do not fit the map (sizes, offsets, widths).
    #[error("{0}")]
    BadArgs(String),
}

/// What a conditional operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The field held the expected value; the new value (or the delete) took effect.
    Swapped,
    /// The field held something else, shown here; nothing was written.
    Mismatch {
        /// The field's value at the moment of the compare.
        observed: u64,
    },
    /// The key is not in the map; nothing was written.
    Absent,
}

/// A field inside a map value: where it is and how wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef {
    /// Byte offset in the value.
    pub offset: u32,
    /// Width in bytes (1, 2, 4 or 8).
    pub width: u32,
}

/// How the operations on a map are made atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atomicity {
    /// The kernel's atomic compare-exchange on a 4- or 8-byte field, in a syscall program.
    AtomicField,
    /// Under the value's `bpf_spin_lock`, taken by the syscall program.
    SpinLock {
        /// The lock's offset in the value.
        lock_offset: u32,
    },
    /// Native atomics on the array mapped into this process (`BPF_F_MMAPABLE`).
    Mmap,
}

impl Atomicity {
    /// One sentence for users: what is guaranteed and against whom.
    pub fn describe(&self) -> &'static str {
        match self {
            Atomicity::AtomicField => {
                "atomic compare-exchange on the field in the kernel: atomic against eBPF \
                 writers that update it with atomics or plain stores of the whole field"
            }
            Atomicity::SpinLock { .. } => {
                "compare and write under the value's bpf_spin_lock: atomic against writers \
                 that take the same lock"
            }
            Atomicity::Mmap => {
                "native atomic compare-exchange on the memory-mapped array: atomic against \
                 eBPF writers using atomics, and no syscall per operation"
            }
        }
    }
}

/// Compare-and-swap on one map.
pub struct Cas {
    map: MapFd,
    info: MapInfo,
    backend: Backend,
}

enum Backend {
    Program(program::Loaded, Atomicity),
    Mmap(mmap::MappedArray),
}

impl Cas {
    /// Prepares compare-and-swap on `map`. `lock_offset` is the offset of the value's
    /// `struct bpf_spin_lock`, if it has one (from the map's BTF; see
    /// [`crate::typed::TypeRef::spin_lock_offset`]).
    ///
    /// Loads one small program bound to this map (about a millisecond) unless the map is a
    /// memory-mappable array.
    pub fn new(map: MapFd, lock_offset: Option<u32>) -> Result<Self, CasError> {
        let info = map.info()?;
        let t = info.map_type;
        let ty = |x: bpf_map_type| t == x as u32;
        if ty(bpf_map_type::BPF_MAP_TYPE_PERCPU_HASH)
            || ty(bpf_map_type::BPF_MAP_TYPE_PERCPU_ARRAY)
            || ty(bpf_map_type::BPF_MAP_TYPE_LRU_PERCPU_HASH)
        {
            return Err(CasError::Unsupported(format!(
                "map {} ({}) is per-CPU: each CPU has its own copy of every value, so there is no \
                 single value to compare and swap atomically; read the copies with `map get` \
                 instead",
                info.id, info.name
            )));
        }
        if !(ty(bpf_map_type::BPF_MAP_TYPE_HASH)
            || ty(bpf_map_type::BPF_MAP_TYPE_LRU_HASH)
            || ty(bpf_map_type::BPF_MAP_TYPE_ARRAY))
        {
            return Err(CasError::Unsupported(format!(
                "map {} ({}) is of a type without addressable values: compare-and-swap works \
                 on hash, LRU hash and array maps",
                info.id, info.name
            )));
        }
        if info.key_size as usize > MAX_KEY {
            return Err(CasError::Unsupported(format!(
                "map {} has {}-byte keys; compare-and-swap takes keys of at most {MAX_KEY} bytes",
                info.id, info.key_size
            )));
        }
        let backend = if ty(bpf_map_type::BPF_MAP_TYPE_ARRAY)
            && info.flags & BPF_F_MMAPABLE != 0
            && lock_offset.is_none()
        {
            Backend::Mmap(mmap::MappedArray::new(&map, &info)?)
        } else {
            let atomicity = match lock_offset {
                Some(lock_offset) => Atomicity::SpinLock { lock_offset },
                None => Atomicity::AtomicField,
            };
            Backend::Program(
                program::load(&map, info.value_size, lock_offset)?,
                atomicity,
            )
        };
        Ok(Self { map, info, backend })
    }

    /// The map this operates on.
    pub fn map(&self) -> &MapFd {
        &self.map
    }

    /// The map's info, as read when this was prepared.
    pub fn info(&self) -> &MapInfo {
        &self.info
    }

    /// How the operations are made atomic on this map.
    pub fn atomicity(&self) -> Atomicity {
        match &self.backend {
            Backend::Program(_, a) => *a,
            Backend::Mmap(_) => Atomicity::Mmap,
        }
    }

    /// If `field` holds `expected`, sets it to `desired`, atomically.
    pub fn compare_and_swap(
        &self,
        key: &[u8],
        field: FieldRef,
        expected: u64,
        desired: u64,
    ) -> Result<Outcome, CasError> {
        self.check(key, field)?;
        match &self.backend {
            Backend::Mmap(m) => m.compare_and_swap(key, field, expected, desired),
            Backend::Program(p, a) => {
                let op = match a {
                    Atomicity::SpinLock { .. } => CasOp::LockedCas,
                    _ => CasOp::Cas,
                };
                self.run(p, op, key, field, expected, desired, &[])
            }
        }
    }

    /// If `field` holds `expected`, sets it to `tombstone` and deletes the entry, in one
    /// program run.
    ///
    /// Atomic against writers that update `field` with compare-exchange and treat `tombstone`
    /// as absent (the ageing protocol of docs/map-cas.md): once the tombstone is in, no such
    /// writer can refresh the entry, so the delete drops nothing. A writer that overwrites the
    /// value blindly between the swap and the delete (a window of a few instructions) still
    /// loses its write; the kernel has no atomic compare-and-delete.
    pub fn compare_and_delete(
        &self,
        key: &[u8],
        field: FieldRef,
        expected: u64,
        tombstone: u64,
    ) -> Result<Outcome, CasError> {
        self.check(key, field)?;
        match &self.backend {
            Backend::Mmap(_) => Err(self.no_delete()),
            Backend::Program(..)
                if self.info.map_type == bpf_map_type::BPF_MAP_TYPE_ARRAY as u32 =>
            {
                Err(self.no_delete())
            }
            Backend::Program(p, _) => {
                self.run(p, CasOp::CasDelete, key, field, expected, tombstone, &[])
            }
        }
    }

    /// Ages one entry out with the protocol of `include/bpf_maps/ageing.h`: deletes it only if its
    /// `last_seen` field still holds `seen`, the stale time the caller read. Returns
    /// [`Outcome::Mismatch`] when the data plane refreshed it meanwhile (the entry stays).
    pub fn age_out(&self, key: &[u8], last_seen: FieldRef, seen: u64) -> Result<Outcome, CasError> {
        self.compare_and_delete(key, last_seen, seen, DYING)
    }

    /// If `field` holds `expected`, replaces the whole value with `value`, atomically.
    ///
    /// Only values holding a `bpf_spin_lock` can be replaced atomically; for the others this
    /// returns [`CasError::Unsupported`], as a replace racing an eBPF writer would lose its
    /// write.
    pub fn compare_and_replace(
        &self,
        key: &[u8],
        field: FieldRef,
        expected: u64,
        value: &[u8],
    ) -> Result<Outcome, CasError> {
        self.check(key, field)?;
        if value.len() != self.info.value_size as usize {
            return Err(CasError::BadArgs(format!(
                "the new value has {} bytes; map {} takes {}-byte values",
                value.len(),
                self.info.id,
                self.info.value_size
            )));
        }
        match &self.backend {
            Backend::Program(p, Atomicity::SpinLock { .. }) if value.len() <= MAX_VALUE => {
                self.run(p, CasOp::LockedUpdate, key, field, expected, 0, value)
            }
            Backend::Program(_, Atomicity::SpinLock { .. }) => Err(CasError::Unsupported(format!(
                "values over {MAX_VALUE} bytes cannot be replaced under the lock"
            ))),
            _ => Err(CasError::Unsupported(format!(
                "map {} ({}): replacing a whole value only if a field still holds a value cannot \
                 be atomic here, because the value has no bpf_spin_lock; swap single fields \
                 with `map cas` instead",
                self.info.id, self.info.name
            ))),
        }
    }

    fn no_delete(&self) -> CasError {
        CasError::Unsupported(format!(
            "map {} ({}) is an array: array entries cannot be deleted, only overwritten",
            self.info.id, self.info.name
        ))
    }

    fn check(&self, key: &[u8], field: FieldRef) -> Result<(), CasError> {
        if key.len() != self.info.key_size as usize {
            return Err(CasError::BadArgs(format!(
                "the key has {} bytes; map {} takes {}-byte keys",
                key.len(),
                self.info.id,
                self.info.key_size
            )));
        }
        let end = field.offset as u64 + field.width as u64;
        if end > self.info.value_size as u64 {
            return Err(CasError::BadArgs(format!(
                "the field at offset {} ({} bytes) lies outside the {}-byte value",
                field.offset, field.width, self.info.value_size
            )));
        }
        let locked = matches!(self.atomicity(), Atomicity::SpinLock { .. });
        let widths: &[u32] = if locked { &[1, 2, 4, 8] } else { &[4, 8] };
        if !widths.contains(&field.width) {
            return Err(CasError::Unsupported(format!(
                "a {}-byte field cannot be swapped atomically here: {}",
                field.width,
                if locked {
                    "fields of 1, 2, 4 or 8 bytes only"
                } else {
                    "eBPF and CPU atomics work on 4- and 8-byte fields (a value with a \
                     bpf_spin_lock allows 1 and 2 bytes too)"
                }
            )));
        }
        if !locked && !field.offset.is_multiple_of(field.width) {
            return Err(CasError::Unsupported(format!(
                "the field at offset {} is not aligned to its {} bytes; atomics need aligned \
                 fields",
                field.offset, field.width
            )));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        p: &program::Loaded,
        op: CasOp,
        key: &[u8],
        field: FieldRef,
        expected: u64,
        desired: u64,
        value: &[u8],
    ) -> Result<Outcome, CasError> {
        let mut a = Args::new(&Request {
            op,
            offset: field.offset,
            width: field.width,
            expected,
            desired,
            key,
            value,
        });
        p.prog.test_run(TestRun {
            ctx: Some(&mut a.0),
            ..TestRun::default()
        })?;
        match a.result() {
            args::RESULT_SWAPPED => Ok(Outcome::Swapped),
            args::RESULT_MISMATCH => Ok(Outcome::Mismatch {
                observed: a.observed(),
            }),
            args::RESULT_ABSENT => Ok(Outcome::Absent),
            args::RESULT_DELETE_FAILED => Err(CasError::BadArgs(
                "the field was swapped to the tombstone but the delete failed; the entry stays \
                 with the tombstone"
                    .into(),
            )),
            args::RESULT_BAD_ARGS => Err(CasError::BadArgs(format!(
                "the program refused the field (offset {}, {} bytes) for this value layout",
                field.offset, field.width
            ))),
            other => Err(CasError::Object(format!("unknown result code {other}"))),
        }
    }
}

impl AsFd for Cas {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.map.as_fd()
    }
}
