//! `xdpdbg`: the eBPF debugging toolkit's command line.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// An eBPF and XDP debugging toolkit: network labs for experiments and workshops, and checks of
/// what this machine can do.
#[derive(Parser)]
#[command(
    name = "xdpdbg",
    version,
    after_help = "Examples:\n  xdpdbg doctor\n  xdpdbg lab up --hosts 3\n  xdpdbg lab exec h1 -- ping -c 3 h2\n  xdpdbg lab down --all\n\n\
Exit status: 0 success, 1 failure (or a failed check), 2 usage error;\n\
`lab exec` exits with the command's own status."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check this machine: kernel features, capabilities, bpffs, tools
    Doctor(cmd::doctor::Args),
    /// Build, use and remove network labs (hosts around a Linux bridge, in namespaces)
    #[command(subcommand)]
    Lab(cmd::lab::LabCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doctor(args) => cmd::doctor::run(&args),
        Command::Lab(command) => cmd::lab::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            anstream::eprintln!(
                "{}: {e:#}",
                xdpdbg::output::styled(xdpdbg::output::FAIL, "error")
            );
            ExitCode::from(1)
        }
    }
}
