//! The concealed XDP switch's control plane.
//!
//! `switch-ctl run` follows opted-in Linux bridges through the kernel's own rtnetlink
//! notifications and mirrors them into the data plane of `switch-ebpf`: which ports carry the
//! fast path and in which mode ([`mode`], [`plan`]), their flags, the FDB ([`dataplane`]), and
//! race-free ageing ([`ageing`]). Operators keep managing the bridge with any tool.
//!
//! Modules, in the order data flows: [`netlink`] reads the kernel's bridge state, [`plan`] turns
//! it into what the fast path should be, [`dataplane`] makes the maps and attachments so, [`fdb`]
//! mirrors the bridge's FDB, [`ageing`] keeps the bridge's FDB timers true to fast-path traffic, [`daemon`] ties them to
//! events, [`status`] reports. [`namespace`] and [`layout`] say where a daemon lives.

pub mod ageing;
pub mod daemon;
pub mod dataplane;
pub mod fdb;
pub mod layout;
pub mod mode;
pub mod namespace;
pub mod netfilter;
pub mod netlink;
pub mod plan;
pub mod status;
