//! One source of every figure `xdpdbg top` shows: samples from every CPU, the program
//! inventory, and run-time statistics while they are switched on.
//!
//! The sampler runs from [`Collector::open`] until the collector drops; call
//! [`Collector::drain`] at least every few hundred milliseconds (the rings hold about a second
//! of samples). Each sample is charged once ([`bpf_profile::attribute`]) and added to three
//! profiles: the current interval's (the table's sampled CPU %), everything since the start
//! (`--duration`), and the focused program's since it was focused (the profile view).
//!
//! Kernel settings are never changed: statistics are switched on with a `BPF_ENABLE_STATS`
//! file descriptor that is closed when switched off or when the collector drops, and the perf
//! events close with it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bpf_profile::attribute::Attributor;
use bpf_profile::inventory::{Inventory, InventoryError, Snapshot};
use bpf_profile::kallsyms::KernelSymbols;
use bpf_profile::profile::{Profile, ProfileReport};
use bpf_profile::sampler::{Event, Record, Sampler, SamplerConfig, SamplerError};
use bpf_profile::stats::{self, RateStatus, Reading, StatsError, StatsGuard};
use bpf_profile::symbols::ProgramSymbols;

use super::table::{CPU_PERCENT_MEANS, IntervalSamples, Mode, ProgramRow, SCHEMA_VERSION, Table};

/// Why the collector could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// Sampling could not start.
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    /// Programs could not be listed.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// Statistics could not be switched on.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// How to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectorConfig {
    /// Samples per second per CPU.
    pub frequency_hz: u64,
    /// Switch run-time statistics on from the start.
    pub stats: bool,
}

/// The program being profiled in detail.
#[derive(Debug)]
struct Focus {
    prog_id: u32,
    profile: Profile,
    since: Instant,
    /// When the program was seen gone.
    vanished_at: Option<Instant>,
}

/// A profile of one program, as the profile view shows it.
#[derive(Debug, Clone)]
pub struct FocusReport {
    /// The report, with at most the focused program in it.
    pub report: ProfileReport,
    /// The program's id.
    pub prog_id: u32,
    /// True when the program was unloaded while being profiled (the profile stops there).
    pub vanished: bool,
    /// Why its samples cannot be placed, when they cannot.
    pub note: Option<String>,
}

/// Samples, inventory and statistics, refreshed on demand.
#[derive(Debug)]
pub struct Collector {
    sampler: Sampler,
    inventory: Inventory,
    attributor: Attributor,
    /// Why a program's samples cannot be placed (its symbols could not be built).
    notes: BTreeMap<u32, String>,
    /// Why helper names are unknown, when they are.
    kernel_note: Option<String>,
    stats: Option<StatsGuard>,
    /// Statistics were on at the time of `last` (so the next interval's figures hold).
    stats_since_last: bool,
    last: Reading,
    last_programs: Vec<bpf_profile::inventory::Program>,
    window: Profile,
    all: Profile,
    started: Instant,
    focus: Option<Focus>,
    cpus: u32,
}

impl Collector {
    /// Starts sampling every CPU, switches statistics on when asked, and reads the programs
    /// once.
    pub fn open(config: CollectorConfig) -> Result<Self, CollectorError> {
        let sampler = Sampler::open(SamplerConfig {
            frequency_hz: config.frequency_hz,
            ..SamplerConfig::default()
        })?;
        let stats = if config.stats {
            Some(StatsGuard::enable()?)
        } else {
            None
        };
        let (kernel, kernel_note) = match KernelSymbols::load() {
            Ok(k) => (Some(k), None),
            Err(e) => (None, Some(format!("helper names unknown: {e}"))),
        };
        let cpus = sampler.cpus().len() as u32;
        let mut collector = Self {
            sampler,
            inventory: Inventory::new(),
            attributor: Attributor::new(kernel),
            notes: BTreeMap::new(),
            kernel_note,
            stats_since_last: stats.is_some() || stats::enabled_by_sysctl(),
            stats,
            last: Reading {
                at: Instant::now(),
                counters: BTreeMap::new(),
            },
            last_programs: Vec::new(),
            window: Profile::new(),
            all: Profile::new(),
            started: Instant::now(),
            focus: None,
            cpus,
        };
        let snapshot = collector.inventory.refresh()?;
        collector.learn(&snapshot);
        collector.last = Reading::from_snapshot(&snapshot);
        collector.last_programs = snapshot.programs;
        collector.window = Profile::new();
        Ok(collector)
    }

