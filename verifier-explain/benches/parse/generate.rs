//! The generated log: a realistic level-2 verifier log, streamed to a file, the same on every
//! run.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// A small xorshift generator: the log is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Insn {
    opcode: u8,
    text: String,
    /// Conditional jump target.
    target: Option<u32>,
}

const PROGRAM_LEN: u32 = 3000;
/// The loop the second half of the generated log goes round.
const LOOP_START: u32 = 2000;
const LOOP_END: u32 = 2060;

fn program(rng: &mut Rng) -> Vec<Insn> {
    let mut prog = Vec::new();
    for idx in 0..PROGRAM_LEN {
        let d = rng.below(10);
        let s = rng.below(10);
        let insn = match rng.below(16) {
            _ if idx + 1 == PROGRAM_LEN => (0x95, "exit".to_string(), None),
            0 | 1 => (0x07, format!("r{d} += {}", rng.below(64)), None),
            2 => (0xbf, format!("r{d} = r{s}"), None),
            3 => (0xb7, format!("r{d} = {}", rng.below(1000)), None),
            4 => (0x0f, format!("r{d} += r{s}"), None),
            5 => (0x57, format!("r{d} &= {}", rng.below(256)), None),
            6 => (
                0x61,
                format!("r{d} = *(u32 *)(r{s} +{})", rng.below(64) * 4),
                None,
            ),
            7 => (
                0x71,
                format!("r{d} = *(u8 *)(r{s} +{})", rng.below(64)),
                None,
            ),
            8 => (
                0x79,
                format!("r{d} = *(u64 *)(r10 -{})", 8 * (1 + rng.below(8))),
                None,
            ),
            9 => (
                0x7b,
                format!("*(u64 *)(r10 -{}) = r{s}", 8 * (1 + rng.below(8))),
                None,
            ),
            10 => (0x85, "call bpf_map_lookup_elem#1".to_string(), None),
            11 | 12 => {
                let off = 1 + rng.below(40) as u32;
                let target = (idx + 1 + off).min(PROGRAM_LEN - 1);
                (
                    0x2d,
                    format!("if r{d} > r{s} goto pc+{}", target - idx - 1),
                    Some(target),
                )
            }
            13 => {
                let off = 1 + rng.below(20) as u32;
                let target = (idx + 1 + off).min(PROGRAM_LEN - 1);
                (
                    0x15,
                    format!(
                        "if r{d} == 0x{:x} goto pc+{}",
                        rng.below(4096),
                        target - idx - 1
                    ),
                    Some(target),
                )
            }
            14 => (0x67, format!("r{d} <<= {}", rng.below(32)), None),
            _ => (0x4f, format!("r{d} |= r{s}"), None),
        };
        prog.push(Insn {
            opcode: insn.0,
            text: insn.1,
            target: insn.2,
        });
    }
    prog
}

const STATES: [&str; 12] = [
    "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))",
    "scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))",
    "pkt(off=14,r=14)",
    "pkt(r=0)",
    "pkt_end()",
    "ctx()",
    "map_value(map=counters,ks=4,vs=64)",
    "map_value_or_null(id=3,map=counters,ks=4,vs=64)",
    "fp-8",
    "scalar(id=7,smin=umin=0x1fff000,smax=umax=0x101ffefff,var_off=(0x0; 0x1ffffffff))",
    "P0",
    "42",
];

fn reg_state(rng: &mut Rng, out: &mut String, reg: u64) {
    let _ = write!(
        out,
        "R{reg}={}",
        STATES[rng.below(STATES.len() as u64) as usize]
    );
}

fn full_state(rng: &mut Rng, out: &mut String) {
    for r in [0u64, 1, 2, 3, 6, 7] {
        reg_state(rng, out, r);
        out.push(' ');
    }
    out.push_str("R10=fp0 fp-8=mmmmmmmm fp-16=scalar(id=2) fp-24=????mmmm");
}

/// Where the generated log goes, one line at a time.
struct Out {
    w: BufWriter<File>,
    line: String,
    written: u64,
}

impl Out {
    fn emit(&mut self) -> std::io::Result<()> {
        self.line.push('\n');
        self.w.write_all(self.line.as_bytes())?;
        self.written += self.line.len() as u64;
        self.line.clear();
        Ok(())
    }
}

