//! `switch-ctl run --metrics ADDR`: the status as Prometheus metrics (OpenMetrics text), so a
//! fleet of hosts running the switch is watched with the tools operators already run.
//!
//! Every scrape reads the status as `switch-ctl status` does ([`crate::status::read`]: the
//! daemon's decisions from its status file, live counters from the maps) and encodes it with
//! `prometheus-client`:
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `switch_bridge_accelerated` | bridge, reason | 1 when its ports get a fast path; the reason why not |
//! | `switch_bridge_fdb_entries` | bridge | FDB entries in the fast path |
//! | `switch_bridge_fast_packets_total`, `_fast_bytes_total`, `_dropped_total` | bridge | sums over its ports |
//! | `switch_bridge_passed_total` | bridge, reason | frames passed to the bridge, by reason |
//! | `switch_port_attached` | bridge, port, mode | 1 when its fast path is attached |
//! | `switch_port_fast_packets_total`, `_fast_bytes_total`, `_dropped_total` | bridge, port | per port |
//! | `switch_port_passed_total` | bridge, port, reason | per port and reason |
//! | `switch_daemon_running` | | 1 while the daemon runs |
//! | `switch_maps_readable` | | 0 when the counters could not be read (they are then absent, not zero) |
//!
//! The endpoint is a minimal HTTP/1.1 responder: `GET /metrics` (any other path: 404), one
//! response per connection.

use crate::daemon_dirs::DaemonDirs;
use crate::status::{Counters, MapsAccess, Status};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// The content type of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One status, as metrics.
#[derive(Debug)]
struct StatusMetrics(Status);

type Labels = Vec<(&'static str, String)>;

/// One metric family: its name, help, and the value of each label set.
struct Family {
    name: String,
    help: String,
    counter: bool,
    values: Vec<(Labels, u64)>,
}

impl Family {
    fn encode(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let kind = if self.counter {
            ConstCounter::new(0u64).metric_type()
        } else {
            ConstGauge::new(0i64).metric_type()
        };
        let mut metric = encoder.encode_descriptor(&self.name, &self.help, None, kind)?;
        for (labels, value) in &self.values {
            let family = metric.encode_family(labels)?;
            if self.counter {
                ConstCounter::new(*value).encode(family)?;
            } else {
                ConstGauge::new(i64::try_from(*value).unwrap_or(i64::MAX)).encode(family)?;
            }
        }
        Ok(())
    }
}

/// Sums per-port counters.
fn sum<'a>(counters: impl Iterator<Item = &'a Counters>) -> Counters {
    let mut total = Counters::default();
    for c in counters {
        total.fast_packets += c.fast_packets;
        total.fast_bytes += c.fast_bytes;
        total.dropped += c.dropped;
        for (reason, n) in &c.passed {
            *total.passed.entry(reason.clone()).or_default() += n;
        }
    }
    total
}

/// The counter families of one set of counters per label set, named `switch_{scope}_...`.
fn counter_families(scope: &str, rows: &[(Labels, Counters)]) -> Vec<Family> {
    let plain = |f: fn(&Counters) -> u64| -> Vec<(Labels, u64)> {
        rows.iter().map(|(l, c)| (l.clone(), f(c))).collect()
    };
    let passed = rows
        .iter()
        .flat_map(|(labels, c)| {
            c.passed.iter().map(move |(reason, n)| {
                let mut labels = labels.clone();
                labels.push(("reason", reason.clone()));
                (labels, *n)
            })
        })
        .collect();
    vec![
        Family {
            name: format!("switch_{scope}_fast_packets"),
            help: "Frames forwarded by the fast path".into(),
            counter: true,
            values: plain(|c| c.fast_packets),
        },
        Family {
            name: format!("switch_{scope}_fast_bytes"),
            help: "Bytes forwarded by the fast path".into(),
            counter: true,
            values: plain(|c| c.fast_bytes),
        },
        Family {
            name: format!("switch_{scope}_dropped"),
            help: "Frames the fast path dropped (shorter than an Ethernet header)".into(),
            counter: true,
            values: plain(|c| c.dropped),
        },
        Family {
            name: format!("switch_{scope}_passed"),
            help: "Frames passed to the bridge, by reason".into(),
            counter: true,
            values: passed,
        },
    ]
}

impl Collector for StatusMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = &self.0;
        let readable = !matches!(status.maps, MapsAccess::Unavailable { .. });
        let bridge = |b: &str| -> Labels { vec![("bridge", b.to_string())] };
        let mut gauges = vec![
            Family {
                name: "switch_daemon_running".into(),
                help: "1 while the daemon runs".into(),
                counter: false,
                values: vec![(Vec::new(), u64::from(status.daemon.running))],
            },
            Family {
                name: "switch_maps_readable".into(),
                help: "0 when the fast path's maps could not be read (counters absent, not zero)"
                    .into(),
                counter: false,
                values: vec![(Vec::new(), u64::from(readable))],
            },
            Family {
                name: "switch_bridge_accelerated".into(),
                help: "1 when the bridge's ports get a fast path; reason says why not".into(),
                counter: false,
                values: status
                    .bridges
                    .iter()
                    .map(|b| {
                        let mut labels = bridge(&b.name);
                        labels.push(("reason", b.reason.clone().unwrap_or_default()));
                        (labels, u64::from(b.accelerated))
                    })
                    .collect(),
            },
            Family {
                name: "switch_port_attached".into(),
                help: "1 when the port's fast path is attached, in this mode".into(),
                counter: false,
                values: status
                    .bridges
                    .iter()
                    .flat_map(|b| {
                        b.ports.iter().map(|p| {
                            let mode = p.mode.map(|m| m.to_string()).unwrap_or_default();
                            let labels = vec![
                                ("bridge", b.name.clone()),
                                ("port", p.name.clone()),
                                ("mode", mode),
                            ];
                            (labels, u64::from(p.attached))
                        })
                    })
                    .collect(),
            },
        ];
        if readable {
            gauges.push(Family {
                name: "switch_bridge_fdb_entries".into(),
                help: "FDB entries in the fast path".into(),
                counter: false,
                values: status
                    .bridges
                    .iter()
                    .map(|b| (bridge(&b.name), b.fdb_entries as u64))
                    .collect(),
            });
        }
        for family in &gauges {
            family.encode(&mut encoder)?;
        }
        if !readable {
            return Ok(());
        }
        let ports: Vec<(Labels, Counters)> = status
            .bridges
            .iter()
            .flat_map(|b| {
                b.ports.iter().filter_map(|p| {
                    let labels = vec![("bridge", b.name.clone()), ("port", p.name.clone())];
                    Some((labels, p.counters.clone()?))
                })
            })
            .collect();
        let bridges: Vec<(Labels, Counters)> = status
            .bridges
            .iter()
            .map(|b| {
                (
                    bridge(&b.name),
                    sum(b.ports.iter().filter_map(|p| p.counters.as_ref())),
                )
            })
            .collect();
        for (scope, rows) in [("bridge", &bridges), ("port", &ports)] {
            for family in counter_families(scope, rows) {
                family.encode(&mut encoder)?;
            }
        }
        Ok(())
    }
}

