//! `switch-ctl status`: what the daemon decided (from its status file) and what the fast path
//! is doing (live, from the pinned maps).
//!
//! The daemon rewrites `status.json` (mode 0600, in a 0700 directory: root only) after every
//! change and at least every second. `status` reads it, checks that the daemon's pid is alive, and adds
//! counters and FDB sizes read from the pins, so it works after `kill -9` too: the fast path is
//! still forwarding then, and the status says so.

use crate::dataplane::Maps;
use crate::layout::Layout;
use crate::mode::{Mode, Requested};
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use switch_ebpf::types::{PassReason, PortCounters};

/// The whole status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// The daemon itself.
    pub daemon: DaemonStatus,
    /// Every selected bridge.
    pub bridges: Vec<BridgeStatus>,
}

/// The daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// Its pid.
    pub pid: u32,
    /// Whether that pid is alive (filled in by the reader).
    pub running: bool,
    /// The network namespace tag it serves.
    pub netns: String,
    /// Where its pins are.
    pub pin_dir: String,
    /// When it started (Unix seconds).
    pub started_unix: u64,
    /// When it last resynced everything from the kernel (Unix seconds).
    pub last_resync_unix: u64,
    /// How many full resyncs (start, netlink overruns).
    pub resyncs: u64,
    /// How many netlink overruns (ENOBUFS) forced a resync.
    pub overruns: u64,
    /// Whether bridges with bridge netfilter are accelerated anyway.
    pub allow_netfilter: bool,
}

/// One bridge.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BridgeStatus {
    /// Its name.
    pub name: String,
    /// Its ifindex.
    pub ifindex: u32,
    /// Whether its ports get a fast path.
    pub accelerated: bool,
    /// Why not.
    pub reason: Option<String>,
    /// Its ageing time.
    pub ageing_time_ms: u64,
    /// FDB entries of this bridge in the fast path (filled in by the reader).
    pub fdb_entries: usize,
    /// Its ports.
    pub ports: Vec<PortStatus>,
}

/// One port.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PortStatus {
    /// Its name.
    pub name: String,
    /// Its ifindex.
    pub ifindex: u32,
    /// The mode asked for.
    pub requested: Requested,
    /// The mode in use (None: no fast path).
    pub mode: Option<Mode>,
    /// Why.
    pub reason: String,
    /// Whether the fast path is attached now.
    pub attached: bool,
    /// The last attach error, if any.
    pub error: Option<String>,
    /// The port's flags as the data plane sees them (forwarding, up, hairpin, ...).
    pub flags: Vec<String>,
    /// Its counter slot.
    pub slot: Option<u32>,
    /// Its counters (filled in by the reader).
    pub counters: Option<Counters>,
}

/// A port's counters, summed over CPUs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Frames forwarded by the fast path.
    pub fast_packets: u64,
    /// Their bytes.
    pub fast_bytes: u64,
    /// Frames passed to the bridge, by reason.
    pub passed: BTreeMap<String, u64>,
    /// Frames dropped.
    pub dropped: u64,
}

impl From<PortCounters> for Counters {
    fn from(c: PortCounters) -> Self {
        Counters {
            fast_packets: c.fast_packets,
            fast_bytes: c.fast_bytes,
            passed: PassReason::ALL
                .iter()
                .zip(c.passed)
                .map(|(r, n)| (r.name().to_string(), n))
                .collect(),
            dropped: c.dropped,
        }
    }
}

/// The names of the bits of `port_flags`.
pub fn flag_names(flags: u32) -> Vec<String> {
    use switch_ebpf::types::port_flags::*;
    [
        (FORWARDING, "forwarding"),
        (UP, "up"),
        (HAIRPIN, "hairpin"),
        (ISOLATED, "isolated"),
        (LOCKED, "locked"),
        (XDP_XMIT, "xdp-xmit"),
        (EGRESS, "egress"),
    ]
    .into_iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| name.to_string())
    .collect()
}

/// Writes the status file atomically, readable by root only.
pub fn write(layout: &Layout, status: &Status) -> anyhow::Result<()> {
    create_private_dir(&layout.run_dir)?;
    let tmp = layout.run_dir.join("status.json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(status)?)?;
    std::fs::rename(&tmp, layout.status_file())?;
    Ok(())
}

/// Creates `dir` (and parents) with mode 0700.
pub fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Whether process `pid` is alive.
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // kill(pid, 0) checks existence without sending anything; a zombie counts as gone.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
}

/// Reads the status file and fills in the live parts. Ok(None): no daemon ever ran here (or
/// the last one stopped cleanly).
pub fn read(layout: &Layout) -> anyhow::Result<Option<Status>> {
    let path = layout.status_file();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut status: Status = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a status file", path.display()))?;
    status.daemon.running = alive(status.daemon.pid);
    if let Ok(maps) = Maps::from_pins(layout) {
        let entries = maps.fdb_entries();
        for bridge in &mut status.bridges {
            bridge.fdb_entries = entries
                .iter()
                .filter(|(k, _)| k.bridge == bridge.ifindex)
                .count();
            for port in &mut bridge.ports {
                port.counters = port
                    .slot
                    .and_then(|slot| maps.counters(slot).ok())
                    .map(Counters::from);
            }
        }
    }
    Ok(Some(status))
}

/// Renders the status for people.
pub fn render(status: &Status) -> String {
    let d = &status.daemon;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_secs());
    let mut out = if d.running {
        format!(
            "daemon: running (pid {}), {}; last resync {} s ago ({} resyncs, {} netlink overruns)\n",
            d.pid,
            d.netns,
            now.saturating_sub(d.last_resync_unix),
            d.resyncs,
            d.overruns
        )
    } else {
        format!(
            "daemon: NOT running (pid {} is gone); the pinned fast path keeps forwarding as last \
             configured: restart `switch-ctl run` to adopt it, or `switch-ctl stop` to remove it\n",
            d.pid
        )
    };
    for b in &status.bridges {
        match &b.reason {
            None => {
                out += &format!(
                    "bridge {}: accelerated, ageing {} s, {} FDB entries in the fast path\n",
                    b.name,
                    b.ageing_time_ms / 1000,
                    b.fdb_entries
                )
            }
            Some(why) => out += &format!("bridge {}: not accelerated: {why}\n", b.name),
        }
        for p in &b.ports {
            let mode = p.mode.map_or("-", Mode::name);
            let c = p.counters.clone().unwrap_or_default();
            let passed: u64 = c.passed.values().sum();
            let state = if p.attached {
                "attached"
            } else {
                "not attached"
            };
            out += &format!(
                "  {:<12} {:<11} {:<12} fast {:>10} pkts {:>12} bytes  passed {:>8}  dropped {}\n",
                p.name, mode, state, c.fast_packets, c.fast_bytes, passed, c.dropped
            );
            out += &format!("  {:<12} {} [{}]\n", "", p.reason, p.flags.join(" "));
            if let Some(e) = &p.error {
                out += &format!("  {:<12} error: {e}\n", "");
            }
        }
    }
    if status.bridges.is_empty() {
        out += "no bridge selected yet (none exists, or none matches --bridge)\n";
    }
    out
}
