//! `xdpdbg explain`: explore a verifier rejection at source level, in the terminal.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use xdpdbg::output;
use xdpdbg::tui::explain::{self, Input};
use xdpdbg::tui::kit::Headless;
use xdpdbg::tui::kit::keys::parse_script;

/// Exit status of a usage or input error (not an eBPF object, no such program...).
const EXIT_USAGE: u8 = 2;

/// Options of `xdpdbg explain`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
xdpdbg explain prog.o                                 explore the first rejection\n  \
xdpdbg explain prog.o --prog xdp_main --bpf-only      one program, loaded with CAP_BPF only\n  \
xdpdbg explain prog.o --log verifier.log              a log captured elsewhere, with the object\n  \
xdpdbg explain prog.o --json                          the report, as verifier-explain --json prints it\n  \
xdpdbg explain prog.o --headless --keys 'e h 1' --width 160 --height 50\n\n\
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
    /// Play --keys on an in-memory screen and print the last screen as text (for tests and demos)
    #[arg(long)]
    headless: bool,
    /// Keys to play headless, separated by spaces: e n p h 0-9 a up down tab ... (quotes group)
    #[arg(long, value_name = "KEYS", requires = "headless", default_value = "")]
    keys: String,
    /// Screen width, headless
    #[arg(long, default_value_t = 120, requires = "headless", value_parser = clap::value_parser!(u16).range(10..=1000))]
    width: u16,
    /// Screen height, headless
    #[arg(long, default_value_t = 40, requires = "headless", value_parser = clap::value_parser!(u16).range(5..=1000))]
    height: u16,
    /// Headless: write every screen (one per key) to this file instead of printing the last
    #[arg(long, value_name = "FILE", requires = "headless")]
    frames_out: Option<PathBuf>,
}

fn usage_error(e: &anyhow::Error) -> ExitCode {
    anstream::eprintln!("{}: {e:#}", output::styled(output::FAIL, "error"));
    ExitCode::from(EXIT_USAGE)
}

/// Runs `xdpdbg explain`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let keys = match parse_script(&args.keys) {
        Ok(k) => k,
        Err(e) => return Ok(usage_error(&e.into())),
    };
    if args.object.is_none() && args.log.is_none() {
        return Ok(usage_error(&explain::LoadError::NothingToExplain.into()));
    }
    if !args.json && !args.headless && !std::io::stdout().is_terminal() {
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
    let headless = args.headless.then(|| Headless {
        keys,
        width: args.width,
        height: args.height,
        frames_out: args.frames_out.clone(),
    });
    explain::run(session, headless.as_ref())?;
    Ok(ExitCode::SUCCESS)
}
