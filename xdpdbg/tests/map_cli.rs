//! `xdpdbg map ...` run as a user would, against real maps of loaded fixtures (needs root).

use std::process::Output;

use bpf_sys::MapFd;
use serde_json::Value;
use testkit::binary::{Binary, describe as text};

fn xdpdbg(args: &[&str]) -> Output {
    Binary::new(env!("CARGO_BIN_EXE_xdpdbg"))
        .env("NO_COLOR", "1")
        .run(args)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(o)))
}

/// A loaded fixture and one of its maps, reachable by id from another process.
struct Loaded {
    _ebpf: aya::Ebpf,
    map: MapFd,
    id: String,
}

fn load(fixture: &str, program: &str, map: &str) -> Loaded {
    let (ebpf, _prog) = testkit::fixture::load_xdp(fixture, program);
    let map = testkit::fixture::map(&ebpf, map);
    let id = map.info().unwrap().id.to_string();
    Loaded {
        _ebpf: ebpf,
        map,
        id,
    }
}

fn entry(map: &MapFd, key: u32) -> Option<(u64, u64)> {
    let mut v = [0u8; 16];
    map.lookup(&key.to_ne_bytes(), &mut v, 0).unwrap().then(|| {
        (
            u64::from_ne_bytes(v[..8].try_into().unwrap()),
            u64::from_ne_bytes(v[8..].try_into().unwrap()),
        )
    })
}

