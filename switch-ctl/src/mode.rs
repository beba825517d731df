//! Port modes: how each port's fast path is attached, and how `auto` chooses.
//!
//! `auto` must never break traffic. The decision table (docs/switch.md has the measurements
//! behind it):
//!
//! | the port                          | `auto` picks | why                                                     |
//! |-----------------------------------|--------------|---------------------------------------------------------|
//! | a veth                            | `tc`         | its peer may send locally generated TCP/UDP with partial checksums: native XDP would forward them unfinished (measured: every datagram dropped at the receiver), generic XDP refuses GSO frames; TC keeps checksum and GSO state |
//! | a driver with native XDP          | `xdp`        | frames from the wire carry complete checksums           |
//! | anything else                     | `tc`         | no native XDP; generic XDP would refuse GSO frames      |
//!
//! Whatever the mode, XDP frames are redirected only to ports that take redirected frames
//! (`NETDEV_XDP_ACT_NDO_XMIT`); frames for any other port go to the bridge.

use crate::netlink::xdp_features::XdpFeatures;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the operator asked for a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requested {
    /// Let switch-ctl choose (the decision table above).
    #[default]
    Auto,
    /// Native XDP.
    Xdp,
    /// Generic (skb) XDP.
    XdpGeneric,
    /// TC clsact ingress.
    Tc,
    /// No fast path in or out of this port.
    Off,
}

/// How a port's fast path is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Native XDP.
    Xdp,
    /// Generic (skb) XDP.
    XdpGeneric,
    /// TC ingress.
    Tc,
}

impl Mode {
    /// The name used in output and options.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Xdp => "xdp",
            Mode::XdpGeneric => "xdp-generic",
            Mode::Tc => "tc",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Requested {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => Requested::Auto,
            "xdp" => Requested::Xdp,
            "xdp-generic" => Requested::XdpGeneric,
            "tc" => Requested::Tc,
            "off" => Requested::Off,
            _ => {
                return Err(format!(
                    "unknown port mode `{s}`: use auto, xdp, xdp-generic, tc or off"
                ));
            }
        })
    }
}

/// A per-port override, `PORT=MODE` on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortOverride {
    /// The port's interface name.
    pub port: String,
    /// Its mode.
    pub mode: Requested,
}

impl FromStr for PortOverride {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (port, mode) = s
            .split_once('=')
            .ok_or_else(|| format!("`{s}` is not PORT=MODE (for example `eth1=xdp`)"))?;
        if port.is_empty() {
            return Err(format!("`{s}` names no port"));
        }
        Ok(PortOverride {
            port: port.into(),
            mode: mode.parse()?,
        })
    }
}

/// What a port is, as far as the choice goes.
#[derive(Debug, Clone, Copy)]
pub struct PortKind<'a> {
    /// `IFLA_INFO_KIND` ("veth", ...), if any.
    pub kind: Option<&'a str>,
    /// Its XDP features, if the kernel reported them.
    pub features: Option<XdpFeatures>,
}

/// The mode for a port (None: no fast path) and the reason, in words for `status`.
pub fn choose(requested: Requested, port: PortKind<'_>) -> (Option<Mode>, String) {
    match requested {
        Requested::Off => (None, "mode off: left to the bridge".into()),
        Requested::Xdp => (Some(Mode::Xdp), "mode xdp requested".into()),
        Requested::XdpGeneric => (Some(Mode::XdpGeneric), "mode xdp-generic requested".into()),
        Requested::Tc => (Some(Mode::Tc), "mode tc requested".into()),
        Requested::Auto if port.kind == Some("veth") => (
            Some(Mode::Tc),
            "auto: veth, whose peer may send partial checksums that native XDP would forward \
             unfinished; TC keeps them"
                .into(),
        ),
        Requested::Auto if port.features.is_some_and(|f| f.basic()) => {
            (Some(Mode::Xdp), "auto: the driver has native XDP".into())
        }
        Requested::Auto => (
            Some(Mode::Tc),
            "auto: no native XDP in the driver (generic XDP would refuse GSO frames)".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_never_puts_xdp_on_a_veth() {
        let native = Some(XdpFeatures(0x7f));
        let veth = PortKind {
            kind: Some("veth"),
            features: native,
        };
        assert_eq!(choose(Requested::Auto, veth).0, Some(Mode::Tc));
        let nic = PortKind {
            kind: None,
            features: native,
        };
        assert_eq!(choose(Requested::Auto, nic).0, Some(Mode::Xdp));
        let dummy = PortKind {
            kind: Some("dummy"),
            features: Some(XdpFeatures(0)),
        };
        assert_eq!(choose(Requested::Auto, dummy).0, Some(Mode::Tc));
        assert_eq!(choose(Requested::Xdp, veth).0, Some(Mode::Xdp));
        assert_eq!(choose(Requested::Off, veth).0, None);
    }

    #[test]
    fn overrides_parse_with_reasons() {
        let o: PortOverride = "p1=xdp-generic".parse().unwrap();
        assert_eq!(o.mode, Requested::XdpGeneric);
        assert!(
            "p1".parse::<PortOverride>()
                .unwrap_err()
                .contains("PORT=MODE")
        );
        assert!(
            "p1=fast"
                .parse::<PortOverride>()
                .unwrap_err()
                .contains("unknown port mode")
        );
    }
}
