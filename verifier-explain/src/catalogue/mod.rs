//! The catalogue of verifier error classes: stable IDs, categories and what each means.
//!
//! Categories follow the names of the kernel's structured verifier diagnostics (Linux 7.3), so
//! an explanation from this tool and one from a newer kernel sort the same way. The IDs are
//! stable: scripts may match on them. Each class is one entry of [`CATALOGUE`] (in
//! `classes.rs`): its ID, category, title and meaning, the messages it matches and how its
//! cause and fix are worded. [`classes`] lists them for documentation: the pages of
//! `docs/catalogue/` are generated from it (`cargo run -p docgen -- all`), so they cannot drift.

mod arguments;
mod classes;
mod context_reads;
mod ctx_write;
mod helper_swap;
mod kernel_read;
mod loop_bound;
mod packet_reload;
mod release;
mod returns;
mod rewrite;
mod source_text;
mod words;

pub(crate) use classes::CATALOGUE;
use words::CauseFix;
pub(crate) use words::Ctx;

/// The size the verifier's message says was accessed (`size=64`), if it names one.
pub(crate) fn size_in_message(message: &[String]) -> Option<i64> {
    words::field(message, "size=")
}

use crate::evidence::CheckShape;
use crate::log::RegState;
use serde::Serialize;

/// The largest variable packet offset whose comparison against the packet's end the verifier
/// records (`MAX_PACKET_OFF` in kernel/bpf/verifier.c).
const MAX_PACKET_OFF: u64 = 0xffff;

/// The kernel 7.3 diagnostics categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Category {
    /// Accesses outside what the program may read or write.
    #[serde(rename = "Memory Safety")]
    MemorySafety,
    /// A register holds the wrong kind of value for its use.
    #[serde(rename = "Register Type Safety")]
    RegisterTypeSafety,
    /// A helper or kfunc argument has the wrong type or size.
    #[serde(rename = "Call Type Safety")]
    CallTypeSafety,
    /// References and locks taken and not released (or released twice).
    #[serde(rename = "Resource Lifetime Safety")]
    ResourceLifetimeSafety,
    /// Something not allowed in the current context (lock held, IRQ, RCU).
    #[serde(rename = "Execution Context Safety")]
    ExecutionContextSafety,
    /// The shape of the program: loops, exits, returns, relocations.
    #[serde(rename = "Program Structure")]
    ProgramStructure,
    /// Forbidden by policy: program type, license, privileges.
    #[serde(rename = "Policy")]
    Policy,
    /// A size or complexity limit of the verifier.
    #[serde(rename = "Verifier Limit")]
    VerifierLimit,
    /// Not recognised (or a verifier bug).
    #[serde(rename = "Verifier Internal Error")]
    VerifierInternalError,
}

impl Category {
    /// Every category, in the order the kernel's diagnostics list them.
    pub const ALL: [Category; 9] = ALL_CATEGORIES;

    /// The name as the kernel prints it, e.g. `Memory Safety`.
    pub fn name(self) -> &'static str {
        match self {
            Category::MemorySafety => "Memory Safety",
            Category::RegisterTypeSafety => "Register Type Safety",
            Category::CallTypeSafety => "Call Type Safety",
            Category::ResourceLifetimeSafety => "Resource Lifetime Safety",
            Category::ExecutionContextSafety => "Execution Context Safety",
            Category::ProgramStructure => "Program Structure",
            Category::Policy => "Policy",
            Category::VerifierLimit => "Verifier Limit",
            Category::VerifierInternalError => "Verifier Internal Error",
        }
    }

    /// The category whose kernel name is `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Category> {
        ALL_CATEGORIES
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(name.trim()))
    }
}

const ALL_CATEGORIES: [Category; 9] = [
    Category::MemorySafety,
    Category::RegisterTypeSafety,
    Category::CallTypeSafety,
    Category::ResourceLifetimeSafety,
    Category::ExecutionContextSafety,
    Category::ProgramStructure,
    Category::Policy,
    Category::VerifierLimit,
    Category::VerifierInternalError,
];

