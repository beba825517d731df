//! Sampling every online CPU with `perf_event_open`: the interrupted kernel address and the
//! kernel call chain, many times a second, read from one ring buffer per CPU.
//!
//! The event is hardware CPU cycles where the machine has a PMU, and the `cpu-clock` software
//! timer otherwise ([`EventChoice::Auto`]; virtual machines often have no PMU). Samples are
//! taken at a fixed *frequency* ([`SamplerConfig::frequency_hz`], default 999 Hz: an odd rate
//! that does not beat against 1000 Hz timers, and about 1 ms of CPU per sample), kernel only
//! (`exclude_user`, `exclude_callchain_user`).
//!
//! Lost records (the ring was full) and throttling (the kernel lowered the rate because
//! sampling took too long, see `kernel.perf_event_max_sample_rate`) come back as
//! [`Record::Lost`] and [`Record::Throttle`], data for the caller to show. This module never
//! changes `kernel.perf_event_max_sample_rate`, `kernel.perf_event_paranoid` or any other
//! setting.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};
use perf_event_open_sys as perf;
use perf_event_open_sys::bindings as pb;
use serde::{Deserialize, Serialize};

use crate::cpus::{self, CpuListError};

/// The event that triggers samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    /// Hardware CPU cycles (`PERF_COUNT_HW_CPU_CYCLES`).
    Cycles,
    /// The `cpu-clock` software timer (`PERF_COUNT_SW_CPU_CLOCK`).
    CpuClock,
}

impl Event {
    /// The name perf gives the event.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cycles => "cycles",
            Self::CpuClock => "cpu-clock",
        }
    }
}

/// Which event to sample on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventChoice {
    /// Cycles when the machine has them, `cpu-clock` otherwise.
    #[default]
    Auto,
    /// Exactly this event, or an error.
    Only(Event),
}

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplerConfig {
    /// Samples per second per CPU (the kernel adjusts the period to reach it on a busy CPU).
    pub frequency_hz: u64,
    /// The event.
    pub event: EventChoice,
    /// Data pages of each CPU's ring buffer (a power of two). A sample with a call chain takes
    /// about 100-300 bytes: 64 pages (256 KiB) hold about a second of samples at 999 Hz.
    pub ring_pages: usize,
    /// Whether to record the kernel call chain (needed to charge helper time to the calling
    /// line).
    pub callchain: bool,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self {
            frequency_hz: DEFAULT_FREQUENCY_HZ,
            event: EventChoice::Auto,
            ring_pages: 64,
            callchain: true,
        }
    }
}

/// The default sampling frequency.
pub const DEFAULT_FREQUENCY_HZ: u64 = 999;

/// Why sampling could not start.
#[derive(Debug, thiserror::Error)]
pub enum SamplerError {
    /// The kernel refused system-wide kernel sampling to this process.
    #[error(
        "perf_event_open refused ({errno}): sampling the kernel on every CPU needs root, \
         CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN, or kernel.perf_event_paranoid at most 0 \
         (it is {paranoid}); run as root, or grant CAP_PERFMON (this tool does not change the \
         sysctl; `sysctl kernel.perf_event_paranoid=0` would)",
        errno = errno_text(*.errno),
        paranoid = paranoid.map_or("unknown".to_string(), |p| p.to_string())
    )]
    NotPermitted {
        /// The errno (`EACCES` or `EPERM`).
        errno: i32,
        /// `kernel.perf_event_paranoid`, when readable.
        paranoid: Option<i32>,
    },
    /// The event asked for does not exist here.
    #[error(
        "this machine has no {} event for sampling ({}): a virtual machine without a PMU has no \
         hardware cycles; use cpu-clock",
        event.name(),
        errno_text(*.errno)
    )]
    Unsupported {
        /// The event.
        event: Event,
        /// The errno.
        errno: i32,
    },
    /// The frequency is above what the kernel allows.
    #[error(
        "sampling at {asked} Hz is above kernel.perf_event_max_sample_rate ({max} Hz); choose a \
         lower frequency"
    )]
    FrequencyTooHigh {
        /// The frequency asked for.
        asked: u64,
        /// The kernel's limit.
        max: u64,
    },
    /// The configuration makes no sense.
    #[error("invalid sampler configuration: {0}")]
    Config(&'static str),
    /// Opening the event on one CPU failed otherwise.
    #[error("perf_event_open on CPU {cpu} failed: {}", errno_text(*.errno))]
    Open {
        /// The CPU.
        cpu: u32,
        /// The errno.
        errno: i32,
    },
    /// Mapping or enabling a CPU's ring buffer failed.
    #[error("cannot map or enable the ring buffer of CPU {cpu}: {source}")]
    Ring {
        /// The CPU.
        cpu: u32,
        /// The error.
        source: std::io::Error,
    },
    /// The online CPUs could not be read.
    #[error(transparent)]
    Cpus(#[from] CpuListError),
}

fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// One kernel sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The CPU it was taken on.
    pub cpu: u32,
    /// The interrupted instruction's address.
    pub ip: u64,
    /// Kernel frames, innermost first (the first is normally `ip` itself); perf's context
    /// markers are removed. Empty without call chains.
    pub callchain: Vec<u64>,
}

