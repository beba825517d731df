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

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_profile::symbols::Resolution;

    #[test]
    fn svg_of_the_folded_stacks_and_an_error_for_nothing() {
        let mut report = crate::top::tests::report(7, Resolution::Line);
        let mut svg = Vec::new();
        write_svg(&report, "program 7", &mut svg).unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("<svg") && svg.contains("program 7"));
        assert!(svg.contains("hot.bpf.c:44") && svg.contains("bpf_csum_diff"));
        report.programs.clear();
        let err = write_svg(&report, "program 7", Vec::new()).unwrap_err();
        assert!(err.to_string().contains("no samples in program 7"), "{err}");
    }
}
