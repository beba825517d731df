//! TCP through the plain bridge and through the daemon in mode `auto` (iperf3), and its
//! report.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use testkit::bench::rounds;
use testkit::bench::stats::{median, min_max, per_round_ratios};
use testkit::bench::table::{Align, Table};
use testkit::lab::{Iperf3Server, iperf3_client};

use crate::config::{Config, Tcp};
use crate::daemon::{Daemon, fast_packets};
use crate::frame_rate::verdict;
use crate::lab::lab;

const TARGET_TCP: f64 = 1.0;

struct TcpSample {
    gbps: f64,
    retransmits: u64,
    /// For the daemon: each port's mode and its fast-path packet count after the run.
    ports: Vec<(String, String, Option<u64>)>,
}

fn measure_tcp(config: &Config, which: Tcp) -> Result<TcpSample> {
    let lab = lab(false)?;
    let h2 = lab.host("h2")?.ipv4.to_string();
    let mut daemon = None;
    let mut modes = Vec::new();
    if which == Tcp::Auto {
        let bin = config
            .switch_ctl
            .as_deref()
            .context("no switch-ctl binary")?;
        let mut d = Daemon::start(bin, lab.switch_netns(), "auto", false)?;
        modes = d.wait_attached(None)?;
        daemon = Some(d);
    }
    let _server = Iperf3Server::start(&lab, "h2", &["-4", "-B", &h2])?;
    let secs = config.tcp_secs.to_string();
    let json = iperf3_client(&lab, "h1", &h2, &["-4", "-t", &secs, "-O", "1"])?;
    let bps = json["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .context("iperf3 JSON without end.sum_received.bits_per_second")?;
    let retransmits = json["end"]["sum_sent"]["retransmits"].as_u64().unwrap_or(0);
    let mut ports = Vec::new();
    if let Some(d) = daemon.take() {
        let status = d.status()?;
        for (name, mode) in modes {
            let fast = fast_packets(&status, &name).ok();
            ports.push((name, mode, fast));
        }
        d.stop()?;
    }
    lab.teardown().context("tearing the lab down")?;
    Ok(TcpSample {
        gbps: bps / 1e9,
        retransmits,
        ports,
    })
}

/// Measures every TCP path over interleaved rounds; returns the report's section.
pub fn tcp_bench(config: &Config) -> Result<String> {
    let variants = &config.tcp;
    let samples = rounds::try_interleaved(config.rounds, variants.len(), |round, k| {
        let which = variants[k];
        let s = measure_tcp(config, which)
            .with_context(|| format!("round {}, {}", round + 1, which.name()))?;
        let ports: Vec<String> = s
            .ports
            .iter()
            .map(|(name, mode, fast)| {
                format!(
                    "{name}={mode} fast_packets={}",
                    fast.map_or("?".into(), |f| f.to_string())
                )
            })
            .collect();
        eprintln!(
            "forward: round {} {:10} {:6.2} Gbit/s, {} retransmits {}",
            round + 1,
            which.name(),
            s.gbps,
            s.retransmits,
            ports.join(" ")
        );
        anyhow::Ok(s)
    })?;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "### TCP, h1 → h2 (iperf3)\n\nOne iperf3 stream, {} s per round after 1 s omitted, \
         default offloads, nf-call=0.\n",
        config.tcp_secs
    );
    let mut table = Table::new(&[
        ("path", Align::Left),
        ("median Gbit/s", Align::Right),
        ("min–max Gbit/s", Align::Right),
        ("median retransmits", Align::Right),
        ("port modes", Align::Left),
        ("vs plain bridge", Align::Right),
    ]);
    let gbps = |s: &[TcpSample]| -> Vec<f64> { s.iter().map(|x| x.gbps).collect() };
    let base = variants
        .iter()
        .position(|&v| v == Tcp::Bridge)
        .map(|i| &samples[i]);
    let per_round = |s: &[TcpSample]| -> Option<Vec<f64>> {
        base.map(|b| per_round_ratios(&gbps(s), &gbps(b)))
    };
    for (i, which) in variants.iter().enumerate() {
        let s = &samples[i];
        let g = gbps(s);
        let (lo, hi) = min_max(&g);
        let re: Vec<f64> = s.iter().map(|x| x.retransmits as f64).collect();
        let modes = s
            .first()
            .map(|x| {
                x.ports
                    .iter()
                    .map(|(n, m, _)| format!("{n}: {m}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "–".into());
        table.row([
            which.label().to_string(),
            format!("{:.2}", median(&g)),
            format!("{lo:.2}–{hi:.2}"),
            format!("{:.0}", median(&re)),
            modes,
            per_round(s).map_or("–".into(), |r| format!("{:.2}x", median(&r))),
        ]);
    }
    out.push_str(&table.to_string());
    if let Some(auto) = variants
        .iter()
        .position(|&v| v == Tcp::Auto)
        .map(|i| &samples[i])
        && let Some(r) = per_round(auto)
    {
        let (lo, hi) = min_max(&r);
        let m = median(&r);
        let mut target = Table::new(&[
            ("target", Align::Left),
            ("result", Align::Left),
            ("", Align::Left),
        ]);
        target.row([
            "TCP in auto mode no slower than the plain bridge".to_string(),
            format!("**{m:.2}x** (rounds {lo:.2}–{hi:.2}x)"),
            verdict(m >= TARGET_TCP).to_string(),
        ]);
        let _ = write!(out, "\n{target}");
    }
    out.push('\n');
    Ok(out)
}
