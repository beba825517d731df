//! What the verifier knows about a register or stack slot, in a few words.
//!
//! The wording follows `verifier-explain`'s own (whose describer is private); for the faulting
//! instruction the explorer shows the explanation's operands instead, which know more (where a
//! possibly-NULL pointer came from, say).

use verifier_explain::log::{RegState, SlotState};

fn attr<'a>(reg: &'a RegState, key: &str) -> Option<&'a str> {
    reg.attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn number(v: i64) -> String {
    if v.unsigned_abs() >= 1 << 20 {
        format!("{v:#x}")
    } else {
        v.to_string()
    }
}

fn scalar(reg: &RegState) -> String {
    if let Some(v) = reg.value {
        return format!("the number {}", number(v));
    }
    let lo = reg
        .smin
        .or_else(|| reg.umin.and_then(|u| i64::try_from(u).ok()))
        .filter(|&l| l > i64::MIN);
    let hi = reg
        .umax
        .filter(|&u| u < u64::MAX)
        .and_then(|u| i64::try_from(u).ok())
        .or(reg.smax.filter(|&s| s < i64::MAX));
    match (lo, hi) {
        (Some(l), Some(h)) => format!("a number from {} to {}", number(l), number(h)),
        (None, Some(h)) => format!("a number of at most {}", number(h)),
        (Some(l), None) if l >= 0 => format!("a number of at least {}", number(l)),
        _ => "a number with no known bounds".into(),
    }
}

/// A register's state in words; `None` is a register with no value.
pub fn register(reg: Option<&RegState>) -> String {
    let Some(reg) = reg else {
        return "not initialised".into();
    };
    let off = reg.off.unwrap_or(0);
    let ty = reg.type_name.trim_end_matches("_or_null");
    let base = ["rdonly_", "trusted_", "rcu_", "untrusted_"]
        .iter()
        .find_map(|p| ty.strip_prefix(p))
        .unwrap_or(ty);
    let mut text = match base {
        "scalar" | "inv" => scalar(reg),
        "pkt" => {
            let proven = match reg.range {
                Some(r) if r > 0 => format!(
                    "the first {r} bytes are proven in bounds ({} more from here)",
                    r.saturating_sub(off).max(0)
                ),
                _ => "no bytes are proven in bounds yet".into(),
            };
            format!("points {off} bytes into the packet; {proven}")
        }
        "pkt_end" => "the end of the packet".into(),
        "pkt_meta" => format!("points {off} bytes into the packet's metadata"),
        "ctx" if off != 0 => format!("the context, moved {off} bytes"),
        "ctx" => "the program's context".into(),
        "fp" if reg.reg == 10 && off == 0 => "the frame pointer (top of the stack)".into(),
        "fp" => format!("points to the stack at fp{off:+}"),
        "map_ptr" => match attr(reg, "map") {
            Some(name) => format!("the map `{name}`"),
            None => "a map".into(),
        },
        "map_value" | "map_key" => {
            let map = attr(reg, "map").map_or(String::new(), |m| format!(" of map `{m}`"));
            let what = if base == "map_key" { "key" } else { "value" };
            format!("points {off} bytes into a {what}{map}")
        }
        "ringbuf_mem" | "mem" => format!("points {off} bytes into a memory buffer"),
        "sock" | "sock_common" | "tcp_sock" => "a socket reference".into(),
        other => match other.strip_prefix("ptr_") {
            Some(s) => format!("a pointer to a kernel `struct {s}`"),
            None => format!("a value of type {other}"),
        },
    };
    if reg.or_null {
        text = format!("may be NULL; otherwise {text}");
    }
    if reg.ref_obj_id.is_some() {
        text.push_str(" (a reference that must be released)");
    }
    text
}

/// A stack slot's state in words.
pub fn slot(slot: &SlotState) -> String {
    match &slot.spilled {
        Some(r) => format!("a saved register: {}", register(Some(r))),
        None if slot.text.chars().all(|c| c == '?') => "never written".into(),
        None if slot.text.chars().all(|c| c == '0') => "zeroes".into(),
        None => {
            let written = slot.text.chars().filter(|&c| c != '?').count();
            format!("{written} of {} bytes written", slot.text.chars().count())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verifier_explain::log::parse_state;

    fn reg(text: &str) -> RegState {
        parse_state(text).regs.remove(0)
    }

    #[test]
    fn states_in_words() {
        assert_eq!(
            register(Some(&reg("R1=pkt(r=0)"))),
            "points 0 bytes into the packet; no bytes are proven in bounds yet"
        );
        assert!(register(Some(&reg("R3=pkt(off=14,r=34)"))).contains("20 more"));
        assert_eq!(
            register(Some(&reg("R0=map_value_or_null(id=1,map=seen,ks=4,vs=8)"))),
            "may be NULL; otherwise points 0 bytes into a value of map `seen`"
        );
        assert_eq!(
            register(Some(&reg("R2=fp-4"))),
            "points to the stack at fp-4"
        );
        assert_eq!(
            register(Some(&reg("R10=fp0"))),
            "the frame pointer (top of the stack)"
        );
        assert_eq!(
            register(Some(&reg(
                "R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"
            ))),
            "a number from 0 to 0xffffffff"
        );
        assert_eq!(register(Some(&reg("R0=2"))), "the number 2");
        assert_eq!(register(None), "not initialised");
        let s = parse_state("fp-8=mmmm????").slots.remove(0);
        assert_eq!(slot(&s), "4 of 8 bytes written");
    }
}
