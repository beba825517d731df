//! The headless reports: one table refresh (`--once`), a profile over a duration
//! (`--duration`), a flame graph (`--flamegraph`).

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use xdpdbg::output;
use xdpdbg::top::collector::{Collector, FocusReport};
use xdpdbg::top::flame;
use xdpdbg::top::table::{CPU_PERCENT_MEANS, Mode, Table};

use super::{Args, sample_for};

/// How long `--flamegraph` samples without `--duration`.
const DEFAULT_FLAME_DURATION: Duration = Duration::from_secs(5);

/// `--once`: two readings `--interval` apart, printed as the table (or its JSON).
pub fn once(collector: &mut Collector, args: &Args) -> anyhow::Result<ExitCode> {
    let never = AtomicBool::new(false);
    // Samples are drained through the interval; the one refresh comes at its end.
    sample_for(collector, args.interval, Duration::MAX, &never, |_, _| {})?;
    let table = collector.refresh()?;
    if args.json {
        output::json(&table)?;
    } else {
        print_table(&table);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(table: &Table) {
    let mode = match table.mode {
        Mode::Stats => "stats (BPF_ENABLE_STATS on: exact; costs ~30-100 ns on every run)",
        Mode::Samples => {
            "samples (CPU % estimated from perf samples: no cost per run; no run counts)"
        }
    };
    println!(
        "mode: {mode}; {} ms, {} CPUs, {} at {} Hz per CPU",
        table.interval_ms,
        table.cpus,
        table.event.name(),
        table.frequency_hz
    );
    println!("{CPU_PERCENT_MEANS}");
    let opt = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
    let mut rows = vec![
        [
            "ID", "TYPE", "NAME", "ATTACH", "OWNERS", "RUNS", "RUNS/S", "NS/RUN", "CPU%",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in &table.programs {
        rows.push(vec![
            r.id.to_string(),
            r.prog_type.clone(),
            r.name.clone(),
            if r.attach.is_empty() {
                "-".into()
            } else {
                r.attach.join(", ")
            },
            if r.owners.is_empty() {
                "-".into()
            } else {
                r.owners.join(", ")
            },
            r.run_cnt.map_or("-".to_string(), |n| n.to_string()),
            opt(r.runs_per_sec, 0),
            opt(r.avg_run_ns, 0),
            opt(r.cpu_percent, 2),
        ]);
    }
    anstream::print!("{}", output::table(&rows));
}

/// `--duration` and `--flamegraph`: samples for the duration, then the profile (of `prog`
/// alone when given) as JSON or text, and the flame graph when asked.
pub fn profile(
    collector: &mut Collector,
    prog: Option<(u32, String)>,
    args: &Args,
    stop: &AtomicBool,
) -> anyhow::Result<ExitCode> {
    let length = args.duration.unwrap_or(DEFAULT_FLAME_DURATION);
    if let Some((id, _)) = &prog {
        collector.focus(*id);
    }
    sample_for(collector, length, args.interval, stop, |_, _| {})?;
    let focused: Option<FocusReport> = collector.focus_report();
    if let Some(f) = &focused
        && f.vanished
    {
        eprintln!(
            "xdpdbg top: program {} was unloaded while it was sampled: its profile stops there",
            f.prog_id
        );
    }
    if let Some(note) = prog.as_ref().and_then(|(id, _)| collector.note(*id)) {
        eprintln!("xdpdbg top: samples of this program cannot be placed: {note}");
    }
    let report = match &focused {
        Some(f) => f.report.clone(),
        None => collector.report(),
    };
    if report.samples.throttled > 0 {
        eprintln!(
            "xdpdbg top: perf throttled the sampling {} times (kernel.perf_event_max_sample_rate, \
             left as found): figures undercount; give a lower --frequency",
            report.samples.throttled
        );
    }
    if let Some(path) = &args.flamegraph {
        let title = match &prog {
            Some((id, name)) => format!("xdpdbg top: program {id} {name}"),
            None => "xdpdbg top: every program".to_string(),
        };
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        flame::write_svg(&report, &title, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("xdpdbg top: flame graph written to {}", path.display());
    }
    if args.json {
        output::json(&report)?;
    } else if let (Some(f), Some((_, name))) = (focused, &prog) {
        print!("{}", xdpdbg::tui::top::profile_text(f, name));
    } else if args.duration.is_some() {
        println!(
            "{} samples in {:.1} s ({} at {} Hz per CPU, {} CPUs), {} in programs",
            report.samples.total,
            report.duration_ms as f64 / 1000.0,
            report.event.name(),
            report.frequency_hz,
            report.cpus,
            report.samples.in_programs
        );
        let mut rows = vec![
            ["ID", "NAME", "SAMPLES", "SHARE", "CPU%", "RESOLUTION"]
                .map(String::from)
                .to_vec(),
        ];
        for p in &report.programs {
            rows.push(vec![
                p.id.to_string(),
                p.name.clone(),
                p.samples.to_string(),
                format!("{:.1}%", p.percent),
                format!("{:.2}", p.cpu_percent),
                format!("{:?}", p.resolution).to_lowercase(),
            ]);
        }
        anstream::print!("{}", output::table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}
