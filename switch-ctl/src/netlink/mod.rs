//! The kernel's bridge state over netlink: links, bridge ports and their flags, the FDB, their
//! change notifications, and the ports' XDP features.
//!
//! Everything here concerns the current network namespace (the daemon enters its namespace
//! before it starts its runtime).
//!
//! ```no_run
//! # async fn f() -> Result<(), switch_ctl::netlink::NetlinkError> {
//! use switch_ctl::netlink::{Event, Netlink};
//! // Subscribe first, then dump: no change between the dump and the events is lost.
//! let (netlink, mut events) = Netlink::open().await?;
//! let links = netlink.links().await?;
//! let fdb = netlink.fdb().await?;
//! while let Some(event) = events.next().await {
//!     if event == Event::Overrun {
//!         // Notifications were lost: dump everything again.
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Built on `rtnetlink`'s connection machinery and its re-exported packet crates, with one change:
//! a message the packet crates cannot decode is never dropped silently (see [`Codec`]).

mod error;
mod events;
mod fdb;
mod link;
pub mod nftables;
mod nlattr;
mod xdp_attach;
pub mod xdp_features;

use std::{fmt::Debug, io};

use bytes::BytesMut;
use futures::StreamExt as _;
use rtnetlink::{
    packet_core::{
        NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_OVERRUN, NetlinkBuffer,
        NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    },
    packet_route::RouteNetlinkMessage,
    proto::{ConnectionHandle, NetlinkMessageCodec},
    sys::{AsyncSocket as _, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE},
};

pub use error::NetlinkError;
pub use events::{Event, Events};
pub use fdb::{FdbEntry, FdbKind, format_mac, parse_mac};
pub use link::{BridgeAttrs, Link, PortAttrs, PortState};

/// RTNLGRP_LINK: link changes, bridge ports included.
const RTNLGRP_LINK: u32 = 1;
/// RTNLGRP_NEIGH: neighbour changes, bridge FDB entries included.
const RTNLGRP_NEIGH: u32 = 3;
/// The receive buffer asked for the notification socket. Bursts (a port leaving a bridge with
/// thousands of FDB entries) overflow the default; an overflow costs a full resync.
pub const EVENT_BUFFER_BYTES: usize = 8 << 20;
/// How often a dump is retried when the kernel flags it inconsistent (NLM_F_DUMP_INTR).
const DUMP_ATTEMPTS: u32 = 3;

/// Requests to rtnetlink (dumps and FDB changes). Cheap to clone; all clones share one
/// connection, which lives while a clone does.
#[derive(Clone, Debug)]
pub struct Netlink {
    handle: ConnectionHandle<RouteNetlinkMessage>,
}

impl Netlink {
    /// Opens a request connection and a second connection subscribed to the link and neighbour
    /// groups; spawns both on the current tokio runtime.
    ///
    /// The subscription exists when this returns, so a dump made afterwards plus the events
    /// that follow miss nothing (events may repeat what the dump showed).
    pub async fn open() -> Result<(Netlink, Events), NetlinkError> {
        Self::open_with_buffer(EVENT_BUFFER_BYTES).await
    }

    /// [`Netlink::open`] with a receive buffer of `event_buffer_bytes` for notifications.
    pub async fn open_with_buffer(
        event_buffer_bytes: usize,
    ) -> Result<(Netlink, Events), NetlinkError> {
        let socket_error = |what| move |source| NetlinkError::Socket { what, source };
        // Opening and spawning need one (and would panic without).
        tokio::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(e.to_string()))
            .map_err(socket_error("rtnetlink"))?;
        let (mut conn, handle, _) =
            rtnetlink::proto::new_connection_with_codec::<RouteNetlinkMessage, TokioSocket, Codec>(
                NETLINK_ROUTE,
            )
            .map_err(socket_error("rtnetlink requests"))?;
        // Pass on the ends of requests (a failing dump's DONE carries its errno), so that a
        // request can tell its end from a connection that went away.
        conn.set_forward_done(true);
        conn.set_forward_ack(true);
        tokio::spawn(conn);

        let (mut conn, _, messages) =
            rtnetlink::proto::new_connection_with_codec::<RouteNetlinkMessage, TokioSocket, Codec>(
                NETLINK_ROUTE,
            )
            .map_err(socket_error("rtnetlink notifications"))?;
        let socket = conn.socket_mut().socket_mut();
        let groups = 1 << (RTNLGRP_LINK - 1) | 1 << (RTNLGRP_NEIGH - 1);
        socket
            .bind(&SocketAddr::new(0, groups))
            .map_err(socket_error("rtnetlink notifications"))?;
        set_receive_buffer(socket, event_buffer_bytes);
        tokio::spawn(conn);

