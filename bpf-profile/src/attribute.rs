//! Charging a sample to a program, subprogram, line and helper.
//!
//! - The sampled address is inside a known program: the sample is that program's own time, at
//!   the subprogram and line the address resolves to.
//! - Otherwise, when a frame of the kernel call chain is inside a known program (a return
//!   address, looked up one byte back so that it falls on the call and not on the next line),
//!   the sample is time inside a helper or kfunc called from that line: it is charged to the
//!   line, with the name of the function the program called (the frame just inside it).
//! - Otherwise it is time elsewhere in the kernel. So is an interrupt or exception taken while
//!   a program ran (the frame inside the program is then the interrupted address, reached
//!   through an x86 entry stub named `asm_*`): that time is not the line's doing.
//!
//! A program's JIT memory may be reused by a program loaded after it is unloaded: remove
//! vanished programs ([`Attributor::remove_program`]) when the inventory reports them.
//!
//! Only self time is charged: a sample in a BPF subprogram counts for that subprogram, not for
//! its caller.

use std::sync::Arc;

use crate::kallsyms::KernelSymbols;
use crate::sampler::Sample;
use crate::symbols::ProgramSymbols;

/// Where one sample's time goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Charge {
    /// Time of a program, on its own code or in a helper it called.
    Program {
        /// The program's id.
        prog_id: u32,
        /// The subprogram's index in its [`ProgramSymbols::functions`].
        function: usize,
        /// The line record's index in its [`ProgramSymbols::lines`], at line resolution.
        line: Option<usize>,
        /// The kernel function the program called, for time inside a helper or kfunc (its
        /// kernel symbol name, e.g. `bpf_csum_diff`; `None` when the program's own code was
        /// running).
        helper: Option<String>,
    },
    /// Kernel time outside every known program.
    Elsewhere,
}

/// Knows the programs being profiled and the kernel's symbols, and charges samples.
#[derive(Debug, Default)]
pub struct Attributor {
    programs: Vec<Arc<ProgramSymbols>>,
    /// `(start, end, index into programs, function)` of every JIT image, by start.
    ranges: Vec<(u64, u64, usize, usize)>,
    kernel: Option<KernelSymbols>,
}

impl Attributor {
    /// An attributor with kernel symbols (for helper names) when given.
    pub fn new(kernel: Option<KernelSymbols>) -> Self {
        Self {
            kernel,
            ..Self::default()
        }
    }

    /// Adds a program to charge samples to (again for the same id replaces it).
    pub fn add_program(&mut self, symbols: Arc<ProgramSymbols>) {
        self.add_programs([symbols]);
    }

    /// Adds many programs at once (the address index is rebuilt once).
    pub fn add_programs(&mut self, programs: impl IntoIterator<Item = Arc<ProgramSymbols>>) {
        for symbols in programs {
            self.programs.retain(|p| p.prog_id != symbols.prog_id);
            self.programs.push(symbols);
        }
        self.reindex();
    }

    /// Forgets a program: its samples count as elsewhere from now on.
    pub fn remove_program(&mut self, prog_id: u32) {
        self.programs.retain(|p| p.prog_id != prog_id);
        self.reindex();
    }

    fn reindex(&mut self) {
        self.ranges = self
            .programs
            .iter()
            .enumerate()
            .flat_map(|(p, syms)| {
                syms.functions()
                    .iter()
                    .enumerate()
                    .map(move |(f, func)| (func.start, func.start + u64::from(func.len), p, f))
            })
            .collect();
        self.ranges.sort_unstable_by_key(|r| r.0);
    }

    /// The programs known, in the order they were added.
    pub fn programs(&self) -> &[Arc<ProgramSymbols>] {
        &self.programs
    }

    /// The program that owns this id.
    pub fn program(&self, prog_id: u32) -> Option<&Arc<ProgramSymbols>> {
        self.programs.iter().find(|p| p.prog_id == prog_id)
    }

    fn find(&self, addr: u64) -> Option<&ProgramSymbols> {
        let after = self.ranges.partition_point(|r| r.0 <= addr);
        let &(_, end, p, _) = self.ranges.get(after.checked_sub(1)?)?;
        (addr < end).then(|| &*self.programs[p])
    }

    fn charge_at(&self, addr: u64, helper: Option<String>) -> Option<Charge> {
        let prog = self.find(addr)?;
        let loc = prog.resolve(addr)?;
        Some(Charge::Program {
            prog_id: prog.prog_id,
            function: loc.function,
            line: loc.line,
            helper,
        })
    }

    /// The kernel symbol name of an address, or its hex form when unknown.
    fn kernel_name(&self, addr: u64) -> String {
        self.kernel
            .as_ref()
            .and_then(|k| k.resolve(addr))
            .map_or_else(|| format!("{addr:#x}"), |s| s.name.clone())
    }

