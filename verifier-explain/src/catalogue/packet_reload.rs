//! Taking a packet pointer again after a helper that may move the packet
//! (bpf_skb_store_bytes(), bpf_l3_csum_replace(), bpf_xdp_adjust_head()...): the verifier
//! forgets every packet pointer at such a call, so the program reloads the packet's start and
//! end from its context, recomputes the pointer the way it computed it before the call (its
//! last assignment in the source, and the assignments of the pointers that one is made from)
//! and checks it against the end again.

use super::source_text::{code_only, evaluated, identifiers, is_ident, last_assignment};

/// A variable in scope at the fault, as the rewrite needs it.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    /// Its name.
    pub name: String,
    /// Its C type (`struct iphdr *`), when known.
    pub type_name: Option<String>,
    /// The line that declares it.
    pub decl_line: Option<u32>,
}

/// What the reload reads: the program's context and variables.
pub(crate) struct Packet<'a> {
    /// The context parameter's name (`skb`, `ctx`).
    pub ctx: &'a str,
    /// The variables in scope at the fault.
    pub vars: &'a [Var],
    /// What the program returns when the packet is now too short (`TC_ACT_OK`).
    pub pass: &'a str,
}

/// The reload's code and the variables it recomputes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reload {
    /// The statements, one per line (a check's `return` indented by a tab).
    pub code: String,
    /// The pointer's recomputation as the code writes it (`ip4 = data + ETH_HLEN`).
    pub recomputed: String,
}

/// Whether `text` reads the context field `ctx->field` (and not a longer field name).
fn reads_field(text: &str, ctx: &str, field: &str) -> bool {
    let key = format!("{ctx}->{field}");
    text.match_indices(&key).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + key.len()..].chars().next();
        !before.is_some_and(|c| is_ident(c) || c == '.')
            && !after.is_some_and(|c| is_ident(c) || c == '-')
    })
}

/// Whether a C type is a pointer to a struct or union (whose `p + 1` is the end of what `p`
/// points to).
fn struct_pointer(type_name: &str) -> bool {
    let t = type_name.trim();
    (t.starts_with("struct ") || t.starts_with("union "))
        && t.ends_with('*')
        && !t.trim_end_matches('*').trim_end().ends_with('*')
        && !t.contains("const")
}

/// The check that `ptr` is followed by a whole object of its type in the packet.
fn check(ptr: &str, end: &str, pass: &str) -> String {
    format!("if ((void *)({ptr} + 1) > {end})\n\treturn {pass};")
}

/// The program's own variable holding the packet's `field` (`data`, `data_end`): a pointer
/// variable last assigned from `ctx->field` before line `before`.
fn holding<'v>(
    text: &dyn Fn(u32) -> Option<String>,
    p: &Packet<'v>,
    field: &str,
    before: u32,
) -> Option<&'v Var> {
    p.vars.iter().find(|v| {
        v.decl_line.is_some_and(|d| {
            last_assignment(text, &v.name, d, before)
                .is_some_and(|(_, rhs)| reads_field(&rhs, p.ctx, field))
        }) && v
            .type_name
            .as_deref()
            .is_some_and(|t| t.ends_with('*') && !t.contains("const"))
    })
}

/// What recomputing the pointers needs: the order to compute them in (the ones a pointer is
/// made from first) with each one's computation, and whether the packet's start variable is
/// read.
#[derive(Default)]
struct Plan {
    order: Vec<(String, String)>,
    needs_data: bool,
}

