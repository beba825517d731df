//! Lab 6: inspect and edit a live map with `xdpdbg map`. `lab start 6` attaches a guard program
//! to h2's eth0 that drops pings from every address in its map `ws_blocklist`, and blocks h1 and
//! h3. The attendee must unblock h1 and leave h3 blocked; the check sends real pings in the lab.

use std::path::Path;

use anyhow::Context as _;

use crate::catalogue::Lab;
use crate::compile;
use crate::lab_env;
use crate::report::{CheckReport, Findings, Problem};

const BLOCKED: [[u8; 4]; 2] = [[198, 18, 0, 1], [198, 18, 0, 3]];

/// Sets lab 6 up: three hosts, the guard on h2's eth0, h1 and h3 in its blocklist.
pub fn start(lab: &Lab, dir: &Path) -> anyhow::Result<String> {
    let object = dir.join("build/guard.bpf.o");
    compile::compile(&dir.join("guard.bpf.c"), &object, &[]).context("compiling guard.bpf.c")?;
    let net = lab_env::build(lab.number, 3, None)?;
    let prog = lab_env::attach_xdp(&net, "h2", &object)?;
    let map = lab_env::prog_map(prog, "ws_blocklist")?;
    for addr in BLOCKED {
        map.update(&addr, &0u64.to_ne_bytes(), bpf_sys::ANY)?;
    }
    net.detach()?;
    Ok(format!(
        "the guard program (id {prog}) runs on h2's eth0; h1 cannot ping h2 any more. Try: \
         ip netns exec {} ping -c 2 h2",
        lab_env::netns(lab.number, "h1")
    ))
}

/// Checks lab 6 with real pings.
pub fn check(lab: &Lab) -> anyhow::Result<CheckReport> {
    let net = lab_env::require(lab.number)?;
    let mut findings = Findings::default();
    match lab_env::attached_prog(&net, "h2")? {
        Some(id) if bpf_sys::ProgFd::from_id(id)?.info()?.name == "guard" => findings.pass(
            format!("the guard program (id {id}) still runs on h2's eth0"),
        ),
        _ => {
            findings.fail(
                Problem::new("the guard program is no longer attached to h2's eth0")
                    .hint("the lab is about changing the map, not removing the program: run `lab start 6` to get it back"),
            );
            return Ok(findings.into_report(lab));
        }
    }
    let h1 = net.ping("h1", "h2", 3)?;
    if h1.received > 0 {
        findings.pass(format!(
            "h1 pings h2: {} of {} replies",
            h1.received, h1.transmitted
        ));
    } else {
        findings.fail(
            Problem::new("h1's pings to h2 are still dropped (0 of 3 replies)")
                .hint("`xdpdbg map dump ws_blocklist` shows which addresses the guard drops; delete h1's (198.18.0.1) with `xdpdbg map delete`"),
        );
    }
    let h3 = net.ping("h3", "h2", 2)?;
    if h3.received == 0 {
        findings.pass("h3's pings are still dropped, as they should be");
    } else {
        findings.fail(
            Problem::new(format!(
                "h3 can ping h2 now ({} of {} replies), but h3 must stay blocked",
                h3.received, h3.transmitted
            ))
            .hint("put 198.18.0.3 back: `xdpdbg map set ws_blocklist 198.18.0.3 drops=0`"),
        );
    }
    Ok(findings.into_report(lab))
}
