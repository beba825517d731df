//! Readable forms: MAC addresses, IPv4 and IPv6 addresses, chosen from types and member names.
//!
//! The rules are listed in the [module documentation](super#readable-forms).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::type_tree::{Kind, Node};

/// How a value is shown instead of its plain C form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Form {
    /// As C stores it.
    Plain,
    /// `02:1a:b0:00:00:01`, from 6 bytes.
    Mac,
    /// `198.18.0.1`, from 4 bytes in network order.
    Ipv4,
    /// `fd00:198:18::1`, from 16 bytes in network order.
    Ipv6,
    /// An array whose elements each take the inner form.
    Each(Box<Form>),
}

impl Form {
    /// What the form takes, for messages.
    pub fn expected(&self) -> &'static str {
        match self {
            Form::Mac => "a MAC address like 02:1a:b0:00:00:01",
            Form::Ipv4 => "an IPv4 address like 198.18.0.1",
            Form::Ipv6 => "an IPv6 address like fd00:198:18::1",
            Form::Plain | Form::Each(_) => "a value",
        }
    }
}

/// Forms that a struct's own name implies.
pub(crate) fn intrinsic_form(bare_name: &str, union: bool, size: usize) -> Form {
    match (bare_name, union, size) {
        ("in_addr", false, 4) => Form::Ipv4,
        ("in6_addr", false, 16) => Form::Ipv6,
        _ => Form::Plain,
    }
}

/// Names (lowercase, whole) that mean a MAC address on a 6-byte array.
const MAC_NAMES: &[&str] = &[
    "h_source", "h_dest", "addr", "src", "dst", "saddr", "daddr", "sha", "tha", "haddr",
];
/// Parts of names that mean a MAC address on a 6-byte array.
const MAC_PARTS: &[&str] = &["mac", "hwaddr", "lladdr", "ether"];
/// `_`-separated words that mean an IPv4 address on a 4-byte unsigned integer.
const IPV4_WORDS: &[&str] = &[
    "ip", "ipv4", "ip4", "sip", "dip", "srcip", "dstip", "vip", "nexthop", "gateway", "gw",
    "netmask",
];
/// Parts of names that mean an IPv6 address on a 16-byte array.
const IPV6_PARTS: &[&str] = &["ip6", "ipv6", "addr6", "v6", "in6", "6addr"];

fn mac_name(name: &str) -> bool {
    MAC_NAMES.contains(&name) || MAC_PARTS.iter().any(|p| name.contains(p))
}

fn ipv4_name(name: &str) -> bool {
    !name.contains('6')
        && (name.contains("addr") || name.split('_').any(|w| IPV4_WORDS.contains(&w)))
}

fn ipv6_name(name: &str) -> bool {
    IPV6_PARTS.iter().any(|p| name.contains(p))
}

/// An unsigned, non-bool integer of `size` bytes.
fn plain_uint(node: &Node, size: usize) -> bool {
    matches!(&node.kind, Kind::Int(i) if !i.is_bool && !i.signed && node.size == size)
}

/// The form for `node` seen through a member called `name` (`None` for a whole key or value).
pub(crate) fn form_for(node: &Node, name: Option<&str>) -> Form {
    if node.intrinsic != Form::Plain {
        return node.intrinsic.clone();
    }
    let lower = name.map(str::to_ascii_lowercase);
    let type_name = node.c_name.to_ascii_lowercase();
    match &node.kind {
        Kind::Int(info) if node.size == 4 && !info.is_bool && !info.signed => {
            let named = lower.as_deref().is_some_and(ipv4_name);
            if named || (name.is_none() && info.big_endian) {
                return Form::Ipv4;
            }
            Form::Plain
        }
        Kind::Array { elem, len } => {
            if *len == 6 && plain_uint(elem, 1) {
                let named = lower.as_deref().is_some_and(mac_name);
                if named || MAC_PARTS.iter().any(|p| type_name.contains(p)) {
                    return Form::Mac;
                }
            }
            let sixteen = (*len == 16 && plain_uint(elem, 1))
                || (*len == 8 && plain_uint(elem, 2))
                || (*len == 4 && plain_uint(elem, 4));
            if sixteen {
                let named = lower
                    .as_deref()
                    .is_some_and(|n| ipv6_name(n) || ipv4_name(n));
                if named || IPV6_PARTS.iter().any(|p| type_name.contains(p)) {
                    return Form::Ipv6;
                }
            }
            match form_for(elem, name) {
                Form::Plain => Form::Plain,
                inner => Form::Each(Box::new(inner)),
            }
        }
        _ => Form::Plain,
    }
}

