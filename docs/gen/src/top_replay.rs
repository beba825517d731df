//! top's profile view drawn from a recorded profile.
//!
//! Samples land differently on every run: which lines are hot, in what order, whether a
//! rarely hit line or the kernel's return thunk shows up at all. So the profile picture is not
//! taken live: `docgen all` (the first time, or with `--record`) records a real profile
//! (`xdpdbg top --prog ID --duration 3s --json` while `hot_spot` runs) into
//! `docs/screens/top-profile.json`, with the source paths made relative to the repository,
//! and the picture is drawn from that recording by top's own
//! screen, headless. `docgen check` draws it again from the checked-in recording and compares
//! the picture byte for byte: a deterministic data source for a non-deterministic screen.

use std::path::Path;

use anyhow::Context as _;
use bpf_profile::profile::ProfileReport;
use xdpdbg::top::collector::FocusReport;
use xdpdbg::top::table::{CPU_PERCENT_MEANS, IntervalSamples, Mode, SCHEMA_VERSION, Table};
use xdpdbg::tui::kit::Headless;
use xdpdbg::tui::top::data::{Setup, Source};
use xdpdbg::tui::top::{self, TopOptions};

/// A recorded profile, played back as top's [`Source`].
struct Replay {
    report: ProfileReport,
    prog_id: u32,
}

impl Source for Replay {
    fn drain(&mut self) {}

    fn refresh(&mut self) -> Result<Table, String> {
        Ok(Table {
            schema_version: SCHEMA_VERSION,
            mode: Mode::Samples,
            stats_on: false,
            interval_ms: self.report.duration_ms,
            cpus: self.report.cpus,
            event: self.report.event,
            frequency_hz: self.report.frequency_hz,
            cpu_percent_means: CPU_PERCENT_MEANS,
            samples: IntervalSamples::default(),
            programs: Vec::new(),
            appeared: Vec::new(),
            vanished: Vec::new(),
        })
    }

    fn set_stats(&mut self, _on: bool) -> Result<(), String> {
        Err("a recorded profile has no run-time statistics".into())
    }

    fn holds_stats(&self) -> bool {
        false
    }

    fn focus(&mut self, _prog_id: u32) {}

    fn unfocus(&mut self) {}

    fn focus_report(&self) -> Option<FocusReport> {
        Some(FocusReport {
            report: self.report.clone(),
            prog_id: self.prog_id,
            vanished: false,
            note: None,
        })
    }

    fn setup(&self) -> Setup {
        Setup {
            event: self.report.event.name().to_string(),
            frequency_hz: self.report.frequency_hz,
            kernel_note: None,
        }
    }
}

/// A profile as `xdpdbg top --duration --json` printed it, made a recording: the checkout's
/// path (`root`) taken out of source paths, so they read `fixtures/programs/...`.
pub fn recording(json: &str, root: &Path) -> anyhow::Result<String> {
    let relative = json.replace(&format!("\"{}/", root.display()), "\"");
    let report: ProfileReport =
        serde_json::from_str(&relative).context("reading the profile xdpdbg top printed")?;
    if report.programs.is_empty() {
        anyhow::bail!("the recorded profile has no program in it (no samples landed)");
    }
    Ok(serde_json::to_string_pretty(&report)? + "\n")
}

/// Whether `recording` still reads as a profile with a program in it.
pub fn readable(recording: &str) -> bool {
    serde_json::from_str::<ProfileReport>(recording).is_ok_and(|r| !r.programs.is_empty())
}

/// Draws the profile view of `recording` (run from the repository's root, so relative
/// source paths are found) into the SVG file `svg`, `width` × `height`.
pub fn draw(recording: &str, svg: &Path, frames: &Path, size: (u16, u16)) -> anyhow::Result<()> {
    let report: ProfileReport =
        serde_json::from_str(recording).context("reading the recorded profile")?;
    let program = report
        .programs
        .first()
        .context("the recorded profile has no program")?;
    let open = (program.id, program.name.clone());
    let replay = Replay {
        prog_id: program.id,
        report: report.clone(),
    };
    top::run(
        replay,
        TopOptions {
            interval_ms: 1000,
            open: Some(open),
            headless: Some(Headless {
                keys: Vec::new(),
                width: size.0,
                height: size.1,
                frames_out: Some(frames.to_path_buf()),
                screenshot: Some(svg.to_path_buf()),
            }),
        },
    )
}
