//! The line of an error raised at the program's exit (a reference still held, a return value
//! out of range).
//!
//! Compilers merge every `return` of a function into one exit block, whose line is the closing
//! brace, so the exit instruction's own line says nothing about which return the failing path
//! took. The path does: its last branch jumped to the shared exit, and the `return` written
//! right after that condition is the one that leaks (or returns the bad value).

use crate::evidence::{Branch, SnippetLine, SourceSpot};

/// How many lines after the last branch's condition a `return` may be written.
const RETURN_WITHIN: u32 = 3;

/// Whether a source line is only a closing brace (the function's end).
pub(crate) fn is_closing_brace(text: &str) -> bool {
    text.split("//").next().unwrap_or("").trim() == "}"
}

/// The `return` statement the path's last taken branch leads to, as a source spot; `line_text`
/// reads a line of the spot's file. `None` when the source has no such statement nearby.
pub(crate) fn leaking_return(
    spot: &SourceSpot,
    path: &[Branch],
    line_text: impl Fn(u32) -> Option<String>,
) -> Option<SourceSpot> {
    let branch = path
        .iter()
        .rev()
        .find(|b| b.line.is_some_and(|l| l < spot.line))?;
    let from = branch.line?;
    // `if (cond) return x;` on one line: the branch's own line holds the return.
    let one_line = line_text(from).is_some_and(|t| {
        let code = t.split("//").next().unwrap_or("");
        let code = code.split("/*").next().unwrap_or("").trim_start();
        code.starts_with("if") && (code.contains(") return ") || code.contains(")return "))
    });
    let line = (from + u32::from(!one_line)..=from + RETURN_WITHIN)
        .take_while(|&l| l < spot.line)
        .find(|&l| {
            line_text(l).is_some_and(|t| {
                // The code before any comment: `/* ... return ... */` is not a return.
                let code = t.split("//").next().unwrap_or("");
                let code = code.split("/*").next().unwrap_or("").trim_start();
                code.starts_with("return")
                    || code.starts_with("{ return")
                    || code.contains(" return ")
                    || code.contains("\treturn ")
            })
        })?;
    let text = line_text(line)?;
    let column = 1 + text.len() as u32 - text.trim_start().len() as u32;
    Some(SourceSpot {
        line,
        column,
        snippet: (line.saturating_sub(2).max(1)..=line + 2)
            .filter_map(|l| {
                Some(SnippetLine {
                    line: l,
                    text: line_text(l)?,
                    fault: l == line,
                })
            })
            .collect(),
        ..spot.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::LineSource;

    const SOURCE: &[&str] = &[
        "int trace_entry(void *ctx)",              // 1
        "{",                                       // 2
        "\tdata = bpf_ringbuf_reserve(&e, 8, 0);", // 3
        "\tif (!data)",                            // 4
        "\t\treturn 0;",                           // 5
        "\tif (targ_tgid && pid != targ_tgid)",    // 6
        "\t\treturn 0; // leaks",                  // 7
        "\tbpf_ringbuf_submit(data, 0);",          // 8
        "\treturn 0;",                             // 9
        "}",                                       // 10
    ];

    fn text(l: u32) -> Option<String> {
        SOURCE.get(l as usize - 1).map(|s| s.to_string())
    }

    fn spot(line: u32) -> SourceSpot {
        SourceSpot {
            file: "p.c".into(),
            line,
            column: 1,
            function: Some("trace_entry".into()),
            inlined_from: Vec::new(),
            found_by: LineSource::Dwarf,
            snippet: Vec::new(),
        }
    }

    fn branch(line: u32) -> Branch {
        Branch {
            index: 0,
            text: "if r1 != 0x0 goto pc+10".into(),
            line: Some(line),
            condition: text(line),
            taken: true,
            times: 1,
        }
    }

    #[test]
    fn the_closing_brace_is_recognised_with_or_without_a_comment() {
        assert!(is_closing_brace("}"));
        assert!(is_closing_brace("  } // end"));
        assert!(!is_closing_brace("\treturn 0;"));
        assert!(!is_closing_brace("} else {"));
    }

    #[test]
    fn a_leak_at_the_merged_exit_is_shown_at_the_return_after_the_last_branch() {
        let s = leaking_return(&spot(10), &[branch(4), branch(6)], text).unwrap();
        assert_eq!(s.line, 7);
        assert_eq!(s.column, 3);
        assert!(
            s.snippet
                .iter()
                .any(|l| l.fault && l.text.contains("leaks"))
        );
    }

    #[test]
    fn a_return_on_the_branch_line_itself_is_the_one_taken() {
        let source = [
            "\tif (!data) return 0;",                // 1
            "\tif (pid != targ) return 0; // leaks", // 2
            "\tdata->id = pid;",                     // 3
            "\tbpf_ringbuf_submit(data, 0);",        // 4
            "\treturn 0;",                           // 5
            "}",                                     // 6
        ];
        let text = |l: u32| source.get(l as usize - 1).map(|s| s.to_string());
        let s = leaking_return(&spot(6), &[branch(1), branch(2)], text).unwrap();
        assert_eq!(s.line, 2);
    }

    #[test]
    fn without_a_return_after_the_branch_the_exit_stays_where_it_was() {
        assert!(leaking_return(&spot(10), &[branch(9)], text).is_none());
        assert!(leaking_return(&spot(10), &[], text).is_none());
    }

    #[test]
    fn a_comment_that_mentions_return_is_not_the_return() {
        let source = [
            "\tif (len < 64) {",                    // 1
            "\t\t/* this return keeps the lock */", // 2
            "\t\t// return early here",             // 3
            "\t\treturn TC_ACT_SHOT;",              // 4
            "\t}",                                  // 5
            "}",                                    // 6
        ];
        let text = |l: u32| source.get(l as usize - 1).map(|s| s.to_string());
        let mut b = branch(1);
        b.condition = text(1);
        let s = leaking_return(&spot(6), &[b], text).unwrap();
        assert_eq!(s.line, 4);
    }
}
