//! The dump: a 1,000,000-entry hash map dumped as JSON by `xdpdbg map dump --json` and by
//! `bpftool map dump -j`, wall time and peak RSS of each.

use std::fmt::Write as _;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aya_obj::generated::BPF_F_NO_PREALLOC;
use bpf_sys::MapFd;
use testkit::bench::rounds::rotation;
use testkit::bench::stats::{median, min_max, per_round_ratios};
use testkit::bench::table::{Align, Table};
use testkit::binary::Binary;

use crate::dump_json::{Count, XdpdbgDump};
use crate::spawner::Running;

const ENTRIES: u32 = 1_000_000;
const DUMP_TARGET_RATIO: f64 = 12.0;

fn fdb_key(i: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&(i % 16 + 1).to_ne_bytes()); // bridge
    k[4] = 0x02; // locally administered MAC: 02:00:<i, big-endian>
    k[6..10].copy_from_slice(&i.to_be_bytes());
    k
}

fn fdb_value(i: u32) -> [u8; 16] {
    let mut v = [0u8; 16];
    v[..4].copy_from_slice(&(i % 48 + 2).to_ne_bytes()); // ifindex
    v[4..8].copy_from_slice(&(i & 3).to_ne_bytes()); // flags
    v[8..].copy_from_slice(&(1_700_000_000_000_000_000u64 + u64::from(i) * 1_000).to_ne_bytes());
    v
}

/// Fills the map with `ENTRIES` entries, one update per entry, one thread per CPU.
fn fill(map: &MapFd) -> Duration {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let mut i = t;
                while i < ENTRIES {
                    map.update(&fdb_key(i), &fdb_value(i), bpf_sys::NOEXIST)
                        .unwrap_or_else(|e| panic!("filling entry {i}: {e}"));
                    i += threads;
                }
            });
        }
    });
    start.elapsed()
}

/// The `xdpdbg` binary: `$XDPDBG_BIN`, else the one of this benchmark's profile
/// (target/release/xdpdbg).
fn xdpdbg_bin() -> PathBuf {
    match std::env::var_os("XDPDBG_BIN") {
        Some(p) => PathBuf::from(p),
        None => Binary::in_target_dir("xdpdbg").path().to_path_buf(),
    }
}

/// `lo–hi` of `xs`, to three decimals.
fn spread(xs: &[f64]) -> String {
    let (lo, hi) = min_max(xs);
    format!("{lo:.3}–{hi:.3}")
}