/// One class of verifier error: what it is, which kernel messages it matches and how its
/// cause and fix are worded. Every class is one entry of [`CATALOGUE`].
#[derive(Debug)]
pub(crate) struct ErrorClass {
    /// The stable ID, e.g. `packet-out-of-bounds`.
    pub id: &'static str,
    /// The kernel 7.3 category.
    pub category: Category,
    /// A one-line title.
    pub title: &'static str,
    /// Why the verifier refuses this, in general terms (the meaning its page in
    /// `docs/catalogue/` gives).
    pub why: &'static str,
    /// Whether the verifier's message (and the refused instruction) is of this class.
    pub matches: fn(&Signs<'_>) -> bool,
    /// The cause sentence and the fix, with the program's own names.
    pub explain: fn(&Ctx<'_>) -> CauseFix,
}

/// One class of the catalogue as documentation shows it: what it is, not how it is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassInfo {
    /// The stable ID, e.g. `packet-out-of-bounds`.
    pub id: &'static str,
    /// The kernel 7.3 category.
    pub category: Category,
    /// A one-line title.
    pub title: &'static str,
    /// Why the verifier refuses this, in general terms.
    pub why: &'static str,
}

/// Every class of the catalogue, in the order the classifier tries them (`unknown`, which
/// matches everything, last).
pub fn classes() -> impl Iterator<Item = ClassInfo> {
    CATALOGUE.iter().map(|c| ClassInfo {
        id: c.id,
        category: c.category,
        title: c.title,
        why: c.why,
    })
}

/// What the classifier knows about the failing instruction, besides the message.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Context<'a> {
    /// The faulting instruction's disassembly as the log printed it.
    pub insn: Option<&'a str>,
    /// Whether the faulting instruction lies inside a loop (a back-edge jumps over it).
    pub in_loop: bool,
    /// Whether the faulting instruction is in the entry function with no call before it on
    /// the path: registers r2-r5 then hold nothing the kernel passed.
    pub at_entry: bool,
    /// The verifier's state, before the faulting instruction, of the register the message
    /// names first (`R2 ...`).
    pub named_reg: Option<&'a RegState>,
    /// Whether the path compared a packet pointer against the packet's end before the fault.
    pub checked_pkt_end: bool,
    /// The faulting source line's text.
    pub line_text: Option<&'a str>,
    /// An existing check on the path that did not constrain the value used.
    pub check_shape: Option<&'a CheckShape>,
}

/// What a matcher looks at: the message's words and the refused instruction.
pub(crate) struct Signs<'a> {
    text: String,
    insn: &'a str,
    in_loop: bool,
    at_entry: bool,
    named_reg: Option<&'a RegState>,
    checked_pkt_end: bool,
    line_text: &'a str,
    check_shape: Option<&'a CheckShape>,
}

impl Signs<'_> {
    /// Whether the message contains `s`.
    fn has(&self, s: &str) -> bool {
        self.text.contains(s)
    }

    /// Whether the message says a helper's size register has no upper bound ("R3 unbounded
    /// memory access, use 'var &= const' ..."), rather than that a pointer register's offset
    /// has none ("... make sure to bounds check any such access").
    fn size_unbounded(&self) -> bool {
        self.has("unbounded memory access") && !self.has("make sure to bounds check")
    }

    /// Whether the refused instruction is a call.
    fn at_call(&self) -> bool {
        self.insn.starts_with("call ")
    }

    /// Whether the refused instruction stores to memory (`*(u32 *)(r1 +0) = r2`).
    fn at_store(&self) -> bool {
        self.insn.starts_with("*(")
    }

    /// Whether the refused instruction calls one of the map helpers that take a key.
    fn at_keyed_map_call(&self) -> bool {
        self.at_call()
            && ["map_lookup_elem", "map_update_elem", "map_delete_elem"]
                .iter()
                .any(|h| self.insn.contains(h))
    }

    /// Whether the named register is a packet pointer whose variable offset may exceed
    /// 0xffff, the most the verifier lets a comparison against the packet's end prove.
    fn pkt_offset_over_64k(&self) -> bool {
        self.named_reg.is_some_and(|r| {
            r.type_name == "pkt"
                && r.range.unwrap_or(0) <= 0
                && r.umax.is_some_and(|u| u > MAX_PACKET_OFF)
        })
    }

    /// Whether the faulting source line reads a context field in a conditional expression
    /// (`c ? ctx->a : ctx->b`), the shape clang folds into arithmetic on the context pointer.
    fn line_selects_ctx_fields(&self) -> bool {
        let t = self.line_text;
        t.contains('?') && t.contains("->")
    }

    /// Whether the path holds an existing check that did not constrain the value used, of
    /// the shape `pred` accepts.
    fn check_shape(&self, pred: fn(&CheckShape) -> bool) -> bool {
        self.check_shape.is_some_and(pred)
    }

    /// Whether the refused instruction is the exit.
    fn at_exit(&self) -> bool {
        self.insn == "exit"
    }

    /// Whether an out-of-bounds message says the access starts exactly at the object's end.
    fn off_is_end(&self) -> bool {
        let text = &self.text;
        let field = |key: &str| -> Option<i64> {
            let rest = &text[text.find(key)? + key.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        };
        match (field("value_size="), field(" off=")) {
            (Some(size), Some(off)) => off == size,
            _ => false,
        }
    }
}

