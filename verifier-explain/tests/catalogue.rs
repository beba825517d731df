//! Every catalogue class, explained for real: each fixture that declares `// explains: <id>` is
//! loaded into this kernel, and its explanation must carry that ID, the marked source line, the
//! declared variable names and a fix that uses them.

use verifier_explain::{Options, Privileges, VerdictKind, explain_object};

fn privileges(f: &fixtures::Fixture) -> Privileges {
    match f.privileges {
        fixtures::Privileges::BpfOnly => Privileges::BpfOnly,
        fixtures::Privileges::Full => Privileges::Current,
    }
}

/// Classes whose fix must be written with the program's variable names.
const FIX_USES_NAMES: &[&str] = &[
    "packet-out-of-bounds",
    "packet-helper-out-of-bounds",
    "null-dereference",
    "null-passed-to-helper",
    "uninitialized-stack-read",
    "helper-size-not-positive",
    "negative-pointer-offset",
    "unbounded-pointer-arithmetic",
];

#[test]
fn every_class_has_a_rejected_fixture_explained_at_its_line_with_its_names() {
    testkit::privilege::require_bpf();
    let mut covered = Vec::new();
    let mut failures = Vec::new();
    for f in fixtures::ALL {
        let Some(id) = f.explains else { continue };
        if f.verdict != fixtures::Verdict::Rejected {
            continue;
        }
        let options = Options {
            program: None,
            privileges: privileges(f),
        };
        let report =
            explain_object(f.object, &options).unwrap_or_else(|e| panic!("{}: {e:#}", f.name));
        let Some(p) = report
            .programs
            .iter()
            .find(|p| p.verdict == VerdictKind::Rejected)
        else {
            failures.push(format!("{}: no program was rejected", f.name));
            continue;
        };
        let e = p.explanation().expect("rejections are explained");
        let mut problems = Vec::new();
        if e.id != id {
            problems.push(format!(
                "id {} (expected {id}); message {:?}",
                e.id, e.message
            ));
        }
        if let Some(line) = f.fault_line {
            let got = e.location.as_ref().map(|l| l.line);
            if got != Some(line) {
                problems.push(format!("line {got:?} (expected {line})"));
            }
            let snippet_ok = e.location.as_ref().is_some_and(|l| {
                l.snippet
                    .iter()
                    .any(|s| s.fault && s.text.contains("<- rejected here"))
            });
            if !snippet_ok {
                problems.push("the snippet does not show the marked line".into());
            }
        }
        let named: Vec<&str> = e
            .operands
            .iter()
            .flat_map(|o| {
                o.variable
                    .iter()
                    .map(|v| v.name.as_str())
                    .chain(o.aliases.iter().map(String::as_str))
                    .chain(o.computed_from.iter().map(String::as_str))
                    .chain(o.points_to.as_deref())
                    .chain(o.argument.as_deref())
            })
            .collect();
        for n in f.names {
            if !named.contains(n) {
                problems.push(format!("variable `{n}` not named (named: {named:?})"));
            }
        }
        let fix_text = format!("{} {}", e.fix.summary, e.fix.code.as_deref().unwrap_or(""));
        if e.fix.summary.is_empty() || e.cause.is_empty() {
            problems.push("empty cause or fix".into());
        }
        // Written with the program's names: a declared name, or a variable the source declares
        // with an initialiser (`int hop = ...`), which is what the index fixes name.
        let declared = |w: &str| {
            w.len() > 1
                && (f.source.contains(&format!(" {w} =")) || f.source.contains(&format!("*{w} =")))
        };
        let uses_names = f.names.iter().any(|n| fix_text.contains(n))
            || fix_text
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(declared);
        if FIX_USES_NAMES.contains(&id) && !f.names.is_empty() && !uses_names {
            problems.push(format!(
                "the fix does not use the program's names: {fix_text}"
            ));
        }
        if problems.is_empty() {
            covered.push(id);
        } else {
            failures.push(format!("{} ({id}): {}", f.name, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) badly explained:\n{}",
        failures.len(),
        failures.join("\n")
    );
    covered.sort_unstable();
    covered.dedup();
    assert!(
        covered.len() >= 30,
        "only {} classes covered: {covered:?}",
        covered.len()
    );
}

#[test]
fn a_complexity_rejection_is_explained_from_its_whole_log() {
    testkit::privilege::require_bpf();
    let f = fixtures::get("complexity_limit").expect("the complexity fixture");
    let report = explain_object(f.object, &Options::default()).expect("loads");
    let p = &report.programs[0];
    assert_eq!(p.verdict, VerdictKind::Rejected);
    let log = p.log().expect("a rejection keeps its log");
    assert!(
        log.starts_with("func#0") || log.starts_with("0: "),
        "the log is whole, from the first instruction: {:?}",
        &log[..80.min(log.len())]
    );
    assert!(log.contains("BPF program is too large"));
    let e = p.explanation().unwrap();
    assert!(
        e.notes.iter().all(|n| !n.contains("only its end was kept")),
        "{:?}",
        e.notes
    );
    // The hot lines count the whole run, not the last megabytes of it.
    let counted: u64 = e.hot_lines.iter().map(|h| h.processed).sum();
    assert!(
        counted > 500_000,
        "hot lines count {counted} of 1M instructions"
    );
    assert!(p.stats().and_then(|s| s.peak_states).is_some_and(|s| s > 0));
}
