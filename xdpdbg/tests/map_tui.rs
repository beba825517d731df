//! The map browser (`xdpdbg map`), driven headless against real maps (needs root: CAP_BPF).

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aya_obj::generated::bpf_map_type;
use bpf_sys::{MapCreate, MapFd};
use testkit::privilege::require_bpf;
use xdpdbg::tui::kit::Headless;
use xdpdbg::tui::maps::{self, TuiOptions};

/// A hash map of u32 → u64 named `prefix` + this process's id, holding `entries`.
fn hash_map(prefix: &str, entries: &[(u32, u64)]) -> (MapFd, String) {
    let name = format!("{prefix}{}", std::process::id());
    assert!(name.len() <= 15, "map name {name} is too long");
    let map = MapFd::create(&MapCreate {
        map_type: bpf_map_type::BPF_MAP_TYPE_HASH as u32,
        name: &name,
        key_size: 4,
        value_size: 8,
        max_entries: 16,
        flags: 0,
        inner_map: None,
    })
    .expect("creating a test map");
    for (k, v) in entries {
        map.update(&k.to_ne_bytes(), &v.to_ne_bytes(), bpf_sys::ANY)
            .expect("filling the test map");
    }
    (map, name)
}

fn lookup(map: &MapFd, key: u32) -> Option<u64> {
    let mut v = [0u8; 8];
    map.lookup(&key.to_ne_bytes(), &mut v, 0)
        .expect("looking the key up")
        .then(|| u64::from_ne_bytes(v))
}

/// Key bytes as the browser shows a map without BTF.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the browser on `keys` (refreshing every `refresh_ms`) and returns every screen with
/// the key that led to it.
fn drive(tag: &str, refresh_ms: u64, keys: &[String]) -> Vec<(String, String)> {
    let out: PathBuf =
        std::env::temp_dir().join(format!("xdpdbg-map-tui-{}-{tag}.txt", std::process::id()));
    maps::run(TuiOptions {
        refresh_ms,
        headless: Some(Headless {
            keys: keys.to_vec(),
            width: 120,
            height: 30,
            frames_out: Some(out.clone()),
            screenshot: None,
        }),
    })
    .expect("the browser fails only when the terminal does, never on map errors");
    let text = std::fs::read_to_string(&out).expect("reading the screens");
    std::fs::remove_file(&out).ok();
    let frames: Vec<(String, String)> = text
        .split("=== frame ")
        .filter(|f| !f.is_empty())
        .map(|f| {
            let (head, screen) = f.split_once(" ===\n").expect("a frame header");
            let label = head.split_once(": ").map_or(head, |(_, l)| l);
            (label.to_string(), screen.to_string())
        })
        .collect();
    // XDPDBG_TUI_SHOW=1 prints every screen (with --nocapture), to see what the tests see.
    if std::env::var_os("XDPDBG_TUI_SHOW").is_some() {
        for (label, screen) in &frames {
            eprintln!("--- {tag}: after {label}\n{screen}");
        }
    }
    assert_eq!(
        frames.len(),
        keys.len() + 1,
        "one screen per key plus the first"
    );
    frames
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| k.to_string()).collect()
}

/// The keys that find the map by name on the list and open it.
fn open_keys(name: &str) -> Vec<String> {
    keys(&["/", &format!("text:{name}"), "enter", "enter"])
}

fn last(frames: &[(String, String)]) -> &str {
    &frames.last().unwrap().1
}

#[test]
fn the_list_finds_a_map_by_name_and_opens_its_entries() {
    require_bpf();
    let (map, name) = hash_map("tui_ls_", &[(7, 1000), (8, 2000)]);
    let id = map.info().unwrap().id;
    let frames = drive("list", 1000, &open_keys(&name));

    // After the search, the list shows the map with its id, type and entry count.
    let searched = &frames[2].1;
    // The list is the left pane: each line up to where the right pane begins.
    let row = searched
        .lines()
        .map(|l| l.split("││").next().unwrap_or(l))
        .find(|l| l.contains(&format!("{id} {name}")))
        .unwrap_or_else(|| panic!("{name} is not on the searched list:\n{searched}"));
    assert!(row.contains("hash"), "{row}");
    assert!(row.contains("2/16"), "{row}");
    assert!(
        searched.contains(&format!("matching /{name}")),
        "{searched}"
    );

    // Enter opens it: its real keys and values, as hex (the map has no BTF).
    let screen = last(&frames);
    assert!(
        screen.contains(&format!("{name} · id {id} · hash")),
        "{screen}"
    );
    for (k, v) in [(7u32, 1000u64), (8, 2000)] {
        let (k, v) = (hex(&k.to_ne_bytes()), hex(&v.to_ne_bytes()));
        assert!(
            screen
                .lines()
                .any(|l| l.contains(&k) && l.contains(&format!("→ {v}"))),
            "entry {k} → {v} is not shown:\n{screen}"
        );
    }
}