/// The class of an error from the verifier's (or loader's) message: the first entry of the
/// catalogue that matches it.
pub(crate) fn classify(message: &[String], ctx: Context<'_>) -> &'static ErrorClass {
    let signs = Signs {
        text: message.join("\n"),
        insn: ctx.insn.unwrap_or("").trim(),
        in_loop: ctx.in_loop,
        at_entry: ctx.at_entry,
        named_reg: ctx.named_reg,
        checked_pkt_end: ctx.checked_pkt_end,
        line_text: ctx.line_text.unwrap_or(""),
        check_shape: ctx.check_shape,
    };
    CATALOGUE
        .iter()
        .find(|c| (c.matches)(&signs))
        .unwrap_or(&CATALOGUE[CATALOGUE.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(msg: &str, insn: Option<&str>, in_loop: bool) -> &'static str {
        classify(
            &[msg.to_string()],
            Context {
                insn,
                in_loop,
                ..Context::default()
            },
        )
        .id
    }

    #[test]
    fn ids_are_unique_and_kebab_case() {
        for (i, c) in CATALOGUE.iter().enumerate() {
            assert!(
                c.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-' || b.is_ascii_digit())
            );
            assert!(CATALOGUE[..i].iter().all(|o| o.id != c.id), "{}", c.id);
        }
        // At least 50 error classes, and `unknown`.
        assert!(CATALOGUE.len() >= 51, "{} entries", CATALOGUE.len());
        assert_eq!(CATALOGUE.last().map(|c| c.id), Some("unknown"));
    }

    #[test]
    fn messages_map_to_classes() {
        let pkt = "invalid access to packet, off=12 size=1, R1(id=0,off=12,r=0)";
        assert_eq!(
            id(pkt, Some("r2 = *(u8 *)(r1 +12)"), false),
            "packet-out-of-bounds"
        );
        assert_eq!(
            id(pkt, Some("call bpf_csum_diff#28"), false),
            "packet-helper-out-of-bounds"
        );
        let mv = "invalid access to map value, value_size=64 off=64 size=1";
        assert_eq!(id(mv, None, true), "loop-off-by-one");
        assert_eq!(id(mv, None, false), "map-value-out-of-bounds");
        assert_eq!(
            id("R0 invalid mem access 'map_value_or_null'", None, false),
            "null-dereference"
        );
        assert_eq!(
            id("R1 invalid mem access 'scalar'", None, false),
            "scalar-dereference"
        );
        assert_eq!(
            id("R1 invalid mem access 'inv'", None, false),
            "scalar-dereference"
        );
        assert_eq!(
            id(
                "R2 type=map_value_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
                None,
                false
            ),
            "null-passed-to-helper"
        );
        assert_eq!(
            id("R1 type=scalar expected=map_ptr", None, false),
            "wrong-argument-type"
        );
        // At a call, the size register's wording and the pointer register's differ.
        let call = Some("call bpf_probe_read_kernel_str#115");
        assert_eq!(
            id(
                "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'",
                call,
                false
            ),
            "helper-size-unbounded"
        );
        assert_eq!(
            id(
                "R1 unbounded memory access, make sure to bounds check any such access",
                call,
                false
            ),
            "unbounded-pointer-arithmetic"
        );
        assert_eq!(id("R0 !read_ok", Some("exit"), false), "r0-not-set");
        assert_eq!(
            id("R2 !read_ok", Some("r0 = r2"), false),
            "uninitialized-register"
        );
        assert_eq!(
            id("infinite loop detected at insn 3", None, true),
            "infinite-loop"
        );
        assert_eq!(
            id(
                "BPF program is too large. Processed 1000001 insn",
                None,
                true
            ),
            "complexity-limit"
        );
        assert_eq!(id("something new", None, false), "unknown");
    }

    #[test]
    fn classes_lists_the_catalogue_in_order() {
        let ids: Vec<&str> = classes().map(|c| c.id).collect();
        assert_eq!(ids, CATALOGUE.iter().map(|c| c.id).collect::<Vec<_>>());
        assert!(classes().all(|c| !c.title.is_empty() && !c.why.is_empty()));
    }

    #[test]
    fn categories_round_trip_by_name() {
        for c in ALL_CATEGORIES {
            assert_eq!(Category::from_name(c.name()), Some(c));
        }
    }
}
