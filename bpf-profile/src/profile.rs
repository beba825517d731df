//! Aggregating charged samples into a profile: per program, per subprogram, per source line,
//! per helper, with percentages, in a stable serializable form.
//!
//! # The JSON schema (`schema_version` 1)
//! [`ProfileReport`] serializes (with serde) to:
//!
//! ```text
//! {
//!   "schema_version": 1,
//!   "event": "cycles" | "cpu-clock",
//!   "frequency_hz": 999,            // asked for, per CPU
//!   "duration_ms": 2000,            // wall-clock time sampled
//!   "cpus": 2,                      // CPUs sampled
//!   "samples": {
//!     "total": 3996,                // every sample read, in programs or not
//!     "in_programs": 1990,          // charged to a known program (own code or helpers)
//!     "elsewhere": 2006,            // kernel time outside every known program (idle included)
//!     "lost": 0,                    // records the kernel dropped: rings were full
//!     "throttled": 0                // times the kernel throttled the event (rate lowered)
//!   },
//!   "programs": [{                  // by samples, most first; ties by id
//!     "id": 42, "name": "hot_spot", "tag": "…",
//!     "resolution": "line" | "function" | "program",
//!     "samples": 1990,              // own code + helpers it called
//!     "self_samples": 1500,         // own code only
//!     "percent": 49.8,              // of samples.total
//!     "cpu_percent": 49.8,          // estimate: samples / (frequency × duration × cpus) × 100
//!     "functions": [{               // by samples, most first; ties by name
//!       "name": "hot_spot", "samples": 1980, "self_samples": 1490,
//!       "percent": 99.5,            // of the program's samples
//!       "lines": [{                 // per source line, most samples first; ties by file, line
//!         "file": "…/hot_spot.bpf.c", "line": 47, "text": "acc += …",
//!         "samples": 900, "self_samples": 400,
//!         "percent": 45.2,          // of the program's samples
//!         "helpers": [{ "name": "bpf_csum_diff", "samples": 500, "percent": 25.1 }]
//!       }],
//!       "unplaced_samples": 0       // samples in the function before its first line record
//!     }],
//!     "helpers": [{ "name": "bpf_csum_diff", "samples": 500, "percent": 25.1 }]
//!   }]
//! }
//! ```
//!
//! A source line gathers every line record of that line (records differ by column; the
//! column of an address is in [`crate::symbols`]). Every percentage inside a program is of
//! that program's samples; the program's own
//! `percent` is of all samples. `cpu_percent` treats each sample as `1 / frequency` seconds
//! of CPU: exact in expectation for `cpu-clock`, approximate for `cycles` (the kernel adapts
//! the period to reach the frequency on a busy CPU). Fields are only ever added in later
//! versions of the same `schema_version`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::attribute::{Attributor, Charge};
use crate::sampler::{Event, Record};
use crate::symbols::Resolution;

/// The schema version [`ProfileReport`] serializes as.
pub const SCHEMA_VERSION: u32 = 1;

/// Counts of charged samples, built record by record.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    counts: HashMap<Charge, u64>,
    total: u64,
    lost: u64,
    throttled: u64,
}

/// Sample totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleCounts {
    /// Every sample read.
    pub total: u64,
    /// Samples charged to a known program.
    pub in_programs: u64,
    /// Samples elsewhere in the kernel (samples of a program the attributor no longer knows
    /// count here too, so `in_programs + elsewhere == total`).
    pub elsewhere: u64,
    /// Records the kernel dropped because a ring was full.
    pub lost: u64,
    /// How many times the kernel throttled the event.
    pub throttled: u64,
}

/// A whole profile, ready to print or serialize (see the module docs for the schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The sampled event.
    pub event: Event,
    /// Samples per second per CPU asked for.
    pub frequency_hz: u64,
    /// Wall-clock time sampled, in milliseconds.
    pub duration_ms: u64,
    /// How many CPUs were sampled.
    pub cpus: u32,
    /// Totals.
    pub samples: SampleCounts,
    /// Per program, most samples first.
    pub programs: Vec<ProgramProfile>,
}