/// Adds `name` to `plan` after the pointers its last assignment before `before` is made from.
fn visit(
    text: &dyn Fn(u32) -> Option<String>,
    p: &Packet<'_>,
    name: &str,
    before: u32,
    depth: u32,
    plan: &mut Plan,
) -> Option<()> {
    if plan.order.iter().any(|(n, _)| n == name) {
        return Some(());
    }
    if depth > 4 {
        return None;
    }
    let data = holding(text, p, "data", before);
    let data_end = holding(text, p, "data_end", before);
    let v = p.vars.iter().find(|v| v.name == name)?;
    let (_, rhs) = last_assignment(text, name, v.decl_line?, before)?;
    let used = evaluated(&rhs);
    let mut from_packet = reads_field(&used, p.ctx, "data");
    for (_, id) in identifiers(&used) {
        if id == p.ctx {
            // The context is read only for the packet's start.
            if !reads_field(&used, p.ctx, "data") {
                return None;
            }
        } else if data.is_some_and(|d| d.name == id) {
            plan.needs_data = true;
            from_packet = true;
        } else if data_end.is_some_and(|d| d.name == id) {
            return None;
        } else if p
            .vars
            .iter()
            .any(|d| d.name == id && d.type_name.as_deref().is_some_and(|t| t.ends_with('*')))
        {
            visit(text, p, &id, before, depth + 1, plan)?;
            from_packet = true;
        }
    }
    if !from_packet {
        return None;
    }
    plan.order.push((name.to_string(), rhs));
    Some(())
}

/// The statements that make the pointers `ptrs` (the faulting one first) packet pointers again
/// before line `fault`: the packet's start and end reloaded (into the program's own
/// `data`/`data_end` variables when it has them), each pointer and the pointers it is made from
/// recomputed, and each checked against the end. `None` when a computation is not one the
/// rewrite can repeat (not made from the packet's start).
pub(crate) fn reload(
    text: &dyn Fn(u32) -> Option<String>,
    ptrs: &[&str],
    fault: u32,
    p: &Packet<'_>,
) -> Option<Reload> {
    let mut plan = Plan::default();
    for ptr in ptrs {
        visit(text, p, ptr, fault, 0, &mut plan)?;
    }
    let data = holding(text, p, "data", fault);
    let data_end = holding(text, p, "data_end", fault);
    let end = data_end.map_or_else(
        || format!("(void *)(long){}->data_end", p.ctx),
        |v| v.name.clone(),
    );
    let mut lines = Vec::new();
    if plan.needs_data {
        lines.push(format!("{} = (void *)(long){}->data;", data?.name, p.ctx));
    }
    if let Some(v) = data_end {
        lines.push(format!("{} = (void *)(long){}->data_end;", v.name, p.ctx));
    }
    let mut recomputed = String::new();
    for (i, (name, rhs)) in plan.order.iter().enumerate() {
        lines.push(format!("{name} = {rhs};"));
        // A pointer read through (`iph->ihl`) by a later computation is checked before it.
        let read_later = plan.order[i + 1..]
            .iter()
            .any(|(_, later)| code_only(&evaluated(later)).contains(&format!("{name}->")));
        if ptrs.contains(&name.as_str()) || read_later {
            let v = p.vars.iter().find(|v| v.name == *name)?;
            if !v.type_name.as_deref().is_some_and(struct_pointer) {
                return None;
            }
            lines.push(check(name, &end, p.pass));
        }
        if Some(&name.as_str()) == ptrs.first() {
            recomputed = format!("{name} = {rhs}");
        }
    }
    Some(Reload {
        code: lines.join("\n"),
        recomputed,
    })
}

