//! Compare-and-swap on `BPF_F_MMAPABLE` arrays with the CPU's own atomics.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use memmap2::{MmapMut, MmapOptions};

use super::{CasError, FieldRef, Outcome};
use bpf_sys::{MapFd, MapInfo};

/// An mmapable array mapped into this process.
pub(super) struct MappedArray {
    mem: MmapMut,
    stride: usize,
    max_entries: u32,
}

impl MappedArray {
    pub(super) fn new(map: &MapFd, info: &MapInfo) -> Result<Self, CasError> {
        let stride = crate::read::slot_size(info.value_size as usize);
        let len = stride * info.max_entries as usize;
        // SAFETY: the kernel backs an mmapable array's fd with the array's value memory; the
        // mapping stays valid while it is mapped, whatever happens to the fd. Other writers
        // (eBPF programs) change it concurrently, so it is only ever touched through atomics.
        let mem = unsafe { MmapOptions::new().len(len).map_mut(map.as_fd().as_raw_fd()) }.map_err(
            |e| {
                CasError::Unsupported(format!(
                    "map {} is mmapable but mapping it failed: {e}",
                    info.id
                ))
            },
        )?;
        Ok(Self {
            mem,
            stride,
            max_entries: info.max_entries,
        })
    }

    pub(super) fn compare_and_swap(
        &self,
        key: &[u8],
        field: FieldRef,
        expected: u64,
        desired: u64,
    ) -> Result<Outcome, CasError> {
        let index = u32::from_ne_bytes(
            key.try_into()
                .map_err(|_| CasError::BadArgs("array keys are 4 bytes".into()))?,
        );
        if index >= self.max_entries {
            return Ok(Outcome::Absent);
        }
        let at = index as usize * self.stride + field.offset as usize;
        let ptr = self.mem.as_ptr().wrapping_add(at);
        let result = match field.width {
            8 => {
                // SAFETY: `at` is inside the mapping (index < max_entries, field inside the
                // value, checked by the caller), 8-aligned (values are 8-aligned, offset checked
                // aligned), and this memory is only accessed atomically.
                let cell = unsafe { AtomicU64::from_ptr(ptr as *mut u64) };
                cell.compare_exchange(expected, desired, Ordering::SeqCst, Ordering::SeqCst)
            }
            4 => {
                // SAFETY: as above, with 4-byte alignment.
                let cell = unsafe { AtomicU32::from_ptr(ptr as *mut u32) };
                cell.compare_exchange(
                    expected as u32,
                    desired as u32,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .map(u64::from)
                .map_err(u64::from)
            }
            w => {
                return Err(CasError::Unsupported(format!(
                    "{w}-byte fields cannot be swapped atomically"
                )));
            }
        };
        Ok(match result {
            Ok(_) => Outcome::Swapped,
            Err(observed) => Outcome::Mismatch { observed },
        })
    }
}