/// One program's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramProfile {
    /// The program's id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Its tag.
    pub tag: String,
    /// How precisely samples could be placed.
    pub resolution: Resolution,
    /// Samples in its code and in the helpers it called.
    pub samples: u64,
    /// Samples in its own code.
    pub self_samples: u64,
    /// Of all samples, in percent.
    pub percent: f64,
    /// Estimated share of the sampled CPUs' time, in percent.
    pub cpu_percent: f64,
    /// Per subprogram, most samples first.
    pub functions: Vec<FunctionProfile>,
    /// Per helper or kfunc called, most samples first.
    pub helpers: Vec<HelperProfile>,
}

/// One subprogram's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionProfile {
    /// Its name.
    pub name: String,
    /// Samples in it and in the helpers it called.
    pub samples: u64,
    /// Samples in its own code.
    pub self_samples: u64,
    /// Of the program's samples, in percent.
    pub percent: f64,
    /// Per source line, most samples first (empty below line resolution).
    pub lines: Vec<LineProfile>,
    /// Samples that fell before the function's first line record (or in a function without
    /// line records).
    pub unplaced_samples: u64,
}

/// One source line's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineProfile {
    /// The source file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The source text, from BTF.
    pub text: String,
    /// Samples on the line and in the helpers it called.
    pub samples: u64,
    /// Samples in the line's own code.
    pub self_samples: u64,
    /// Of the program's samples, in percent.
    pub percent: f64,
    /// Helpers called from the line, most samples first.
    pub helpers: Vec<HelperProfile>,
}

