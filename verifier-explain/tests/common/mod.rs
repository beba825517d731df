//! What the tests over the catalogue's fixtures share: each fixture explained for real, as
//! its header says it is loaded.

use verifier_explain::{Explanation, Options, Privileges, VerdictKind, explain_object};

/// How verifier-explain loads a fixture: with CAP_BPF alone for a `bpf-only` one.
pub fn privileges(f: &fixtures::Fixture) -> Privileges {
    match f.privileges {
        fixtures::Privileges::BpfOnly => Privileges::BpfOnly,
        fixtures::Privileges::Full => Privileges::Current,
    }
}

/// The fixtures that explain a class and are rejected, each with its class id and the
/// explanation of its rejected program. A fixture with none is left out and said in `failures`.
pub fn explained_rejections(
    failures: &mut Vec<String>,
) -> impl Iterator<Item = (&'static fixtures::Fixture, &'static str, Explanation)> + '_ {
    fixtures::ALL.iter().filter_map(|f| {
        let (Some(id), fixtures::Verdict::Rejected) = (f.explains, f.verdict) else {
            return None;
        };
        let options = Options {
            program: None,
            privileges: privileges(f),
        };
        let report =
            explain_object(f.object, &options).unwrap_or_else(|e| panic!("{}: {e:#}", f.name));
        let explained = report
            .programs
            .iter()
            .find(|p| p.verdict == VerdictKind::Rejected)
            .and_then(|p| p.explanation())
            .cloned();
        if explained.is_none() {
            failures.push(format!("{}: no program was rejected and explained", f.name));
        }
        Some((f, id, explained?))
    })
}
