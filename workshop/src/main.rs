//! `lab`: the eBPF workshop's command. Each of the eight labs is started (its files copied into a
//! working folder, its network and programs set up), checked (is it solved, and if not, what is
//! still wrong, in words a beginner understands), solved (the solution printed or applied) and
//! removed (everything it created), with one command each.

mod ageing_race;
mod attendee_program;
mod catalogue;
mod commands;
mod compile;
mod fast_path;
mod frames;
mod hot_line;
mod lab_env;
mod live_map;
mod loaded;
mod report;
mod verifier_labs;
mod workdir;

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

const EXAMPLES: &str = "Examples:
  lab list
  lab start 1                 # files into ./ebpf-workshop/lab01
  lab check 1                 # solved? if not, what is still wrong
  lab check 1 --json
  lab solution 1              # print the solution
  lab solution 1 --apply      # write it into the working folder (yours kept as *.mine)
  lab down 5                  # remove lab 5's namespaces and programs
  lab down --all

The pages: docs/workshop/README.md. Every command but list and solution (printing) needs root.

Exit status: 0 success (check: solved), 1 failure (check: not solved yet), 2 usage or set-up
problem (not root, lab not started, clang missing).";

/// The eBPF workshop: eight labs, each started, checked, solved and removed with one command.
#[derive(Parser)]
#[command(name = "lab", version, after_help = EXAMPLES)]
#[command(arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    generate: cli_generate::GenerateArg,
}

#[derive(Subcommand)]
enum Cmd {
    /// Every lab, with its time.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Copy lab N's starting files into its working folder and set up what it needs.
    Start {
        /// The lab (1-8).
        n: u8,
        /// The working folder (default ./ebpf-workshop/labNN).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Replace files you edited with the starting ones (yours are kept as *.mine).
        #[arg(long)]
        reset: bool,
    },
    /// Tell whether lab N is solved, and what is still wrong when it is not.
    Check {
        /// The lab (1-8).
        n: u8,
        /// The working folder given to `lab start`.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Print lab N's solution, or apply it.
    Solution {
        /// The lab (1-8).
        n: u8,
        /// Write it into the working folder (yours kept as *.mine) and run its steps.
        #[arg(long)]
        apply: bool,
        /// The working folder given to `lab start`.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Remove everything lab N created: namespaces, programs, processes (your files stay).
    Down {
        /// The lab (1-8).
        #[arg(required_unless_present = "all")]
        n: Option<u8>,
        /// Every lab.
        #[arg(long, conflicts_with = "n")]
        all: bool,
    },
}

/// A problem with the set-up rather than with the attendee's solution (exit status 2).
fn setup_problem(err: anyhow::Error) -> ExitCode {
    let _ = writeln!(anstream::stderr(), "lab: {err:#}");
    ExitCode::from(2)
}

fn require_root() -> anyhow::Result<()> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        anyhow::bail!(
            "the labs load eBPF programs and build network namespaces, which needs root: run \
             `sudo lab ...` (or as root)"
        )
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(command) = cli.command else {
        // Without a subcommand, clap let only `--generate` through.
        return cli_generate::run(&cli.generate, Cli::command());
    };
    let json_errors = matches!(command, Cmd::Check { json: true, .. });
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = anstream::stdout();
    let result: anyhow::Result<ExitCode> = (|| match command {
        Cmd::List { json } => {
            write!(out, "{}", commands::list(json))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Start { n, dir, reset } => {
            let lab = commands::lab(n)?;
            require_root()?;
            let dir = workdir::resolve(lab, dir.as_deref());
            write!(out, "{}", commands::start(lab, &dir, reset)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { n, dir, json } => {
            let lab = commands::lab(n)?;
            require_root()?;
            let dir = workdir::resolve(lab, dir.as_deref());
            let report = commands::check(lab, &dir)?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&report.clone().plain())?
                )?;
            } else if color {
                write!(out, "{}", report.render(true))?;
            } else {
                write!(out, "{}", report.clone().plain().render(false))?;
            }
            Ok(if report.solved {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Solution { n, apply, dir } => {
            let lab = commands::lab(n)?;
            if apply {
                require_root()?;
            }
            let dir = workdir::resolve(lab, dir.as_deref());
            write!(out, "{}", commands::solution(lab, &dir, apply)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Down { n, all } => {
            require_root()?;
            let labs: Vec<&catalogue::Lab> = match n {
                Some(n) if !all => vec![commands::lab(n)?],
                _ => catalogue::LABS.iter().collect(),
            };
            for lab in labs {
                let removed = commands::down(lab)?;
                writeln!(out, "{}", commands::down_summary(lab, &removed))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    })();
    result.unwrap_or_else(|err| {
        if json_errors {
            // Scripts reading --json get the problem as JSON too, on stdout.
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                serde_json::json!({"error": format!("{err:#}")})
            );
        }
        setup_problem(err)
    })
}
