//! Lab 7: reproduce the ageing race, then fix it with compare-and-swap. `lab start 7` attaches
//! a data plane (`flows.bpf.c`) to h2's eth0 that refreshes each host's `last_seen` with the
//! ageing protocol's `bpf_maps_refresh()`; the attendee's `ager.sh` deletes stale entries.
//!
//! The check runs the stress for real: rounds in which every entry is made stale, the ager runs,
//! and traffic (`BPF_PROG_TEST_RUN` of the attached program, a frame every millisecond from two
//! hosts) starts at a different moment of the ager's run each round. An active host's entry that
//! is gone after the round although the data plane refreshed it during the round is a live entry
//! lost; an idle host's entry must be gone.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bpf_sys::{MapFd, ProgFd, TestRun};

use crate::catalogue::Lab;
use crate::compile;
use crate::frames;
use crate::lab_env;
use crate::report::{CheckReport, Findings, Problem};

/// Hosts sending during the rounds, and hosts that stay quiet.
const ACTIVE: [Ipv4Addr; 2] = [Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 2)];
const IDLE: [Ipv4Addr; 2] = [Ipv4Addr::new(198, 18, 0, 3), Ipv4Addr::new(198, 18, 0, 4)];
/// Rounds of stress; the check stops at the first round that goes wrong.
const MAX_ROUNDS: u32 = 60;
/// How long one run of the ager may take.
const AGER_TIMEOUT: Duration = Duration::from_secs(30);

/// Milliseconds since boot: the clock the data plane writes into `last_seen`.
fn boot_ms() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .expect("CLOCK_BOOTTIME is always there");
    t.tv_sec() as u64 * 1000 + t.tv_nsec() as u64 / 1_000_000
}

fn flow_value(last_seen: u64) -> Vec<u8> {
    [last_seen.to_ne_bytes(), 0u64.to_ne_bytes()].concat()
}

/// Sets lab 7 up: two hosts, the data plane on h2's eth0, an entry for each of four hosts.
pub fn start(lab: &Lab, dir: &Path) -> anyhow::Result<String> {
    let object = dir.join("build/flows.bpf.o");
    compile::compile(&dir.join("flows.bpf.c"), &object, &[dir.join("include")])
        .context("compiling flows.bpf.c")?;
    let net = lab_env::build(lab.number, 2, None)?;
    let prog = lab_env::attach_xdp(&net, "h2", &object)?;
    let flows = lab_env::prog_map(prog, "ws_flows")?;
    for host in ACTIVE.iter().chain(&IDLE) {
        flows.update(&host.octets(), &flow_value(boot_ms()), bpf_sys::ANY)?;
    }
    net.detach()?;
    Ok(format!(
        "the data plane `flows` (id {prog}) runs on h2's eth0 with entries for 198.18.0.1 to \
         198.18.0.4. Try: ip netns exec {} ping -c 3 h2, then xdpdbg map dump ws_flows",
        lab_env::netns(lab.number, "h1")
    ))
}

struct Rig {
    prog: Arc<ProgFd>,
    flows: MapFd,
    refreshed: MapFd,
}

/// What one round found.
enum Round {
    /// Fine: idle entries aged out, no live entry lost.
    Clean,
    /// The ager deleted `host`'s entry although it was refreshed at `refreshed_ms`.
    Lost { host: Ipv4Addr, refreshed_ms: u64 },
    /// An idle host's entry was not aged out.
    NotAged(Ipv4Addr),
    /// The ager failed: its exit status and what it printed.
    AgerFailed(String),
}