/// What a ring buffer delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A sample.
    Sample(Sample),
    /// The ring was full and the kernel dropped this many records.
    Lost {
        /// The CPU.
        cpu: u32,
        /// How many.
        count: u64,
    },
    /// The kernel throttled (or unthrottled) the event because sampling cost too much.
    Throttle {
        /// The CPU.
        cpu: u32,
        /// True when throttling starts, false when it ends.
        throttled: bool,
    },
}

/// One CPU's event and ring buffer.
#[derive(Debug)]
struct Ring {
    cpu: u32,
    map: MmapRaw,
    data_offset: usize,
    data_size: usize,
    // Declared last: the mapping goes before the event closes.
    fd: OwnedFd,
}

/// Sampling on every online CPU, from [`Sampler::open`] until dropped (dropping closes every
/// event and unmaps every ring).
#[derive(Debug)]
pub struct Sampler {
    event: Event,
    frequency_hz: u64,
    rings: Vec<Ring>,
    scratch: Vec<u8>,
}

fn paranoid() -> Option<i32> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn max_sample_rate() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_sample_rate")
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn attr(event: Event, config: &SamplerConfig) -> pb::perf_event_attr {
    let mut attr = pb::perf_event_attr {
        size: std::mem::size_of::<pb::perf_event_attr>() as u32,
        ..Default::default()
    };
    match event {
        Event::Cycles => {
            attr.type_ = pb::PERF_TYPE_HARDWARE;
            attr.config = u64::from(pb::PERF_COUNT_HW_CPU_CYCLES);
        }
        Event::CpuClock => {
            attr.type_ = pb::PERF_TYPE_SOFTWARE;
            attr.config = u64::from(pb::PERF_COUNT_SW_CPU_CLOCK);
        }
    }
    attr.__bindgen_anon_1.sample_freq = config.frequency_hz;
    attr.set_freq(1);
    attr.sample_type = u64::from(pb::PERF_SAMPLE_IP);
    if config.callchain {
        attr.sample_type |= u64::from(pb::PERF_SAMPLE_CALLCHAIN);
        attr.set_exclude_callchain_user(1);
    }
    attr.set_disabled(1);
    attr.set_exclude_user(1);
    attr.set_exclude_hv(1);
    attr
}

