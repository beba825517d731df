//! What the fast path should be, computed from the kernel's bridge state and the daemon's
//! options: a pure function, so every rule is unit-tested without a kernel.
//!
//! A bridge is accelerated when it is selected, up, without VLAN filtering, and without active
//! bridge netfilter (unless allowed). Each of its ports gets a mode ([`crate::mode::choose`])
//! and the flags the data plane checks per frame; a port that already carries someone else's
//! XDP program is left alone. FDB entries of accelerated bridges are mirrored as they are.

use crate::mode::{self, Mode, PortKind, PortOverride, Requested};
use crate::netlink::nftables::{BaseChain, ChainFamily};
use crate::netlink::xdp_features::XdpFeatures;
use crate::netlink::{FdbEntry, FdbKind, Link, PortState};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use switch_ebpf::types::{FdbKey, IFINDEX_MAX, fdb_flags, port_flags};

/// Which bridges the daemon accelerates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every bridge of the namespace, present and future.
    All,
    /// These bridges, by name.
    Named(Vec<String>),
}

/// The daemon's options that shape the plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// The bridges to accelerate.
    pub bridges: Selection,
    /// The mode of ports without an override.
    pub default_mode: Requested,
    /// Per-port modes.
    pub overrides: Vec<PortOverride>,
    /// Accelerate bridges even when bridge netfilter is active.
    pub allow_netfilter: bool,
}

/// The kernel's state as the daemon last heard it.
#[derive(Debug, Clone, Default)]
pub struct Kernel {
    /// Every link, by ifindex.
    pub links: BTreeMap<u32, Link>,
    /// XDP features, by ifindex.
    pub features: HashMap<u32, XdpFeatures>,
    /// Bridge-netfilter sysctls set to 1.
    pub netfilter: Vec<&'static str>,
    /// nf_tables base chains that can see bridged frames (bridge family, netdev and inet
    /// ingress).
    pub firewall: Vec<BaseChain>,
}

/// The chains of `kernel.firewall` that filter frames of bridge `bridge` (a bridge-family
/// chain filters every bridge; a netdev or inet ingress chain the bridge or a port it names),
/// as `family table chain (N rules)`.
fn firewall_chains(kernel: &Kernel, bridge: &Link) -> Vec<String> {
    let on_bridge = |device: &String| {
        *device == bridge.name
            || kernel
                .links
                .values()
                .any(|l| l.master == Some(bridge.ifindex) && l.name == *device)
    };
    kernel
        .firewall
        .iter()
        .filter(|c| c.filters())
        .filter(|c| c.family == ChainFamily::Bridge || c.devices.iter().any(on_bridge))
        .map(|c| {
            let what = if c.rules > 0 {
                format!("{} rules", c.rules)
            } else {
                "policy drop".into()
            };
            format!("{} {} {} ({what})", c.family.name(), c.table, c.name)
        })
        .collect()
}

/// One bridge in the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BridgePlan {
    /// Its ifindex.
    pub ifindex: u32,
    /// Its name.
    pub name: String,
    /// Whether its ports get a fast path.
    pub accelerated: bool,
    /// Why not, when not accelerated.
    pub reason: Option<String>,
    /// The bridge's ageing time, in milliseconds (0: ageing off).
    pub ageing_time_ms: u64,
}

/// One port in the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortPlan {
    /// Its ifindex.
    pub ifindex: u32,
    /// Its name.
    pub name: String,
    /// Its bridge's ifindex.
    pub bridge: u32,
    /// The mode asked for.
    pub requested: Requested,
    /// How its fast path is attached (None: no fast path on this port's ingress).
    pub mode: Option<Mode>,
    /// Why that mode, or why none.
    pub reason: String,
    /// The `port_flags` bits the data plane sees.
    pub flags: u32,
    /// How often the data plane lets one frame per source MAC through to the bridge so that the
    /// bridge refreshes its own FDB entry ([`refresh_interval_ms`]).
    pub refresh_ms: u32,
}

/// The whole plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Every selected bridge.
    pub bridges: Vec<BridgePlan>,
    /// Every port of a selected bridge, by ifindex.
    pub ports: BTreeMap<u32, PortPlan>,
}

impl Plan {
    /// The accelerated bridge with this ifindex.
    pub fn accelerated(&self, bridge: u32) -> bool {
        self.bridges
            .iter()
            .any(|b| b.ifindex == bridge && b.accelerated)
    }

    /// The bridge with this ifindex.
    pub fn bridge(&self, bridge: u32) -> Option<&BridgePlan> {
        self.bridges.iter().find(|b| b.ifindex == bridge)
    }
}

