//! Where the verifier spent its instruction budget: processed instructions per source line.

use crate::evidence::{Budget, Facts, HotLine};
use std::collections::HashMap;

/// The most lines reported.
const MAX_LINES: usize = 10;

/// The share of the exploration the log holds, at or above which it counts as whole.
const WHOLE: f64 = 0.99;

/// How much of the verifier's exploration the log's instructions count.
pub(crate) fn budget(facts: &Facts<'_>) -> Budget {
    let counted: u64 = facts.summary.histogram.iter().sum();
    let processed = facts.summary.stats.processed;
    Budget {
        counted,
        processed,
        whole: processed.is_some_and(|p| counted as f64 >= p as f64 * WHOLE),
    }
}

/// Processed instructions per source line (or per instruction without line information), the
/// busiest first. Shares are of what the verifier processed, also when the log shows only
/// part of it (so a line is never charged more than it really took).
pub(crate) fn lines(facts: &Facts<'_>) -> Vec<HotLine> {
    let hist = &facts.summary.histogram;
    let counted: u64 = hist.iter().sum();
    let total = counted.max(facts.summary.stats.processed.unwrap_or(0));
    if counted == 0 {
        return Vec::new();
    }
    let mut per_line: HashMap<(String, u32), (u64, u32)> = HashMap::new();
    for (idx, &count) in hist.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let Ok(idx) = u32::try_from(idx) else { break };
        let key = match facts.line_of(idx) {
            // Line 0: code the compiler made up; it is counted in the total only.
            Some((_, 0, _)) => continue,
            Some((file, line, _)) => (file, line),
            None => ("insn".to_string(), idx),
        };
        let e = per_line.entry(key).or_insert((0, idx));
        e.0 += count;
    }
    let mut lines: Vec<_> = per_line.into_iter().collect();
    lines.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    lines
        .into_iter()
        .take(MAX_LINES)
        .map(|((file, line), (processed, idx))| HotLine {
            text: facts.text_of(idx),
            in_loop: facts.in_loop(idx),
            file,
            line,
            processed,
            percent: (processed as f64) * 100.0 / (total as f64),
        })
        .collect()
}
