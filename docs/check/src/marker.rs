//! The marker before a shell block: `<!-- doc: run -->` or ``<!-- doc: excerpt of `CMD` -->``.

/// What a marker says about the block after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// CI runs the block and compares its output.
    Run {
        /// Commands run before the block (set-up, such as building a lab); each must succeed.
        before: Vec<String>,
        /// Commands run after the block on every path (clean-up); their output is ignored.
        after: Vec<String>,
    },
    /// The block is a copy of a file of the repository (an example program CI builds), and
    /// must stay equal to it.
    File {
        /// The file, relative to the page's directory.
        path: String,
    },
    /// The block is not run: it shows what the named command printed once.
    Excerpt {
        /// The marker's text after `excerpt`, naming the command in backticks.
        of: String,
    },
}

/// A marker that does not say what the conventions ask for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MarkerError {
    /// The 1-based line the marker starts on.
    pub line: usize,
    /// What is wrong, and what to write instead.
    pub message: String,
}

/// Parses a marker's body (the comment's text after `doc:`) starting on `line`.
pub fn parse(line: usize, body: &str) -> Result<Marker, MarkerError> {
    let error = |message: String| MarkerError { line, message };
    let mut lines = body.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    if let Some(of) = first.strip_prefix("excerpt") {
        let of = std::iter::once(of.trim())
            .chain(lines)
            .collect::<Vec<_>>()
            .join(" ");
        let names_a_command = of
            .split('`')
            .nth(1)
            .is_some_and(|command| !command.trim().is_empty());
        if !names_a_command {
            return Err(error(
                "an excerpt marker must name the command that made the block, in backticks: \
                 `<!-- doc: excerpt of `xdpdbg top --stats` ... -->`"
                    .to_string(),
            ));
        }
        return Ok(Marker::Excerpt { of });
    }
    if let Some(path) = first.strip_prefix("file ") {
        return Ok(Marker::File {
            path: path.trim().to_string(),
        });
    }
    if first != "run" {
        return Err(error(format!(
            "unknown marker `doc: {first}`: write `doc: run`, `doc: excerpt of `COMMAND`` or \
             `doc: file PATH`"
        )));
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for l in lines {
        if let Some(c) = l.strip_prefix("before:") {
            before.push(c.trim().to_string());
        } else if let Some(c) = l.strip_prefix("after:") {
            after.push(c.trim().to_string());
        } else {
            return Err(error(format!(
                "a run marker holds only `before: CMD` and `after: CMD` lines, not `{l}`"
            )));
        }
    }
    Ok(Marker::Run { before, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_with_set_up_and_clean_up() {
        let m = parse(
            3,
            "run\n  before: xdpdbg lab up --name t\n  after: xdpdbg lab down t",
        )
        .unwrap();
        assert_eq!(
            m,
            Marker::Run {
                before: vec!["xdpdbg lab up --name t".into()],
                after: vec!["xdpdbg lab down t".into()]
            }
        );
    }

    #[test]
    fn an_excerpt_names_its_command() {
        assert!(matches!(
            parse(1, "excerpt of `xdpdbg top`, 120 columns"),
            Ok(Marker::Excerpt { .. })
        ));
        let e = parse(7, "excerpt of the demo").unwrap_err();
        assert_eq!(e.line, 7);
        assert!(e.message.contains("in backticks"), "{e}");
        assert!(parse(1, "rnu").is_err());
        assert!(parse(1, "run\nfoo").is_err());
    }
}
