//! Where programs are attached, from the kernel's links (and, for XDP, netlink).
//!
//! Found: everything attached through a BPF link (XDP and TCX/netkit links on interfaces,
//! cgroup links, netns links, raw tracepoints, fentry/fexit/LSM, perf-event links for
//! kprobes/uprobes/tracepoints, multi-kprobes and -uprobes, netfilter, struct_ops, iterators),
//! and XDP attached over netlink without a link (`ip link set dev X xdp ...`) on the
//! interfaces of this process's network namespace ([`crate::netlink_xdp`]).
//! Not found: other attachments made without a link, namely XDP over netlink in other network
//! namespaces, classic tc (`cls_bpf`) filters, cgroup programs attached with
//! `BPF_PROG_ATTACH`, perf events given a program by `PERF_EVENT_IOC_SET_BPF`, socket filters
//! and sockmap programs. Interface names are resolved in this process's network namespace: a
//! link created in another namespace keeps its index, and the name may then be wrong or
//! missing ([`AttachPoint::Interface::ifname`] is `None` when no interface has the index here).

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use bpf_sys::{LinkInfo, LinkTarget, PerfEventTarget};
use serde::{Deserialize, Serialize};

use crate::names;

/// One attachment of a program: a link (or a netlink XDP attachment) and what it attaches to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The link's id; `None` for XDP attached over netlink, without a link.
    pub link_id: Option<u32>,
    /// Where it attaches.
    pub point: AttachPoint,
}

/// Where a link attaches a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttachPoint {
    /// A hook on a network interface: `xdp` (a link, or native XDP over netlink),
    /// `xdp_generic`, `xdp_offload` (over netlink), `tcx_ingress`, `tcx_egress`,
    /// `netkit_primary`, `netkit_peer`.
    Interface {
        /// The hook.
        hook: String,
        /// The interface index.
        ifindex: u32,
        /// The interface's name in this process's network namespace, if it has one there.
        ifname: Option<String>,
    },
    /// A cgroup hook.
    Cgroup {
        /// The attach type (`cgroup_inet_ingress`, ...).
        hook: String,
        /// The cgroup's id.
        cgroup_id: u64,
        /// Its path under the cgroup v2 mount, when found.
        path: Option<PathBuf>,
    },
    /// A network namespace hook (flow dissector, sk_lookup).
    Netns {
        /// The attach type.
        hook: String,
        /// The namespace's inode number.
        netns_ino: u32,
    },
    /// A tracepoint, raw or through a perf event.
    Tracepoint {
        /// Its name.
        name: String,
        /// True for a raw tracepoint.
        raw: bool,
    },
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
    /// Many kprobes in one link.
    KprobeMulti {
        /// How many functions.
        count: u32,
        /// True for kretprobes.
        retprobe: bool,
    },
    /// Many uprobes in one link.
    UprobeMulti {
        /// How many offsets.
        count: u32,
        /// The process it is limited to (0: any).
        pid: u32,
    },
    /// fentry, fexit, fmod_ret, LSM or freplace.
    Tracing {
        /// The attach type (`trace_fentry`, `lsm_mac`, ...).
        hook: String,
        /// The target object's id (a BTF object, or a program for freplace).
        target_obj_id: u32,
        /// The target function's BTF type id.
        target_btf_id: u32,
    },
    /// A perf event (software or hardware counter).
    PerfEvent {
        /// `perf_event_attr.type`.
        event_type: u32,
        /// `perf_event_attr.config`.
        config: u64,
    },
    /// A netfilter hook.
    Netfilter {
        /// Protocol family.
        pf: u32,
        /// Hook number.
        hooknum: u32,
        /// Priority.
        priority: i32,
    },
    /// A struct_ops map.
    StructOps {
        /// The map's id.
        map_id: u32,
    },
    /// A BPF iterator.
    Iter {
        /// Its target.
        target: String,
    },
    /// A link type this crate does not decode.
    Other {
        /// The link type's name.
        link_type: String,
    },
}

/// Turns link info into attach points, resolving interface names and cgroup paths (the cgroup
/// tree is walked once, on first need).
#[derive(Debug, Default)]
pub struct Resolver {
    cgroups: Option<HashMap<u64, PathBuf>>,
}

/// Where cgroup v2 is mounted: the first `cgroup2` mount in `/proc/self/mounts` (for example
/// `/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid v1/v2 systems).
fn cgroup2_root() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts.lines().find_map(|l| {
        let mut f = l.split_ascii_whitespace();
        let (_dev, dir, fstype) = (f.next()?, f.next()?, f.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(dir))
    })
}

