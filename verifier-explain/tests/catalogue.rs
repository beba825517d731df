//! Every catalogue class, explained for real: each fixture that declares `// explains: <id>` is
//! loaded into this kernel, and its explanation must carry that ID, the marked source line, the
//! declared variable names and a fix that uses them.

mod common;

use verifier_explain::{Options, VerdictKind, explain_object};

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
    let mut missing = Vec::new();
    for (f, id, e) in common::explained_rejections(&mut missing) {
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
    failures.extend(missing);
    assert!(
        failures.is_empty(),
        "{} fixture(s) badly explained:\n{}",
        failures.len(),
        failures.join("\n")
    );
    covered.sort_unstable();
    covered.dedup();
    assert!(
        covered.len() >= 50,
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

    // The budget is the whole exploration: compared with the full log, counted here
    // independently (one `N: (op) ...` line per processed instruction).
    let in_log = log
        .lines()
        .filter(|l| {
            l.split_once(": (")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count() as u64;
    let budget = e.budget.expect("a complexity rejection has a budget");
    assert!(budget.whole, "{budget:?}");
    assert_eq!(
        budget.counted, in_log,
        "the hot lines count every instruction of the log"
    );
    let processed = budget.processed.expect("the log has its statistics");
    assert!(
        in_log as f64 >= processed as f64 * 0.99,
        "the log holds {in_log} of {processed} processed instructions"
    );
    let shares: f64 = e.hot_lines.iter().map(|h| h.percent).sum();
    assert!(
        shares <= 100.01 && e.hot_lines[0].percent > 10.0,
        "{:?}",
        e.hot_lines
    );

    // The same rejection from a log that holds only its last tenth (a log cut by its buffer):
    // the table says it is partial and how to get the whole, and charges no line more than
    // its share of what the verifier processed.
    let tail_from = log.len() - log.len() / 10;
    let tail_from = tail_from + log[tail_from..].find('\n').map_or(0, |i| i + 1);
    let cut = &log[tail_from..];
    let partial = verifier_explain::explain_log(cut.as_bytes(), None, None).expect("explains");
    let pe = partial.programs[0].explanation().expect("rejected");
    assert_eq!(pe.id, "complexity-limit");
    let pb = pe.budget.expect("a budget");
    assert!(!pb.whole && pb.counted < processed / 5, "{pb:?}");
    assert!(
        pe.notes
            .iter()
            .any(|n| n.contains("budget table is partial") && n.contains("level 2")),
        "{:?}",
        pe.notes
    );
    for h in &pe.hot_lines {
        assert!(
            h.percent <= h.processed as f64 * 100.0 / processed as f64 + 0.01,
            "{h:?} is charged more than its share of {processed}"
        );
    }
}