/// Time inside one helper or kfunc.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelperProfile {
    /// Its kernel symbol name.
    pub name: String,
    /// Samples inside it.
    pub samples: u64,
    /// Of the program's samples, in percent.
    pub percent: f64,
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record: a sample is charged with `attributor`, lost and throttle records are
    /// counted.
    pub fn record(&mut self, record: &Record, attributor: &Attributor) {
        match record {
            Record::Sample(sample) => self.add(attributor.charge(sample)),
            Record::Lost { count, .. } => self.lost += count,
            Record::Throttle {
                throttled: true, ..
            } => self.throttled += 1,
            Record::Throttle { .. } => {}
        }
    }

    /// Samples charged so far to one program (own code and helpers).
    pub fn program_samples(&self, prog_id: u32) -> u64 {
        self.counts
            .iter()
            .filter(|(c, _)| matches!(c, Charge::Program { prog_id: p, .. } if *p == prog_id))
            .map(|(_, n)| n)
            .sum()
    }

    /// Samples read so far.
    pub fn total_samples(&self) -> u64 {
        self.total
    }

    /// Adds one charged sample.
    pub fn add(&mut self, charge: Charge) {
        self.total += 1;
        *self.counts.entry(charge).or_default() += 1;
    }

    /// The profile as a report, with names, lines and helpers from `attributor`'s programs.
    pub fn report(
        &self,
        attributor: &Attributor,
        event: Event,
        frequency_hz: u64,
        duration: Duration,
        cpus: u32,
    ) -> ProfileReport {
        let pct = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                100.0 * part as f64 / whole as f64
            }
        };
        // prog -> function -> line (None: unplaced) -> helper (None: self) -> count
        type Lines = BTreeMap<Option<usize>, BTreeMap<Option<String>, u64>>;
        let mut tree: BTreeMap<u32, BTreeMap<usize, Lines>> = BTreeMap::new();
        for (charge, &n) in &self.counts {
            match charge {
                Charge::Elsewhere => {}
                Charge::Program {
                    prog_id,
                    function,
                    line,
                    helper,
                } => {
                    *tree
                        .entry(*prog_id)
                        .or_default()
                        .entry(*function)
                        .or_default()
                        .entry(*line)
                        .or_default()
                        .entry(helper.clone())
                        .or_default() += n;
                }
            }
        }
        let possible = frequency_hz as f64 * duration.as_secs_f64() * f64::from(cpus.max(1));
        let mut programs: Vec<ProgramProfile> = tree
            .into_iter()
            .filter_map(|(prog_id, functions)| {
                let syms = attributor.program(prog_id)?;
                let sum = |h: &BTreeMap<Option<String>, u64>| h.values().sum::<u64>();
                let self_of =
                    |h: &BTreeMap<Option<String>, u64>| h.get(&None).copied().unwrap_or(0);
                let samples: u64 = functions.values().flat_map(|l| l.values()).map(sum).sum();
                let self_samples: u64 = functions
                    .values()
                    .flat_map(|l| l.values())
                    .map(self_of)
                    .sum();
                let mut helpers: HashMap<String, u64> = HashMap::new();
                let mut fprofiles: Vec<FunctionProfile> = functions
                    .iter()
                    .map(|(&f, lines)| {
                        // Line records of the same source line merge; helpers are summed
                        // per program on the way.
                        type Merged<'s> =
                            BTreeMap<(&'s str, u32), (&'s str, BTreeMap<Option<String>, u64>)>;
                        let mut merged: Merged<'_> = BTreeMap::new();
                        for (line, hs) in lines {
                            for (name, &n) in hs {
                                if let Some(name) = name {
                                    *helpers.entry(name.clone()).or_default() += n;
                                }
                            }
                            let Some(src) = line.and_then(|k| syms.lines().get(k)) else {
                                continue;
                            };
                            let entry = merged
                                .entry((src.file.as_str(), src.line))
                                .or_insert_with(|| (src.text.as_str(), BTreeMap::new()));
                            for (name, &n) in hs {
                                *entry.1.entry(name.clone()).or_default() += n;
                            }
                        }
                        let mut lprofiles: Vec<LineProfile> = merged
                            .into_iter()
                            .map(|((file, line), (text, hs))| LineProfile {
                                file: file.to_string(),
                                line,
                                text: text.to_string(),
                                samples: sum(&hs),
                                self_samples: self_of(&hs),
                                percent: pct(sum(&hs), samples),
                                helpers: helper_list(
                                    hs.iter().filter_map(|(k, &v)| Some((k.clone()?, v))),
                                    samples,
                                ),
                            })
                            .collect();
                        lprofiles.sort_by(|a, b| {
                            b.samples
                                .cmp(&a.samples)
                                .then_with(|| (&a.file, a.line).cmp(&(&b.file, b.line)))
                        });
                        let fsamples: u64 = lines.values().map(sum).sum();
                        FunctionProfile {
                            name: syms
                                .functions()
                                .get(f)
                                .map_or_else(|| format!("subprog#{f}"), |func| func.name.clone()),
                            samples: fsamples,
                            self_samples: lines.values().map(self_of).sum(),
                            percent: pct(fsamples, samples),
                            unplaced_samples: lines.get(&None).map(sum).unwrap_or(0),
                            lines: lprofiles,
                        }
                    })
                    .collect();
                fprofiles
                    .sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
                Some(ProgramProfile {
                    id: prog_id,
                    name: syms.prog_name.clone(),
                    tag: syms.tag.clone(),
                    resolution: syms.resolution(),
                    samples,
                    self_samples,
                    percent: pct(samples, self.total),
                    cpu_percent: if possible > 0.0 {
                        100.0 * samples as f64 / possible
                    } else {
                        0.0
                    },
                    functions: fprofiles,
                    helpers: helper_list(helpers, samples),
                })
            })
            .collect();
        programs.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.id.cmp(&b.id)));
        let in_programs = programs.iter().map(|p| p.samples).sum();
        ProfileReport {
            schema_version: SCHEMA_VERSION,
            event,
            frequency_hz,
            duration_ms: duration.as_millis() as u64,
            cpus,
            samples: SampleCounts {
                total: self.total,
                in_programs,
                elsewhere: self.total - in_programs,
                lost: self.lost,
                throttled: self.throttled,
            },
            programs,
        }
    }
}

