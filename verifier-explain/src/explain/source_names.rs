//! Which variable a source expression dereferences: `ip` in `ip->protocol`, `tcp` in
//! `*((unsigned char *)tcp + i)`, `counter` in `*(counter) + 1`.
//!
//! The register an access goes through often holds another variable's value (the compiler
//! folds `ip = data + 14` into `data`'s register and reads at offset 23) or none at all; the
//! variable the user wrote at the faulting spot is then the one to name, and the explanation
//! says the name was inferred from the source line.

/// The identifiers the source line dereferences, nearest to `column` (1-based; 0 when unknown)
/// first: a name followed by `->` or `[`, or preceded by `*` or by a cast's `)` inside a
/// dereference. Function and macro names (followed by `(`) and fields (after `->` or `.`) are
/// not variables and are left out.
pub(crate) fn dereferenced(line: &str, column: u32) -> Vec<String> {
    let bytes = line.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let before = |mut i: usize| {
        while i > 0 && bytes[i - 1] == b' ' {
            i -= 1;
        }
        &line[..i]
    };
    let after = |mut i: usize| {
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        &line[i..]
    };
    let code = line.split("//").next().unwrap_or(line);
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < code.len() {
        if !ident(bytes[i]) || (i > 0 && ident(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < code.len() && ident(bytes[i]) {
            i += 1;
        }
        let word = &line[start..i];
        if word.as_bytes()[0].is_ascii_digit() || in_string(code, start) {
            continue;
        }
        let (pre, post) = (before(start), after(i));
        if post.starts_with('(') || pre.ends_with("->") || pre.ends_with('.') {
            continue;
        }
        let derefs = post.starts_with("->")
            || post.starts_with('[')
            || pre.ends_with('*')
            || pre.ends_with("*(")
            || (pre.ends_with(')') && code[..start].contains("*("));
        if derefs && !found.iter().any(|(_, w)| w == word) {
            found.push((start, word.to_string()));
        }
    }
    let col = (column as usize).saturating_sub(1);
    found.sort_by_key(|(pos, _)| pos.abs_diff(col));
    found.into_iter().map(|(_, w)| w).collect()
}

/// Whether byte `at` of `code` is inside a string literal.
fn in_string(code: &str, at: usize) -> bool {
    code[..at].bytes().filter(|&b| b == b'"').count() % 2 == 1
}

/// The base register of a load or store (`r2` in `r1 = *(u8 *)(r2 +23)`).
pub(crate) fn access_base(insn: &str) -> Option<u8> {
    let rest = insn.split(" *)(r").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_access_names_the_pointer_not_the_field() {
        assert_eq!(
            dereferenced("\tif (ip->protocol == IPPROTO_UDP) // <- rejected here", 10),
            ["ip"]
        );
        assert_eq!(
            dereferenced("\t\taddr = ipv6hdr->daddr.in6_u.u6_addr32[3];", 8),
            ["ipv6hdr"]
        );
    }

    #[test]
    fn a_cast_inside_a_dereference_names_the_cast_pointer_and_not_the_index() {
        assert_eq!(
            dereferenced("\t\tunsigned char byte = *((unsigned char *)tcp + i);", 24),
            ["tcp"]
        );
    }

    #[test]
    fn plain_dereferences_are_found_and_calls_and_strings_are_not() {
        assert_eq!(
            dereferenced("\t*(counter) = (*(counter)) + 1;", 16),
            ["counter"]
        );
        assert_eq!(dereferenced("\t\t\tif (*val == 0x01) {", 8), ["val"]);
        assert_eq!(
            dereferenced("\tbpf_printk(\"%s from %x\", payload, iph->saddr);", 2),
            ["iph"]
        );
        assert!(dereferenced("\treturn bpf_map_lookup_elem(&m, &k);", 0).is_empty());
    }

    #[test]
    fn the_nearest_to_the_column_comes_first() {
        assert_eq!(dereferenced("a->x = b->y;", 8), ["b", "a"]);
    }

    #[test]
    fn the_base_register_of_loads_and_stores() {
        assert_eq!(access_base("r1 = *(u8 *)(r2 +23)"), Some(2));
        assert_eq!(access_base("*(u32 *)(r6 +24) = r1"), Some(6));
        assert_eq!(access_base("call bpf_probe_read#4"), None);
    }
}
