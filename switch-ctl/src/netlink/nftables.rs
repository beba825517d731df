//! The nf_tables ruleset, read over netlink (NETLINK_NETFILTER): the base chains that see
//! bridged frames, and the ruleset's generation id to notice changes cheaply.
//!
//! The bridge runs the base chains of the `bridge` family (what `nft add table bridge ...` and
//! `ebtables`, which is ebtables-nft on Debian, create) on every bridged frame whatever the
//! bridge-netfilter sysctls say, and the kernel runs `netdev` chains (and `inet` ingress
//! chains) on the devices they name. The fast path runs before all of them.
//!
//! No well-kept Rust crate reads nf_tables over netlink without C libraries (`nftnl` binds
//! libnftnl and libmnl; `rustables` is sparsely maintained), and parsing `nft -j list ruleset`
//! would spawn a process on every check. The three requests needed here (NFT_MSG_GETGEN,
//! NFT_MSG_GETCHAIN and NFT_MSG_GETRULE dumps) are small: they are framed here by hand, with
//! the bounds-checked attribute reader the xdp-features socket uses too.

use std::collections::HashMap;

use rtnetlink::{
    packet_core::{NLM_F_DUMP, NLM_F_REQUEST},
    sys::{Socket, protocols::NETLINK_NETFILTER},
};

use super::NetlinkError;
use super::nlattr::{Attributes, receive};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_GETCHAIN: u16 = 4;
const NFT_MSG_GETRULE: u16 = 7;
const NFT_MSG_GETGEN: u16 = 16;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_DEV: u16 = 3;
const NFTA_HOOK_DEVS: u16 = 4;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_GEN_ID: u16 = 1;
const NF_DROP: u32 = 0;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `NF_INET_INGRESS`: the hook number of an `inet` chain bound to devices.
const NF_INET_INGRESS: u32 = 5;

/// The address families whose chains can see bridged frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainFamily {
    /// NFPROTO_BRIDGE: every bridge of the namespace runs them.
    Bridge,
    /// NFPROTO_NETDEV: ingress/egress of the devices they name.
    Netdev,
    /// NFPROTO_INET ingress: the devices they name.
    InetIngress,
}

impl ChainFamily {
    fn from_nfproto(family: u8, hook: u32) -> Option<ChainFamily> {
        match family {
            7 => Some(ChainFamily::Bridge),
            5 => Some(ChainFamily::Netdev),
            1 if hook == NF_INET_INGRESS => Some(ChainFamily::InetIngress),
            _ => None,
        }
    }

    /// As `nft` names the family.
    pub fn name(self) -> &'static str {
        match self {
            ChainFamily::Bridge => "bridge",
            ChainFamily::Netdev => "netdev",
            ChainFamily::InetIngress => "inet",
        }
    }
}

/// A base chain (one attached to a hook) that can see bridged frames.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct BaseChain {
    /// Its table's family.
    pub family: ChainFamily,
    /// Its table.
    pub table: String,
    /// Its name.
    pub name: String,
    /// The devices it is bound to (netdev and inet ingress chains; none for bridge chains).
    pub devices: Vec<String>,
    /// How many rules it holds.
    pub rules: usize,
    /// Its policy is drop.
    pub policy_drop: bool,
}

impl BaseChain {
    /// Whether it can change what happens to a frame: it has rules, or drops by policy.
    pub fn filters(&self) -> bool {
        self.rules > 0 || self.policy_drop
    }
}

/// The ruleset's generation id: it changes with every change of the ruleset.
pub fn generation() -> Result<u32, NetlinkError> {
    const WHAT: &str = "nf_tables generation";
    let mut id = None;
    for (_, attributes) in request(WHAT, NFT_MSG_GETGEN, 0)? {
        for attribute in Attributes(&attributes) {
            let (kind, value) =
                attribute.map_err(|detail| NetlinkError::Decode { what: WHAT, detail })?;
            if kind == NFTA_GEN_ID {
                id = value.try_into().ok().map(u32::from_be_bytes);
            }
        }
    }
    id.ok_or(NetlinkError::Decode {
        what: WHAT,
        detail: "no NFTA_GEN_ID".into(),
    })
}