    /// Where `sample`'s time goes.
    pub fn charge(&self, sample: &Sample) -> Charge {
        if let Some(c) = self.charge_at(sample.ip, None) {
            return c;
        }
        let mut frames: Vec<u64> = Vec::with_capacity(sample.callchain.len() + 1);
        if sample.callchain.first() != Some(&sample.ip) {
            frames.push(sample.ip);
        }
        frames.extend_from_slice(&sample.callchain);
        for j in 1..frames.len() {
            let ret = frames[j];
            if self.find(ret.wrapping_sub(1)).is_some() {
                // The leaf is an exact address; any other frame is a return address.
                let callee = if j == 1 {
                    frames[0]
                } else {
                    frames[j - 1].wrapping_sub(1)
                };
                let helper = self.kernel_name(callee);
                if is_entry_stub(&helper) {
                    return Charge::Elsewhere;
                }
                if let Some(c) = self.charge_at(ret.wrapping_sub(1), Some(helper)) {
                    return c;
                }
            }
        }
        Charge::Elsewhere
    }
}

/// True for the kernel's interrupt and exception entry stubs (x86: `asm_sysvec_*`,
/// `asm_common_interrupt`, `asm_exc_*`), through which a call chain crosses from a handler into
/// the context it interrupted.
fn is_entry_stub(name: &str) -> bool {
    name.starts_with("asm_")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bpf_sys::{FullProgInfo, LineInfo};

    pub(crate) const BASE: u64 = 0xffff_ffff_c000_0000;

    /// A program at BASE, 0x100 bytes: line 10 from BASE, line 11 ("call();") from BASE+0x40,
    /// line 12 from BASE+0x48.
    pub(crate) fn program() -> ProgramSymbols {
        let strings = b"\0p.c\0x = 1;\0call();\0ret;\0";
        let mut btf = Vec::new();
        btf.extend_from_slice(&0xeb9fu16.to_ne_bytes());
        btf.extend_from_slice(&[1, 0]);
        for v in [24u32, 0, 0, 0, strings.len() as u32] {
            btf.extend_from_slice(&v.to_ne_bytes());
        }
        btf.extend_from_slice(strings);
        let line = |insn_off, text, line: u32| LineInfo {
            insn_off,
            file_name_off: 1,
            line_off: text,
            line_col: line << 10 | 1,
        };
        let info = FullProgInfo {
            id: 5,
            name: "p".into(),
            jited_ksyms: vec![BASE],
            jited_func_lens: vec![0x100],
            line_info: vec![line(0, 5, 10), line(4, 12, 11), line(6, 20, 12)],
            jited_line_info: vec![BASE, BASE + 0x40, BASE + 0x48],
            ..Default::default()
        };
        ProgramSymbols::from_parts(&info, Some(&btf)).unwrap()
    }

    pub(crate) fn attributor() -> Attributor {
        let kernel = KernelSymbols::parse(
            "ffffffff81000000 T some_helper\nffffffff81000800 T inner_fn\n\
             ffffffff82000000 T bpf_test_run\nffffffff83000000 T asm_sysvec_apic_timer_interrupt\n",
        )
        .unwrap();
        let mut a = Attributor::new(Some(kernel));
        a.add_program(Arc::new(program()));
        a
    }

    fn sample(ip: u64, callchain: &[u64]) -> Sample {
        Sample {
            cpu: 0,
            ip,
            callchain: callchain.to_vec(),
        }
    }

    #[test]
    fn own_code_helpers_and_elsewhere() {
        let a = attributor();
        let own = a.charge(&sample(BASE + 0x10, &[BASE + 0x10, 0xffff_ffff_8200_0010]));
        assert_eq!(
            own,
            Charge::Program {
                prog_id: 5,
                function: 0,
                line: Some(0),
                helper: None
            }
        );
        // Inside inner_fn, called by some_helper, called by the program from line 11: the call
        // returns to BASE+0x48 (line 12's first byte), so the lookup goes one byte back.
        let chain = [
            0xffff_ffff_8100_0810,
            0xffff_ffff_8100_0020,
            BASE + 0x48,
            0xffff_ffff_8200_0010,
        ];
        let helper = a.charge(&sample(chain[0], &chain));
        assert_eq!(
            helper,
            Charge::Program {
                prog_id: 5,
                function: 0,
                line: Some(1),
                helper: Some("some_helper".into())
            }
        );
        let elsewhere = a.charge(&sample(0xffff_ffff_8200_0010, &[0xffff_ffff_8200_0010]));
        assert_eq!(elsewhere, Charge::Elsewhere);
        // An interrupt handler's time while the program ran is not the program's.
        let irq = [0xffff_ffff_8100_0810, 0xffff_ffff_8300_0010, BASE + 0x10];
        assert_eq!(a.charge(&sample(irq[0], &irq)), Charge::Elsewhere);
        // No call chain: a helper sample cannot be placed.
        assert_eq!(
            a.charge(&sample(0xffff_ffff_8100_0010, &[])),
            Charge::Elsewhere
        );
    }
}
