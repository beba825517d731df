//! The grammar of register and stack-slot states as the verifier prints them.
//!
//! A state is a space-separated list of items: an optional `frameN:` prefix, registers
//! (`R3=pkt(off=14,r=14)`, `R1_w=inv(id=0,umax_value=255,var_off=(0x0; 0xff))`, `R2=P8186`),
//! stack slots (`fp-8=mmmm????`, `fp-24=ctx()`, `fp-8_w=inv0`) and a few markers (`refs=2`,
//! `cb`). Both the kernel 6.x spelling (`scalar`, a `P` prefix for precision, collapsed bounds
//! such as `smin=smin32=0`) and the 5.x one (`inv`, `invP0`, `_w`/`_r`/`_rw`/`_D` liveness
//! suffixes, `umax_value=` names, `imm=`) are understood. Nothing here panics on odd input: an
//! item that does not parse is kept in [`PrintedState::extras`].

use serde::Serialize;

/// The `reg` of a [`RegState`] that describes a value spilled to the stack rather than a
/// register.
pub const SPILLED: u8 = u8::MAX;

/// Registers kept per state text (a real one has at most 11 per frame, 8 frames).
const MAX_REGS: usize = 128;
/// Stack slots kept per state text (a 512-byte stack has 64 per frame).
const MAX_SLOTS: usize = 1024;

/// Register state as printed, e.g. `R3=pkt(off=14,r=14)` or
/// `R1_w=inv(id=0,umax_value=255,var_off=(0x0; 0xff))`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegState {
    /// The register number (`R3` is 3); [`SPILLED`] for a value spilled to a stack slot.
    pub reg: u8,
    /// The call frame whose register this is (0 for the main program).
    pub frame: u32,
    /// A `P` marked the value precise.
    pub precise: bool,
    /// The type as printed, without the `P` and the liveness suffix: `scalar`, `pkt`,
    /// `pkt_end`, `map_value_or_null`, `ptr_sk_buff`, `rdonly_mem`, `ctx`, `fp`, `map_ptr`...
    /// The kernel 5.x `inv` is reported as `scalar`.
    pub type_name: String,
    /// The type ends in `_or_null` (or is a `ptr_or_null_` BTF pointer).
    pub or_null: bool,
    /// `id=`; `id=0` (printed by 5.x kernels for "no id") is `None`.
    pub id: Option<u32>,
    /// `ref_obj_id=`; 0 is `None`.
    pub ref_obj_id: Option<u32>,
    /// `off=`, or the offset of a stack pointer printed as `fp-8`.
    pub off: Option<i64>,
    /// `r=`: the packet bytes proven readable past the pointer's base.
    pub range: Option<i64>,
    /// A known constant: a bare number (`R3=40`), `imm=` or `smin` equal to `smax`. Set for
    /// scalars only (a pointer's constant offset is in `off`/`attrs`).
    pub value: Option<i64>,
    /// Signed 64-bit minimum (`smin=`, `smin_value=`; a constant's value).
    pub smin: Option<i64>,
    /// Signed 64-bit maximum.
    pub smax: Option<i64>,
    /// Unsigned 64-bit minimum.
    pub umin: Option<u64>,
    /// Unsigned 64-bit maximum.
    pub umax: Option<u64>,
    /// `var_off=(value; mask)`: the bits known (value) and unknown (mask).
    pub var_off: Option<(u64, u64)>,
    /// Every `key=value` inside the parentheses in order, collapsed forms expanded
    /// (`smin=smin32=0` gives `smin` and `smin32`). A stack pointer into another frame
    /// (`fp[0]`) adds `frameno`.
    pub attrs: Vec<(String, String)>,
    /// The liveness suffix of kernels up to about 6.16 (`w`, `r`, `rw`, `D`), if printed.
    pub liveness: Option<String>,
    /// The raw text after `=`.
    pub text: String,
}

