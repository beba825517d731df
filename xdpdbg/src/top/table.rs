//! The program table: one row per loaded program, as the screen shows it and `--once --json`
//! prints it.
//!
//! # The JSON schema (`schema_version` 1)
//! ```text
//! {
//!   "schema_version": 1,
//!   "mode": "samples" | "stats",     // where cpu_percent comes from
//!   "stats_on": true,                // run-time statistics were on for the whole interval
//!   "interval_ms": 1000,             // between the two readings
//!   "cpus": 2,                       // online CPUs
//!   "event": "cpu-clock",            // the sampled event
//!   "frequency_hz": 999,             // samples per second per CPU
//!   "cpu_percent_means": "…",        // CPU_PERCENT_MEANS
//!   "samples": { "total": 1998, "lost": 0, "throttled": 0 },
//!   "programs": [{                   // by cpu_percent, highest first; ties by id
//!     "id": 42, "type": "xdp", "name": "hot_spot", "tag": "…",
//!     "attach": ["xdp eth0 (ifindex 2)"],
//!     "owners": ["1234 xdpdbg"],
//!     "run_cnt": 123456,             // null without statistics
//!     "runs_per_sec": 250000.0,      // null without statistics
//!     "avg_run_ns": 612.0,           // null without statistics or runs
//!     "cpu_percent": 49.8,           // the mode's figure
//!     "cpu_percent_stats": 49.8,     // from statistics; null without them
//!     "cpu_percent_samples": 48.9,   // from samples; null when its addresses are unknown
//!     "samples": 995,                // samples in the program and the helpers it called
//!     "resolution": "line",          // how precisely its samples are placed; null: not at all
//!     "note": null                   // why its samples cannot be placed, when they cannot
//!   }]
//! }
//! ```

use bpf_profile::attach::AttachPoint;
use bpf_profile::inventory::Program;
use bpf_profile::sampler::Event;
use bpf_profile::symbols::Resolution;
use serde::Serialize;

/// The version of the table's JSON schema.
pub const SCHEMA_VERSION: u32 = 1;

/// What CPU % means, on the screen and in the JSON.
pub const CPU_PERCENT_MEANS: &str = "CPU % = the program's share of all online CPUs' time \
    (100% = every CPU busy in it; all programs together add up to at most 100%)";

/// Where the CPU % column comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// perf samples: costs nothing per run; no run counts.
    Samples,
    /// Run-time statistics (BPF_ENABLE_STATS): exact, at a cost on every run of every program.
    Stats,
}

impl Mode {
    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Samples => "samples",
            Mode::Stats => "stats",
        }
    }
}

/// The sample counts of one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IntervalSamples {
    /// Samples read.
    pub total: u64,
    /// Records the kernel dropped (rings full).
    pub lost: u64,
    /// Times the kernel throttled the sampling rate.
    pub throttled: u64,
}

/// One program's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgramRow {
    /// Program id.
    pub id: u32,
    /// Program type (`xdp`, `sched_cls`, ...).
    #[serde(rename = "type")]
    pub prog_type: String,
    /// Name given at load.
    pub name: String,
    /// Tag (hex).
    pub tag: String,
    /// Attach points, written out (see [`describe_attach`]).
    pub attach: Vec<String>,
    /// Owning processes, `PID COMM`, one per process.
    pub owners: Vec<String>,
    /// Runs so far; `None` without run-time statistics.
    pub run_cnt: Option<u64>,
    /// Runs per second over the interval; `None` without run-time statistics.
    pub runs_per_sec: Option<f64>,
    /// Average nanoseconds per run; `None` without statistics or runs.
    pub avg_run_ns: Option<f64>,
    /// The mode's CPU %.
    pub cpu_percent: Option<f64>,
    /// CPU % from run-time statistics.
    pub cpu_percent_stats: Option<f64>,
    /// CPU % estimated from samples.
    pub cpu_percent_samples: Option<f64>,
    /// Samples of the interval in the program and its helpers.
    pub samples: u64,
    /// How precisely its samples are placed; `None` when they cannot be.
    pub resolution: Option<Resolution>,
    /// Why its samples cannot be placed, when they cannot.
    pub note: Option<String>,
}

impl ProgramRow {
    /// A row with the program's identity, attach points and owners, and no figures yet.
    pub fn of(p: &Program) -> Self {
        let mut owners: Vec<String> = p
            .owners
            .iter()
            .map(|o| format!("{} {}", o.pid, o.comm))
            .collect();
        owners.dedup();
        Self {
            id: p.id,
            prog_type: p.prog_type.clone(),
            name: p.name.clone(),
            tag: p.tag.clone(),
            attach: p
                .attachments
                .iter()
                .map(|a| describe_attach(&a.point))
                .collect(),
            owners,
            run_cnt: None,
            runs_per_sec: None,
            avg_run_ns: None,
            cpu_percent: None,
            cpu_percent_stats: None,
            cpu_percent_samples: None,
            samples: 0,
            resolution: None,
            note: None,
        }
    }
}

