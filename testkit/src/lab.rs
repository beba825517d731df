//! Labs (netlab topologies) for tests and benchmarks: building one as root, the namespaces the
//! machine has, and iperf3 (server and client) inside a lab.

use std::process::Stdio;
use std::time::{Duration, Instant};

use netlab::{Lab, LabSpec};

use crate::child::KillOnDrop;
use crate::privilege;

/// The port an [`Iperf3Server`] listens on (iperf3's default).
pub const IPERF3_PORT: u16 = 5201;

/// How long an [`Iperf3Server`] may take to listen.
const IPERF3_LISTEN_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds `spec` (see [`privilege::require_lab`]); fails the test with netlab's reason if it
/// does not build.
#[track_caller]
pub fn build(spec: LabSpec) -> Lab {
    privilege::require_lab();
    spec.build()
        .unwrap_or_else(|e| panic!("the lab does not build: {e}"))
}

/// What `ip netns list` prints: the machine's named network namespaces.
#[track_caller]
pub fn namespaces() -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip netns list`: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Why an [`Iperf3Server`] did not start.
#[derive(Debug, thiserror::Error)]
pub enum Iperf3Error {
    /// The lab cannot run a command in that node.
    #[error(transparent)]
    Lab(#[from] netlab::Error),
    /// iperf3 did not start.
    #[error("cannot start `iperf3 -s` in {node}: {err}")]
    Spawn {
        /// The lab node.
        node: String,
        /// The underlying error.
        #[source]
        err: std::io::Error,
    },
    /// The iperf3 client printed no JSON report.
    #[error("`{command}` printed no JSON ({err}): {output}")]
    NoReport {
        /// The command line.
        command: String,
        /// Why its output does not parse.
        #[source]
        err: serde_json::Error,
        /// What it printed on stdout and stderr.
        output: String,
    },
    /// The iperf3 client failed (its exit status, or the report's `error`).
    #[error("`{command}` failed: {report:#}")]
    Failed {
        /// The command line.
        command: String,
        /// Its JSON report.
        report: serde_json::Value,
    },
    /// iperf3 started but did not listen in time.
    #[error(
        "`iperf3 -s` did not listen on port {IPERF3_PORT} in {node} within {IPERF3_LISTEN_TIMEOUT:?}"
    )]
    NotListening {
        /// The lab node.
        node: String,
    },
}

/// A one-shot iperf3 server (`iperf3 -s -1`) in a lab node, killed when dropped.
#[derive(Debug)]
pub struct Iperf3Server {
    _child: KillOnDrop,
}

impl Iperf3Server {
    /// Starts `iperf3 -s -1 -p 5201 <extra>` in `node` and waits until it listens.
    pub fn start(lab: &Lab, node: &str, extra: &[&str]) -> Result<Iperf3Server, Iperf3Error> {
        let port = IPERF3_PORT.to_string();
        let child = lab
            .command(node, "iperf3")?
            .args(["-s", "-1", "-p", &port])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| Iperf3Error::Spawn {
                node: node.to_string(),
                err,
            })?;
        let server = Iperf3Server {
            _child: KillOnDrop(child),
        };
        let filter = format!("sport = :{port}");
        let deadline = Instant::now() + IPERF3_LISTEN_TIMEOUT;
        while lab
            .exec_ok(node, &["ss", "-Hltn", &filter])?
            .trim()
            .is_empty()
        {
            if Instant::now() > deadline {
                return Err(Iperf3Error::NotListening {
                    node: node.to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(server)
    }
}

/// Runs `iperf3 -c <addr> -p 5201 -J <extra>` in `node` against an [`Iperf3Server`] and returns
/// its JSON report (`end.sum_received.bits_per_second` and so on); an exit status other than 0
/// or a report with an `error` is an error.
pub fn iperf3_client(
    lab: &Lab,
    node: &str,
    addr: &str,
    extra: &[&str],
) -> Result<serde_json::Value, Iperf3Error> {
    let port = IPERF3_PORT.to_string();
    let mut argv = vec!["iperf3", "-c", addr, "-p", &port, "-J"];
    argv.extend(extra);
    let command = argv.join(" ");
    let out = lab.exec(node, &argv)?;
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|err| Iperf3Error::NoReport {
            command: command.clone(),
            err,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        })?;
    if !out.status.success() || report.get("error").is_some() {
        return Err(Iperf3Error::Failed { command, report });
    }
    Ok(report)
}