/// Runs the dump comparison over `rounds` interleaved rounds; appends its section to `report`.
pub fn dump_bench(rounds: usize, report: &mut String) {
    let _ = writeln!(report, "### Dump of a 1,000,000-entry hash map (JSON)\n");
    let xdpdbg = xdpdbg_bin();
    let bpftool = PathBuf::from(std::env::var_os("BPFTOOL").unwrap_or_else(|| "bpftool".into()));
    if !xdpdbg.is_file() {
        let msg = format!(
            "skipped: {} does not exist; build it first with `cargo build --release -p xdpdbg` \
             (or point XDPDBG_BIN at an xdpdbg binary)",
            xdpdbg.display()
        );
        eprintln!("dump: {msg}");
        let _ = writeln!(report, "{msg}\n");
        return;
    }

    if !Command::new(&bpftool)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        let msg = format!(
            "skipped: `{} version` does not run; install bpftool (`apt-get install -y bpftool`) \
             or point BPFTOOL at it",
            bpftool.display()
        );
        eprintln!("dump: {msg}");
        let _ = writeln!(report, "{msg}\n");
        return;
    }

    eprintln!("dump: loading the bench_fdb fixture");
    let ebpf = testkit::fixture::load("bench_fdb");
    let map = testkit::fixture::map(&ebpf, "fdb");
    let info = map.info().expect("map info");
    assert_eq!(info.max_entries, ENTRIES);
    assert_eq!(info.flags & BPF_F_NO_PREALLOC, BPF_F_NO_PREALLOC);
    let id = info.id.to_string();

    eprintln!("dump: filling map {id} with {ENTRIES} entries");
    let fill_time = fill(&map);
    let filled = fill_time.as_secs_f64();
    eprintln!("dump: filled in {filled:.2} s");

    let x_args = ["map", "dump", "--json", id.as_str()];
    let b_args = ["map", "dump", "id", id.as_str(), "-j"];

    // One verified run of each: both must really produce every entry.
    eprintln!("dump: verifying both outputs hold {ENTRIES} entries");
    let mut run = Running::spawn(&xdpdbg, &x_args, Stdio::piped());
    let parsed =
        serde_json::from_reader::<_, XdpdbgDump>(BufReader::with_capacity(1 << 20, run.stdout()));
    let done = run.wait();
    if !done.ok {
        let msg = format!(
            "skipped: `{} {}` failed ({}); is `xdpdbg map dump` built into this binary? \
             Rebuild with `cargo build --release -p xdpdbg`. Its stderr: {}",
            xdpdbg.display(),
            x_args.join(" "),
            done.status,
            done.stderr.trim()
        );
        eprintln!("dump: {msg}");
        let _ = writeln!(report, "{msg}\n\nFill: {filled:.2} s\n");
        return;
    }
    let parsed = parsed.unwrap_or_else(|e| panic!("xdpdbg's JSON does not parse: {e}"));
    assert_eq!(
        parsed.entries.count,
        u64::from(ENTRIES),
        "xdpdbg dumped the wrong number of entries"
    );
    let method = parsed.method.to_string();
    let guarantee = parsed.guarantee.to_string();

    let mut run = Running::spawn(&bpftool, &b_args, Stdio::piped());
    let counted =
        serde_json::from_reader::<_, Count>(BufReader::with_capacity(1 << 20, run.stdout()));
    let done = run.wait();
    assert!(done.ok, "bpftool failed ({}): {}", done.status, done.stderr);
    let counted = counted.unwrap_or_else(|e| panic!("bpftool's JSON does not parse: {e}"));
    assert_eq!(
        counted.count,
        u64::from(ENTRIES),
        "bpftool dumped the wrong number of entries"
    );

    // What the measurement itself costs: peak RSS can never read below the spawner's.
    let floor = Running::spawn(&PathBuf::from("true"), &[], Stdio::null()).wait();
    assert!(floor.ok, "`true` failed: {}", floor.stderr);

    // Timed rounds, interleaved; the order flips every round.
    let (mut xt, mut xr, mut bt, mut br) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        for which in rotation(round, 2) {
            let xdpdbg_turn = which == 0;
            let (prog, args): (&PathBuf, &[&str]) = if xdpdbg_turn {
                (&xdpdbg, &x_args)
            } else {
                (&bpftool, &b_args)
            };
            let done = Running::spawn(prog, args, Stdio::null()).wait();
            assert!(
                done.ok,
                "{} failed ({}): {}",
                prog.display(),
                done.status,
                done.stderr
            );
            let s = done.wall.as_secs_f64();
            eprintln!(
                "dump: round {} {:7} {s:.3} s, max RSS {} MiB",
                round + 1,
                if xdpdbg_turn { "xdpdbg" } else { "bpftool" },
                done.max_rss_kib / 1024
            );
            let (t, r) = if xdpdbg_turn {
                (&mut xt, &mut xr)
            } else {
                (&mut bt, &mut br)
            };
            t.push(s);
            r.push(done.max_rss_kib as f64 / 1024.0);
        }
    }
    // Paired per round, so slow phases of a shared machine hit both sides of a ratio.
    let per_round = per_round_ratios(&bt, &xt);
    let ratio = median(&per_round);
    let _ = writeln!(
        report,
        "Map `fdb` (hash, BPF_F_NO_PREALLOC, 12-byte key, 16-byte value, BTF), filled with \
         {ENTRIES} entries in {filled:.2} s (one BPF_MAP_UPDATE_ELEM per entry, one thread per \
         CPU). Both outputs verified to hold {ENTRIES} entries. xdpdbg method: {method}, \
         guarantee: {guarantee}.\n"
    );
    let mut table = Table::new(&[
        ("command", Align::Left),
        ("median s", Align::Right),
        ("min–max s", Align::Right),
        ("median peak RSS MiB", Align::Right),
    ]);
    table.row([
        format!("`xdpdbg map dump --json {id}`"),
        format!("{:.3}", median(&xt)),
        spread(&xt),
        format!("{:.0}", median(&xr)),
    ]);
    table.row([
        format!("`bpftool map dump id {id} -j`"),
        format!("{:.3}", median(&bt)),
        spread(&bt),
        format!("{:.0}", median(&br)),
    ]);
    table.row([
        "`true` (measurement floor)".to_string(),
        format!("{:.3}", floor.wall.as_secs_f64()),
        String::new(),
        format!("{:.1}", floor.max_rss_kib as f64 / 1024.0),
    ]);
    report.push_str(&table.to_string());
    let _ = writeln!(
        report,
        "\nbpftool / xdpdbg (median of per-round ratios): **{ratio:.1}x** (range {}; target ≥ \
         {DUMP_TARGET_RATIO:.0}x: {})\n",
        spread(&per_round),
        if ratio >= DUMP_TARGET_RATIO {
            "met"
        } else {
            "MISSED"
        }
    );
    drop(map);
    drop(ebpf);
}
