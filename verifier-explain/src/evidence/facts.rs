//! The facts about one rejection: the parsed log and, when there is one, the object's debug
//! information, with the look-ups every part of an explanation makes (the line of an
//! instruction, the variable a register holds, where a register's value came from).

use super::Variable;
use crate::debuginfo::{
    self, DebugInfo, Place, ProgramLayout, variable_in_register, variable_in_slot,
};
use crate::log::insn;
use crate::log::{LogSummary, RegState, SourceComment};

/// The object a log came from: its debug information and the program's instruction layout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    /// The object's DWARF/BTF.
    pub(crate) debug: &'a DebugInfo,
    /// Where each instruction of the program came from.
    pub(crate) layout: &'a ProgramLayout,
}

/// Everything the explanation's parts look up.
pub(crate) struct Facts<'a> {
    pub(crate) summary: &'a LogSummary,
    pub(crate) source: Option<Source<'a>>,
    pub(crate) program_type: Option<&'a str>,
    pub(crate) fault: Option<u32>,
}

impl Facts<'_> {
    /// The source line of instruction `idx`: (file, line, column), exact when the object is
    /// known, else from the log's comments.
    pub(crate) fn line_of(&self, idx: u32) -> Option<(String, u32, u32)> {
        if let Some(src) = self.source {
            // Line 0 marks code the compiler made up: it belongs to the nearest earlier
            // instruction of the same function that has a line.
            let start = src.layout.function_at(idx).map_or(0, |f| f.start);
            let loc = (start..=idx)
                .rev()
                .filter_map(|i| src.debug.source_at(src.layout.address(i)?))
                .find(|l| l.line > 0)?;
            return Some((loc.file.display().to_string(), loc.line, loc.column));
        }
        let c = self.comment_before(idx)?;
        Some((c.file.clone()?, c.line?, 0))
    }

    /// The text of a source line (from the file), or the log's comment for `idx`.
    pub(crate) fn text_of(&self, idx: u32) -> Option<String> {
        if let Some(src) = self.source {
            let (file, line, _) = self.line_of(idx)?;
            return src
                .debug
                .source_line(std::path::Path::new(&file), line)
                .map(|l| l.trim().to_string());
        }
        let c = self.comment_before(idx)?;
        Some(c.text.trim().to_string())
    }

    /// The text of line `line` (untrimmed) of the source file instruction `idx` comes from.
    pub(crate) fn source_line(&self, idx: u32, line: u32) -> Option<String> {
        let src = self.source?;
        let loc = src.debug.source_at(src.layout.address(idx)?)?;
        src.debug.source_line(&loc.file, line)
    }

    /// The log's last source comment at or before `idx` that names a real line (`@ f.c:0`
    /// comments carry no line).
    pub(crate) fn comment_before(&self, idx: u32) -> Option<&SourceComment> {
        self.summary
            .comments
            .range(..=idx)
            .rev()
            .map(|(_, c)| c)
            .find(|c| c.line.is_some_and(|l| l > 0))
    }

    /// Whether the program's source is Rust (fixes are then written in Rust).
    pub(crate) fn is_rust(&self) -> bool {
        self.fault
            .and_then(|i| self.line_of(i))
            .is_some_and(|(file, _, _)| file.ends_with(".rs"))
    }

    /// Every other variable that also lives in register `reg` at instruction `idx`.
    pub(crate) fn aliases_in_reg(&self, idx: u32, reg: u8) -> Vec<String> {
        let Some(src) = self.source else {
            return Vec::new();
        };
        let Some(addr) = src.layout.address(idx) else {
            return Vec::new();
        };
        let mut names: Vec<String> = src
            .debug
            .variables_at(addr)
            .into_iter()
            .filter(|v| v.place == Place::Register(reg))
            .map(|v| v.name)
            .skip(1)
            .collect();
        names.dedup();
        names
    }

    /// The variables whose location is register `reg` at instruction `idx`.
    pub(crate) fn var_in_reg(&self, idx: u32, reg: u8) -> Option<Variable> {
        let src = self.source?;
        let vars = src.debug.variables_at(src.layout.address(idx)?);
        variable_in_register(&vars, reg).cloned().map(variable)
    }

    /// The variable that lives in stack slot fp+`off` at instruction `idx`.
    pub(crate) fn var_in_slot(&self, idx: u32, off: i64) -> Option<Variable> {
        let src = self.source?;
        let vars = src.debug.variables_at(src.layout.address(idx)?);
        variable_in_slot(&vars, off).cloned().map(variable)
    }

    /// Every variable declared in the scopes around instruction `idx`.
    pub(crate) fn vars_in_scope(&self, idx: u32) -> Vec<debuginfo::Variable> {
        let Some(src) = self.source else {
            return Vec::new();
        };
        src.layout
            .address(idx)
            .map(|a| src.debug.variables_in_scope(a))
            .unwrap_or_default()
    }

    /// The state of register `reg` just before the faulting instruction.
    pub(crate) fn reg(&self, reg: u8) -> Option<&RegState> {
        self.summary.regs_before_error.iter().find(|r| r.reg == reg)
    }

    /// The path step (index into `summary.path`) that last wrote `reg` before the fault.
    pub(crate) fn last_write(&self, reg: u8) -> Option<usize> {
        self.write_before(reg, self.summary.path.len().saturating_sub(1))
    }

    /// The path step before position `end` that last wrote `reg`.
    pub(crate) fn write_before(&self, reg: u8, end: usize) -> Option<usize> {
        let path = &self.summary.path;
        (0..end.min(path.len())).rev().find(|&i| {
            insn::destination(&path[i].text) == Some(reg)
                || (reg == 0 && insn::is_call(&path[i].text))
        })
    }

    /// The source variable a register's value came from, following copies (`r2 = r0`) back
    /// along the path: compilers often keep a copy in a register the variable's location list
    /// does not name. Returns the variable and where it was computed.
    pub(crate) fn trace(&self, reg: u8, before: usize) -> Option<(Variable, u32)> {
        let path = &self.summary.path;
        let (mut reg, mut end) = (reg, before);
        for _ in 0..8 {
            let i = self.write_before(reg, end)?;
            let after = path.get(i + 1)?;
            if let Some(v) = self.var_in_reg(after.idx, reg) {
                return Some((v, path[i].idx));
            }
            let text = path[i].text.trim();
            let Some((lhs, rhs)) = text.split_once(" = ") else {
                return self
                    .declared_on_line_of(path[i].idx)
                    .map(|v| (v, path[i].idx));
            };
            let (dst, src) = (insn::registers(lhs), insn::registers(rhs));
            if src.is_empty() || insn::is_call(text) {
                // A constant (a map address, a number) or a call's result: nothing to follow.
                return None;
            }
            if dst.len() != 1 || src.len() != 1 || rhs.contains('(') {
                return self
                    .declared_on_line_of(path[i].idx)
                    .map(|v| (v, path[i].idx));
            }
            if let Some(v) = self.var_in_reg(path[i].idx, src[0]) {
                return Some((v, path[i].idx));
            }
            reg = src[0];
            end = i;
        }
        None
    }

    /// A variable without a location that is declared on the source line of instruction `idx`
    /// (`int hop = 64 - iph->ttl;` computes `hop` even when DWARF lost it).
    pub(crate) fn declared_on_line_of(&self, idx: u32) -> Option<Variable> {
        let (file, line, _) = self.line_of(idx)?;
        let fault = self.fault?;
        let v = self.vars_in_scope(fault).into_iter().find(|v| {
            v.decl_line == Some(line)
                && v.decl_file
                    .as_ref()
                    .is_none_or(|f| f.display().to_string() == file)
        })?;
        let mut v = variable(v);
        v.inferred = true;
        Some(v)
    }

    /// The variable called `name` in the scopes around instruction `idx`, marked as inferred
    /// (named from the source rather than found in a register or slot).
    pub(crate) fn in_scope_named(&self, idx: u32, name: &str) -> Option<Variable> {
        let v = self
            .vars_in_scope(idx)
            .into_iter()
            .find(|v| v.name == name)?;
        let mut v = variable(v);
        v.inferred = true;
        Some(v)
    }

    /// The variables whose values the instruction at path position `i` combined (`r3 += r1`:
    /// the pointer and the index; `r1 = *(u32 *)(r0 +0)`: the pointer read through).
    pub(crate) fn inputs(&self, i: usize) -> Vec<String> {
        let Some(step) = self.summary.path.get(i) else {
            return Vec::new();
        };
        let text = step.text.trim();
        let regs: Vec<u8> = match text.split_once(" = ") {
            Some((_, rhs)) => insn::registers(rhs),
            None => insn::registers(text),
        };
        let mut names = Vec::new();
        for r in regs.into_iter().filter(|&r| r != 10) {
            let found = self
                .var_in_reg(step.idx, r)
                .or_else(|| self.trace(r, i).map(|(v, _)| v));
            if let Some(v) = found
                && !names.contains(&v.name)
            {
                names.push(v.name);
            }
        }
        names
    }

    /// `line N` (or `insn N`) for instruction `idx`.
    pub(crate) fn where_(&self, idx: u32) -> String {
        match self.line_of(idx) {
            Some((_, line, _)) => format!("line {line}"),
            None => format!("instruction {idx}"),
        }
    }

    /// The value a program returns to let the packet (or event) go on unharmed.
    pub(crate) fn pass_value(&self) -> &'static str {
        match self.program_type.unwrap_or("") {
            "Xdp" => "XDP_PASS",
            "SchedClassifier" => "TC_ACT_OK",
            "CgroupSkb" => "1",
            _ => "0",
        }
    }

    /// Whether a backward jump encloses instruction `idx` (it lies in a loop).
    pub(crate) fn in_loop(&self, idx: u32) -> bool {
        self.summary
            .insns
            .iter()
            .any(|(&j, (_, text))| j >= idx && insn::jump_target(j, text).is_some_and(|t| t <= idx))
    }

    /// The packet-end expression in the program's own words.
    pub(crate) fn data_end(&self, idx: Option<u32>) -> String {
        let vars = idx.map(|i| self.vars_in_scope(i)).unwrap_or_default();
        if let Some(v) = vars
            .iter()
            .find(|v| v.name == "data_end" || v.name == "end" || v.name.ends_with("_end"))
        {
            return v.name.clone();
        }
        // The context is the program's own parameter, not an inlined helper's (`data` in
        // `rewrite(void *data)`).
        let ctx = idx
            .and_then(|i| self.ctx_param(i))
            .unwrap_or_else(|| "ctx".to_string());
        format!("(void *)(long){ctx}->data_end")
    }

    /// The source line of the call that produced the possibly-NULL pointer.
    pub(crate) fn null_call_line(&self) -> Option<u32> {
        let step =
            self.summary.path.iter().rev().find(|s| {
                insn::is_call(&s.text) && s.regs.iter().any(|r| r.reg == 0 && r.or_null)
            })?;
        self.line_of(step.idx).map(|(_, l, _)| l)
    }

    /// The variable added to `name` where the source declares it (`optdata` for
    /// `__u8 *val = opts + optdata;`), when that is a variable in scope at `idx`.
    pub(crate) fn declared_offset(&self, idx: u32, name: &str) -> Option<String> {
        let src = self.source?;
        let v = self
            .vars_in_scope(idx)
            .into_iter()
            .find(|v| v.name == name)?;
        let text = src.debug.source_line(v.decl_file.as_ref()?, v.decl_line?)?;
        let rhs = text.split_once(&format!("{name} ="))?.1;
        let rhs = rhs.split(';').next()?;
        let (_, added) = rhs.rsplit_once('+')?;
        let added = added.trim().trim_end_matches(')').trim();
        (added.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !added.starts_with(|c: char| c.is_ascii_digit())
            && self.vars_in_scope(idx).iter().any(|v| v.name == added))
        .then(|| added.to_string())
    }

    /// Where the number in register `reg` at the fault came from, following copies back.
    pub(crate) fn scalar_origin(&self, reg: u8) -> ScalarOrigin {
        let path = &self.summary.path;
        let end = path.len().saturating_sub(1);
        let (mut reg, mut at) = (reg, end);
        for _ in 0..16 {
            let Some(i) = self.write_before(reg, at) else {
                break;
            };
            let step = &path[i];
            let text = step.text.trim();
            // A packet pointer, later invalidated by a helper that may change the packet.
            let was_packet = step.regs.iter().any(|r| {
                r.reg == reg && r.type_name.starts_with("pkt") && r.type_name != "pkt_end"
            });
            if was_packet {
                if let Some(call) = path[i + 1..end]
                    .iter()
                    .find(|s| insn::helper_name(&s.text).is_some_and(changes_packet))
                {
                    return ScalarOrigin::PacketInvalidated {
                        helper: insn::helper_name(&call.text)
                            .unwrap_or_default()
                            .to_string(),
                        idx: call.idx,
                    };
                }
                return ScalarOrigin::Unknown;
            }
            if insn::is_call(text) {
                return ScalarOrigin::Call {
                    helper: insn::helper_name(text).unwrap_or_default().to_string(),
                    idx: step.idx,
                };
            }
            let Some((_, rhs)) = text.split_once(" = ") else {
                break;
            };
            let src = insn::registers(rhs);
            if src.is_empty() && !rhs.contains('(') {
                return ScalarOrigin::Constant {
                    value: rhs.trim().to_string(),
                    idx: step.idx,
                };
            }
            if rhs.contains("*(") {
                // A reload of a spilled register follows the slot; any other load read memory.
                if src.first() == Some(&10) {
                    let off = rhs
                        .rsplit_once('-')
                        .and_then(|(_, n)| n.trim_end_matches(')').trim().parse::<i64>().ok());
                    if let Some(off) = off
                        && let Some(j) = (0..i).rev().find(|&j| {
                            path[j]
                                .text
                                .trim()
                                .starts_with(&format!("*(u64 *)(r10 -{off}) = r"))
                        })
                        && let Some(&r) =
                            insn::registers(path[j].text.split_once(" = ").map_or("", |x| x.1))
                                .first()
                    {
                        reg = r;
                        at = j;
                        continue;
                    }
                }
                return ScalarOrigin::Load { idx: step.idx };
            }
            // A plain copy, 64-bit (`r0 = r6`) or of the low halves (`w0 = w6`, -mcpu=v3).
            if src.len() == 1
                && (rhs.trim() == format!("r{}", src[0]) || rhs.trim() == format!("w{}", src[0]))
            {
                reg = src[0];
                at = i;
                continue;
            }
            break;
        }
        ScalarOrigin::Unknown
    }

    /// The variable added to the pointer in register `reg` (the faulting access's pointer):
    /// the writes of that register are followed back through copies to the `+=`/`-=` that gave
    /// it its variable part, and the variable added there is returned (`i` in `&arr[i]`), not
    /// whatever the last addition of the whole path added. Without a register, the last
    /// addition on the path.
    pub(crate) fn index_variable(&self, reg: Option<u8>) -> Option<String> {
        let path = &self.summary.path;
        let added = |pos: usize| -> Option<String> {
            let step = &path[pos];
            let (_, rhs) = step
                .text
                .trim()
                .split_once(" += ")
                .or_else(|| step.text.trim().split_once(" -= "))?;
            let &r = insn::registers(rhs).first()?;
            self.var_in_reg(step.idx, r)
                .or_else(|| self.trace(r, pos).map(|(v, _)| v))
                .map(|v| v.name)
        };
        let Some(mut reg) = reg else {
            return (0..path.len().saturating_sub(1)).rev().find_map(added);
        };
        let mut end = path.len().saturating_sub(1);
        for _ in 0..16 {
            let i = self.write_before(reg, end)?;
            if let Some(v) = added(i) {
                return Some(v);
            }
            let text = path[i].text.trim();
            let (_, rhs) = text.split_once(" = ")?;
            let src = insn::registers(rhs);
            // Follow a plain copy (`r1 = r7`); anything else ends the chain.
            if src.len() != 1 || rhs.contains('(') || rhs.trim() != format!("r{}", src[0]) {
                return None;
            }
            reg = src[0];
            end = i;
        }
        None
    }
}

