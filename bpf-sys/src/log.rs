//! The verifier's log of a load: which level to ask for, how large a buffer, and growing it when
//! the log does not fit.

use super::Result;
#[cfg(test)]
use super::SysError;

/// The verifier's log level (`log_level` of `BPF_PROG_LOAD` and `BPF_BTF_LOAD`), a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogLevel(pub u32);

impl LogLevel {
    /// No log.
    pub const NONE: Self = Self(0);
    /// Level 1: every instruction the verifier walks, with states at branches and prunes, and
    /// the error.
    pub const BASIC: Self = Self(1);
    /// Level 2: as level 1, with the state after every instruction.
    pub const VERBOSE: Self = Self(2);
    /// The statistics at the end (`processed N insns ... peak_states`, `stack depth`); on its
    /// own, the error and the statistics only.
    pub const STATS: Self = Self(4);
}

impl std::ops::BitOr for LogLevel {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The largest log buffer the kernel takes (`UINT_MAX >> 2` bytes).
pub const KERNEL_MAX_LOG_SIZE: usize = (u32::MAX >> 2) as usize;

/// What log a load asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRequest {
    /// The level.
    pub level: LogLevel,
    /// The buffer's first size, in bytes. Pages the kernel does not write to are never
    /// touched, so a large first size costs address space, not memory.
    pub size: usize,
    /// The largest buffer to grow to when the log does not fit.
    pub max_size: usize,
}

impl LogRequest {
    /// No log at all.
    pub const NONE: Self = Self {
        level: LogLevel::NONE,
        size: 0,
        max_size: 0,
    };

    /// A log at `level` in a 1 MiB buffer that may grow to 256 MiB.
    pub fn new(level: LogLevel) -> Self {
        Self {
            level,
            size: 1 << 20,
            max_size: 256 << 20,
        }
    }

    /// The same request with another first and largest size (capped at the kernel's maximum).
    pub fn sized(self, size: usize, max_size: usize) -> Self {
        let max_size = max_size.min(KERNEL_MAX_LOG_SIZE);
        Self {
            size: size.min(max_size),
            max_size,
            ..self
        }
    }
}

/// The verifier's log of one load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifierLog {
    /// The log's text.
    pub text: String,
    /// The size of the whole log, as the kernel reported it (kernels since 6.4).
    pub true_size: Option<usize>,
    /// Whether the log did not fit in the largest buffer allowed: since 6.4 [`Self::text`] is
    /// then the log's end, before that its start.
    pub truncated: bool,
}

/// Runs `attempt` (one bpf(2) load into the given log buffer, returning its result and the
/// kernel's `log_true_size`) until the log fits or the request's largest size is reached.
pub(crate) fn load_with_log<T>(
    request: LogRequest,
    mut attempt: impl FnMut(&mut [u8]) -> (Result<T>, u32),
) -> (Result<T>, VerifierLog) {
    let logging = request.level != LogLevel::NONE && request.size > 0;
    let mut size = if logging { request.size } else { 0 };
    loop {
        let mut buf = vec![0u8; size];
        let (result, true_size) = attempt(&mut buf);
        let true_size = (logging && true_size > 0).then_some(true_size as usize);
        let no_space = logging && matches!(&result, Err(e) if e.errno() == libc::ENOSPC);
        let overflow = no_space || true_size.is_some_and(|t| t > size);
        if overflow {
            let next = true_size.unwrap_or(size.saturating_mul(8)).max(size + 1);
            if next <= request.max_size.min(KERNEL_MAX_LOG_SIZE) {
                size = next;
                continue;
            }
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        buf.truncate(end);
        buf.shrink_to_fit();
        let text = String::from_utf8(buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let log = VerifierLog {
            text,
            true_size,
            truncated: overflow,
        };
        return (result, log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Op;

    /// A fake kernel whose log is `whole` bytes: it fills the buffer with the log's end and
    /// fails with ENOSPC when the log does not fit, as kernels since 6.4 do.
    fn kernel(whole: usize, report_size: bool) -> impl FnMut(&mut [u8]) -> (Result<()>, u32) {
        move |buf: &mut [u8]| {
            let log: Vec<u8> = (0..whole).map(|i| b'a' + (i % 26) as u8).collect();
            let keep = whole.min(buf.len().saturating_sub(1));
            buf[..keep].copy_from_slice(&log[whole - keep..]);
            buf[keep] = 0;
            let true_size = if report_size { whole as u32 + 1 } else { 0 };
            if keep < whole {
                (
                    Err(SysError::new(Op("BPF_PROG_LOAD"), libc::ENOSPC)),
                    true_size,
                )
            } else {
                (Ok(()), true_size)
            }
        }
    }

    #[test]
    fn a_log_that_fits_is_returned_whole() {
        let request = LogRequest::new(LogLevel::STATS).sized(64, 1024);
        let (result, log) = load_with_log(request, kernel(10, true));
        assert!(result.is_ok());
        assert_eq!(
            (log.text.len(), log.truncated, log.true_size),
            (10, false, Some(11))
        );
    }

    #[test]
    fn a_larger_log_is_loaded_again_at_its_true_size() {
        let mut attempts = Vec::new();
        let mut inner = kernel(500, true);
        let request = LogRequest::new(LogLevel::VERBOSE).sized(64, 1024);
        let (result, log) = load_with_log(request, |buf: &mut [u8]| {
            attempts.push(buf.len());
            inner(buf)
        });
        assert!(result.is_ok(), "the second load has room for the whole log");
        assert_eq!(attempts, vec![64, 501]);
        assert_eq!((log.text.len(), log.truncated), (500, false));
    }

    #[test]
    fn a_log_past_the_largest_size_keeps_its_end_and_says_so() {
        let request = LogRequest::new(LogLevel::VERBOSE).sized(64, 128);
        let (result, log) = load_with_log(request, kernel(500, true));
        assert_eq!(result.unwrap_err().errno(), libc::ENOSPC);
        assert!(log.truncated);
        assert_eq!(log.text.len(), 63);
        assert!(
            log.text
                .ends_with(&"abcdefghijklmnopqrstuvwxyz"[..(500 % 26)])
        );
    }

    #[test]
    fn without_a_true_size_the_buffer_grows_eightfold() {
        let mut attempts = Vec::new();
        let mut inner = kernel(500, false);
        let request = LogRequest::new(LogLevel::BASIC).sized(16, 4096);
        let (result, log) = load_with_log(request, |buf: &mut [u8]| {
            attempts.push(buf.len());
            inner(buf)
        });
        assert!(result.is_ok());
        assert_eq!(attempts, vec![16, 128, 1024]);
        assert_eq!(
            (log.text.len(), log.truncated, log.true_size),
            (500, false, None)
        );
    }

    #[test]
    fn no_log_means_no_buffer() {
        let (result, log) = load_with_log(LogRequest::NONE, |buf: &mut [u8]| {
            assert!(buf.is_empty());
            (
                Err::<(), _>(SysError::new(Op("BPF_PROG_LOAD"), libc::EACCES)),
                0,
            )
        });
        assert_eq!(result.unwrap_err().errno(), libc::EACCES);
        assert_eq!(log, VerifierLog::default());
    }
}
