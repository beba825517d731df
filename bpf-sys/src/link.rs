//! Link commands: walk every link on the system and read what each attaches where.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use aya_obj::generated::{bpf_cmd, bpf_link_info, bpf_link_type, bpf_perf_event_type};

use super::syscall::{fd_by_id, ids, obj_info};
use super::{Op, Result};

/// The ids of every link on the system, in increasing order (links freed during the walk do not
/// appear).
pub fn link_ids() -> impl Iterator<Item = Result<u32>> {
    ids(Op("BPF_LINK_GET_NEXT_ID"), bpf_cmd::BPF_LINK_GET_NEXT_ID)
}

/// A link, owned through a file descriptor.
#[derive(Debug)]
pub struct LinkFd(OwnedFd);

/// What the kernel reports about a link (`struct bpf_link_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The link's id.
    pub id: u32,
    /// The link type (`enum bpf_link_type`).
    pub link_type: u32,
    /// The id of the program it attaches.
    pub prog_id: u32,
    /// Where it attaches, per link type.
    pub target: LinkTarget,
}

/// Where a link attaches, decoded per link type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// An XDP program on an interface (`BPF_LINK_TYPE_XDP`). The index is in the network
    /// namespace the link was created in.
    Xdp {
        /// The interface index.
        ifindex: u32,
    },
    /// A TCX program (`BPF_LINK_TYPE_TCX`, 6.6+).
    Tcx {
        /// The interface index (in the link's network namespace).
        ifindex: u32,
        /// `BPF_TCX_INGRESS` or `BPF_TCX_EGRESS`.
        attach_type: u32,
    },
    /// A netkit program (`BPF_LINK_TYPE_NETKIT`).
    Netkit {
        /// The interface index (in the link's network namespace).
        ifindex: u32,
        /// `BPF_NETKIT_PRIMARY` or `BPF_NETKIT_PEER`.
        attach_type: u32,
    },
    /// A cgroup program (`BPF_LINK_TYPE_CGROUP`).
    Cgroup {
        /// The cgroup's id (the inode number of its cgroup v2 directory).
        cgroup_id: u64,
        /// The attach type (`enum bpf_attach_type`).
        attach_type: u32,
    },
    /// A program attached to a network namespace (`BPF_LINK_TYPE_NETNS`: flow dissector,
    /// sk_lookup).
    Netns {
        /// The namespace's inode number.
        netns_ino: u32,
        /// The attach type.
        attach_type: u32,
    },
    /// A raw tracepoint (`BPF_LINK_TYPE_RAW_TRACEPOINT`).
    RawTracepoint {
        /// The tracepoint's name.
        name: String,
    },
    /// fentry/fexit/fmod_ret/LSM/freplace (`BPF_LINK_TYPE_TRACING`).
    Tracing {
        /// The attach type.
        attach_type: u32,
        /// Id of the target object (BTF object for kernel functions, program for freplace).
        target_obj_id: u32,
        /// BTF type id of the target function in that object.
        target_btf_id: u32,
    },
    /// A program attached through a perf event (`BPF_LINK_TYPE_PERF_EVENT`).
    PerfEvent(PerfEventTarget),
    /// A multi-kprobe (`BPF_LINK_TYPE_KPROBE_MULTI`).
    KprobeMulti {
        /// How many functions it probes.
        count: u32,
        /// `BPF_F_KPROBE_MULTI_RETURN` for kretprobes.
        flags: u32,
    },
    /// A multi-uprobe (`BPF_LINK_TYPE_UPROBE_MULTI`).
    UprobeMulti {
        /// How many offsets it probes.
        count: u32,
        /// The process it is limited to (0: any).
        pid: u32,
    },
    /// A netfilter hook (`BPF_LINK_TYPE_NETFILTER`).
    Netfilter {
        /// Protocol family (`NFPROTO_*`).
        pf: u32,
        /// Hook number (`NF_INET_*`).
        hooknum: u32,
        /// Priority.
        priority: i32,
    },
    /// A struct_ops map (`BPF_LINK_TYPE_STRUCT_OPS`).
    StructOps {
        /// The map's id.
        map_id: u32,
    },
    /// A BPF iterator (`BPF_LINK_TYPE_ITER`).
    Iter {
        /// The iterator target (`bpf_map_elem`, `task`, ...).
        target: String,
    },
    /// A link type this layer does not decode.
    Other,
}