impl Resolver {
    /// A resolver with nothing cached yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The attach point of one link.
    pub fn resolve(&mut self, link: &LinkInfo) -> AttachPoint {
        match &link.target {
            LinkTarget::Xdp { ifindex } => interface("xdp", *ifindex),
            LinkTarget::Tcx {
                ifindex,
                attach_type,
            }
            | LinkTarget::Netkit {
                ifindex,
                attach_type,
            } => interface(names::attach_type(*attach_type), *ifindex),
            LinkTarget::Cgroup {
                cgroup_id,
                attach_type,
            } => AttachPoint::Cgroup {
                hook: names::attach_type(*attach_type).to_string(),
                cgroup_id: *cgroup_id,
                path: self.cgroup_path(*cgroup_id),
            },
            LinkTarget::Netns {
                netns_ino,
                attach_type,
            } => AttachPoint::Netns {
                hook: names::attach_type(*attach_type).to_string(),
                netns_ino: *netns_ino,
            },
            LinkTarget::RawTracepoint { name } => AttachPoint::Tracepoint {
                name: name.clone(),
                raw: true,
            },
            LinkTarget::Tracing {
                attach_type,
                target_obj_id,
                target_btf_id,
            } => AttachPoint::Tracing {
                hook: names::attach_type(*attach_type).to_string(),
                target_obj_id: *target_obj_id,
                target_btf_id: *target_btf_id,
            },
            LinkTarget::PerfEvent(pe) => match pe {
                PerfEventTarget::Kprobe {
                    function,
                    offset,
                    retprobe,
                } => AttachPoint::Kprobe {
                    function: function.clone(),
                    offset: *offset,
                    retprobe: *retprobe,
                },
                PerfEventTarget::Uprobe {
                    file,
                    offset,
                    retprobe,
                } => AttachPoint::Uprobe {
                    file: file.clone(),
                    offset: *offset,
                    retprobe: *retprobe,
                },
                PerfEventTarget::Tracepoint { name } => AttachPoint::Tracepoint {
                    name: name.clone(),
                    raw: false,
                },
                PerfEventTarget::Event { event_type, config } => AttachPoint::PerfEvent {
                    event_type: *event_type,
                    config: *config,
                },
                PerfEventTarget::Unknown => AttachPoint::Other {
                    link_type: "perf_event".to_string(),
                },
            },
            LinkTarget::KprobeMulti { count, flags } => AttachPoint::KprobeMulti {
                count: *count,
                retprobe: flags & aya_obj::generated::BPF_F_KPROBE_MULTI_RETURN != 0,
            },
            LinkTarget::UprobeMulti { count, pid } => AttachPoint::UprobeMulti {
                count: *count,
                pid: *pid,
            },
            LinkTarget::Netfilter {
                pf,
                hooknum,
                priority,
            } => AttachPoint::Netfilter {
                pf: *pf,
                hooknum: *hooknum,
                priority: *priority,
            },
            LinkTarget::StructOps { map_id } => AttachPoint::StructOps { map_id: *map_id },
            LinkTarget::Iter { target } => AttachPoint::Iter {
                target: target.clone(),
            },
            LinkTarget::Other => AttachPoint::Other {
                link_type: names::link_type(link.link_type).to_string(),
            },
        }
    }

    fn cgroup_path(&mut self, id: u64) -> Option<PathBuf> {
        let map = self.cgroups.get_or_insert_with(|| {
            let mut map = HashMap::new();
            if let Some(root) = cgroup2_root() {
                walk_cgroups(&root, &mut map, 0);
            }
            map
        });
        map.get(&id).cloned()
    }
}

/// Every cgroup directory by inode number (a cgroup v2 id is its directory's inode number).
fn walk_cgroups(dir: &Path, map: &mut HashMap<u64, PathBuf>, depth: usize) {
    // Cgroup trees are shallow; the bound only guards against a pathological mount.
    if depth > 32 {
        return;
    }
    if let Ok(meta) = std::fs::metadata(dir) {
        map.insert(meta.ino(), dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk_cgroups(&entry.path(), map, depth + 1);
        }
    }
}

fn interface(hook: &str, ifindex: u32) -> AttachPoint {
    AttachPoint::Interface {
        hook: hook.to_string(),
        ifindex,
        ifname: ifname(ifindex),
    }
}

/// The name of the interface with this index in this process's network namespace.
fn ifname(ifindex: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname may write, NUL included.
    let ret = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if ret.is_null() {
        return None;
    }
    // SAFETY: on success the kernel wrote a NUL-terminated name into `buf`.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_a_name_and_index_zero_none() {
        assert_eq!(ifname(1).as_deref(), Some("lo"));
        assert_eq!(ifname(0), None);
    }

    #[test]
    fn links_become_attach_points() {
        let mut r = Resolver::new();
        let link = LinkInfo {
            id: 3,
            link_type: aya_obj::generated::bpf_link_type::BPF_LINK_TYPE_TCX as u32,
            prog_id: 9,
            target: LinkTarget::Tcx {
                ifindex: 1,
                attach_type: aya_obj::generated::bpf_attach_type::BPF_TCX_EGRESS as u32,
            },
        };
        assert_eq!(
            r.resolve(&link),
            AttachPoint::Interface {
                hook: "tcx_egress".into(),
                ifindex: 1,
                ifname: Some("lo".into())
            }
        );
        let root = cgroup2_root();
        if let Some(ino) = root
            .as_ref()
            .and_then(|r| std::fs::metadata(r).ok())
            .map(|m| m.ino())
        {
            let link = LinkInfo {
                target: LinkTarget::Cgroup {
                    cgroup_id: ino,
                    attach_type: 0,
                },
                ..link
            };
            match r.resolve(&link) {
                AttachPoint::Cgroup { path, hook, .. } => {
                    assert_eq!(path, root);
                    assert_eq!(hook, "cgroup_inet_ingress");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
