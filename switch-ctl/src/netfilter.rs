//! Whether bridge netfilter is active in this namespace.
//!
//! With `net.bridge.bridge-nf-call-{iptables,ip6tables,arptables}` at 1, bridged frames pass
//! through iptables, ip6tables and arptables. A fast path skips those hooks (XDP and TC both run
//! before them), so it would silently bypass firewall rules: such bridges are left unaccelerated
//! unless the operator says otherwise (`--allow-netfilter`). The sysctls give no notification;
//! the daemon reads them again on every tick.

/// The sysctls that make a bridge call netfilter.
pub const SYSCTLS: [&str; 3] = [
    "bridge-nf-call-iptables",
    "bridge-nf-call-ip6tables",
    "bridge-nf-call-arptables",
];

/// The sysctls set to 1 in the current network namespace (empty: bridge netfilter is off, or
/// br_netfilter is not loaded at all).
pub fn active_hooks() -> Vec<&'static str> {
    SYSCTLS
        .into_iter()
        .filter(|name| {
            std::fs::read_to_string(format!("/proc/sys/net/bridge/{name}"))
                .is_ok_and(|v| v.trim() == "1")
        })
        .collect()
}