impl Facts<'_> {
    /// The program's context parameter (`ctx` in `int prog(struct xdp_md *ctx)`): the first
    /// parameter, in the scopes around instruction `idx`, of a function that is not inlined
    /// there. An inlined helper's own parameters (`data` in `rewrite(void *data)`) are not the
    /// context, and are skipped.
    pub(crate) fn ctx_param(&self, idx: u32) -> Option<String> {
        self.vars_in_scope(idx)
            .into_iter()
            .find(|v| v.parameter && !v.inlined)
            .map(|v| v.name)
    }

    /// Whether instruction `idx` comes from a function inlined into another: names of the
    /// outer function (its context parameter, its locals) are not visible on its source line.
    pub(crate) fn in_inlined(&self, idx: u32) -> bool {
        self.vars_in_scope(idx).iter().any(|v| v.inlined)
    }

    /// The largest stack depth the verifier reported for a function of the program, bytes.
    pub(crate) fn stack_used(&self) -> u64 {
        self.summary
            .stats
            .stack_depth
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// The member of the struct a pointer of C type `ptr_type` (`struct __sk_buff *`) points
    /// to that holds byte `offset`.
    pub(crate) fn member_at(&self, ptr_type: &str, offset: i64) -> Option<&str> {
        let name = ptr_type
            .trim()
            .strip_suffix('*')?
            .split_whitespace()
            .filter(|w| !matches!(*w, "const" | "volatile" | "struct" | "union"))
            .collect::<Vec<_>>();
        let [name] = name.as_slice() else {
            return None;
        };
        self.source?
            .debug
            .struct_member_at(name, u64::try_from(offset).ok()?)
    }
}