/// The other packet pointers that lines `fault..=last` read through (`udp->dest`) while they
/// still hold what they held before the helper on line `helper` (assigned before it): they
/// are as stale as the faulting one. Only those the rewrite can recompute.
pub(crate) fn also_stale(
    text: &dyn Fn(u32) -> Option<String>,
    ptr: &str,
    helper: u32,
    fault: u32,
    last: u32,
    p: &Packet<'_>,
) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for n in fault..=last {
        let Some(line) = text(n) else {
            break;
        };
        let code = code_only(&line);
        for v in p.vars {
            if v.name == ptr || found.contains(&v.name) {
                continue;
            }
            let reads = code.match_indices(&format!("{}->", v.name)).any(|(i, _)| {
                !code[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| is_ident(c) || c == '.' || c == '>')
            });
            let stale = v
                .decl_line
                .and_then(|d| last_assignment(text, &v.name, d, n))
                .is_some_and(|(l, _)| l < helper);
            if reads && stale && visit(text, p, &v.name, fault, 0, &mut Plan::default()).is_some() {
                found.push(v.name.clone());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::source_text::numbered as source;

    fn var(name: &str, type_name: &str, decl_line: u32) -> Var {
        Var {
            name: name.into(),
            type_name: Some(type_name.into()),
            decl_line: Some(decl_line),
        }
    }

    const PROGRAM: &str = "{\n\
        \tvoid *data = (void *)(long)skb->data;\n\
        \tvoid *data_end = (void *)(long)skb->data_end;\n\
        \tstruct ethhdr *eth = data;\n\
        \tstruct iphdr *iph = (void *)(eth + 1);\n\
        \tstruct udphdr *udp = (void *)iph + iph->ihl * 4;\n\
        \tbpf_skb_store_bytes(skb, 0, &x, 4, 0);\n\
        \ty = udp->dest + iph->ttl + sizeof(*eth);\n";

    fn packet<'a>(vars: &'a [Var], pass: &'a str) -> Packet<'a> {
        Packet {
            ctx: "skb",
            vars,
            pass,
        }
    }

    fn vars() -> Vec<Var> {
        vec![
            var("data", "void *", 2),
            var("data_end", "void *", 3),
            var("eth", "struct ethhdr *", 4),
            var("iph", "struct iphdr *", 5),
            var("udp", "struct udphdr *", 6),
            var("skb", "struct __sk_buff *", 1),
        ]
    }

    #[test]
    fn a_pointer_is_recomputed_from_a_reloaded_start_and_checked() {
        let vars = vars();
        let p = packet(&vars, "TC_ACT_OK");
        let r = reload(&source(PROGRAM), &["iph"], 8, &p).unwrap();
        assert_eq!(
            r.code,
            "data = (void *)(long)skb->data;\ndata_end = (void *)(long)skb->data_end;\n\
             eth = data;\niph = (void *)(eth + 1);\nif ((void *)(iph + 1) > data_end)\n\treturn TC_ACT_OK;"
        );
        assert_eq!(r.recomputed, "iph = (void *)(eth + 1)");
        // A pointer computed from a read through another is computed after that one is checked.
        let r = reload(&source(PROGRAM), &["udp"], 8, &p).unwrap();
        assert!(
            r.code.ends_with(
                "iph = (void *)(eth + 1);\nif ((void *)(iph + 1) > data_end)\n\treturn TC_ACT_OK;\n\
                 udp = (void *)iph + iph->ihl * 4;\nif ((void *)(udp + 1) > data_end)\n\treturn TC_ACT_OK;"
            ),
            "{}",
            r.code
        );
    }

    #[test]
    fn without_variables_the_context_is_read_inline() {
        let text = source(
            "{\n\tstruct iphdr *ip = (void *)(long)skb->data + 14;\n\tf();\n\tx = ip->ttl;\n",
        );
        let vars = vec![var("ip", "struct iphdr *", 2)];
        let p = packet(&vars, "TC_ACT_SHOT");
        assert_eq!(
            reload(&text, &["ip"], 4, &p).unwrap().code,
            "ip = (void *)(long)skb->data + 14;\n\
             if ((void *)(ip + 1) > (void *)(long)skb->data_end)\n\treturn TC_ACT_SHOT;"
        );
        // A pointer that does not come from the packet's start is not recomputed.
        let text = source("{\n\tstruct iphdr *ip = lookup();\n\tf();\n\tx = ip->ttl;\n");
        assert_eq!(reload(&text, &["ip"], 4, &p), None);
    }

    #[test]
    fn other_pointers_read_after_the_helper_are_stale_too() {
        let vars = vars();
        let p = packet(&vars, "TC_ACT_OK");
        assert_eq!(
            also_stale(&source(PROGRAM), "iph", 7, 8, 8, &p),
            vec!["udp".to_string()]
        );
        let r = reload(&source(PROGRAM), &["iph", "udp"], 8, &p).unwrap();
        assert_eq!(r.code.matches("iph = ").count(), 1);
        assert_eq!(r.code.matches("return").count(), 2);
    }
}
