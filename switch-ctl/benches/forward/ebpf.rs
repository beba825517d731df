//! The benchmark's eBPF side: the live-frames generator on h1, the receivers on h2, and the
//! raw devmap redirect.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use aya::Ebpf;
use aya::maps::{Array, DevMap, PerCpuArray};
use aya::programs::{SchedClassifier, TcAttachType, Xdp, XdpMode};
use bpf_sys::{ProgFd, TestRun};
use netlab::{Host, Lab};
use switch_ebpf::bench;

use crate::config::Receiver;
use crate::cpu::pin;
use crate::lab::{ifindex_in, set_gro};
use crate::{EGRESS_PORT, INGRESS_PORT};

pub const FRAME_LEN: usize = 60;
/// Frames per `BPF_PROG_RUN` call of the generator (under 0.1 s at the rates seen here).
const GEN_REPEAT: u32 = 1 << 18;
/// The same, paced: each call ends with ~20 ms of page-pool teardown without frames, so paced
/// calls are longer (about 3.5 s at 1.2 Mpps: the generator's last call outlasts the window).
const GEN_REPEAT_PACED: u32 = 1 << 22;
/// Frames per burst of the paced generator: one NAPI poll's budget, as when saturated.
const PACE_BURST: u32 = 64;
/// `BPF_F_TEST_XDP_LIVE_FRAMES` (include/uapi/linux/bpf.h).
const BPF_F_TEST_XDP_LIVE_FRAMES: u32 = 1 << 1;
/// Frames per live-frames batch (the kernel's default; at most 256).
const GEN_BATCH: u32 = 64;
/// The benchmark's eBPF object, loaded (maps created); programs are loaded on demand.
pub struct Bench {
    ebpf: Ebpf,
}

impl Bench {
    pub fn load() -> Result<Self> {
        let ebpf = Ebpf::load(switch_ebpf::BENCH).context("loading the bench eBPF object")?;
        Ok(Self { ebpf })
    }

    fn xdp(&mut self, name: &str) -> Result<&mut Xdp> {
        let prog: &mut Xdp = self
            .ebpf
            .program_mut(name)
            .with_context(|| format!("program {name} missing"))?
            .try_into()?;
        prog.load().with_context(|| format!("loading {name}"))?;
        Ok(prog)
    }

    /// Attaches an XDP program in native (driver) mode to `ifname` inside `node`.
    fn attach_xdp(&mut self, lab: &Lab, node: &str, name: &str, ifname: &str) -> Result<()> {
        let index = ifindex_in(lab, node, ifname)?;
        let prog = self.xdp(name)?;
        // The kernel resolves the ifindex in the caller's namespace.
        lab.run_in(node, || prog.attach_to_if_index(index, XdpMode::Driver))?
            .with_context(|| format!("attaching {name} to {ifname} in {node}"))?;
        Ok(())
    }

    /// The receiver on h2's eth0.
    pub fn attach_receiver(&mut self, lab: &Lab, receiver: Receiver) -> Result<()> {
        match receiver {
            Receiver::Xdp => self.attach_xdp(lab, "h2", bench::RX_XDP, "eth0"),
            Receiver::Tc => {
                set_gro(lab, "h2", "eth0", true)?;
                let prog: &mut SchedClassifier = self
                    .ebpf
                    .program_mut(bench::RX_TC)
                    .context("program bench_rx_tc missing")?
                    .try_into()?;
                prog.load().context("loading bench_rx_tc")?;
                // tcx (kernel >= 6.6): no qdisc to add or remove.
                lab.run_in("h2", || prog.attach("eth0", TcAttachType::Ingress))?
                    .context("attaching bench_rx_tc to h2's eth0 (tc ingress)")?;
                Ok(())
            }
        }
    }

    /// The raw redirect on p1, to p2: `program` is [`bench::REDIRECT`] or
    /// [`bench::REDIRECT_READ`].
    pub fn attach_redirect(&mut self, lab: &Lab, program: &'static str) -> Result<()> {
        let p2 = ifindex_in(lab, "sw", EGRESS_PORT)?;
        let mut tx: DevMap<_> = self
            .ebpf
            .map_mut(bench::TX_PORT)
            .context("map bench_tx_port missing")?
            .try_into()?;
        // The kernel resolves a devmap entry's ifindex in the namespace of the thread that
        // updates the map: from anywhere but the switch namespace, index `p2` would name
        // another namespace's device (in the root namespace, perhaps the machine's own NIC).
        lab.run_in("sw", || tx.set(0, p2, None, 0))?
            .context("setting the devmap entry in the switch namespace")?;
        self.attach_xdp(lab, "sw", program, INGRESS_PORT)
    }

