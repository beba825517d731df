//! The raw form used when a map has no BTF: hex bytes.

use super::error::TypeError;

/// Formats bytes as `0a 00 00 01`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Reads hex bytes written as `0a 00 00 01`, `0x0a000001` or `0a000001` (any mix of
/// whitespace-separated groups, each optionally prefixed with `0x`, each an even number of
/// digits).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, TypeError> {
    let bad = |reason: String| TypeError::BadHex {
        text: text.chars().take(80).collect(),
        reason,
    };
    let mut out = Vec::new();
    for group in text.split_whitespace() {
        let digits = group
            .strip_prefix("0x")
            .or_else(|| group.strip_prefix("0X"))
            .unwrap_or(group);
        if digits.is_empty() {
            return Err(bad(format!("`{group}` has no digits")));
        }
        if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(bad(format!("`{c}` is not a hex digit")));
        }
        if digits.len() % 2 != 0 {
            return Err(bad(format!(
                "`{group}` has an odd number of digits; write each byte as two digits (0a, not a)"
            )));
        }
        for pair in digits.as_bytes().chunks(2) {
            let s = std::str::from_utf8(pair).map_err(|e| bad(e.to_string()))?;
            out.push(u8::from_str_radix(s, 16).map_err(|e| bad(e.to_string()))?);
        }
    }
    if out.is_empty() {
        return Err(bad("there are no bytes".to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(hex(&[0x0a, 0, 0, 1]), "0a 00 00 01");
        assert_eq!(hex(&[]), "");
        for t in [
            "0a 00 00 01",
            "0x0a000001",
            "0a000001",
            " 0A 0000\t0x01 ",
            "0x0a00 0001",
        ] {
            assert_eq!(parse_hex(t).unwrap(), vec![0x0a, 0, 0, 1], "{t}");
        }
        for bad in ["", "   ", "0x", "a 00", "0g", "0a0", "0x0a 1", "é"] {
            assert!(
                matches!(parse_hex(bad), Err(TypeError::BadHex { .. })),
                "{bad}"
            );
        }
    }
}
