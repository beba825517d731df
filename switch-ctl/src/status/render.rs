//! The status for people: one line per bridge, two or three per port.

use super::{MapsAccess, Status};
use crate::mode::Mode;

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
    let unavailable = match &status.maps {
        MapsAccess::Unavailable { reason, hint } => {
            out += &format!(
                "fast path maps: NOT FOUND ({reason}): FDB sizes and counters are unknown; {hint}\n"
            );
            true
        }
        MapsAccess::Ids => {
            out += "fast path maps: opened by id (the daemon's pins are in another mount \
                    namespace)\n";
            false
        }
        MapsAccess::Pins | MapsAccess::NotRead => false,
    };
    if !d.map_ids.is_empty() {
        let ids: Vec<String> = d
            .map_ids
            .iter()
            .map(|(n, id)| format!("{n} {id}"))
            .collect();
        out += &format!("map ids (xdpdbg map ID): {}\n", ids.join(", "));
    }
    if d.fdb_capacity > 0 && !unavailable {
        let used: usize = status.bridges.iter().map(|b| b.fdb_entries).sum();
        let full = if used >= d.fdb_capacity as usize {
            ": full, further MACs stay with the bridge (raise --fdb-entries)"
        } else {
            ""
        };
        out += &format!(
            "fast-path FDB: {used} of {} entries{full}\n",
            d.fdb_capacity
        );
    }
    for b in &status.bridges {
        match &b.reason {
            None if unavailable => {
                out += &format!(
                    "bridge {}: accelerated, ageing {} s, FDB entries in the fast path unknown\n",
                    b.name,
                    b.ageing_time_ms / 1000,
                )
            }
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
