//! `xdpdbg top`: every loaded eBPF program live, and the profile of one down to source lines;
//! headless, the same figures as JSON, a flame graph, or Prometheus metrics.

mod report;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bpf_profile::sampler::DEFAULT_FREQUENCY_HZ;
use xdpdbg::output;
use xdpdbg::top::collector::{Collector, CollectorConfig};
use xdpdbg::tui::top::{self as screen, TopOptions};

/// Exit status of a usage error (bad option, unknown program).
const EXIT_USAGE: u8 = 2;

/// How often samples are read from the rings in headless runs.
const DRAIN_PERIOD: Duration = Duration::from_millis(100);

/// Options of `xdpdbg top`.
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  \
xdpdbg top                                      the live table (Enter: a program's profile)\n  \
xdpdbg top --prog hot_spot                      straight into one program's profile\n  \
xdpdbg top --stats                              exact run counts and ns (costs every run)\n  \
xdpdbg top --once --json                        one refresh of the table, as JSON\n  \
xdpdbg top --duration 10s --json --prog 42      per-line profile of program 42, as JSON\n  \
xdpdbg top --duration 5s --flamegraph out.svg   a flame graph of every program\n  \
xdpdbg top --prometheus 127.0.0.1:9464          serve metrics for Prometheus\n\n\
Keys: ↑↓/jk PgUp/PgDn Home/End move, Enter profile, Esc back, / filter, s/F6 sort, r reverse,\n\
t stats on/off, h graph, p pause, ? help, q quit.\n\n\
CPU % is a program's share of all online CPUs' time (all programs add up to at most 100%).\n\n\
Exit status: 0 success, 1 failure (no permission for perf or BPF...), 2 usage error (bad\n\
option, unknown --prog).")]
pub struct Args {
    /// Profile this program (id or name): the screen opens on its profile; --duration and
    /// --flamegraph profile it alone
    #[arg(long, value_name = "ID|NAME")]
    prog: Option<String>,
    /// Run-time statistics on while the tool runs (BPF_ENABLE_STATS): exact run counts and ns
    /// per run, at ~30-100 ns on every run of every program; without it CPU % comes from perf
    /// samples, at no cost per run
    #[arg(long)]
    stats: bool,
    /// One refresh of the table (two readings --interval apart), printed, then exit
    #[arg(long, conflicts_with_all = ["duration", "prometheus", "flamegraph"])]
    once: bool,
    /// Sample this long, then print the profile (--json: the ProfileReport schema); with
    /// --prometheus or --flamegraph, how long to run
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Print JSON (with --once or --duration)
    #[arg(long)]
    json: bool,
    /// Write a flame graph (program;subprogram;line;helper) of --duration of samples (5s
    /// unless given) to this SVG file
    #[arg(long, value_name = "FILE.svg", conflicts_with = "prometheus")]
    flamegraph: Option<PathBuf>,
    /// Serve per-program and per-line metrics in the Prometheus text format on this address
    /// (`127.0.0.1:9464`; port 0 picks one, printed on stderr) until interrupted or --duration
    #[arg(long, value_name = "ADDR")]
    prometheus: Option<String>,
    /// Refresh period (and the interval of --once): 1s, 500ms...
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    interval: Duration,
    /// Samples per second per CPU
    #[arg(long, value_name = "HZ", default_value_t = DEFAULT_FREQUENCY_HZ)]
    frequency: u64,
    #[command(flatten)]
    headless: super::headless::HeadlessArgs,
}

/// Reads `10s`, `500ms`, `2m` or a plain number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((t, "s"), |i| (&t[..i], &t[i..]));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write 10s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("`{text}`: the unit must be ms, s or m")),
    };
    if !(0.01..=86_400.0).contains(&secs) {
        return Err(format!("`{text}`: give from 10ms to 24 hours"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn usage_error(e: &anyhow::Error) -> ExitCode {
    anstream::eprintln!("{}: {e:#}", output::styled(output::FAIL, "error"));
    ExitCode::from(EXIT_USAGE)
}

/// Which program `--prog` names, among those loaded now: `(id, name)`.
fn resolve_prog(collector: &Collector, wanted: &str) -> anyhow::Result<(u32, String)> {
    let programs = collector.programs();
    if let Ok(id) = wanted.parse::<u32>() {
        return programs
            .iter()
            .find(|p| p.id == id)
            .map(|p| (p.id, p.name.clone()))
            .with_context(|| {
                format!(
                    "no loaded program has id {id}; `xdpdbg top --once` lists the programs \
                     loaded now"
                )
            });
    }
    let matches: Vec<_> = programs.iter().filter(|p| p.name == wanted).collect();
    match matches.as_slice() {
        [p] => Ok((p.id, p.name.clone())),
        [] => anyhow::bail!(
            "no loaded program is named `{wanted}`; `xdpdbg top --once` lists the programs loaded \
             now (names are cut to 15 characters by the kernel)"
        ),
        many => anyhow::bail!(
            "{} programs are named `{wanted}` (ids {}); give one id with --prog ID",
            many.len(),
            many.iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A flag set by Ctrl-C, SIGTERM or SIGHUP: headless runs stop early and still report.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    Ok(stop)
}

/// Drains samples until `length` has passed (or a signal came), refreshing the table every
/// `interval` and handing each table to `each`.
fn sample_for(
    collector: &mut Collector,
    length: Duration,
    interval: Duration,
    stop: &AtomicBool,
    mut each: impl FnMut(&mut Collector, xdpdbg::top::table::Table),
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut last = Instant::now();
    while start.elapsed() < length && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(DRAIN_PERIOD.min(length.saturating_sub(start.elapsed())));
        collector.drain();
        if last.elapsed() >= interval {
            last = Instant::now();
            let table = collector.refresh()?;
            each(collector, table);
        }
    }
    collector.drain();
    Ok(())
}

/// Runs `xdpdbg top`.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let headless = match args.headless.headless() {
        Ok(h) => h,
        Err(e) => return Ok(usage_error(&e)),
    };
    let scripted = args.once
        || args.duration.is_some()
        || args.flamegraph.is_some()
        || args.prometheus.is_some();
    if args.json && !(args.once || args.duration.is_some()) {
        return Ok(usage_error(&anyhow::anyhow!(
            "--json goes with --once (the table) or --duration (the profile)"
        )));
    }
    if scripted && headless.is_some() {
        return Ok(usage_error(&anyhow::anyhow!(
            "--headless plays keys on the screen; --once, --duration, --flamegraph and \
             --prometheus print without one: choose one kind"
        )));
    }
    if !scripted && headless.is_none() && !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Ok(usage_error(&anyhow::anyhow!(screen::NO_TERMINAL)));
    }
    let mut collector = Collector::open(CollectorConfig {
        frequency_hz: args.frequency,
        stats: args.stats,
    })?;
    let prog = match args.prog.as_deref().map(|p| resolve_prog(&collector, p)) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return Ok(usage_error(&e)),
    };
    if let Some(addr) = &args.prometheus {
        let stop = stop_flag()?;
        return serve::run(&mut collector, addr, args, &stop);
    }
    if args.once {
        return report::once(&mut collector, args);
    }
    if args.duration.is_some() || args.flamegraph.is_some() {
        let stop = stop_flag()?;
        return report::profile(&mut collector, prog, args, &stop);
    }
    screen::run(
        collector,
        TopOptions {
            interval_ms: args.interval.as_millis() as u64,
            open: prog,
            headless,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_duration("3h").unwrap_err().contains("unit"));
        assert!(parse_duration("0s").is_err());
    }
}
