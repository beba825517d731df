//! `verifier-explain`: load an eBPF object and report what the verifier says about each program.

use anyhow::Context as _;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use verifier_explain::{Verdict, load_object};

/// Loads an eBPF object's programs with the verifier's full log and reports, per program, whether
/// it was accepted, and for rejections the verifier's error.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  verifier-explain prog.o\n  verifier-explain prog.o --prog xdp_main --json\n\n\
Exit status: 0 all programs accepted, 1 a program was rejected, 2 usage or load error."
)]
struct Cli {
    /// The eBPF object (ELF, compiled with -g)
    object: PathBuf,
    /// Only this program
    #[arg(long)]
    prog: Option<String>,
    /// Print the full verifier log of rejected programs
    #[arg(long)]
    log: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

fn run(cli: &Cli) -> anyhow::Result<bool> {
    let bytes = std::fs::read(&cli.object)
        .with_context(|| format!("cannot read {}", cli.object.display()))?;
    let outcomes = load_object(&bytes, cli.prog.as_deref())
        .with_context(|| format!("{}", cli.object.display()))?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        for o in &outcomes {
            match &o.verdict {
                Verdict::Accepted { stats } => println!("{}: accepted ({stats})", o.program),
                Verdict::Rejected {
                    errno,
                    message,
                    log,
                } => {
                    println!("{}: rejected ({errno})", o.program);
                    for line in message.lines() {
                        println!("  verifier: {line}");
                    }
                    if cli.log {
                        println!("{log}");
                    }
                }
                Verdict::Unsupported { reason } => println!("{}: not loaded: {reason}", o.program),
            }
        }
    }
    Ok(outcomes
        .iter()
        .all(|o| !matches!(o.verdict, Verdict::Rejected { .. })))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("verifier-explain: {e:#}");
            ExitCode::from(2)
        }
    }
}
