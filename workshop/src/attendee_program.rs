//! The attendee's program as the checker sees it first: compiled with clang, then loaded for
//! real with the verifier's log; a rejection comes back explained by verifier-explain.

use std::path::{Path, PathBuf};

use crate::compile::{self, CompileError};
use crate::report::{Findings, Problem};

/// Compiles `dir/source` into `dir/build/` and has the kernel verify program `program`. Returns
/// the object when the verifier accepts the program; otherwise records why in `findings` (the
/// compiler's messages, or verifier-explain's explanation) and returns `None`.
pub fn build_and_verify(
    dir: &Path,
    source: &str,
    program: &str,
    include: &[PathBuf],
    findings: &mut Findings,
) -> anyhow::Result<Option<Vec<u8>>> {
    let src = dir.join(source);
    let object = dir
        .join("build")
        .join(Path::new(source).with_extension("o"));
    match compile::compile(&src, &object, include) {
        Ok(()) => findings.pass(format!("{source} compiles (clang -O2 -g -target bpf)")),
        Err(CompileError::Refused(messages)) => {
            findings.fail(
                Problem::new(format!("{source} does not compile"))
                    .hint("read the first error clang prints: it names the file, line and column")
                    .detail(messages),
            );
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    let bytes = std::fs::read(&object)?;
    let report = verifier_explain::explain_object(&bytes, &verifier_explain::Options::default())
        .map_err(|e| anyhow::anyhow!("loading {}: {e}", object.display()))?;
    let Some(ours) = report.programs.iter().find(|p| p.program == program) else {
        let names: Vec<&str> = report.programs.iter().map(|p| p.program.as_str()).collect();
        findings.fail(
            Problem::new(format!(
                "{source} has no program called `{program}` (it has: {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ))
            .hint(format!(
                "keep the function name `{program}` and its SEC(\"xdp\") line: the checker looks for them"
            )),
        );
        return Ok(None);
    };
    if ours.verdict.kind() != verifier_explain::VerdictKind::Accepted {
        let why = ours
            .explanation()
            .map(|e| e.fix.summary.clone())
            .unwrap_or_default();
        let text = verifier_explain::render::human(&report);
        findings.fail(
            Problem::new(format!("the kernel's verifier still rejects `{program}`"))
                .hint(if why.is_empty() {
                    "read verifier-explain's explanation below: the line marked > is where it stopped".into()
                } else {
                    format!("{why} (verifier-explain's explanation is below; the line marked > is where it stopped)")
                })
                .detail(text),
        );
        return Ok(None);
    }
    findings.pass(format!("the kernel's verifier accepts `{program}`"));
    Ok(Some(bytes))
}
