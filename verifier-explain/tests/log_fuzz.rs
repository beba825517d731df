//! Property tests of the verifier log parser: whatever the input (random bytes, soups of
//! plausible log lines, corpus logs cut and mangled), it never panics, counts every byte and
//! line, and gives the same result however the input is split into reads.

use proptest::prelude::*;
use std::io::BufReader;
use std::path::Path;
use std::sync::OnceLock;
use verifier_explain::log::LogSummary;

fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/logs");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "log"));
        paths.sort();
        paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    })
}

/// Parses `input` in memory and streamed in reads of `chunk` bytes; checks they agree and that
/// the counts add up.
fn check(input: &[u8], chunk: usize) -> Result<(), TestCaseError> {
    let whole = LogSummary::parse_bytes(input);
    let streamed = LogSummary::parse(BufReader::with_capacity(chunk.max(1), input))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&whole, &streamed);
    prop_assert_eq!(whole.bytes, input.len() as u64);
    let newlines = input.iter().filter(|&&b| b == b'\n').count() as u64;
    let lines = newlines + u64::from(!input.is_empty() && !input.ends_with(b"\n"));
    prop_assert_eq!(whole.lines, lines);
    prop_assert!(whole.path.len() <= 100_000);
    prop_assert!(whole.skipped_lines <= whole.lines);
    if let Some(e) = &whole.error {
        prop_assert!(!e.message.is_empty());
    }
    Ok(())
}

fn state() -> impl Strategy<Value = String> {
    let reg = (
        0u8..12,
        prop_oneof![
            Just("ctx()".to_string()),
            Just("fp0".to_string()),
            Just("fp-8".to_string()),
            Just("pkt(off=14,r=14)".to_string()),
            Just(
                "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))".to_string()
            ),
            Just("map_value_or_null(id=1,map=m,ks=4,vs=8)".to_string()),
            Just("inv(id=0,umax_value=255,var_off=(0x0; 0xff))".to_string()),
            Just("invP0".to_string()),
            any::<i64>().prop_map(|v| v.to_string()),
            "[ -~]{0,20}",
        ],
    )
        .prop_map(|(r, v)| format!("R{r}={v}"));
    let slot = (0i64..64, "[?rm0]{8}|ctx\\(\\)|[ -~]{0,10}")
        .prop_map(|(o, t)| format!("fp-{}={t}", o * 8));
    (
        prop::option::of(0u32..4),
        prop::collection::vec(prop_oneof![reg, slot], 0..6),
    )
        .prop_map(|(frame, items)| {
            let prefix = frame.map(|f| format!("frame{f}: ")).unwrap_or_default();
            format!("{prefix}{}", items.join(" "))
        })
}

fn log_line() -> impl Strategy<Value = String> {
    let idx = 0u32..40;
    prop_oneof![
        (idx.clone(), any::<u8>(), "[ -~]{0,30}", prop::option::of(state()))
            .prop_map(|(i, op, t, d)| match d {
                Some(d) => format!("{i}: ({op:02x}) {t}   ; {d}"),
                None => format!("{i}: ({op:02x}) {t}"),
            }),
        (idx.clone(), state()).prop_map(|(i, s)| format!("{i}: {s}")),
        idx.clone().prop_map(|i| format!("{i}: safe")),
        (idx.clone(), idx.clone(), prop::option::of(state())).prop_map(|(a, b, s)| match s {
            Some(s) => format!("from {a} to {b}: {s}"),
            None => format!("from {a} to {b}: safe"),
        }),
        (idx.clone(), idx.clone(), state())
            .prop_map(|(a, b, s)| format!("{a}: (15) if r1 == 0x0 goto pc+3 {b}: {s}")),
        state().prop_map(|s| format!(" {s}")),
        Just("caller:".to_string()),
        Just("callee:".to_string()),
        Just("returning from callee:".to_string()),
        idx.clone().prop_map(|i| format!("to caller at {i}:")),
        "[ -~]{0,40}".prop_map(|t| format!("; {t} @ x.c:3")),
        Just("mark_precise: frame0: last_idx 4 first_idx 0 subseq_idx -1".to_string()),
        Just("processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0".to_string()),
        Just("verification time 5 usec".to_string()),
        "stack depth [0-9+]{0,12}",
        Just("Verification failed: Memory Safety: bad access".to_string()),
        Just("Reason:".to_string()),
        Just("At:".to_string()),
        "  [ -~]{0,30} @ [a-z.]{0,8}:[0-9:]{0,6}",
        Just("Causal path:".to_string()),
        Just("Suggestion:".to_string()),
        Just("infinite loop detected at insn 3".to_string()),
        Just("combined stack size of 2 calls is 544. Too large".to_string()),
        "[ -~]{0,60}",
        Just(String::new()),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..64) {
        check(&input, chunk)?;
    }

    #[test]
    fn line_soups_never_panic(lines in prop::collection::vec(log_line(), 0..60), chunk in 1usize..256, newline_at_end: bool) {
        let mut text = lines.join("\n");
        if newline_at_end {
            text.push('\n');
        }
        check(text.as_bytes(), chunk)?;
    }

    #[test]
    fn mangled_corpus_logs_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((0u8..5, any::<prop::sample::Index>(), any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 0..16)), 0..8),
        chunk in 1usize..4096,
    ) {
        let logs = corpus();
        prop_assume!(!logs.is_empty());
        let mut log = logs[which.index(logs.len())].clone();
        for (kind, a, b, bytes) in edits {
            let len = log.len().max(1);
            let (x, y) = {
                let (x, y) = (a.index(len), b.index(len));
                (x.min(y).min(log.len()), x.max(y).min(log.len()))
            };
            match kind {
                0 => { log.drain(x..y); }                                      // cut a range
                1 => { let dup = log[x..y].to_vec(); log.splice(y..y, dup); }  // repeat a range
                2 => { log.splice(x..x, bytes); }                             // insert junk
                3 => { log.truncate(x); }                                     // cut the tail
                _ => { log.drain(..x); }                                      // cut the head
            }
        }
        check(&log, chunk)?;
    }
}

#[test]
fn corpus_logs_cut_anywhere_are_flagged_or_complete() {
    for log in corpus() {
        let full = LogSummary::parse_bytes(log);
        for cut in (1..log.len()).step_by((log.len() / 50).max(1)) {
            let part = LogSummary::parse_bytes(&log[..cut]);
            let mid_line = log.get(cut - 1) != Some(&b'\n');
            let in_last_line = !log[cut..log.len() - 1].contains(&b'\n');
            if mid_line && !in_last_line {
                assert!(
                    part.truncated,
                    "cut at {cut} of {} bytes is not flagged",
                    log.len()
                );
            }
            if full.error.is_some() && !part.truncated {
                // A cut that looks complete must still have found the error.
                assert!(part.error.is_some(), "cut at {cut} lost the error");
            }
        }
    }
}
