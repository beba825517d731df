//! What the switch's integration tests share: labs, a daemon guard that always cleans up, status
//! polling with deadlines, counters, and traffic inside a lab.
//!
//! Every test builds its own lab (unique namespaces, torn down on drop and on signals) and runs
//! its own daemon in the lab's switch namespace. The [`Daemon`] guard borrows the lab, so it is
//! dropped first: it stops the daemon with SIGTERM and then runs `switch-ctl stop`, which removes
//! whatever a daemon killed with -9 left (attachments and pins), so a failing test leaks nothing.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use netlab::{Lab, LabSpec, PingStats, SWITCH_NODE};
use switch_ctl::status::{Counters, PortStatus, Status};
use testkit::binary::Binary;
use testkit::lab::{Iperf3Server, iperf3_client};
use testkit::privilege::require_root;
pub use testkit::tool::require_tool;

/// The daemon binary under test.
pub const SWITCH_CTL: &str = env!("CARGO_BIN_EXE_switch-ctl");

/// How long a change may take to show in the status before a test fails.
pub const WAIT: Duration = Duration::from_secs(2);

/// How long the daemon may take to start and attach every port.
pub const START: Duration = Duration::from_secs(10);

/// What the switch's tests need root for, as their privilege check says.
pub const NEEDS_ROOT: &str =
    "these tests build network namespaces, load eBPF programs and attach them";

/// A lab of `hosts` hosts with bridge netfilter off (the switch accelerates it).
pub fn lab(hosts: usize) -> Lab {
    build(LabSpec::new(hosts).bridge_nf_call(false))
}

/// Builds `spec`, as root.
pub fn build(spec: LabSpec) -> Lab {
    require_root(NEEDS_ROOT);
    testkit::lab::build(spec)
}

/// Runs `argv` in `node` and returns its stdout; panics with stderr if it fails.
pub fn run(lab: &Lab, node: &str, argv: &[&str]) -> String {
    lab.exec_ok(node, argv)
        .unwrap_or_else(|e| panic!("`{}` in {node}: {e}", argv.join(" ")))
}

/// Runs `argv` in `node`, whatever its exit status.
pub fn exec(lab: &Lab, node: &str, argv: &[&str]) -> Output {
    lab.exec(node, argv)
        .unwrap_or_else(|e| panic!("`{}` in {node} cannot run: {e}", argv.join(" ")))
}

/// Runs `argv` in the switch namespace.
pub fn sw(lab: &Lab, argv: &[&str]) -> String {
    run(lab, SWITCH_NODE, argv)
}

/// Sets br0's ageing time, in centiseconds (`ip link set br0 type bridge ageing_time CS`).
pub fn set_ageing_time(lab: &Lab, centiseconds: u32) {
    let cs = centiseconds.to_string();
    sw(
        lab,
        &[
            "ip",
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "ageing_time",
            &cs,
        ],
    );
}

/// Runs `switch-ctl` with `args` (not as a daemon).
pub fn switch_ctl(args: &[&str]) -> Output {
    Binary::new(SWITCH_CTL).run(args)
}

/// Pings `addr` from `node` `count` times, 50 ms apart, waiting at most 1 s per reply.
pub fn ping(lab: &Lab, node: &str, addr: &str, count: u32) -> PingStats {
    ping_with(lab, node, addr, count, &[])
}

/// Sends `count` echo requests from `node` to `addr` at once (preloaded), and waits 0.3 s for
/// the last reply: enough frames to stand out from a lab's background traffic (IPv6 router
/// solicitations and MLD reports flood for the first seconds of a lab), quickly even when no
/// reply comes.
pub fn ping_many(lab: &Lab, node: &str, addr: &str, count: u32) -> PingStats {
    let preload = count.to_string();
    ping_with(lab, node, addr, count, &["-l", &preload, "-W", "0.3"])
}

