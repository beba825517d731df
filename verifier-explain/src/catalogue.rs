//! The catalogue of verifier error classes: stable IDs, categories and what each means.
//!
//! Categories follow the names of the kernel's structured verifier diagnostics (Linux 7.3), so
//! an explanation from this tool and one from a newer kernel sort the same way. The IDs are
//! stable: scripts may match on them. `docs/verifier-errors.md` documents every class and is
//! checked against this table by a test.

use serde::Serialize;

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

/// One class of verifier error.
#[derive(Debug, Serialize)]
pub struct ErrorClass {
    /// The stable ID, e.g. `packet-out-of-bounds`.
    pub id: &'static str,
    /// The kernel 7.3 category.
    pub category: Category,
    /// A one-line title.
    pub title: &'static str,
    /// Why the verifier refuses this, in general terms.
    pub why: &'static str,
}

macro_rules! class {
    ($id:literal, $cat:ident, $title:literal, $why:literal) => {
        ErrorClass {
            id: $id,
            category: Category::$cat,
            title: $title,
            why: $why,
        }
    };
}

/// Every class, in the order of `docs/verifier-errors.md`.
pub static CATALOGUE: &[ErrorClass] = &[
    class!(
        "packet-out-of-bounds",
        MemorySafety,
        "packet access not proven in bounds",
        "Every packet read or write must be preceded by a comparison against the packet's end \
         (data_end) that proves the accessed bytes exist; the verifier tracks how many bytes past \
         each packet pointer are proven (r=) and refuses accesses beyond that."
    ),
    class!(
        "packet-helper-out-of-bounds",
        MemorySafety,
        "packet memory passed to a helper is not proven in bounds",
        "A helper reads or writes the whole buffer it is given; when that buffer is in the packet, \
         all of its bytes must be proven in bounds against data_end before the call."
    ),
    class!(
        "loop-off-by-one",
        MemorySafety,
        "a loop reaches one element past the end",
        "The loop's guard lets the index reach the array's length (`<=` where `<` was meant), so the \
         last iteration accesses one element past the end; the verifier explores that iteration \
         and refuses the access."
    ),
    class!(
        "map-value-out-of-bounds",
        MemorySafety,
        "map value access out of bounds",
        "Accesses into a map value must lie within value_size; with a variable offset, the \
         verifier must know its maximum, so the index needs an upper bound check."
    ),
    class!(
        "unbounded-pointer-arithmetic",
        MemorySafety,
        "pointer arithmetic with an unbounded value",
        "Adding a value of unknown range to a pointer makes every later access unprovable; the \
         verifier needs both a lower and an upper bound on the value added."
    ),
    class!(
        "negative-pointer-offset",
        MemorySafety,
        "the offset added to a pointer may be negative",
        "A signed value may be negative, and a negative offset reaches before the start of the \
         object; use an unsigned type or check `>= 0` before using it as an offset."
    ),
    class!(
        "uninitialized-stack-read",
        MemorySafety,
        "reading stack bytes that were never written",
        "Without CAP_PERFMON (or CAP_SYS_ADMIN) the verifier refuses reads of stack bytes the \
         program never wrote, including bytes a helper would read (a key or a buffer); with those \
         capabilities the same program loads, so the verdict depends on who loads it."
    ),
    class!(
        "invalid-context-access",
        MemorySafety,
        "invalid access to the program's context",
        "Only the fields the program type defines may be accessed in the context structure, each \
         with its exact size, and most of them only read."
    ),
    class!(
        "read-only-write",
        MemorySafety,
        "write into read-only memory",
        "The memory written is read-only for the program: a map created with BPF_F_RDONLY_PROG, \
         a frozen or .rodata map (const globals), or a read-only context field."
    ),
    class!(
        "misaligned-access",
        MemorySafety,
        "misaligned access",
        "The access is not aligned to its size, which the verifier refuses for the stack, for \
         atomic operations and (with strict alignment) for packets."
    ),
    class!(
        "scalar-dereference",
        RegisterTypeSafety,
        "dereference of a plain number",
        "The register is a scalar (a number), not a pointer: the verifier lost the pointer type, \
         typically because two branches left different kinds of values in the same register or \
         variable and the merged value is only a number."
    ),
    class!(
        "null-dereference",
        RegisterTypeSafety,
        "possibly NULL pointer dereferenced",
        "A map lookup (and other helpers) may return NULL; the pointer must be compared against \
         NULL before it is dereferenced."
    ),
    class!(
        "uninitialized-register",
        RegisterTypeSafety,
        "a register is read before it is written",
        "The instruction reads a register that holds nothing on this path: it was never set, or \
         a helper call clobbered it (calls overwrite r1-r5)."
    ),
    class!(
        "modified-context-pointer",
        RegisterTypeSafety,
        "dereference of a modified context pointer",
        "Context fields must be accessed as ctx->field with a constant offset from the \
         unmodified context pointer; the verifier rewrites these accesses and refuses pointer \
         arithmetic on ctx."
    ),
    class!(
        "null-passed-to-helper",
        CallTypeSafety,
        "possibly NULL pointer passed to a helper",
        "A value that may be NULL (a map lookup's result) is passed where the helper needs a \
         valid pointer; check it against NULL first."
    ),
    class!(
        "wrong-argument-type",
        CallTypeSafety,
        "helper argument of the wrong type",
        "Each helper argument has an expected type (a map, a pointer to initialised memory, a \
         context, a number); the value passed is of another kind."
    ),
    class!(
        "helper-size-not-positive",
        CallTypeSafety,
        "a helper's size argument may be zero or negative",
        "A helper's size argument must be proven to lie in a range the buffer covers: more than \
         zero (unless the helper allows zero) and no larger than the buffer."
    ),
    class!(
        "unreleased-reference",
        ResourceLifetimeSafety,
        "a reference is not released on every path",
        "A reference taken (a ring buffer reservation, a socket lookup, a kptr) must be released \
         on every path before the program exits: submit or discard it, release the socket."
    ),
    class!(
        "spin-lock-misuse",
        ResourceLifetimeSafety,
        "bpf_spin_lock used incorrectly",
        "A spin lock must be taken and released in the same function, on every path, without \
         helper calls or exits in between, and only on a map value that holds a struct \
         bpf_spin_lock."
    ),
    class!(
        "helper-not-allowed",
        Policy,
        "helper not allowed for this program type",
        "Each program type may call only some helpers; this one is not available to the type the \
         program's section gives it."
    ),
    class!(
        "gpl-only-helper",
        Policy,
        "GPL-only helper in a non-GPL program",
        "Some helpers may only be called by programs whose license section is GPL-compatible."
    ),
    class!(
        "combined-stack-too-large",
        VerifierLimit,
        "the stack of a call chain exceeds 512 bytes",
        "The stack frames of a chain of BPF-to-BPF calls add up; their sum must stay within \
         512 bytes (less with tail calls)."
    ),
    class!(
        "complexity-limit",
        VerifierLimit,
        "the verifier's complexity limit was reached",
        "The verifier simulates every path; after 1,000,000 simulated instructions it gives up. \
         Loops multiply paths: each iteration is verified separately."
    ),
    class!(
        "call-stack-too-deep",
        VerifierLimit,
        "too many nested function calls",
        "BPF-to-BPF calls may nest at most 8 frames deep."
    ),
    class!(
        "tail-call-stack-limit",
        VerifierLimit,
        "tail call from a deep stack of subprogram frames",
        "When BPF-to-BPF calls and tail calls are mixed, each caller's frame must be small \
         (at most 256 bytes in total) so that tail calls cannot overflow the kernel stack."
    ),
    class!(
        "infinite-loop",
        ProgramStructure,
        "infinite loop",
        "The verifier reached a loop iteration in exactly the state of an earlier one, so the \
         loop can never end."
    ),
    class!(
        "back-edge",
        ProgramStructure,
        "loop (back-edge) not allowed",
        "Kernels before 5.3, and loaders without CAP_BPF, refuse any backward jump: every loop \
         must be unrolled."
    ),
    class!(
        "division-by-zero",
        ProgramStructure,
        "division by zero",
        "A division or modulo by the constant zero is refused outright."
    ),
    class!(
        "r0-not-set",
        ProgramStructure,
        "the return value is not set",
        "At exit, r0 is the program's return value; on this path nothing was written to it."
    ),
    class!(
        "invalid-return-value",
        ProgramStructure,
        "return value outside the allowed range",
        "Some program types may only return specific values (for example 0 or 1); the verifier \
         could not prove the return value is one of them."
    ),
    class!(
        "unknown-map",
        ProgramStructure,
        "reference to a map the object does not define",
        "The loader must replace every map reference with a map; this one names a symbol that is \
         not a map in the object's maps sections."
    ),
    class!(
        "btf-relocation-failed",
        ProgramStructure,
        "a CO-RE (BTF) relocation failed",
        "A field or type accessed with CO-RE (preserve_access_index, BPF_CORE_READ) does not \
         exist in the running kernel's BTF, so the loader cannot compute its offset."
    ),
    class!(
        "unknown",
        VerifierInternalError,
        "an error this tool does not recognise",
        "The verifier's own words are shown; please report the log so the catalogue can learn \
         it."
    ),
];

