//! The docs are true: every `run` block of README.md and docs/ runs for real and prints what
//! the page shows, every shell block is marked, every relative link resolves. And the checker
//! fails, with the file and line, on a page that no longer matches.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use doccheck::{Problem, Runner, check_files, markdown_files};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository")
}

/// Runs `cargo build --quiet --locked ARGS` in the workspace (a no-op after `cargo test
/// --workspace`, which builds the binaries and examples the docs run).
fn cargo_build(args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--locked"])
        .args(args)
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build {args:?} failed");
}

/// The directory of the workspace's binaries (and its `examples/`), built now if they are
/// missing or stale.
fn binaries() -> PathBuf {
    cargo_build(&[
        "--bins",
        "-p",
        "xdpdbg",
        "-p",
        "verifier-explain",
        "-p",
        "switch-ctl",
        "-p",
        "workshop",
    ]);
    cargo_build(&["-p", "verifier-explain", "--examples"]);
    let exe = std::env::current_exe().expect("the test's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps")
        .to_owned()
}

/// The problems, one paragraph each, with paths relative to the repository.
fn report(problems: &[Problem]) -> String {
    let root = format!("{}/", repo_root().display());
    problems
        .iter()
        .map(|p| p.to_string().replacen(&root, "", 1))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[test]
fn the_docs_show_what_the_tools_print() {
    testkit::privilege::require_root(
        "the docs' commands build labs and load eBPF programs, as a reader does",
    );
    // A scratch directory where `fixtures` is the repository's: the pages' relative paths work
    // there as they do from the repository's root, and what the commands write goes away.
    // Every fixture's object is there too, as the workspace builds it, for pages (such as the
    // generated catalogue) that explain a fixture without showing its compilation.
    let workdir = tempfile::tempdir().unwrap();
    let fixtures_dir = repo_root().join("fixtures");
    std::os::unix::fs::symlink(fixtures_dir, workdir.path().join("fixtures")).unwrap();
    for f in fixtures::ALL {
        std::fs::write(workdir.path().join(format!("{}.bpf.o", f.name)), f.object).unwrap();
    }
    let binaries = binaries();
    let runner = Runner {
        path: vec![binaries.clone(), binaries.join("examples")],
        workdir: workdir.path().to_owned(),
        timeout: Duration::from_secs(120),
        // DOCCHECK_UPDATE=1 writes the outputs that changed into their pages (review them with
        // git diff); the other problems still fail.
        update: std::env::var_os("DOCCHECK_UPDATE").is_some(),
    };
    let mut files = markdown_files(&repo_root()).unwrap();
    assert!(files.len() > 10, "the docs were found: {files:?}");
    // DOCCHECK_ONLY=switch checks only the pages whose path contains `switch` (while writing
    // one page); CI checks every page.
    if let Ok(only) = std::env::var("DOCCHECK_ONLY") {
        files.retain(|f| f.to_string_lossy().contains(&only));
    }
    let problems = check_files(&files, Some(&runner)).unwrap();
    assert!(
        problems.is_empty(),
        "{} problems in the docs (conventions: docs/conventions.md, \"Tested docs\"):\n\n{}",
        problems.len(),
        report(&problems)
    );
}

fn page(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn runner(dir: &Path) -> Runner {
    Runner {
        path: Vec::new(),
        workdir: dir.to_owned(),
        timeout: Duration::from_secs(10),
        update: false,
    }
}

#[test]
fn every_page_named_in_the_sources_exists() {
    let problems = doccheck::mentions::check(&repo_root()).unwrap();
    assert!(problems.is_empty(), "{}", report(&problems));
}

#[test]
fn a_source_naming_a_page_that_moved_fails_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    page(&dir.path().join("docs"), "here.md", "# Here\n");
    // Spelled in pieces, so that this file names no page itself.
    let (here, gone) = (["docs", "here.md"].join("/"), ["docs", "gone.md"].join("/"));
    page(
        &dir.path().join("src"),
        "lib.rs",
        &format!("//! See {here}.\n//! And {gone} for the rest.\n"),
    );
    let problems = doccheck::mentions::check(dir.path()).unwrap();
    assert_eq!(problems.len(), 1, "{}", report(&problems));
    assert_eq!(problems[0].line, 2);
    assert!(problems[0].message.contains(&gone), "{}", problems[0]);
}

#[test]
fn a_page_whose_output_changed_fails_at_the_line_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let doc = page(
        dir.path(),
        "wrong.md",
        "# A page\n\n<!-- doc: run -->\n```text\n$ printf 'one\\ntwo 42\\n'\none\ntwo {{num}}\n$ echo hello\nhello world\n```\n",
    );
    let problems = check_files(std::slice::from_ref(&doc), Some(&runner(dir.path()))).unwrap();
    assert_eq!(problems.len(), 1, "{}", report(&problems));
    assert_eq!(
        (problems[0].file.clone(), problems[0].line),
        (doc.clone(), 9)
    );
    let text = problems[0].to_string();
    assert!(
        text.starts_with(&format!("{}:9: ", doc.display())),
        "{text}"
    );
    assert!(
        text.contains("page:   hello world") && text.contains("output: hello"),
        "{text}"
    );

    // The same page with the true output passes: the failure above was the output's.
    std::fs::write(
        &doc,
        "# A page\n\n<!-- doc: run -->\n```text\n$ printf 'one\\ntwo 42\\n'\none\ntwo {{num}}\n$ echo hello\nhello\n```\n",
    )
    .unwrap();
    let problems = check_files(std::slice::from_ref(&doc), Some(&runner(dir.path()))).unwrap();
    assert!(problems.is_empty(), "{}", report(&problems));
}

