//! Pictures of every TUI screen, made by the screens themselves: each is `xdpdbg ... --headless
//! --keys KEYS --screenshot FILE.svg` run against real programs loaded from the fixtures (the
//! map browser over `map_types`'s maps filled with entries, the explorer over
//! `map_lookup_no_null_check`, top over `hot_spot` run in a loop with `BPF_PROG_RUN`), plus the
//! page that shows them, `docs/screens/README.md`.
//!
//! The pictures hold values that change from run to run (ids, rates, times, kernel
//! addresses), so `check` compares them after [`crate::screen_compare::normalise`]; the page
//! says so.

use std::fmt::Write as _;
use std::os::fd::AsFd as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, bail};

use crate::output::{Compare, Generated};
use crate::tools::Tools;

/// Screen size of every picture: wide enough that top's OWNERS column holds a 7-digit pid and
/// `docgen` (a cut name would change with the pid's width).
const SIZE: &str = "140x36";

/// One picture: which screen, driven by which keys, and what it shows.
struct Shot {
    /// File name without `.svg`.
    name: &'static str,
    /// The heading on the page.
    title: &'static str,
    /// What the picture shows, for the page.
    shows: &'static str,
    /// The `xdpdbg` arguments before the headless ones.
    args: Vec<String>,
    /// The keys played.
    keys: String,
}

/// The explorer's pictures, over the fixture object at `object`.
fn explain_shots(object: &str) -> Vec<Shot> {
    let args = vec!["explain".to_string(), object.to_string()];
    vec![
        Shot {
            name: "explain",
            title: "The explorer: the rejected instruction",
            shows: "`xdpdbg explain` opens at the rejected instruction: the program's \
                    instructions interleaved with its source lines (left), the registers and \
                    stack slots as the source variables they hold, with what the verifier knew \
                    in words (right), and the explanation: the error ID, the line, the \
                    verifier's message, why, and the fix (bottom).",
            args: args.clone(),
            keys: String::new(),
        },
        Shot {
            name: "explain-path",
            title: "The explorer: stepping along the failing path",
            shows: "`p` and `n` step backwards and forwards along the path the verifier took; \
                    the right pane shows the state before the selected step.",
            args: args.clone(),
            keys: "p p p".into(),
        },
        Shot {
            name: "explain-history",
            title: "The explorer: a register's history",
            shows: "`h` shows the history of a register (`0`-`9` pick r0-r9) along the path: \
                    every instruction that wrote it, and what the verifier knew after each.",
            args: args.clone(),
            keys: "h".into(),
        },
        Shot {
            name: "explain-help",
            title: "The explorer: help",
            shows: "`?` lists every key.",
            args,
            keys: "?".into(),
        },
    ]
}

/// The map browser's pictures: over `fdb` (a hash map, id `fdb`) and `counts` (a per-CPU
/// array, id `counts`). A hash map lists its entries in an order that changes from map to map
/// (its hash seed is random), so the pictures show one entry of it (found with a filter), and
/// all the entries of the array, which come in key order.
fn map_shots(fdb: u32, counts: u32) -> Vec<Shot> {
    let args = vec!["map".to_string(), "tui".to_string()];
    let find = |id: u32| format!("/ text:id:{id} enter");
    vec![
        Shot {
            name: "maps-list",
            title: "The map browser: the list of maps",
            shows: "`xdpdbg map` lists every map on the system (id, name, type, entries of \
                    capacity, size); `/` searches them (here for one map by id).",
            args: args.clone(),
            keys: find(fdb),
        },
        Shot {
            name: "maps-entries",
            title: "The map browser: a map's entries",
            shows: "Enter opens a map: its entries decoded with the map's BTF, key → value as \
                    JSON (a per-CPU map shows one value per CPU), with the key and value types \
                    on top. Here `xdp_count`'s counters after 1000 test runs of its program.",
            args: args.clone(),
            keys: format!("{} enter", find(counts)),
        },
        Shot {
            name: "maps-filter",
            title: "The map browser: filtered entries",
            shows: "`f` filters entries with an expression on their fields (here \
                    `key.vlan=20`); `e` edits the selected value and `d` deletes its entry \
                    (after a y/n question).",
            args: args.clone(),
            keys: format!("{} enter f text:key.vlan=20 enter", find(fdb)),
        },
        Shot {
            name: "maps-help",
            title: "The map browser: help",
            shows: "`?` lists every key.",
            args,
            keys: format!("{} ?", find(fdb)),
        },
    ]
}

