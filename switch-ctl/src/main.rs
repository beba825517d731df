//! `switch-ctl`: the concealed XDP switch's daemon and CLI.
//!
//! `run` opts bridges in and follows them (see the library docs); `status` reports; `stop`
//! detaches everything; `check` answers whether this machine can run the switch.

use anyhow::Context as _;
use bpf_load::Verdict;
use clap::{CommandFactory as _, Parser, Subcommand};
use preflight::{Capability, Feature};
use std::process::ExitCode;
use switch_ctl::daemon_dirs::DaemonDirs;
use switch_ctl::mode::{PortOverride, Requested};
use switch_ctl::plan::{Options, Selection};
use switch_ctl::{daemon, namespace, pid_file, status};

/// The concealed XDP switch: manage a Linux bridge with any tool; the XDP fast path follows.
#[derive(Parser)]
#[command(
    name = "switch-ctl",
    version,
    after_help = "Examples:\n  switch-ctl run --bridge br0\n  switch-ctl run --all-bridges --mode eth1=xdp\n  \
switch-ctl status\n  switch-ctl status --json\n  switch-ctl stop\n  switch-ctl check\n\n\
Exit status: 0 success, 1 failure (or a failed check), 2 usage error, 3 no daemon (status)."
)]
#[command(arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    generate: cli_generate::GenerateArg,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: accelerate the selected bridges and follow every change made to them
    /// with any tool, until SIGTERM or SIGINT (which detach everything)
    #[command(after_help = "Examples:\n  switch-ctl run --bridge br0\n  \
switch-ctl run --bridge br0 --bridge br1 --mode veth3=off\n  \
switch-ctl run --all-bridges --default-mode tc\n  \
switch-ctl run --netns lab1 --bridge br0\n  \
switch-ctl run --bridge br0 --metrics 127.0.0.1:9617\n  \
switch-ctl run --bridge br0 --fdb-entries 1048576\n\n\
Port modes: auto (default: tc on veths, native XDP on NICs that have it, else tc), xdp, \
xdp-generic, tc, off. Bridges with bridge netfilter active (bridge-nf-call-* = 1) are left \
unaccelerated unless --allow-netfilter is given: the fast path would bypass firewall rules.")]
    Run {
        /// A bridge to accelerate (repeatable)
        #[arg(
            long = "bridge",
            value_name = "NAME",
            required_unless_present = "all_bridges"
        )]
        bridges: Vec<String>,
        /// Accelerate every bridge of the namespace, including bridges created later
        #[arg(long, conflicts_with = "bridges")]
        all_bridges: bool,
        /// The mode of ports without --mode
        #[arg(long, value_name = "MODE", default_value = "auto")]
        default_mode: Requested,
        /// One port's mode, PORT=MODE (repeatable)
        #[arg(long = "mode", value_name = "PORT=MODE")]
        modes: Vec<PortOverride>,
        /// Accelerate bridges even when bridge netfilter is active (firewall rules on bridged
        /// traffic are then bypassed)
        #[arg(long)]
        allow_netfilter: bool,
        /// Serve this network namespace (a name from `ip netns list`) instead of the current one
        #[arg(long, value_name = "NAME")]
        netns: Option<String>,
        /// Answer Prometheus scrapes (GET /metrics) on this address, bound in the namespace
        /// switch-ctl was started in (before --netns is entered), for example 127.0.0.1:9617
        #[arg(long, value_name = "ADDR")]
        metrics: Option<std::net::SocketAddr>,
        /// How many MACs (all bridges together) the fast path holds; frames of MACs past that
        /// take the plain bridge. The map is preallocated: 96 bytes per entry (12.6 MB at
        /// the default)
        #[arg(long, value_name = "N", default_value_t = switch_ebpf::types::FDB_MAX,
              value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
        fdb_entries: u32,
    },
    /// Show bridges, ports and their modes (and why), the fast path's FDB size and counters
    #[command(
        after_help = "Examples:\n  switch-ctl status\n  switch-ctl status --json | jq '.bridges[].ports[].counters'"
    )]
    Status {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
        /// The network namespace whose daemon to ask
        #[arg(long, value_name = "NAME")]
        netns: Option<String>,
    },
    /// Stop the daemon (it detaches everything), or remove the pinned fast path a killed daemon
    /// left behind
    Stop {
        /// The network namespace whose daemon to stop
        #[arg(long, value_name = "NAME")]
        netns: Option<String>,
    },
    /// Check that this machine can run the switch: privileges, bpffs, kernel, and that the
    /// kernel's verifier accepts the data plane
    Check {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
}

#[derive(serde::Serialize)]
struct CheckLine {
    check: String,
    ok: bool,
    detail: String,
}

fn line(check: &str, result: Result<String, String>) -> CheckLine {
    let ok = result.is_ok();
    CheckLine {
        check: check.into(),
        ok,
        detail: result.unwrap_or_else(|e| e),
    }
}

/// Loads the embedded data plane into the verifier (and unloads it at once).
fn verify_data_plane() -> anyhow::Result<String> {
    let outcomes = bpf_load::load_object(switch_ebpf::SWITCH, Some(switch_ebpf::programs::XDP))
        .context("cannot load the switch object")?;
    match outcomes.first().map(|o| &o.verdict) {
        Some(Verdict::Accepted { stats, .. }) => Ok(format!("accepted, {stats}")),
        Some(Verdict::Rejected { message, .. }) => {
            anyhow::bail!("the verifier rejected the data plane: {message}")
        }
        other => anyhow::bail!("the data plane was not loaded: {other:?}"),
    }
}

