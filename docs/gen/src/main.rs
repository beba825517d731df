//! `docgen`: the docs that are made from the code, made again or checked.
//!
//! - the verifier error catalogue, one page per class ([`catalogue`]), listed in the book's
//!   table of contents ([`summary`]);
//! - pictures of every TUI screen ([`screens`]), compared as [`screen_compare`] says;
//! - man pages and shell completions ([`manuals`]).
//!
//! `docgen all` writes them ([`output`]); `docgen check` (CI, through `./scripts/test`) fails
//! naming every file that is stale and the command that makes it again. Both build the
//! command lines first ([`tools`]), so a page never shows an older binary's output.

mod catalogue;
mod manuals;
mod output;
mod screen_compare;
mod screens;
mod summary;
mod tools;
mod top_replay;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Generates the docs made from the code: the verifier error catalogue's pages, pictures of
/// every TUI screen, man pages and shell completions; or checks that the checked-in ones are
/// current.
#[derive(Parser)]
#[command(
    name = "docgen",
    after_help = "Examples:\n  cargo run -p docgen -- all      (or ./scripts/docs-gen)\n  \
cargo run -p docgen -- all --record   (also a new recording of top's profile)\n  \
cargo run -p docgen -- check    (or ./scripts/docs-gen --check; ./scripts/test runs it)\n\n\
Both load fixture programs and sample them: run as root.\n\n\
Exit status: 0 done (check: everything current), 1 check: something is stale, 2 usage error \
or a generation failed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// Generate everything and write it into the checkout
    All {
        /// Record top's profile anew (docs/screens/top-profile.json) instead of drawing the
        /// checked-in recording
        #[arg(long)]
        record: bool,
    },
    /// Generate everything and compare it with the checkout; fail naming each stale file
    Check,
}

/// The repository's root (docgen lives in `docs/gen`).
fn root() -> anyhow::Result<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.join("../..")
        .canonicalize()
        .with_context(|| format!("finding the repository around {}", here.display()))
}

fn run(command: Command) -> anyhow::Result<bool> {
    let root = root()?;
    // Relative paths (a recorded profile's source files) are the repository's.
    std::env::set_current_dir(&root).with_context(|| format!("entering {}", root.display()))?;
    eprintln!("==> building the command lines");
    let tools = tools::Tools::build(&root)?;
    eprintln!("==> man pages and completions");
    let mut files = manuals::generate(&tools)?;
    eprintln!("==> the verifier error catalogue (verifier-explain on every class's fixture)");
    let catalogue = catalogue::generate(&root, &tools)?;
    files.extend(catalogue.files);
    files.extend(summary::generate(&root, &catalogue.summary)?);
    eprintln!("==> pictures of the screens");
    let record = matches!(command, Command::All { record: true });
    files.extend(screens::generate(&tools, &root, record)?);

    let mut problems = Vec::new();
    for id in &catalogue.without_fixture {
        problems.push(format!(
            "docs/catalogue/{id}.md: the class {id} has no fixture: add \
             fixtures/programs/{}.bpf.c with `// explains: {id}` (docs/fixtures.md)",
            id.replace('-', "_")
        ));
    }
    match command {
        Command::All { .. } => {
            let written = output::write_all(&root, &files)?;
            println!(
                "{written} of {} generated files written (the others were current)",
                files.len()
            );
        }
        Command::Check => problems.extend(output::problems(&root, &files)?),
    }
    if problems.is_empty() {
        if command == Command::Check {
            println!("all {} generated files are current", files.len());
        }
        return Ok(true);
    }
    for p in &problems {
        eprintln!("{p}");
    }
    eprintln!(
        "{} problem(s); make the files again with {}",
        problems.len(),
        output::REGENERATE
    );
    Ok(false)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("docgen: {e:#}");
            ExitCode::from(2)
        }
    }
}
