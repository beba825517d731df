//! What the hand-framed netlink sockets share (generic netlink for xdp-features, nfnetlink
//! for nf_tables): receiving a datagram and reading its attributes, bounds-checked.

use std::io;

use rtnetlink::sys::Socket;

/// The receive buffer of one datagram.
pub(super) const RECV_BUFFER: usize = 64 << 10;

/// The attributes in a buffer, as (type without flags, value), bounds-checked: a malformed
/// one ends the walk with an error.
pub(super) struct Attributes<'a>(pub(super) &'a [u8]);

impl<'a> Iterator for Attributes<'a> {
    type Item = Result<(u16, &'a [u8]), String>;

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = std::mem::take(&mut self.0);
        let [l0, l1, k0, k1, ..] = *bytes else {
            return (!bytes.is_empty()).then(|| {
                Err(format!(
                    "{} stray bytes after the last attribute",
                    bytes.len()
                ))
            });
        };
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let kind = u16::from_ne_bytes([k0, k1]) & rtnetlink::packet_core::NLA_TYPE_MASK;
        let Some(value) = bytes.get(4..len) else {
            return Some(Err(format!(
                "attribute {kind} claims {len} bytes, {} are there",
                bytes.len()
            )));
        };
        self.0 = bytes.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some(Ok((kind, value)))
    }
}

/// Receives one datagram (up to [`RECV_BUFFER`] bytes).
pub(super) fn receive(socket: &Socket) -> io::Result<Vec<u8>> {
    let mut buffer = Vec::with_capacity(RECV_BUFFER);
    socket.recv(&mut buffer, 0)?;
    Ok(buffer)
}