#[test]
fn delete_asks_first_and_removes_the_key_from_the_kernel() {
    require_bpf();
    let (map, name) = hash_map("tui_del_", &[(9, 1), (10, 2)]);
    let key = hex(&9u32.to_ne_bytes());
    let mut script = open_keys(&name);
    // Select key 9 with a search on the entries; `n` keeps it.
    script.extend(keys(&["/", &format!("text:{key}"), "enter", "d", "n"]));
    let frames = drive("keep", 1000, &script);
    let asked = &frames[frames.len() - 2].1;
    assert!(
        asked.contains(&format!("delete key {key}? y deletes it")),
        "{asked}"
    );
    assert!(last(&frames).contains(&format!("kept key {key}")));
    assert_eq!(lookup(&map, 9), Some(1), "n must keep the key");

    script.pop();
    script.push("y".into());
    let frames = drive("delete", 1000, &script);
    let screen = last(&frames);
    assert!(screen.contains(&format!("deleted key {key}")), "{screen}");
    assert_eq!(lookup(&map, 9), None, "the key is still in the kernel map");
    assert_eq!(lookup(&map, 10), Some(2), "another key was deleted too");
    // The view was read again: the key is gone from the screen, its neighbour stays.
    assert!(screen.contains("1/16 entries"), "{screen}");
}

#[test]
fn edit_writes_the_new_value_to_the_kernel() {
    require_bpf();
    let (map, name) = hash_map("tui_edit_", &[(10, 5), (11, 6)]);
    let key = hex(&10u32.to_ne_bytes());
    let mut script = open_keys(&name);
    script.extend(keys(&[
        "/",
        &format!("text:{key}"),
        "enter",
        "e",
        "ctrl-u",
        "text:4242",
        "enter",
    ]));
    let frames = drive("edit", 1000, &script);
    // The input was prefilled with the current value.
    let prefilled = &frames[frames.len() - 4].1;
    let current = hex(&5u64.to_ne_bytes());
    assert!(
        prefilled.contains(&format!("edit {key}: {current}")),
        "{prefilled}"
    );
    assert_eq!(lookup(&map, 10), Some(4242));
    assert_eq!(lookup(&map, 11), Some(6));
    let screen = last(&frames);
    let new = hex(&4242u64.to_ne_bytes());
    assert!(
        screen.contains(&format!("key {key} now holds {new}")),
        "{screen}"
    );
    assert!(
        screen.lines().any(|l| l.contains(&format!("→ {new}"))),
        "{screen}"
    );
}

#[test]
fn a_bad_edit_is_an_error_in_the_status_line_and_writes_nothing() {
    require_bpf();
    let (map, name) = hash_map("tui_bad_", &[(12, 77)]);
    let mut script = open_keys(&name);
    script.extend(keys(&[
        "e", "ctrl-u", "text:zz", "enter", "e", "text:9", "esc",
    ]));
    let frames = drive("bad", 1000, &script);
    let failed = &frames[frames.len() - 4].1;
    assert!(failed.contains("not written:"), "{failed}");
    assert!(failed.contains("hex"), "{failed}");
    assert_eq!(lookup(&map, 12), Some(77));
    // The browser is still there: the next edit opens, and Esc cancels it.
    let screen = last(&frames);
    assert!(screen.contains("left as it was"), "{screen}");
    assert_eq!(lookup(&map, 12), Some(77));
}

#[test]
fn a_map_that_vanishes_while_open_sends_the_browser_back_to_the_list() {
    require_bpf();
    let (map, name) = hash_map("tui_gone_", &[(1, 1)]);
    let id = map.info().unwrap().id;
    // Once the browser has written 99 (so it has the map open), let the map go.
    let dropper = std::thread::spawn(move || {
        let start = Instant::now();
        while lookup(&map, 1) != Some(99) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the browser never edited the map"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(map);
    });
    let mut script = open_keys(&name);
    script.extend(keys(&["e", "ctrl-u", "text:99", "enter"]));
    script.extend(std::iter::repeat_n("wait:150".to_string(), 6));
    let frames = drive("gone", 100, &script);
    dropper.join().expect("the map was dropped");
    let screen = last(&frames);
    assert!(screen.contains(&format!("map {id} is gone")), "{screen}");
    // Back on the list, which no longer has the map.
    assert!(
        screen.contains("Enter browses its entries") || screen.contains("no map"),
        "{screen}"
    );
    assert!(!screen.contains(&format!("{name} · id {id}")), "{screen}");
}

