//! What `lab check` found: what already works, what is still wrong (each in words a beginner
//! understands, with a hint), and whether that makes the lab solved.

use serde::Serialize;

/// One thing that is still wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// What is wrong, in one sentence.
    pub what: String,
    /// What to try.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Longer evidence: the compiler's messages, verifier-explain's explanation, measurements. It
    /// may hold ANSI styles (verifier-explain's colors): [`CheckReport::plain`] removes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    /// A problem with a sentence only.
    pub fn new(what: impl Into<String>) -> Self {
        Problem {
            what: what.into(),
            hint: None,
            detail: None,
        }
    }

    /// Adds what to try.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the evidence.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The result of one `lab check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The lab's number.
    pub lab: u8,
    /// The lab's title.
    pub title: String,
    /// Whether every check passed.
    pub solved: bool,
    /// What was checked and works.
    pub passed: Vec<String>,
    /// What is still wrong; empty when solved.
    pub problems: Vec<Problem>,
}

/// Collects a check's findings as the checks run.
#[derive(Debug, Default)]
pub struct Findings {
    passed: Vec<String>,
    problems: Vec<Problem>,
}

impl Findings {
    /// Records a check that passed.
    pub fn pass(&mut self, what: impl Into<String>) {
        self.passed.push(what.into());
    }

    /// Records a problem.
    pub fn fail(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// The report for lab `number`.
    pub fn into_report(self, lab: &crate::catalogue::Lab) -> CheckReport {
        CheckReport {
            lab: lab.number,
            title: lab.title.into(),
            solved: self.problems.is_empty(),
            passed: self.passed,
            problems: self.problems,
        }
    }
}

impl CheckReport {
    /// The report without ANSI styles in its evidence (for JSON and for output that is not a
    /// color terminal).
    pub fn plain(mut self) -> Self {
        for p in &mut self.problems {
            if let Some(d) = &p.detail {
                p.detail = Some(anstream::adapter::strip_str(d).to_string());
            }
        }
        self
    }

    /// The report for people; `color` adds green and red marks and keeps verifier-explain's
    /// colors.
    pub fn render(&self, color: bool) -> String {
        use anstyle::{AnsiColor, Style};
        let paint = |s: &str, c: AnsiColor| {
            if color {
                let st = Style::new().fg_color(Some(c.into())).bold();
                format!("{st}{s}{st:#}")
            } else {
                s.to_string()
            }
        };
        let mut out = format!("lab {}: {}\n", self.lab, self.title);
        for p in &self.passed {
            out += &format!("{} {p}\n", paint("ok  ", AnsiColor::Green));
        }
        for p in &self.problems {
            out += &format!("{} {}\n", paint("TODO", AnsiColor::Red), p.what);
            if let Some(h) = &p.hint {
                out += &format!("     hint: {h}\n");
            }
            if let Some(d) = &p.detail {
                for line in d.lines() {
                    out += &format!("     | {line}\n");
                }
            }
        }
        if self.solved {
            out += &paint("Solved! Well done.\n", AnsiColor::Green);
        } else {
            let n = self.problems.len();
            out += &format!(
                "Not yet: {n} thing{} to fix. Fix it, then run `lab check {}` again.\n",
                if n == 1 { "" } else { "s" },
                self.lab
            );
        }
        out
    }
}
