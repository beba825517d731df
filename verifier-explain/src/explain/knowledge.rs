//! The verifier's knowledge about a value, in words.

use crate::log::{RegState, SlotState};

/// Facts from elsewhere in the explanation that make a description concrete.
#[derive(Debug, Default, Clone)]
pub struct Hints {
    /// The source line of the call that produced a possibly-NULL pointer, e.g. `line 31`.
    pub null_source: Option<String>,
    /// The name of the program's packet-end variable, if any.
    pub data_end: Option<String>,
}

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

/// Describes a scalar's known range.
pub(crate) fn scalar(reg: &RegState) -> String {
    if let Some(v) = reg.value {
        return format!("the number {}", number(v));
    }
    let lo = reg
        .smin
        .or_else(|| reg.umin.and_then(|u| i64::try_from(u).ok()));
    let hi = reg
        .umax
        .filter(|&u| u < u64::MAX)
        .and_then(|u| i64::try_from(u).ok())
        .or(reg.smax.filter(|&s| s < i64::MAX));
    match (lo.filter(|&l| l > i64::MIN), hi) {
        (Some(l), Some(h)) => format!("a number between {} and {}", number(l), number(h)),
        (None, Some(h)) => format!("a number of at most {} (with no lower bound)", number(h)),
        (Some(l), None) if l >= 0 => {
            format!("a number of at least {} with no upper bound", number(l))
        }
        _ => "a number the verifier knows nothing about (no bounds)".into(),
    }
}

/// Describes what a register holds, as the verifier sees it.
pub fn describe(reg: Option<&RegState>, hints: &Hints) -> String {
    let Some(reg) = reg else {
        return "nothing: no value was written to it on this path (calls clobber r1-r5)".into();
    };
    let ty = reg.type_name.as_str();
    let off = reg.off.unwrap_or(0);
    let base = ty.trim_end_matches("_or_null");
    let base = base
        .strip_prefix("rdonly_")
        .or_else(|| base.strip_prefix("trusted_"))
        .or_else(|| base.strip_prefix("rcu_"))
        .or_else(|| base.strip_prefix("untrusted_"))
        .unwrap_or(base);
    let mut text = match base {
        "scalar" | "inv" => scalar(reg),
        "pkt" => {
            let var = if reg.var_off.is_some_and(|(_, mask)| mask != 0) {
                " plus a variable amount"
            } else {
                ""
            };
            let proven = match reg.range {
                Some(r) if r > 0 => format!(
                    "the first {r} bytes of the packet are proven in bounds (so {} more from here)",
                    (r - off).max(0)
                ),
                _ => "no bytes are proven in bounds yet".into(),
            };
            format!("points {off} bytes{var} into the packet, but {proven}")
                .replace("but the first", "and the first")
        }
        "pkt_end" => match &hints.data_end {
            Some(_) => "the end of the packet (data_end)".into(),
            None => "the end of the packet (ctx->data_end)".into(),
        },
        "pkt_meta" => format!("points {off} bytes into the packet's metadata"),
        "ctx" if off != 0 => format!("the context pointer, moved {off} bytes"),
        "ctx" => "the program's context (its ctx argument)".into(),
        "fp" if reg.reg == 10 && off == 0 => "the frame pointer (top of the stack)".into(),
        "fp" => format!("points to the stack at fp{off:+}"),
        "map_ptr" => match attr(reg, "map") {
            Some(name) => format!("the map `{name}`"),
            None => "a map".into(),
        },
        "map_value" | "map_key" => {
            let map = attr(reg, "map").map_or(String::new(), |m| format!(" of map `{m}`"));
            let size = attr(reg, "vs").map_or(String::new(), |v| format!(" ({v} bytes)"));
            let what = if base == "map_key" { "key" } else { "value" };
            format!("points {off} bytes into a {what}{map}{size}")
        }
        "ringbuf_mem" | "mem" => format!("points {off} bytes into a memory buffer"),
        "sock" | "sock_common" | "tcp_sock" => "a socket reference".into(),
        other if other.starts_with("ptr_") => {
            format!("a pointer to a kernel `struct {}`", &other[4..])
        }
        other => format!("a value of type {other}"),
    };
    let variable = reg.var_off.is_some_and(|(_, mask)| mask != 0);
    if variable && !matches!(base, "scalar" | "inv") {
        let range = match (reg.smin, reg.smax) {
            (Some(lo), Some(hi)) => format!(" between {} and {}", number(lo), number(hi)),
            _ => String::new(),
        };
        text.push_str(&format!(", plus a variable offset{range}"));
    }
    if reg.or_null {
        let from = hints
            .null_source
            .as_deref()
            .map_or(String::new(), |s| format!(": {s} can fail and return NULL"));
        text = format!("may be NULL{from}; otherwise it {text}");
    }
    if let Some(id) = reg.ref_obj_id.filter(|&id| id != 0) {
        text.push_str(&format!(" (a reference, id {id}, that must be released)"));
    }
    text
}

/// Describes a stack slot as the verifier printed it (`mmmm????`, `0000`, a spilled register).
pub fn describe_slot(slot: &SlotState, hints: &Hints) -> String {
    match &slot.spilled {
        Some(r) => format!("a saved register: {}", describe(Some(r), hints)),
        None if slot.text.chars().all(|c| c == '?') => {
            "stack bytes never written on this path".into()
        }
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

    fn reg(text: &str) -> RegState {
        crate::log::RegState::parse(&format!("R1={text}"), 0).expect("valid state")
    }

    #[test]
    fn packets_and_nulls_in_words() {
        let h = Hints::default();
        let d = describe(Some(&reg("pkt(off=14,r=0)")), &h);
        assert!(
            d.contains("14 bytes into the packet") && d.contains("no bytes are proven"),
            "{d}"
        );
        let d = describe(Some(&reg("pkt(off=14,r=34)")), &h);
        assert!(d.contains("first 34 bytes") && d.contains("20 more"), "{d}");
        let h = Hints {
            null_source: Some("the lookup at line 31".into()),
            data_end: None,
        };
        let d = describe(
            Some(&reg("map_value_or_null(id=1,map=counters,ks=4,vs=16)")),
            &h,
        );
        assert!(
            d.starts_with("may be NULL: the lookup at line 31 can fail"),
            "{d}"
        );
        assert!(d.contains("`counters`"), "{d}");
        assert!(describe(None, &h).starts_with("nothing"));
        let d = describe(
            Some(&reg(
                "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
            )),
            &h,
        );
        assert_eq!(d, "a number between 0 and 255");
        assert_eq!(
            describe(
                Some(&crate::log::RegState::parse("R10=fp0", 0).unwrap()),
                &h
            ),
            "the frame pointer (top of the stack)"
        );
        let s = crate::log::parse_state("fp-8=mmmm????").slots.remove(0);
        assert_eq!(describe_slot(&s, &h), "4 of 8 bytes written");
    }
}
