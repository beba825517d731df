//! One man page for a whole command line, subcommands included.
//!
//! clap_mangen renders the page of one command and refers to a page per subcommand
//! (`xdpdbg-map(1)`) that nobody installs; here the top page keeps clap_mangen's title, name,
//! synopsis, description and options, and then describes every subcommand, nested ones too,
//! with its usage, options and examples, so `man xdpdbg` is the whole manual.

use std::io::{self, Write};

/// Writes the man page of `command` and all its subcommands.
pub fn write(command: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if command.get_arguments().any(shown) {
        man.render_options_section(out)?;
    }
    if command.has_subcommands() {
        writeln!(out, ".SH COMMANDS")?;
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            subcommand(sub, out)?;
        }
    }
    if let Some(after) = command.get_after_long_help().or(command.get_after_help()) {
        writeln!(out, ".SH \"EXAMPLES AND EXIT STATUS\"")?;
        preformatted(&after.to_string(), out)?;
    }
    if command.get_version().is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

/// Whether an argument is documented (help and version are everywhere, and said once).
fn shown(arg: &clap::Arg) -> bool {
    !arg.is_hide_set() && !matches!(arg.get_id().as_str(), "help" | "version")
}

/// One subcommand: its usage as the heading, what it does, its options, its examples; then
/// its own subcommands.
fn subcommand(sub: &clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let usage = sub.clone().render_usage().to_string();
    let usage = usage.trim().trim_start_matches("Usage:").trim();
    writeln!(out, ".SS \"{}\"", escape(usage).replace('"', "\\(dq"))?;
    if let Some(about) = sub.get_long_about().or(sub.get_about()) {
        text(&about.to_string(), out)?;
    }
    for arg in sub.get_arguments().filter(|a| shown(a)) {
        writeln!(out, ".TP")?;
        writeln!(out, "\\fB{}\\fR", escape(&arg_label(arg)))?;
        if let Some(help) = arg.get_long_help().or(arg.get_help()) {
            text(&help.to_string(), out)?;
        }
    }
    if let Some(after) = sub.get_after_long_help().or(sub.get_after_help()) {
        preformatted(&after.to_string(), out)?;
    }
    for nested in sub.get_subcommands().filter(|s| !s.is_hide_set()) {
        subcommand(nested, out)?;
    }
    Ok(())
}

/// `--name <VALUE>`, `-s, --name`, or `<NAME>` for a positional argument.
fn arg_label(arg: &clap::Arg) -> String {
    let value = || {
        arg.get_value_names()
            .map(|v| {
                v.iter()
                    .map(|n| format!("<{n}>"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| format!("<{}>", arg.get_id().as_str().to_uppercase()))
    };
    if arg.is_positional() {
        return value();
    }
    let mut names = Vec::new();
    if let Some(s) = arg.get_short() {
        names.push(format!("-{s}"));
    }
    if let Some(l) = arg.get_long() {
        names.push(format!("--{l}"));
    }
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    if takes_value {
        format!("{} {}", names.join(", "), value())
    } else {
        names.join(", ")
    }
}

/// A paragraph of filled text.
fn text(text: &str, out: &mut dyn Write) -> io::Result<()> {
    for line in text.lines() {
        if line.trim().is_empty() {
            writeln!(out, ".PP")?;
        } else {
            writeln!(out, "{}", escape(line))?;
        }
    }
    Ok(())
}

/// Lines kept as they are (examples and tables of exit codes).
fn preformatted(text: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, ".PP\n.nf")?;
    for line in text.lines() {
        writeln!(out, "{}", escape(line))?;
    }
    writeln!(out, ".fi")
}

/// Text safe in roff: backslashes and hyphens escaped, and a line starting with `.` or `'`
/// (which roff would take for a request) protected.
fn escape(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_requests_and_hyphens_are_escaped() {
        assert_eq!(escape("--json"), "\\-\\-json");
        assert_eq!(escape(".hidden"), "\\&.hidden");
        assert_eq!(escape("a\\b"), "a\\eb");
    }
}
