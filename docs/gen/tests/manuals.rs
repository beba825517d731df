//! The man pages and completions, used as people use them: each CLI's `--generate man` page
//! renders with man (groff without it) and names every subcommand; its bash completion really
//! completes subcommands in bash; `scripts/install-man-completions` puts the checked-in files
//! where man and the shells look.

use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::binary::Binary;

const BINARIES: [&str; 4] = ["xdpdbg", "switch-ctl", "verifier-explain", "lab"];

fn binary(name: &str) -> Binary {
    let b = Binary::in_target_dir(name);
    assert!(
        b.exists(),
        "{} is not built: cargo build --workspace (cargo test --workspace builds it)",
        b.path().display()
    );
    b
}

fn stdout(b: &Binary, args: &[&str]) -> String {
    let out = b.run(args);
    assert!(
        out.status.success(),
        "{} {args:?}: {out:?}",
        b.path().display()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands `--help` lists (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| *s != "help")
        .map(str::to_string)
        .collect()
}

/// The page as man shows it (plain text), or groff's rendering where man is missing.
fn render(page: &Path) -> String {
    let man = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(page)
        .env("MANWIDTH", "100")
        .output();
    let out = match man {
        Ok(out) => out,
        Err(_) => Command::new("groff")
            .args(["-man", "-Tutf8"])
            .arg(page)
            .output()
            .expect("neither man nor groff can render a man page here: apt-get install man-db"),
    };
    assert!(
        out.status.success(),
        "rendering {}: {out:?}",
        page.display()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("warning") && !stderr.contains("error"),
        "{}: {stderr}",
        page.display()
    );
    // Bold and underline are overstrikes in plain output.
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        plain.push(c);
    }
    plain.replace('\u{2010}', "-")
}

#[test]
fn every_man_page_renders_and_describes_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    for name in BINARIES {
        let b = binary(name);
        let page = dir.path().join(format!("{name}.1"));
        std::fs::write(&page, stdout(&b, &["--generate", "man"])).unwrap();
        let text = render(&page);
        assert!(text.contains("NAME"), "{name}: {text}");
        assert!(text.contains("SYNOPSIS"), "{name}: {text}");
        let subs = subcommands(&stdout(&b, &["--help"]));
        if name != "verifier-explain" {
            assert!(!subs.is_empty(), "{name} --help lists no subcommands");
        }
        for sub in subs {
            assert!(
                text.contains(&format!("{name} {sub}")),
                "the man page of {name} does not describe `{name} {sub}`:\n{text}"
            );
        }
    }
}

/// What bash completes for `words` (the last one being completed) with `script` loaded.
fn complete(script: &Path, bin: &str, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        r#"source {script}
fn=$(complete -p {bin} | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=({line}); COMP_CWORD={cword}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}
"$fn" {bin} "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script = script.display(),
        cword = words.len() - 1,
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("running bash");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            stdout(&binary(name), &["--generate", "complete-bash"]),
        )
        .unwrap();
        path
    };
    let xdpdbg = script("xdpdbg");
    assert_eq!(complete(&xdpdbg, "xdpdbg", &["xdpdbg", "ma"]), ["map"]);
    let mut map = complete(&xdpdbg, "xdpdbg", &["xdpdbg", "map", "d"]);
    map.sort();
    assert_eq!(map, ["delete", "diff", "dump"]);
    assert!(
        complete(&xdpdbg, "xdpdbg", &["xdpdbg", "top", "--st"]).contains(&"--stats".to_string())
    );
    let switch = script("switch-ctl");
    assert_eq!(
        complete(&switch, "switch-ctl", &["switch-ctl", "sta"]),
        ["status"]
    );
    let explain = script("verifier-explain");
    assert!(
        complete(&explain, "verifier-explain", &["verifier-explain", "--bpf"])
            .contains(&"--bpf-only".to_string())
    );
    let lab = script("lab");
    assert_eq!(complete(&lab, "lab", &["lab", "so"]), ["solution"]);
    assert!(complete(&lab, "lab", &["lab", "check", "--"]).contains(&"--json".to_string()));
}

#[test]
fn the_install_script_puts_every_file_where_man_and_the_shells_look() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let prefix = tempfile::tempdir().unwrap();
    let out = Command::new(root.join("scripts/install-man-completions"))
        .arg(prefix.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for name in BINARIES {
        for (installed, checked_in) in [
            (
                format!("share/man/man1/{name}.1"),
                format!("docs/man/{name}.1"),
            ),
            (
                format!("share/bash-completion/completions/{name}"),
                format!("docs/completions/bash/{name}"),
            ),
            (
                format!("share/zsh/site-functions/_{name}"),
                format!("docs/completions/zsh/_{name}"),
            ),
            (
                format!("share/fish/vendor_completions.d/{name}.fish"),
                format!("docs/completions/fish/{name}.fish"),
            ),
        ] {
            let got = std::fs::read(prefix.path().join(&installed))
                .unwrap_or_else(|e| panic!("{installed} was not installed: {e}"));
            assert_eq!(
                got,
                std::fs::read(root.join(&checked_in)).unwrap(),
                "{installed}"
            );
        }
    }
    // man finds the page by name under the prefix.
    if let Ok(man) = Command::new("man")
        .arg("-M")
        .arg(prefix.path().join("share/man"))
        .args(["-w", "xdpdbg"])
        .output()
    {
        assert!(man.status.success(), "{man:?}");
        assert!(String::from_utf8_lossy(&man.stdout).contains("man1/xdpdbg.1"));
    }
    let denied = Command::new(root.join("scripts/install-man-completions"))
        .arg("/proc/not-a-prefix")
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("cannot write to /proc/not-a-prefix"));
}
