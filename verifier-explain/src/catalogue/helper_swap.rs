//! The helper a program type offers for the job of one it may not call: `bpf_redirect_peer`
//! in XDP is `bpf_redirect`, the skb byte helpers have XDP twins (and back), and reading the
//! packet with `bpf_probe_read*` in XDP or TC is direct packet access after a bounds check.
//! Each entry of [`SWAPS`] was loaded on a real kernel with the replacement in place.

use super::rewrite;
use super::words::{Ctx, replace};
use crate::evidence::Fix;

/// One replacement: in a program of one of `types`, a call to `from` becomes a call to `to`
/// with its arguments rearranged by `args`.
struct Swap {
    /// The program types (aya's names) where the replacement is offered.
    types: &'static [&'static str],
    /// The helper the program may not call.
    from: &'static str,
    /// The helper that does the same job in those types.
    to: &'static str,
    /// The new call's arguments from the old call's, `None` when they do not fit.
    args: fn(&[&str]) -> Option<Vec<String>>,
    /// What changes for the program, said after "Call `to` instead: ".
    note: &'static str,
}

fn same(args: &[&str]) -> Option<Vec<String>> {
    Some(args.iter().map(|a| a.to_string()).collect())
}

/// `bpf_skb_store_bytes(skb, off, from, len, flags)` -> `bpf_xdp_store_bytes(ctx, off, from,
/// len)`: XDP's twin takes no flags (checksum or hash updates have no meaning there).
fn without_flags(args: &[&str]) -> Option<Vec<String>> {
    (args.len() == 5 && args[4].trim() == "0").then(|| same(&args[..4]))?
}

/// `bpf_xdp_store_bytes(ctx, off, from, len)` -> `bpf_skb_store_bytes(skb, off, from, len, 0)`.
fn with_no_flags(args: &[&str]) -> Option<Vec<String>> {
    let mut out = same(args).filter(|a| a.len() == 4)?;
    out.push("0".into());
    Some(out)
}

const XDP: &[&str] = &["Xdp"];
const TC: &[&str] = &["SchedClassifier"];

/// Every replacement the tool prints.
const SWAPS: &[Swap] = &[
    Swap {
        types: XDP,
        from: "bpf_redirect_peer",
        to: "bpf_redirect",
        args: same,
        note: "it sends the frame out of that device (XDP_REDIRECT); XDP has no redirect into \
               a veth or netkit peer's namespace, which needs a TC ingress program \
               (SEC(\"tc\")) calling bpf_redirect_peer",
    },
    Swap {
        types: XDP,
        from: "bpf_skb_load_bytes",
        to: "bpf_xdp_load_bytes",
        args: same,
        note: "XDP's copy of packet bytes, with the same arguments",
    },
    Swap {
        types: XDP,
        from: "bpf_skb_store_bytes",
        to: "bpf_xdp_store_bytes",
        args: without_flags,
        note: "XDP's write of packet bytes, which takes no flags",
    },
    Swap {
        types: TC,
        from: "bpf_xdp_load_bytes",
        to: "bpf_skb_load_bytes",
        args: same,
        note: "TC's copy of packet bytes, with the same arguments",
    },
    Swap {
        types: TC,
        from: "bpf_xdp_store_bytes",
        to: "bpf_skb_store_bytes",
        args: with_no_flags,
        note: "TC's write of packet bytes; its last argument, flags, is 0 (no checksum update)",
    },
];

/// The probe-read helpers whose job, on packet data, is a plain read after a bounds check.
const PROBE_READS: &[&str] = &["bpf_probe_read", "bpf_probe_read_kernel"];

