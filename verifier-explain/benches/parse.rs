//! Verifier log parsing speed and memory: `cargo bench -p verifier-explain --bench parse`.
//!
//! Generates a realistic level-2 verifier log into a temporary file, streaming (it is never held
//! in memory): a 3000-instruction program; instruction lines with register deltas, source
//! comments and precision-backtracking bursts; in the first half, depth-first exploration with
//! branch pops (full states) and pruned branches; in the second half, one path going round a
//! loop until the complexity limit, so the path under exploration outgrows the parser's
//! memory budget. It then
//! times two things in fresh child processes, interleaved round by round with the order
//! rotating (the method is in docs/benchmarks.md):
//!
//! * `LogSummary::parse(BufReader<File>)`, and
//! * the baseline: the same file read through a `BufReader` with every line found by `memchr`
//!   (the floor any line-by-line parser pays).
//!
//! Each child reports its own time (the read, not process start-up) and its peak RSS (`VmHWM`
//! from `/proc/self/status`), so generating the file does not count. The file is read once
//! before the rounds so both variants find it in the page cache. Only a markdown table goes to
//! stdout; progress goes to stderr.
//!
//! To keep the generated log (for a profiler, say): `<bench binary> {CHILD_ARG} generate <path>`
//! with `CHILD_ARG` as below; `... parse <path>` then parses it once.
//!
//! Environment: `VERIFIER_EXPLAIN_BENCH_MB` (size of the generated log in MiB, default 512),
//! `VERIFIER_EXPLAIN_BENCH_ROUNDS` (default 5, at least 3), `VERIFIER_EXPLAIN_BENCH_LOG` (a
//! real log to measure as well, e.g. one captured from a million-instruction rejection).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use verifier_explain::log::LogSummary;

const CHILD_ARG: &str = "--verifier-explain-bench-child";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb = env_parse("VERIFIER_EXPLAIN_BENCH_MB", 512u64).max(1);
    if args.get(1).map(String::as_str) == Some(CHILD_ARG) {
        let (Some(variant), Some(path)) = (args.get(2), args.get(3)) else {
            eprintln!("usage: {CHILD_ARG} parse|lines|generate <path>");
            std::process::exit(2);
        };
        if variant == "generate" {
            generate(Path::new(path), mb << 20).expect("writing the generated log");
        } else {
            child(variant, Path::new(path));
        }
        return;
    }
    let rounds = env_parse("VERIFIER_EXPLAIN_BENCH_ROUNDS", 5usize).max(3);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let generated = dir.path().join("level2.log");
    eprintln!(
        "generating a {mb} MiB level-2 log in {}",
        generated.display()
    );
    let t = Instant::now();
    let size = generate(&generated, mb << 20).expect("writing the generated log");
    eprintln!("  {} bytes in {:.1} s", size, t.elapsed().as_secs_f64());

    let mut report = String::new();
    let _ = writeln!(
        report,
        "## Verifier log parsing\n\n{} CPUs, kernel {}, {rounds} interleaved rounds, medians\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "?".into(), |s| s.trim().to_string()),
    );
    let _ = writeln!(
        report,
        "| log | size MiB | variant | median MiB/s | min–max MiB/s | median peak RSS MiB | parse / baseline time |\n|---|---:|---|---:|---:|---:|---:|"
    );
    let mut notes = String::new();
    bench_file(
        "generated level 2",
        &generated,
        rounds,
        &mut report,
        &mut notes,
    );
    if let Ok(real) = std::env::var("VERIFIER_EXPLAIN_BENCH_LOG") {
        let name = Path::new(&real)
            .file_name()
            .map_or_else(|| real.clone(), |n| n.to_string_lossy().into_owned());
        bench_file(
            &format!("`{name}`"),
            Path::new(&real),
            rounds,
            &mut report,
            &mut notes,
        );
    }
    println!("{report}\nWhat was parsed:\n\n{notes}");
}

fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name}={v:?} is not a valid value");
            std::process::exit(2)
        }),
        Err(_) => default,
    }
}