/// top's live pictures (the profile is drawn from a recording: [`crate::top_replay`]).
fn top_shots() -> Vec<Shot> {
    vec![
        Shot {
            name: "top",
            title: "top: every program, live",
            shows: "`xdpdbg top` lists every loaded program (id, type, name, attach points, \
                    owners, runs, runs/s, ns/run, CPU %), here filtered with `/` to the one \
                    under load, with a graph of the selected program's CPU % below; `t` turned \
                    on run-time statistics, so runs and ns/run are exact (the header says what \
                    that costs).",
            args: vec!["top".into(), "--interval".into(), "500ms".into()],
            keys: "t / text:hot_spot enter wait:2500".into(),
        },
        Shot {
            name: "top-help",
            title: "top: help",
            shows: "`?` lists every key.",
            args: vec!["top".into()],
            keys: "/ text:hot_spot enter ?".into(),
        },
    ]
}

/// Runs one shot; returns the picture.
fn take(tools: &Tools, dir: &Path, shot: &Shot) -> anyhow::Result<String> {
    let file = dir.join(format!("{}.svg", shot.name));
    let file_arg = file.to_string_lossy().into_owned();
    let mut args: Vec<&str> = shot.args.iter().map(String::as_str).collect();
    args.extend([
        "--headless",
        "--size",
        SIZE,
        "--keys",
        &shot.keys,
        "--screenshot",
        &file_arg,
    ]);
    tools
        .run("xdpdbg", &args, &[0])
        .with_context(|| format!("taking the picture {}", shot.name))?;
    std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
}

