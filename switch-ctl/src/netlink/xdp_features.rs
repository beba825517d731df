//! Devices' XDP features, from the generic-netlink family `netdev` (Linux 6.3+).
//!
//! A bridge port can take XDP-redirected frames only if it advertises
//! [`XdpFeatures::ndo_xmit`]. A veth advertises it only while its peer runs NAPI (the peer has
//! an XDP program or GRO on), and the kernel reports each change on the `mgmt` multicast
//! group, which [`FeatureWatch`] follows.
//!
//! The sockets here are blocking (run a [`FeatureWatch`] on a thread of its own, or poll its
//! descriptor). Messages are framed with `netlink-packet-generic`; attributes are parsed here,
//! bounds-checked, skipping those this layer does not know.

use std::{
    collections::{HashMap, VecDeque},
    fmt::Debug,
    io,
    os::fd::{AsFd, AsRawFd as _, BorrowedFd},
    time::{Duration, Instant},
};

use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage, constants as genl};
use rtnetlink::{
    packet_core::{
        DecodeError, Emitable, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkBuffer, NetlinkMessage,
        NetlinkPayload, ParseableParametrized,
    },
    sys::{Socket, protocols::NETLINK_GENERIC},
};

use super::NetlinkError;
use super::nlattr::{Attributes, receive};

const FAMILY: &str = "netdev";
const GROUP: &str = "mgmt";
const NETDEV_CMD_DEV_GET: u8 = 1;
const NETDEV_CMD_DEV_ADD_NTF: u8 = 2;
const NETDEV_CMD_DEV_DEL_NTF: u8 = 3;
const NETDEV_CMD_DEV_CHANGE_NTF: u8 = 4;
const NETDEV_A_DEV_IFINDEX: u16 = 1;
const NETDEV_A_DEV_XDP_FEATURES: u16 = 3;

/// A device's XDP features (NETDEV_A_DEV_XDP_FEATURES, `NETDEV_XDP_ACT_*` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct XdpFeatures(pub u64);

/// Every `NETDEV_XDP_ACT_*` bit and its name (as in `include/uapi/linux/netdev.h`, lowercase).
const NAMES: [(u64, &str); 7] = [
    (1 << 0, "basic"),
    (1 << 1, "redirect"),
    (1 << 2, "ndo-xmit"),
    (1 << 3, "xsk-zerocopy"),
    (1 << 4, "hw-offload"),
    (1 << 5, "rx-sg"),
    (1 << 6, "ndo-xmit-sg"),
];

impl XdpFeatures {
    /// NETDEV_XDP_ACT_BASIC: XDP_PASS, XDP_DROP, XDP_ABORTED and XDP_TX.
    pub fn basic(self) -> bool {
        self.0 & 1 != 0
    }
    /// NETDEV_XDP_ACT_REDIRECT: its XDP programs may redirect.
    pub fn redirect(self) -> bool {
        self.0 & 1 << 1 != 0
    }
    /// NETDEV_XDP_ACT_NDO_XMIT: it can transmit frames redirected to it.
    pub fn ndo_xmit(self) -> bool {
        self.0 & 1 << 2 != 0
    }
    /// NETDEV_XDP_ACT_RX_SG: multi-buffer frames on receive.
    pub fn rx_sg(self) -> bool {
        self.0 & 1 << 5 != 0
    }
    /// NETDEV_XDP_ACT_NDO_XMIT_SG: it can transmit redirected multi-buffer frames.
    pub fn ndo_xmit_sg(self) -> bool {
        self.0 & 1 << 6 != 0
    }
    /// The names of the bits set (`"basic"`, `"ndo-xmit"`, ...), unknown bits as `"unknown"`.
    pub fn names(self) -> Vec<&'static str> {
        let known = NAMES.iter().fold(0, |all, (bit, _)| all | bit);
        let mut names: Vec<_> = NAMES
            .iter()
            .filter(|(bit, _)| self.0 & bit != 0)
            .map(|(_, n)| *n)
            .collect();
        if self.0 & !known != 0 {
            names.push("unknown");
        }
        names
    }
}