/// Computes the plan. `is_ours` tells this daemon's programs (and an earlier daemon's) by id,
/// so that its own XDP attachments are not mistaken for someone else's.
pub fn plan(kernel: &Kernel, options: &Options, is_ours: &dyn Fn(u32) -> bool) -> Plan {
    let mut plan = Plan::default();
    for link in kernel.links.values() {
        let Some(attrs) = &link.bridge else { continue };
        let selected = match &options.bridges {
            Selection::All => true,
            Selection::Named(names) => names.contains(&link.name),
        };
        if !selected {
            continue;
        }
        let reason = if !link.admin_up {
            Some("the bridge is down".to_string())
        } else if link.promisc {
            Some(
                "the bridge is promiscuous: it passes forwarded frames up its own stack too \
                 (tcpdump or an IDS on it), which fast-path frames would skip"
                    .to_string(),
            )
        } else if attrs.nf_call && !options.allow_netfilter {
            Some(
                "the bridge's own nf_call_iptables/ip6tables/arptables option is on: the fast \
                 path would bypass firewall rules; turn it off or run with --allow-netfilter"
                    .to_string(),
            )
        } else if attrs.vlan_filtering {
            Some("VLAN filtering is on: the fast path does not implement VLANs".into())
        } else if let chains = firewall_chains(kernel, link)
            && !chains.is_empty()
            && !options.allow_netfilter
        {
            Some(format!(
                "nftables chains filter its frames ({}; ebtables rules live in `bridge` tables): \
                 the fast path would bypass them; remove them or run with --allow-netfilter",
                chains.join(", ")
            ))
        } else if !kernel.netfilter.is_empty() && !options.allow_netfilter {
            Some(format!(
                "bridge netfilter is active ({} = 1): the fast path would bypass firewall rules; \
                 set them to 0 or run with --allow-netfilter",
                kernel.netfilter.join(", ")
            ))
        } else {
            None
        };
        plan.bridges.push(BridgePlan {
            ifindex: link.ifindex,
            name: link.name.clone(),
            accelerated: reason.is_none(),
            reason,
            ageing_time_ms: u64::from(attrs.ageing_time_cs) * 10,
        });
    }
    for link in kernel.links.values() {
        let (Some(bridge), Some(port)) = (link.master, &link.port) else {
            continue;
        };
        let Some(bridge_plan) = plan.bridge(bridge) else {
            continue;
        };
        let requested = options
            .overrides
            .iter()
            .find(|o| o.port == link.name)
            .map_or(options.default_mode, |o| o.mode);
        let features = kernel.features.get(&link.ifindex).copied();
        let (mut mode, mut reason) = mode::choose(
            requested,
            PortKind {
                kind: link.kind.as_deref(),
                features,
            },
        );
        if let Some(why) = &bridge_plan.reason {
            (mode, reason) = (None, format!("bridge not accelerated: {why}"));
        } else if let Some(id) = link.xdp_prog_id.filter(|id| !is_ours(*id)) {
            (mode, reason) = (
                None,
                format!("already carries another XDP program (id {id}): left alone"),
            );
        } else if link.ifindex >= IFINDEX_MAX {
            (mode, reason) = (
                None,
                format!(
                    "ifindex {} is beyond the fast path's {IFINDEX_MAX}",
                    link.ifindex
                ),
            );
        }
        let mut flags = 0;
        let mut set = |bit, on: bool| {
            if on {
                flags |= bit;
            }
        };
        set(port_flags::FORWARDING, port.state == PortState::Forwarding);
        set(port_flags::UP, link.admin_up && link.oper_up);
        set(port_flags::HAIRPIN, port.hairpin);
        set(port_flags::ISOLATED, port.isolated);
        set(port_flags::LOCKED, port.locked || port.mab);
        set(port_flags::XDP_XMIT, features.is_some_and(|f| f.ndo_xmit()));
        set(port_flags::EGRESS, mode.is_some());
        plan.ports.insert(
            link.ifindex,
            PortPlan {
                ifindex: link.ifindex,
                name: link.name.clone(),
                bridge,
                requested,
                mode,
                reason,
                flags,
                refresh_ms: refresh_interval_ms(bridge_plan.ageing_time_ms),
            },
        );
    }
    plan
}

/// The refresh interval for a bridge with this ageing time: a quarter of it, so a busy entry's
/// timer in the bridge is never more than a quarter ageing time old (plus the gap between two
/// frames); at least 10 ms; 0 (no refresh frames) when the bridge does not age.
pub fn refresh_interval_ms(ageing_time_ms: u64) -> u32 {
    if ageing_time_ms == 0 {
        return 0;
    }
    u32::try_from((ageing_time_ms / 4).max(10)).unwrap_or(u32::MAX)
}

/// The fast-path entry for a bridge FDB entry: key, egress ifindex and `fdb_flags`; None when
/// the entry is not for the fast path (bridge not accelerated, a VLAN entry, a locked
/// entry).
pub fn fdb_entry(entry: &FdbEntry, plan: &Plan) -> Option<(FdbKey, u32, u32)> {
    let bridge = entry.bridge.unwrap_or(entry.port);
    // Locked entries (MAB) are the bridge's to judge.
    if !plan.accelerated(bridge) || entry.vlan.is_some_and(|v| v != 0) || entry.locked {
        return None;
    }
    let flags = match entry.kind {
        FdbKind::Local => fdb_flags::LOCAL | fdb_flags::STATIC,
        // Installed by someone who ages them: never refreshed or aged here.
        FdbKind::Static | FdbKind::ExtLearned => fdb_flags::STATIC,
        FdbKind::Learned => 0,
    };
    Some((FdbKey::new(bridge, entry.mac), entry.port, flags))
}

#[cfg(test)]
mod tests;
