//! Kernel symbols from `/proc/kallsyms`, to name the helpers and kfuncs a program calls.
//!
//! The table is sorted by address and looked up by binary search: an address belongs to the
//! symbol with the greatest start at or below it. The kernel shows real addresses only to
//! privileged readers; otherwise every address reads as zero, which is reported as
//! [`KallsymsError::AddressesHidden`] rather than giving wrong names.

/// Why the kernel's symbols could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KallsymsError {
    /// `/proc/kallsyms` could not be read.
    #[error("cannot read /proc/kallsyms: {0}")]
    Read(#[from] std::io::Error),
    /// Every address is zero.
    #[error(
        "/proc/kallsyms hides kernel addresses from this process: run as root (raw kernel \
         addresses need CAP_SYSLOG), or `sysctl kernel.kptr_restrict=0` together with \
         kernel.perf_event_paranoid at most 1 (the kernel requires both then)"
    )]
    AddressesHidden,
}

/// A kernel symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSymbol {
    /// Its start address.
    pub addr: u64,
    /// Its name.
    pub name: String,
    /// The module it belongs to, `None` for the kernel image.
    pub module: Option<String>,
}

/// The kernel's symbols, sorted by address.
#[derive(Debug, Clone, Default)]
pub struct KernelSymbols {
    symbols: Vec<KernelSymbol>,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms`.
    pub fn load() -> Result<Self, KallsymsError> {
        Self::parse(&std::fs::read_to_string("/proc/kallsyms")?)
    }

    /// Parses text in the `/proc/kallsyms` format (`ADDR TYPE NAME [MODULE]` per line). Only
    /// code symbols (types `t`, `T`, `w`, `W`) are kept.
    pub fn parse(text: &str) -> Result<Self, KallsymsError> {
        let mut symbols = Vec::new();
        let mut nonzero = false;
        for line in text.lines() {
            let mut parts = line.split_ascii_whitespace();
            let (Some(addr), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            nonzero |= addr != 0;
            if !matches!(kind, "t" | "T" | "w" | "W") {
                continue;
            }
            let module = parts
                .next()
                .map(|m| m.trim_start_matches('[').trim_end_matches(']').to_string());
            symbols.push(KernelSymbol {
                addr,
                name: name.to_string(),
                module,
            });
        }
        if !symbols.is_empty() && !nonzero {
            return Err(KallsymsError::AddressesHidden);
        }
        symbols.sort_by_key(|s| s.addr);
        Ok(Self { symbols })
    }

    /// The symbol `addr` is in: the one with the greatest start at or below it.
    pub fn resolve(&self, addr: u64) -> Option<&KernelSymbol> {
        let after = self.symbols.partition_point(|s| s.addr <= addr);
        after.checked_sub(1).map(|i| &self.symbols[i])
    }

    /// How many symbols there are.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_hidden_addresses() {
        let text = "ffffffff81000000 T _stext\nffffffff81000100 t helper_a\n\
                    ffffffff81000050 d data_sym\nffffffffc0000000 t mod_fn\t[mymod]\n";
        let syms = KernelSymbols::parse(text).unwrap();
        assert_eq!(syms.len(), 3);
        assert_eq!(syms.resolve(0xffffffff81000150).unwrap().name, "helper_a");
        assert_eq!(syms.resolve(0xffffffff81000060).unwrap().name, "_stext");
        let m = syms.resolve(0xffffffffc0000010).unwrap();
        assert_eq!(
            (m.name.as_str(), m.module.as_deref()),
            ("mod_fn", Some("mymod"))
        );
        assert!(syms.resolve(0x10).is_none());
        let hidden = "0000000000000000 T _stext\n0000000000000000 t helper_a\n";
        assert!(matches!(
            KernelSymbols::parse(hidden),
            Err(KallsymsError::AddressesHidden)
        ));
    }
}