/// Formats 6 bytes as `02:1a:b0:00:00:01`.
pub(crate) fn format_mac(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    write_mac(bytes, &mut out);
    // Hex digits and colons only.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends bytes as `02:1a:b0:00:00:01`. Written by hand: dumps format millions of these.
pub(crate) fn write_mac(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if let Ok(six) = <&[u8; 6]>::try_from(bytes) {
        // The usual size, as one fixed-size copy.
        let mut text = [b':'; 17];
        for (i, b) in six.iter().enumerate() {
            text[i * 3] = HEX[usize::from(b >> 4)];
            text[i * 3 + 1] = HEX[usize::from(b & 15)];
        }
        out.extend_from_slice(&text);
        return;
    }
    for (i, b) in bytes.iter().enumerate() {
        let digits = [b':', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        out.extend_from_slice(if i == 0 { &digits[1..] } else { &digits });
    }
}

/// Reads `02:1a:b0:00:00:01`, `02-1a-b0-00-00-01` or `021ab0000001`.
pub(crate) fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let t = text.trim();
    let parts: Vec<&str> = if t.contains(':') {
        t.split(':').collect()
    } else if t.contains('-') {
        t.split('-').collect()
    } else if t.len() == 12 {
        (0..6).filter_map(|i| t.get(i * 2..i * 2 + 2)).collect()
    } else {
        return None;
    };
    if parts.len() != 6 {
        return None;
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

/// Formats 4 bytes in network order.
pub(crate) fn format_ipv4(bytes: &[u8]) -> String {
    match <[u8; 4]>::try_from(bytes) {
        Ok(b) => Ipv4Addr::from(b).to_string(),
        Err(_) => String::new(),
    }
}

/// Formats 16 bytes in network order.
pub(crate) fn format_ipv6(bytes: &[u8]) -> String {
    match <[u8; 16]>::try_from(bytes) {
        Ok(b) => Ipv6Addr::from(b).to_string(),
        Err(_) => String::new(),
    }
}

/// The bytes (network order) of a value in `form`, if `text` is one.
pub(crate) fn parse_form(form: &Form, text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    match form {
        Form::Mac => parse_mac(t).map(|b| b.to_vec()),
        Form::Ipv4 => t.parse::<Ipv4Addr>().ok().map(|a| a.octets().to_vec()),
        Form::Ipv6 => t.parse::<Ipv6Addr>().ok().map(|a| a.octets().to_vec()),
        Form::Plain | Form::Each(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("02:1a:b0:00:00:01"),
            Some([2, 0x1a, 0xb0, 0, 0, 1])
        );
        assert_eq!(parse_mac("02-1A-b0-0-0-1"), Some([2, 0x1a, 0xb0, 0, 0, 1]));
        assert_eq!(parse_mac("021ab0000001"), Some([2, 0x1a, 0xb0, 0, 0, 1]));
        for bad in [
            "",
            "02:1a:b0:00:00",
            "02:1a:b0:00:00:01:02",
            "02:1a:b0:00:00:zz",
            "02:1a:b0:00:00:100",
            "02:1a:b0:00::01",
            "021ab000000",
            "é1ab0000001",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
        assert_eq!(format_mac(&[2, 0x1a, 0xb0, 0, 0, 1]), "02:1a:b0:00:00:01");
    }

    #[test]
    fn names() {
        assert!(mac_name("h_source") && mac_name("src_mac") && mac_name("addr"));
        assert!(!mac_name("data"));
        assert!(ipv4_name("saddr") && ipv4_name("src_ip") && ipv4_name("ip") && ipv4_name("gw"));
        assert!(!ipv4_name("saddr6") && !ipv4_name("skip") && !ipv4_name("vlan"));
        assert!(ipv6_name("addr6") && ipv6_name("src_ip6") && ipv6_name("ipv6"));
        assert!(!ipv6_name("addr"));
    }
}
