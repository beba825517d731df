//! The `switch-ctl run` daemon the fast-path modes measure, and what its status says.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::{BRIDGE, EGRESS_PORT, INGRESS_PORT};

const ATTACH_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A `switch-ctl run` child. Dropping it sends SIGTERM and waits (SIGKILL after 10 s).
pub struct Daemon {
    bin: PathBuf,
    netns: String,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
}

impl Daemon {
    pub fn start(bin: &Path, netns: &str, mode: &str, allow_netfilter: bool) -> Result<Self> {
        let mut cmd = Command::new(bin);
        cmd.args([
            "run",
            "--netns",
            netns,
            "--bridge",
            BRIDGE,
            "--default-mode",
            mode,
        ]);
        if allow_netfilter {
            cmd.arg("--allow-netfilter");
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: the hook runs between fork and exec and only calls prctl(2), which is
        // async-signal-safe. The daemon gets SIGTERM (and cleans up) if the thread that spawned
        // it dies; only the main thread spawns it, so that is when this process dies.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let log = Arc::new(Mutex::new(String::new()));
        let pipes: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().context("stdout is piped")?),
            Box::new(child.stderr.take().context("stderr is piped")?),
        ];
        for pipe in pipes {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
            });
        }
        Ok(Self {
            bin: bin.into(),
            netns: netns.into(),
            child: Some(child),
            log,
        })
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn status(&self) -> Result<Value> {
        let out = Command::new(&self.bin)
            .args(["status", "--netns", &self.netns, "--json"])
            .output()
            .context("running switch-ctl status")?;
        ensure!(
            out.status.success(),
            "switch-ctl status --netns {} --json failed ({}): {}",
            self.netns,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "switch-ctl status --json printed no JSON: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Waits until the daemon runs, accelerates the bridge, and has attached to every port
    /// (in mode `want_mode`, if given). Returns each port's mode.
    pub fn wait_attached(&mut self, want_mode: Option<&str>) -> Result<Vec<(String, String)>> {
        let deadline = Instant::now() + ATTACH_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "the daemon exited ({status}) before attaching to {BRIDGE}'s ports. Its \
                     output:\n{}",
                    self.log()
                );
            }
            let last = match self.status() {
                Ok(v) => match attached_ports(&v, want_mode) {
                    Ok(ports) => return Ok(ports),
                    Err(e) => format!("{e}; status: {v}"),
                },
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() > deadline {
                bail!(
                    "the daemon did not attach to every port of {BRIDGE} within {:?}: {last}. \
                     Its output:\n{}",
                    ATTACH_TIMEOUT,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits; the daemon must exit with status 0 (it detaches everything and
    /// removes its pins on the way out).
    pub fn stop(mut self) -> Result<()> {
        let Some(child) = self.child.take() else {
            return Ok(());
        };
        let status = terminate(child)?;
        ensure!(
            status.success(),
            "the daemon exited with {status} after SIGTERM. Its output:\n{}",
            self.log()
        );
        Ok(())
    }
}

/// SIGTERM, then up to [`STOP_TIMEOUT`] for the child to exit, then SIGKILL.
fn terminate(mut child: Child) -> Result<std::process::ExitStatus> {
    let end = testkit::child::terminate(&mut child, STOP_TIMEOUT)?;
    if end.killed {
        bail!(
            "the daemon did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed ({})",
            end.status
        );
    }
    Ok(end.status)
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.take()
            && let Err(e) = terminate(child)
        {
            eprintln!("forward: stopping the daemon: {e:#}");
        }
    }
}

fn bridge_status(v: &Value) -> Result<&Value> {
    ensure!(
        v["daemon"]["running"] == Value::Bool(true),
        "daemon.running is not true"
    );
    v["bridges"]
        .as_array()
        .and_then(|bs| bs.iter().find(|b| b["name"] == BRIDGE))
        .with_context(|| format!("no bridge {BRIDGE} in the status"))
}

/// Every port's (name, mode) if the bridge is accelerated and every port attached.
fn attached_ports(v: &Value, want_mode: Option<&str>) -> Result<Vec<(String, String)>> {
    let bridge = bridge_status(v)?;
    ensure!(
        bridge["accelerated"] == Value::Bool(true),
        "{BRIDGE} is not accelerated yet"
    );
    let ports = bridge["ports"].as_array().context("no ports array")?;
    let mut out = Vec::new();
    for p in ports {
        let name = p["name"].as_str().unwrap_or("?").to_string();
        let mode = p["mode"].as_str().unwrap_or("?").to_string();
        ensure!(
            p["attached"] == Value::Bool(true),
            "port {name} not attached yet"
        );
        if let Some(want) = want_mode {
            ensure!(mode == want, "port {name} is in mode {mode}, not {want}");
        }
        out.push((name, mode));
    }
    for port in [INGRESS_PORT, EGRESS_PORT] {
        ensure!(
            out.iter().any(|(n, _)| n == port),
            "port {port} not in the status yet"
        );
    }
    Ok(out)
}

/// `counters.fast_packets` of `port`.
pub fn fast_packets(v: &Value, port: &str) -> Result<u64> {
    let bridge = bridge_status(v)?;
    bridge["ports"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == port))
        .and_then(|p| p["counters"]["fast_packets"].as_u64())
        .with_context(|| format!("no counters.fast_packets for port {port} in the status"))
}
