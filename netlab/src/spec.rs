//! What a lab should look like.

use crate::{Error, Lab};

/// The shape of a lab: how many hosts, which bridge, which options. Build it with
/// [`LabSpec::build`].
#[derive(Debug, Clone)]
pub struct LabSpec {
    pub(crate) hosts: usize,
    pub(crate) name: Option<String>,
    pub(crate) bridge: String,
    pub(crate) mtu: Option<u32>,
    pub(crate) ipv6: bool,
    pub(crate) bridge_address: bool,
    pub(crate) bridge_nf_call: Option<bool>,
}

/// The most hosts a lab can have (one /24 of addresses, less the bridge's).
pub const MAX_HOSTS: usize = 250;

impl LabSpec {
    /// `hosts` hosts (h1, h2, ...) around a bridge `br0`, IPv4 and IPv6 addresses, the kernel's
    /// default MTU and bridge-netfilter settings, and a generated unique name.
    pub fn new(hosts: usize) -> Self {
        LabSpec {
            hosts,
            name: None,
            bridge: "br0".into(),
            mtu: None,
            ipv6: true,
            bridge_address: false,
            bridge_nf_call: None,
        }
    }

    /// Names the lab (its namespaces become `xl-<name>-sw`, `xl-<name>-h1`, ...). Without a
    /// name, a unique one is generated.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Names the bridge (default `br0`).
    pub fn bridge(mut self, name: impl Into<String>) -> Self {
        self.bridge = name.into();
        self
    }

    /// Sets the MTU of every link, the bridge's included.
    pub fn mtu(mut self, mtu: u32) -> Self {
        self.mtu = Some(mtu);
        self
    }

    /// Gives hosts IPv6 addresses too (default: yes).
    pub fn ipv6(mut self, on: bool) -> Self {
        self.ipv6 = on;
        self
    }

    /// Gives the bridge itself an address (198.18.0.254), reachable as `sw` from the hosts.
    pub fn bridge_address(mut self, on: bool) -> Self {
        self.bridge_address = on;
        self
    }

    /// Sets `net.bridge.bridge-nf-call-{iptables,ip6tables,arptables}` in the switch namespace.
    /// Without this the kernel's default for a new namespace applies (1 on this project's
    /// reference machine).
    pub fn bridge_nf_call(mut self, on: bool) -> Self {
        self.bridge_nf_call = Some(on);
        self
    }

    /// Builds the lab. On any error, whatever was created is removed again.
    pub fn build(&self) -> Result<Lab, Error> {
        Lab::build(self)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.hosts == 0 || self.hosts > MAX_HOSTS {
            return Err(Error::InvalidSpec(format!(
                "a lab has 1 to {MAX_HOSTS} hosts, not {}",
                self.hosts
            )));
        }
        if let Some(name) = &self.name {
            validate_name(name)?;
        }
        let bridge_ok = !self.bridge.is_empty()
            && self.bridge.len() <= 15
            && self
                .bridge
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !bridge_ok {
            return Err(Error::InvalidSpec(format!(
                "`{}` is not a valid interface name (1-15 characters: letters, digits, '-', '_')",
                self.bridge
            )));
        }
        if matches!(self.mtu, Some(m) if !(68..=65535).contains(&m)) {
            return Err(Error::InvalidSpec(
                "the MTU must be between 68 and 65535".into(),
            ));
        }
        if self.ipv6 && matches!(self.mtu, Some(m) if m < 1280) {
            return Err(Error::InvalidSpec(
                "IPv6 needs an MTU of at least 1280: raise the MTU or turn IPv6 off".into(),
            ));
        }
        Ok(())
    }
}

/// Checks that `name` can be part of namespace names.
pub(crate) fn validate_name(name: &str) -> Result<(), Error> {
    let ok = (1..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName(name.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_specs_with_reasons() {
        assert!(
            LabSpec::new(0)
                .validate()
                .unwrap_err()
                .to_string()
                .contains("1 to 250")
        );
        assert!(LabSpec::new(251).validate().is_err());
        assert!(LabSpec::new(2).name("Bad Name").validate().is_err());
        assert!(LabSpec::new(2).name("-x").validate().is_err());
        assert!(
            LabSpec::new(2)
                .bridge("a-very-long-bridge")
                .validate()
                .is_err()
        );
        assert!(LabSpec::new(2).mtu(10).validate().is_err());
        assert!(
            LabSpec::new(2)
                .mtu(1000)
                .validate()
                .unwrap_err()
                .to_string()
                .contains("IPv6")
        );
        LabSpec::new(2).mtu(1000).ipv6(false).validate().unwrap();
        LabSpec::new(3).name("demo-1").mtu(9000).validate().unwrap();
    }
}
