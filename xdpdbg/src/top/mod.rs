//! What `xdpdbg top` measures, for its screen and for its headless outputs alike.
//!
//! - [`collector`]: one [`collector::Collector`] samples every CPU, walks the programs on a
//!   refresh period, keeps run-time statistics on while asked to, and turns both into a
//!   [`table::Table`] (one row per program) and [`bpf_profile::profile::ProfileReport`]s;
//! - [`table`]: the table's rows and their JSON form (`--once --json`), with the attach points
//!   and owners written out;
//! - [`source`]: a program's source file read from disk, when its path exists here;
//! - [`exposition`]: the table and a profile in the Prometheus text format (`--prometheus`);
//! - [`flame`]: a profile as a flame-graph SVG (`--flamegraph`).

pub mod collector;
pub mod exposition;
pub mod flame;
pub mod source;
pub mod table;

/// Reports made by hand, for the tests of the screen and of the outputs.
#[cfg(test)]
pub mod tests {
    use bpf_profile::profile::{
        FunctionProfile, HelperProfile, LineProfile, ProfileReport, ProgramProfile, SampleCounts,
    };
    use bpf_profile::sampler::Event;
    use bpf_profile::symbols::Resolution;

    /// A report of program `id` (`hot_spot`, 100 samples): line 44 has 97 samples, 60 of them
    /// inside `bpf_csum_diff`; line 50 has 3. Below line resolution it has no lines.
    pub fn report(id: u32, resolution: Resolution) -> ProfileReport {
        let helper = |samples| HelperProfile {
            name: "bpf_csum_diff".into(),
            samples,
            percent: samples as f64,
        };
        let line = |n: u32, samples: u64, helpers: Vec<HelperProfile>| LineProfile {
            file: "/nowhere/hot.bpf.c".into(),
            line: n,
            text: format!("text of line {n}"),
            samples,
            self_samples: samples - helpers.iter().map(|h| h.samples).sum::<u64>(),
            percent: samples as f64,
            helpers,
        };
        let lines = if resolution == Resolution::Line {
            vec![line(44, 97, vec![helper(60)]), line(50, 3, Vec::new())]
        } else {
            Vec::new()
        };
        ProfileReport {
            schema_version: 1,
            event: Event::CpuClock,
            frequency_hz: 999,
            duration_ms: 1000,
            cpus: 2,
            samples: SampleCounts {
                total: 200,
                in_programs: 100,
                elsewhere: 100,
                lost: 0,
                throttled: 0,
            },
            programs: vec![ProgramProfile {
                id,
                name: "hot_spot".into(),
                tag: "00".into(),
                resolution,
                samples: 100,
                self_samples: 40,
                percent: 50.0,
                cpu_percent: 5.0,
                functions: vec![FunctionProfile {
                    name: "hot_spot".into(),
                    samples: 100,
                    self_samples: 40,
                    percent: 100.0,
                    unplaced_samples: if lines.is_empty() { 100 } else { 0 },
                    lines,
                }],
                helpers: vec![helper(60)],
            }],
        }
    }
}
