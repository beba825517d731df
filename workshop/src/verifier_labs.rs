//! Labs 1 to 4: fix a broken program with verifier-explain. The check compiles the attendee's
//! `prog.bpf.c`, has the kernel verify it (showing verifier-explain's explanation when it still
//! refuses), then loads it for real and runs it on test frames with `BPF_PROG_TEST_RUN`, so an
//! edit that only pleases the verifier (returning XDP_PASS, deleting the logic) does not pass.

use std::net::Ipv4Addr;
use std::path::Path;

use crate::attendee_program::build_and_verify;
use crate::catalogue::Lab;
use crate::frames::{self, TcpFlags};
use crate::loaded::{Loaded, XDP_DROP, XDP_PASS, verdict_name};
use crate::report::{CheckReport, Findings, Problem};

/// One test frame and the verdict the lab's program must give it.
struct Case {
    /// The frame in words ("a UDP datagram to port 7").
    what: &'static str,
    frame: Vec<u8>,
    expect: u32,
}

const H1: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const H2: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

/// The program each lab's `prog.bpf.c` must define.
fn program_name(lab: u8) -> &'static str {
    match lab {
        1 => "drop_echo",
        2 => "port_firewall",
        3 => "port_blocker",
        _ => "syn_logger",
    }
}

fn syn() -> TcpFlags {
    TcpFlags {
        syn: true,
        ack: false,
    }
}

fn ack() -> TcpFlags {
    TcpFlags {
        syn: false,
        ack: true,
    }
}

fn cases(lab: u8) -> Vec<Case> {
    let case = |what, frame, expect| Case {
        what,
        frame,
        expect,
    };
    match lab {
        1 => vec![
            case(
                "a UDP datagram to port 7",
                frames::udp(H1, H2, 7, b"hello"),
                XDP_DROP,
            ),
            case(
                "a UDP datagram to port 53",
                frames::udp(H1, H2, 53, b"hello"),
                XDP_PASS,
            ),
            case(
                "a TCP segment to port 7",
                frames::tcp(H1, H2, 7, syn()),
                XDP_PASS,
            ),
            case(
                "a UDP packet cut short after its IPv4 header",
                frames::truncated(frames::udp(H1, H2, 7, b""), 34),
                XDP_PASS,
            ),
            case("an ARP request", frames::arp(), XDP_PASS),
        ],
        2 => vec![
            case(
                "a TCP segment to port 23 (rule: drop)",
                frames::tcp(H1, H2, 23, syn()),
                XDP_DROP,
            ),
            case(
                "a TCP segment to port 80 (rule: pass)",
                frames::tcp(H1, H2, 80, syn()),
                XDP_PASS,
            ),
            case(
                "a TCP segment to port 443 (no rule)",
                frames::tcp(H1, H2, 443, syn()),
                XDP_PASS,
            ),
            case(
                "a UDP datagram to port 23",
                frames::udp(H1, H2, 23, b"x"),
                XDP_PASS,
            ),
        ],
        3 => vec![
            case(
                "a TCP segment to port 23 (slot 1)",
                frames::tcp(H1, H2, 23, syn()),
                XDP_DROP,
            ),
            case(
                "a TCP segment to port 2323 (slot 5)",
                frames::tcp(H1, H2, 2323, syn()),
                XDP_DROP,
            ),
            case(
                "a TCP segment to port 80 (in no slot)",
                frames::tcp(H1, H2, 80, syn()),
                XDP_PASS,
            ),
            case(
                "a UDP datagram to port 23",
                frames::udp(H1, H2, 23, b"x"),
                XDP_PASS,
            ),
        ],
        _ => vec![
            case(
                "a TCP SYN to port 22",
                frames::tcp(H1, H2, 22, syn()),
                XDP_PASS,
            ),
            case(
                "a TCP ACK to port 22",
                frames::tcp(H1, H2, 22, ack()),
                XDP_PASS,
            ),
            case(
                "a TCP SYN+ACK to port 22",
                frames::tcp(
                    H1,
                    H2,
                    22,
                    TcpFlags {
                        syn: true,
                        ack: true,
                    },
                ),
                XDP_PASS,
            ),
            case(
                "a UDP datagram to port 22",
                frames::udp(H1, H2, 22, b"x"),
                XDP_PASS,
            ),
        ],
    }
}

