//! rtnetlink notifications (RTNLGRP_LINK and RTNLGRP_NEIGH) as typed events.

use futures::{StreamExt as _, channel::mpsc::UnboundedReceiver};
use rtnetlink::{
    packet_core::{NetlinkMessage, NetlinkPayload},
    packet_route::{AddressFamily, RouteNetlinkMessage},
    sys::SocketAddr,
};

use super::{FdbEntry, Link, Netlink};

/// A change in the kernel's bridge state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A link appeared or changed (RTM_NEWLINK). Always complete: a bridge-port change, which
    /// the kernel reports in an AF_BRIDGE message without the typed port data, is read back
    /// with [`Netlink::link`].
    Link(Link),
    /// A link is gone (RTM_DELLINK, AF_UNSPEC).
    LinkRemoved {
        /// Its ifindex.
        ifindex: u32,
    },
    /// A port left its bridge, or is being deleted (RTM_DELLINK, AF_BRIDGE). Deletions of its
    /// FDB entries follow.
    PortRemoved {
        /// The port's ifindex.
        ifindex: u32,
    },
    /// A bridge FDB entry appeared or changed (RTM_NEWNEIGH, AF_BRIDGE, with a master).
    Fdb(FdbEntry),
    /// A bridge FDB entry is gone (RTM_DELNEIGH, AF_BRIDGE, with a master).
    FdbRemoved(FdbEntry),
    /// Notifications were lost: the socket overflowed (ENOBUFS), or one could not be decoded
    /// or completed. Everything must be dumped again, now. The notifications received before
    /// this one are dropped: they are older than that dump, which shows their effect, and
    /// applied after it they could undo newer state.
    Overrun,
}

/// The notifications of the current network namespace, as [`Event`]s. Subscribed when
/// [`Netlink::open`] returns; unread notifications queue without bound in memory once read
/// off the socket, and an overflow of the socket itself shows as [`Event::Overrun`].
#[derive(Debug)]
pub struct Events {
    messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    netlink: Netlink,
    /// Work taken off the channel whose event is not out yet. Kept here, not in the future,
    /// so that [`Events::next`] is cancel-safe: a caller's `select!` may drop it at any await.
    pending: Option<Pending>,
}

/// A notification read but not yet turned into an event.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// An AF_BRIDGE RTM_NEWLINK: the link must be read again.
    Link(u32),
    /// The socket overflowed: what was received so far must be dropped.
    Overrun,
}

impl Events {
    pub(crate) fn new(
        messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
        netlink: Netlink,
    ) -> Self {
        Events {
            messages,
            netlink,
            pending: None,
        }
    }

    /// The next event; None when the connection closed. Cancel-safe: dropping the future
    /// (in a `select!`) loses nothing.
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(pending) = self.pending {
                let event = match pending {
                    Pending::Link(ifindex) => match self.netlink.link(ifindex).await {
                        Ok(link) => link.map(Event::Link), // gone: its DELLINK follows
                        Err(_) => Some(Event::Overrun),
                    },
                    Pending::Overrun => {
                        self.discard_received().await;
                        Some(Event::Overrun)
                    }
                };
                self.pending = None;
                match event {
                    Some(event) => return Some(event),
                    None => continue,
                }
            }
            let (message, _) = self.messages.next().await?;
            if let Some(event) = self.interpret(message) {
                return Some(event);
            }
        }
    }

    /// Drops every notification received so far, including those the connection can still
    /// read off the socket without waiting.
    async fn discard_received(&mut self) {
        loop {
            while self.messages.try_recv().is_ok() {}
            tokio::task::yield_now().await; // the connection reads what the socket holds
            if self.messages.try_recv().is_err() {
                return;
            }
        }
    }

    /// The event a notification means, if it means one.
    fn interpret(&mut self, message: NetlinkMessage<RouteNetlinkMessage>) -> Option<Event> {
        use RouteNetlinkMessage::*;
        let message = match message.payload {
            NetlinkPayload::InnerMessage(m) => m,
            NetlinkPayload::Overrun(_) => {
                self.pending = Some(Pending::Overrun);
                return None;
            }
            _ => return None,
        };
        let bridge_family = |family| family == AddressFamily::Bridge;
        match message {
            NewLink(l) if bridge_family(l.header.interface_family) => {
                self.pending = Some(Pending::Link(l.header.index));
                None
            }
            NewLink(l) => Some(
                Link::from_message("link notification", &l).map_or(Event::Overrun, Event::Link),
            ),
            DelLink(l) if bridge_family(l.header.interface_family) => Some(Event::PortRemoved {
                ifindex: l.header.index,
            }),
            DelLink(l) => Some(Event::LinkRemoved {
                ifindex: l.header.index,
            }),
            NewNeighbour(n) => FdbEntry::from_message(&n).map(Event::Fdb),
            DelNeighbour(n) => FdbEntry::from_message(&n).map(Event::FdbRemoved),
            _ => None,
        }
    }
}
