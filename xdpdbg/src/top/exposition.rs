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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::table::{IntervalSamples, Mode, ProgramRow, SCHEMA_VERSION, Table};
    use bpf_profile::sampler::Event;
    use bpf_profile::symbols::Resolution;

    #[test]
    fn program_line_and_helper_series() {
        let row = ProgramRow {
            id: 7,
            prog_type: "xdp".into(),
            name: "hot_spot".into(),
            tag: "00".into(),
            attach: Vec::new(),
            owners: Vec::new(),
            run_cnt: Some(1000),
            runs_per_sec: Some(500.0),
            avg_run_ns: Some(610.0),
            cpu_percent: Some(3.5),
            cpu_percent_stats: Some(3.5),
            cpu_percent_samples: Some(3.25),
            samples: 70,
            resolution: Some(Resolution::Line),
            note: None,
        };
        let table = Table {
            schema_version: SCHEMA_VERSION,
            mode: Mode::Stats,
            stats_on: true,
            interval_ms: 1000,
            cpus: 2,
            event: Event::CpuClock,
            frequency_hz: 999,
            cpu_percent_means: crate::top::table::CPU_PERCENT_MEANS,
            samples: IntervalSamples::default(),
            programs: vec![row],
            appeared: Vec::new(),
            vanished: Vec::new(),
        };
        let text = encode_metrics(&table, &crate::top::tests::report(7, Resolution::Line));
        for line in [
            "# TYPE xdpdbg_top_program_cpu_percent gauge",
            "xdpdbg_top_program_cpu_percent{id=\"7\",name=\"hot_spot\",type=\"xdp\",source=\"stats\"} 3.5",
            "xdpdbg_top_program_cpu_percent{id=\"7\",name=\"hot_spot\",type=\"xdp\",source=\"samples\"} 3.25",
            "xdpdbg_top_program_runs_total{id=\"7\",name=\"hot_spot\",type=\"xdp\"} 1000",
            "xdpdbg_top_program_avg_run_ns{id=\"7\",name=\"hot_spot\",type=\"xdp\"} 610.0",
            "xdpdbg_top_program_samples_total{id=\"7\",name=\"hot_spot\"} 100",
            "xdpdbg_top_line_samples_total{id=\"7\",name=\"hot_spot\",function=\"hot_spot\",file=\"/nowhere/hot.bpf.c\",line=\"44\"} 97",
            "xdpdbg_top_helper_samples_total{id=\"7\",name=\"hot_spot\",helper=\"bpf_csum_diff\"} 60",
            "xdpdbg_top_sampling_info{mode=\"stats\",event=\"cpu-clock\",frequency_hz=\"999\"} 1",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
