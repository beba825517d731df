//! The output a page shows for a command, and how real output is compared with it.
//!
//! Lines are compared one for one, after trailing whitespace and trailing empty lines are
//! removed on both sides. What changes from run to run is written as a placeholder:
//!
//! | in the page | matches |
//! |---|---|
//! | `{{num}}` | a number: `42`, `-3`, `0.25` |
//! | `{{hex}}` | hexadecimal digits, with or without `0x` |
//! | `{{word}}` | one run of non-blank characters (an address, a path, a name) |
//! | `{{any}}` | anything on the line, also nothing |
//! | a line holding only `...` | any number of lines, also none |
//!
//! A run of two or more spaces matches any run of spaces, so table columns may move when a
//! number is wider or narrower.
//!
//! [`Expected::updated`] is the page's text brought up to date with real output (the update
//! mode, `DOCCHECK_UPDATE=1`): lines that still match keep their placeholders and `...`, the
//! others become what was printed.

use regex::Regex;

/// Compiled expected output.
#[derive(Debug)]
pub struct Expected {
    lines: Vec<Line>,
}

#[derive(Debug)]
enum Line {
    /// `...`: any lines.
    Skip {
        /// The 1-based line of the page.
        line: usize,
    },
    /// One line to match.
    Match {
        line: usize,
        text: String,
        pattern: Regex,
    },
}

/// An expected line that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The 1-based line of the page.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Where real output departs from the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The page's line that did not match; `None` when the output has lines beyond the page's.
    pub line: Option<usize>,
    /// What the page expects there.
    pub expected: String,
    /// What the command printed there (`None`: its output ended).
    pub actual: Option<String>,
}

const PLACEHOLDERS: [(&str, &str); 4] = [
    ("num", r"-?[0-9]+(?:\.[0-9]+)?"),
    ("hex", r"(?:0x)?[0-9a-fA-F]+"),
    ("word", r"\S+"),
    ("any", r".*"),
];

impl Expected {
    /// Compiles the lines a page shows (with their 1-based line numbers).
    pub fn compile(mut lines: Vec<(usize, String)>) -> Result<Expected, PatternError> {
        while lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
            lines.pop();
        }
        let placeholder = Regex::new(r"\{\{([^}]*)\}\}").expect("a valid regex");
        let spaces = Regex::new(r" {2,}").expect("a valid regex");
        let literal = |text: &str| {
            spaces
                .split(text)
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(" +")
        };
        let mut compiled = Vec::new();
        for (line, text) in lines {
            let text = text.trim_end().to_string();
            if text == "..." {
                compiled.push(Line::Skip { line });
                continue;
            }
            let mut pattern = String::from("^");
            let mut at = 0;
            for c in placeholder.captures_iter(&text) {
                let whole = c.get(0).expect("the match");
                let name = &c[1];
                let Some((_, regex)) = PLACEHOLDERS.iter().find(|(n, _)| *n == name) else {
                    return Err(PatternError {
                        line,
                        message: format!(
                            "unknown placeholder {{{{{name}}}}}: use {{{{num}}}}, {{{{hex}}}}, \
                             {{{{word}}}} or {{{{any}}}} (docs/conventions.md)"
                        ),
                    });
                };
                let before = &text[at..whole.start()];
                if name == "any" && before.ends_with(' ') {
                    // Trailing blanks are trimmed from output: `x: {{any}}` also matches `x:`.
                    pattern.push_str(&literal(before.trim_end()));
                    pattern.push_str(" *");
                } else {
                    pattern.push_str(&literal(before));
                }
                pattern.push_str(regex);
                at = whole.end();
            }
            pattern.push_str(&literal(&text[at..]));
            pattern.push('$');
            let pattern = Regex::new(&pattern).map_err(|e| PatternError {
                line,
                message: format!("cannot compile the expected line: {e}"),
            })?;
            compiled.push(Line::Match {
                line,
                text,
                pattern,
            });
        }
        Ok(Expected { lines: compiled })
    }

    /// Compares a command's whole output with the page. On a mismatch, says where: the
    /// furthest page line that real output reached.
    pub fn check(&self, output: &str) -> Result<(), Mismatch> {
        let actual = output_lines(output);
        let mut furthest: Option<(usize, usize)> = None;
        if self.matches(0, &actual, 0, &mut furthest) {
            return Ok(());
        }
        let (e, a) = furthest.unwrap_or((0, 0));
        Err(match self.lines.get(e) {
            Some(Line::Match { line, text, .. }) => Mismatch {
                line: Some(*line),
                expected: text.clone(),
                actual: actual.get(a).map(|s| s.to_string()),
            },
            _ => Mismatch {
                line: None,
                expected: "(the end of the output)".to_string(),
                actual: actual.get(a).map(|s| s.to_string()),
            },
        })
    }

    fn matches(
        &self,
        e: usize,
        actual: &[&str],
        a: usize,
        furthest: &mut Option<(usize, usize)>,
    ) -> bool {
        if furthest.is_none_or(|(fe, _)| e > fe) {
            *furthest = Some((e, a));
        }
        match self.lines.get(e) {
            None => a == actual.len(),
            Some(Line::Skip { .. }) => {
                (a..=actual.len()).any(|next| self.matches(e + 1, actual, next, furthest))
            }
            Some(Line::Match { pattern, .. }) => {
                a < actual.len()
                    && pattern.is_match(actual[a])
                    && self.matches(e + 1, actual, a + 1, furthest)
            }
        }
    }
}