/// Writes about `target` bytes of level-2 log to `path`; returns the size written.
pub fn generate(path: &Path, target: u64) -> std::io::Result<u64> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let prog = program(&mut rng);
    let mut o = Out {
        w: BufWriter::with_capacity(1 << 20, File::create(path)?),
        line: String::with_capacity(1024),
        written: 0,
    };
    o.line.push_str("func#0 @0");
    o.emit()?;
    o.line.push_str("Live regs before insn:");
    o.emit()?;
    for (idx, insn) in prog.iter().enumerate() {
        let _ = write!(
            o.line,
            "{idx:>7}: .12...6... ({:02x}) {}",
            insn.opcode, insn.text
        );
        o.emit()?;
    }
    o.line.push_str("0: R1=ctx() R10=fp0");
    o.emit()?;
    let mut pushed: Vec<u32> = Vec::new();
    let mut idx: u32 = 0;
    let mut processed = 0u64;
    let mut pops = 0u64;
    while o.written < target {
        let insn = &prog[idx as usize];
        processed += 1;
        if rng.below(4) == 0 {
            let _ = write!(
                o.line,
                "; value = lookup(table, key) + offset * {}; @ generated.bpf.c:{}",
                rng.below(100),
                10 + rng.below(400)
            );
            o.emit()?;
        }
        let _ = write!(o.line, "{idx}: ({:02x}) {}", insn.opcode, insn.text);
        let wrote_state = insn.opcode != 0x95 && rng.below(8) != 0;
        if wrote_state {
            let pad = 38usize.saturating_sub(o.line.len()).max(1);
            o.line.extend(std::iter::repeat_n(' ', pad));
            o.line.push_str("; ");
            for _ in 0..=rng.below(2) {
                let reg = rng.below(10);
                reg_state(&mut rng, &mut o.line, reg);
                o.line.push(' ');
            }
            if insn.opcode == 0x7b {
                o.line.push_str("R10=fp0 fp-8=mmmmmmmm");
            }
            let trimmed = o.line.trim_end().len();
            o.line.truncate(trimmed);
        }
        o.emit()?;
        if !wrote_state && insn.opcode != 0x95 && rng.below(3) == 0 {
            let _ = write!(
                o.line,
                "mark_precise: frame0: last_idx {idx} first_idx 0 subseq_idx -1 "
            );
            o.emit()?;
            let back = idx.min(1 + rng.below(12) as u32);
            for k in 1..=back {
                let b = &prog[(idx - k) as usize];
                let _ = write!(
                    o.line,
                    "mark_precise: frame0: regs=r{} stack= before {}: ({:02x}) {}",
                    rng.below(10),
                    idx - k,
                    b.opcode,
                    b.text
                );
                o.emit()?;
            }
            let _ = write!(o.line, "{}: ", idx + 1);
            let reg = rng.below(10);
            reg_state(&mut rng, &mut o.line, reg);
            o.emit()?;
        }
        if o.written >= target / 2 {
            // The second half is one long path round a loop, as a program that hits the
            // complexity limit prints: no pops, the path only grows.
            idx = if idx >= LOOP_END { LOOP_START } else { idx + 1 };
            continue;
        }
        let ends = insn.opcode == 0x95 || rng.below(150) == 0;
        if let Some(t) = insn.target {
            if rng.below(2) == 0 && pushed.len() < 64 {
                pushed.push(idx);
            } else if rng.below(2) == 0 {
                idx = t;
                continue;
            }
        }
        if ends {
            if insn.opcode != 0x95 {
                let _ = write!(o.line, "{}: safe", idx + 1);
                o.emit()?;
            }
            match pushed.pop() {
                Some(x) => {
                    if rng.below(5) == 0 {
                        // A pruned branch: the next push is popped at once.
                        pops += 1;
                        let to = prog[x as usize].target.unwrap_or(x + 1);
                        let _ = write!(o.line, "\nfrom {x} to {to}: safe");
                        o.emit()?;
                    }
                    let x = pushed.pop().unwrap_or(x);
                    pops += 1;
                    let to = prog[x as usize].target.unwrap_or(x + 1);
                    let _ = write!(o.line, "\nfrom {x} to {to}: ");
                    let start = o.line.len();
                    full_state(&mut rng, &mut o.line);
                    let state = o.line[start..].to_string();
                    o.emit()?;
                    let _ = write!(o.line, "{to}: {state}");
                    o.emit()?;
                    idx = to;
                }
                None => {
                    // Nothing left to pop: go round again, as a callback loop would.
                    let _ = write!(o.line, "\nfrom {idx} to 0: R1=ctx() R10=fp0");
                    o.emit()?;
                    o.line.push_str("0: R1=ctx() R10=fp0");
                    o.emit()?;
                    idx = 0;
                }
            }
            continue;
        }
        idx = (idx + 1).min(PROGRAM_LEN - 1);
    }
    let insn = &prog[idx as usize];
    let _ = write!(o.line, "{idx}: ({:02x}) {}", insn.opcode, insn.text);
    o.emit()?;
    o.line
        .push_str("BPF program is too large. Processed 1000001 insn");
    o.emit()?;
    o.line.push_str("verification time 6248808 usec");
    o.emit()?;
    o.line.push_str("stack depth 64");
    o.emit()?;
    let _ = write!(
        o.line,
        "processed {processed} insns (limit 1000000) max_states_per_insn 4 total_states {pops} peak_states {pops} mark_read 0"
    );
    o.emit()?;
    o.w.flush()?;
    drop(o);
    Ok(std::fs::metadata(path)?.len())
}