/// The class with this ID.
pub fn by_id(id: &str) -> Option<&'static ErrorClass> {
    CATALOGUE.iter().find(|c| c.id == id)
}

fn class(id: &str) -> &'static ErrorClass {
    by_id(id).unwrap_or(&CATALOGUE[CATALOGUE.len() - 1])
}

/// What the classifier knows about the failing instruction, besides the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The faulting instruction's disassembly as the log printed it.
    pub insn: Option<&'a str>,
    /// Whether the faulting instruction lies inside a loop (a back-edge jumps over it).
    pub in_loop: bool,
}

/// The class of an error from the verifier's (or loader's) message.
pub fn classify(message: &[String], ctx: Context<'_>) -> &'static ErrorClass {
    let text = message.join("\n");
    let has = |s: &str| text.contains(s);
    let insn = ctx.insn.unwrap_or("").trim();
    let at_call = insn.starts_with("call ");
    let at_exit = insn == "exit";
    let id = if has("invalid access to packet") {
        if at_call {
            "packet-helper-out-of-bounds"
        } else if ctx.in_loop && off_is_end(&text) {
            "loop-off-by-one"
        } else {
            "packet-out-of-bounds"
        }
    } else if has("invalid access to map value") {
        if ctx.in_loop && off_is_end(&text) {
            "loop-off-by-one"
        } else {
            "map-value-out-of-bounds"
        }
    } else if has("invalid write to stack") && ctx.in_loop {
        "loop-off-by-one"
    } else if has("invalid zero-sized read")
        || has("invalid zero-sized write")
        || (at_call && (has("min value is negative") || has("unbounded memory access")))
    {
        "helper-size-not-positive"
    } else if has("min value is negative") || has("negative offset") {
        "negative-pointer-offset"
    } else if has("unbounded memory access")
        || has("unbounded min value")
        || has("value is outside of the allowed memory range")
        || has("pointer arithmetic of map value goes out of range")
    {
        "unbounded-pointer-arithmetic"
    } else if has("invalid read from stack") || has("invalid indirect read from stack") {
        "uninitialized-stack-read"
    } else if has("dereference of modified ctx ptr") || has("modified ctx ptr") {
        "modified-context-pointer"
    } else if has("invalid bpf_context access") {
        "invalid-context-access"
    } else if has("write into map forbidden")
        || has("cannot write into")
        || has("into read-only")
        || has("write to rdonly")
    {
        "read-only-write"
    } else if has("misaligned") {
        "misaligned-access"
    } else if has("_or_null") && has("type=") && has("expected=") {
        "null-passed-to-helper"
    } else if has("invalid mem access '") && has("_or_null'") {
        "null-dereference"
    } else if has("invalid mem access 'scalar'") || has("invalid mem access 'inv'") {
        "scalar-dereference"
    } else if has("type=") && has("expected=") {
        "wrong-argument-type"
    } else if has("!read_ok") {
        if at_exit {
            "r0-not-set"
        } else {
            "uninitialized-register"
        }
    } else if has("Unreleased reference") || has("reference leak") {
        "unreleased-reference"
    } else if has("spin_lock") || has("spin_unlock") || has("holding a lock") {
        "spin-lock-misuse"
    } else if has("GPL") {
        "gpl-only-helper"
    } else if has("cannot use helper") || has("unknown func") || has("helper call is not allowed") {
        "helper-not-allowed"
    } else if has("combined stack size") {
        "combined-stack-too-large"
    } else if has("BPF program is too large") || has("too many states") {
        "complexity-limit"
    } else if has("frames is too deep") {
        "call-stack-too-deep"
    } else if has("tail_calls are not allowed") {
        "tail-call-stack-limit"
    } else if has("infinite loop detected") {
        "infinite-loop"
    } else if has("back-edge") {
        "back-edge"
    } else if has("div by zero") {
        "division-by-zero"
    } else if has("At program exit") || has("should have been in") {
        "invalid-return-value"
    } else if has("relocating") && (has("field") || has("core") || has("CO-RE") || has("BTF"))
        || has("invalid func unknown#195896080")
        || has("bad CO-RE relocation")
    {
        "btf-relocation-failed"
    } else if has("map") && (has("not found") || has("unknown symbol") || has("section not found"))
        || has("SectionNotFound")
        || has("not found in the symbols table")
    {
        "unknown-map"
    } else {
        "unknown"
    };
    class(id)
}

/// Whether an out-of-bounds message says the access starts exactly at the object's end.
fn off_is_end(text: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id(msg: &str, insn: Option<&str>, in_loop: bool) -> &'static str {
        classify(&[msg.to_string()], Context { insn, in_loop }).id
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
        assert!(CATALOGUE.len() >= 31);
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
    fn the_docs_describe_every_class() {
        let doc = include_str!("../../docs/verifier-errors.md");
        for c in CATALOGUE {
            assert!(
                doc.contains(&format!("\n## {}\n", c.id)),
                "docs/verifier-errors.md lacks {}",
                c.id
            );
            assert!(
                doc.contains(&format!("| {} | {} |", c.category.name(), c.title)),
                "{}",
                c.id
            );
        }
    }

    #[test]
    fn categories_round_trip_by_name() {
        for c in ALL_CATEGORIES {
            assert_eq!(Category::from_name(c.name()), Some(c));
        }
    }
}
