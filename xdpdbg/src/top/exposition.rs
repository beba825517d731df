//! The table and the profile since the start in the Prometheus text format (OpenMetrics text,
//! which Prometheus scrapes), encoded by the `prometheus-client` crate.
//!
//! Metrics (every series labelled with the program's `id` and `name`; `type` too on program
//! series):
//! - `xdpdbg_top_program_cpu_percent{source="stats"|"samples"}` (gauge): the last interval's
//!   CPU % (share of all online CPUs), from statistics and from samples when each is known;
//! - `xdpdbg_top_program_runs_per_second`, `xdpdbg_top_program_avg_run_ns` (gauges) and
//!   `xdpdbg_top_program_runs_total` (counter): only while run-time statistics are on;
//! - `xdpdbg_top_program_samples_total` (counter): samples in the program and its helpers
//!   since the tool started;
//! - `xdpdbg_top_line_samples_total{function,file,line}` (counter): the same per source line;
//! - `xdpdbg_top_helper_samples_total{helper}` (counter): time inside each helper or kfunc;
//! - `xdpdbg_top_sampling_info{mode,event,frequency_hz}` (gauge, 1): how figures are made.

use std::sync::atomic::AtomicU64;

use bpf_profile::profile::ProfileReport;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::table::Table;

/// The HTTP `Content-Type` of [`encode_metrics`]' text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;
type GaugeF = Gauge<f64, AtomicU64>;

fn labels(pairs: &[(&str, String)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// `table`'s figures and `report`'s counts as exposition text.
pub fn encode_metrics(table: &Table, report: &ProfileReport) -> String {
    let mut registry = Registry::default();
    let cpu = Family::<Labels, GaugeF>::default();
    let runs_per_sec = Family::<Labels, GaugeF>::default();
    let avg_ns = Family::<Labels, GaugeF>::default();
    let runs = Family::<Labels, Counter>::default();
    let samples = Family::<Labels, Counter>::default();
    let line_samples = Family::<Labels, Counter>::default();
    let helper_samples = Family::<Labels, Counter>::default();
    let info = Family::<Labels, Gauge>::default();

    info.get_or_create(&labels(&[
        ("mode", table.mode.name().to_string()),
        ("event", table.event.name().to_string()),
        ("frequency_hz", table.frequency_hz.to_string()),
    ]))
    .set(1);
    for row in &table.programs {
        let prog = [
            ("id", row.id.to_string()),
            ("name", row.name.clone()),
            ("type", row.prog_type.clone()),
        ];
        let with = |extra: (&str, String)| {
            let mut l = labels(&prog);
            l.push((extra.0.to_string(), extra.1));
            l
        };
        if let Some(v) = row.cpu_percent_stats {
            cpu.get_or_create(&with(("source", "stats".into()))).set(v);
        }
        if let Some(v) = row.cpu_percent_samples {
            cpu.get_or_create(&with(("source", "samples".into())))
                .set(v);
        }
        if let Some(v) = row.runs_per_sec {
            runs_per_sec.get_or_create(&labels(&prog)).set(v);
        }
        if let Some(v) = row.avg_run_ns {
            avg_ns.get_or_create(&labels(&prog)).set(v);
        }
        if let Some(n) = row.run_cnt {
            runs.get_or_create(&labels(&prog)).inc_by(n);
        }
    }
    for p in &report.programs {
        let prog = [("id", p.id.to_string()), ("name", p.name.clone())];
        samples.get_or_create(&labels(&prog)).inc_by(p.samples);
        for h in &p.helpers {
            let mut l = labels(&prog);
            l.push(("helper".into(), h.name.clone()));
            helper_samples.get_or_create(&l).inc_by(h.samples);
        }
        for f in &p.functions {
            for line in &f.lines {
                let mut l = labels(&prog);
                l.push(("function".into(), f.name.clone()));
                l.push(("file".into(), line.file.clone()));
                l.push(("line".into(), line.line.to_string()));
                line_samples.get_or_create(&l).inc_by(line.samples);
            }
        }
    }
    registry.register(
        "xdpdbg_top_program_cpu_percent",
        "Share of all online CPUs' time spent in the program over the last interval, in percent",
        cpu,
    );
    registry.register(
        "xdpdbg_top_program_runs_per_second",
        "Runs per second over the last interval (run-time statistics on only)",
        runs_per_sec,
    );
    registry.register(
        "xdpdbg_top_program_avg_run_ns",
        "Average nanoseconds per run over the last interval (run-time statistics on only)",
        avg_ns,
    );
    registry.register(
        "xdpdbg_top_program_runs",
        "Runs counted by the kernel while run-time statistics were on",
        runs,
    );
    registry.register(
        "xdpdbg_top_program_samples",
        "perf samples in the program and the helpers it called, since xdpdbg top started",
        samples,
    );
    registry.register(
        "xdpdbg_top_line_samples",
        "perf samples on one source line (its helper calls included), since xdpdbg top started",
        line_samples,
    );
    registry.register(
        "xdpdbg_top_helper_samples",
        "perf samples inside one helper or kfunc called by the program, since xdpdbg top started",
        helper_samples,
    );
    registry.register(
        "xdpdbg_top_sampling_info",
        "How the figures are made: CPU % source (mode), perf event, frequency per CPU",
        info,
    );
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}