fn open_one(attr: &mut pb::perf_event_attr, cpu: u32) -> Result<OwnedFd, i32> {
    // SAFETY: `attr` is a valid, initialised perf_event_attr whose size field is its real size;
    // pid -1 with a CPU number samples every task on that CPU; no group.
    let fd =
        unsafe { perf::perf_event_open(attr, -1, cpu as i32, -1, pb::PERF_FLAG_FD_CLOEXEC as _) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    // SAFETY: perf_event_open returned a new descriptor that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Sampler {
    /// Opens one sampling event per online CPU, maps their rings, and starts them.
    pub fn open(config: SamplerConfig) -> Result<Self, SamplerError> {
        if config.frequency_hz == 0 {
            return Err(SamplerError::Config("the frequency must be at least 1 Hz"));
        }
        if !config.ring_pages.is_power_of_two() {
            return Err(SamplerError::Config("ring_pages must be a power of two"));
        }
        if let Some(max) = max_sample_rate()
            && config.frequency_hz > max
        {
            return Err(SamplerError::FrequencyTooHigh {
                asked: config.frequency_hz,
                max,
            });
        }
        let cpus = cpus::online()?;
        let first = *cpus.first().ok_or(SamplerError::Config("no online CPU"))?;
        let refused = |errno| SamplerError::NotPermitted {
            errno,
            paranoid: paranoid(),
        };
        let unsupported = |errno| matches!(errno, libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV);

        // Probe the event on the first CPU; fall back from cycles when there is no PMU.
        let candidates: &[Event] = match config.event {
            EventChoice::Auto => &[Event::Cycles, Event::CpuClock],
            EventChoice::Only(e) => match e {
                Event::Cycles => &[Event::Cycles],
                Event::CpuClock => &[Event::CpuClock],
            },
        };
        let mut chosen = None;
        for &event in candidates {
            match open_one(&mut attr(event, &config), first) {
                Ok(fd) => {
                    chosen = Some((event, fd));
                    break;
                }
                Err(e) if e == libc::EACCES || e == libc::EPERM => return Err(refused(e)),
                Err(e) if unsupported(e) && event != *candidates.last().unwrap_or(&event) => {}
                Err(e) if unsupported(e) => {
                    return Err(SamplerError::Unsupported { event, errno: e });
                }
                Err(e) => {
                    return Err(SamplerError::Open {
                        cpu: first,
                        errno: e,
                    });
                }
            }
        }
        let (event, first_fd) = chosen.ok_or(SamplerError::Config("no event to sample"))?;

        let page = page_size();
        let mut rings = Vec::with_capacity(cpus.len());
        let mut first_fd = Some(first_fd);
        for &cpu in &cpus {
            let fd = match first_fd.take() {
                Some(fd) => fd,
                None => open_one(&mut attr(event, &config), cpu).map_err(|e| match e {
                    libc::EACCES | libc::EPERM => refused(e),
                    _ => SamplerError::Open { cpu, errno: e },
                })?,
            };
            let ring_err = |source| SamplerError::Ring { cpu, source };
            let map = MmapOptions::new()
                .len((config.ring_pages + 1) * page)
                .map_raw(fd.as_raw_fd())
                .map_err(ring_err)?;
            let meta = map.as_mut_ptr() as *mut pb::perf_event_mmap_page;
            // SAFETY: the first page of the mapping is the kernel's perf_event_mmap_page; these
            // two fields are set once at mmap time and never change.
            let (data_offset, data_size) =
                unsafe { ((*meta).data_offset as usize, (*meta).data_size as usize) };
            let (data_offset, data_size) = if data_size == 0 {
                // Kernels before 4.1 leave them zero: data follows the first page.
                (page, config.ring_pages * page)
            } else {
                (data_offset, data_size)
            };
            rings.push(Ring {
                cpu,
                map,
                data_offset,
                data_size,
                fd,
            });
        }
        for ring in &rings {
            // SAFETY: ENABLE on a perf event descriptor we own; the argument is unused.
            if unsafe { perf::ioctls::ENABLE(ring.fd.as_raw_fd(), 0) } < 0 {
                return Err(SamplerError::Ring {
                    cpu: ring.cpu,
                    source: std::io::Error::last_os_error(),
                });
            }
        }
        Ok(Self {
            event,
            frequency_hz: config.frequency_hz,
            rings,
            scratch: Vec::new(),
        })
    }

    /// The event samples are taken on.
    pub fn event(&self) -> Event {
        self.event
    }

    /// The sampling frequency asked for, per CPU.
    pub fn frequency_hz(&self) -> u64 {
        self.frequency_hz
    }

    /// The CPUs sampled.
    pub fn cpus(&self) -> Vec<u32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }

    /// Hands every record waiting in the rings to `f`, oldest first per CPU, and frees their
    /// space. Call it often enough that the rings do not fill (see
    /// [`SamplerConfig::ring_pages`]); records the kernel had to drop come back as
    /// [`Record::Lost`].
    pub fn drain(&mut self, mut f: impl FnMut(Record)) {
        for ring in &self.rings {
            drain_ring(ring, &mut self.scratch, &mut f);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

fn drain_ring(ring: &Ring, scratch: &mut Vec<u8>, f: &mut impl FnMut(Record)) {
    let base = ring.map.as_mut_ptr();
    let meta = base as *mut pb::perf_event_mmap_page;
    // SAFETY: data_head and data_tail are naturally aligned u64 fields of the mapped control
    // page, shared with the kernel, which writes data_head and reads data_tail; atomics give
    // the ordering the perf ABI asks for (acquire the head, release the tail).
    let (head, tail) = unsafe {
        (
            AtomicU64::from_ptr(std::ptr::addr_of_mut!((*meta).data_head)),
            AtomicU64::from_ptr(std::ptr::addr_of_mut!((*meta).data_tail)),
        )
    };
    let end = head.load(Ordering::Acquire);
    let mut pos = tail.load(Ordering::Relaxed);
    let size = ring.data_size as u64;
    // SAFETY: the data area lies inside the mapping, at data_offset for data_size bytes.
    let data = unsafe { std::slice::from_raw_parts(base.add(ring.data_offset), ring.data_size) };
    while pos < end {
        let at = (pos % size) as usize;
        let header = copy_wrapped(data, at, 8, scratch);
        let kind = u32::from_ne_bytes(header[0..4].try_into().unwrap_or_default());
        let len = u16::from_ne_bytes(header[6..8].try_into().unwrap_or_default()) as usize;
        if len < 8 || pos + len as u64 > end {
            // A malformed header would loop forever; skip what is left.
            break;
        }
        let record = copy_wrapped(data, at, len, scratch);
        if let Some(r) = parse_record(ring.cpu, kind, &record[8..]) {
            f(r);
        }
        pos += len as u64;
    }
    tail.store(end, Ordering::Release);
}

/// `len` bytes of the ring from `at`, wrapping around its end.
fn copy_wrapped<'a>(data: &[u8], at: usize, len: usize, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    scratch.clear();
    let first = len.min(data.len() - at);
    scratch.extend_from_slice(&data[at..at + first]);
    scratch.extend_from_slice(&data[..len - first]);
    scratch
}

fn u64_at(body: &[u8], i: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(
        body.get(i * 8..i * 8 + 8)?.try_into().ok()?,
    ))
}

/// Parses one record's body (after the 8-byte header). Samples hold `ip`, then with call
/// chains `nr` and `nr` addresses (the order `PERF_SAMPLE_IP | PERF_SAMPLE_CALLCHAIN` gives).
fn parse_record(cpu: u32, kind: u32, body: &[u8]) -> Option<Record> {
    match kind {
        pb::PERF_RECORD_SAMPLE => {
            let ip = u64_at(body, 0)?;
            let nr = u64_at(body, 1).unwrap_or(0) as usize;
            let callchain = (0..nr)
                .filter_map(|i| u64_at(body, 2 + i))
                .filter(|&a| a < pb::PERF_CONTEXT_MAX)
                .collect();
            Some(Record::Sample(Sample { cpu, ip, callchain }))
        }
        pb::PERF_RECORD_LOST => Some(Record::Lost {
            cpu,
            count: u64_at(body, 1)?,
        }),
        pb::PERF_RECORD_THROTTLE => Some(Record::Throttle {
            cpu,
            throttled: true,
        }),
        pb::PERF_RECORD_UNTHROTTLE => Some(Record::Throttle {
            cpu,
            throttled: false,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[u64]) -> Vec<u8> {
        w.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    #[test]
    fn records_parse() {
        let body = words(&[
            0xffff_ffff_a000_0010,
            3,
            pb::PERF_CONTEXT_KERNEL,
            0xffff_ffff_a000_0010,
            0xffff_ffff_8100_0000,
        ]);
        assert_eq!(
            parse_record(1, pb::PERF_RECORD_SAMPLE, &body),
            Some(Record::Sample(Sample {
                cpu: 1,
                ip: 0xffff_ffff_a000_0010,
                callchain: vec![0xffff_ffff_a000_0010, 0xffff_ffff_8100_0000],
            }))
        );
        let lost = words(&[77, 5]);
        assert_eq!(
            parse_record(0, pb::PERF_RECORD_LOST, &lost),
            Some(Record::Lost { cpu: 0, count: 5 })
        );
        assert_eq!(parse_record(0, 12345, &lost), None);
    }

    #[test]
    fn wrapped_copies() {
        let data = [1u8, 2, 3, 4, 5, 6];
        let mut s = Vec::new();
        assert_eq!(copy_wrapped(&data, 4, 4, &mut s), &[5, 6, 1, 2]);
        assert_eq!(copy_wrapped(&data, 0, 3, &mut s), &[1, 2, 3]);
    }
}