/// Fills the maps the lab's program reads before the test frames run.
fn prepare(lab: u8, loaded: &Loaded) -> anyhow::Result<()> {
    match lab {
        2 => {
            let rules = loaded.map("port_rules")?;
            for (port, action) in [(23u16, XDP_DROP), (80, XDP_PASS)] {
                let mut value = [0u8; 16];
                value[..4].copy_from_slice(&action.to_ne_bytes());
                rules.update(&port.to_ne_bytes(), &value, bpf_sys::ANY)?;
            }
        }
        3 => {
            let mut ports = [0u16; 8];
            ports[1] = 23;
            ports[5] = 2323;
            let value: Vec<u8> = ports.iter().flat_map(|p| p.to_ne_bytes()).collect();
            loaded
                .map("blocked")?
                .update(&0u32.to_ne_bytes(), &value, bpf_sys::ANY)?;
        }
        _ => {}
    }
    Ok(())
}

/// What the lab checks after the frames ran: the counters and records the program must leave.
fn after(lab: u8, loaded: &mut Loaded, findings: &mut Findings) -> anyhow::Result<()> {
    match lab {
        2 => {
            let rules = loaded.map("port_rules")?;
            let mut value = [0u8; 16];
            let hits = |port: u16, value: &mut [u8; 16]| -> anyhow::Result<u64> {
                rules.lookup(&port.to_ne_bytes(), value, 0)?;
                Ok(u64::from_ne_bytes(value[8..16].try_into()?))
            };
            let (h23, h80) = (hits(23, &mut value)?, hits(80, &mut value)?);
            if h23 == 1 && h80 == 1 {
                findings.pass("each rule counted the one segment it decided (hits = 1)");
            } else {
                findings.fail(
                    Problem::new(format!(
                        "the rules' hit counters are wrong: port 23 has {h23} hits and port 80 has \
                         {h80}, but each decided exactly one segment"
                    ))
                    .hint("keep the line that adds 1 to rule->hits, after your NULL check"),
                );
            }
        }
        4 => {
            let records = loaded.ring_records("events")?;
            let expected = {
                let mut r = H1.octets().to_vec();
                r.extend_from_slice(&22u16.to_ne_bytes());
                r.extend_from_slice(&[0, 0]);
                r
            };
            match records.as_slice() {
                [one] if *one == expected => findings.pass(
                    "exactly one record reached the ring buffer: the SYN's, with its source \
                     198.18.0.1 and port 22",
                ),
                [] => findings.fail(
                    Problem::new(
                        "no record reached the ring buffer: the SYN to port 22 should have been logged",
                    )
                    .hint("keep bpf_ringbuf_submit() for connection attempts; give the record back only on the other paths"),
                ),
                [one] => findings.fail(Problem::new(format!(
                    "the record logged for the SYN holds {one:02x?}, expected {expected:02x?} \
                     (source address 198.18.0.1, port 22)"
                ))),
                many => findings.fail(
                    Problem::new(format!(
                        "{} records reached the ring buffer, but only one of the four segments \
                         was a connection attempt (SYN without ACK)",
                        many.len()
                    ))
                    .hint("discard (bpf_ringbuf_discard) the record of segments that are not a connection attempt"),
                ),
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks lab 1, 2, 3 or 4 in `dir`.
pub fn check(lab: &Lab, dir: &Path) -> anyhow::Result<CheckReport> {
    let mut findings = Findings::default();
    let program = program_name(lab.number);
    let Some(object) = build_and_verify(dir, "prog.bpf.c", program, &[], &mut findings)? else {
        return Ok(findings.into_report(lab));
    };
    let mut loaded = Loaded::xdp(&object, program)?;
    prepare(lab.number, &loaded)?;
    let mut wrong = 0;
    for case in cases(lab.number) {
        let got = loaded.run(&case.frame)?;
        if got != case.expect {
            wrong += 1;
            findings.fail(
                Problem::new(format!(
                    "{}: your program returns {}, it should return {}",
                    case.what,
                    verdict_name(got),
                    verdict_name(case.expect)
                ))
                .hint("the verifier is happy; now keep what the program did (read the comment at the top of prog.bpf.c)"),
            );
        }
    }
    if wrong == 0 {
        findings.pass(format!(
            "it gives the right verdict on all {} test packets (BPF_PROG_TEST_RUN)",
            cases(lab.number).len()
        ));
    }
    after(lab.number, &mut loaded, &mut findings)?;
    Ok(findings.into_report(lab))
}
