//! Reading ping's summary.

/// What a ping run reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingStats {
    /// Echo requests sent.
    pub transmitted: u32,
    /// Echo replies received.
    pub received: u32,
}

impl PingStats {
    /// Parses the summary line of iputils or busybox ping
    /// (`3 packets transmitted, 3 received, 0% packet loss, time 2003ms`).
    pub fn parse(output: &str) -> Option<Self> {
        let line = output.lines().find(|l| l.contains("packets transmitted"))?;
        let mut fields = line.split(',').map(str::trim);
        let number = |field: Option<&str>| field?.split_whitespace().next()?.parse().ok();
        Some(PingStats {
            transmitted: number(fields.next())?,
            received: number(fields.next())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iputils_and_busybox() {
        let iputils = "PING 198.18.0.2 (198.18.0.2) 56(84) bytes of data.\n\
            64 bytes from 198.18.0.2: icmp_seq=1 ttl=64 time=0.05 ms\n\n\
            --- 198.18.0.2 ping statistics ---\n\
            3 packets transmitted, 2 received, 33.3333% packet loss, time 401ms\n";
        assert_eq!(
            PingStats::parse(iputils),
            Some(PingStats {
                transmitted: 3,
                received: 2
            })
        );
        let busybox = "3 packets transmitted, 3 packets received, 0% packet loss\n";
        assert_eq!(
            PingStats::parse(busybox),
            Some(PingStats {
                transmitted: 3,
                received: 3
            })
        );
        let errors = "2 packets transmitted, 0 received, +2 errors, 100% packet loss\n";
        assert_eq!(
            PingStats::parse(errors),
            Some(PingStats {
                transmitted: 2,
                received: 0
            })
        );
        assert_eq!(PingStats::parse("connect: Network is unreachable"), None);
    }
}
