//! Man pages and shell completions: what each command line's `--generate KIND` prints, in
//! `docs/man/` and `docs/completions/{bash,zsh,fish}/`, named as they are installed
//! (`scripts/install-man-completions` copies them to the standard places).

use cli_generate::Kind;

use crate::output::Generated;
use crate::tools::{BINARIES, Tools};

/// Where a kind of file lives in the repository.
pub fn repo_dir(kind: Kind) -> &'static str {
    match kind {
        Kind::Man => "docs/man",
        Kind::CompleteBash => "docs/completions/bash",
        Kind::CompleteZsh => "docs/completions/zsh",
        Kind::CompleteFish => "docs/completions/fish",
    }
}

/// Every man page and completion script of every binary.
pub fn generate(tools: &Tools) -> anyhow::Result<Vec<Generated>> {
    let mut files = Vec::new();
    for (bin, _) in BINARIES {
        for kind in Kind::ALL {
            let text = tools.run(bin, &["--generate", kind.name()], &[0])?;
            files.push(Generated::exact(
                format!("{}/{}", repo_dir(kind), kind.file_name(bin)),
                text,
            ));
        }
    }
    Ok(files)
}
