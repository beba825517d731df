//! Fixes the kernel accepts: for every fixture that explains a catalogue class, the fix the tool
//! prints is applied to the fixture's source (the printed code, at the printed line, inserted or
//! replacing as printed), the result is compiled as the workspace compiles fixtures, and the
//! kernel must then accept the program. The fixture declares the same fix in its header, from
//! which the build makes its fixed twin (`<fixture>_fixed`), a fixture whose acceptance
//! `fixtures/tests/verdicts.rs` checks too. A class whose fix cannot be written as code must say
//! what the user has to decide.

mod common;

use std::path::Path;
use verifier_explain::explain::Placement;

/// Compiles `source` as the fixtures are compiled (`-O2 -g -target bpf -mcpu=v3`, the maps
/// headers on the include path) and returns the object's bytes, or clang's complaint.
fn compile(name: &str, source: &str) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(format!("{name}.bpf.c"));
    std::fs::write(&path, source).map_err(|e| e.to_string())?;
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bpf-maps/include");
    let clang = bpf_build::Clang::detect()
        .map_err(|e| e.to_string())?
        .include(include)
        .cpu("v3");
    let built = clang
        .compile(&path, dir.path())
        .map_err(|e| format!("{e}"))?;
    std::fs::read(&built.object).map_err(|e| e.to_string())
}

#[test]
fn every_printed_fix_makes_the_kernel_accept_the_program() {
    testkit::privilege::require_bpf();
    let mut proven = Vec::new();
    let mut decided = Vec::new();
    let mut failures = Vec::new();
    let mut missing = Vec::new();
    for (f, id, e) in common::explained_rejections(&mut missing) {
        let fix = &e.fix;
        let Some(patched) = fix.apply(f.source) else {
            // No code: the fix must say what the user has to decide, and say it in the text;
            // and a fixture that declares a fix must get it printed.
            if let Some(declared) = f.fix {
                failures.push(format!(
                    "{} ({id}): the fixture declares a fix ({declared:?}) but the tool prints none: {fix:?}",
                    f.name
                ));
                continue;
            }
            match &fix.decide {
                Some(d) if d.len() > 20 => decided.push(id),
                _ => failures.push(format!(
                    "{} ({id}): the fix has neither code at a line nor a decision: {fix:?}",
                    f.name
                )),
            }
            continue;
        };
        let object = match compile(f.name, &patched) {
            Ok(o) => o,
            Err(why) => {
                failures.push(format!(
                    "{} ({id}): the fixed source does not compile: {why}\n{patched}",
                    f.name
                ));
                continue;
            }
        };
        let outcomes = bpf_load::load_object_as(&object, None, bpf_privileges(f))
            .unwrap_or_else(|e| panic!("{}: {e}", f.name));
        if !outcomes.iter().all(|o| o.accepted()) {
            let why: Vec<String> = outcomes
                .iter()
                .filter_map(|o| match &o.verdict {
                    verifier_explain::Verdict::Rejected { message, .. } => Some(message.clone()),
                    _ => None,
                })
                .collect();
            failures.push(format!(
                "{} ({id}): still rejected with the printed fix applied at line {:?}: {why:?}\n{patched}",
                f.name, fix.line
            ));
            continue;
        }
        // The fixture declares the same fix, and the build made its twin from it.
        let (line, replace, code) = (
            fix.line.unwrap_or(0),
            fix.placement == Placement::ReplaceLine,
            fix.code.as_deref().unwrap_or(""),
        );
        let also: Vec<(u32, bool, &str)> = fix
            .also
            .iter()
            .map(|a| {
                (
                    a.line,
                    a.placement == Placement::ReplaceLine,
                    a.code.as_str(),
                )
            })
            .collect();
        let twin = format!("{}_fixed", f.name);
        match (f.fix, fixtures::get(&twin)) {
            (Some(d), Some(t))
                if (d.line, d.replace, d.code) == (line, replace, code)
                    && d.also
                        .iter()
                        .map(|a| (a.line, a.replace, a.code))
                        .eq(also.iter().copied())
                    && t.verdict == fixtures::Verdict::Accepted =>
            {
                proven.push(id)
            }
            (declared, _) => failures.push(format!(
                "{} ({id}): the fix works; declare it in the fixture's header so that the build \
                 makes the twin `{twin}` (declared now: {declared:?}):\n// fixed: {} {line}\n// fix: {}{}",
                f.name,
                how(replace),
                code.replace('\n', "\n// fix: "),
                also.iter()
                    .map(|(l, r, c)| format!(
                        "\n// also: {} {l}\n// also-fix: {}",
                        how(*r),
                        c.replace('\n', "\n// also-fix: ")
                    ))
                    .collect::<String>()
            )),
        }
    }
    failures.extend(missing);
    assert!(
        failures.is_empty(),
        "{} fix(es) not accepted:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        proven.len() >= 15,
        "only {} classes have a fix the kernel accepts: {proven:?}",
        proven.len()
    );
    eprintln!(
        "fixes accepted by the kernel: {} classes; decisions left to the user: {} classes",
        proven.len(),
        decided.len()
    );
}

