//! `xdpdbg explain`: explore a verifier rejection at source level, in the terminal.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use xdpdbg::output;
use xdpdbg::tui::explain::{self, Input};

/// Exit status of a usage or input error (not an eBPF object, no such program...).
const EXIT_USAGE: u8 = 2;

/// Options of `xdpdbg explain`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
xdpdbg explain prog.o                                 explore the first rejection\n  \
xdpdbg explain prog.o --prog xdp_main --bpf-only      one program, loaded with CAP_BPF only\n  \
xdpdbg explain prog.o --log verifier.log              a log captured elsewhere, with the object\n  \
xdpdbg explain prog.o --json                          the report, as verifier-explain --json prints it\n  \
xdpdbg explain prog.o --headless --keys 'e h 1' --size 160x50\n\n\
Keys: arrows/PgUp/PgDn/Home/End move, e the error, n/p next/previous step on the failing path,\n\
h register history (0-9 pick r0-r9, a r10), tab next program, ? help, q/Esc/Ctrl-C quit.\n\n\
Exit status: 0 explored (with --json: every program accepted), 1 a failure (with --json: a\n\
program was rejected), 2 usage or input error (not an eBPF object, no such program).")]
pub struct Args {
    /// The eBPF object (ELF, compiled with clang -g for lines and variable names); optional
    /// with --log
    object: Option<PathBuf>,
    /// Only this program
    #[arg(long, value_name = "NAME")]
    prog: Option<String>,
    /// Explain this captured verifier log instead of loading (`-` reads stdin)
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Load with CAP_BPF only (CAP_PERFMON and CAP_SYS_ADMIN dropped), as a least-privilege service
    #[arg(long, conflicts_with = "log")]
    bpf_only: bool,
    /// Print the report as JSON (the schema of verifier-explain --json) instead of exploring
    #[arg(long, conflicts_with = "headless")]
    json: bool,
    #[command(flatten)]
    headless: super::headless::HeadlessArgs,
}

fn usage_error(e: &anyhow::Error) -> ExitCode {
    anstream::eprintln!("{}: {e:#}", output::styled(output::FAIL, "error"));
    ExitCode::from(EXIT_USAGE)
}

/// Runs `xdpdbg explain`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let headless = match args.headless.headless() {
        Ok(h) => h,
        Err(e) => return Ok(usage_error(&e)),
    };
    if args.object.is_none() && args.log.is_none() {
        return Ok(usage_error(&explain::LoadError::NothingToExplain.into()));
    }
    if !args.json && headless.is_none() && !std::io::stdout().is_terminal() {
        return Ok(usage_error(&anyhow::anyhow!(explain::NO_TERMINAL)));
    }
    let input = Input {
        object: args.object.clone(),
        program: args.prog.clone(),
        log: args.log.clone(),
        privileges: if args.bpf_only {
            verifier_explain::Privileges::BpfOnly
        } else {
            verifier_explain::Privileges::Current
        },
    };
    let session = match explain::load(&input) {
        Ok(s) => s,
        // Missing capabilities are the machine's failure, not the input's.
        Err(e) if e.is_environment() => return Err(e.into()),
        Err(e) => return Ok(usage_error(&e.into())),
    };
    if args.json {
        output::json(&session.report)?;
        return Ok(if session.report.any_rejected() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    explain::run(session, headless.as_ref())?;
    Ok(ExitCode::SUCCESS)
}
