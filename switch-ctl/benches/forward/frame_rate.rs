//! Frame-rate measurements: 64-byte frames from h1 to h2 in each forwarding mode, and their
//! report.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use testkit::bench::rounds;
use testkit::bench::stats::{median, min_max, per_round_ratios};
use testkit::bench::table::{Align, Table};

use crate::INGRESS_PORT;
use crate::config::{Config, Mode, Receiver};
use crate::cpu::{cpu_busy_ns, cpu_ns};
use crate::daemon::{Daemon, fast_packets};
use crate::ebpf::{Bench, StopOnDrop, frame, generate};
use crate::lab::{ifindex_in, lab, set_gro, threaded_napi};
use crate::profiler::{self, Watch, Watched};
use switch_ebpf::bench;

const WARMUP: Duration = Duration::from_millis(500);
const TARGET_VS_BRIDGE: f64 = 3.0;
const TARGET_VS_REDIRECT: f64 = 0.90;

struct Sample {
    /// Frames per second at the receiver.
    pps: f64,
    /// Frames per second the generator offered (including those dropped on the way).
    offered_pps: f64,
    /// CPU time of p1's NAPI thread per received frame.
    ns_per_frame: f64,
    /// Share of the window the NAPI thread ran.
    napi_busy: f64,
    /// Share of the window the forwarding CPU was busy (anything but idle, from /proc/stat),
    /// and the same time per received frame.
    cpu_busy: f64,
    cpu_ns_per_frame: f64,
    /// For the fast path: frames p1's program forwarded over the whole run, and the frames the
    /// receiver counted over the whole run.
    fast: Option<(u64, u64)>,
    /// For the fast path: the program's statistics and the profiler's samples.
    watched: Option<Watched>,
}

/// What is read at both ends of a measurement window.
struct Snapshot {
    at: Instant,
    received: u64,
    other: u64,
    napi_ns: u64,
    cpu_busy_ns: u64,
}

fn snapshot(bench: &Bench, napi: i32, cpu: usize) -> Result<Snapshot> {
    let (received, other) = bench.received()?;
    Ok(Snapshot {
        at: Instant::now(),
        received,
        other,
        napi_ns: cpu_ns(napi)?,
        cpu_busy_ns: cpu_busy_ns(cpu)?,
    })
}