/// Features of every device (NETDEV_CMD_DEV_GET dump), by ifindex.
pub fn dump() -> Result<HashMap<u32, XdpFeatures>, NetlinkError> {
    const WHAT: &str = "netdev dump";
    let mut socket = GenlSocket::open(WHAT)?;
    let family = socket.resolve(WHAT)?.id;
    let request = Raw::new(family, NETDEV_CMD_DEV_GET, Vec::new());
    let mut devices = HashMap::new();
    for reply in socket.transact(WHAT, NLM_F_DUMP, request)? {
        if let Some((ifindex, features)) = device(WHAT, &reply.attributes)? {
            devices.insert(ifindex, features);
        }
    }
    Ok(devices)
}

/// A change of a device's XDP features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FeatureEvent {
    /// A device appeared or its features changed (DEV_ADD_NTF, DEV_CHANGE_NTF).
    Changed {
        /// The device.
        ifindex: u32,
        /// Its features now.
        features: XdpFeatures,
    },
    /// A device is gone (DEV_DEL_NTF).
    Removed {
        /// The device.
        ifindex: u32,
    },
    /// Notifications were lost (ENOBUFS, or one could not be decoded): [`dump`] again, now.
    /// After an ENOBUFS, the notifications older than it are dropped.
    Overrun,
}

/// A blocking subscription to the `netdev` family's `mgmt` group, for the current network
/// namespace. Subscribe before you [`dump`], so no change falls between the two.
#[derive(Debug)]
pub struct FeatureWatch {
    socket: Socket,
    pending: VecDeque<FeatureEvent>,
}

impl FeatureWatch {
    /// Subscribes.
    pub fn open() -> Result<Self, NetlinkError> {
        const WHAT: &str = "netdev subscription";
        let mut socket = GenlSocket::open(WHAT)?;
        let group = socket.resolve(WHAT)?.group.ok_or(NetlinkError::NoFamily {
            family: FAMILY,
            group: Some(GROUP),
        })?;
        let socket = socket.socket;
        socket
            .add_membership(group)
            .map_err(|source| NetlinkError::Socket { what: WHAT, source })?;
        Ok(FeatureWatch {
            socket,
            pending: VecDeque::new(),
        })
    }

    /// The next change, waiting as long as it takes.
    #[allow(clippy::should_implement_trait)] // fallible, and never ends: not an Iterator
    pub fn next(&mut self) -> Result<FeatureEvent, NetlinkError> {
        loop {
            if let Some(event) = self.next_timeout(None)? {
                return Ok(event);
            }
        }
    }

