//! Parses every verifier log in `tests/corpus/logs/` and checks what its `<name>.expect`
//! sidecar says.
//!
//! The `6.18-*` logs were captured on a Linux 6.18 kernel (log level 2|4 unless the name says
//! `level1`; the `*_tail` ones with a small buffer, so the kernel kept only the tail); the
//! `5.10-*`, `6.1-*`, `unpriv-*` and `7.3-*` ones are written by hand in those kernels'
//! formats. Kernel addresses are replaced by `0xffff888100000000`.
//!
//! An `.expect` file holds one check per line, `key: value` (`#` starts a comment):
//!
//! | key | meaning |
//! |---|---|
//! | `error` | `none` (accepted) or `some` |
//! | `error_idx` | the faulting instruction, or `none` |
//! | `error_opcode` | its opcode, hex (`0x71`) |
//! | `message` | one error line; all `message` lines, in order, must equal the error's |
//! | `path` | the path's instruction indices, exactly |
//! | `path_tail` | the path ends with these indices |
//! | `path_frames` | the frames of the path's last steps |
//! | `reg` | `R1 type=pkt range=14 ...`: a register before the error (`type`, `value`, `range`, `off`, `frame`, `umax`, `smax`, `precise`, `or_null`, `id`) |
//! | `no_reg` | a register that must not be there |
//! | `slot` | `-8 text=mmmm????`: a stack slot before the error |
//! | `truncated`, `path_truncated` | `true` or `false` |
//! | `processed`, `stack_depth`, `skipped` | statistics and skipped lines |
//! | `comment` | `IDX LINE`: the comment before instruction IDX names that line |
//! | `hot` | `IDX N`: the histogram counts IDX at least N times |
//! | `diag_category`, `diag_title`, `diag_location`, `diag_suggestion_lines` | the 7.3 block |

use std::fs;
use std::path::{Path, PathBuf};
use verifier_explain::log::{LogSummary, RegState};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/logs");
    let mut logs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    logs
}

fn nums(v: &str) -> Vec<u64> {
    v.split_whitespace()
        .map(|n| n.parse().unwrap_or_else(|_| panic!("not a number: {n}")))
        .collect()
}

fn flag(v: &str) -> bool {
    match v {
        "true" => true,
        "false" => false,
        other => panic!("not a boolean: {other}"),
    }
}

fn check_reg(name: &str, regs: &[RegState], spec: &str) -> Result<(), String> {
    let mut words = spec.split_whitespace();
    let reg = words.next().unwrap_or_default();
    let n: u8 = reg
        .strip_prefix('R')
        .and_then(|d| d.parse().ok())
        .ok_or(format!("{name}: bad register {reg}"))?;
    let r = regs
        .iter()
        .find(|r| r.reg == n)
        .ok_or(format!("{name}: no {reg} before the error in {regs:#?}"))?;
    for w in words {
        let (k, v) = w.split_once('=').ok_or(format!("{name}: bad check {w}"))?;
        let got = match k {
            "type" => r.type_name.clone(),
            "value" => format!("{:?}", r.value.map(|x| x.to_string())),
            "range" => format!("{:?}", r.range.map(|x| x.to_string())),
            "off" => format!("{:?}", r.off.map(|x| x.to_string())),
            "frame" => r.frame.to_string(),
            "umax" => format!("{:?}", r.umax.map(|x| x.to_string())),
            "smax" => format!("{:?}", r.smax.map(|x| x.to_string())),
            "precise" => r.precise.to_string(),
            "or_null" => r.or_null.to_string(),
            "id" => format!("{:?}", r.id.map(|x| x.to_string())),
            other => return Err(format!("{name}: unknown register field {other}")),
        };
        let want = match k {
            "type" | "frame" | "precise" | "or_null" => v.to_string(),
            _ if v == "none" => "None".to_string(),
            _ => format!("{:?}", Some(v.to_string())),
        };
        if got != want {
            return Err(format!(
                "{name}: {reg} {k} is {got}, expected {want} ({})",
                r.text
            ));
        }
    }
    Ok(())
}

