//! A lab: its hosts, its switch, and what can be done inside them.

use crate::spec::{LabSpec, validate_name};
use crate::state::{LabInfo, NAMESPACE_PREFIX};
use crate::{Error, PingStats, netns, teardown, tool};
use preflight::Capability;
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The node name of the switch namespace (where the bridge is).
pub const SWITCH_NODE: &str = "sw";

/// The bridge's own address when [`LabSpec::bridge_address`] is on.
const BRIDGE_IPV4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 254);

/// One host of a lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    /// `h1`, `h2`, ...
    pub name: String,
    /// Its network namespace.
    pub netns: String,
    /// Its interface, inside its namespace (`eth0`).
    pub ifname: String,
    /// The bridge port its interface is wired to, inside the switch namespace (`p1`, ...).
    pub port: String,
    /// The interface's MAC address (`02:1a:b0:00:00:01` for h1).
    pub mac: String,
    /// Its IPv4 address (/24).
    pub ipv4: Ipv4Addr,
    /// Its IPv6 address (/64), if the lab has IPv6.
    pub ipv6: Option<Ipv6Addr>,
}

impl Host {
    fn new(lab_id: &str, index: usize, ipv6: bool) -> Self {
        let n = index as u8;
        Host {
            name: format!("h{index}"),
            netns: format!("{NAMESPACE_PREFIX}{lab_id}-h{index}"),
            ifname: "eth0".into(),
            port: format!("p{index}"),
            mac: format!("02:1a:b0:00:00:{n:02x}"),
            ipv4: Ipv4Addr::new(198, 18, 0, n),
            ipv6: ipv6.then(|| Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, index as u16)),
        }
    }
}