/// How a fixture's header names a placement.
fn how(replace: bool) -> &'static str {
    if replace {
        "replace-line"
    } else {
        "insert-before"
    }
}

fn bpf_privileges(f: &fixtures::Fixture) -> bpf_load::Privileges {
    match f.privileges {
        fixtures::Privileges::BpfOnly => bpf_load::Privileges::BpfOnly,
        fixtures::Privileges::Full => bpf_load::Privileges::Current,
    }
}

#[test]
fn a_printed_fix_is_applied_where_it_says() {
    let fix = verifier_explain::explain::Fix {
        summary: "s".into(),
        line: Some(2),
        code: Some("if (!p)\n\treturn 0;".into()),
        placement: verifier_explain::explain::Placement::InsertBefore,
        decide: None,
        also: Vec::new(),
    };
    let src = "int f(int *p)\n{\n\treturn *p;\n}\n";
    assert_eq!(
        fix.apply("a\n\tb\nc\n").as_deref(),
        Some("a\n\tif (!p)\n\t\treturn 0;\n\tb\nc\n")
    );
    let replace = verifier_explain::explain::Fix {
        placement: verifier_explain::explain::Placement::ReplaceLine,
        line: Some(3),
        code: Some("return p ? *p : 0;".into()),
        ..fix.clone()
    };
    assert_eq!(
        replace.apply(src).as_deref(),
        Some("int f(int *p)\n{\n\treturn p ? *p : 0;\n}\n")
    );
    // A further edit on another line goes in with it, each at the line it names.
    let both = verifier_explain::explain::Fix {
        also: vec![verifier_explain::explain::Edit {
            line: 1,
            code: "int f(int *p, int d)".into(),
            placement: verifier_explain::explain::Placement::ReplaceLine,
        }],
        ..replace.clone()
    };
    assert_eq!(
        both.apply(src).as_deref(),
        Some("int f(int *p, int d)\n{\n\treturn p ? *p : 0;\n}\n")
    );
    let clash = verifier_explain::explain::Fix {
        also: vec![verifier_explain::explain::Edit {
            line: 3,
            code: "x".into(),
            placement: verifier_explain::explain::Placement::InsertBefore,
        }],
        ..replace
    };
    assert_eq!(clash.apply(src), None);
    assert_eq!(
        verifier_explain::explain::Fix {
            line: Some(9),
            ..fix.clone()
        }
        .apply(src),
        None
    );
    // Further edits go in at their own (original) lines, whatever the main edit added.
    let two = verifier_explain::explain::Fix {
        line: Some(2),
        code: Some("x = 1;\ny = 2;".into()),
        placement: verifier_explain::explain::Placement::ReplaceLine,
        also: vec![verifier_explain::explain::Edit {
            line: 3,
            code: "z = 3;".into(),
            placement: verifier_explain::explain::Placement::ReplaceLine,
        }],
        ..fix
    };
    assert_eq!(
        two.apply("a\n\tb\n\tc\nd\n").as_deref(),
        Some("a\n\tx = 1;\n\ty = 2;\n\tz = 3;\nd\n")
    );
}