fn check(name: &str, s: &LogSummary, expect: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut messages = Vec::new();
    let mut fail = |msg: String| failures.push(msg);
    for line in expect.lines() {
        let line = line.split(" #").next().unwrap_or(line).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            fail(format!("{name}: bad expect line {line}"));
            continue;
        };
        let value = value.trim();
        let idxs = || s.path.iter().map(|p| u64::from(p.idx)).collect::<Vec<_>>();
        match key {
            "error" => {
                if (value == "none") != s.error.is_none() {
                    fail(format!("{name}: error is {:?}, expected {value}", s.error));
                }
            }
            "error_idx" => {
                let got = s.error.as_ref().and_then(|e| e.idx).map(u64::from);
                let want = (value != "none").then(|| nums(value)[0]);
                if got != want {
                    fail(format!("{name}: error idx {got:?}, expected {want:?}"));
                }
            }
            "error_opcode" => {
                let got = s.error.as_ref().and_then(|e| e.opcode);
                let want = u8::from_str_radix(value.trim_start_matches("0x"), 16).ok();
                if got != want {
                    fail(format!("{name}: error opcode {got:?}, expected {want:?}"));
                }
            }
            "message" => messages.push(value.to_string()),
            "path" => {
                if idxs() != nums(value) {
                    fail(format!("{name}: path {:?}, expected {value}", idxs()));
                }
            }
            "path_tail" => {
                let want = nums(value);
                if !idxs().ends_with(&want) {
                    fail(format!(
                        "{name}: path {:?} does not end with {want:?}",
                        idxs()
                    ));
                }
            }
            "path_frames" => {
                let want = nums(value);
                let frames: Vec<u64> = s.path.iter().map(|p| u64::from(p.frame)).collect();
                if !frames.ends_with(&want) {
                    fail(format!(
                        "{name}: path frames {frames:?} do not end with {want:?}"
                    ));
                }
            }
            "reg" => {
                if let Err(e) = check_reg(name, &s.regs_before_error, value) {
                    fail(e);
                }
            }
            "no_reg" => {
                if s.regs_before_error
                    .iter()
                    .any(|r| format!("R{}", r.reg) == value)
                {
                    fail(format!(
                        "{name}: {value} should not be live before the error"
                    ));
                }
            }
            "slot" => {
                let (off, text) = value.split_once(" text=").unwrap_or((value, ""));
                let off: i64 = off.trim().parse().unwrap_or(0);
                match s.slots_before_error.iter().find(|sl| sl.off == off) {
                    Some(sl) if sl.text == text => {}
                    other => fail(format!("{name}: slot {off} is {other:?}, expected {text}")),
                }
            }
            "truncated" => {
                if s.truncated != flag(value) {
                    fail(format!("{name}: truncated is {}", s.truncated));
                }
            }
            "path_truncated" => {
                if s.path_truncated != flag(value) {
                    fail(format!("{name}: path_truncated is {}", s.path_truncated));
                }
            }
            "processed" => {
                if s.stats.processed != Some(nums(value)[0]) {
                    fail(format!("{name}: processed {:?}", s.stats.processed));
                }
            }
            "stack_depth" => {
                if s.stats.stack_depth != nums(value) {
                    fail(format!("{name}: stack depth {:?}", s.stats.stack_depth));
                }
            }
            "skipped" => {
                if s.skipped_lines != nums(value)[0] {
                    fail(format!("{name}: skipped {} lines", s.skipped_lines));
                }
            }
            "comment" => {
                let n = nums(value);
                let got = s.comments.get(&(n[0] as u32)).and_then(|c| c.line);
                if got != Some(n[1] as u32) {
                    fail(format!(
                        "{name}: comment before {} names line {got:?}",
                        n[0]
                    ));
                }
            }
            "hot" => {
                let n = nums(value);
                let got = s.histogram.get(n[0] as usize).copied().unwrap_or(0);
                if got < n[1] {
                    fail(format!("{name}: insn {} processed {got} times", n[0]));
                }
            }
            "diag_category" | "diag_title" | "diag_location" | "diag_suggestion_lines" => {
                let Some(d) = s.diagnostics.as_ref() else {
                    fail(format!("{name}: no diagnostics block"));
                    continue;
                };
                let got = match key {
                    "diag_category" => d.category.clone(),
                    "diag_title" => d.title.clone(),
                    "diag_location" => format!(
                        "{} {} {} {}",
                        d.function.as_deref().unwrap_or("-"),
                        d.file.as_deref().unwrap_or("-"),
                        d.line.map_or("-".into(), |l| l.to_string()),
                        d.column.map_or("-".into(), |c| c.to_string())
                    ),
                    _ => d.suggestion.len().to_string(),
                };
                if got != value {
                    fail(format!("{name}: {key} is {got:?}, expected {value:?}"));
                }
            }
            other => fail(format!("{name}: unknown expect key {other}")),
        }
    }
    if !messages.is_empty() {
        let got = s
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        if got != messages {
            failures.push(format!("{name}: message {got:?}, expected {messages:?}"));
        }
    }
    failures
}

#[test]
fn every_corpus_log_meets_its_expectations() {
    let logs = corpus();
    assert!(logs.len() >= 12, "the corpus has {} logs", logs.len());
    let mut failures = Vec::new();
    for log in &logs {
        let name = log
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expect_path = log.with_extension("expect");
        let Ok(expect) = fs::read_to_string(&expect_path) else {
            failures.push(format!("{name}: no {}", expect_path.display()));
            continue;
        };
        let file = fs::File::open(log).unwrap_or_else(|e| panic!("{name}: {e}"));
        let streamed = LogSummary::parse(std::io::BufReader::new(file))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let bytes = fs::read(log).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            streamed,
            LogSummary::parse_bytes(&bytes),
            "{name}: streaming and in-memory parses differ"
        );
        assert_eq!(streamed.bytes, bytes.len() as u64, "{name}");
        failures.extend(check(&name, &streamed, &expect));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_level2_rejection_path_ends_at_the_fault() {
    for log in corpus() {
        let name = log.display().to_string();
        let s = LogSummary::parse_bytes(&fs::read(&log).unwrap_or_default());
        let Some(idx) = s.error.as_ref().and_then(|e| e.idx) else {
            continue;
        };
        if name.contains("infinite_loop") || s.path.is_empty() {
            continue;
        }
        assert_eq!(s.path.last().map(|p| p.idx), Some(idx), "{name}");
        assert!(
            s.insns.contains_key(&idx),
            "{name}: the faulting instruction is among the instructions seen"
        );
    }
}
