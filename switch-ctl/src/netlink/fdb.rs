//! The bridge's forwarding database on the wire (RTM_*NEIGH messages of the bridge family):
//! entries, their dump, and the changes the daemon makes.

use rtnetlink::{
    packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE},
    packet_route::{
        AddressFamily, RouteNetlinkMessage,
        neighbour::{
            NeighbourAttribute, NeighbourExtFlags, NeighbourFlags, NeighbourMessage, NeighbourState,
        },
    },
};

use super::{Netlink, NetlinkError};

const NUD_REACHABLE: u16 = 0x02;
const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;

/// One bridge FDB entry (an AF_BRIDGE neighbour with NDA_MASTER).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FdbEntry {
    /// The Ethernet address.
    #[serde(serialize_with = "serialize_mac")]
    pub mac: [u8; 6],
    /// Where frames to `mac` go (the message's ifindex): a port, or the bridge itself for the
    /// bridge's own addresses.
    pub port: u32,
    /// The bridge it belongs to (NDA_MASTER).
    pub bridge: Option<u32>,
    /// Its VLAN (NDA_VLAN), if any.
    pub vlan: Option<u16>,
    /// How it got there and whether the bridge ages it.
    pub kind: FdbKind,
    /// Locked (NTF_EXT_LOCKED): learned on a locked port with MAB; the bridge drops frames from
    /// this address.
    pub locked: bool,
    /// Centiseconds since the bridge last refreshed the entry (NDA_CACHEINFO ndm_updated, in
    /// USER_HZ like [`BridgeAttrs::ageing_time_cs`](super::BridgeAttrs::ageing_time_cs)): a
    /// learned entry expires when this reaches the ageing time.
    pub updated_cs: Option<u32>,
}

/// What kind of FDB entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FdbKind {
    /// NUD_PERMANENT: the bridge's or a port's own address (frames go up the stack).
    Local,
    /// NUD_NOARP: added by an administrator; never aged.
    Static,
    /// Dynamic: learned (or added as `dynamic`), aged by the bridge.
    Learned,
    /// NTF_EXT_LEARNED: installed as externally learned; the bridge never ages it.
    ExtLearned,
}

impl Netlink {
    /// Every bridge FDB entry (AF_BRIDGE neighbour dump), only entries that belong to a bridge
    /// (have NDA_MASTER); a port's own "self" entries without a master are skipped.
    pub async fn fdb(&self) -> Result<Vec<FdbEntry>, NetlinkError> {
        let answers = self
            .request(
                "fdb dump",
                NLM_F_DUMP,
                RouteNetlinkMessage::GetNeighbour(neighbour(0)),
            )
            .await?;
        Ok(answers
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNeighbour(n) => FdbEntry::from_message(n),
                _ => None,
            })
            .collect())
    }

    /// Resets the bridge's ageing timer of the entry for `mac` on `port`: RTM_NEWNEIGH,
    /// AF_BRIDGE, NTF_MASTER|NTF_USE, what `bridge fdb replace MAC dev PORT master use` sends.
    /// Emits no notification when the entry exists on `port`. Otherwise the bridge handles it
    /// like a frame from `mac` arriving on `port`: it learns the entry there, or moves it
    /// there (even a static one), and notifies. A port that does not learn ignores it.
    ///
    /// The daemon never sends it: the kernel marks the entry "added by user", out of
    /// `fdb_n_learned` (docs/switch.md, "The FDB stays the bridge's own").
    pub async fn fdb_use(&self, port: u32, mac: [u8; 6]) -> Result<(), NetlinkError> {
        // The state is ignored with NTF_USE but must be valid; this is iproute2's.
        let entry = fdb_entry(port, mac, NUD_NOARP | NUD_PERMANENT, NeighbourFlags::Use);
        let message = RouteNetlinkMessage::NewNeighbour(entry);
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
        self.request("fdb use", flags, message).await.map(drop)
    }

    /// Adds (or replaces) a dynamic entry (learned-like, aged by the bridge), like
    /// `bridge fdb replace MAC dev PORT master dynamic`. A user entry: the daemon never adds one.
    pub async fn fdb_add_dynamic(&self, port: u32, mac: [u8; 6]) -> Result<(), NetlinkError> {
        let entry = fdb_entry(port, mac, NUD_REACHABLE, NeighbourFlags::empty());
        let message = RouteNetlinkMessage::NewNeighbour(entry);
        let flags = NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
        self.request("fdb add", flags, message).await.map(drop)
    }

    /// Deletes an entry from the bridge (`bridge fdb del MAC dev PORT master`). Ok if it is
    /// already gone.
    pub async fn fdb_delete(&self, port: u32, mac: [u8; 6]) -> Result<(), NetlinkError> {
        let message =
            RouteNetlinkMessage::DelNeighbour(fdb_entry(port, mac, 0, NeighbourFlags::empty()));
        match self.request("fdb delete", NLM_F_ACK, message).await {
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(()),
            result => result.map(drop),
        }
    }
}