impl ProfileReport {
    /// The profile in the folded-stack format flame-graph tools read: one line per
    /// `program;function;file:line;helper` path with its sample count.
    pub fn folded(&self) -> String {
        let mut out = String::new();
        for p in &self.programs {
            for f in &p.functions {
                let stem = format!("{};{}", p.name, f.name);
                if f.unplaced_samples > 0 {
                    out.push_str(&format!("{stem} {}\n", f.unplaced_samples));
                }
                for l in &f.lines {
                    let line = format!(
                        "{stem};{}:{}",
                        l.file.rsplit('/').next().unwrap_or(&l.file),
                        l.line
                    );
                    if l.self_samples > 0 {
                        out.push_str(&format!("{line} {}\n", l.self_samples));
                    }
                    for h in &l.helpers {
                        out.push_str(&format!("{line};{} {}\n", h.name, h.samples));
                    }
                }
            }
        }
        out
    }
}

fn helper_list(helpers: impl IntoIterator<Item = (String, u64)>, of: u64) -> Vec<HelperProfile> {
    let mut list: Vec<HelperProfile> = helpers
        .into_iter()
        .map(|(name, samples)| HelperProfile {
            name,
            samples,
            percent: if of == 0 {
                0.0
            } else {
                100.0 * samples as f64 / of as f64
            },
        })
        .collect();
    list.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::tests::attributor;

    #[test]
    fn per_program_function_line_and_helper() {
        let a = attributor();
        let mut p = Profile::new();
        let at = |line, helper: Option<&str>| Charge::Program {
            prog_id: 5,
            function: 0,
            line,
            helper: helper.map(String::from),
        };
        for _ in 0..6 {
            p.add(at(Some(1), Some("some_helper")));
        }
        for _ in 0..2 {
            p.add(at(Some(1), None));
        }
        p.add(at(Some(0), None));
        p.add(at(None, None));
        for _ in 0..10 {
            p.add(Charge::Elsewhere);
        }
        p.record(&Record::Lost { cpu: 0, count: 3 }, &a);
        p.record(
            &Record::Throttle {
                cpu: 1,
                throttled: true,
            },
            &a,
        );
        assert_eq!(p.program_samples(5), 10);
        let r = p.report(&a, Event::CpuClock, 1000, Duration::from_secs(1), 2);
        assert_eq!(r.schema_version, SCHEMA_VERSION);
        assert_eq!(
            r.samples,
            SampleCounts {
                total: 20,
                in_programs: 10,
                elsewhere: 10,
                lost: 3,
                throttled: 1
            }
        );
        let prog = &r.programs[0];
        assert_eq!(
            (prog.samples, prog.self_samples, prog.percent),
            (10, 4, 50.0)
        );
        assert!(
            (prog.cpu_percent - 0.5).abs() < 1e-9,
            "10 of 2000 possible samples"
        );
        let f = &prog.functions[0];
        assert_eq!((f.samples, f.unplaced_samples), (10, 1));
        let top = &f.lines[0];
        assert_eq!(
            (top.line, top.text.as_str(), top.samples, top.self_samples),
            (11, "call();", 8, 2)
        );
        assert_eq!(top.percent, 80.0);
        assert_eq!(top.helpers[0].name, "some_helper");
        assert_eq!(top.helpers[0].percent, 60.0);
        assert_eq!(prog.helpers[0].samples, 6);
        let folded = r.folded();
        assert!(folded.contains("p;p;p.c:11;some_helper 6\n"), "{folded}");
        assert!(folded.contains("p;p;p.c:11 2\n"), "{folded}");
        // The schema round-trips.
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"event\":\"cpu-clock\""));
        let back: ProfileReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
