//! Lab 5: find the hot line of a slow program with `xdpdbg top`, and fix it. `lab start 5`
//! attaches the slow program to h2's eth0 with pings running from h1, so `xdpdbg top` has
//! something to measure. The check reads the hot line named in `answer.txt`, then loads the
//! attendee's program and the starting one side by side and compares their run time on the
//! same frame in the same run (`BPF_PROG_TEST_RUN`), after checking they decide alike.

use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::Context as _;

use crate::attendee_program::build_and_verify;
use crate::catalogue::Lab;
use crate::compile;
use crate::frames;
use crate::lab_env;
use crate::loaded::{Loaded, XDP_DROP, XDP_PASS, verdict_name};
use crate::report::{CheckReport, Findings, Problem};

const PROGRAM: &str = "slow_filter";
/// The addresses the rules drop (none of them a lab host, so the pings pass).
const RULES: [Ipv4Addr; 3] = [
    Ipv4Addr::new(198, 18, 0, 101),
    Ipv4Addr::new(198, 18, 0, 102),
    Ipv4Addr::new(198, 18, 0, 103),
];
/// A fix must take at most this share of the starting program's time per run.
const MAX_TIME_SHARE: f64 = 0.5;

fn start_source(lab: &Lab) -> &'static str {
    lab.start_file("prog.bpf.c")
        .expect("lab 5 starts from prog.bpf.c")
        .text
}

/// The starting program's own object, built from the embedded source into `dir/build/`.
fn start_object(lab: &Lab, dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let build = dir.join("build");
    std::fs::create_dir_all(&build)?;
    let src = build.join("start.bpf.c");
    std::fs::write(&src, start_source(lab))?;
    let obj = build.join("start.bpf.o");
    compile::compile(&src, &obj, &[]).context("compiling lab 5's starting program")?;
    Ok(obj)
}

/// Puts the rules into a loaded program's maps: `rules` holds [`RULES`], `config` their count.
fn fill_rules(rules: &bpf_sys::MapFd, config: &bpf_sys::MapFd) -> anyhow::Result<()> {
    for (i, addr) in RULES.iter().enumerate() {
        rules.update(&(i as u32).to_ne_bytes(), &addr.octets(), bpf_sys::ANY)?;
    }
    config.update(
        &0u32.to_ne_bytes(),
        &(RULES.len() as u32).to_ne_bytes(),
        bpf_sys::ANY,
    )?;
    Ok(())
}

/// Sets lab 5 up: the network, the slow program on h2's eth0 with its rules, pings from h1.
pub fn start(lab: &Lab, dir: &Path) -> anyhow::Result<String> {
    let object = start_object(lab, dir)?;
    let net = lab_env::build(lab.number, 2, None)?;
    let prog = lab_env::attach_xdp(&net, "h2", &object)?;
    fill_rules(
        &lab_env::prog_map(prog, "rules")?,
        &lab_env::prog_map(prog, "config")?,
    )?;
    lab_env::spawn_background(&net, "h1", &["ping", "-q", "-i", "0.0001", "198.18.0.2"])?;
    net.detach()?;
    Ok(format!(
        "the slow program `{PROGRAM}` (id {prog}) runs on h2's eth0 (namespace {}), and h1 pings \
         h2 without a pause (ping -i 0.0001)",
        lab_env::netns(lab.number, "h2")
    ))
}

/// The lines of the starting program where its time goes: the loop over every slot.
fn hot_lines(lab: &Lab) -> Vec<usize> {
    const LOOP: [&str; 3] = [
        "for (__u32 i = 0; i < MAX_RULES; i++)",
        "bpf_map_lookup_elem(&rules, &i)",
        "r->addr == ip->saddr",
    ];
    start_source(lab)
        .lines()
        .enumerate()
        .filter(|(_, l)| LOOP.iter().any(|p| l.contains(p)))
        .map(|(i, _)| i + 1)
        .collect()
}

