//! The lab every measurement gets afresh, and the ingress port's NAPI thread.

use std::ffi::CString;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use netlab::{Lab, LabSpec};

use crate::BRIDGE;
use crate::cpu::pin;

/// A fresh two-host lab whose bridge has learned both hosts' MACs from one ping (which also
/// checks the path). The entries stay dynamic, as in real use: the fast path then checks, for
/// every frame, whether the source's refresh frame for the bridge is due.
pub fn lab(nf_call: bool) -> Result<Lab> {
    let lab = LabSpec::new(2)
        .ipv6(false)
        .bridge_nf_call(nf_call)
        .build()
        .context("building the lab")?;
    let ping = lab.ping("h1", "h2", 1).context("ping h1 -> h2")?;
    ensure!(ping.received == 1, "h1 cannot ping h2 through the bridge");
    let fdb = lab.exec_ok("sw", &["bridge", "fdb", "show", "br", BRIDGE, "dynamic"])?;
    for host in lab.hosts() {
        ensure!(
            fdb.lines()
                .any(|l| l.starts_with(&host.mac) && l.contains(&format!("dev {} ", host.port))),
            "the bridge did not learn {}'s MAC {} on {}: {fdb}",
            host.name,
            host.mac,
            host.port
        );
    }
    Ok(lab)
}

pub fn ifindex_in(lab: &Lab, node: &str, ifname: &str) -> Result<u32> {
    let name = CString::new(ifname)?;
    // SAFETY: if_nametoindex reads a NUL-terminated string that outlives the call.
    let index = lab.run_in(node, || unsafe { libc::if_nametoindex(name.as_ptr()) })?;
    ensure!(index != 0, "{ifname} not found in {node}");
    Ok(index)
}

pub fn set_gro(lab: &Lab, node: &str, ifname: &str, on: bool) -> Result<()> {
    lab.exec_ok(
        node,
        &[
            "ethtool",
            "-K",
            ifname,
            "gro",
            if on { "on" } else { "off" },
        ],
    )?;
    Ok(())
}

/// The NAPI kernel threads (`napi/<ifname>-<id>`) that exist now.
fn napi_threads(ifname: &str) -> Vec<i32> {
    let prefix = format!("napi/{ifname}-");
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end().starts_with(&prefix))
        })
        .collect()
}

/// Turns on threaded NAPI for `port` in the switch namespace (its NAPI must exist: GRO or an
/// XDP program), and pins the new NAPI thread to `cpu`. Returns the thread's pid.
pub fn threaded_napi(lab: &Lab, port: &str, cpu: usize) -> Result<i32> {
    let before = napi_threads(port);
    // `ip netns exec` mounts the namespace's own /sys.
    let script = format!("echo 1 > /sys/class/net/{port}/threaded");
    lab.exec_ok("sw", &["sh", "-c", &script])
        .with_context(|| format!("enabling threaded NAPI on {port}"))?;
    let deadline = Instant::now() + Duration::from_secs(2);
    let pid = loop {
        let new: Vec<i32> = napi_threads(port)
            .into_iter()
            .filter(|p| !before.contains(p))
            .collect();
        match new.as_slice() {
            [pid] => break *pid,
            [] if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            [] => bail!("no NAPI thread napi/{port}-* appeared after enabling threaded NAPI"),
            more => bail!(
                "several new NAPI threads for {port} ({more:?}): is another lab being built \
                 right now?"
            ),
        }
    };
    pin(pid, cpu).with_context(|| format!("pinning NAPI thread {pid} to CPU {cpu}"))?;
    // The highest weight of the normal scheduler: on a shared machine the forwarder gets ~99 %
    // of its CPU against ordinary processes (no real-time class, so no throttling stalls).
    // SAFETY: setpriority takes plain integers.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, -20) } != 0 {
        bail!(
            "setting nice -20 on NAPI thread {pid}: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(pid)
}