fn measure(config: &Config, mode: Mode, receiver: Receiver) -> Result<Sample> {
    let lab = lab(mode == Mode::BridgeNf)?;
    let h1 = lab.host("h1")?.clone();
    let h2 = lab.host("h2")?.clone();
    let mut bench = Bench::load()?;
    bench.attach_receiver(&lab, receiver)?;

    // Declared after the lab, so it is stopped before the lab goes.
    let mut daemon = None;
    match mode {
        Mode::Bridge | Mode::BridgeNf => set_gro(&lab, "sw", INGRESS_PORT, true)?,
        Mode::Redirect => bench.attach_redirect(&lab, bench::REDIRECT)?,
        Mode::RedirectRead => bench.attach_redirect(&lab, bench::REDIRECT_READ)?,
        Mode::FastAuto => {
            // TC on p1 gives it no NAPI: GRO does, as for the plain bridge.
            set_gro(&lab, "sw", INGRESS_PORT, true)?;
            let bin = config
                .switch_ctl
                .as_deref()
                .context("no switch-ctl binary")?;
            let mut d = Daemon::start(bin, lab.switch_netns(), "auto", false)?;
            d.wait_attached(Some("tc"))?;
            daemon = Some(d);
        }
        Mode::Fast | Mode::FastStatic | Mode::FastStats | Mode::FastTop | Mode::FastTopStats => {
            if mode == Mode::FastStatic {
                for host in lab.hosts() {
                    lab.exec_ok(
                        "sw",
                        &[
                            "bridge", "fdb", "replace", &host.mac, "dev", &host.port, "master",
                            "static",
                        ],
                    )?;
                }
            }
            let bin = config
                .switch_ctl
                .as_deref()
                .context("no switch-ctl binary")?;
            let mut d = Daemon::start(bin, lab.switch_netns(), "xdp", false)?;
            d.wait_attached(Some("xdp"))?;
            daemon = Some(d);
        }
    }
    let napi = threaded_napi(&lab, INGRESS_PORT, config.fwd_cpu)?;
    let watch = if mode.runs_daemon() {
        let xdpdbg = config.xdpdbg.as_deref();
        Some(Watch::start(&lab, mode, xdpdbg, WARMUP, config.window)?)
    } else {
        None
    };

    let generator = bench.generator(config.pace_pps)?;
    let ifindex = ifindex_in(&lab, "h1", &h1.ifname)?;
    let frame = frame(&h1, &h2)?;
    let stop = AtomicBool::new(false);
    let (a, b, generated) = std::thread::scope(|s| -> Result<_> {
        let _stop = StopOnDrop(&stop);
        let gen_thread = s.spawn(|| {
            netlab::netns::run_in(&h1.netns, || {
                generate(
                    &generator,
                    ifindex,
                    &frame,
                    config.gen_cpu,
                    config.pace_pps.is_some(),
                    &stop,
                )
            })
        });
        std::thread::sleep(WARMUP);
        if gen_thread.is_finished() {
            let result = gen_thread
                .join()
                .map_err(|_| anyhow!("generator panicked"))?;
            result??;
            bail!("the generator stopped early");
        }
        let a = snapshot(&bench, napi, config.fwd_cpu)?;
        std::thread::sleep(config.window);
        let b = snapshot(&bench, napi, config.fwd_cpu)?;
        stop.store(true, Ordering::Relaxed);
        let generated = gen_thread
            .join()
            .map_err(|_| anyhow!("generator panicked"))???;
        Ok((a, b, generated))
    })?;
    // Paced, the generator's last call outlasts the window: count what it had sent by the end.
    let offered = match config.pace_pps {
        Some(_) => bench.paced_sent()?,
        None => generated.0,
    };
    let watched = watch.map(Watch::finish).transpose()?;
    let received = b.received - a.received;
    if std::env::var_os("SWITCH_BENCH_DEBUG").is_some() {
        for (node, dev) in [("h1", "eth0"), ("sw", "p1"), ("sw", "p2"), ("h2", "eth0")] {
            let s = lab.exec(node, &["ethtool", "-S", dev])?;
            let l = lab.exec(node, &["ip", "-s", "link", "show", dev])?;
            eprintln!(
                "--- {node} {dev}\n{}{}",
                String::from_utf8_lossy(&l.stdout),
                String::from_utf8_lossy(&s.stdout)
            );
        }
    }
    ensure!(
        received > 0,
        "no frame reached the receiver on h2 in mode {} ({} other frames)",
        mode.name(),
        b.other - a.other
    );

    let fast = match daemon.take() {
        Some(d) => {
            let status = d.status()?;
            let forwarded = fast_packets(&status, INGRESS_PORT)?;
            let (total, _) = bench.received()?;
            d.stop()?;
            Some((forwarded, total))
        }
        None => None,
    };
    drop(bench);
    lab.teardown().context("tearing the lab down")?;
    let window = (b.at - a.at).as_secs_f64();
    let frames = received as f64;
    let napi_ns = (b.napi_ns - a.napi_ns) as f64;
    let cpu_ns = (b.cpu_busy_ns - a.cpu_busy_ns) as f64;
    Ok(Sample {
        pps: frames / window,
        offered_pps: offered as f64 / generated.1.as_secs_f64(),
        ns_per_frame: napi_ns / frames,
        napi_busy: napi_ns / 1e9 / window,
        cpu_busy: cpu_ns / 1e9 / window,
        cpu_ns_per_frame: cpu_ns / frames,
        fast,
        watched,
    })
}