/// A stack slot as printed, e.g. `fp-8=mmmm????` or `fp-24=ctx()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlotState {
    /// Offset from the frame pointer: -8 for `fp-8`.
    pub off: i64,
    /// The call frame the slot belongs to.
    pub frame: u32,
    /// The raw text after `=`: one character per byte (`?` invalid, `r` spill, `m` misc,
    /// `0` zero, `d` dynptr, `i` iterator, `f` irq flag) or a spilled value such as `ctx()`.
    pub text: String,
    /// The spilled value, when the slot holds a whole register (its `reg` is [`SPILLED`]).
    pub spilled: Option<RegState>,
    /// The liveness suffix of older kernels (`w`, `r`, `rw`, `D`), if printed.
    pub liveness: Option<String>,
}

/// Everything one state text holds: `frame1: R1=ctx() R10=fp0 fp-8=mmmm???? refs=2`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrintedState {
    /// The frame of the first `frameN:` prefix, 0 without one.
    pub frame: u32,
    /// The registers, in the order printed.
    pub regs: Vec<RegState>,
    /// The stack slots, in the order printed.
    pub slots: Vec<SlotState>,
    /// Other items (`refs=2`, `cb`, `async_cb`, anything unparsed).
    pub extras: Vec<String>,
}

/// Parses a state text such as `R1=ctx() R10=fp0 fp-8=mmmm????`, optionally prefixed by
/// `frameN:`. Never fails: unknown items land in [`PrintedState::extras`]. At most 128
/// registers, 1024 slots and 64 other items are kept.
pub(crate) fn parse_state(text: &str) -> PrintedState {
    let mut out = PrintedState::default();
    let mut frame = None;
    for token in split_top_level(text, b' ') {
        if token.is_empty() {
            continue;
        }
        if let Some(f) = frame_prefix(token) {
            if frame.is_none() && out.regs.is_empty() && out.slots.is_empty() {
                out.frame = f;
            }
            frame = Some(f);
            continue;
        }
        let current = frame.unwrap_or(0);
        if let Some(reg) = RegState::parse(token, current) {
            if out.regs.len() < MAX_REGS {
                out.regs.push(reg);
            }
        } else if let Some(slot) = SlotState::parse(token, current) {
            if out.slots.len() < MAX_SLOTS {
                out.slots.push(slot);
            }
        } else if out.extras.len() < 64 {
            out.extras.push(token.to_string());
        }
    }
    out
}

/// The frame of a state text: its `frameN:` prefix, 0 without one.
pub(crate) fn frame_of(text: &[u8]) -> u32 {
    let t = trim_ascii_start(text);
    let Some(rest) = t.strip_prefix(b"frame") else {
        return 0;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || rest.get(digits) != Some(&b':') {
        return 0;
    }
    rest.get(..digits)
        .map_or(0, |d| parse_dec_u32(d).unwrap_or(0))
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

fn parse_dec_u32(d: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    if d.is_empty() {
        return None;
    }
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
    }
    Some(v)
}

/// `frame3:` gives 3.
fn frame_prefix(token: &str) -> Option<u32> {
    let rest = token.strip_prefix("frame")?.strip_suffix(':')?;
    rest.parse().ok()
}

/// Splits `text` on `sep` outside parentheses and brackets.
fn split_top_level(text: &str, sep: u8) -> TopLevelSplit<'_> {
    TopLevelSplit {
        text,
        sep,
        pos: 0,
        done: false,
    }
}

struct TopLevelSplit<'a> {
    text: &'a str,
    sep: u8,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for TopLevelSplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut depth: u32 = 0;
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'(' | b'[' => depth = depth.saturating_add(1),
                b')' | b']' => depth = depth.saturating_sub(1),
                _ if b == self.sep && depth == 0 => {
                    self.pos = i + 1;
                    return Some(self.text.get(start..i).unwrap_or_default());
                }
                _ => {}
            }
            i += 1;
        }
        self.done = true;
        Some(self.text.get(start..).unwrap_or_default())
    }
}

/// Calls `f(frame, item)` for every item of a state text, with the frame of the `frameN:`
/// prefix before it (0 without one); cheap, for callers that only want some items.
pub(crate) fn for_each_item<'a>(text: &'a str, mut f: impl FnMut(u32, &'a str)) {
    let mut frame = 0;
    for token in split_top_level(text, b' ') {
        if token.is_empty() {
            continue;
        }
        match frame_prefix(token) {
            Some(n) => frame = n,
            None => f(frame, token),
        }
    }
}