/// The fix that calls the helper this program type offers for the same job, or reads the
/// packet directly where the program read it with `bpf_probe_read*`. `None` when there is
/// no clear equivalent or the call is not of the expected shape.
pub(crate) fn swap_fix(c: &Ctx<'_>, helper: &str) -> Option<Fix> {
    let program_type = c.facts.program_type?;
    let line = c.line()?;
    let text = c.line_source()?;
    if PROBE_READS.contains(&helper) && (XDP.contains(&program_type) || TC.contains(&program_type))
    {
        return direct_read(c, helper, line, &text);
    }
    let swap = SWAPS
        .iter()
        .find(|s| s.from == helper && s.types.contains(&program_type))?;
    let code = rewrite::rewrite_call(&text, swap.from, swap.to, swap.args)?;
    Some(replace(
        format!(
            "Call {} instead: {}. If the code needs {} itself, move it to a program type that \
             may call it.",
            swap.to, swap.note, swap.from
        ),
        Some(line),
        code.trim_start().to_string(),
    ))
}

/// `bpf_probe_read(dst, size, src);` of packet data (`src` a packet pointer, `size` a
/// constant) becomes a bounds check against the packet's end and a copy:
/// `if ((void *)(src) + size > data_end) return PASS; __builtin_memcpy(dst, src, size);`.
fn direct_read(c: &Ctx<'_>, helper: &str, line: u32, text: &str) -> Option<Fix> {
    // The source (third argument, R3) must be a packet pointer and the size (R2) a constant.
    let src_reg = c.facts.reg(3)?;
    let size_reg = c.facts.reg(2)?;
    if src_reg.type_name != "pkt" || size_reg.value.is_none() {
        return None;
    }
    // A whole statement in the entry function: the early return then leaves the program.
    let spot = c.found.location.as_ref()?;
    if !spot.inlined_from.is_empty() {
        return None;
    }
    let statement = text.split("//").next().unwrap_or(text).trim();
    let args = rewrite::call_arguments(statement, helper)?;
    if !statement.starts_with(&format!("{helper}(")) || !statement.ends_with(");") {
        return None;
    }
    let [dst, size, src] = args.as_slice() else {
        return None;
    };
    let fault = c.found.instruction.as_ref()?.index;
    let end = c.facts.data_end(Some(fault));
    let pass = c.pass();
    let body = format!(
        "if ((void *)({src}) + {size} > {end})\n\treturn {pass};\n__builtin_memcpy({dst}, {src}, {size});"
    );
    let code = if after_control(c, line) {
        let inner: Vec<String> = body.lines().map(|l| format!("\t{l}")).collect();
        format!("{{\n{}\n}}", inner.join("\n"))
    } else {
        body
    };
    Some(replace(
        format!(
            "Read the packet directly instead of with {helper}, which this program type may not \
             call: check that the {size} bytes lie before the packet's end (a shorter frame \
             returns {pass}), then copy them. bpf_xdp_load_bytes/bpf_skb_load_bytes copy \
             packet bytes too, given their offset from the packet's start."
        ),
        Some(line),
        code,
    ))
}

/// Whether the code line before `line` is a control statement without a brace (`if (...)`,
/// `else`, `for (...)`), whose body the faulting line is.
fn after_control(c: &Ctx<'_>, line: u32) -> bool {
    let Some(fault) = c.found.instruction.as_ref().map(|i| i.index) else {
        return false;
    };
    let previous = (1..line).rev().find_map(|l| {
        let text = c.facts.source_line(fault, l)?;
        let code = text.split("//").next().unwrap_or("").trim().to_string();
        (!code.is_empty()).then_some(code)
    });
    previous.is_some_and(|p| p.ends_with(')') || p == "else" || p.ends_with(" else"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_swap_has_a_distinct_helper_per_type() {
        for (i, s) in SWAPS.iter().enumerate() {
            assert_ne!(s.from, s.to);
            assert!(
                SWAPS[..i]
                    .iter()
                    .all(|o| o.from != s.from || o.types != s.types)
            );
        }
    }

    #[test]
    fn store_flags_are_dropped_or_added() {
        assert_eq!(
            without_flags(&["ctx", "0", "&v", "4", "0"]),
            Some(vec!["ctx".into(), "0".into(), "&v".into(), "4".into()])
        );
        assert_eq!(
            without_flags(&["skb", "0", "&v", "4", "BPF_F_RECOMPUTE_CSUM"]),
            None
        );
        assert_eq!(
            with_no_flags(&["ctx", "0", "&v", "4"]).map(|a| a.len()),
            Some(5)
        );
    }
}
