//! A profile as a flame graph: the folded stacks `program;subprogram;file:line;helper` of a
//! [`ProfileReport`] drawn as an SVG by the `inferno` crate.

use std::io::Write;

use bpf_profile::profile::ProfileReport;

/// Why the flame graph could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum FlameError {
    /// No sample fell in the programs asked for: a flame graph of nothing.
    #[error(
        "no samples in {0}: nothing to draw (was the program running? sample for longer with \
         --duration)"
    )]
    Empty(String),
    /// inferno failed, or the file could not be written.
    #[error("drawing the flame graph: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the flame graph of `report` to `out`, titled `title`.
pub fn write_svg(report: &ProfileReport, title: &str, out: impl Write) -> Result<(), FlameError> {
    let folded = report.folded();
    if folded.is_empty() {
        return Err(FlameError::Empty(title.to_string()));
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.count_name = format!("samples ({} Hz per CPU)", report.frequency_hz);
    options.subtitle = Some(format!(
        "{} event, {} ms, {} CPUs: program; subprogram; file:line; helper",
        report.event.name(),
        report.duration_ms,
        report.cpus
    ));
    inferno::flamegraph::from_lines(&mut options, folded.lines(), out)?;
    Ok(())
}
