//! Every program loaded on the machine (not only ours), with its attach points, owning
//! processes and run-time counters.
//!
//! An [`Inventory`] is refreshed as often as a display needs. Each program's full info (name,
//! type, tag, BTF id, JIT function and line tables) is read once, when the program is first
//! seen, and kept as a snapshot, so a profile can still be symbolized after the program is
//! unloaded; later refreshes read only its counters (one cheap `BPF_OBJ_GET_INFO_BY_FD`). A
//! program unloaded between the id walk and the read is skipped without error. The inventory
//! never keeps a program's file descriptor open (that would keep the program alive).
//!
//! What is found and what is not: see [`crate::attach`] (attach points come from links, and
//! from netlink for XDP in this network namespace)
//! and [`crate::owners`] (owners hold a program or link fd).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use bpf_sys::{FullProgInfo, LinkFd, ProgFd, SysError, link_ids, prog_ids};
use serde::{Deserialize, Serialize};

use crate::attach::{AttachPoint, Attachment, Resolver};
use crate::names;
use crate::netlink_xdp::{self, NetlinkError};
use crate::owners::{self, Owner};

/// Why the inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The kernel refused to list or open programs or links.
    #[error(
        "cannot list eBPF programs: {0} (run as root, or grant CAP_SYS_ADMIN: listing every \
         program needs it)"
    )]
    Bpf(#[from] SysError),
    /// The interfaces could not be listed (for XDP attached without a link).
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
}

/// One program, as one refresh saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Program {
    /// The program's id (never reused while the machine runs, in practice).
    pub id: u32,
    /// The program type's name (`xdp`, `sched_cls`, `tracepoint`...).
    pub prog_type: String,
    /// The name given at load (at most 15 bytes).
    pub name: String,
    /// The program tag (hex), a hash of its instructions.
    pub tag: String,
    /// Where it is attached (through links only: see [`crate::attach`]).
    pub attachments: Vec<Attachment>,
    /// The processes that hold it, one entry per file descriptor (see [`crate::owners`]).
    pub owners: Vec<Owner>,
    /// How many times it ran (advances only while run-time statistics are on).
    pub run_cnt: u64,
    /// Total run time in nanoseconds (advances only while run-time statistics are on).
    pub run_time_ns: u64,
    /// Runs missed because the program was already running on that CPU.
    pub recursion_misses: u64,
    /// When it was loaded, in nanoseconds since boot.
    pub load_time_ns: u64,
    /// The user id that loaded it.
    pub created_by_uid: u32,
    /// Its BTF object's id (0: none, so no function names or source lines).
    pub btf_id: u32,
}

/// One refresh's result.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the counters were read.
    pub at: Instant,
    /// Every program, by increasing id.
    pub programs: Vec<Program>,
    /// Programs seen for the first time in this refresh.
    pub appeared: Vec<u32>,
    /// Programs seen in the previous refresh and gone now.
    pub vanished: Vec<u32>,
}

/// The machine's programs, refreshed on demand, with a full-info snapshot of each program ever
/// seen.
#[derive(Debug, Default)]
pub struct Inventory {
    infos: HashMap<u32, Arc<FullProgInfo>>,
    live: BTreeSet<u32>,
}

impl Inventory {
    /// An inventory that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Walks every program and link, reads counters, and scans `/proc` for owners.
    pub fn refresh(&mut self) -> Result<Snapshot, InventoryError> {
        let mut programs = Vec::new();
        let mut appeared = Vec::new();
        let mut seen = BTreeSet::new();
        for id in prog_ids() {
            let id = id?;
            let prog = match ProgFd::from_id(id) {
                Ok(prog) => prog,
                Err(e) if e.errno() == libc::ENOENT => continue,
                Err(e) => return Err(e.into()),
            };
            let (info, stats) = match self.infos.get(&id) {
                Some(info) => match prog.run_stats() {
                    Ok(stats) => (Arc::clone(info), stats),
                    Err(e) if e.errno() == libc::ENOENT => continue,
                    Err(e) => return Err(e.into()),
                },
                None => {
                    let info = match prog.full_info() {
                        Ok(info) => Arc::new(info),
                        Err(e) if e.errno() == libc::ENOENT => continue,
                        Err(e) => return Err(e.into()),
                    };
                    self.infos.insert(id, Arc::clone(&info));
                    appeared.push(id);
                    let stats = info.stats;
                    (info, stats)
                }
            };
            drop(prog);
            seen.insert(id);
            programs.push(Program {
                id,
                prog_type: names::prog_type(info.prog_type).to_string(),
                name: info.name.clone(),
                tag: info.tag.clone(),
                attachments: Vec::new(),
                owners: Vec::new(),
                run_cnt: stats.run_cnt,
                run_time_ns: stats.run_time_ns,
                recursion_misses: stats.recursion_misses,
                load_time_ns: info.load_time_ns,
                created_by_uid: info.created_by_uid,
                btf_id: info.btf_id,
            });
        }
        let at = Instant::now();

        let mut attachments: BTreeMap<u32, Vec<Attachment>> = BTreeMap::new();
        let mut resolver = Resolver::new();
        for id in link_ids() {
            let id = id?;
            let info = match LinkFd::from_id(id).and_then(|l| l.info()) {
                Ok(info) => info,
                // Freed since the walk saw it, or still being created (EAGAIN: the kernel has
                // given it an id but not finished attaching it).
                Err(e) if e.errno() == libc::ENOENT || e.errno() == libc::EAGAIN => continue,
                Err(e) => return Err(e.into()),
            };
            attachments
                .entry(info.prog_id)
                .or_default()
                .push(Attachment {
                    link_id: Some(info.id),
                    point: resolver.resolve(&info),
                });
        }
        for xdp in netlink_xdp::attached()? {
            let list = attachments.entry(xdp.prog_id).or_default();
            // A program attached through an XDP link shows in the dump too: keep the link.
            let by_link = list.iter().any(|a| {
                matches!(&a.point, AttachPoint::Interface { hook, ifindex, .. }
                    if hook == "xdp" && *ifindex == xdp.ifindex)
            });
            if !by_link {
                list.push(Attachment {
                    link_id: None,
                    point: AttachPoint::Interface {
                        hook: xdp.mode.hook().to_string(),
                        ifindex: xdp.ifindex,
                        ifname: Some(xdp.ifname),
                    },
                });
            }
        }
        let mut owners = owners::scan();
        for p in &mut programs {
            p.attachments = attachments.remove(&p.id).unwrap_or_default();
            p.owners = owners.remove(&p.id).unwrap_or_default();
        }

        let vanished = self.live.difference(&seen).copied().collect();
        self.live = seen;
        Ok(Snapshot {
            at,
            programs,
            appeared,
            vanished,
        })
    }

    /// The full info of a program as it was when first seen (run counters of that moment),
    /// also after it was unloaded.
    pub fn info(&self, id: u32) -> Option<Arc<FullProgInfo>> {
        self.infos.get(&id).cloned()
    }

    /// Forgets the snapshots of programs that are no longer loaded.
    pub fn forget_vanished(&mut self) {
        let live = &self.live;
        self.infos.retain(|id, _| live.contains(id));
    }
}
