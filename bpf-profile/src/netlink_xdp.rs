//! XDP programs attached over netlink (`IFLA_XDP`: `ip link set dev X xdp ...`, libbpf's and
//! aya's fallback, this project's switch), which have no BPF link to find them by.
//!
//! One `RTM_GETLINK` dump of this process's network namespace: interfaces in other namespaces
//! are not seen. The dump also reports XDP programs attached through links; the inventory
//! keeps those under their link.

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkMessage, LinkXdp, XdpAttached};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

/// Why the interfaces could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The netlink socket failed.
    #[error("cannot dump network interfaces over netlink: {0}")]
    Io(#[from] std::io::Error),
    /// The kernel's answer could not be decoded, or was an error.
    #[error("unexpected netlink answer to the interface dump: {0}")]
    Answer(String),
}

/// The XDP mode of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XdpMode {
    /// In the driver (native).
    Driver,
    /// In the kernel's generic path (`xdpgeneric`, SKB mode).
    Generic,
    /// Offloaded to the NIC.
    Offload,
}

impl XdpMode {
    /// The hook name the inventory shows: `xdp`, `xdp_generic` or `xdp_offload`.
    pub fn hook(self) -> &'static str {
        match self {
            Self::Driver => "xdp",
            Self::Generic => "xdp_generic",
            Self::Offload => "xdp_offload",
        }
    }
}

/// One XDP program on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlinkXdp {
    /// The interface index.
    pub ifindex: u32,
    /// The interface name.
    pub ifname: String,
    /// The program's id.
    pub prog_id: u32,
    /// The mode.
    pub mode: XdpMode,
}

/// Every XDP program attached to an interface of this network namespace.
pub fn attached() -> Result<Vec<NetlinkXdp>, NetlinkError> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut request = NetlinkMessage::new(
        NetlinkHeader::default(),
        NetlinkPayload::from(RouteNetlinkMessage::GetLink(LinkMessage::default())),
    );
    request.header.flags = NLM_F_DUMP | NLM_F_REQUEST;
    request.header.sequence_number = 1;
    request.finalize();
    let mut buf = vec![0; request.buffer_len()];
    request.serialize(&mut buf);
    socket.send(&buf, 0)?;

    let mut found = Vec::new();
    loop {
        let (datagram, _) = socket.recv_from_full()?;
        let mut offset = 0;
        while offset < datagram.len() {
            let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&datagram[offset..])
                .map_err(|e| NetlinkError::Answer(e.to_string()))?;
            match message.payload {
                NetlinkPayload::Done(_) => return Ok(found),
                NetlinkPayload::Error(e) => {
                    return Err(NetlinkError::Answer(format!("{e:?}")));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                    found.extend(xdp_of(&link));
                }
                _ => {}
            }
            let len = message.header.length as usize;
            if len == 0 {
                break;
            }
            offset += len;
        }
    }
}

/// The XDP programs one interface reports.
fn xdp_of(link: &LinkMessage) -> Vec<NetlinkXdp> {
    let ifname = link
        .attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(name) => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let Some(xdp) = link.attributes.iter().find_map(|a| match a {
        LinkAttribute::Xdp(xdp) => Some(xdp),
        _ => None,
    }) else {
        return Vec::new();
    };
    let attached = xdp.iter().find_map(|x| match x {
        LinkXdp::Attached(a) => Some(a),
        _ => None,
    });
    let entry = |prog_id: u32, mode| NetlinkXdp {
        ifindex: link.header.index,
        ifname: ifname.clone(),
        prog_id,
        mode,
    };
    let single = match attached {
        Some(XdpAttached::Driver) => Some(XdpMode::Driver),
        Some(XdpAttached::SocketBuffer) => Some(XdpMode::Generic),
        Some(XdpAttached::Hardware) => Some(XdpMode::Offload),
        _ => None,
    };
    xdp.iter()
        .filter_map(|x| match (x, single) {
            (LinkXdp::ProgId(id), Some(mode)) => Some(entry(*id, mode)),
            (LinkXdp::DrvProgId(id), None) => Some(entry(*id, XdpMode::Driver)),
            (LinkXdp::SkbProgId(id), None) => Some(entry(*id, XdpMode::Generic)),
            (LinkXdp::HwProgId(id), None) => Some(entry(*id, XdpMode::Offload)),
            _ => None,
        })
        .filter(|e| e.prog_id != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_namespace_dumps() {
        // The loopback interface exists everywhere; the dump must end cleanly.
        attached().expect("RTM_GETLINK dump");
    }

    #[test]
    fn modes_from_the_xdp_attribute() {
        let mut link = LinkMessage::default();
        link.header.index = 4;
        link.attributes = vec![
            LinkAttribute::IfName("p1".into()),
            LinkAttribute::Xdp(vec![
                LinkXdp::Attached(XdpAttached::SocketBuffer),
                LinkXdp::ProgId(12),
            ]),
        ];
        assert_eq!(
            xdp_of(&link),
            [NetlinkXdp {
                ifindex: 4,
                ifname: "p1".into(),
                prog_id: 12,
                mode: XdpMode::Generic
            }]
        );
        link.attributes[1] = LinkAttribute::Xdp(vec![
            LinkXdp::Attached(XdpAttached::Multiple),
            LinkXdp::DrvProgId(3),
            LinkXdp::SkbProgId(5),
        ]);
        let modes: Vec<_> = xdp_of(&link).iter().map(|e| (e.prog_id, e.mode)).collect();
        assert_eq!(modes, [(3, XdpMode::Driver), (5, XdpMode::Generic)]);
    }
}
