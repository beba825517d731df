//! `switch-ctl run --metrics ADDR`, scraped over HTTP like Prometheus does: per-bridge and
//! per-port fast/passed/dropped counters with reasons, equal to what `status` reads.

mod common;

use common::{Daemon, addr};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;

/// `GET path` on `port` of 127.0.0.1: (status line, headers and body).
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the metrics port answers");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {response}"));
    (head.to_string(), body.to_string())
}

/// The value of the sample `name{labels}` in `text`.
fn sample(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no `{series}` in:\n{text}"))
}

#[test]
fn prometheus_scrapes_see_the_fast_path() {
    let lab = common::lab(2);
    // A free port on the host's loopback: the daemon binds it before entering the lab's
    // namespace, so it is scraped from here.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut d = Daemon::start(&lab, &["--metrics", &listen]);
    d.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let status = d.status();

    let (head, text) = get(port, "/metrics");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("application/openmetrics-text"), "{head}");
    let p1 = common::port(&status, "p1")
        .unwrap()
        .counters
        .clone()
        .unwrap();
    let fast = sample(
        &text,
        "switch_port_fast_packets_total{bridge=\"br0\",port=\"p1\"}",
    );
    assert!(fast >= p1.fast_packets && fast > 0, "{fast} vs {p1:?}");
    let bridge_fast = sample(&text, "switch_bridge_fast_packets_total{bridge=\"br0\"}");
    assert!(bridge_fast >= fast, "the bridge sums its ports");
    for reason in ["source", "fdb_miss", "multicast", "refresh"] {
        sample(
            &text,
            &format!("switch_port_passed_total{{bridge=\"br0\",port=\"p1\",reason=\"{reason}\"}}"),
        );
    }
    sample(
        &text,
        "switch_port_dropped_total{bridge=\"br0\",port=\"p2\"}",
    );
    assert_eq!(
        sample(
            &text,
            "switch_bridge_accelerated{bridge=\"br0\",reason=\"\"}"
        ),
        1
    );
    assert_eq!(sample(&text, "switch_daemon_running"), 1);
    assert!(sample(&text, "switch_bridge_fdb_entries{bridge=\"br0\"}") >= 2);

    // The counters move between scrapes as traffic flows.
    d.wait_fast("h1", &addr(&lab, "h2"), "p1");
    let (_, later) = get(port, "/metrics");
    assert!(
        sample(
            &later,
            "switch_port_fast_packets_total{bridge=\"br0\",port=\"p1\"}"
        ) > fast
    );

    let (head, _) = get(port, "/");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
}
