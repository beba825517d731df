//! What an explanation holds: the types behind the human output, the TUI and the `--json`
//! schema (documented in `docs/verifier-explain.md`; fields are only ever added).

use crate::catalogue::Category;
use crate::evidence::{Branch, Budget, FaultInsn, Fix, HotLine, Operand, SourceSpot};
use serde::Serialize;

/// A verifier rejection explained at source level.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The stable error ID from the catalogue, e.g. `packet-out-of-bounds`.
    pub id: &'static str,
    /// The kernel 7.3 diagnostics category.
    pub category: Category,
    /// The class's one-line title.
    pub title: &'static str,
    /// The verifier's (or loader's) own words.
    pub message: Vec<String>,
    /// The instruction the verifier refused, when the error is tied to one.
    pub instruction: Option<FaultInsn>,
    /// Where that instruction comes from in the source.
    pub location: Option<SourceSpot>,
    /// Every register and stack slot the instruction uses, named as source variables.
    pub operands: Vec<Operand>,
    /// Why the verifier refused, in words, with the program's names.
    pub cause: String,
    /// The branches taken on the path that led to the error, oldest first.
    pub path: Vec<Branch>,
    /// Branches on the path before those in `path` that were left out.
    pub path_omitted: usize,
    /// The fix.
    pub fix: Fix,
    /// For complexity rejections: the source lines that consumed the instruction budget.
    pub hot_lines: Vec<HotLine>,
    /// For complexity rejections: how much of the exploration the hot lines count (all of it
    /// only when the log holds every instruction the verifier processed).
    pub budget: Option<Budget>,
    /// What the reader should also know: what was lost, privileges, truncation.
    pub notes: Vec<String>,
}