/// A running lab. Dropping it tears it down (unless it was opened from another process's state
/// or detached).
#[derive(Debug)]
pub struct Lab {
    info: LabInfo,
    owned: bool,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A number that differs between calls, processes and runs (not cryptographic).
fn random_u64() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ u64::from(COUNTER.fetch_add(1, Ordering::Relaxed)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // splitmix64 finaliser: spreads every input bit over the output.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Lab {
    pub(crate) fn build(spec: &LabSpec) -> Result<Lab, Error> {
        preflight::require_capabilities(&[Capability::NetAdmin, Capability::SysAdmin])?;
        spec.validate()?;
        let _building = teardown::building();
        let info = Self::reserve(spec)?;
        teardown::track(&info);
        // From here on, dropping `lab` (on any error below) removes whatever exists.
        let lab = Lab { info, owned: true };
        lab.create(spec)?;
        Ok(lab)
    }

    /// Picks the lab's id and claims it by creating its state file, before any namespace.
    fn reserve(spec: &LabSpec) -> Result<LabInfo, Error> {
        loop {
            let id = match &spec.name {
                Some(name) => name.clone(),
                None => format!("{:06x}", random_u64() & 0xff_ffff),
            };
            let info = LabInfo {
                switch_netns: format!("{NAMESPACE_PREFIX}{id}-sw"),
                bridge: spec.bridge.clone(),
                bridge_ipv4: spec.bridge_address.then_some(BRIDGE_IPV4),
                hosts: (1..=spec.hosts)
                    .map(|i| Host::new(&id, i, spec.ipv6))
                    .collect(),
                owner_pid: Some(std::process::id()),
                created_unix: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                token: random_u64(),
                id,
            };
            // Namespaces left by a lab whose state is gone also keep the name taken.
            let taken = info.namespaces().iter().any(|ns| netns::exists(ns));
            let result = if taken {
                Err(Error::AlreadyExists(info.id.clone()))
            } else {
                info.create().map(|()| info)
            };
            match result {
                Err(Error::AlreadyExists(_)) if spec.name.is_none() => continue,
                other => return other,
            }
        }
    }

    fn create(&self, spec: &LabSpec) -> Result<(), Error> {
        let sw = self.info.switch_netns.as_str();
        let br = self.info.bridge.as_str();
        let mtu = spec.mtu.map(|m| m.to_string());
        let mtu_args: Vec<&str> = mtu.iter().flat_map(|m| ["mtu", m.as_str()]).collect();

        netns::add(sw)?;
        let mut add_bridge = vec!["-n", sw, "link", "add", br];
        add_bridge.extend(&mtu_args);
        add_bridge.extend(["type", "bridge", "stp_state", "0"]);
        tool::ip(&add_bridge)?;
        tool::ip(&["-n", sw, "link", "set", br, "up"])?;

        for host in &self.info.hosts {
            netns::add(&host.netns)?;
            let mut add_veth = vec!["-n", sw, "link", "add", &host.port];
            add_veth.extend(&mtu_args);
            add_veth.extend(["type", "veth", "peer", "name", &host.ifname]);
            add_veth.extend(&mtu_args);
            add_veth.extend(["netns", &host.netns]);
            tool::ip(&add_veth)?;
            tool::ip(&["-n", sw, "link", "set", &host.port, "master", br, "up"])?;
            let ns = host.netns.as_str();
            tool::ip(&[
                "-n",
                ns,
                "link",
                "set",
                &host.ifname,
                "address",
                &host.mac,
                "up",
            ])?;
            let v4 = format!("{}/24", host.ipv4);
            tool::ip(&["-n", ns, "addr", "add", &v4, "dev", &host.ifname])?;
            if let Some(v6) = host.ipv6 {
                let v6 = format!("{v6}/64");
                tool::ip(&["-n", ns, "addr", "add", &v6, "dev", &host.ifname, "nodad"])?;
            }
        }
        if let Some(addr) = self.info.bridge_ipv4 {
            tool::ip(&["-n", sw, "addr", "add", &format!("{addr}/24"), "dev", br])?;
        }
        if let Some(on) = spec.bridge_nf_call {
            self.set_bridge_nf_call(on)?;
        }
        let hosts_file = self.hosts_file();
        for ns in self.info.namespaces() {
            netns::set_etc_file(&ns, "hosts", &hosts_file)?;
        }
        self.wait_until_up(Duration::from_secs(5))
    }

    /// An /etc/hosts that names every node of the lab.
    fn hosts_file(&self) -> String {
        let mut text = String::from("127.0.0.1 localhost\n::1 localhost\n");
        for h in &self.info.hosts {
            text.push_str(&format!("{} {}\n", h.ipv4, h.name));
            if let Some(v6) = h.ipv6 {
                text.push_str(&format!("{v6} {}\n", h.name));
            }
        }
        if let Some(addr) = self.info.bridge_ipv4 {
            text.push_str(&format!("{addr} {SWITCH_NODE}\n"));
        }
        text
    }

    fn set_bridge_nf_call(&self, on: bool) -> Result<(), Error> {
        let value = if on { "1" } else { "0" };
        self.run_in(SWITCH_NODE, || {
            for family in ["iptables", "ip6tables", "arptables"] {
                let path = format!("/proc/sys/net/bridge/bridge-nf-call-{family}");
                match std::fs::write(&path, value) {
                    Ok(()) => {}
                    // Without br_netfilter there is nothing to turn off.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && !on => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(Error::BridgeNetfilterMissing);
                    }
                    Err(err) => {
                        return Err(Error::Io {
                            action: "writing",
                            path: path.into(),
                            err,
                        });
                    }
                }
            }
            Ok(())
        })?
    }