/// The register number of a register item (`R3_w=...` gives 3) without parsing its value.
pub(crate) fn reg_number(token: &str) -> Option<u8> {
    let rest = token.strip_prefix('R')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !matches!(rest.as_bytes().get(digits), Some(b'=' | b'_')) {
        return None;
    }
    rest.get(..digits)?.parse().ok().filter(|&r| r != SPILLED)
}

/// The offset of a stack item (`fp-8=...` gives -8) without parsing its value.
pub(crate) fn slot_offset(token: &str) -> Option<i64> {
    let (name, _) = token.split_once('=')?;
    let (base, _) = split_liveness(name);
    parse_i64(base.strip_prefix("fp")?)
}

/// Parses a number as the verifier prints it: decimal or `0x` hex, optionally negative. Hex
/// and large decimals wrap into `i64` (`0xffffffffffffffff` is -1).
pub(crate) fn parse_i64(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u64>().ok()?
    };
    let v = magnitude as i64;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Like [`parse_i64`], reinterpreted as unsigned.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    parse_i64(s).map(|v| v as u64)
}

fn parse_u32_attr(s: &str) -> Option<u32> {
    parse_i64(s).and_then(|v| u32::try_from(v).ok())
}

/// `(0x0; 0xff)` gives `(0, 0xff)`.
fn parse_var_off(s: &str) -> Option<(u64, u64)> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    let (value, mask) = inner.split_once(';')?;
    Some((parse_u64(value)?, parse_u64(mask)?))
}

/// Splits `name_suffix` such as `R1_w` into (`R1`, `Some("w")`).
fn split_liveness(name: &str) -> (&str, Option<&str>) {
    match name.split_once('_') {
        Some((base, live)) if matches!(live, "w" | "r" | "rw" | "D") => (base, Some(live)),
        _ => (name, None),
    }
}

fn is_slot_types(text: &str) -> bool {
    text.len() == 8
        && text
            .bytes()
            .all(|b| matches!(b, b'?' | b'r' | b'm' | b'0' | b'd' | b'i' | b'f'))
}

impl RegState {
    /// Parses one register item, `R3=pkt(off=14,r=14)` or `R1_w=invP0`, of frame `frame`.
    /// Returns `None` when `token` is not a register item.
    pub fn parse(token: &str, frame: u32) -> Option<RegState> {
        let (name, value) = token.split_once('=')?;
        let (base, live) = split_liveness(name);
        let digits = base.strip_prefix('R')?;
        if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let reg: u8 = digits.parse().ok()?;
        if reg == SPILLED {
            return None;
        }
        let mut state = RegState::from_value(value, frame);
        state.reg = reg;
        state.liveness = live.map(str::to_string);
        Some(state)
    }

