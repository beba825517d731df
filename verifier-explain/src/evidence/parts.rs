//! The parts an explanation is made of: the refused instruction, its source spot, its operands
//! named as variables, the branches of the path, the fix and the hot lines. They are part of the
//! `--json` schema (documented in `docs/verifier-explain.md`; fields are only ever added).

use serde::Serialize;

/// The refused instruction.
#[derive(Debug, Clone, Serialize)]
pub struct FaultInsn {
    /// Its index in the loaded program (what the log numbers).
    pub index: u32,
    /// Its disassembly as the verifier printed it.
    pub text: String,
    /// The function (subprogram) it belongs to, when the object is known.
    pub function: Option<String>,
}

/// How a source location was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineSource {
    /// The DWARF line table row of the instruction itself.
    Dwarf,
    /// The BTF line_info record of the instruction itself.
    Btf,
    /// The last `; ... @ file:line` comment the log printed before it (can be wrong).
    LogComment,
    /// The kernel's structured diagnostics block.
    KernelDiagnostics,
}

/// A place in the source, with the lines around it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceSpot {
    /// The source file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// The innermost function, inlined ones included.
    pub function: Option<String>,
    /// Where each inlined function was called from, innermost first (`fn at file:line:col`).
    pub inlined_from: Vec<String>,
    /// How the location was found.
    pub found_by: LineSource,
    /// The lines around it, read from the source file when it is there.
    pub snippet: Vec<SnippetLine>,
}

/// One line of a source snippet.
#[derive(Debug, Clone, Serialize)]
pub struct SnippetLine {
    /// 1-based line number.
    pub line: u32,
    /// The text.
    pub text: String,
    /// Whether this is the faulting line.
    pub fault: bool,
}

/// A register or stack slot the faulting instruction uses.
#[derive(Debug, Clone, Serialize)]
pub struct Operand {
    /// `r1`, or a stack slot `fp-8`.
    pub operand: String,
    /// The source variable that holds it at the faulting instruction.
    pub variable: Option<Variable>,
    /// Other variables that hold the same register there (`data` and `eth = data`).
    pub aliases: Vec<String>,
    /// Where no variable holds it: the variables it was computed from (`h` and `i` for
    /// `&h->bucket[i]`).
    pub computed_from: Vec<String>,
    /// For a pointer to the stack: the variable it points to (`&key`).
    pub points_to: Option<String>,
    /// For a helper's argument register (r1-r5 at a call): the argument as written in the
    /// source (`map` in `bpf_map_lookup_elem(map, key)`).
    pub argument: Option<String>,
    /// The verifier's state of it, as printed (`pkt(off=14,r=0)`).
    pub state: Option<String>,
    /// That state in words.
    pub meaning: String,
    /// Where no variable holds it: the instruction that computed it, with its source line.
    pub origin: Option<String>,
}

/// A source variable.
#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its C (or Rust) type, when known.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// The function it belongs to.
    pub function: String,
    /// A function parameter rather than a local.
    pub parameter: bool,
    /// It belongs to an inlined function.
    pub inlined: bool,
    /// The variable has no DWARF location here (the compiler folded it away); the name is
    /// inferred from the source: the variable declared on the line that computed the value,
    /// or the one the faulting line dereferences (`ip` in `ip->protocol`).
    pub inferred: bool,
}

/// A conditional branch on the failing path.
#[derive(Debug, Clone, Serialize)]
pub struct Branch {
    /// The jump's instruction index.
    pub index: u32,
    /// Its disassembly.
    pub text: String,
    /// Its source line, when known.
    pub line: Option<u32>,
    /// The source text of that line (the condition), or the log's comment.
    pub condition: Option<String>,
    /// Whether the jump was taken (false: fell through).
    pub taken: bool,
    /// How many times in a row the path went this way here (loop iterations), at least 1.
    pub times: u32,
}

