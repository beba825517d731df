//! What labs 5 to 8 set up around the attendee: a netlab lab named after the lab (`ws5`: its
//! namespaces are `xl-ws5-h1`, ..., `xl-ws5-sw`), programs attached to a host's interface with
//! iproute2 (so they live exactly as long as the namespace), traffic running inside the lab, and
//! the project's binaries (`xdpdbg`, `switch-ctl`) found next to `lab` or on the PATH.
//!
//! Everything lives inside the lab's namespaces, so netlab's teardown removes all of it, on
//! every path: Ctrl-C while a lab is being built included.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, anyhow, bail};
use bpf_sys::{MapFd, ProgFd};
use netlab::{Lab, LabSpec};

/// Whether lab `number` sets up something that stays until `lab down` (a network, with
/// programs and processes in it): labs 5 to 8. Labs 1 to 4 only load the attendee's program
/// while `lab check` runs.
pub fn runs_something(number: u8) -> bool {
    number >= 5
}

/// The netlab id of lab `number`'s network.
pub fn lab_id(number: u8) -> String {
    format!("ws{number}")
}

/// The namespace of `node` (`h1`, `sw`) in lab `number`'s network.
pub fn netns(number: u8, node: &str) -> String {
    format!("{}{}-{node}", netlab::NAMESPACE_PREFIX, lab_id(number))
}

/// Builds lab `number`'s network afresh (an older one is removed first) with `hosts` hosts.
/// The returned lab is still owned: it is torn down if the process is interrupted before
/// [`Lab::detach`].
pub fn build(number: u8, hosts: usize, bridge_nf_call: Option<bool>) -> anyhow::Result<Lab> {
    remove(number)?;
    let mut spec = LabSpec::new(hosts).name(lab_id(number)).ipv6(false);
    if let Some(on) = bridge_nf_call {
        spec = spec.bridge_nf_call(on);
    }
    spec.build()
        .with_context(|| format!("building lab {number}'s network"))
}

/// Lab `number`'s network, if it is up.
pub fn open(number: u8) -> anyhow::Result<Option<Lab>> {
    match Lab::open(&lab_id(number)) {
        Ok(lab) => Ok(Some(lab)),
        Err(netlab::Error::UnknownLab(_)) => Ok(None),
        Err(e) => Err(e).with_context(|| format!("opening lab {number}'s network")),
    }
}

/// Lab `number`'s network, or an error saying to start the lab.
pub fn require(number: u8) -> anyhow::Result<Lab> {
    open(number)?.ok_or_else(|| {
        anyhow!(
            "lab {number}'s network is not up (namespaces {}...): run `lab start {number}` first",
            netns(number, "h1")
        )
    })
}

/// Removes lab `number`'s network (its namespaces, and with them every program attached and
/// process running inside), also when its state file is gone. Says what it removed.
pub fn remove(number: u8) -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    if let Some(lab) = open(number)? {
        removed.extend(lab.info().namespaces());
        lab.teardown()
            .with_context(|| format!("removing lab {number}'s network"))?;
    }
    let prefix = format!("{}{}-", netlab::NAMESPACE_PREFIX, lab_id(number));
    for ns in netlab::orphan_namespaces()? {
        if ns.starts_with(&prefix) {
            netlab::netns::delete(&ns).with_context(|| format!("removing namespace {ns}"))?;
            removed.push(ns);
        }
    }
    Ok(removed)
}

/// Attaches the XDP program `section`'s program of `object` to `node`'s eth0 in generic mode,
/// with iproute2 (`ip -n NS link set dev eth0 xdpgeneric obj ...`), and returns its id.
pub fn attach_xdp(lab: &Lab, node: &str, object: &Path) -> anyhow::Result<u32> {
    let ns = lab.netns(node)?.to_string();
    let out = Command::new("ip")
        .args(["-n", &ns, "link", "set", "dev", "eth0", "xdpgeneric", "obj"])
        .arg(object)
        .args(["sec", "xdp"])
        .output()
        .context("running ip (install iproute2)")?;
    if !out.status.success() {
        bail!(
            "attaching {} to {node}'s eth0: {}",
            object.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    attached_prog(lab, node)?.ok_or_else(|| anyhow!("ip attached no program to {node}'s eth0"))
}

/// The id of the XDP program attached to `node`'s eth0, if any.
pub fn attached_prog(lab: &Lab, node: &str) -> anyhow::Result<Option<u32>> {
    let json = lab
        .exec_ok(node, &["ip", "-j", "link", "show", "dev", "eth0"])
        .with_context(|| format!("reading {node}'s eth0"))?;
    let links: serde_json::Value = serde_json::from_str(&json).context("ip -j link show")?;
    Ok(links[0]["xdp"]["prog"]["id"].as_u64().map(|id| id as u32))
}

/// The map called `name` of the loaded program `prog_id`.
pub fn prog_map(prog_id: u32, name: &str) -> anyhow::Result<MapFd> {
    let prog = ProgFd::from_id(prog_id).with_context(|| format!("opening program {prog_id}"))?;
    for map_id in prog.info()?.map_ids {
        let map = MapFd::from_id(map_id)?;
        if map.info()?.name == name {
            return Ok(map);
        }
    }
    bail!("program {prog_id} has no map called {name}")
}

/// Starts `argv` inside `node` in the background, in a session of its own, output discarded;
/// it runs until the lab is removed (netlab kills what runs inside a lab at teardown).
pub fn spawn_background(lab: &Lab, node: &str, argv: &[&str]) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt as _;
    let (program, args) = argv.split_first().context("an empty command")?;
    let mut cmd = lab.command(node, program)?;
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    cmd.spawn()
        .with_context(|| format!("starting {} in {node}", argv.join(" ")))?;
    Ok(())
}

/// The project binary `name` (`xdpdbg`, `switch-ctl`): next to this `lab` binary when it is
/// there (a `cargo build` puts them side by side), else as found on the PATH.
pub fn tool(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The PATH for scripts the labs run (the attendee's ager, the solutions): this binary's folder
/// first, so `xdpdbg` and `switch-ctl` are the ones built with it.
pub fn script_path() -> String {
    let own = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    let rest = std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    match own {
        Some(dir) => format!("{}:{rest}", dir.display()),
        None => rest,
    }
}
