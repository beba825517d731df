//! The concealed XDP switch's control plane.
//!
//! `switch-ctl run` follows opted-in Linux bridges through the kernel's own rtnetlink
//! notifications and mirrors them into the data plane of `switch-ebpf`: which ports carry the
//! fast path and in which mode ([`mode`], [`plan`]), their flags, the FDB ([`fdb_mirror`]),
//! and race-free ageing ([`ageing`]). Operators keep managing the bridge with any tool; the
//! daemon never writes the bridge's FDB (the data plane passes it refresh frames).
//!
//! Modules, in the order data flows (each imports only those before it):
//!
//! - where things are: [`daemon_dirs`] (the pin and runtime directories), [`namespace`] (which
//!   network namespace a daemon serves), [`pid_file`] (one daemon per namespace);
//! - the kernel: [`netlink`] (the bridge's links, ports and FDB over rtnetlink, the wire
//!   layer; nf_tables chains that see bridged frames), [`netfilter`] (the bridge-netfilter
//!   sysctls), [`pinned_maps`] (the data plane's
//!   maps, typed, read as plain data);
//! - the model: [`mode`] and [`plan`] (what the fast path should be: a pure function);
//! - making it so: [`dataplane`] (programs, maps and attachments), [`fdb_mirror`] (the bridge's
//!   FDB into the fast path's map), [`ageing`] (entries the bridge removed leave the fast
//!   path, race-free against the data plane's refresh frames);
//! - on top: [`status`] (what the daemon decided and what the fast path does: the model, its
//!   file with live counters from the pins, and its rendering for people), [`metrics`] (the
//!   status as Prometheus metrics, for `run --metrics`), [`daemon`] (the event loop that ties
//!   everything to the kernel's notifications and writes the status).
//!
//! Every public function returns a typed error of its module; the `switch-ctl` binary adds
//! context.

pub mod ageing;
pub mod daemon;
pub mod daemon_dirs;
pub mod dataplane;
pub mod fdb_mirror;
pub mod metrics;
pub mod mode;
pub mod namespace;
pub mod netfilter;
pub mod netlink;
pub mod pid_file;
pub mod pinned_maps;
pub mod plan;
pub mod status;