#[test]
fn the_update_mode_writes_the_new_output_into_the_page_keeping_what_still_matches() {
    let dir = tempfile::tempdir().unwrap();
    let doc = page(
        dir.path(),
        "drift.md",
        "# A page\n\n- in a list:\n\n  <!-- doc: run -->\n  ```text\n  $ printf 'pid 42\\nstate: new\\nmore\\n'\n  pid {{num}}\n  state: old\n  $ true\n  $ echo \\\n  > hi\n  ```\n",
    );
    let updating = Runner {
        update: true,
        ..runner(dir.path())
    };
    let problems = check_files(std::slice::from_ref(&doc), Some(&updating)).unwrap();
    assert!(problems.is_empty(), "{}", report(&problems));
    assert_eq!(
        std::fs::read_to_string(&doc).unwrap(),
        "# A page\n\n- in a list:\n\n  <!-- doc: run -->\n  ```text\n  $ printf 'pid 42\\nstate: new\\nmore\\n'\n  pid {{num}}\n  state: new\n  more\n  $ true\n  $ echo \\\n  > hi\n  hi\n  ```\n"
    );
    // The updated page passes a normal check.
    let problems = check_files(std::slice::from_ref(&doc), Some(&runner(dir.path()))).unwrap();
    assert!(problems.is_empty(), "{}", report(&problems));
}

#[test]
fn a_broken_link_or_anchor_fails_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    page(dir.path(), "other.md", "# Other\n\n## The real heading\n");
    let doc = page(
        dir.path(),
        "links.md",
        "# Links\n\n[fine](other.md#the-real-heading), [fine too](#links), [web](https://example.invalid/x)\n\n\
         [gone](missing.md)\n\n| a | b |\n|---|---|\n| [bad anchor](other.md#no-such-heading) | x |\n",
    );
    let problems = check_files(std::slice::from_ref(&doc), None).unwrap();
    let found: Vec<(usize, bool)> = problems
        .iter()
        .map(|p| (p.line, p.message.contains("broken link")))
        .collect();
    assert_eq!(found, vec![(5, true), (9, true)], "{}", report(&problems));
    assert!(
        problems[0].message.contains("missing.md"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].message.contains("#no-such-heading"),
        "{}",
        problems[1]
    );
}

#[test]
fn shell_blocks_must_be_run_or_name_the_command_they_excerpt() {
    let dir = tempfile::tempdir().unwrap();
    let doc = page(
        dir.path(),
        "markers.md",
        "# Markers\n\n```sh\nxdpdbg top\n```\n\n<!-- doc: excerpt of the demo -->\n```text\n$ xdpdbg top\n```\n\n\
         <!-- doc: excerpt of `xdpdbg top`, interactive -->\n```text\n$ xdpdbg top\n```\n\n```text\nnot a command\n```\n",
    );
    let problems = check_files(std::slice::from_ref(&doc), None).unwrap();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 8], "{}", report(&problems));
    assert!(
        problems[0].message.contains("without a marker"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].message.contains("in backticks"),
        "{}",
        problems[1]
    );
}

#[test]
fn a_block_that_copies_a_file_must_stay_equal_to_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("example.rs"),
        "fn main() {\n    println!(\"new\");\n}\n",
    )
    .unwrap();
    let doc = page(
        dir.path(),
        "copy.md",
        "# Copy\n\n<!-- doc: file example.rs -->\n```rust\nfn main() {\n    println!(\"old\");\n}\n```\n",
    );
    let problems = check_files(std::slice::from_ref(&doc), None).unwrap();
    assert_eq!(problems.len(), 1, "{}", report(&problems));
    assert_eq!(problems[0].line, 6, "{}", problems[0]);
    assert!(
        problems[0].message.contains("copy the file again"),
        "{}",
        problems[0]
    );
}

#[test]
fn clean_up_runs_after_a_failing_block() {
    let dir = tempfile::tempdir().unwrap();
    let doc = page(
        dir.path(),
        "cleanup.md",
        "# Clean-up\n\n<!-- doc: run\n     before: touch made-by-before\n     after: rm made-by-before -->\n\
         ```text\n$ ls\nsomething else\n```\n",
    );
    let problems = check_files(std::slice::from_ref(&doc), Some(&runner(dir.path()))).unwrap();
    assert_eq!(problems.len(), 1, "{}", report(&problems));
    assert!(
        problems[0].message.contains("made-by-before"),
        "{}",
        problems[0]
    );
    assert!(!dir.path().join("made-by-before").exists(), "after: ran");
}

#[test]
fn a_failing_block_stops_its_page_but_later_clean_up_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let doc = page(
        dir.path(),
        "story.md",
        "# A story\n\n<!-- doc: run -->\n```text\n$ touch lab-made\n$ echo one\ntwo\n```\n\n\
         <!-- doc: run -->\n```text\n$ touch never-run\n```\n\n\
         <!-- doc: run\n     after: rm lab-made -->\n```text\n$ echo three\nthree\n```\n",
    );
    let problems = check_files(std::slice::from_ref(&doc), Some(&runner(dir.path()))).unwrap();
    assert_eq!(problems.len(), 1, "{}", report(&problems));
    assert_eq!(problems[0].line, 7, "{}", problems[0]);
    assert!(
        !dir.path().join("never-run").exists(),
        "the page stopped at its failure"
    );
    assert!(
        !dir.path().join("lab-made").exists(),
        "the later block's after: ran"
    );
}