fn check_answer(lab: &Lab, dir: &Path, findings: &mut Findings) -> anyhow::Result<()> {
    let path = dir.join("answer.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let answer = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == "hot_line"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let hot = hot_lines(lab);
    let how = "run `xdpdbg top`, note slow_filter's ID, then `xdpdbg top --prog ID --duration 5s`: \
               the HOT LINES table lists prog.bpf.c's lines by their share of the time";
    if answer.is_empty() {
        findings.fail(
            Problem::new("answer.txt does not name the hot line yet (hot_line = is empty)")
                .hint(how),
        );
        return Ok(());
    }
    match answer.parse::<usize>() {
        Ok(line) if hot.contains(&line) => {
            findings.pass(format!("line {line} is in the hot loop: well found"))
        }
        Ok(line) => findings.fail(
            Problem::new(format!(
                "line {line} of the starting prog.bpf.c is not where slow_filter spends its time"
            ))
            .hint(how),
        ),
        Err(_) => findings.fail(
            Problem::new(format!(
                "answer.txt says hot_line = {answer}, which is not a line number"
            ))
            .hint("write only the number, e.g. hot_line = 12"),
        ),
    }
    Ok(())
}

/// The median of the kernel's ns/run for `loaded` on `frame`, over rounds interleaved with
/// `other` so both see the same machine.
fn timed_pair(start: &Loaded, mine: &Loaded, frame: &[u8]) -> anyhow::Result<(u32, u32)> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        a.push(start.ns_per_run(frame, 2000)?);
        b.push(mine.ns_per_run(frame, 2000)?);
    }
    a.sort_unstable();
    b.sort_unstable();
    Ok((a[a.len() / 2], b[b.len() / 2]))
}

/// Checks lab 5 in `dir`.
pub fn check(lab: &Lab, dir: &Path) -> anyhow::Result<CheckReport> {
    let mut findings = Findings::default();
    check_answer(lab, dir, &mut findings)?;
    let Some(object) = build_and_verify(dir, "prog.bpf.c", PROGRAM, &[], &mut findings)? else {
        return Ok(findings.into_report(lab));
    };
    let mine = Loaded::xdp(&object, PROGRAM)?;
    let start = Loaded::xdp(&std::fs::read(start_object(lab, dir)?)?, PROGRAM)?;
    for l in [&mine, &start] {
        fill_rules(&l.map("rules")?, &l.map("config")?)?;
    }
    let h2 = Ipv4Addr::new(198, 18, 0, 2);
    let cases = [
        (
            "a ping from 198.18.0.1 (no rule)",
            Ipv4Addr::new(198, 18, 0, 1),
            XDP_PASS,
        ),
        ("a ping from 198.18.0.101 (rule 1)", RULES[0], XDP_DROP),
        (
            "a ping from 198.18.0.103 (rule 3, the last)",
            RULES[2],
            XDP_DROP,
        ),
    ];
    let mut same = true;
    for (what, src, expect) in cases {
        let got = mine.run(&frames::ping(src, h2))?;
        if got != expect {
            same = false;
            findings.fail(
                Problem::new(format!(
                    "{what}: your program returns {}, the starting one {}",
                    verdict_name(got),
                    verdict_name(expect)
                ))
                .hint("make it faster without changing what it decides"),
            );
        }
    }
    if !same {
        return Ok(findings.into_report(lab));
    }
    findings.pass("it decides like the starting program on the test packets");
    let frame = frames::ping(Ipv4Addr::new(198, 18, 0, 1), h2);
    let (before, after) = timed_pair(&start, &mine, &frame)?;
    let measured = format!(
        "measured now with BPF_PROG_TEST_RUN on a ping no rule matches (median of 7 rounds of \
         2000 runs): starting program {before} ns/run, yours {after} ns/run"
    );
    if f64::from(after) <= f64::from(before) * MAX_TIME_SHARE {
        findings.pass(format!(
            "it is {:.1}x faster: {measured}",
            f64::from(before) / f64::from(after.max(1))
        ));
    } else {
        findings.fail(
            Problem::new(format!(
                "it is not fast enough yet: it must take at most half the starting program's time \
                 per packet. {measured}"
            ))
            .hint("the loop visits every one of the 1024 slots for every packet, although only nr_rules of them are in use"),
        );
    }
    Ok(findings.into_report(lab))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hot_lines_are_the_loops_three_lines_of_the_starting_program() {
        let lab = crate::catalogue::lab(5).unwrap();
        let hot = hot_lines(lab);
        assert_eq!(hot.len(), 3, "{hot:?}");
        let text: Vec<&str> = start_source(lab).lines().collect();
        assert!(text[hot[2] - 1].contains("r->addr == ip->saddr"));
        // The solution's answer names one of them.
        let answer = lab
            .solution
            .iter()
            .find(|f| f.name == "answer.txt")
            .unwrap();
        assert!(
            hot.iter()
                .any(|l| answer.text.contains(&format!("hot_line = {l}"))),
            "{}",
            answer.text
        );
    }
}
