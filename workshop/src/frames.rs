//! Test frames for `BPF_PROG_TEST_RUN`: Ethernet, IPv4 and a UDP, TCP or ICMP header, built
//! byte by byte (the programs under test read headers, never checksums).

use std::net::Ipv4Addr;

const ETH_P_IP: u16 = 0x0800;
const ETH_P_ARP: u16 = 0x0806;

/// TCP flags of a test segment.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
}

fn ethernet(proto: u16) -> Vec<u8> {
    let mut f = vec![0x02, 0x1a, 0xb0, 0, 0, 2, 0x02, 0x1a, 0xb0, 0, 0, 1];
    f.extend_from_slice(&proto.to_be_bytes());
    f
}

fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, l4_len: usize) -> Vec<u8> {
    let total = (20 + l4_len) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h
}

/// An Ethernet frame carrying an IPv4 UDP datagram.
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut f = ethernet(ETH_P_IP);
    f.extend(ipv4(src, dst, 17, len));
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&(len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// An Ethernet frame carrying an IPv4 TCP segment without options or payload.
pub fn tcp(src: Ipv4Addr, dst: Ipv4Addr, dport: u16, flags: TcpFlags) -> Vec<u8> {
    let mut f = ethernet(ETH_P_IP);
    f.extend(ipv4(src, dst, 6, 20));
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    let bits = (flags.syn as u8) << 1 | (flags.ack as u8) << 4;
    f.extend_from_slice(&[5 << 4, bits, 0xff, 0xff, 0, 0, 0, 0]);
    f
}

/// An Ethernet frame carrying an IPv4 ICMP echo request.
pub fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut f = ethernet(ETH_P_IP);
    f.extend(ipv4(src, dst, 1, 16));
    f.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
    f.extend_from_slice(&[0x61; 8]);
    f
}

/// An ARP request (not IPv4: every lab's program must let it pass).
pub fn arp() -> Vec<u8> {
    let mut f = ethernet(ETH_P_ARP);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend_from_slice(&[0x02, 0x1a, 0xb0, 0, 0, 1, 198, 18, 0, 1]);
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 198, 18, 0, 2]);
    f
}

/// `frame` cut to its first `len` bytes (a truncated packet).
pub fn truncated(mut frame: Vec<u8>, len: usize) -> Vec<u8> {
    frame.truncate(len);
    frame
}
