//! The measuring child: a fresh process that reads the log once with one variant and reports
//! its own time and peak RSS.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use verifier_explain::log::LogSummary;

/// The first argument of the benchmark re-executed as a child.
pub const CHILD_ARG: &str = "--verifier-explain-bench-child";

/// One measurement from a child: seconds, peak RSS in KiB, and a checksum-like summary.
pub struct Sample {
    pub secs: f64,
    pub hwm_kib: u64,
    pub what: String,
}

/// Runs the benchmark as a child measuring `variant` over `path`.
pub fn run_child(variant: &str, path: &Path) -> Sample {
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
pub fn child(variant: &str, path: &Path) {
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
