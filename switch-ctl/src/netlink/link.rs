//! Links: interfaces, with what a bridge and a bridge port say about themselves.

use rtnetlink::{
    packet_core::NLM_F_DUMP,
    packet_route::{
        RouteNetlinkMessage,
        link::{
            BridgePortState, InfoBridge, InfoBridgePort, InfoData, InfoPortData, LinkAttribute,
            LinkExtentMask, LinkFlags, LinkInfo, LinkMessage, LinkXdp, State,
        },
    },
};

use super::{Netlink, NetlinkError};

/// One network interface (from an AF_UNSPEC RTM_NEWLINK message).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// Its index.
    pub ifindex: u32,
    /// Its name (IFLA_IFNAME).
    pub name: String,
    /// Its type (IFLA_INFO_KIND): `"bridge"`, `"veth"`, ...; None for devices without one.
    pub kind: Option<String>,
    /// The ifindex of the device it is enslaved to (IFLA_MASTER), bridge or other.
    pub master: Option<u32>,
    /// Administratively up (IFF_UP).
    pub admin_up: bool,
    /// Promiscuous (IFF_PROMISC): a bridge in this state also passes forwarded frames up its
    /// own stack (tcpdump on the bridge, an IDS).
    pub promisc: bool,
    /// Operationally up: carrier (IFF_LOWER_UP) and operstate up or unknown.
    pub oper_up: bool,
    /// Its MTU.
    pub mtu: u32,
    /// Its Ethernet address, if it has a 6-byte one.
    pub mac: Option<[u8; 6]>,
    /// The id of its XDP program in any mode (IFLA_XDP), None without one.
    pub xdp_prog_id: Option<u32>,
    /// The bridge's settings, when this link is a bridge.
    pub bridge: Option<BridgeAttrs>,
    /// The port's settings, when this link is a bridge port (IFLA_INFO_SLAVE_DATA).
    pub port: Option<PortAttrs>,
}

/// What a bridge says about itself (IFLA_INFO_DATA of kind `bridge`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BridgeAttrs {
    /// How long a learned FDB entry lives without traffic (IFLA_BR_AGEING_TIME), in
    /// centiseconds (USER_HZ): 30000 is the default 300 s.
    pub ageing_time_cs: u32,
    /// Whether VLAN filtering is on.
    pub vlan_filtering: bool,
    /// The bridge's own `nf_call_{iptables,ip6tables,arptables}` options, any of them on: bridged
    /// frames then traverse netfilter whatever the namespace's sysctls say.
    pub nf_call: bool,
    /// STP: 0 off, 1 kernel STP, 2 user-space STP.
    pub stp_state: u32,
    /// How many FDB entries the bridge learned itself (IFLA_BR_FDB_N_LEARNED, kernel 6.8):
    /// entries added by a user or installed as externally learned do not count.
    pub fdb_n_learned: Option<u32>,
    /// The bridge learns no more entries than this (IFLA_BR_FDB_MAX_LEARNED; 0: no limit).
    pub fdb_max_learned: Option<u32>,
}

/// What a bridge port says about itself (IFLA_BRPORT_* in IFLA_INFO_SLAVE_DATA). Flags the
/// kernel did not report read as off.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortAttrs {
    /// Its STP state.
    pub state: PortState,
    /// Frames may leave through the port they came in by.
    pub hairpin: bool,
    /// Isolated: no traffic to or from other isolated ports.
    pub isolated: bool,
    /// Locked: only hosts with FDB entries pointing here may send (802.1X).
    pub locked: bool,
    /// MAC authentication bypass on a locked port: unknown sources become locked entries.
    pub mab: bool,
    /// The bridge learns source addresses on this port.
    pub learning: bool,
    /// Where the bridge sends this port's traffic while its carrier is down.
    pub backup_port: Option<u32>,
}

/// A bridge port's STP state (BR_STATE_*). A value this layer does not know reads as
/// `Disabled`, which forwards nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortState {
    /// BR_STATE_DISABLED (0).
    Disabled,
    /// BR_STATE_LISTENING (1).
    Listening,
    /// BR_STATE_LEARNING (2): learns, does not forward.
    Learning,
    /// BR_STATE_FORWARDING (3).
    Forwarding,
    /// BR_STATE_BLOCKING (4).
    Blocking,
}