fn run_ager(dir: &Path) -> anyhow::Result<Result<(), String>> {
    let mut child = Command::new("sh")
        .arg("ager.sh")
        .current_dir(dir)
        .env("PATH", lab_env::script_path())
        .env("HOSTS", "198.18.0.1 198.18.0.2 198.18.0.3 198.18.0.4")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running sh ager.sh")?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(Ok(()));
            }
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read as _;
                let _ = e.read_to_string(&mut err);
            }
            return Ok(Err(format!("ager.sh exited with {status}: {}", err.trim())));
        }
        if started.elapsed() > AGER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Err(format!(
                "ager.sh did not finish within {} s",
                AGER_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn round(rig: &Rig, dir: &Path, traffic_delay: Duration) -> anyhow::Result<Round> {
    for host in ACTIVE.iter().chain(&IDLE) {
        rig.flows
            .update(&host.octets(), &flow_value(1), bpf_sys::ANY)?;
        rig.refreshed.delete(&host.octets())?;
    }
    let round_start = boot_ms();
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (stop, prog) = (stop.clone(), rig.prog.clone());
        std::thread::spawn(move || -> anyhow::Result<()> {
            let frames: Vec<Vec<u8>> = ACTIVE
                .iter()
                .map(|h| frames::ping(*h, Ipv4Addr::new(198, 18, 0, 9)))
                .collect();
            let begin = Instant::now() + traffic_delay;
            while !stop.load(Ordering::Relaxed) {
                if Instant::now() < begin {
                    std::thread::sleep(Duration::from_micros(200));
                    continue;
                }
                for f in &frames {
                    prog.test_run(TestRun {
                        data_in: Some(f),
                        repeat: 1,
                        ..TestRun::default()
                    })?;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(())
        })
    };
    let ager = run_ager(dir);
    stop.store(true, Ordering::Relaxed);
    traffic
        .join()
        .map_err(|_| anyhow::anyhow!("the traffic thread panicked"))??;
    if let Err(e) = ager? {
        return Ok(Round::AgerFailed(e));
    }
    let mut value = [0u8; 16];
    for host in ACTIVE {
        let mut t = [0u8; 8];
        let refreshed = rig.refreshed.lookup(&host.octets(), &mut t, 0)?;
        let refreshed_ms = u64::from_ne_bytes(t);
        if refreshed
            && refreshed_ms >= round_start
            && !rig.flows.lookup(&host.octets(), &mut value, 0)?
        {
            return Ok(Round::Lost { host, refreshed_ms });
        }
    }
    for host in IDLE {
        if rig.flows.lookup(&host.octets(), &mut value, 0)? {
            return Ok(Round::NotAged(host));
        }
    }
    Ok(Round::Clean)
}

/// Checks lab 7: runs the attendee's ager under the stress.
pub fn check(lab: &Lab, dir: &Path) -> anyhow::Result<CheckReport> {
    let net = lab_env::require(lab.number)?;
    crate::workdir::require_started(lab, dir)?;
    let prog_id = lab_env::attached_prog(&net, "h2")?
        .context("the data plane is no longer attached to h2's eth0: run `lab start 7` again")?;
    let rig = Rig {
        prog: Arc::new(ProgFd::from_id(prog_id)?),
        flows: lab_env::prog_map(prog_id, "ws_flows")?,
        refreshed: lab_env::prog_map(prog_id, "ws_refreshed")?,
    };
    let mut findings = Findings::default();
    // The first round, traffic-free, measures how long the ager takes: later rounds start
    // traffic at moments spread over that time, so one of them lands inside its window.
    let t0 = Instant::now();
    let first = round(&rig, dir, Duration::from_secs(3600))?;
    let ager_time = t0.elapsed();
    let mut rounds = 1;
    let mut outcome = first;
    while matches!(outcome, Round::Clean) && rounds < MAX_ROUNDS {
        let step = ager_time.mul_f64(f64::from(rounds * 7 % 23) / 23.0);
        outcome = round(&rig, dir, step)?;
        rounds += 1;
    }
    match outcome {
        Round::Clean => {
            findings.pass(format!(
                "{rounds} rounds of stress: every idle host's entry was aged out, and no entry \
                 refreshed by the data plane was ever deleted"
            ));
        }
        Round::Lost { host, refreshed_ms } => findings.fail(
            Problem::new(format!(
                "the race: in round {rounds}, your ager deleted {host}'s entry although the data \
                 plane had refreshed it at {refreshed_ms} ms (after your ager read it as stale). \
                 A live entry was lost"
            ))
            .hint("between `map get` and `map delete` the data plane can refresh the entry. Delete only if last_seen still holds what you read: `xdpdbg map delete ws_flows HOST --if last_seen=SEEN` (exit status 3: it was refreshed, keep it)"),
        ),
        Round::NotAged(host) => findings.fail(
            Problem::new(format!(
                "in round {rounds}, {host} sent nothing but its entry was not aged out"
            ))
            .hint("the ager must still delete entries whose last_seen is older than MAX_AGE_MS"),
        ),
        Round::AgerFailed(why) => findings.fail(
            Problem::new(format!("ager.sh failed in round {rounds}"))
                .hint("run `sh ager.sh` yourself to see the error")
                .detail(why),
        ),
    }
    // Leave the lab as it was started: an entry for each host, seen now.
    for host in ACTIVE.iter().chain(&IDLE) {
        rig.flows
            .update(&host.octets(), &flow_value(boot_ms()), bpf_sys::ANY)?;
    }
    Ok(findings.into_report(lab))
}