/// One refresh of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where `cpu_percent` comes from.
    pub mode: Mode,
    /// Statistics were on for the whole interval (so the stats figures mean something).
    pub stats_on: bool,
    /// The interval between the readings, in milliseconds.
    pub interval_ms: u64,
    /// Online CPUs.
    pub cpus: u32,
    /// The sampled event.
    pub event: Event,
    /// Samples per second per CPU.
    pub frequency_hz: u64,
    /// [`CPU_PERCENT_MEANS`].
    pub cpu_percent_means: &'static str,
    /// The interval's sample counts.
    pub samples: IntervalSamples,
    /// Programs, by CPU % (highest first), ties by id.
    pub programs: Vec<ProgramRow>,
    /// Programs that appeared in this refresh.
    #[serde(skip)]
    pub appeared: Vec<u32>,
    /// Programs that vanished since the last refresh.
    #[serde(skip)]
    pub vanished: Vec<u32>,
}

/// An attach point in a few words: `xdp eth0`, `cgroup_inet_ingress /sys/fs/cgroup/x`,
/// `tracepoint sched:sched_switch`...
pub fn describe_attach(point: &AttachPoint) -> String {
    let ret = |r: bool, a: &str, b: &str| if r { b.to_string() } else { a.to_string() };
    match point {
        AttachPoint::Interface {
            hook,
            ifindex,
            ifname,
        } => match ifname {
            Some(name) => format!("{hook} {name}"),
            None => format!("{hook} ifindex {ifindex} (other netns)"),
        },
        AttachPoint::Cgroup {
            hook,
            cgroup_id,
            path,
        } => match path {
            Some(p) => format!("{hook} {}", p.display()),
            None => format!("{hook} cgroup {cgroup_id}"),
        },
        AttachPoint::Netns { hook, netns_ino } => format!("{hook} netns {netns_ino}"),
        AttachPoint::Tracepoint { name, raw } => {
            format!("{} {name}", ret(*raw, "tracepoint", "raw_tracepoint"))
        }
        AttachPoint::Kprobe {
            function,
            offset,
            retprobe,
        } => {
            let kind = ret(*retprobe, "kprobe", "kretprobe");
            if *offset == 0 {
                format!("{kind} {function}")
            } else {
                format!("{kind} {function}+{offset:#x}")
            }
        }
        AttachPoint::Uprobe {
            file,
            offset,
            retprobe,
        } => format!(
            "{} {file}:{offset:#x}",
            ret(*retprobe, "uprobe", "uretprobe")
        ),
        AttachPoint::KprobeMulti { count, retprobe } => {
            format!(
                "{} ×{count}",
                ret(*retprobe, "kprobe_multi", "kretprobe_multi")
            )
        }
        AttachPoint::UprobeMulti { count, pid } => format!("uprobe_multi ×{count} pid {pid}"),
        AttachPoint::Tracing {
            hook,
            target_obj_id,
            target_btf_id,
        } => format!("{hook} obj {target_obj_id} btf {target_btf_id}"),
        AttachPoint::PerfEvent { event_type, config } => {
            format!("perf_event type {event_type} config {config}")
        }
        AttachPoint::Netfilter {
            pf,
            hooknum,
            priority,
        } => format!("netfilter pf {pf} hook {hooknum} prio {priority}"),
        AttachPoint::StructOps { map_id } => format!("struct_ops map {map_id}"),
        AttachPoint::Iter { target } => format!("iter {target}"),
        AttachPoint::Other { link_type } => format!("{link_type} link"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_points_read_as_words() {
        let xdp = AttachPoint::Interface {
            hook: "xdp".into(),
            ifindex: 3,
            ifname: Some("eth0".into()),
        };
        assert_eq!(describe_attach(&xdp), "xdp eth0");
        let kretprobe = AttachPoint::Kprobe {
            function: "tcp_v4_connect".into(),
            offset: 0,
            retprobe: true,
        };
        assert_eq!(describe_attach(&kretprobe), "kretprobe tcp_v4_connect");
        let tp = AttachPoint::Tracepoint {
            name: "sched:sched_switch".into(),
            raw: false,
        };
        assert_eq!(describe_attach(&tp), "tracepoint sched:sched_switch");
    }
}