        let netlink = Netlink { handle };
        Ok((netlink.clone(), Events::new(messages, netlink)))
    }

    /// Sends `message` with NLM_F_REQUEST and `flags`, and collects the answers up to the
    /// end: the DONE of a dump, the ACK asked for, or else the one answer. An error message or
    /// a DONE with an error fails the request, and so does a connection that closes before
    /// the end; a dump that the kernel flags as interrupted is retried.
    async fn request(
        &self,
        what: &'static str,
        flags: u16,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        for _ in 0..DUMP_ATTEMPTS {
            let mut request = NetlinkMessage::from(message.clone());
            request.header.flags = NLM_F_REQUEST | flags;
            let mut answers = self
                .handle
                .request(request, SocketAddr::new(0, 0))
                .map_err(|e| NetlinkError::Io {
                    what,
                    source: io::Error::other(e.to_string()),
                })?;
            let (mut out, mut interrupted, mut ended) = (Vec::new(), false, false);
            while let Some(answer) = answers.next().await {
                interrupted |= answer.header.flags & NLM_F_DUMP_INTR != 0;
                match answer.payload {
                    NetlinkPayload::InnerMessage(m) => {
                        out.push(m);
                        ended = flags & (NLM_F_DUMP | NLM_F_ACK) == 0;
                    }
                    NetlinkPayload::Error(e) => match e.code {
                        Some(code) => return Err(NetlinkError::kernel(what, code.get())),
                        None => ended = true,
                    },
                    NetlinkPayload::Done(d) if d.code != 0 => {
                        return Err(NetlinkError::kernel(what, d.code));
                    }
                    NetlinkPayload::Done(_) => ended = true,
                    NetlinkPayload::Overrun(bytes) => {
                        return Err(NetlinkError::Decode {
                            what,
                            detail: String::from_utf8_lossy(&bytes).into_owned(),
                        });
                    }
                    _ => {}
                }
            }
            if !ended {
                return Err(NetlinkError::Io {
                    what,
                    source: io::ErrorKind::UnexpectedEof.into(),
                });
            }
            if !(interrupted && flags & NLM_F_DUMP != 0) {
                return Ok(out);
            }
        }
        Err(NetlinkError::DumpInterrupted {
            what,
            attempts: DUMP_ATTEMPTS,
        })
    }
}

/// Asks for a receive buffer of `bytes`: beyond `net.core.rmem_max` with CAP_NET_ADMIN
/// (SO_RCVBUFFORCE), else as much as `rmem_max` allows. Best effort: a smaller buffer only
/// makes overruns likelier, and those are reported.
fn set_receive_buffer(socket: &rtnetlink::sys::Socket, bytes: usize) {
    use std::os::fd::AsRawFd as _;
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from a live c_int, on a socket we own.
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&raw const size).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        let _ = socket.set_rx_buf_sz(bytes);
    }
}

/// netlink-proto's codec, except for messages the packet crates cannot decode: the default
/// codec logs and drops those, which would leave a mirror of kernel state silently wrong.
/// This one turns such a message into an NLMSG_OVERRUN carrying the decode error as text and
/// the original sequence number, so a request fails with [`NetlinkError::Decode`] and a
/// notification stream reports [`Event::Overrun`] (resync).
#[derive(Debug)]
pub struct Codec;

impl NetlinkMessageCodec for Codec {
    fn decode<T>(src: &mut BytesMut) -> io::Result<Option<NetlinkMessage<T>>>
    where
        T: NetlinkDeserializable + Debug,
    {
        if src.is_empty() {
            return Ok(None);
        }
        let (len, sequence, port) = match NetlinkBuffer::new_checked(src.as_ref()) {
            Ok(b) => (b.length() as usize, b.sequence_number(), b.port_number()),
            Err(e) => {
                // Not even a header: the rest of the datagram is lost.
                src.clear();
                return Ok(Some(undecodable(0, 0, &e)));
            }
        };
        let bytes = src.split_to(len);
        Ok(Some(
            NetlinkMessage::deserialize(&bytes).unwrap_or_else(|e| undecodable(sequence, port, &e)),
        ))
    }

    fn encode<T>(msg: NetlinkMessage<T>, buf: &mut BytesMut) -> io::Result<()>
    where
        T: NetlinkSerializable + Debug,
    {
        rtnetlink::proto::NetlinkCodec::encode(msg, buf)
    }
}

fn undecodable<T>(sequence: u32, port: u32, error: &dyn std::fmt::Display) -> NetlinkMessage<T> {
    let mut header = NetlinkHeader::default();
    header.message_type = NLMSG_OVERRUN;
    header.sequence_number = sequence;
    header.port_number = port;
    let text = format!("undecodable netlink message: {error}");
    NetlinkMessage::new(header, NetlinkPayload::Overrun(text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A netlink message: header with `kind` and `sequence`, then `body`.
    fn message(kind: u16, sequence: u32, body: &[u8]) -> Vec<u8> {
        let len = u32::try_from(16 + body.len()).unwrap();
        let mut bytes = [len.to_ne_bytes(), [0; 4], sequence.to_ne_bytes(), [0; 4]].concat();
        bytes[4..6].copy_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn undecodable_messages_become_overruns_with_their_sequence() {
        const RTM_NEWLINK: u16 = 16;
        const NLMSG_DONE: u16 = 3;
        // An RTM_NEWLINK too short for its ifinfomsg, then a valid DONE.
        let mut src = BytesMut::from(
            &[
                message(RTM_NEWLINK, 7, &[0; 4]),
                message(NLMSG_DONE, 8, &[0; 4]),
            ]
            .concat()[..],
        );
        let bad = Codec::decode::<RouteNetlinkMessage>(&mut src)
            .unwrap()
            .unwrap();
        assert_eq!(bad.header.sequence_number, 7);
        assert!(matches!(bad.payload, NetlinkPayload::Overrun(ref text) if !text.is_empty()));
        let done = Codec::decode::<RouteNetlinkMessage>(&mut src)
            .unwrap()
            .unwrap();
        assert!(matches!(done.payload, NetlinkPayload::Done(_)), "{done:?}");
        assert!(
            Codec::decode::<RouteNetlinkMessage>(&mut src)
                .unwrap()
                .is_none()
        );
        // Garbage that is not even a header.
        let mut src = BytesMut::from(&[1u8, 2, 3][..]);
        let lost = Codec::decode::<RouteNetlinkMessage>(&mut src)
            .unwrap()
            .unwrap();
        assert!(matches!(lost.payload, NetlinkPayload::Overrun(_)) && src.is_empty());
    }
}