    /// Parses the text after `=` (`scalar(smin=0,smax=7)`, `fp-8`, `P5`, `inv0`, `ctx()`) into
    /// a state for frame `frame`; `reg` is left [`SPILLED`] for the caller to set.
    pub(crate) fn from_value(value: &str, frame: u32) -> RegState {
        let mut st = RegState {
            reg: SPILLED,
            frame,
            text: value.to_string(),
            ..RegState::default()
        };
        let mut s = value.trim();
        if let Some(rest) = s.strip_prefix('P') {
            st.precise = true;
            s = rest;
        }
        if s.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            st.type_name = "scalar".into();
            if let Some(v) = parse_i64(s) {
                st.set_constant(v);
            }
            return st;
        }
        let name_len = s
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let (name, mut rest) = s.split_at(name_len);
        // 5.x scalars: `inv`, `inv0`, `invP`, `invP0`, `inv-1`.
        if let Some(after) = name.strip_prefix("inv") {
            let after = match after.strip_prefix('P') {
                Some(a) => {
                    st.precise = true;
                    a
                }
                None => after,
            };
            st.type_name = "scalar".into();
            if !after.is_empty() {
                if let Some(v) = parse_i64(after) {
                    st.set_constant(v);
                }
                return st;
            }
        } else if let Some(off) = name
            .strip_prefix("fp")
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        {
            // `fp0`, `fp8`: a stack pointer with a constant offset.
            st.type_name = "fp".into();
            st.off = parse_i64(off);
            return st;
        } else {
            st.type_name = name.to_string();
        }
        // `fp[0]`: a pointer into another frame's stack.
        if let Some(inner) = rest.strip_prefix('[')
            && let Some((n, after)) = inner.split_once(']')
        {
            st.attrs.push(("frameno".into(), n.to_string()));
            rest = after;
        }
        // `fp-24`, `fp[0]-24`, `inv-1`.
        if rest.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            let end = rest
                .char_indices()
                .skip(1)
                .find(|(_, c)| !c.is_ascii_alphanumeric())
                .map_or(rest.len(), |(i, _)| i);
            let (num, after) = rest.split_at(end);
            if let Some(v) = parse_i64(num) {
                if st.type_name == "scalar" {
                    st.set_constant(v);
                } else {
                    st.off = Some(v);
                }
            }
            rest = after;
        }
        if let Some(inner) = rest.strip_prefix('(') {
            let inner = inner.strip_suffix(')').unwrap_or(inner);
            st.parse_attrs(inner);
        }
        st.or_null = st.type_name.ends_with("_or_null") || st.type_name.contains("ptr_or_null_");
        if st.type_name == "scalar"
            && st.value.is_none()
            && let (Some(a), Some(b)) = (st.smin, st.smax)
            && a == b
        {
            st.value = Some(a);
        }
        st
    }

    fn set_constant(&mut self, v: i64) {
        self.value = Some(v);
        self.smin = Some(v);
        self.smax = Some(v);
        self.umin = Some(v as u64);
        self.umax = Some(v as u64);
        self.var_off = Some((v as u64, 0));
    }

    fn parse_attrs(&mut self, inner: &str) {
        for item in split_top_level(inner, b',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let parts: Vec<&str> = split_top_level(item, b'=').collect();
            let Some((value, keys)) = parts.split_last() else {
                continue;
            };
            if keys.is_empty() {
                self.attrs.push((item.to_string(), String::new()));
                continue;
            }
            for key in keys {
                let key = key.trim();
                self.apply_attr(key, value);
                if self.attrs.len() < 64 {
                    self.attrs.push((key.to_string(), value.to_string()));
                }
            }
        }
    }

    fn apply_attr(&mut self, key: &str, value: &str) {
        match key {
            "id" => self.id = parse_u32_attr(value).filter(|&v| v != 0),
            "ref_obj_id" => self.ref_obj_id = parse_u32_attr(value).filter(|&v| v != 0),
            "off" => self.off = parse_i64(value),
            "r" => self.range = parse_i64(value),
            "imm" => {
                if self.type_name == "scalar"
                    && let Some(v) = parse_i64(value)
                {
                    self.set_constant(v);
                }
            }
            "smin" | "smin_value" => self.smin = parse_i64(value),
            "smax" | "smax_value" => self.smax = parse_i64(value),
            "umin" | "umin_value" => self.umin = parse_u64(value),
            "umax" | "umax_value" => self.umax = parse_u64(value),
            "var_off" => self.var_off = parse_var_off(value),
            _ => {}
        }
    }
}

