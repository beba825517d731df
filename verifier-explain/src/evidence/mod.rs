//! What an explanation is built from: the [`Facts`] about one rejection (the parsed log and,
//! when there is one, the object's debug information) and the parts an explanation is made of.
//! The error classes of the catalogue read both to word their cause and fix.

mod checks;
mod declarations;
mod facts;
mod parts;

pub(crate) use checks::{CheckShape, shape as check_shape};
pub(crate) use facts::{Facts, ScalarOrigin, Source};
pub use parts::{
    Branch, Budget, Edit, FaultInsn, Fix, HotLine, LineSource, Operand, Placement, SnippetLine,
    SourceSpot, Variable,
};

/// What an explanation says before its cause and fix are worded: the verifier's words, the
/// refused instruction and its place, its operands, the path and the hot lines.
#[derive(Debug, Clone)]
pub(crate) struct Findings {
    /// The verifier's (or loader's) own words.
    pub message: Vec<String>,
    /// The refused instruction.
    pub instruction: Option<FaultInsn>,
    /// Where it comes from in the source.
    pub location: Option<SourceSpot>,
    /// The registers and stack slots it uses.
    pub operands: Vec<Operand>,
    /// The branches taken on the path, oldest first.
    pub path: Vec<Branch>,
    /// Branches left out before those in `path`.
    pub path_omitted: usize,
    /// For complexity rejections: the lines that consumed the budget.
    pub hot_lines: Vec<HotLine>,
}

impl Findings {
    /// The faulting source line, when known (line 0 is no line).
    pub fn fault_line(&self) -> Option<u32> {
        self.location.as_ref().map(|l| l.line).filter(|&l| l > 0)
    }
}