    /// Frames the paced generator sent so far (0 when unpaced).
    pub fn paced_sent(&self) -> Result<u64> {
        let pace: Array<_, [u64; 6]> = self
            .ebpf
            .map(bench::GEN_PACE)
            .context("map bench_gen_pace missing")?
            .try_into()?;
        Ok(pace.get(&0, 0)?[4])
    }

    /// The receiver's counters: (benchmark frames, other frames), summed over CPUs.
    pub fn received(&self) -> Result<(u64, u64)> {
        let counts: PerCpuArray<_, u64> = self
            .ebpf
            .map(bench::RX_COUNT)
            .context("map bench_rx_count missing")?
            .try_into()?;
        let sum = |slot| -> Result<u64> { Ok(counts.get(&slot, 0)?.iter().sum()) };
        Ok((sum(bench::SLOT_MATCHED)?, sum(bench::SLOT_OTHER)?))
    }

    /// The generator, as a file descriptor `BPF_PROG_RUN` takes, paced to `pace_pps` frames
    /// per second, or unpaced with `None`.
    pub fn generator(&mut self, pace_pps: Option<f64>) -> Result<ProgFd> {
        let interval_ns = pace_pps.map_or(0, |pps| {
            (1e9 * f64::from(PACE_BURST) / pps).round().max(1.0) as u64
        });
        let mut pace: Array<_, [u64; 6]> = self
            .ebpf
            .map_mut(bench::GEN_PACE)
            .context("map bench_gen_pace missing")?
            .try_into()?;
        pace.set(0, [interval_ns, u64::from(PACE_BURST), 0, 0, 0, 0], 0)
            .context("setting the generator's pace")?;
        let prog = self.xdp(bench::GENERATOR)?;
        let fd = prog.fd()?.as_fd().try_clone_to_owned()?;
        Ok(ProgFd::from_fd(fd))
    }
}

/// A 60-byte UDP/IPv4 frame from `src` to `dst`, UDP checksum 0 (none, allowed for IPv4).
pub fn frame(src: &Host, dst: &Host) -> Result<[u8; FRAME_LEN]> {
    let mac = |m: &str| -> Result<[u8; 6]> {
        let bytes: Vec<u8> = m
            .split(':')
            .map(|b| u8::from_str_radix(b, 16))
            .collect::<Result<_, _>>()
            .with_context(|| format!("MAC {m}"))?;
        bytes.try_into().map_err(|_| anyhow!("MAC {m}"))
    };
    let mut f = [0u8; FRAME_LEN];
    f[0..6].copy_from_slice(&mac(&dst.mac)?);
    f[6..12].copy_from_slice(&mac(&src.mac)?);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45; // IPv4, 20-byte header
    ip[2..4].copy_from_slice(&((FRAME_LEN - 14) as u16).to_be_bytes());
    ip[8] = 64; // TTL
    ip[9] = 17; // UDP
    ip[12..16].copy_from_slice(&src.ipv4.octets());
    ip[16..20].copy_from_slice(&dst.ipv4.octets());
    let sum = ip
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    let sum = (sum & 0xffff) + (sum >> 16);
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp = &mut f[34..42];
    udp[0..2].copy_from_slice(&9000u16.to_be_bytes());
    udp[2..4].copy_from_slice(&bench::UDP_PORT.to_be_bytes());
    udp[4..6].copy_from_slice(&((FRAME_LEN - 34) as u16).to_be_bytes());
    Ok(f)
}

/// Runs the generator until `stop`, on the calling thread (which must be in h1's namespace),
/// pinned to `cpu`. Returns the frames it offered and for how long.
pub fn generate(
    prog: &ProgFd,
    ifindex: u32,
    frame: &[u8],
    cpu: usize,
    paced: bool,
    stop: &AtomicBool,
) -> Result<(u64, Duration)> {
    let repeat = if paced { GEN_REPEAT_PACED } else { GEN_REPEAT };
    pin(0, cpu).context("pinning the generator")?;
    // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex.
    let md: [u32; 6] = [0, frame.len() as u32, 0, ifindex, 0, 0];
    let mut ctx: Vec<u8> = md.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let start = Instant::now();
    let mut frames = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let run = prog.test_run(TestRun {
            ctx: Some(&mut ctx),
            data_in: Some(frame),
            repeat,
            flags: BPF_F_TEST_XDP_LIVE_FRAMES,
            batch_size: GEN_BATCH,
            ..TestRun::default()
        });
        match run {
            Ok(_) => frames += u64::from(repeat),
            // A signal cut the run short; its frames are not counted.
            Err(e) if e.errno() == libc::EINTR => {}
            Err(e) => {
                return Err(anyhow!(
                    "BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on h1's eth0: {e}"
                ));
            }
        }
    }
    Ok((frames, start.elapsed()))
}

/// Sets the flag when dropped, so the generator stops on every path out of a measurement.
pub struct StopOnDrop<'a>(pub &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