/// [`ping`] with extra arguments (`-s 8000`, ...; a later `-i` or `-W` wins).
pub fn ping_with(lab: &Lab, node: &str, addr: &str, count: u32, extra: &[&str]) -> PingStats {
    let count = count.to_string();
    let mut argv = vec!["ping", "-n", "-q", "-c", &count, "-i", "0.05", "-W", "1"];
    argv.extend(extra);
    argv.push(addr);
    let out = exec(lab, node, &argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    PingStats::parse(&stdout).unwrap_or_else(|| {
        panic!(
            "`{}` in {node} printed no summary: {stdout}{}",
            argv.join(" "),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The IPv4 address of host `name`, as text.
pub fn addr(lab: &Lab, name: &str) -> String {
    lab.host(name)
        .unwrap_or_else(|e| panic!("{e}"))
        .ipv4
        .to_string()
}

/// The MAC address of host `name`, as text.
pub fn mac(lab: &Lab, name: &str) -> String {
    lab.host(name).unwrap_or_else(|e| panic!("{e}")).mac.clone()
}

/// An interface's packet counters, as `ip -s` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
}

/// The packet counters of `ifname` in `node`.
pub fn link_stats(lab: &Lab, node: &str, ifname: &str) -> LinkStats {
    let out = run(
        lab,
        node,
        &["ip", "-j", "-s", "link", "show", "dev", ifname],
    );
    let json: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("`ip -j -s link show dev {ifname}` is not JSON ({e}): {out}"));
    let stats = &json[0]["stats64"];
    let number = |v: &serde_json::Value| {
        v.as_u64()
            .unwrap_or_else(|| panic!("no packet counter in `ip -j -s link show`: {out}"))
    };
    LinkStats {
        rx_packets: number(&stats["rx"]["packets"]),
        tx_packets: number(&stats["tx"]["packets"]),
    }
}

/// The SNMP counters of `node`'s namespace (/proc/net/snmp), as `Tcp.InCsumErrors` and so on.
pub fn snmp(lab: &Lab, node: &str) -> BTreeMap<String, u64> {
    let text = run(lab, node, &["cat", "/proc/net/snmp"]);
    let mut counters = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    for pair in lines.chunks(2) {
        let [names, values] = pair else { continue };
        let (Some((proto, names)), Some((_, values))) =
            (names.split_once(": "), values.split_once(": "))
        else {
            continue;
        };
        for (name, value) in names.split_whitespace().zip(values.split_whitespace()) {
            if let Ok(value) = value.parse() {
                counters.insert(format!("{proto}.{name}"), value);
            }
        }
    }
    counters
}

/// Every program id in `text` (`... id 123 ...`, as `ip -d link` and `tc filter show` print).
pub fn program_ids(text: &str) -> Vec<u32> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "id")
        .filter_map(|w| w[1].parse().ok())
        .collect()
}

/// What of a fast path is attached to `port` (in the switch namespace): its XDP programs and
/// its TC ingress filters, as text for messages; empty when nothing.
pub fn attachments(lab: &Lab, port: &str) -> String {
    let link = sw(lab, &["ip", "-d", "link", "show", "dev", port]);
    let mut found: Vec<String> = link
        .lines()
        .filter(|l| l.contains("prog/xdp"))
        .map(|l| l.trim().to_string())
        .collect();
    let filters = exec(
        lab,
        SWITCH_NODE,
        &["tc", "filter", "show", "dev", port, "ingress"],
    );
    found.extend(
        String::from_utf8_lossy(&filters.stdout)
            .lines()
            .filter(|l| l.contains("switch_"))
            .map(|l| l.trim().to_string()),
    );
    found.join("\n")
}

/// Waits until `done` holds, polling every 10 ms; panics after `timeout` with `what` and the
/// last thing `done` saw (`describe`). Returns how long it took.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut done: impl FnMut() -> bool,
    describe: impl Fn() -> String,
) -> Duration {
    let start = Instant::now();
    loop {
        if done() {
            return start.elapsed();
        }
        if start.elapsed() > timeout {
            panic!("{what}: still not so after {timeout:?}\n{}", describe());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts a one-shot iperf3 server in `node` (killed when dropped) and waits until it listens.
pub fn iperf3_server(lab: &Lab, node: &str) -> Iperf3Server {
    require_tool("iperf3", "iperf3");
    Iperf3Server::start(lab, node, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs an iperf3 client in `node` against `addr` with `extra` arguments, and returns its JSON
/// report.
pub fn iperf3(lab: &Lab, node: &str, addr: &str, extra: &[&str]) -> serde_json::Value {
    iperf3_client(lab, node, addr, extra).unwrap_or_else(|e| panic!("{e}"))
}

/// The port called `name` in `status`, in any bridge.
pub fn port<'s>(status: &'s Status, name: &str) -> Option<&'s PortStatus> {
    status
        .bridges
        .iter()
        .flat_map(|b| &b.ports)
        .find(|p| p.name == name)
}

/// Whether `port` is in `status` with its fast path attached.
pub fn attached(status: &Status, name: &str) -> bool {
    port(status, name).is_some_and(|p| p.attached && p.mode.is_some())
}

/// Whether `port` is in `status` with flag `flag` (`forwarding`, `isolated`, ...).
pub fn has_flag(status: &Status, name: &str, flag: &str) -> bool {
    port(status, name).is_some_and(|p| p.flags.iter().any(|f| f == flag))
}

/// A counter that passed frames to the bridge for `reason` (`egress_state`, ...).
pub fn passed(counters: &Counters, reason: &str) -> u64 {
    *counters
        .passed
        .get(reason)
        .unwrap_or_else(|| panic!("no pass reason `{reason}` in {counters:?}"))
}

/// The running daemon of one lab, stopped when dropped.
///
/// Drop sends SIGTERM and waits (SIGKILL after 10 s), then runs `switch-ctl stop --netns`, which
/// also removes the pinned fast path of a daemon killed with -9. On a panic, the daemon's log is
/// printed.
pub struct Daemon<'lab> {
    lab: &'lab Lab,
    args: Vec<String>,
    /// How the daemon is started: empty for `switch-ctl run --netns NS`, else a command that
    /// runs `switch-ctl run` inside the switch namespace (`ip netns exec NS`, ...).
    launcher: Vec<String>,
    child: Option<Child>,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl<'lab> Daemon<'lab> {
    /// Starts `switch-ctl run --netns <switch ns> --bridge <bridge> <extra>` and waits until
    /// its status lists every port of the lab attached.
    pub fn start(lab: &'lab Lab, extra: &[&str]) -> Daemon<'lab> {
        let mut daemon = Daemon::spawn(lab, extra);
        let ports: Vec<&str> = lab.hosts().iter().map(|h| h.port.as_str()).collect();
        daemon.wait_attached(&ports);
        daemon
    }

    /// Starts the daemon without waiting for anything.
    pub fn spawn(lab: &'lab Lab, extra: &[&str]) -> Daemon<'lab> {
        Daemon::spawn_via(lab, &[], extra)
    }

    /// Starts `launcher switch-ctl run --bridge <bridge> <extra>` (the launcher enters the
    /// switch namespace: `ip netns exec NS`, `nsenter --net=...`) and waits until its status
    /// lists every port of the lab attached.
    pub fn start_via(lab: &'lab Lab, launcher: &[&str], extra: &[&str]) -> Daemon<'lab> {
        let mut daemon = Daemon::spawn_via(lab, launcher, extra);
        let ports: Vec<&str> = lab.hosts().iter().map(|h| h.port.as_str()).collect();
        daemon.wait_attached(&ports);
        daemon
    }

    fn spawn_via(lab: &'lab Lab, launcher: &[&str], extra: &[&str]) -> Daemon<'lab> {
        require_root(NEEDS_ROOT);
        let log_dir = tempfile::tempdir().expect("a temporary directory");
        let mut daemon = Daemon {
            lab,
            args: extra.iter().map(|s| s.to_string()).collect(),
            launcher: launcher.iter().map(|s| s.to_string()).collect(),
            child: None,
            log: log_dir.path().join("daemon.log"),
            _log_dir: log_dir,
        };
        daemon.restart();
        daemon
    }

    /// The switch namespace it serves.
    pub fn netns(&self) -> &str {
        self.lab.switch_netns()
    }

    /// Starts the daemon again with other arguments (after [`Daemon::kill9`] or
    /// [`Daemon::terminate`]).
    pub fn restart_with(&mut self, extra: &[&str]) {
        self.args = extra.iter().map(|s| s.to_string()).collect();
        self.restart();
    }

    /// Starts the daemon again with the same arguments (after [`Daemon::kill9`] or
    /// [`Daemon::terminate`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the daemon is still running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the daemon's log file");
        let mut command = match self.launcher.split_first() {
            None => {
                let mut command = Command::new(SWITCH_CTL);
                command.args(["run", "--netns", self.netns()]);
                command
            }
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).args([SWITCH_CTL, "run"]);
                command
            }
        };
        let child = command
            .args(["--bridge", self.lab.bridge()])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the daemon's log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {SWITCH_CTL}: {e}"));
        self.child = Some(child);
    }

    /// The daemon's pid, while it runs.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon runs").id()
    }

    /// What the daemon printed so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Fails (with the daemon's log) if the daemon exited.
    fn check_alive(&mut self) {
        if let Some(child) = &mut self.child
            && let Ok(Some(status)) = child.try_wait()
        {
            self.child = None;
            panic!("the daemon exited ({status}); its log:\n{}", self.log());
        }
    }

    /// `switch-ctl status --netns NS --json`: Some(status), or None while no daemon has
    /// written one (exit status 3).
    pub fn try_status(&self) -> Option<Status> {
        let out = switch_ctl(&["status", "--netns", self.netns(), "--json"]);
        match out.status.code() {
            Some(0) => Some(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "`switch-ctl status --json` printed no status ({e}):\n{}",
                    String::from_utf8_lossy(&out.stdout)
                )
            })),
            Some(3) => None,
            _ => panic!(
                "`switch-ctl status --netns {} --json` failed ({}): {}",
                self.netns(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    /// The status; panics if there is none.
    pub fn status(&self) -> Status {
        self.try_status().unwrap_or_else(|| {
            panic!(
                "`switch-ctl status` finds no daemon; its log:\n{}",
                self.log()
            )
        })
    }

    /// The live counters of `port`.
    pub fn counters(&self, port_name: &str) -> Counters {
        let status = self.status();
        let p = port(&status, port_name)
            .unwrap_or_else(|| panic!("no port {port_name} in the status: {status:#?}"));
        p.counters
            .clone()
            .unwrap_or_else(|| panic!("port {port_name} has no counters: {p:#?}"))
    }

    /// Waits up to `timeout` until the status satisfies `done`; panics with `what`, the last
    /// status and the daemon's log. Returns the status and how long it took.
    pub fn wait_for_within(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Status) -> bool,
    ) -> (Status, Duration) {
        let start = Instant::now();
        loop {
            self.check_alive();
            let status = self.try_status();
            if let Some(status) = status.as_ref().filter(|s| done(s)) {
                return (status.clone(), start.elapsed());
            }
            if start.elapsed() > timeout {
                panic!(
                    "{what}: not so after {timeout:?}; last status: {status:#?}\ndaemon log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// [`Daemon::wait_for_within`] [`WAIT`].
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&Status) -> bool) -> (Status, Duration) {
        self.wait_for_within(what, WAIT, done)
    }

    /// Waits until the daemon runs and every port in `ports` is attached (up to [`START`]).
    pub fn wait_attached(&mut self, ports: &[&str]) -> Status {
        let what = format!("ports {ports:?} attached");
        self.wait_for_within(&what, START, |s| {
            s.daemon.running && ports.iter().all(|p| attached(s, p))
        })
        .0
    }

    /// Pings `addr` from `node` once at a time until the fast path of `port` (the ingress port
    /// of the echo requests) carries a request and the reply comes back (the FDB entries are
    /// learned and mirrored). Panics after [`WAIT`].
    pub fn wait_fast(&mut self, node: &str, addr: &str, port_name: &str) {
        let before = self.counters(port_name).fast_packets;
        let mut last = None;
        let start = Instant::now();
        loop {
            self.check_alive();
            let stats = ping(self.lab, node, addr, 1);
            let now = self.counters(port_name);
            if stats.received == 1 && now.fast_packets > before {
                return;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "pings from {node} to {addr} never took the fast path of {port_name} within \
                     {WAIT:?}: last ping {stats:?}, counters before {before}, now {now:#?} \
                     (previous {last:?})\nstatus: {:#?}\ndaemon log:\n{}",
                    self.status(),
                    self.log()
                );
            }
            last = Some(stats);
        }
    }

    /// Kills the daemon with SIGKILL and reaps it. The guard still cleans up on drop.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("the daemon runs");
        child.kill().expect("SIGKILL the daemon");
        child.wait().expect("reap the daemon");
    }

    /// Stops the daemon with SIGTERM and returns its exit status (SIGKILL after 10 s).
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the daemon runs");
        terminate(&mut child)
    }

    /// The daemon's pin directory and runtime directory (from its status).
    pub fn dirs(&self) -> (PathBuf, PathBuf) {
        let status = self.status();
        let pin_dir = PathBuf::from(&status.daemon.pin_dir);
        let tag = pin_dir
            .file_name()
            .expect("the pin directory ends in the netns tag")
            .to_owned();
        (pin_dir, Path::new("/run/switch-ctl").join(tag))
    }
}

impl Daemon<'_> {
    /// The fast path's FDB entry for `mac` (in any bridge), read from the pinned `fdb` map:
    /// (egress ifindex, `fdb_flags`), None when absent.
    pub fn fdb_entry(&self, mac: &str) -> Option<(u32, u32)> {
        let (pin_dir, run_dir) = self.dirs();
        let dirs = switch_ctl::daemon_dirs::DaemonDirs { pin_dir, run_dir };
        let maps = switch_ctl::pinned_maps::PinnedMaps::from_pins(&dirs)
            .unwrap_or_else(|e| panic!("cannot open the pinned maps: {e:#}"));
        let mac = parse_mac(mac);
        maps.fdb_entries()
            .into_iter()
            .find(|(k, _)| k.mac == mac)
            .map(|(_, e)| (e.ifindex, e.flags))
    }
}

/// `02:1a:b0:00:00:01` as bytes.
pub fn parse_mac(text: &str) -> [u8; 6] {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("bad MAC {text}")))
        .collect();
    bytes
        .try_into()
        .unwrap_or_else(|_| panic!("bad MAC {text}"))
}

/// Whether program `id` still exists in the kernel.
pub fn program_exists(id: u32) -> bool {
    bpf_sys::ProgFd::from_id(id).is_ok()
}

/// SIGTERM, then wait up to 10 s, then SIGKILL.
fn terminate(child: &mut Child) -> ExitStatus {
    testkit::child::terminate(child, Duration::from_secs(10))
        .expect("reap the daemon")
        .status
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = terminate(&mut child);
            if !status.success() && !std::thread::panicking() {
                eprintln!("the daemon exited with {status} on SIGTERM");
            }
        }
        // Removes what a daemon killed with -9 left; says "no daemon" otherwise.
        let out = switch_ctl(&["stop", "--netns", self.netns()]);
        if !out.status.success() {
            eprintln!(
                "switch-ctl stop --netns {} failed: {}",
                self.netns(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if std::thread::panicking() {
            eprintln!("daemon log ({}):\n{}", self.netns(), self.log());
        }
    }
}
