//! Objects are opened as libbpf opens them: whenever `bpftool prog loadall` (libbpf) gets an
//! object to the verifier, `verifier-explain` gets it there too, with the same verdict and the
//! same first error line. Run over every fixture and the objects of `tests/data`; what bpftool itself cannot load here (its
//! libbpf is older than some section names) is skipped with the reason printed.
//!
//! bpftool runs in a private mount namespace with its own bpffs, so nothing stays pinned.

use std::process::Command;

use verifier_explain::{ProgramVerdict, explain_object};

/// What bpftool made of an object.
enum Bpftool {
    /// Every program loaded.
    Accepted,
    /// The verifier rejected `program`; `first_line` is the first line of its error.
    Rejected { program: String, first_line: String },
    /// libbpf gave up before the verifier saw a program; the reason is its words.
    NotVerified(String),
}

/// The program named by libbpf's `prog 'NAME': BPF program load failed` line.
fn failed_program(output: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let rest = l.strip_prefix("libbpf: prog '")?;
        let (name, tail) = rest.split_once("':")?;
        tail.contains("load failed").then(|| name.to_string())
    })
}

fn bpftool(object: &std::path::Path) -> Option<Bpftool> {
    let script = format!(
        "mount -t bpf bpf /sys/fs/bpf && bpftool -d prog loadall '{}' /sys/fs/bpf/x",
        object.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Some(Bpftool::Accepted);
    }
    let (Some(begin), Some(end)) = (
        text.find("-- BEGIN PROG LOAD LOG --"),
        text.find("-- END PROG LOAD LOG --"),
    ) else {
        // libbpf's own words for giving up: its first line that says so.
        let why = text
            .lines()
            .filter(|l| l.starts_with("libbpf:"))
            .find(|l| {
                [
                    "unrecognized",
                    "failed",
                    "error",
                    "invalid",
                    "mismatch",
                    "required",
                ]
                .iter()
                .any(|w| l.contains(w))
            })
            .unwrap_or("no verifier log");
        return Some(Bpftool::NotVerified(why.to_string()));
    };
    let log = &text[begin + "-- BEGIN PROG LOAD LOG --".len()..end];
    let summary = verifier_explain::log::LogSummary::parse_str(log);
    let mut first_line = summary
        .error
        .and_then(|e| e.message.first().cloned())
        .unwrap_or_default();
    // libbpf rewrites the verifier's words about an instruction it poisoned for a failed CO-RE
    // relocation (`fixup_log_failed_core_relo`): `invalid func unknown#195896080` becomes
    // `N: <invalid CO-RE relocation>` and the relocation it could not resolve.
    if first_line.ends_with(": <invalid CO-RE relocation>") {
        first_line = "invalid func unknown#195896080".into();
    }
    Some(Bpftool::Rejected {
        program: failed_program(&text).unwrap_or_default(),
        first_line,
    })
}

#[test]
fn every_fixture_reaches_the_verifier_as_with_bpftool() {
    if Command::new("bpftool").arg("version").output().is_err() {
        eprintln!("SKIPPED: bpftool is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut same, mut skipped, mut differ) = (0, Vec::new(), Vec::new());
    // Every fixture, and the test objects of tests/data (subprograms, no DWARF, big-endian).
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut objects: Vec<(String, Vec<u8>)> = fixtures::ALL
        .iter()
        .map(|f| (f.name.to_string(), f.object.to_vec()))
        .collect();
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "o") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            objects.push((name, std::fs::read(&path).unwrap()));
        }
    }
    for (name, object) in &objects {
        let path = dir
            .path()
            .join(format!("{}.o", name.trim_end_matches(".o")));
        std::fs::write(&path, object).unwrap();
        let Some(theirs) = bpftool(&path) else {
            skipped.push(format!("{name}: bpftool could not run (unshare, mount)"));
            continue;
        };
        if let Bpftool::NotVerified(why) = &theirs {
            skipped.push(format!("{name}: bpftool cannot load it here: {why}"));
            continue;
        }
        let ours = match explain_object(object, &Default::default()) {
            Ok(report) => report,
            Err(e) => {
                differ.push(format!(
                    "{name}: bpftool reaches the verifier, we do not: {e}"
                ));
                continue;
            }
        };
        let outcome = match theirs {
            Bpftool::NotVerified(_) => unreachable!("skipped above"),
            Bpftool::Accepted => {
                let all = ours
                    .programs
                    .iter()
                    .all(|p| matches!(p.verdict, ProgramVerdict::Accepted { .. }));
                all.then_some(())
                    .ok_or_else(|| "bpftool accepts it".to_string())
            }
            Bpftool::Rejected {
                program,
                first_line,
            } => {
                let mine = ours
                    .programs
                    .iter()
                    .find(|p| p.program == program)
                    .and_then(|p| p.explanation())
                    .and_then(|e| e.message.first().cloned());
                (mine.as_deref() == Some(first_line.as_str()))
                    .then_some(())
                    .ok_or_else(|| {
                        format!("bpftool rejects `{program}` with `{first_line}`, we say {mine:?}")
                    })
            }
        };
        match outcome {
            Ok(()) => same += 1,
            Err(why) => differ.push(format!("{name}: {why}")),
        }
    }
    // Straight to stderr, past the test harness's capture: a skip is never silent.
    let mut report = String::new();
    for s in &skipped {
        report += &format!("SKIPPED {s}\n");
    }
    report += &format!(
        "{same} objects agree with bpftool, {} differ, {} skipped\n",
        differ.len(),
        skipped.len()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), report.as_bytes());
    assert!(differ.is_empty(), "{differ:#?}");
    assert!(same > 0);
}
