//! `verifier-explain`: explain eBPF verifier rejections at source level.

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser};
use std::io::{BufReader, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use verifier_explain::{Options, Privileges, Report, explain_log, explain_object};

/// Loads an eBPF object's programs with the verifier's full log and explains each rejection at
/// source level: the line, the variables the registers hold, the cause, the path and the fix.
#[derive(Parser)]
#[command(
    version,
    after_help = "Examples:\n  \
verifier-explain prog.o                          load every program, explain rejections\n  \
verifier-explain prog.o --prog xdp_main --json   one program, machine-readable\n  \
bpftool -d prog load prog.o /sys/fs/bpf/p 2>&1 | verifier-explain prog.o --log -\n  \
verifier-explain --log verifier.log              explain a log alone (no variable names)\n  \
verifier-explain prog.o --bpf-only               load as a least-privilege service would\n\n\
Exit status:\n  \
0  every program accepted\n  \
1  a program was rejected\n  \
2  usage or input error (unreadable file, not an ELF, no such program, no privileges)\n  \
3  --log: the log is empty (no verdict to explain)\n  \
4  --log: the log ends before the verifier's verdict (cut: it proves nothing)\n  \
5  --log: the input is not a verifier log (binary data, or nothing the verifier prints)\n  \
6  the object has no BTF (compiled without -g) and the loader refused it: rebuild with -g"
)]
struct Cli {
    /// The eBPF object (ELF, compiled with clang -g for lines and variable names)
    object: Option<PathBuf>,
    /// Only this program
    #[arg(long)]
    prog: Option<String>,
    /// Explain this captured log instead of loading (`-` reads stdin)
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Also print the verifier's log: the verbose one of rejected programs, the statistics of
    /// accepted ones
    #[arg(long)]
    print_log: bool,
    /// Load with CAP_BPF only (CAP_PERFMON and CAP_SYS_ADMIN dropped), as a least-privilege service
    #[arg(long)]
    bpf_only: bool,
    /// Machine-readable output (schema: docs/verifier-explain.md)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    generate: cli_generate::GenerateArg,
}

fn run(cli: &Cli) -> anyhow::Result<bool> {
    let object = cli
        .object
        .as_ref()
        .map(|p| std::fs::read(p).with_context(|| format!("cannot read {}", p.display())))
        .transpose()?;
    let report: Report = match (&cli.log, &object) {
        (Some(path), object) => {
            let program = cli.prog.as_deref();
            if path.as_os_str() == "-" {
                explain_log(std::io::stdin().lock(), object.as_deref(), program)
            } else {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot open the log {}", path.display()))?;
                explain_log(BufReader::new(file), object.as_deref(), program)
            }
            .context("cannot explain the log")?
        }
        (None, Some(bytes)) => {
            let options = Options {
                program: cli.prog.clone(),
                privileges: if cli.bpf_only {
                    Privileges::BpfOnly
                } else {
                    Privileges::Current
                },
            };
            let name = cli
                .object
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            explain_object(bytes, &options).with_context(|| name)?
        }
        (None, None) => anyhow::bail!(
            "give an object to load (verifier-explain prog.o) or a log (--log FILE); see --help"
        ),
    };
    if cli.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        let mut out = anstream::stdout().lock();
        write!(out, "{}", verifier_explain::render::human(&report))?;
        if cli.print_log {
            for p in &report.programs {
                if let Some(log) = p.log() {
                    writeln!(out, "\n--- verifier log of {} ---\n{log}", p.program)?;
                }
            }
        }
    }
    Ok(!report.any_rejected())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.generate.generate.is_some() {
        return cli_generate::run(&cli.generate, Cli::command());
    }
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            // The reader went away (`| head`): not an error of ours.
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(anstream::stderr(), "verifier-explain: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The exit status of an error (see `--help`): each kind of input that proves no verdict has
/// its own, so a CI check can tell them apart from a rejection and from each other.
fn exit_code(e: &anyhow::Error) -> u8 {
    use verifier_explain::Error;
    match e.downcast_ref::<Error>() {
        Some(Error::EmptyLog) => 3,
        Some(Error::NoVerdict { .. }) => 4,
        Some(Error::NotALog { .. }) => 5,
        Some(Error::NoBtf { .. }) => 6,
        _ => 2,
    }
}
