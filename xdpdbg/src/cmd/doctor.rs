//! `xdpdbg doctor`: what this machine can and cannot do, and how to fix it.

use preflight::Status;
use std::process::ExitCode;
use xdpdbg::output::{self, FAIL, OK, WARN};

/// Options of `xdpdbg doctor`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  xdpdbg doctor\n  xdpdbg doctor --fix --json\n\n\
Exit status: 0 when nothing failed (warnings allowed), 1 otherwise."
)]
pub struct Args {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
    /// Repair what can be repaired here (mount bpffs at /sys/fs/bpf), then check
    #[arg(long)]
    fix: bool,
}

/// Runs the checks and prints them.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.fix {
        preflight::ensure_bpffs(preflight::BPFFS_DEFAULT)?;
    }
    let checks = preflight::run_checks();
    let failed = checks.iter().any(|c| c.status == Status::Fail);
    if args.json {
        output::json(&checks)?;
    } else {
        for c in &checks {
            let mark = match c.status {
                Status::Ok => output::styled(OK, "ok  "),
                Status::Warn => output::styled(WARN, "warn"),
                Status::Fail => output::styled(FAIL, "FAIL"),
            };
            anstream::println!("{mark}  {}: {}", c.name, c.detail);
            if let Some(hint) = &c.hint {
                anstream::println!("      fix: {hint}");
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
