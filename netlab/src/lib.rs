//! Throwaway network labs: hosts in their own network namespaces, wired by veth pairs to a Linux
//! bridge in a switch namespace.
//!
//! ```text
//!   xl-<id>-h1            xl-<id>-sw                 xl-<id>-h2
//!  ┌──────────┐        ┌──────────────────┐        ┌──────────┐
//!  │ eth0     │◀──────▶│ p1 ─┐      ┌─ p2 │◀──────▶│ eth0     │
//!  │198.18.0.1│  veth  │     └─ br0 ┘     │  veth  │198.18.0.2│
//!  └──────────┘        └──────────────────┘        └──────────┘
//! ```
//!
//! Everything a lab creates lives inside its own namespaces; nothing touches the root namespace.
//! Names are unique per lab, so tests can build labs in parallel. Addresses come from
//! 198.18.0.0/24 and fd00:198:18::/64 (the RFC 2544 benchmarking range and a unique-local
//! prefix), and exist only inside the lab.
//!
//! Teardown is guaranteed (all of it lives in one module, `teardown.rs`): a [`Lab`] is torn down when it is dropped (which covers errors and
//! panics), and on SIGINT, SIGTERM, SIGHUP or SIGQUIT every live lab of the process is torn down
//! before the process dies of the signal. Processes still running inside a lab's namespaces are
//! killed first, so the namespaces really go. A lab can also be detached, to outlive the process
//! (that is what `xdpdbg lab up` does); it is then found again by its id.
//!
//! ```no_run
//! let lab = netlab::LabSpec::new(3).build()?;
//! let stats = lab.ping("h1", "h2", 3)?;
//! assert_eq!(stats.received, 3);
//! let out = lab.exec_ok("h3", &["ip", "-brief", "address"])?;
//! // Closures run inside a node's network namespace: h1's address can be bound there only.
//! let h1 = lab.host("h1")?.ipv4;
//! let socket = lab.run_in("h1", || std::net::UdpSocket::bind((h1, 0)))??;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod lab;
pub mod netns;
mod ping;
mod spec;
mod state;
mod teardown;
mod tool;

pub use error::Error;
pub use lab::{Host, Lab, SWITCH_NODE};
pub use ping::PingStats;
pub use spec::LabSpec;
pub use state::{LabInfo, NAMESPACE_PREFIX, STATE_DIR, list_labs};
pub use teardown::{orphan_namespaces, remove_corrupt_states};
