//! `switch-ctl`: the concealed XDP switch's daemon and CLI.
//!
//! Today it answers whether this machine can run the switch (`switch-ctl check`); the daemon
//! that follows the bridge through rtnetlink builds on it.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use preflight::{Capability, Feature};
use std::process::ExitCode;
use verifier_explain::Verdict;

/// The concealed XDP switch: manage a Linux bridge with any tool; the XDP fast path follows.
#[derive(Parser)]
#[command(
    name = "switch-ctl",
    version,
    after_help = "Examples:\n  switch-ctl check\n  switch-ctl check --json\n\n\
Exit status: 0 success, 1 failure (or a failed check), 2 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    let outcomes = verifier_explain::load_object(switch_ebpf::SWITCH, Some(switch_ebpf::PROGRAM))
        .context("cannot load the switch object")?;
    match outcomes.first().map(|o| &o.verdict) {
        Some(Verdict::Accepted { stats }) => Ok(format!("accepted, {stats}")),
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
    for feature in [Feature::Xdp, Feature::XdpFrags, Feature::NetdevXdpFeatures] {
        lines.push(line(
            "kernel",
            preflight::require_feature(feature)
                .map(|()| feature.describe().to_string())
                .map_err(|e| e.to_string()),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { json } => check(json),
    };
    result.unwrap_or_else(|e| {
        eprintln!("switch-ctl: {e:#}");
        ExitCode::from(1)
    })
}
