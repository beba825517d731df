//! `scripts/workshop-setup`'s command line: `--help` explains the set-up (and its BINDIR and
//! CARGO_TARGET_DIR) without running any of it; an unknown argument is a usage error.

use std::path::Path;
use std::process::Command;

fn setup_script() -> Command {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/workshop-setup"))
}

#[test]
fn help_explains_the_set_up_without_running_it() {
    for flag in ["--help", "-h"] {
        let out = setup_script()
            .arg(flag)
            .output()
            .expect("running workshop-setup");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{flag}: {text}");
        assert!(
            text.starts_with("Usage: ./scripts/workshop-setup"),
            "{flag}: {text}"
        );
        for word in ["BINDIR", "CARGO_TARGET_DIR", "/usr/local/bin", "Examples:"] {
            assert!(
                text.contains(word),
                "{flag} does not mention {word}: {text}"
            );
        }
        // Help only: the set-up's first step prints `==>` lines.
        assert!(!text.contains("==>"), "{flag} ran the set-up: {text}");
    }
}

#[test]
fn an_unknown_argument_is_a_usage_error() {
    let out = setup_script()
        .arg("--frobnicate")
        .output()
        .expect("running workshop-setup");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown argument '--frobnicate'"), "{err}");
    assert!(out.stdout.is_empty());
}