/// One measurement from a child: seconds, peak RSS in KiB, and a checksum-like summary.
struct Sample {
    secs: f64,
    hwm_kib: u64,
    what: String,
}

fn run_child(variant: &str, path: &Path) -> Sample {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let out = Command::new(exe)
        .arg(CHILD_ARG)
        .arg(variant)
        .arg(path)
        .output()
        .expect("spawning the measuring child");
    assert!(
        out.status.success(),
        "the {variant} child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.trim().splitn(3, ' ');
    let secs = fields.next().and_then(|s| s.parse().ok()).expect("seconds");
    let hwm_kib = fields.next().and_then(|s| s.parse().ok()).expect("VmHWM");
    Sample {
        secs,
        hwm_kib,
        what: fields.next().unwrap_or_default().to_string(),
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn bench_file(label: &str, path: &Path, rounds: usize, report: &mut String, notes: &mut String) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mb = size as f64 / f64::from(1 << 20);
    eprintln!("{label}: {mb:.0} MiB, warming the page cache");
    let warm = run_child("lines", path);
    eprintln!("  {}", warm.what);
    let variants = ["parse", "lines"];
    let mut secs: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut hwm: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    let mut what = String::new();
    for round in 0..rounds {
        let mut this = [0.0f64; 2];
        for k in 0..variants.len() {
            let v = (k + round) % variants.len();
            let s = run_child(variants[v], path);
            eprintln!(
                "  round {round} {:>5}: {:.3} s, {:.0} MiB/s, peak RSS {} MiB",
                variants[v],
                s.secs,
                mb / s.secs,
                s.hwm_kib / 1024
            );
            this[v] = s.secs;
            secs[v].push(s.secs);
            hwm[v].push(s.hwm_kib as f64 / 1024.0);
            if v == 0 {
                what = s.what;
            }
        }
        ratios.push(this[0] / this[1]);
    }
    eprintln!("  parsed: {what}");
    for v in 0..variants.len() {
        let rates: Vec<f64> = secs[v].iter().map(|s| mb / s).collect();
        let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let variant = if v == 0 {
            "`LogSummary::parse(BufReader<File>)`"
        } else {
            "baseline: `BufReader` + `memchr` lines"
        };
        let ratio = if v == 0 {
            format!("{:.2}", median(&ratios))
        } else {
            "1".to_string()
        };
        let _ = writeln!(
            report,
            "| {label} | {mb:.0} | {variant} | {:.0} | {lo:.0}–{hi:.0} | {:.0} | {ratio} |",
            median(&rates),
            median(&hwm[v]),
        );
    }
    let _ = writeln!(notes, "* {label}: {what}");
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs one variant over `path` and prints `seconds VmHWM-KiB summary`.
fn child(variant: &str, path: &Path) {
    let file = File::open(path).expect("opening the log");
    let t = Instant::now();
    let what = match variant {
        "parse" => {
            let s = LogSummary::parse(BufReader::new(file)).expect("reading");
            let e = s.error.as_ref();
            format!(
                "{} lines, {} skipped, error at {:?}: {:?}, path {} steps (cut: {}), {} distinct insns, truncated {}",
                s.lines,
                s.skipped_lines,
                e.and_then(|e| e.idx),
                e.and_then(|e| e.message.first()),
                s.path.len(),
                s.path_truncated,
                s.insns.len(),
                s.truncated
            )
        }
        _ => {
            let mut reader = BufReader::new(file);
            let mut lines = 0u64;
            loop {
                let chunk = reader.fill_buf().expect("reading");
                if chunk.is_empty() {
                    break;
                }
                let len = chunk.len();
                lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
                reader.consume(len);
            }
            format!("{lines} lines")
        }
    };
    let secs = t.elapsed().as_secs_f64();
    println!("{secs} {} {what}", vm_hwm_kib());
}

// ---------------------------------------------------------------------------------------------
// The generated log

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
fn generate(path: &Path, target: u64) -> std::io::Result<u64> {
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
