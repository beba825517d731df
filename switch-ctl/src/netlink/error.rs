//! What can go wrong talking to the kernel over netlink.

use std::io;

/// An error of the netlink layer. `what` names the request (`"link dump"`, `"fdb add"`, ...).
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// A netlink socket could not be opened, bound or subscribed.
    #[error("cannot open a netlink socket ({what}): {source}")]
    Socket {
        /// What the socket was for.
        what: &'static str,
        /// The system's error.
        source: io::Error,
    },
    /// The kernel refused a request (a negative errno in NLMSG_ERROR or NLMSG_DONE).
    #[error("{what}: the kernel answered: {source}")]
    Kernel {
        /// The request.
        what: &'static str,
        /// The kernel's errno.
        source: io::Error,
    },
    /// Sending or receiving failed, or the connection is gone.
    #[error("{what}: netlink I/O failed: {source}")]
    Io {
        /// The request.
        what: &'static str,
        /// The system's error.
        source: io::Error,
    },
    /// The kernel sent something this layer cannot decode.
    #[error("{what}: cannot decode the kernel's answer: {detail}")]
    Decode {
        /// The request.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A dump kept changing under us (NLM_F_DUMP_INTR on every attempt).
    #[error("{what}: the dump was interrupted by concurrent changes {attempts} times in a row")]
    DumpInterrupted {
        /// The request.
        what: &'static str,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A generic-netlink family or one of its multicast groups does not exist in this kernel.
    #[error(
        "generic netlink family {family:?}{} is not available in this kernel",
        group.map(|g| format!(" (multicast group {g:?})")).unwrap_or_default()
    )]
    NoFamily {
        /// The family's name.
        family: &'static str,
        /// The missing group, if the family exists but not the group.
        group: Option<&'static str>,
    },
}

impl NetlinkError {
    /// The kernel's errno, if the kernel refused the request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// A refusal with errno `code` (positive) from the kernel.
    pub(crate) fn kernel(what: &'static str, code: i32) -> Self {
        NetlinkError::Kernel {
            what,
            source: io::Error::from_raw_os_error(code.saturating_abs()),
        }
    }
}