fn check(json: bool) -> anyhow::Result<ExitCode> {
    let mut lines = vec![
        line(
            "privileges",
            preflight::require_capabilities(&[Capability::Bpf, Capability::NetAdmin])
                .map(|()| "CAP_BPF and CAP_NET_ADMIN".into())
                .map_err(|e| e.to_string()),
        ),
        line(
            "bpffs",
            preflight::ensure_bpffs(preflight::BPFFS_DEFAULT)
                .map(|()| format!("mounted at {}", preflight::BPFFS_DEFAULT))
                .map_err(|e| e.to_string()),
        ),
    ];
    lines.push(line(
        "kernel",
        preflight::require_feature(Feature::Xdp)
            .map(|()| Feature::Xdp.describe().to_string())
            .map_err(|e| e.to_string()),
    ));
    // Optional: without them the switch still runs (no jumbo frames in XDP mode; no port
    // counts as an XDP redirect target, so XDP mode passes frames to the bridge).
    for feature in [Feature::XdpFrags, Feature::NetdevXdpFeatures] {
        lines.push(line(
            "kernel (optional)",
            Ok(match preflight::require_feature(feature) {
                Ok(()) => feature.describe().to_string(),
                Err(e) => format!("missing, the switch runs without it: {e}"),
            }),
        ));
    }
    lines.push(line(
        "data plane",
        verify_data_plane().map_err(|e| format!("{e:#}")),
    ));
    let ok = lines.iter().all(|l| l.ok);
    if json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
    } else {
        for l in &lines {
            println!(
                "{}  {}: {}",
                if l.ok { "ok  " } else { "FAIL" },
                l.check,
                l.detail
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Enters `netns` if given, and returns the daemon directories of the namespace we are in.
fn locate(netns: Option<&str>) -> anyhow::Result<(DaemonDirs, String)> {
    if let Some(name) = netns {
        namespace::enter(name)?;
    }
    let tag = namespace::current_tag()?;
    let label = match netns {
        Some(name) => format!("netns {name} ({tag})"),
        None => tag.clone(),
    };
    Ok((DaemonDirs::for_namespace(&tag), label))
}

fn status(json: bool, netns: Option<&str>) -> anyhow::Result<ExitCode> {
    let (dirs, label) = locate(netns)?;
    let Some(status) = status::read(&dirs)? else {
        if json {
            println!("{}", serde_json::json!({ "daemon": null, "bridges": [] }));
        } else {
            println!("no switch-ctl daemon in {label}: `switch-ctl run --bridge NAME` starts one");
        }
        return Ok(ExitCode::from(3));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", status::render(&status));
    }
    Ok(ExitCode::SUCCESS)
}

/// Pins again the maps a gone daemon recorded, when their pins are not visible here (it ran in
/// another mount namespace). Whether it pinned any.
fn restore_pins(dirs: &DaemonDirs) -> bool {
    let Some(ids) = status::recorded(dirs)
        .ok()
        .flatten()
        .map(|s| s.daemon.map_ids)
        .filter(|ids| !ids.is_empty())
    else {
        return false;
    };
    preflight::ensure_bpffs(preflight::BPFFS_DEFAULT).is_ok()
        && dirs.create_pin_dir().is_ok()
        && switch_ctl::pinned_maps::restore_pins(dirs, &ids).is_ok_and(|n| n > 0)
}

fn stop(netns: Option<&str>) -> anyhow::Result<ExitCode> {
    let (dirs, label) = locate(netns)?;
    if let Some(pid) = pid_file::running_daemon(&dirs) {
        let target = nix::unistd::Pid::from_raw(pid as i32);
        nix::sys::signal::kill(target, nix::sys::signal::Signal::SIGTERM)
            .with_context(|| format!("cannot signal the daemon (pid {pid})"))?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while pid_file::alive(pid) {
            if std::time::Instant::now() > deadline {
                anyhow::bail!("the daemon (pid {pid}) did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        println!("stopped the daemon (pid {pid}); the bridge forwards on its own");
    } else if restore_pins(&dirs) || dirs.pin_dir.exists() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let detached = runtime.block_on(async {
            let (netlink, _events) = switch_ctl::netlink::Netlink::open().await?;
            let detached = switch_ctl::dataplane::detach_leftovers(&netlink, &dirs).await?;
            anyhow::Ok(detached)
        })?;
        println!(
            "no daemon was running; removed the fast path it left in {label} ({detached} \
             attachments)"
        );
    } else {
        println!("no switch-ctl daemon in {label}");
    }
    dirs.remove_run_dir();
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        // Without a subcommand, clap let only `--generate` through.
        return cli_generate::run(&cli.generate, Cli::command());
    };
    let result = match command {
        Command::Check { json } => check(json),
        Command::Run {
            bridges,
            all_bridges,
            default_mode,
            modes,
            allow_netfilter,
            netns,
            metrics,
            fdb_entries,
        } => metrics
            .map(|addr| {
                std::net::TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} for --metrics"))
            })
            .transpose()
            .and_then(|metrics| Ok((metrics, locate(netns.as_deref())?)))
            .and_then(|(metrics, (dirs, label))| {
                let options = Options {
                    bridges: if all_bridges {
                        Selection::All
                    } else {
                        Selection::Named(bridges)
                    },
                    default_mode,
                    overrides: modes,
                    allow_netfilter,
                };
                daemon::run(options, dirs, label, metrics, fdb_entries)?;
                Ok(ExitCode::SUCCESS)
            }),
        Command::Status { json, netns } => status(json, netns.as_deref()),
        Command::Stop { netns } => stop(netns.as_deref()),
    };
    result.unwrap_or_else(|e| {
        eprintln!("switch-ctl: {e:#}");
        ExitCode::from(1)
    })
}
