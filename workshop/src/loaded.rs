//! A program of an attendee's object loaded into the kernel for real (not attached), its maps,
//! and runs of it on test frames with `BPF_PROG_TEST_RUN`.

use std::os::fd::AsFd as _;

use anyhow::{Context as _, anyhow};
use bpf_sys::{MapFd, ProgFd, TestRun};

/// An XDP program loaded from an object; unloaded when dropped.
pub struct Loaded {
    ebpf: aya::Ebpf,
    prog: ProgFd,
}

/// The name of an XDP verdict.
pub fn verdict_name(verdict: u32) -> String {
    match verdict {
        0 => "XDP_ABORTED".into(),
        1 => "XDP_DROP".into(),
        2 => "XDP_PASS".into(),
        3 => "XDP_TX".into(),
        4 => "XDP_REDIRECT".into(),
        n => format!("{n} (not an XDP verdict)"),
    }
}

/// `XDP_DROP`.
pub const XDP_DROP: u32 = 1;
/// `XDP_PASS`.
pub const XDP_PASS: u32 = 2;

impl Loaded {
    /// Loads `object`'s XDP program `program`.
    pub fn xdp(object: &[u8], program: &str) -> anyhow::Result<Self> {
        let mut ebpf = aya::Ebpf::load(object).context("loading the object's maps")?;
        let xdp: &mut aya::programs::Xdp = ebpf
            .program_mut(program)
            .ok_or_else(|| anyhow!("the object has no program {program}"))?
            .try_into()
            .with_context(|| format!("{program} is not an XDP program"))?;
        xdp.load().with_context(|| format!("loading {program}"))?;
        let fd = xdp
            .fd()
            .context("the loaded program's file descriptor")?
            .as_fd()
            .try_clone_to_owned()
            .context("duplicating the program's file descriptor")?;
        Ok(Loaded {
            ebpf,
            prog: ProgFd::from_fd(fd),
        })
    }

    /// A file descriptor of the map `name` (hash or array kinds).
    pub fn map(&self, name: &str) -> anyhow::Result<MapFd> {
        use aya::maps::Map;
        let data = match self
            .ebpf
            .map(name)
            .ok_or_else(|| anyhow!("the program has no map `{name}` (was it renamed?)"))?
        {
            Map::HashMap(d) | Map::Array(d) | Map::LruHashMap(d) => d,
            other => anyhow::bail!("map {name} is of an unexpected kind: {other:?}"),
        };
        Ok(MapFd::from_fd(
            data.fd()
                .as_fd()
                .try_clone_to_owned()
                .context("duplicating the map's file descriptor")?,
        ))
    }

    /// Runs the program once on `frame` and returns its verdict.
    pub fn run(&self, frame: &[u8]) -> anyhow::Result<u32> {
        Ok(self
            .prog
            .test_run(TestRun {
                data_in: Some(frame),
                repeat: 1,
                ..TestRun::default()
            })
            .context("BPF_PROG_TEST_RUN")?
            .retval)
    }

    /// The kernel's average run time on `frame` over `repeat` runs, in nanoseconds.
    pub fn ns_per_run(&self, frame: &[u8], repeat: u32) -> anyhow::Result<u32> {
        Ok(self
            .prog
            .test_run(TestRun {
                data_in: Some(frame),
                repeat,
                ..TestRun::default()
            })
            .context("BPF_PROG_TEST_RUN")?
            .duration_ns)
    }

    /// Every record waiting in the ring buffer map `name`, oldest first.
    pub fn ring_records(&mut self, name: &str) -> anyhow::Result<Vec<Vec<u8>>> {
        let map = self
            .ebpf
            .map_mut(name)
            .ok_or_else(|| anyhow!("the program has no map `{name}` (was it renamed?)"))?;
        let mut ring = aya::maps::RingBuf::try_from(map)
            .with_context(|| format!("map {name} is not a ring buffer"))?;
        let mut records = Vec::new();
        while let Some(r) = ring.next() {
            records.push(r.to_vec());
        }
        Ok(records)
    }
}
