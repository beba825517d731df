//! Attaching XDP programs the device-owned way (IFLA_XDP over rtnetlink).
//!
//! A bpf_link attachment lives only as long as a file descriptor or a pin holds it, and this
//! kernel refuses to pin links (BPF_OBJ_PIN of a link fails with EPERM here). An IFLA_XDP
//! attachment belongs to the device: it outlives the process that made it, which is what lets
//! a daemon killed with -9 leave forwarding working.

use super::{Netlink, NetlinkError};
use rtnetlink::packet_core::NLM_F_ACK;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage, LinkXdp};
use std::os::fd::RawFd;

/// XDP_FLAGS_SKB_MODE: generic XDP.
const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
/// XDP_FLAGS_DRV_MODE: native XDP.
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

impl Netlink {
    /// Attaches the program `prog_fd` to `ifindex` in generic or native mode, replacing the
    /// program attached there in that mode; with `None`, removes it.
    pub async fn set_xdp(
        &self,
        ifindex: u32,
        prog_fd: Option<RawFd>,
        generic: bool,
    ) -> Result<(), NetlinkError> {
        let mut message = LinkMessage::default();
        message.header.index = ifindex;
        let mode = if generic {
            XDP_FLAGS_SKB_MODE
        } else {
            XDP_FLAGS_DRV_MODE
        };
        message.attributes.push(LinkAttribute::Xdp(vec![
            LinkXdp::Fd(prog_fd.unwrap_or(-1)),
            LinkXdp::Flags(mode),
        ]));
        let what = if prog_fd.is_some() {
            "xdp attach"
        } else {
            "xdp detach"
        };
        self.request(what, NLM_F_ACK, RouteNetlinkMessage::SetLink(message))
            .await
            .map(drop)
    }
}