/// A fixture program run over and over with `BPF_PROG_RUN` on a thread of its own until
/// dropped, so top has something to measure.
struct Driven {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Driven {
    fn start(prog: bpf_sys::ProgFd) -> Driven {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let packet = [0u8; 64];
                while !stop.load(Ordering::Relaxed) {
                    let run = bpf_sys::TestRun {
                        data_in: Some(&packet),
                        repeat: 2000,
                        ..Default::default()
                    };
                    if prog.test_run(run).is_err() {
                        return;
                    }
                }
            })
        };
        Driven {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Driven {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Loads fixture `name` (its maps created, its programs not loaded).
fn load(name: &str) -> anyhow::Result<aya::Ebpf> {
    let f = fixtures::get(name).with_context(|| format!("there is no fixture {name}"))?;
    aya::Ebpf::load(f.object).with_context(|| {
        format!(
            "loading the fixture {name} (docgen needs root, or CAP_BPF and CAP_PERFMON, to \
             load programs and sample them: run ./scripts/docs-gen as root)"
        )
    })
}

/// The `map_types` fixture's maps, with three entries in `fdb`; returns the object (keep it
/// alive while the pictures are taken) and the id of `fdb`.
fn filled_maps() -> anyhow::Result<(aya::Ebpf, u32)> {
    let ebpf = load("map_types")?;
    let data = match ebpf.map("fdb").context("map_types has no map fdb")? {
        aya::maps::Map::HashMap(d) => d,
        other => bail!("map fdb of map_types is not a hash map: {other:?}"),
    };
    let fd = bpf_sys::MapFd::from_fd(data.fd().as_fd().try_clone_to_owned()?);
    let map = bpf_maps::OpenMap {
        info: fd.info().context("reading the fdb map's info")?,
        fd,
    };
    let schema = bpf_maps::Schema::of(&map).context("reading the fdb map's BTF")?;
    for (key, value) in [
        (
            "mac=02:1a:b0:00:00:01,vlan=10",
            "addr=198.18.0.1,port=8080,state=PORT_FORWARDING,name=eth0,packets=1520,is_static=true",
        ),
        (
            "mac=02:1a:b0:00:00:02,vlan=10",
            "addr=198.18.0.2,port=443,state=PORT_LEARNING,name=eth1,packets=87",
        ),
        (
            "mac=02:1a:b0:00:00:03,vlan=20",
            "addr=198.18.0.3,port=53,state=PORT_BLOCKING,name=eth2,packets=3",
        ),
    ] {
        let k = schema.encode_key(key).context("encoding an fdb key")?;
        let v = schema
            .encode_value(value)
            .context("encoding an fdb value")?;
        map.fd
            .update(&k, &v, bpf_sys::ANY)
            .context("writing an fdb entry")?;
    }
    Ok((ebpf, map.info.id))
}

/// Loads `name`'s XDP program `name`; returns the object and the program.
fn load_xdp(name: &str) -> anyhow::Result<(aya::Ebpf, bpf_sys::ProgFd)> {
    let mut ebpf = load(name)?;
    let xdp: &mut aya::programs::Xdp = ebpf
        .program_mut(name)
        .with_context(|| format!("{name} has no program {name}"))?
        .try_into()
        .with_context(|| format!("{name} is not an XDP program"))?;
    xdp.load().with_context(|| format!("loading {name}"))?;
    let fd = xdp
        .fd()
        .with_context(|| format!("{name} has no file descriptor"))?;
    let prog = bpf_sys::ProgFd::from_fd(fd.as_fd().try_clone_to_owned()?);
    Ok((ebpf, prog))
}

/// `xdp_count` after 1000 test runs on a zeroed 64-byte frame; returns the object and the id
/// of its `counts` map.
fn counted_packets() -> anyhow::Result<(aya::Ebpf, u32)> {
    let (ebpf, prog) = load_xdp("xdp_count")?;
    let packet = [0u8; 64];
    prog.test_run(bpf_sys::TestRun {
        data_in: Some(&packet),
        repeat: 1000,
        ..Default::default()
    })
    .context("running xdp_count with BPF_PROG_RUN")?;
    let data = match ebpf.map("counts").context("xdp_count has no map counts")? {
        aya::maps::Map::PerCpuArray(d) => d,
        other => bail!("map counts of xdp_count is not a per-CPU array: {other:?}"),
    };
    let id = bpf_sys::MapFd::from_fd(data.fd().as_fd().try_clone_to_owned()?)
        .info()
        .context("reading the counts map's info")?
        .id;
    Ok((ebpf, id))
}

/// Loads `hot_spot` and runs it in a loop; returns what must stay alive and its id.
fn running_hot_spot() -> anyhow::Result<(aya::Ebpf, Driven, u32)> {
    let (ebpf, prog) = load_xdp("hot_spot")?;
    let id = prog.info().context("reading hot_spot's info")?.id;
    Ok((ebpf, Driven::start(prog), id))
}

/// Where the recorded profile is, from the repository's root.
const RECORDING: &str = "docs/screens/top-profile.json";

/// The profile picture and its recording. The recording is made now from the running program
/// `prog` when `record` is asked, or when there is none (or it no longer reads as a profile);
/// otherwise the checked-in one is drawn, so making the docs again does not churn it.
fn profile_picture(
    tools: &Tools,
    root: &Path,
    dir: &Path,
    prog: u32,
    record: bool,
) -> anyhow::Result<Vec<Generated>> {
    let checked_in = std::fs::read_to_string(root.join(RECORDING))
        .ok()
        .filter(|r| crate::top_replay::readable(r));
    let recording = match checked_in {
        Some(r) if !record => r,
        _ => {
            let id = prog.to_string();
            let json = tools.run(
                "xdpdbg",
                &["top", "--prog", &id, "--duration", "3s", "--json"],
                &[0],
            )?;
            crate::top_replay::recording(&json, root)?
        }
    };
    let svg = dir.join("top-profile.svg");
    let (w, h) = SIZE.split_once('x').context("SIZE is COLUMNSxROWS")?;
    crate::top_replay::draw(
        &recording,
        &svg,
        &dir.join("top-profile.frames"),
        (w.parse()?, h.parse()?),
    )?;
    Ok(vec![
        Generated::exact(RECORDING, recording),
        Generated::exact(
            "docs/screens/top-profile.svg",
            std::fs::read_to_string(&svg).context("reading the profile's picture")?,
        ),
    ])
}

/// Every picture, and the page that shows them; `record` records top's profile anew instead
/// of drawing the checked-in recording.
pub fn generate(tools: &Tools, root: &Path, record: bool) -> anyhow::Result<Vec<Generated>> {
    let dir = tempfile::tempdir().context("creating a directory for the pictures")?;
    let mut sections: Vec<(&str, Vec<Shot>)> = Vec::new();
    let mut files = Vec::new();

    let explained = fixtures::get("map_lookup_no_null_check")
        .context("there is no fixture map_lookup_no_null_check")?;
    let object = dir.path().join(format!("{}.bpf.o", explained.name));
    std::fs::write(&object, explained.object).context("writing the fixture's object")?;
    let shots = explain_shots(&object.to_string_lossy());
    for s in &shots {
        files.push(picture(s, take(tools, dir.path(), s)?));
    }
    sections.push((
        "The explorer of verifier rejections (`xdpdbg explain`)",
        shots,
    ));

    let (maps, fdb) = filled_maps()?;
    let (counted, counts) = counted_packets()?;
    let shots = map_shots(fdb, counts);
    for s in &shots {
        files.push(picture(s, take(tools, dir.path(), s)?));
    }
    drop(maps);
    drop(counted);
    sections.push(("The map browser (`xdpdbg map`)", shots));

    let (program, driven, id) = running_hot_spot()?;
    let shots = top_shots();
    for s in &shots {
        files.push(picture(s, take(tools, dir.path(), s)?));
    }
    files.extend(profile_picture(tools, root, dir.path(), id, record)?);
    drop(driven);
    drop(program);
    sections.push(("top (`xdpdbg top`)", shots));

    files.push(Generated::exact("docs/screens/README.md", page(&sections)));
    Ok(files)
}

/// A command line or key script with the ids of the run (a number alone, or after `id:`)
/// written `ID`, so the page does not change from run to run.
fn without_ids(text: &str) -> String {
    text.split(' ')
        .map(|t| {
            let (head, tail) = t.rsplit_once("id:").unwrap_or(("", t));
            if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
                format!("{head}{}ID", if t.contains("id:") { "id:" } else { "" })
            } else {
                t.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn picture(shot: &Shot, svg: String) -> Generated {
    Generated {
        path: format!("docs/screens/{}.svg", shot.name).into(),
        contents: svg,
        compare: Compare::Screen,
    }
}

fn page(sections: &[(&str, Vec<Shot>)]) -> String {
    let mut md = String::from(
        "<!-- Generated by docgen (docs/gen/src/screens.rs); do not edit: run ./scripts/docs-gen. -->\n\n\
         # Screens\n\n\
         Every screen of the toolkit's TUIs, as the screens themselves draw it: each picture is \
         the last frame of a headless run (`--headless --keys KEYS --screenshot FILE.svg`, the \
         same key scripts the tests use), drawn in color by the TUI's own code into an SVG \
         (`xdpdbg/src/tui/kit/svg.rs`), against real programs loaded from the fixtures: the \
         explorer over `map_lookup_no_null_check`, the map browser over the maps of \
         `map_types` filled with three entries and of `xdp_count` after 1000 test runs (a hash \
         map lists its entries in an order that changes with its random hash seed, so its \
         picture filters it to one entry), top over `hot_spot` run in a loop with \
         `BPF_PROG_RUN`. `./scripts/docs-gen` makes them again.\n\n\
         ## How CI knows a picture is current\n\n\
         `docgen check` (run by `./scripts/test`) takes every picture again and compares it \
         with the one here; it fails, naming the picture and the command that makes it again, \
         when the screen no longer draws what the picture shows. Real programs give values \
         that change from run to run (ids, kernel addresses, counts, rates, times, the \
         heights of a graph's bars), so both pictures are first reduced to what the screen's \
         code decides (`docs/gen/src/screen_compare.rs`): every run of text keeps its row, its \
         colors, its emphasis and its words, but numbers become `#`, runs of spaces (and of one \
         border character) become one, x positions and widths are dropped (a wider number \
         pushes what follows it), and the bars of graphs are dropped. A changed label, column, \
         hint, border, color or emphasis, or a row that appears or goes, fails the check; a new \
         id or rate does not. The map browser's hash map is shown filtered to one entry, since \
         its order changes with the map's random hash seed; top's profile, whose very rows \
         depend on where samples land, is drawn from a recording and compared byte for byte \
         (below).\n\n",
    );
    for (heading, shots) in sections {
        let top = heading.starts_with("top");
        let _ = writeln!(md, "## {heading}\n");
        for s in shots {
            let keys = if s.keys.is_empty() {
                "no keys".to_string()
            } else {
                format!("keys `{}`", without_ids(&s.keys))
            };
            let _ = writeln!(
                md,
                "### {}\n\n{}\n\n![{}]({}.svg)\n\n`xdpdbg {}`, {keys}, {SIZE}.\n",
                s.title,
                s.shows,
                s.title,
                s.name,
                without_ids(
                    &s.args
                        .iter()
                        .map(|a| a.rsplit('/').next().unwrap_or(a))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            );
        }
        if top {
            md.push_str(
                "### top: a program's profile\n\n\
                 Enter (or `--prog ID`) opens a program's profile from perf samples: its hot \
                 source lines with the helpers each line calls, its subprograms, and its source \
                 with the hot lines marked.\n\n\
                 ![top: a program's profile](top-profile.svg)\n\n\
                 Samples land differently on every run (which lines are hot, in what order, \
                 whether a rarely hit line shows up at all), so this picture is drawn from a \
                 recording instead: `./scripts/docs-gen --record` records `hot_spot`'s profile \
                 with `xdpdbg top --prog ID --duration 3s --json` into \
                 [`top-profile.json`](top-profile.json) (source paths made relative to the \
                 repository), and top's profile view draws it headless, by the same code as on \
                 a terminal. `docgen check` draws it again from that recording and compares the \
                 picture byte for byte. The recording is kept until `--record` asks for a new \
                 one (or it no longer reads as a profile).\n\n",
            );
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_the_run_are_not_on_the_page() {
        assert_eq!(
            without_ids("/ text:id:4021 enter wait:2500"),
            "/ text:id:ID enter wait:2500"
        );
        assert_eq!(
            without_ids("top --prog 77 --interval 500ms"),
            "top --prog ID --interval 500ms"
        );
    }
}