/// Every base chain of the `bridge` and `netdev` families and every `inet` ingress chain, with
/// its rule count. Empty when nf_tables has no tables (or is not built in).
pub fn bridged_frame_chains() -> Result<Vec<BaseChain>, NetlinkError> {
    const CHAINS: &str = "nf_tables chain dump";
    const RULES: &str = "nf_tables rule dump";
    let decode = |what| move |detail| NetlinkError::Decode { what, detail };
    let mut chains = Vec::new();
    for (family, attributes) in request(CHAINS, NFT_MSG_GETCHAIN, NLM_F_DUMP)? {
        let (mut table, mut name, mut hook, mut devices, mut policy_drop) =
            (String::new(), String::new(), None, Vec::new(), false);
        for attribute in Attributes(&attributes) {
            let (kind, value) = attribute.map_err(decode(CHAINS))?;
            match kind {
                NFTA_CHAIN_TABLE => table = text(value),
                NFTA_CHAIN_NAME => name = text(value),
                NFTA_CHAIN_POLICY => {
                    policy_drop = value.try_into().ok().map(u32::from_be_bytes) == Some(NF_DROP)
                }
                NFTA_CHAIN_HOOK => {
                    for attribute in Attributes(value) {
                        let (kind, value) = attribute.map_err(decode(CHAINS))?;
                        match kind {
                            NFTA_HOOK_HOOKNUM => {
                                hook = value.try_into().ok().map(u32::from_be_bytes)
                            }
                            NFTA_HOOK_DEV => devices.push(text(value)),
                            NFTA_HOOK_DEVS => {
                                for device in Attributes(value) {
                                    devices.push(text(device.map_err(decode(CHAINS))?.1));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        // Regular chains (no hook) run only when a base chain jumps to them.
        let Some(hook) = hook else { continue };
        let Some(family) = ChainFamily::from_nfproto(family, hook) else {
            continue;
        };
        chains.push(BaseChain {
            family,
            table,
            name,
            devices,
            rules: 0,
            policy_drop,
        });
    }
    if chains.is_empty() {
        return Ok(chains);
    }
    let mut rules: HashMap<(u8, String, String), usize> = HashMap::new();
    for (family, attributes) in request(RULES, NFT_MSG_GETRULE, NLM_F_DUMP)? {
        let (mut table, mut chain) = (String::new(), String::new());
        for attribute in Attributes(&attributes) {
            let (kind, value) = attribute.map_err(decode(RULES))?;
            match kind {
                NFTA_RULE_TABLE => table = text(value),
                NFTA_RULE_CHAIN => chain = text(value),
                _ => {}
            }
        }
        *rules.entry((family, table, chain)).or_default() += 1;
    }
    for chain in &mut chains {
        let family = match chain.family {
            ChainFamily::Bridge => 7,
            ChainFamily::Netdev => 5,
            ChainFamily::InetIngress => 1,
        };
        chain.rules = rules
            .get(&(family, chain.table.clone(), chain.name.clone()))
            .copied()
            .unwrap_or(0);
    }
    Ok(chains)
}

/// A NUL-terminated netlink string.
fn text(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

/// Sends one nf_tables request (all families) and returns each answer's family and attributes.
fn request(
    what: &'static str,
    message: u16,
    flags: u16,
) -> Result<Vec<(u8, Vec<u8>)>, NetlinkError> {
    let io = |source| NetlinkError::Io { what, source };
    let mut socket =
        Socket::new(NETLINK_NETFILTER).map_err(|source| NetlinkError::Socket { what, source })?;
    socket
        .bind_auto()
        .map_err(|source| NetlinkError::Socket { what, source })?;
    const SEQUENCE: u32 = 1;
    let kind = (NFNL_SUBSYS_NFTABLES << 8) | message;
    let mut bytes = Vec::with_capacity(20);
    bytes.extend_from_slice(&20u32.to_ne_bytes());
    bytes.extend_from_slice(&kind.to_ne_bytes());
    bytes.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    bytes.extend_from_slice(&SEQUENCE.to_ne_bytes());
    bytes.extend_from_slice(&0u32.to_ne_bytes());
    // struct nfgenmsg: any family, NFNETLINK_V0, resource id 0.
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    socket.send(&bytes, 0).map_err(io)?;

    let mut answers = Vec::new();
    loop {
        let datagram = receive(&socket).map_err(io)?;
        let mut rest = datagram.as_slice();
        while rest.len() >= 16 {
            let len = u32::from_ne_bytes(rest[..4].try_into().unwrap_or_default()) as usize;
            let kind = u16::from_ne_bytes([rest[4], rest[5]]);
            let sequence = u32::from_ne_bytes(rest[8..12].try_into().unwrap_or_default());
            let Some(body) = rest.get(16..len.max(16)) else {
                return Err(NetlinkError::Decode {
                    what,
                    detail: format!("a message claims {len} bytes, {} are there", rest.len()),
                });
            };
            rest = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
            if sequence != SEQUENCE {
                continue;
            }
            match kind {
                NLMSG_DONE => return Ok(answers),
                NLMSG_ERROR => {
                    let code = body
                        .get(..4)
                        .map_or(0, |b| i32::from_ne_bytes(b.try_into().unwrap_or_default()));
                    if code == 0 {
                        return Ok(answers);
                    }
                    return Err(NetlinkError::kernel(what, code));
                }
                _ => {
                    let family = body.first().copied().unwrap_or(0);
                    answers.push((family, body.get(4..).unwrap_or_default().to_vec()));
                    if flags & NLM_F_DUMP == 0 {
                        return Ok(answers);
                    }
                }
            }
        }
    }
}