impl Netlink {
    /// Every link (RTM_GETLINK dump, AF_UNSPEC), with bridge and bridge-port attributes parsed.
    pub async fn links(&self) -> Result<Vec<Link>, NetlinkError> {
        const WHAT: &str = "link dump";
        let answers = self
            .request(WHAT, NLM_F_DUMP, RouteNetlinkMessage::GetLink(request(0)))
            .await?;
        answers
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(link) => Some(Link::from_message(WHAT, link)),
                _ => None,
            })
            .collect()
    }

    /// One link by ifindex; Ok(None) if it does not exist (ENODEV).
    pub async fn link(&self, ifindex: u32) -> Result<Option<Link>, NetlinkError> {
        const WHAT: &str = "link get";
        let message = RouteNetlinkMessage::GetLink(request(ifindex));
        match self.request(WHAT, 0, message).await {
            Ok(answers) => answers
                .iter()
                .find_map(|m| match m {
                    RouteNetlinkMessage::NewLink(link) => Some(Link::from_message(WHAT, link)),
                    _ => None,
                })
                .transpose(),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An RTM_GETLINK request for `ifindex` (0: all) without statistics, which we do not use.
fn request(ifindex: u32) -> LinkMessage {
    let mut message = LinkMessage::default();
    message.header.index = ifindex;
    message
        .attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    message
}

impl Link {
    /// Reads an AF_UNSPEC RTM_NEWLINK message. Only a missing name is an error.
    pub(crate) fn from_message(what: &'static str, m: &LinkMessage) -> Result<Link, NetlinkError> {
        let flags = m.header.flags;
        let (mut name, mut operstate) = (None, None);
        let mut link = Link {
            ifindex: m.header.index,
            name: String::new(),
            kind: None,
            master: None,
            admin_up: flags.contains(LinkFlags::Up),
            promisc: flags.contains(LinkFlags::Promisc),
            oper_up: false,
            mtu: 0,
            mac: None,
            xdp_prog_id: None,
            bridge: None,
            port: None,
        };
        for attribute in &m.attributes {
            match attribute {
                LinkAttribute::IfName(n) => name = Some(n.clone()),
                LinkAttribute::Controller(i) => link.master = Some(*i).filter(|&i| i != 0),
                LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
                LinkAttribute::Address(a) => link.mac = a.as_slice().try_into().ok(),
                LinkAttribute::OperState(s) => operstate = Some(*s),
                LinkAttribute::Xdp(xdp) => link.xdp_prog_id = xdp_prog_id(xdp),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        match info {
                            LinkInfo::Kind(kind) => link.kind = Some(kind.to_string()),
                            LinkInfo::Data(InfoData::Bridge(b)) => {
                                link.bridge = Some(BridgeAttrs::from_attributes(b));
                            }
                            LinkInfo::PortData(InfoPortData::BridgePort(p)) => {
                                link.port = Some(PortAttrs::from_attributes(p));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        link.oper_up = flags.contains(LinkFlags::LowerUp)
            && matches!(operstate, None | Some(State::Up | State::Unknown));
        link.name = name.ok_or_else(|| NetlinkError::Decode {
            what,
            detail: format!("link {} has no IFLA_IFNAME", link.ifindex),
        })?;
        Ok(link)
    }
}

/// The attached program's id: IFLA_XDP_PROG_ID for one program, else the first per-mode id
/// (several modes at once report only those).
fn xdp_prog_id(attributes: &[LinkXdp]) -> Option<u32> {
    let id = |wanted: fn(&LinkXdp) -> Option<u32>| attributes.iter().find_map(wanted);
    id(|a| match a {
        LinkXdp::ProgId(i) => Some(*i),
        _ => None,
    })
    .or_else(|| {
        id(|a| match a {
            LinkXdp::DrvProgId(i) | LinkXdp::SkbProgId(i) | LinkXdp::HwProgId(i) => Some(*i),
            _ => None,
        })
    })
    .filter(|&i| i != 0)
}

impl BridgeAttrs {
    fn from_attributes(attributes: &[InfoBridge]) -> Self {
        let mut b = BridgeAttrs {
            ageing_time_cs: 0,
            vlan_filtering: false,
            nf_call: false,
            stp_state: 0,
            fdb_n_learned: None,
            fdb_max_learned: None,
        };
        for attribute in attributes {
            match attribute {
                InfoBridge::AgeingTime(t) => b.ageing_time_cs = *t,
                InfoBridge::VlanFiltering(on) => b.vlan_filtering = *on,
                InfoBridge::NfCallIpTables(on)
                | InfoBridge::NfCallIp6Tables(on)
                | InfoBridge::NfCallArpTables(on) => b.nf_call |= *on,
                InfoBridge::StpState(s) => b.stp_state = (*s).into(),
                InfoBridge::FdbNLearned(n) => b.fdb_n_learned = Some(*n),
                InfoBridge::FdbMaxLearned(n) => b.fdb_max_learned = Some(*n),
                _ => {}
            }
        }
        b
    }
}

impl PortAttrs {
    fn from_attributes(attributes: &[InfoBridgePort]) -> Self {
        let mut p = PortAttrs {
            state: PortState::Disabled,
            hairpin: false,
            isolated: false,
            locked: false,
            mab: false,
            learning: false,
            backup_port: None,
        };
        for attribute in attributes {
            match attribute {
                InfoBridgePort::State(s) => p.state = PortState::from(*s),
                InfoBridgePort::HairpinMode(on) => p.hairpin = *on,
                InfoBridgePort::Isolated(on) => p.isolated = *on,
                InfoBridgePort::Locked(on) => p.locked = *on,
                InfoBridgePort::Mab(on) => p.mab = *on,
                InfoBridgePort::Learning(on) => p.learning = *on,
                InfoBridgePort::BackupPort(i) => p.backup_port = Some(*i).filter(|&i| i != 0),
                _ => {}
            }
        }
        p
    }
}

impl From<BridgePortState> for PortState {
    fn from(state: BridgePortState) -> Self {
        match state {
            BridgePortState::Listening => PortState::Listening,
            BridgePortState::Learning => PortState::Learning,
            BridgePortState::Forwarding => PortState::Forwarding,
            BridgePortState::Blocking => PortState::Blocking,
            _ => PortState::Disabled,
        }
    }
}