impl Expected {
    /// The first and last page lines this output is shown on; `None` when the page shows no
    /// output for the command.
    pub fn span(&self) -> Option<(usize, usize)> {
        let line = |l: &Line| match l {
            Line::Skip { line } | Line::Match { line, .. } => *line,
        };
        Some((line(self.lines.first()?), line(self.lines.last()?)))
    }

    /// What the page should show for `output`: the page's own lines where they still match it
    /// (placeholders and `...` kept), the output's lines where they do not. The alignment is a
    /// line-level edit distance: a page line is replaced by a *similar* output line at its
    /// place (the same first word, or half of it the same from the start) for less than
    /// dropping it, and a `...` takes lines for almost nothing, so that a changed line is shown
    /// changed rather than swallowed by a `...`.
    pub fn updated(&self, output: &str) -> Vec<String> {
        const ABSORB: usize = 1;
        const INSERT: usize = 10;
        const REPLACE: usize = 2;
        const DROP: usize = 20;
        let actual = output_lines(output);
        let (n, m) = (self.lines.len(), actual.len());
        // cost[e][a]: the cost of aligning lines[e..] with actual[a..].
        let mut cost = vec![vec![0usize; m + 1]; n + 1];
        for a in (0..m).rev() {
            cost[n][a] = cost[n][a + 1] + INSERT;
        }
        for e in (0..n).rev() {
            for a in (0..=m).rev() {
                let options = match &self.lines[e] {
                    Line::Skip { .. } => [
                        (a < m).then(|| cost[e][a + 1] + ABSORB),
                        Some(cost[e + 1][a]),
                        None,
                        None,
                    ],
                    Line::Match { pattern, text, .. } => [
                        (a < m && pattern.is_match(actual[a])).then(|| cost[e + 1][a + 1]),
                        (a < m && similar(text, actual[a])).then(|| cost[e + 1][a + 1] + REPLACE),
                        (a < m).then(|| cost[e][a + 1] + INSERT),
                        Some(cost[e + 1][a] + DROP),
                    ],
                };
                cost[e][a] = options
                    .into_iter()
                    .flatten()
                    .min()
                    .expect("one way is always open");
            }
        }
        let (mut e, mut a, mut out) = (0, 0, Vec::new());
        while e < n || a < m {
            if e == n {
                out.push(actual[a].to_string());
                a += 1;
                continue;
            }
            let here = cost[e][a];
            match &self.lines[e] {
                Line::Skip { .. } => {
                    if a < m && cost[e][a + 1] + ABSORB == here {
                        a += 1; // taken by the `...`
                    } else {
                        out.push("...".to_string());
                        e += 1;
                    }
                }
                Line::Match { pattern, text, .. } => {
                    if a < m && pattern.is_match(actual[a]) && cost[e + 1][a + 1] == here {
                        out.push(text.clone());
                        (e, a) = (e + 1, a + 1);
                    } else if a < m
                        && similar(text, actual[a])
                        && cost[e + 1][a + 1] + REPLACE == here
                    {
                        out.push(actual[a].to_string());
                        (e, a) = (e + 1, a + 1);
                    } else if a < m && cost[e][a + 1] + INSERT == here {
                        out.push(actual[a].to_string());
                        a += 1;
                    } else {
                        e += 1; // dropped: the output no longer has it
                    }
                }
            }
        }
        out
    }
}