/// An AF_BRIDGE neighbour message for `ifindex` (0: all).
fn neighbour(ifindex: u32) -> NeighbourMessage {
    let mut message = NeighbourMessage::default();
    message.header.family = AddressFamily::Bridge;
    message.header.ifindex = ifindex;
    message
}

/// The bridge's (NTF_MASTER) entry `mac` on `port`, for RTM_NEWNEIGH or RTM_DELNEIGH.
fn fdb_entry(port: u32, mac: [u8; 6], nud: u16, flags: NeighbourFlags) -> NeighbourMessage {
    let mut message = neighbour(port);
    message.header.state = NeighbourState::from(nud);
    message.header.flags = NeighbourFlags::Controller | flags;
    message
        .attributes
        .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
    message
}

impl FdbEntry {
    /// Reads an AF_BRIDGE neighbour message; None for anything that is not a bridge's entry
    /// (another family, no NDA_MASTER, no 6-byte address).
    pub(crate) fn from_message(m: &NeighbourMessage) -> Option<FdbEntry> {
        if m.header.family != AddressFamily::Bridge {
            return None;
        }
        let (mut mac, mut bridge, mut vlan, mut locked, mut updated_cs) =
            (None, None, None, false, None);
        for attribute in &m.attributes {
            match attribute {
                NeighbourAttribute::LinkLayerAddress(a) => mac = a.as_slice().try_into().ok(),
                NeighbourAttribute::Controller(i) => bridge = Some(*i).filter(|&i| i != 0),
                NeighbourAttribute::Vlan(v) => vlan = Some(*v),
                NeighbourAttribute::ExtFlags(f) => locked = f.contains(NeighbourExtFlags::Locked),
                NeighbourAttribute::CacheInfo(c) => updated_cs = Some(c.updated),
                _ => {}
            }
        }
        let nud = u16::from(m.header.state);
        let kind = if nud & NUD_PERMANENT != 0 {
            FdbKind::Local
        } else if m.header.flags.contains(NeighbourFlags::ExtLearned) {
            FdbKind::ExtLearned
        } else if nud & NUD_NOARP != 0 {
            FdbKind::Static
        } else {
            FdbKind::Learned
        };
        Some(FdbEntry {
            mac: mac?,
            port: m.header.ifindex,
            bridge: Some(bridge?),
            vlan,
            kind,
            locked,
            updated_cs,
        })
    }
}

/// `mac` in the usual lowercase colon form, `02:00:00:00:00:01`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// Parses `02:00:00:00:00:01` (either case); None if it is not six colon-separated hex bytes.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn serialize_mac<S: serde::Serializer>(mac: &[u8; 6], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_mac(mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_round_trip() {
        let mac = [0x02, 0, 0xab, 0, 0, 0x01];
        assert_eq!(format_mac(&mac), "02:00:ab:00:00:01");
        assert_eq!(parse_mac("02:00:AB:00:00:01"), Some(mac));
        for bad in [
            "",
            "02:00:ab:00:00",
            "02:00:ab:00:00:01:02",
            "2:00:ab:00:00:01",
            "zz:00:ab:00:00:01",
        ] {
            assert_eq!(parse_mac(bad), None, "{bad:?}");
        }
    }
}