    /// Waits until every host link has carrier, so the first packet of a test is not lost.
    fn wait_until_up(&self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        for host in &self.info.hosts {
            loop {
                let out =
                    tool::ip(&["-n", &host.netns, "-o", "link", "show", "dev", &host.ifname])?;
                if out.contains("LOWER_UP") {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(Error::UnexpectedOutput {
                        command: format!("ip -n {} link show dev {}", host.netns, host.ifname),
                        output: format!("link still down after {timeout:?}: {}", out.trim()),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }

    /// Opens a lab that exists already (built by another process, or detached). The returned
    /// value does not tear the lab down when dropped; call [`Lab::teardown`] for that.
    pub fn open(id: &str) -> Result<Lab, Error> {
        validate_name(id).map_err(|_| Error::UnknownLab(id.into()))?;
        Ok(Lab {
            info: LabInfo::load(id)?,
            owned: false,
        })
    }

    /// The lab's id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Everything about the lab.
    pub fn info(&self) -> &LabInfo {
        &self.info
    }

    /// The hosts, in order (h1 first).
    pub fn hosts(&self) -> &[Host] {
        &self.info.hosts
    }

    /// The host called `name` (`h1`, ...).
    pub fn host(&self, name: &str) -> Result<&Host, Error> {
        self.info
            .hosts
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| self.unknown_node(name))
    }

    /// The bridge's name inside the switch namespace.
    pub fn bridge(&self) -> &str {
        &self.info.bridge
    }

    /// The switch namespace.
    pub fn switch_netns(&self) -> &str {
        &self.info.switch_netns
    }

    /// The namespace of `node`: `sw` for the switch, a host's name, or a namespace name.
    pub fn netns(&self, node: &str) -> Result<&str, Error> {
        if node == SWITCH_NODE || node == self.info.switch_netns {
            return Ok(&self.info.switch_netns);
        }
        self.info
            .hosts
            .iter()
            .find(|h| h.name == node || h.netns == node)
            .map(|h| h.netns.as_str())
            .ok_or_else(|| self.unknown_node(node))
    }

    fn unknown_node(&self, node: &str) -> Error {
        let known: Vec<&str> = std::iter::once(SWITCH_NODE)
            .chain(self.info.hosts.iter().map(|h| h.name.as_str()))
            .collect();
        Error::UnknownNode {
            lab: self.info.id.clone(),
            node: node.into(),
            known: known.join(", "),
        }
    }

    /// A command that runs `program` inside `node`; add arguments and run it as usual.
    /// Processes still running in the lab are killed at teardown.
    pub fn command(&self, node: &str, program: impl AsRef<OsStr>) -> Result<Command, Error> {
        Ok(netns::command(self.netns(node)?, program))
    }

    /// Runs `argv` inside `node` and returns its output, whatever its exit status.
    pub fn exec<S: AsRef<OsStr>>(&self, node: &str, argv: &[S]) -> Result<Output, Error> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::InvalidSpec("an empty command cannot be run".into()))?;
        tool::output(self.command(node, program)?.args(args))
    }

    /// Runs `argv` inside `node` and returns its stdout; a non-zero exit is an error carrying
    /// stderr.
    pub fn exec_ok<S: AsRef<OsStr>>(&self, node: &str, argv: &[S]) -> Result<String, Error> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::InvalidSpec("an empty command cannot be run".into()))?;
        tool::run_ok(self.command(node, program)?.args(args))
    }

    /// Runs `f` inside `node`'s network namespace (on a thread of its own) and returns its
    /// result.
    pub fn run_in<R: Send, F: FnOnce() -> R + Send>(&self, node: &str, f: F) -> Result<R, Error> {
        netns::run_in(self.netns(node)?, f)
    }

    /// Pings host `to` (by IPv4 address) from host `from`, `count` times, 0.2 s apart.
    pub fn ping(&self, from: &str, to: &str, count: u32) -> Result<PingStats, Error> {
        let target = self.host(to)?.ipv4.to_string();
        let count = count.to_string();
        let argv = ["ping", "-n", "-c", &count, "-i", "0.2", "-W", "1", &target];
        let out = self.exec(from, &argv)?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        PingStats::parse(&stdout).ok_or_else(|| Error::UnexpectedOutput {
            command: argv.join(" "),
            output: format!("{}{}", stdout, String::from_utf8_lossy(&out.stderr)),
        })
    }

    /// Lets the lab outlive this process: it is no longer torn down on drop or on a signal,
    /// and other processes find it by its id.
    pub fn detach(mut self) -> Result<LabInfo, Error> {
        self.info.owner_pid = None;
        self.info.save()?;
        teardown::untrack(&self.info.id);
        self.owned = false;
        Ok(self.info.clone())
    }

    /// Tears the lab down now: kills what runs inside it and removes its namespaces (and with
    /// them every link), its /etc/netns files and its state file.
    pub fn teardown(mut self) -> Result<(), Error> {
        self.owned = false;
        let result = teardown::teardown(&self.info);
        teardown::untrack(&self.info.id);
        result
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.owned {
            if let Err(e) = teardown::teardown(&self.info) {
                eprintln!("netlab: tearing down lab {}: {e}", self.info.id);
            }
            teardown::untrack(&self.info.id);
        }
    }
}