/// `status` as OpenMetrics text.
pub fn encode(status: &Status) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(StatusMetrics(status.clone())));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    Ok(text)
}

/// Answers scrapes on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, dirs: DaemonDirs) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let dirs = dirs.clone();
        tokio::spawn(async move {
            let _ = answer(stream, &dirs).await;
        });
    }
}

/// Reads one request and answers it.
async fn answer(mut stream: tokio::net::TcpStream, dirs: &DaemonDirs) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 << 10 {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let mut words = line.split_whitespace();
    let (method, path) = (words.next(), words.next());
    let (code, content_type, body) = if method == Some("GET") && path == Some("/metrics") {
        match crate::status::read(dirs).map(|s| s.map(|s| encode(&s))) {
            Ok(Some(Ok(text))) => ("200 OK", CONTENT_TYPE, text),
            Ok(None) => (
                "503 Service Unavailable",
                "text/plain",
                "no status yet\n".into(),
            ),
            Ok(Some(Err(_))) => (
                "500 Internal Server Error",
                "text/plain",
                "encoding\n".into(),
            ),
            Err(e) => ("500 Internal Server Error", "text/plain", format!("{e}\n")),
        }
    } else {
        ("404 Not Found", "text/plain", "GET /metrics\n".into())
    };
    let head = format!(
        "HTTP/1.1 {code}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{BridgeStatus, DaemonStatus, PortStatus};

    fn port(name: &str, fast: u64, passed: &[(&str, u64)]) -> PortStatus {
        PortStatus {
            name: name.into(),
            ifindex: 2,
            requested: crate::mode::Requested::Auto,
            mode: Some(crate::mode::Mode::Tc),
            reason: String::new(),
            attached: true,
            error: None,
            flags: Vec::new(),
            slot: Some(0),
            counters: Some(Counters {
                fast_packets: fast,
                fast_bytes: fast * 100,
                passed: passed.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
                dropped: 1,
            }),
        }
    }

    #[test]
    fn per_bridge_and_per_port_counters_and_reasons() {
        let status = Status {
            daemon: DaemonStatus {
                pid: 1,
                running: true,
                netns: "net-1".into(),
                pin_dir: String::new(),
                started_unix: 0,
                last_resync_unix: 0,
                resyncs: 1,
                overruns: 0,
                allow_netfilter: false,
                map_ids: Default::default(),
                fdb_capacity: 0,
            },
            bridges: vec![
                BridgeStatus {
                    name: "br0".into(),
                    ifindex: 1,
                    accelerated: true,
                    reason: None,
                    ageing_time_ms: 300_000,
                    fdb_entries: 4,
                    ports: vec![
                        port("p1", 10, &[("source", 2), ("refresh", 1)]),
                        port("p2", 5, &[("source", 3)]),
                    ],
                },
                BridgeStatus {
                    name: "br1".into(),
                    ifindex: 9,
                    accelerated: false,
                    reason: Some("VLAN filtering is on".into()),
                    ageing_time_ms: 300_000,
                    fdb_entries: 0,
                    ports: Vec::new(),
                },
            ],
            maps: MapsAccess::Pins,
        };
        let text = encode(&status).unwrap();
        for line in [
            "switch_port_fast_packets_total{bridge=\"br0\",port=\"p1\"} 10",
            "switch_port_passed_total{bridge=\"br0\",port=\"p2\",reason=\"source\"} 3",
            "switch_bridge_fast_packets_total{bridge=\"br0\"} 15",
            "switch_bridge_passed_total{bridge=\"br0\",reason=\"source\"} 5",
            "switch_bridge_dropped_total{bridge=\"br0\"} 2",
            "switch_bridge_accelerated{bridge=\"br1\",reason=\"VLAN filtering is on\"} 0",
            "switch_bridge_fdb_entries{bridge=\"br0\"} 4",
            "switch_port_attached{bridge=\"br0\",port=\"p1\",mode=\"tc\"} 1",
            "switch_maps_readable 1",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }

        let mut unreadable = status;
        unreadable.maps = MapsAccess::Unavailable {
            reason: "gone".into(),
            hint: String::new(),
        };
        let text = encode(&unreadable).unwrap();
        assert!(text.contains("switch_maps_readable 0"), "{text}");
        assert!(
            !text.contains("fast_packets"),
            "counters must be absent, not zero:\n{text}"
        );
    }
}