fn variable(v: debuginfo::Variable) -> Variable {
    Variable {
        name: v.name,
        type_name: v.type_name,
        function: v.function,
        parameter: v.parameter,
        inlined: v.inlined,
        inferred: false,
    }
}

/// Where a number a program dereferenced came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScalarOrigin {
    /// A helper's result (`bpf_get_current_task()` returns an address as a plain number).
    Call {
        /// The helper.
        helper: String,
        /// The call instruction.
        idx: u32,
    },
    /// A constant the program computed (a pointer built from a number, `(void *)0 + 12`).
    Constant {
        /// The constant as the instruction writes it.
        value: String,
        /// The instruction.
        idx: u32,
    },
    /// A value read from memory (a map value, a probe read into the stack, the context).
    Load {
        /// The load instruction.
        idx: u32,
    },
    /// A packet pointer that a helper which may move the packet made invalid.
    PacketInvalidated {
        /// That helper.
        helper: String,
        /// Its call instruction.
        idx: u32,
    },
    /// Not found on the path (for example values merged from several paths).
    Unknown,
}

/// Helpers after which every packet pointer must be reloaded and checked again.
fn changes_packet(helper: &str) -> bool {
    [
        "skb_store_bytes",
        "l3_csum_replace",
        "l4_csum_replace",
        "skb_change_",
        "skb_adjust_room",
        "skb_pull_data",
        "skb_vlan_",
        "xdp_adjust_",
        "clone_redirect",
        "lwt_push_encap",
        "lwt_seg6_",
        "msg_pull_data",
        "msg_push_data",
        "msg_pop_data",
    ]
    .iter()
    .any(|h| helper.contains(h))
}

#[cfg(test)]
mod tests {
    use super::changes_packet;

    #[test]
    fn helpers_that_may_move_the_packet_are_recognised() {
        for h in [
            "bpf_skb_store_bytes",
            "bpf_l3_csum_replace",
            "bpf_xdp_adjust_head",
            "bpf_skb_change_tail",
            "bpf_skb_pull_data",
        ] {
            assert!(changes_packet(h), "{h}");
        }
        for h in ["bpf_skb_load_bytes", "bpf_map_lookup_elem", "bpf_redirect"] {
            assert!(!changes_packet(h), "{h}");
        }
    }
}