/// A concrete fix.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// What to do, in one or two sentences.
    pub summary: String,
    /// The source line the code goes before (or replaces, see [`Fix::placement`]), when known.
    pub line: Option<u32>,
    /// Code to add or change, with the program's own names: applied at [`Fix::line`] as
    /// [`Fix::placement`] says, it makes the program pass this check.
    pub code: Option<String>,
    /// How [`Fix::code`] goes in at [`Fix::line`].
    pub placement: Placement,
    /// When the fix cannot be written as code (it depends on what the program is meant to do):
    /// the choice the user must make.
    pub decide: Option<String>,
    /// Changes on other lines that [`Fix::code`] needs to work (the value type a map declares,
    /// when the call now stores what it points to; the same pointer read again further on),
    /// applied with it; their lines are those of the unchanged source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Edit>,
}

/// One more change of a fix, on a line of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// The source line the code goes before or replaces.
    pub line: u32,
    /// The code, with the program's own names.
    pub code: String,
    /// How the code goes in at the line.
    pub placement: Placement,
}

impl Edit {
    /// Applies the edit to `lines` (the source, one entry a line), or `None` when its line is
    /// not there. The code takes the indentation of its line (of the next code line when that
    /// one is blank).
    fn apply_to(&self, lines: &mut Vec<String>) -> Option<()> {
        let idx = usize::try_from(self.line).ok()?.checked_sub(1)?;
        let target = lines.get(idx)?.clone();
        let indented = lines[idx..]
            .iter()
            .find(|l| !l.trim().is_empty())
            .unwrap_or(&target);
        let indent: String = indented.chars().take_while(|c| c.is_whitespace()).collect();
        let mut code: Vec<String> = self.code.lines().map(|l| format!("{indent}{l}")).collect();
        if self.placement == Placement::InsertBefore {
            code.push(target);
        }
        lines.splice(idx..=idx, code);
        Some(())
    }
}

/// How a fix's code goes into the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// The code is inserted before the line, with the line's indentation.
    InsertBefore,
    /// The code replaces the whole line.
    ReplaceLine,
}

impl Fix {
    /// `source` with this fix's code applied at its line (and its further edits at theirs),
    /// or `None` when the fix carries no code or no line (or a line is not in `source`, or two
    /// edits claim the same line).
    pub fn apply(&self, source: &str) -> Option<String> {
        let main = Edit {
            line: self.line?,
            code: self.code.clone()?,
            placement: self.placement,
        };
        let mut edits: Vec<&Edit> = std::iter::once(&main).chain(&self.also).collect();
        // From the bottom up, so that each edit's line is still where it says.
        edits.sort_by_key(|e| std::cmp::Reverse(e.line));
        if edits.windows(2).any(|w| w[0].line == w[1].line) {
            return None;
        }
        let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
        for e in edits {
            e.apply_to(&mut lines)?;
        }
        Some(lines.join("\n") + "\n")
    }
}

/// How much of the verifier's exploration the hot lines count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Instructions the log shows processed (what the hot lines add up from).
    pub counted: u64,
    /// Instructions the verifier says it processed (`processed N insns`), when the log has
    /// its statistics.
    pub processed: Option<u64>,
    /// Whether the log holds the whole exploration: it counts at least 99% of what the
    /// verifier processed. A level-1 log shows only the final path, and a log cut by its
    /// buffer only its end: the hot lines are then a part, not the budget.
    pub whole: bool,
}

/// A source line's share of the verifier's work.
#[derive(Debug, Clone, Serialize)]
pub struct HotLine {
    /// The file, or `insn` when only instruction indexes are known.
    pub file: String,
    /// The line (or instruction index).
    pub line: u32,
    /// Instructions processed there.
    pub processed: u64,
    /// Share of all processed instructions, 0-100 (of what the verifier says it processed, when
    /// the log holds only part of the exploration).
    pub percent: f64,
    /// Whether the line lies inside a loop.
    pub in_loop: bool,
    /// The source text.
    pub text: Option<String>,
}