impl SlotState {
    /// Parses one stack item, `fp-8=mmmm????` or `fp-16_w=inv0`, of frame `frame`. Returns
    /// `None` when `token` is not a stack item.
    pub fn parse(token: &str, frame: u32) -> Option<SlotState> {
        let (name, value) = token.split_once('=')?;
        let (base, live) = split_liveness(name);
        let off = base.strip_prefix("fp")?;
        if off.is_empty() {
            return None;
        }
        let off = parse_i64(off)?;
        let spilled = if is_slot_types(value) {
            None
        } else {
            Some(RegState::from_value(value, frame))
        };
        Some(SlotState {
            off,
            frame,
            text: value.to_string(),
            spilled,
            liveness: live.map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(token: &str) -> RegState {
        RegState::parse(token, 0).unwrap_or_else(|| panic!("{token} should parse"))
    }

    #[test]
    fn packet_pointer() {
        let r = reg("R3=pkt(off=14,r=14)");
        assert_eq!((r.reg, r.type_name.as_str()), (3, "pkt"));
        assert_eq!((r.off, r.range), (Some(14), Some(14)));
        assert!(!r.precise && !r.or_null);
        assert_eq!(r.text, "pkt(off=14,r=14)");
        assert_eq!(reg("R2=pkt_end()").type_name, "pkt_end");
    }

    #[test]
    fn collapsed_bounds_and_var_off() {
        let r = reg("R3=scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))");
        assert_eq!(r.type_name, "scalar");
        assert_eq!((r.smin, r.smax), (Some(0), Some(255)));
        assert_eq!((r.umin, r.umax), (None, Some(255)));
        assert_eq!(r.var_off, Some((0, 0xff)));
        assert_eq!(r.value, None);
        let keys: Vec<&str> = r.attrs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "smin", "smin32", "smax", "umax", "smax32", "umax32", "var_off"
            ]
        );
        assert!(r.attrs.contains(&("umax32".into(), "255".into())));
        assert!(r.attrs.contains(&("var_off".into(), "(0x0; 0xff)".into())));
        let neg = reg(
            "R0=scalar(smin=0,smax=umax=0xffffffff,smin32=-256,smax32=254,var_off=(0x0; 0xffffffff))",
        );
        assert!(neg.attrs.contains(&("smin32".into(), "-256".into())));
        assert_eq!(neg.umax, Some(0xffff_ffff));
    }

    #[test]
    fn constants_and_precision() {
        let r = reg("R3=40");
        assert_eq!((r.type_name.as_str(), r.value), ("scalar", Some(40)));
        assert_eq!(
            (r.smin, r.umax, r.var_off),
            (Some(40), Some(40), Some((40, 0)))
        );
        let p = reg("R2=P8186");
        assert!(p.precise);
        assert_eq!(p.value, Some(8186));
        assert_eq!(reg("R2=P0x22e04").value, Some(0x22e04));
        assert_eq!(reg("R1=-1").value, Some(-1));
        let ps = reg("R0=Pscalar(smin=smin32=0,smax=umax=smax32=umax32=3,var_off=(0x0; 0x3))");
        assert!(ps.precise);
        assert_eq!(ps.type_name, "scalar");
        assert_eq!(ps.umax, Some(3));
        let same = reg("R4=scalar(smin=smax=7)");
        assert_eq!(same.value, Some(7));
    }

    #[test]
    fn old_inv_forms_and_liveness() {
        let r = reg("R1_w=inv(id=0,umax_value=255,var_off=(0x0; 0xff))");
        assert_eq!(r.type_name, "scalar");
        assert_eq!(r.liveness.as_deref(), Some("w"));
        assert_eq!(r.id, None, "id=0 means no id");
        assert_eq!(r.umax, Some(255));
        assert_eq!(r.var_off, Some((0, 0xff)));
        let c = reg("R0_w=inv0");
        assert_eq!((c.type_name.as_str(), c.value), ("scalar", Some(0)));
        let pc = reg("R2_rw=invP5");
        assert!(pc.precise);
        assert_eq!(pc.value, Some(5));
        assert_eq!(pc.liveness.as_deref(), Some("rw"));
        let pp = reg("R6_r=invP(id=0,smin_value=-4,smax_value=4)");
        assert!(pp.precise);
        assert_eq!((pp.smin, pp.smax), (Some(-4), Some(4)));
        assert_eq!(reg("R7_D=inv-1").value, Some(-1));
        let ctx = reg("R1=ctx(id=0,off=0,imm=0)");
        assert_eq!(ctx.type_name, "ctx");
        assert_eq!(ctx.off, Some(0));
        assert_eq!(ctx.value, None, "imm of a pointer is not a scalar value");
        let m = reg("R0=map_value_or_null(id=1,off=0,ks=4,vs=8,imm=0)");
        assert!(m.or_null);
        assert_eq!(m.id, Some(1));
        assert_eq!(m.type_name, "map_value_or_null");
        let imm = reg("R5=inv(id=0,imm=12)");
        assert_eq!(imm.value, Some(12));
    }

    #[test]
    fn pointer_types() {
        let m = reg("R0=map_value_or_null(id=1,map=seen,ks=4,vs=8)");
        assert!(m.or_null);
        assert!(m.attrs.contains(&("map".into(), "seen".into())));
        assert!(m.attrs.contains(&("vs".into(), "8".into())));
        let rb = reg("R0=ringbuf_mem_or_null(id=2,ref_obj_id=2,sz=4)");
        assert!(rb.or_null);
        assert_eq!((rb.id, rb.ref_obj_id), (Some(2), Some(2)));
        assert_eq!(reg("R1=rdonly_mem(id=3,sz=16)").type_name, "rdonly_mem");
        let skb = reg("R1=ptr_sk_buff()");
        assert_eq!(skb.type_name, "ptr_sk_buff");
        assert!(!skb.or_null);
        assert!(reg("R0=ptr_or_null_task_struct(id=4)").or_null);
        assert_eq!(
            reg("R1=trusted_ptr_task_struct()").type_name,
            "trusted_ptr_task_struct"
        );
        assert_eq!(reg("R2=func()").type_name, "func");
    }

    #[test]
    fn stack_pointers() {
        let f = reg("R10=fp0");
        assert_eq!((f.type_name.as_str(), f.off), ("fp", Some(0)));
        assert_eq!(reg("R2=fp-4").off, Some(-4));
        let other = reg("R2=fp[0]-24");
        assert_eq!((other.type_name.as_str(), other.off), ("fp", Some(-24)));
        assert!(other.attrs.contains(&("frameno".into(), "0".into())));
        let var =
            reg("R3=fp[0](off=-300,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))");
        assert_eq!(var.off, Some(-300));
        assert_eq!(var.smax, Some(255));
        assert_eq!(var.value, None);
    }

    #[test]
    fn slots() {
        let st = parse_state("R10=fp0 fp-8=mmmm???? fp-24=ctx() fp-16_w=inv0 refs=2 cb");
        assert_eq!(st.regs.len(), 1);
        assert_eq!(st.slots.len(), 3);
        let s = &st.slots[0];
        assert_eq!(
            (s.off, s.text.as_str(), s.spilled.is_none()),
            (-8, "mmmm????", true)
        );
        let spill = st.slots[1].spilled.as_ref().expect("a spilled ctx");
        assert_eq!((spill.type_name.as_str(), spill.reg), ("ctx", SPILLED));
        let old = &st.slots[2];
        assert_eq!(old.liveness.as_deref(), Some("w"));
        assert_eq!(old.spilled.as_ref().and_then(|r| r.value), Some(0));
        assert_eq!(st.extras, ["refs=2", "cb"]);
        assert_eq!(
            parse_state("fp-8=00000000").slots[0].spilled,
            None,
            "zeroed bytes are slot types"
        );
        assert_eq!(
            parse_state("fp-8=0").slots[0]
                .spilled
                .as_ref()
                .and_then(|r| r.value),
            Some(0)
        );
    }

    #[test]
    fn frames() {
        let st = parse_state(" frame1: R1=scalar() R2=fp[0]-24 R10=fp0 cb");
        assert_eq!(st.frame, 1);
        assert!(st.regs.iter().all(|r| r.frame == 1));
        assert_eq!(frame_of(b" frame2: R1=1"), 2);
        assert_eq!(frame_of(b"R1=1"), 0);
        assert_eq!(frame_of(b"frameX: R1=1"), 0);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "",
            "=",
            "R=",
            "R1=",
            "R1=(",
            "R1=P",
            "R1=fp",
            "R1=fp[",
            "R1=scalar(smin=",
            "fp=",
            "fp-=1",
            "R999=1",
            "R1=inv(",
            "R1=x(var_off=(1;",
            "R1=0x",
            "R1=-",
            "frame:",
            "R1=scalar(,,=,==)",
            "R1=fp[0",
            "R1=fp[]-",
            "R255=1",
        ] {
            let _ = parse_state(s);
        }
        assert!(RegState::parse("R255=1", 0).is_none());
        assert_eq!(parse_i64("0xffffffffffffffff"), Some(-1));
        assert_eq!(parse_i64("18446744073709551615"), Some(-1));
        assert_eq!(parse_i64("-0x10"), Some(-16));
        assert_eq!(parse_i64("1a"), None);
    }
}