    /// The next change, or None if none came within `timeout` (None: wait forever;
    /// `Duration::ZERO`: do not wait).
    pub fn next_timeout(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<FeatureEvent>, NetlinkError> {
        const WHAT: &str = "netdev notifications";
        let io = |source| NetlinkError::Io { what: WHAT, source };
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if !readable(self.socket.as_fd(), left).map_err(io)? {
                return Ok(None);
            }
            let datagram = match receive(&self.socket) {
                Ok(d) => d,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.discard_received().map_err(io)?;
                    return Ok(Some(FeatureEvent::Overrun));
                }
                Err(source) => return Err(io(source)),
            };
            for (_, message) in messages(&datagram) {
                let event = match message {
                    Ok(NetlinkPayload::InnerMessage(m)) => notification(&m),
                    Ok(_) => None,
                    Err(_) => Some(FeatureEvent::Overrun),
                };
                self.pending.extend(event);
            }
        }
    }

    /// Drops the notifications received and those waiting in the socket: older than the
    /// resync an overrun calls for, they could undo newer state if applied after it.
    fn discard_received(&mut self) -> io::Result<()> {
        self.pending.clear();
        while readable(self.socket.as_fd(), Some(Duration::ZERO))? {
            match receive(&self.socket) {
                Err(e) if e.raw_os_error() != Some(libc::ENOBUFS) => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

impl AsFd for FeatureWatch {
    /// The socket, readable when a notification waits (for `poll` or tokio's `AsyncFd`).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// The event a `mgmt` notification means, if it means one.
fn notification(message: &GenlMessage<Raw>) -> Option<FeatureEvent> {
    match device("netdev notification", &message.payload.attributes) {
        Ok(Some((ifindex, features))) => match message.header.cmd {
            NETDEV_CMD_DEV_ADD_NTF | NETDEV_CMD_DEV_CHANGE_NTF => {
                Some(FeatureEvent::Changed { ifindex, features })
            }
            NETDEV_CMD_DEV_DEL_NTF => Some(FeatureEvent::Removed { ifindex }),
            _ => None,
        },
        Ok(None) => None,
        Err(_) => Some(FeatureEvent::Overrun),
    }
}

/// The ifindex and features in a device message; None if either is missing.
fn device(
    what: &'static str,
    attributes: &[u8],
) -> Result<Option<(u32, XdpFeatures)>, NetlinkError> {
    let (mut ifindex, mut features) = (None, None);
    for attribute in Attributes(attributes) {
        let (kind, value) = attribute.map_err(|detail| NetlinkError::Decode { what, detail })?;
        match kind {
            NETDEV_A_DEV_IFINDEX => ifindex = value.try_into().ok().map(u32::from_ne_bytes),
            NETDEV_A_DEV_XDP_FEATURES => features = value.try_into().ok().map(u64::from_ne_bytes),
            _ => {}
        }
    }
    Ok(ifindex.zip(features.map(XdpFeatures)))
}

/// A generic-netlink family's id and the id of the `mgmt` group, if it has one.
struct Family {
    id: u16,
    group: Option<u32>,
}

/// A blocking NETLINK_GENERIC socket for requests.
struct GenlSocket {
    socket: Socket,
    sequence: u32,
}

impl GenlSocket {
    fn open(what: &'static str) -> Result<Self, NetlinkError> {
        let mut socket =
            Socket::new(NETLINK_GENERIC).map_err(|source| NetlinkError::Socket { what, source })?;
        socket
            .bind_auto()
            .map_err(|source| NetlinkError::Socket { what, source })?;
        Ok(GenlSocket {
            socket,
            sequence: 0,
        })
    }

    /// Looks up the `netdev` family (CTRL_CMD_GETFAMILY).
    fn resolve(&mut self, what: &'static str) -> Result<Family, NetlinkError> {
        let missing = NetlinkError::NoFamily {
            family: FAMILY,
            group: None,
        };
        let mut name = Vec::new();
        put_attribute(
            &mut name,
            genl::CTRL_ATTR_FAMILY_NAME,
            format!("{FAMILY}\0").as_bytes(),
        );
        let request = Raw::new(genl::GENL_ID_CTRL, genl::CTRL_CMD_GETFAMILY, name);
        let replies = match self.transact(what, NLM_F_ACK, request) {
            Err(e) if e.errno() == Some(libc::ENOENT) => return Err(missing),
            replies => replies?,
        };
        let reply = replies.first().ok_or(missing)?;
        let mut family = Family { id: 0, group: None };
        let decode = |detail| NetlinkError::Decode { what, detail };
        for attribute in Attributes(&reply.attributes) {
            let (kind, value) = attribute.map_err(decode)?;
            match kind {
                genl::CTRL_ATTR_FAMILY_ID => {
                    family.id = value
                        .try_into()
                        .map(u16::from_ne_bytes)
                        .map_err(|_| decode("bad CTRL_ATTR_FAMILY_ID".into()))?;
                }
                genl::CTRL_ATTR_MCAST_GROUPS => {
                    for group in Attributes(value) {
                        let (mut name, mut id) = (None, None);
                        for attribute in Attributes(group.map_err(decode)?.1) {
                            match attribute.map_err(decode)? {
                                (genl::CTRL_ATTR_MCAST_GRP_NAME, v) => name = Some(v),
                                (genl::CTRL_ATTR_MCAST_GRP_ID, v) => {
                                    id = v.try_into().ok().map(u32::from_ne_bytes)
                                }
                                _ => {}
                            }
                        }
                        if name == Some(format!("{GROUP}\0").as_bytes()) {
                            family.group = id;
                        }
                    }
                }
                _ => {}
            }
        }
        if family.id == 0 {
            return Err(decode("no CTRL_ATTR_FAMILY_ID".into()));
        }
        Ok(family)
    }

    /// Sends `request` with NLM_F_REQUEST and `flags`, and collects the replies up to the ACK,
    /// the end of the dump, or an error.
    fn transact(
        &mut self,
        what: &'static str,
        flags: u16,
        request: Raw,
    ) -> Result<Vec<Raw>, NetlinkError> {
        let io = |source| NetlinkError::Io { what, source };
        self.sequence = self.sequence.wrapping_add(1);
        let family = request.family;
        let header = GenlHeader {
            cmd: request.cmd,
            version: 1,
        };
        let mut message = NetlinkMessage::from(GenlMessage::new(header, request, family));
        message.header.flags = NLM_F_REQUEST | flags;
        message.header.sequence_number = self.sequence;
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        self.socket.send(&bytes, 0).map_err(io)?;

        let mut replies = Vec::new();
        loop {
            let datagram = receive(&self.socket).map_err(io)?;
            for (sequence, payload) in messages(&datagram) {
                let payload = payload.map_err(|e| NetlinkError::Decode {
                    what,
                    detail: e.to_string(),
                })?;
                if sequence != self.sequence {
                    continue; // not an answer to this request
                }
                match payload {
                    NetlinkPayload::InnerMessage(m) => {
                        replies.push(m.payload);
                        if flags & (NLM_F_DUMP | NLM_F_ACK) == 0 {
                            return Ok(replies);
                        }
                    }
                    NetlinkPayload::Error(e) => match e.code {
                        Some(code) => return Err(NetlinkError::kernel(what, code.get())),
                        None => return Ok(replies),
                    },
                    NetlinkPayload::Done(d) if d.code != 0 => {
                        return Err(NetlinkError::kernel(what, d.code));
                    }
                    NetlinkPayload::Done(_) => return Ok(replies),
                    _ => {}
                }
            }
        }
    }
}

/// A generic-netlink message of any family: its command and its attributes, unparsed.
#[derive(Debug, Clone)]
struct Raw {
    family: u16,
    cmd: u8,
    attributes: Vec<u8>,
}

impl Raw {
    fn new(family: u16, cmd: u8, attributes: Vec<u8>) -> Self {
        Raw {
            family,
            cmd,
            attributes,
        }
    }
}

impl GenlFamily for Raw {
    fn family_name() -> &'static str {
        FAMILY
    }
    fn family_id(&self) -> u16 {
        self.family
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        1
    }
}

impl Emitable for Raw {
    fn buffer_len(&self) -> usize {
        self.attributes.len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.attributes);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for Raw {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(Raw::new(0, header.cmd, buf.to_vec()))
    }
}

/// Appends one attribute (header, value, padding to 4 bytes).
fn put_attribute(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    let len = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// Waits until `fd` is readable or `timeout` passes; false on timeout.
fn readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let ms = timeout.map_or(-1, |t| {
        libc::c_int::try_from(t.as_millis()).unwrap_or(libc::c_int::MAX)
    });
    let mut pollfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, for the duration of the call, on a descriptor we borrow.
        match unsafe { libc::poll(&mut pollfd, 1, ms) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            -1 => return Err(io::Error::last_os_error()),
            n => return Ok(n > 0),
        }
    }
}

type Payload = NetlinkPayload<GenlMessage<Raw>>;

/// The netlink messages of a datagram with their sequence numbers, decoded. A message that
/// cannot be decoded is an error; one with a broken header also ends the datagram.
fn messages(mut datagram: &[u8]) -> Vec<(u32, Result<Payload, DecodeError>)> {
    let mut out = Vec::new();
    while !datagram.is_empty() {
        // new_checked: the header is whole and 16 <= its length <= what is left.
        let (len, sequence) = match NetlinkBuffer::new_checked(datagram) {
            Ok(b) => (b.length() as usize, b.sequence_number()),
            Err(e) => {
                out.push((0, Err(e)));
                break;
            }
        };
        let message = NetlinkMessage::deserialize(&datagram[..len]).map(|m| m.payload);
        out.push((sequence, message));
        datagram = datagram.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_bounds_checked() {
        let mut bytes = Vec::new();
        put_attribute(&mut bytes, 1, &7u32.to_ne_bytes());
        put_attribute(&mut bytes, 3, &5u64.to_ne_bytes());
        assert_eq!(device("test", &bytes).unwrap(), Some((7, XdpFeatures(5))));
        for cut in 1..bytes.len() {
            let _ = device("test", &bytes[..cut]); // an error or a partial answer, never a panic
        }
        let mut lying = bytes.clone();
        lying[0] = 200;
        assert!(device("test", &lying).is_err());
    }

    #[test]
    fn feature_names() {
        assert_eq!(XdpFeatures(0b101).names(), ["basic", "ndo-xmit"]);
        assert!(XdpFeatures(4).ndo_xmit() && !XdpFeatures(3).ndo_xmit());
        assert_eq!(XdpFeatures(1 << 40).names(), ["unknown"]);
    }
}