/// What a perf-event link attaches to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerfEventTarget {
    /// A kprobe or kretprobe.
    Kprobe {
        /// The probed function.
        function: String,
        /// Offset into it.
        offset: u32,
        /// True for a kretprobe.
        retprobe: bool,
    },
    /// A uprobe or uretprobe.
    Uprobe {
        /// The probed file.
        file: String,
        /// Offset into it.
        offset: u32,
        /// True for a uretprobe.
        retprobe: bool,
    },
    /// A tracepoint.
    Tracepoint {
        /// Its name.
        name: String,
    },
    /// A perf event (hardware, software counter...).
    Event {
        /// `perf_event_attr.type`.
        event_type: u32,
        /// `perf_event_attr.config`.
        config: u64,
    },
    /// Something else.
    Unknown,
}

/// The longest name read from a link (tracepoint, function, file).
const NAME_BUF: usize = 4096;

fn zeroed_link_info() -> bpf_link_info {
    // SAFETY: bpf_link_info is plain integers in structs and unions; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

fn buf_str(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

const fn is(value: u32, link: bpf_link_type) -> bool {
    value == link as u32
}

impl LinkFd {
    /// Opens the link with this id.
    ///
    /// Fails with `ENOENT` for a link freed since, and with `EAGAIN` for a link the kernel has
    /// numbered but not finished creating: both are normal during a walk.
    pub fn from_id(id: u32) -> Result<Self> {
        fd_by_id(
            Op("BPF_LINK_GET_FD_BY_ID"),
            bpf_cmd::BPF_LINK_GET_FD_BY_ID,
            id,
        )
        .map(Self)
    }

    /// Wraps a file descriptor that refers to a link.
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self(fd)
    }

    /// The link's type, program and target. Two `BPF_OBJ_GET_INFO_BY_FD` calls when the target
    /// has a name (the first learns the type, the second passes a buffer in the right member).
    pub fn info(&self) -> Result<LinkInfo> {
        let op = Op("BPF_OBJ_GET_INFO_BY_FD");
        let fd = self.0.as_raw_fd();
        let mut info = zeroed_link_info();
        obj_info(op, fd, &mut info)?;
        let t = info.type_;
        let mut name = vec![0u8; NAME_BUF];
        let target = if is(t, bpf_link_type::BPF_LINK_TYPE_XDP) {
            // SAFETY: the kernel filled the member of the union that matches the link type.
            let x = unsafe { info.__bindgen_anon_1.xdp };
            LinkTarget::Xdp { ifindex: x.ifindex }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_TCX) {
            // SAFETY: as above.
            let x = unsafe { info.__bindgen_anon_1.tcx };
            LinkTarget::Tcx {
                ifindex: x.ifindex,
                attach_type: x.attach_type,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_NETKIT) {
            // SAFETY: as above.
            let x = unsafe { info.__bindgen_anon_1.netkit };
            LinkTarget::Netkit {
                ifindex: x.ifindex,
                attach_type: x.attach_type,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_CGROUP) {
            // SAFETY: as above.
            let c = unsafe { info.__bindgen_anon_1.cgroup };
            LinkTarget::Cgroup {
                cgroup_id: c.cgroup_id,
                attach_type: c.attach_type,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_NETNS) {
            // SAFETY: as above.
            let n = unsafe { info.__bindgen_anon_1.netns };
            LinkTarget::Netns {
                netns_ino: n.netns_ino,
                attach_type: n.attach_type,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_TRACING) {
            // SAFETY: as above.
            let x = unsafe { info.__bindgen_anon_1.tracing };
            LinkTarget::Tracing {
                attach_type: x.attach_type,
                target_obj_id: x.target_obj_id,
                target_btf_id: x.target_btf_id,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_KPROBE_MULTI) {
            // SAFETY: as above.
            let k = unsafe { info.__bindgen_anon_1.kprobe_multi };
            LinkTarget::KprobeMulti {
                count: k.count,
                flags: k.flags,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_UPROBE_MULTI) {
            // SAFETY: as above.
            let u = unsafe { info.__bindgen_anon_1.uprobe_multi };
            LinkTarget::UprobeMulti {
                count: u.count,
                pid: u.pid,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_NETFILTER) {
            // SAFETY: as above.
            let n = unsafe { info.__bindgen_anon_1.netfilter };
            LinkTarget::Netfilter {
                pf: n.pf,
                hooknum: n.hooknum,
                priority: n.priority,
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_STRUCT_OPS) {
            // SAFETY: as above.
            let s = unsafe { info.__bindgen_anon_1.struct_ops };
            LinkTarget::StructOps { map_id: s.map_id }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_RAW_TRACEPOINT) {
            let mut again = zeroed_link_info();
            again.__bindgen_anon_1.raw_tracepoint.tp_name = name.as_mut_ptr() as u64;
            again.__bindgen_anon_1.raw_tracepoint.tp_name_len = name.len() as u32;
            obj_info(op, fd, &mut again)?;
            LinkTarget::RawTracepoint {
                name: buf_str(&name),
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_ITER) {
            let mut again = zeroed_link_info();
            again.__bindgen_anon_1.iter.target_name = name.as_mut_ptr() as u64;
            again.__bindgen_anon_1.iter.target_name_len = name.len() as u32;
            obj_info(op, fd, &mut again)?;
            LinkTarget::Iter {
                target: buf_str(&name),
            }
        } else if is(t, bpf_link_type::BPF_LINK_TYPE_PERF_EVENT) {
            LinkTarget::PerfEvent(self.perf_event_target(&info, &mut name)?)
        } else {
            LinkTarget::Other
        };
        Ok(LinkInfo {
            id: info.id,
            link_type: t,
            prog_id: info.prog_id,
            target,
        })
    }

    /// Reads a perf-event link's target again, with a buffer for its name.
    fn perf_event_target(&self, first: &bpf_link_info, name: &mut [u8]) -> Result<PerfEventTarget> {
        use bpf_perf_event_type as P;
        let op = Op("BPF_OBJ_GET_INFO_BY_FD");
        // SAFETY: the kernel filled the perf_event member for a perf-event link.
        let kind = unsafe { first.__bindgen_anon_1.perf_event.type_ };
        let ptr = name.as_mut_ptr() as u64;
        let len = name.len() as u32;
        let mut again = zeroed_link_info();
        // The name pointer and length sit at the same place in the kprobe, uprobe and
        // tracepoint members; fill the one the kind says.
        // SAFETY: a mutable reference into a zeroed union of plain integers; we only write.
        let pe = unsafe { &mut again.__bindgen_anon_1.perf_event.__bindgen_anon_1 };
        if kind == P::BPF_PERF_EVENT_KPROBE as u32 || kind == P::BPF_PERF_EVENT_KRETPROBE as u32 {
            pe.kprobe.func_name = ptr;
            pe.kprobe.name_len = len;
        } else if kind == P::BPF_PERF_EVENT_UPROBE as u32
            || kind == P::BPF_PERF_EVENT_URETPROBE as u32
        {
            pe.uprobe.file_name = ptr;
            pe.uprobe.name_len = len;
        } else if kind == P::BPF_PERF_EVENT_TRACEPOINT as u32 {
            pe.tracepoint.tp_name = ptr;
            pe.tracepoint.name_len = len;
        }
        obj_info(op, self.0.as_raw_fd(), &mut again)?;
        // SAFETY: the kernel filled the member matching `kind` (plain integers).
        let pe = unsafe { again.__bindgen_anon_1.perf_event.__bindgen_anon_1 };
        Ok(
            if kind == P::BPF_PERF_EVENT_KPROBE as u32 || kind == P::BPF_PERF_EVENT_KRETPROBE as u32
            {
                // SAFETY: reading the kprobe member the kernel filled.
                let k = unsafe { pe.kprobe };
                PerfEventTarget::Kprobe {
                    function: buf_str(name),
                    offset: k.offset,
                    retprobe: kind == P::BPF_PERF_EVENT_KRETPROBE as u32,
                }
            } else if kind == P::BPF_PERF_EVENT_UPROBE as u32
                || kind == P::BPF_PERF_EVENT_URETPROBE as u32
            {
                // SAFETY: reading the uprobe member the kernel filled.
                let u = unsafe { pe.uprobe };
                PerfEventTarget::Uprobe {
                    file: buf_str(name),
                    offset: u.offset,
                    retprobe: kind == P::BPF_PERF_EVENT_URETPROBE as u32,
                }
            } else if kind == P::BPF_PERF_EVENT_TRACEPOINT as u32 {
                PerfEventTarget::Tracepoint {
                    name: buf_str(name),
                }
            } else if kind == P::BPF_PERF_EVENT_EVENT as u32 {
                // SAFETY: reading the event member the kernel filled.
                let e = unsafe { pe.event };
                PerfEventTarget::Event {
                    event_type: e.type_,
                    config: e.config,
                }
            } else {
                PerfEventTarget::Unknown
            },
        )
    }
}

impl AsFd for LinkFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