    /// Builds the symbols of programs seen for the first time and forgets those gone (their
    /// JIT memory may be reused), except the focused program's.
    fn learn(&mut self, snapshot: &Snapshot) {
        let mut new = Vec::new();
        for &id in &snapshot.appeared {
            let Some(info) = self.inventory.info(id) else {
                continue;
            };
            match ProgramSymbols::build(&info) {
                Ok(syms) => new.push(Arc::new(syms)),
                Err(e) => {
                    self.notes.insert(id, e.to_string());
                }
            }
        }
        if !new.is_empty() {
            self.attributor.add_programs(new);
        }
        let focused = self.focus.as_ref().map(|f| f.prog_id);
        for &id in &snapshot.vanished {
            if Some(id) == focused {
                if let Some(f) = self.focus.as_mut() {
                    f.vanished_at.get_or_insert_with(Instant::now);
                }
                continue;
            }
            self.attributor.remove_program(id);
            self.notes.remove(&id);
        }
        self.inventory.forget_vanished();
    }

    /// Reads every waiting sample into the profiles.
    pub fn drain(&mut self) {
        let (attributor, window, all, focus) = (
            &self.attributor,
            &mut self.window,
            &mut self.all,
            &mut self.focus,
        );
        self.sampler.drain(|record| match &record {
            Record::Sample(sample) => {
                let charge = attributor.charge(sample);
                if let Some(f) = focus.as_mut()
                    && f.vanished_at.is_none()
                {
                    f.profile.add(charge.clone());
                }
                window.add(charge.clone());
                all.add(charge);
            }
            other => {
                window.record(other, attributor);
                all.record(other, attributor);
                if let Some(f) = focus.as_mut() {
                    f.profile.record(other, attributor);
                }
            }
        });
    }

    /// Drains, reads the programs again, and makes the table of the interval since the last
    /// refresh.
    pub fn refresh(&mut self) -> Result<Table, CollectorError> {
        self.drain();
        let snapshot = self.inventory.refresh()?;
        self.learn(&snapshot);
        let reading = Reading::from_snapshot(&snapshot);
        let stats_on_now = self.stats_on();
        let stats_valid = stats_on_now && self.stats_since_last;
        let wall = reading.at.saturating_duration_since(self.last.at);
        let rates: BTreeMap<u32, stats::Rate> =
            stats::rates(&self.last, &reading, self.cpus as usize)
                .into_iter()
                .map(|r| (r.id, r))
                .collect();
        let window = self.window.report(
            &self.attributor,
            self.sampler.event(),
            self.sampler.frequency_hz(),
            wall,
            self.cpus,
        );
        let sampled: BTreeMap<u32, (u64, f64)> = window
            .programs
            .iter()
            .map(|p| (p.id, (p.samples, p.cpu_percent)))
            .collect();
        let mode = self.mode();
        let mut programs: Vec<ProgramRow> = snapshot
            .programs
            .iter()
            .map(|p| {
                let mut row = ProgramRow::of(p);
                if stats_on_now {
                    row.run_cnt = Some(p.run_cnt);
                }
                if let Some(r) = rates.get(&p.id)
                    && stats_valid
                    && r.status == RateStatus::Measured
                {
                    row.runs_per_sec = Some(r.runs_per_sec);
                    row.avg_run_ns = r.avg_run_ns;
                    row.cpu_percent_stats = Some(r.cpu_percent);
                }
                match self.attributor.program(p.id) {
                    Some(syms) => {
                        let (n, pct) = sampled.get(&p.id).copied().unwrap_or((0, 0.0));
                        row.samples = n;
                        row.cpu_percent_samples = Some(pct);
                        row.resolution = Some(syms.resolution());
                    }
                    None => row.note = self.notes.get(&p.id).cloned(),
                }
                row.cpu_percent = match mode {
                    Mode::Stats => row.cpu_percent_stats,
                    Mode::Samples => row.cpu_percent_samples,
                };
                row
            })
            .collect();
        sort_by_cpu(&mut programs);
        let table = Table {
            schema_version: SCHEMA_VERSION,
            mode,
            stats_on: stats_valid,
            interval_ms: wall.as_millis() as u64,
            cpus: self.cpus,
            event: self.sampler.event(),
            frequency_hz: self.sampler.frequency_hz(),
            cpu_percent_means: CPU_PERCENT_MEANS,
            samples: IntervalSamples {
                total: window.samples.total,
                lost: window.samples.lost,
                throttled: window.samples.throttled,
            },
            programs,
            appeared: snapshot.appeared.clone(),
            vanished: snapshot.vanished.clone(),
        };
        self.window = Profile::new();
        self.last = reading;
        self.last_programs = snapshot.programs;
        self.stats_since_last = stats_on_now;
        Ok(table)
    }

