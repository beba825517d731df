//! Where the verifier spent its instruction budget: processed instructions per source line.

use crate::evidence::{Facts, HotLine};
use std::collections::HashMap;

/// The most lines reported.
const MAX_LINES: usize = 10;

/// Processed instructions per source line (or per instruction without line information), the
/// busiest first.
pub(crate) fn lines(facts: &Facts<'_>) -> Vec<HotLine> {
    let hist = &facts.summary.histogram;
    let total: u64 = hist.iter().sum();
    if total == 0 {
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
