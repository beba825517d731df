//! A run block as steps: the commands to run and, in a transcript, the output each must print.

use crate::expected::Expected;
use crate::page::CodeBlock;

/// One command of a block.
#[derive(Debug)]
pub struct Step {
    /// The 1-based line of the command in the page.
    pub line: usize,
    /// The command, for bash (continuation lines ending in `\` joined).
    pub command: String,
    /// The 1-based line after the command's last line: where its output starts on the page.
    pub output_from: usize,
    /// The output the page shows for it; `None` in a block without prompts, whose commands
    /// must only succeed (exit 0).
    pub expected: Option<Expected>,
}

/// A block that cannot be read as steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepsError {
    /// The 1-based line of the page.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The steps of a `run` block. A block with `$ ` prompts is a transcript: each prompt's
/// command, then the lines up to the next prompt as its output. A block without prompts (`sh`)
/// is a list of commands, one a line (`#` comment lines skipped), each of which must succeed.
pub fn steps(block: &CodeBlock) -> Result<Vec<Step>, StepsError> {
    let transcript = block.lines.iter().any(|(_, l)| l.starts_with("$ "));
    let mut steps: Vec<Step> = Vec::new();
    let mut output: Vec<(usize, String)> = Vec::new();
    let mut lines = block.lines.iter().peekable();
    while let Some((line, text)) = lines.next() {
        let command = if transcript {
            text.strip_prefix("$ ")
        } else if text.trim().is_empty() || text.trim_start().starts_with('#') {
            continue;
        } else {
            Some(text.as_str())
        };
        let Some(command) = command else {
            if steps.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(StepsError {
                    line: *line,
                    message: "output before the first `$ ` command".to_string(),
                });
            }
            output.push((*line, text.clone()));
            continue;
        };
        let mut command = command.to_string();
        let mut last = *line;
        while command.ends_with('\\') {
            let Some((next_line, next)) = lines.next() else {
                break;
            };
            command.pop();
            command.push_str(next.trim_start_matches("> "));
            last = *next_line;
        }
        finish(&mut steps, &mut output, transcript)?;
        steps.push(Step {
            line: *line,
            command,
            output_from: last + 1,
            expected: None,
        });
    }
    finish(&mut steps, &mut output, transcript)?;
    Ok(steps)
}

/// Gives the last step the output collected since it.
fn finish(
    steps: &mut [Step],
    output: &mut Vec<(usize, String)>,
    transcript: bool,
) -> Result<(), StepsError> {
    if let Some(step) = steps.last_mut().filter(|_| transcript) {
        step.expected =
            Some(
                Expected::compile(std::mem::take(output)).map_err(|e| StepsError {
                    line: e.line,
                    message: e.message,
                })?,
            );
    }
    Ok(())
}