    /// The programs of the last refresh.
    pub fn programs(&self) -> &[bpf_profile::inventory::Program] {
        &self.last_programs
    }

    /// Where the table's CPU % comes from now.
    pub fn mode(&self) -> Mode {
        if self.stats_on() {
            Mode::Stats
        } else {
            Mode::Samples
        }
    }

    /// True while run-time statistics are on (ours, or kept on by the sysctl).
    pub fn stats_on(&self) -> bool {
        self.stats.is_some() || stats::enabled_by_sysctl()
    }

    /// True while this collector holds statistics on.
    pub fn holds_stats(&self) -> bool {
        self.stats.is_some()
    }

    /// Switches this collector's run-time statistics on or off.
    pub fn set_stats(&mut self, on: bool) -> Result<(), CollectorError> {
        match (on, self.stats.is_some()) {
            (true, false) => {
                self.stats = Some(StatsGuard::enable()?);
                // The interval under way had them off: its figures would be too low.
                self.stats_since_last = false;
            }
            (false, true) => self.stats = None,
            _ => {}
        }
        Ok(())
    }

    /// Profiles `prog_id` in detail from now on (replacing any earlier focus).
    pub fn focus(&mut self, prog_id: u32) {
        self.focus = Some(Focus {
            prog_id,
            profile: Profile::new(),
            since: Instant::now(),
            vanished_at: None,
        });
    }

    /// Stops the detailed profile (a vanished focused program is forgotten now).
    pub fn unfocus(&mut self) {
        if let Some(f) = self.focus.take()
            && f.vanished_at.is_some()
        {
            self.attributor.remove_program(f.prog_id);
        }
    }

    /// The focused program's profile so far.
    pub fn focus_report(&self) -> Option<FocusReport> {
        let f = self.focus.as_ref()?;
        let end = f.vanished_at.unwrap_or_else(Instant::now);
        let mut report = f.profile.report(
            &self.attributor,
            self.sampler.event(),
            self.sampler.frequency_hz(),
            end.saturating_duration_since(f.since),
            self.cpus,
        );
        report.programs.retain(|p| p.id == f.prog_id);
        Some(FocusReport {
            report,
            prog_id: f.prog_id,
            vanished: f.vanished_at.is_some(),
            note: self.notes.get(&f.prog_id).cloned(),
        })
    }

    /// Every program's profile since the collector opened.
    pub fn report(&self) -> ProfileReport {
        self.all.report(
            &self.attributor,
            self.sampler.event(),
            self.sampler.frequency_hz(),
            self.started.elapsed(),
            self.cpus,
        )
    }

    /// Why `prog_id`'s samples cannot be placed, when they cannot.
    pub fn note(&self, prog_id: u32) -> Option<&str> {
        self.notes.get(&prog_id).map(String::as_str)
    }

    /// Why helper names are unknown, when they are.
    pub fn kernel_note(&self) -> Option<&str> {
        self.kernel_note.as_deref()
    }

    /// The sampled event.
    pub fn event(&self) -> Event {
        self.sampler.event()
    }

    /// Samples per second per CPU.
    pub fn frequency_hz(&self) -> u64 {
        self.sampler.frequency_hz()
    }
}

/// Sorts rows by CPU % (highest first; unknown last), ties by id.
pub fn sort_by_cpu(rows: &mut [ProgramRow]) {
    rows.sort_by(|a, b| {
        let key = |r: &ProgramRow| r.cpu_percent.unwrap_or(-1.0);
        key(b).total_cmp(&key(a)).then_with(|| a.id.cmp(&b.id))
    });
}