#[test]
fn a_filter_narrows_the_entries() {
    require_bpf();
    let (_map, name) = hash_map("tui_flt_", &[(1, 1), (2, 2), (3, 3)]);
    let key = hex(&2u32.to_ne_bytes());
    let mut script = open_keys(&name);
    script.extend(keys(&["f", &format!("text:key={key}"), "enter"]));
    let frames = drive("filter", 1000, &script);
    let screen = last(&frames);
    assert!(screen.contains("3/16 entries, 1 shown"), "{screen}");
    assert!(screen.contains(&format!("filter key={key}")), "{screen}");
    // A bad expression is an error, not an exit.
    script.extend(keys(&["f", "ctrl-u", "text:nonsense", "enter"]));
    let frames = drive("badfilter", 1000, &script);
    assert!(last(&frames).contains("bad filter"), "{}", last(&frames));
}

#[test]
fn typed_entries_show_edit_and_filter_with_btf() {
    require_bpf();
    let mut ebpf = aya::Ebpf::load(fixtures::get("map_types").unwrap().object)
        .expect("loading the map_types fixture's maps");
    let fd = match ebpf.map_mut("fdb").expect("the fixture has an fdb map") {
        aya::maps::Map::HashMap(d) => d.fd().as_fd().try_clone_to_owned().unwrap(),
        other => panic!("unexpected map {other:?}"),
    };
    let map = bpf_maps::OpenMap {
        info: MapFd::from_fd(fd.try_clone().unwrap()).info().unwrap(),
        fd: MapFd::from_fd(fd),
    };
    let id = map.info.id;
    let schema = bpf_maps::Schema::of(&map).unwrap();
    let key = schema.encode_key("mac=02:1a:b0:00:00:01,vlan=10").unwrap();
    let value = schema
        .encode_value("port=80,name=eth0,packets=5,state=PORT_FORWARDING")
        .unwrap();
    map.fd.update(&key, &value, bpf_sys::ANY).unwrap();
    let other = schema.encode_key("mac=02:1a:b0:00:00:02,vlan=20").unwrap();
    map.fd.update(&other, &value, bpf_sys::ANY).unwrap();
    let read = |k: &[u8]| {
        let mut v = vec![0u8; map.info.value_size as usize];
        assert!(map.fd.lookup(k, &mut v, 0).unwrap());
        schema.decode_value(&v)
    };

    let mut script = keys(&["/", &format!("text:id:{id}"), "enter", "enter"]);
    script.extend(keys(&["f", "text:key.vlan=10", "enter"]));
    let frames = drive("btf", 1000, &script);
    let opened = &frames[4].1;
    assert!(opened.contains("KEY struct fdb_key"), "{opened}");
    assert!(opened.contains("VALUE struct fdb_entry"), "{opened}");
    assert!(
        opened.contains(r#"{"mac":"02:1a:b0:00:00:01","vlan":10} → {"addr":"0.0.0.0","port":80"#),
        "{opened}"
    );
    let screen = last(&frames);
    assert!(screen.contains("2/64 entries, 1 shown"), "{screen}");

    // The prefilled edit text writes the same value back (it is valid input as it stands)...
    let before = read(&key);
    script.extend(keys(&["e", "enter"]));
    let frames = drive("btf-same", 1000, &script);
    assert!(last(&frames).contains("now holds"), "{}", last(&frames));
    assert_eq!(read(&key), before);

    // ...and field=value edits change only those fields.
    script.extend(keys(&["e", "ctrl-u", "text:port=8080,name=eth1", "enter"]));
    let frames = drive("btf-edit", 1000, &script);
    assert!(last(&frames).contains("now holds"), "{}", last(&frames));
    let after = read(&key);
    assert_eq!(after["port"], 8080);
    assert_eq!(after["name"], "eth1");
    assert_eq!(after["packets"], 5);
    assert_eq!(after["state"], "PORT_FORWARDING");
    assert_eq!(read(&other)["port"], 80, "the other entry was changed");

    // A field the type lacks is an error naming the fields that exist.
    script.extend(keys(&["e", "ctrl-u", "text:colour=red", "enter"]));
    let frames = drive("btf-bad", 1000, &script);
    let screen = last(&frames);
    assert!(screen.contains("not written:"), "{screen}");
    assert!(screen.contains("colour"), "{screen}");
    drop(ebpf);
}
