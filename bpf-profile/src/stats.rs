//! Run-time statistics: switching them on for as long as needed, and per-program rates between
//! two readings.
//!
//! While statistics are on, the kernel reads the clock twice around every program run, which
//! costs every run of every program: measured with `cargo run --release -p bpf-profile
//! --example cost` on this project's 2-CPU VM, a trivial XDP program went from 5 to 38 ns per
//! run and the `hot_spot` fixture from 610 to 647 ns (an earlier measurement of a real XDP
//! program: ~230 to ~335 ns). [`StatsGuard`] keeps them on only while it lives. Sampling
//! ([`crate::sampler`]) costs nothing per run and little overall (`hot_spot`: 625 ns per run
//! while every CPU was sampled at 999 Hz).
//!
//! # Definitions
//! Between two readings `a` and `b` of the same program, with `wall = b.at - a.at`:
//! - runs per second: `(b.run_cnt - a.run_cnt) / wall`;
//! - average time per run: `(b.run_time_ns - a.run_time_ns) / (b.run_cnt - a.run_cnt)`, absent
//!   when the program did not run;
//! - **CPU %**: `100 × (b.run_time_ns - a.run_time_ns) / (wall_ns × online CPUs)`, the share of
//!   the whole machine's CPU time spent in the program, so 100% means every online CPU did
//!   nothing else, and the figures of all programs add up to at most 100%;
//! - CPUs busy: the same time as a number of CPUs (`run_time delta / wall`), which can exceed
//!   1 on a multi-core machine (this is what bpftop calls CPU %, times 100).
//!
//! A counter that goes backwards (it cannot for one program id, but a reading may be taken from
//! a source that restarted) makes that interval [`RateStatus::Reset`] with no rates; a program
//! in `b` only is [`RateStatus::New`]; a program in `a` only has vanished and gets no row.

use std::collections::BTreeMap;
use std::time::Instant;

use bpf_sys::{StatsFd, SysError, enable_stats};
use serde::{Deserialize, Serialize};

use crate::inventory::Snapshot;

/// Why statistics could not be turned on.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// `BPF_ENABLE_STATS` failed.
    #[error(
        "cannot turn on eBPF run-time statistics: {0} (BPF_ENABLE_STATS needs CAP_SYS_ADMIN and \
         Linux 5.8; run as root, or use sampling, which needs no statistics)"
    )]
    Enable(#[from] SysError),
}

/// Run-time statistics stay on while this lives (other holders, and the
/// `kernel.bpf_stats_enabled` sysctl, may keep them on after it drops).
#[derive(Debug)]
pub struct StatsGuard {
    _fd: StatsFd,
}

impl StatsGuard {
    /// Turns run-time statistics on.
    pub fn enable() -> Result<Self, StatsError> {
        Ok(Self {
            _fd: enable_stats()?,
        })
    }
}

/// Whether the `kernel.bpf_stats_enabled` sysctl keeps statistics on regardless of any guard.
pub fn enabled_by_sysctl() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled").is_ok_and(|s| s.trim() != "0")
}

/// The counters of one program at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    /// Runs so far.
    pub run_cnt: u64,
    /// Run time so far, in nanoseconds.
    pub run_time_ns: u64,
}

/// Every program's counters at one moment.
#[derive(Debug, Clone)]
pub struct Reading {
    /// When they were read.
    pub at: Instant,
    /// By program id.
    pub counters: BTreeMap<u32, Counters>,
}

impl Reading {
    /// The counters of an inventory snapshot.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        Self {
            at: snapshot.at,
            counters: snapshot
                .programs
                .iter()
                .map(|p| {
                    let c = Counters {
                        run_cnt: p.run_cnt,
                        run_time_ns: p.run_time_ns,
                    };
                    (p.id, c)
                })
                .collect(),
        }
    }
}

/// Whether an interval's rates could be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateStatus {
    /// Both readings have the program and its counters moved forward (or stayed).
    Measured,
    /// The program appeared after the first reading.
    New,
    /// A counter went backwards.
    Reset,
}

/// One program's rates over one interval (see the module docs for the definitions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// The program id.
    pub id: u32,
    /// Whether the figures below mean anything.
    pub status: RateStatus,
    /// Runs per second.
    pub runs_per_sec: f64,
    /// Average nanoseconds per run; `None` when it did not run.
    pub avg_run_ns: Option<f64>,
    /// Share of the whole machine's CPU time, in percent.
    pub cpu_percent: f64,
    /// CPU time as a number of CPUs.
    pub cpus_busy: f64,
}

/// Rates of every program of `b`, against `a`, on a machine of `online_cpus` CPUs.
pub fn rates(a: &Reading, b: &Reading, online_cpus: usize) -> Vec<Rate> {
    let wall_ns = b.at.saturating_duration_since(a.at).as_nanos() as f64;
    let cpus = online_cpus.max(1) as f64;
    b.counters
        .iter()
        .map(|(&id, now)| {
            let empty = Rate {
                id,
                status: RateStatus::New,
                runs_per_sec: 0.0,
                avg_run_ns: None,
                cpu_percent: 0.0,
                cpus_busy: 0.0,
            };
            let Some(before) = a.counters.get(&id) else {
                return empty;
            };
            if now.run_cnt < before.run_cnt || now.run_time_ns < before.run_time_ns {
                return Rate {
                    status: RateStatus::Reset,
                    ..empty
                };
            }
            let runs = (now.run_cnt - before.run_cnt) as f64;
            let time = (now.run_time_ns - before.run_time_ns) as f64;
            let (per_sec, busy) = if wall_ns > 0.0 {
                (runs * 1e9 / wall_ns, time / wall_ns)
            } else {
                (0.0, 0.0)
            };
            Rate {
                id,
                status: RateStatus::Measured,
                runs_per_sec: per_sec,
                avg_run_ns: (runs > 0.0).then(|| time / runs),
                cpu_percent: 100.0 * busy / cpus,
                cpus_busy: busy,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn reading(at: Instant, rows: &[(u32, u64, u64)]) -> Reading {
        Reading {
            at,
            counters: rows
                .iter()
                .map(|&(id, run_cnt, run_time_ns)| {
                    (
                        id,
                        Counters {
                            run_cnt,
                            run_time_ns,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn rates_new_reset_and_vanished() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(2);
        // 1: 1000 runs of 500 ns in 2 s on 2 CPUs; 2: reset; 3: vanished; 4: new; 5: idle.
        let a = reading(t0, &[(1, 0, 0), (2, 50, 900), (3, 1, 1), (5, 7, 7)]);
        let b = reading(
            t1,
            &[(1, 1000, 500_000), (2, 10, 100), (4, 5, 5), (5, 7, 7)],
        );
        let r = rates(&a, &b, 2);
        assert_eq!(r.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2, 4, 5]);
        assert_eq!(r[0].status, RateStatus::Measured);
        assert_eq!(r[0].runs_per_sec, 500.0);
        assert_eq!(r[0].avg_run_ns, Some(500.0));
        assert!((r[0].cpus_busy - 0.00025).abs() < 1e-12);
        assert!((r[0].cpu_percent - 0.0125).abs() < 1e-9);
        assert_eq!(r[1].status, RateStatus::Reset);
        assert_eq!(r[2].status, RateStatus::New);
        assert_eq!((r[3].status, r[3].avg_run_ns), (RateStatus::Measured, None));
    }
}
