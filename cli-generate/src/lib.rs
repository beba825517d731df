//! Man pages and shell completions generated from a command line's clap definition.
//!
//! Every command line of the workspace (`xdpdbg`, `switch-ctl`, `verifier-explain`, `lab`) flattens
//! [`GenerateArg`] in, a `--generate KIND` as ripgrep's `rg --generate`, and prints with
//! [`generate`] its own man page or completion script, so generation stays next to the
//! definition:
//!
//! ```text
//! xdpdbg --generate man > xdpdbg.1
//! xdpdbg --generate complete-bash > xdpdbg
//! ```
//!
//! `docs/gen` (`./scripts/docs-gen`) writes every one of them into `docs/man/` and
//! `docs/completions/`; `./scripts/install-man-completions [PREFIX]` installs those where man
//! and the shells look ([`Kind::install_dir`], [`Kind::file_name`]).

use std::io::{self, Write};
use std::process::ExitCode;

use clap_complete::Shell;

mod man;

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The man page (roff, section 1).
    Man,
    /// The bash completion script.
    CompleteBash,
    /// The zsh completion function.
    CompleteZsh,
    /// The fish completion script.
    CompleteFish,
}

impl Kind {
    /// Every kind, in the order documentation lists them.
    pub const ALL: [Kind; 4] = [
        Kind::Man,
        Kind::CompleteBash,
        Kind::CompleteZsh,
        Kind::CompleteFish,
    ];

    /// The kind's name on the command line (`man`, `complete-bash`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Man => "man",
            Kind::CompleteBash => "complete-bash",
            Kind::CompleteZsh => "complete-zsh",
            Kind::CompleteFish => "complete-fish",
        }
    }

    /// The name the file is installed under for binary `bin`, as man and each shell look it
    /// up: `bin.1`, `bin` (bash-completion loads completions by command name), `_bin` (zsh's
    /// `fpath`), `bin.fish`.
    pub fn file_name(self, bin: &str) -> String {
        match self {
            Kind::Man => format!("{bin}.1"),
            Kind::CompleteBash => bin.to_string(),
            Kind::CompleteZsh => format!("_{bin}"),
            Kind::CompleteFish => format!("{bin}.fish"),
        }
    }

    /// The directory under an installation prefix (`/usr/local`) where man or the shell finds
    /// the file: `share/man/man1`, `share/bash-completion/completions`,
    /// `share/zsh/site-functions`, `share/fish/vendor_completions.d`.
    pub fn install_dir(self) -> &'static str {
        match self {
            Kind::Man => "share/man/man1",
            Kind::CompleteBash => "share/bash-completion/completions",
            Kind::CompleteZsh => "share/zsh/site-functions",
            Kind::CompleteFish => "share/fish/vendor_completions.d",
        }
    }
}

/// `--generate KIND`, for a command line to flatten into its top-level arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GenerateArg {
    /// Print this command's man page (man) or a shell's completion script (complete-bash,
    /// complete-zsh, complete-fish) and exit
    #[arg(long, value_name = "KIND")]
    pub generate: Option<Kind>,
}

/// Writes `command`'s man page or completion script, as `kind` asks, to `out`.
pub fn generate(kind: Kind, mut command: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let bin = command.get_name().to_string();
    let shell = match kind {
        Kind::Man => return man::write(command, out),
        Kind::CompleteBash => Shell::Bash,
        Kind::CompleteZsh => Shell::Zsh,
        Kind::CompleteFish => Shell::Fish,
    };
    clap_complete::generate(shell, &mut command, bin, out);
    Ok(())
}

/// [`generate`] to standard output (what `--generate` does).
pub fn print(kind: Kind, command: clap::Command) -> io::Result<()> {
    let mut out = io::stdout().lock();
    generate(kind, command, &mut out)?;
    out.flush()
}

/// What a command line does with `--generate` when it was given instead of a subcommand:
/// prints what `arg` asks for (exit 0), or, without `--generate`, the help (exit 2, a usage
/// error); a failed write is reported on stderr (exit 1).
pub fn run(arg: &GenerateArg, mut command: clap::Command) -> ExitCode {
    let Some(kind) = arg.generate else {
        let _ = command.print_help();
        return ExitCode::from(2);
    };
    let bin = command.get_name().to_string();
    match print(kind, command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{bin}: cannot write the {}: {e}", kind.name());
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> clap::Command {
        clap::Command::new("demo")
            .about("A demo")
            .subcommand(clap::Command::new("start").about("Start it"))
            .subcommand(clap::Command::new("stop").about("Stop it"))
    }

    fn text(kind: Kind) -> String {
        let mut out = Vec::new();
        generate(kind, demo(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_man_page_describes_every_subcommand_in_one_page() {
        let man = text(Kind::Man);
        assert!(man.contains(".TH demo 1"), "{man}");
        assert!(man.contains(".SS \"demo start\"\nStart it\n"), "{man}");
        assert!(man.contains(".SS \"demo stop\"\nStop it\n"), "{man}");
        assert!(
            !man.contains("demo\\-start(1)"),
            "no page per subcommand: {man}"
        );
    }

    #[test]
    fn each_shell_gets_its_own_script() {
        assert!(text(Kind::CompleteBash).contains("complete -F _demo"));
        assert!(text(Kind::CompleteZsh).starts_with("#compdef demo"));
        assert!(text(Kind::CompleteFish).contains("complete -c demo"));
    }

    #[test]
    fn names_match_the_command_line() {
        use clap::ValueEnum as _;
        for kind in Kind::ALL {
            let value = kind.to_possible_value().unwrap();
            assert_eq!(value.get_name(), kind.name());
        }
        assert_eq!(Kind::CompleteZsh.file_name("xdpdbg"), "_xdpdbg");
    }
}
