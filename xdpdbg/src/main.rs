//! `xdpdbg`: the eBPF debugging toolkit's command line.

mod cmd;

use clap::{CommandFactory as _, Parser, Subcommand};
use std::process::ExitCode;

/// An eBPF and XDP debugging toolkit: maps inspected and changed safely (typed dumps, snapshots,
/// atomic compare-and-swap), network labs for experiments and workshops, and checks of what this
/// machine can do.
#[derive(Parser)]
#[command(
    name = "xdpdbg",
    version,
    after_help = "Examples:\n  xdpdbg doctor\n  xdpdbg lab up --hosts 3\n  xdpdbg lab exec h1 -- ping -c 3 h2\n  xdpdbg lab down --all\n  xdpdbg map list\n  xdpdbg map dump counts --json\n  xdpdbg explain prog.o\n  xdpdbg top\n  xdpdbg top --once --json\n\n\
Exit status: 0 success, 1 failure (or a failed check), 2 usage error;\n\
`lab exec` exits with the command's own status."
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
    /// Check this machine: kernel features, capabilities, bpffs, tools
    Doctor(cmd::doctor::Args),
    /// Explore a verifier rejection at source level: instructions, source, registers as variables
    Explain(cmd::explain::Args),
    /// Build, use and remove network labs (hosts around a Linux bridge, in namespaces)
    #[command(subcommand)]
    Lab(cmd::lab::LabCommand),
    /// Inspect and change maps: list, dump, get/set/delete, cas, snapshot, diff, watch
    Map(MapArgs),
    /// Every loaded eBPF program live (CPU %, runs/s, ns/run) and profiles down to source lines
    Top(cmd::top::Args),
}

/// `xdpdbg map` with no subcommand opens the interactive browser.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct MapArgs {
    #[command(subcommand)]
    command: Option<cmd::map::MapCommand>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        // Without a subcommand, clap let only `--generate` through.
        return cli_generate::run(&cli.generate, Cli::command());
    };
    let result = match command {
        Command::Doctor(args) => cmd::doctor::run(&args),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Lab(command) => cmd::lab::run(command),
        Command::Map(MapArgs { command: Some(c) }) => cmd::map::run(c),
        Command::Map(MapArgs { command: None }) => cmd::map::browse(),
        Command::Top(args) => cmd::top::run(&args),
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