/// Whether an output line is the page's line changed, rather than another line: the same
/// first word, or at least half of the shorter one the same from the start.
fn similar(page: &str, output: &str) -> bool {
    let first = |s: &str| s.split_whitespace().next().map(str::to_owned);
    let common = page
        .chars()
        .zip(output.chars())
        .take_while(|(a, b)| a == b)
        .count();
    (first(page).is_some() && first(page) == first(output))
        || common * 2 >= page.chars().count().min(output.chars().count()).max(1)
}

/// A command's output as lines are compared: trailing blanks and trailing empty lines removed.
fn output_lines(output: &str) -> Vec<&str> {
    let mut actual: Vec<&str> = output.lines().map(str::trim_end).collect();
    while actual.last().is_some_and(|l| l.is_empty()) {
        actual.pop();
    }
    actual
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(text: &str) -> Expected {
        Expected::compile(
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 10, l.to_string()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn placeholders_match_what_varies_and_nothing_else() {
        let e = expected("pid {{num}} at {{hex}} in {{word}}: {{any}}");
        assert!(
            e.check("pid 4711 at 0x1f in /run/x: anything, really")
                .is_ok()
        );
        assert!(e.check("pid 4711 at 0x1f in /run/x: ").is_ok());
        assert!(e.check("pid many at 0x1f in /run/x: a").is_err());
        assert!(e.check("pid 1 at 1f in two words: a").is_err());
    }

    #[test]
    fn columns_may_move_and_dots_skip_lines() {
        let e = expected("ID    NAME\n...\n5     last");
        assert!(e.check("ID NAME\n1 a\n2 b\n5       last\n").is_ok());
        assert!(e.check("ID NAME\n5 last").is_ok());
        let m = e.check("ID NAME\n5 first").unwrap_err();
        assert_eq!(m.line, Some(12));
        assert_eq!(m.actual.as_deref(), Some("5 first"));
    }

    #[test]
    fn extra_output_is_a_mismatch_at_the_end() {
        let m = expected("one").check("one\ntwo").unwrap_err();
        assert_eq!(m.line, None);
        assert_eq!(m.actual.as_deref(), Some("two"));
        let m = expected("one\ntwo").check("one").unwrap_err();
        assert_eq!((m.line, m.actual), (Some(11), None));
    }

    #[test]
    fn an_update_keeps_the_placeholders_that_still_match_and_takes_the_new_lines() {
        let e = expected("pid {{num}} started\n...\nstate: old\nbye");
        let updated = e.updated("pid 7 started\nx\ny\nstate: new\nextra\nbye\n");
        assert_eq!(
            updated,
            ["pid {{num}} started", "...", "state: new", "extra", "bye"]
        );
        let text = updated.join("\n");
        assert!(
            expected(&text)
                .check("pid 9 started\nstate: new\nextra\nbye")
                .is_ok()
        );
        assert_eq!(e.span(), Some((10, 13)));
        assert_eq!(expected("").span(), None);
        assert_eq!(expected("").updated("a\nb"), ["a", "b"]);
        assert_eq!(expected("a\nb").updated(""), Vec::<String>::new());
    }

    #[test]
    fn an_unknown_placeholder_is_refused_with_its_line() {
        let e = Expected::compile(vec![(4, "a {{time}}".into())]).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("{{time}}"), "{}", e.message);
    }
}