/// Measures every mode with `receiver` over interleaved rounds; returns the report's section.
pub fn frame_bench(config: &Config, receiver: Receiver) -> Result<String> {
    let modes = &config.modes;
    let samples =
        rounds::try_interleaved(config.rounds, modes.len(), |round, k| -> Result<Sample> {
            let mode = modes[k];
            let s = measure(config, mode, receiver).with_context(|| {
                format!(
                    "round {}, mode {}, receiver {}",
                    round + 1,
                    mode.name(),
                    receiver.name()
                )
            })?;
            eprintln!(
                "forward: {} receiver, round {} {:10} {:6.3} Mpps (offered {:5.2}), NAPI \
             thread {:5.0} ns/frame ran {:3.0} %, CPU {} busy {:3.0} % ({:5.0} ns/frame){}",
                receiver.name(),
                round + 1,
                mode.name(),
                s.pps / 1e6,
                s.offered_pps / 1e6,
                s.ns_per_frame,
                s.napi_busy * 100.0,
                config.fwd_cpu,
                s.cpu_busy * 100.0,
                s.cpu_ns_per_frame,
                s.fast.map_or(String::new(), |(f, r)| format!(
                    ", fast path forwarded {f} (receiver {r})"
                ))
            );
            if let Some((forwarded, rx)) = s.fast {
                // The fast path must have carried (nearly) every received frame; a few may be
                // ping or ARP frames passed to the bridge before the measurement.
                ensure!(
                    forwarded as f64 >= 0.99 * rx as f64,
                    "round {}: p1's fast path forwarded {forwarded} frames but the receiver \
                 counted {rx}: the frames did not take the fast path",
                    round + 1
                );
            }
            Ok(s)
        })?;

    let mut out = String::new();
    let receiver_text = match receiver {
        Receiver::Xdp => "an XDP program on h2's eth0 counts and drops the frames (XDP_DROP)",
        Receiver::Tc => {
            "a tc ingress program on h2's eth0 counts and drops the frames (TC_ACT_SHOT); \
             GRO on, no XDP program there"
        }
    };
    let _ = writeln!(
        out,
        "### 64-byte frames, h1 → h2 through the bridge, {} receiver\n\n60-byte UDP/IPv4 \
         frames (64 on the wire) from the live-frames XDP generator on h1's eth0 (CPU {}); p1's \
         NAPI thread pinned to CPU {}; {receiver_text}. {:.1} s measured per mode and round, \
         after {:.1} s of warm-up. {}\n",
        receiver.name(),
        config.gen_cpu,
        config.fwd_cpu,
        config.window.as_secs_f64(),
        WARMUP.as_secs_f64(),
        match config.pace_pps {
            Some(pps) => format!(
                "Paced: the generator sends {:.3} Mpps in every mode (bursts of 64 frames, \
                 one NAPI poll's worth; between bursts it waits inside its program), \
                 so a mode that keeps up has no surplus at p1's ring; compare the CPU cost per \
                 frame.",
                pps / 1e6
            ),
            None => "Unpaced: the generator offers all it can; the surplus is dropped at p1's \
                     full ring."
                .to_string(),
        }
    );
    let of = |m: Mode| -> Option<&[Sample]> {
        modes
            .iter()
            .position(|&x| x == m)
            .map(|i| samples[i].as_slice())
    };
    let field = |s: &[Sample], f: fn(&Sample) -> f64| -> Vec<f64> { s.iter().map(f).collect() };
    // Per round, `a` relative to `b`: by frame rate, and by CPU cost per frame (b's over a's).
    let rate_ratios = |a: &[Sample], b: &[Sample]| -> Vec<f64> {
        per_round_ratios(&field(a, |x| x.pps), &field(b, |x| x.pps))
    };
    let cost_ratios = |a: &[Sample], b: &[Sample]| -> Vec<f64> {
        per_round_ratios(&field(b, |x| x.ns_per_frame), &field(a, |x| x.ns_per_frame))
    };
    let mut table = Table::new(&[
        ("mode", Align::Left),
        ("median Mpps", Align::Right),
        ("min–max Mpps", Align::Right),
        ("NAPI CPU ns/frame", Align::Right),
        ("NAPI thread ran", Align::Right),
        ("offered Mpps", Align::Right),
        ("vs bridge nf-call=0", Align::Right),
        ("vs raw redirect", Align::Right),
    ]);
    for (i, mode) in modes.iter().enumerate() {
        let s = &samples[i];
        let mpps = field(s, |x| x.pps / 1e6);
        let (lo, hi) = min_max(&mpps);
        // Paced, modes compare by CPU cost per frame (their rates are the offered load).
        let ratios = |a: &[Sample], b: &[Sample]| -> Vec<f64> {
            if config.pace_pps.is_some() {
                cost_ratios(a, b)
            } else {
                rate_ratios(a, b)
            }
        };
        let vs_bridge =
            of(Mode::Bridge).map_or("–".into(), |b| format!("{:.2}x", median(&ratios(s, b))));
        let vs_redirect = of(Mode::Redirect).map_or("–".into(), |r| {
            format!("{:.0} %", median(&ratios(s, r)) * 100.0)
        });
        table.row([
            mode.label().to_string(),
            format!("{:.3}", median(&mpps)),
            format!("{lo:.3}–{hi:.3}"),
            format!("{:.0}", median(&field(s, |x| x.ns_per_frame))),
            format!("{:.0} %", median(&field(s, |x| x.napi_busy * 100.0))),
            format!("{:.2}", median(&field(s, |x| x.offered_pps / 1e6))),
            vs_bridge,
            vs_redirect,
        ]);
    }
    out.push_str(&table.to_string());
    let _ = writeln!(
        out,
        "\nRatios are medians of per-round ratios of the frame rates (paced: of the CPU cost per \
         frame, the other mode's over this one's; each round measured every mode within \
         seconds). NAPI CPU ns/frame: run time of p1's NAPI thread \
         (/proc/PID/schedstat) over the frames received; it includes the bridge or XDP work and \
         the receiver's drop, which runs in the softirq that thread raises, and excludes time \
         the hypervisor took the vCPU away. \"NAPI thread ran\": that run time over the window \
         (below 100 % when the vCPU is stolen or the ring runs empty).\n"
    );

    if let Some(fast) = of(Mode::Fast) {
        let mut targets = Table::new(&[
            ("target", Align::Left),
            (
                if config.pace_pps.is_some() {
                    "result (CPU cost per frame at the paced load, median of rounds)"
                } else {
                    "result (frame rate, median of rounds)"
                },
                Align::Right,
            ),
            ("rounds", Align::Left),
            (
                if config.pace_pps.is_some() {
                    "by frame rate"
                } else {
                    "by CPU cost per frame"
                },
                Align::Right,
            ),
            ("", Align::Left),
        ]);
        let list = |r: &[f64], percent: bool| -> String {
            r.iter()
                .map(|x| {
                    if percent {
                        format!("{:.0} %", x * 100.0)
                    } else {
                        format!("{x:.2}x")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Per round, the fast path against `base`: (what the target is judged on, the other
        // measure). Paced, every mode that keeps up forwards the same rate, so the CPU cost per
        // frame is what differs and what is judged.
        let judged = |base: &[Sample]| -> (Vec<f64>, Vec<f64>) {
            let (by_rate, by_cost) = (rate_ratios(fast, base), cost_ratios(fast, base));
            if config.pace_pps.is_some() {
                (by_cost, by_rate)
            } else {
                (by_rate, by_cost)
            }
        };
        if let Some(b) = of(Mode::Bridge) {
            let (r, other) = judged(b);
            let m = median(&r);
            targets.row([
                format!("fast path ≥ {TARGET_VS_BRIDGE:.0}x plain bridge (nf-call=0)"),
                format!("**{m:.2}x**"),
                list(&r, false),
                format!("{:.2}x", median(&other)),
                verdict(m >= TARGET_VS_BRIDGE).to_string(),
            ]);
        }
        if let Some(red) = of(Mode::Redirect) {
            let (r, other) = judged(red);
            let m = median(&r);
            targets.row([
                format!(
                    "fast path ≥ {:.0} % of the raw redirect",
                    TARGET_VS_REDIRECT * 100.0
                ),
                format!("**{:.0} %**", m * 100.0),
                list(&r, true),
                format!("{:.0} %", median(&other) * 100.0),
                verdict(m >= TARGET_VS_REDIRECT).to_string(),
            ]);
        }
        out.push_str(&targets.to_string());
        out.push('\n');
    }
    let watched: Vec<Vec<profiler::Round>> = samples
        .iter()
        .map(|s| {
            s.iter()
                .filter_map(|x| {
                    Some(profiler::Round {
                        pps: x.pps,
                        offered_pps: x.offered_pps,
                        ns_per_frame: x.ns_per_frame,
                        watched: x.watched?,
                    })
                })
                .collect()
        })
        .collect();
    out.push_str(&profiler::report(modes, &watched));
    Ok(out)
}

/// How a target's line ends: `met` or `MISSED`.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}