#[test]
fn set_get_dump_filter_cas_and_conditional_delete() {
    let m = load("ageing_refresh", "ageing_refresh", "entries");
    let id = m.id.as_str();

    let o = xdpdbg(&["map", "set", id, "3", "last_seen=100,hits=5"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        entry(&m.map, 3),
        Some((100, 5)),
        "the kernel map holds what was set"
    );
    let o = xdpdbg(&["map", "set", id, "4", r#"{"last_seen": 7, "hits": 1}"#]);
    assert!(o.status.success(), "{}", text(&o));

    // Editing an existing entry keeps the fields not named.
    let o = xdpdbg(&["map", "set", id, "4", "hits=2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(entry(&m.map, 4), Some((7, 2)));

    let got = json(&xdpdbg(&["map", "get", id, "3", "--json"]));
    assert_eq!(got["value"]["last_seen"], 100);
    assert_eq!(got["value"]["hits"], 5);

    let dump = json(&xdpdbg(&["map", "dump", "--json", id]));
    assert_eq!(dump["map"]["value_type"], "struct entry");
    assert_eq!(dump["method"], "batch-per-bucket");
    assert_eq!(dump["entries"].as_array().unwrap().len(), 2);
    let filtered = json(&xdpdbg(&[
        "map",
        "dump",
        "--json",
        id,
        "--where",
        "value.hits>3",
    ]));
    let only = filtered["entries"].as_array().unwrap();
    assert_eq!(only.len(), 1, "{filtered}");
    assert_eq!(only[0]["key"], 3);

    let o = xdpdbg(&["map", "dump", id]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(r#"3 => {"last_seen":100,"hits":5}"#),
        "{}",
        text(&o)
    );

    // Compare-and-swap: succeeds once, then reports what it found.
    let o = xdpdbg(&["map", "cas", id, "3", "last_seen", "100", "200"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(entry(&m.map, 3), Some((200, 5)));
    let o = xdpdbg(&["map", "cas", id, "3", "last_seen", "100", "300", "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(json(&o)["observed"], 200);
    assert_eq!(
        entry(&m.map, 3),
        Some((200, 5)),
        "a failed compare writes nothing"
    );
    let o = xdpdbg(&["map", "cas", id, "9", "last_seen", "1", "2"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));

    // Conditional delete.
    let o = xdpdbg(&["map", "delete", id, "3", "--if", "last_seen=999"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(entry(&m.map, 3).is_some());
    let o = xdpdbg(&["map", "delete", id, "3", "--if", "last_seen=200"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(entry(&m.map, 3), None);
    let o = xdpdbg(&["map", "delete", id, "4"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = xdpdbg(&["map", "delete", id, "4"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let m = load("ageing_refresh", "ageing_refresh", "entries");
    let id = m.id.as_str();

    let o = xdpdbg(&["map", "get", "4000000000", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no map matches"), "{}", text(&o));

    let o = xdpdbg(&["map", "set", id, "1", "nosuch=1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("last_seen"),
        "the error names the real fields: {}",
        text(&o)
    );
    let o = xdpdbg(&["map", "set", id, "1", "hits=-1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = xdpdbg(&["map", "set", id, "not-a-key", "hits=1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(entry(&m.map, 1), None, "nothing was written");

    let o = xdpdbg(&["map", "cas", id, "1", "hits", "x", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = xdpdbg(&["map", "dump", id, "--where", "value.nosuch=1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn snapshot_diff_and_watch() {
    let m = load("ageing_refresh", "ageing_refresh", "entries");
    let id = m.id.as_str();
    let dir = tempfile::tempdir().unwrap();
    let json_snap = dir.path().join("a.json");
    let bin_snap = dir.path().join("a.snap");

    assert!(
        xdpdbg(&["map", "set", id, "1", "last_seen=10,hits=1"])
            .status
            .success()
    );
    assert!(
        xdpdbg(&["map", "set", id, "2", "last_seen=20,hits=2"])
            .status
            .success()
    );
    let o = xdpdbg(&["map", "snapshot", id, "-o", json_snap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = xdpdbg(&[
        "map",
        "snapshot",
        id,
        "-o",
        bin_snap.to_str().unwrap(),
        "--format",
        "binary",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&json_snap).unwrap()).unwrap();
    assert_eq!(saved["entries"], 2);
    assert!(saved["guarantee"].as_str().unwrap().contains("bucket"));

    let same = xdpdbg(&[
        "map",
        "diff",
        json_snap.to_str().unwrap(),
        bin_snap.to_str().unwrap(),
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));

    assert!(xdpdbg(&["map", "set", id, "2", "hits=7"]).status.success());
    assert!(xdpdbg(&["map", "delete", id, "1"]).status.success());
    assert!(
        xdpdbg(&["map", "set", id, "5", "last_seen=1,hits=1"])
            .status
            .success()
    );
    let d = xdpdbg(&["map", "diff", bin_snap.to_str().unwrap(), id, "--json"]);
    assert_eq!(d.status.code(), Some(1), "{}", text(&d));
    let d = json(&d);
    assert_eq!(d["added"][0]["key"], 5);
    assert_eq!(d["removed"][0]["key"], 1);
    assert_eq!(d["changed"][0]["key"], 2);
    assert_eq!(d["changed"][0]["fields"][0]["path"], "hits");
    assert_eq!(d["changed"][0]["fields"][0]["old"], 2);
    assert_eq!(d["changed"][0]["fields"][0]["new"], 7);

    std::fs::write(dir.path().join("junk"), b"not a snapshot").unwrap();
    let o = xdpdbg(&["map", "diff", dir.path().join("junk").to_str().unwrap(), id]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not an xdpdbg snapshot"), "{}", text(&o));

    let o = xdpdbg(&[
        "map",
        "watch",
        id,
        "--interval",
        "100ms",
        "--count",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["entries"], 2);
}

#[test]
fn list_per_cpu_values_and_refusals() {
    let m = load("snapshot_counters", "snapshot_counters", "stats_a");
    let id = m.id.as_str();
    let cpus = bpf_sys::possible_cpus().unwrap();

    let listed = json(&xdpdbg(&["map", "list", "--json"]));
    let me = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == m.map.info().unwrap().id)
        .expect("the map is listed");
    assert_eq!(me["type"], "percpu_array");
    assert_eq!(me["name"], "stats_a");
    assert_eq!(me["entries"], 2);
    let pid = std::process::id();
    assert!(
        me["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == pid),
        "this test process holds the map: {me}"
    );

    let o = xdpdbg(&["map", "set", id, "1", "packets=3,bytes=192"]);
    assert!(o.status.success(), "{}", text(&o));
    let got = json(&xdpdbg(&["map", "get", id, "1", "--per-cpu", "--json"]));
    assert_eq!(got["per_cpu"].as_array().unwrap().len(), cpus);
    assert_eq!(got["per_cpu"][0]["packets"], 3);
    assert_eq!(
        got["value"]["packets"],
        3 * cpus as u64,
        "the summed value adds every CPU"
    );

    let o = xdpdbg(&["map", "cas", id, "1", "packets", "3", "4"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("per-CPU"), "{}", text(&o));
    let o = xdpdbg(&["map", "delete", id, "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("array"), "{}", text(&o));
}
