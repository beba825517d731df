//! `xdpdbg lab`: network labs for experiments, tests and workshops.

use anyhow::{Context as _, bail};
use netlab::{Lab, LabInfo, LabSpec};
use std::process::ExitCode;
use xdpdbg::output::{self, FAIL, OK, WARN};

/// The `lab` subcommands.
#[derive(clap::Subcommand)]
pub enum LabCommand {
    /// Build a lab: N hosts (h1, h2, ...) wired to a bridge in a switch namespace (sw)
    #[command(
        after_help = "Examples:\n  xdpdbg lab up\n  xdpdbg lab up --name demo --hosts 4 --mtu 9000\n  \
xdpdbg lab up --hold        # torn down again on Ctrl-C"
    )]
    Up(UpArgs),
    /// Run a command inside a lab node (h1, h2, ..., or sw for the switch)
    #[command(after_help = "Examples:\n  xdpdbg lab exec h1 -- ping -c 3 h2\n  \
xdpdbg lab exec sw -- bridge fdb show br br0\n  xdpdbg lab exec --lab demo h2 -- iperf3 -s -1")]
    Exec(ExecArgs),
    /// Remove a lab (or all of them, or those whose owner died)
    #[command(after_help = "Examples:\n  xdpdbg lab down demo\n  xdpdbg lab down --all")]
    Down(DownArgs),
    /// List the labs on this machine
    List(ListArgs),
}

/// Options of `lab up`.
#[derive(clap::Args)]
pub struct UpArgs {
    /// Name of the lab (namespaces become xl-NAME-sw, xl-NAME-h1, ...); generated if absent
    #[arg(long)]
    name: Option<String>,
    /// Number of hosts
    #[arg(long, default_value_t = 3)]
    hosts: usize,
    /// Name of the bridge in the switch namespace
    #[arg(long, default_value = "br0")]
    bridge: String,
    /// MTU of every link and of the bridge
    #[arg(long)]
    mtu: Option<u32>,
    /// Give hosts no IPv6 addresses
    #[arg(long)]
    no_ipv6: bool,
    /// Give the bridge the address 198.18.0.254 (host name `sw`)
    #[arg(long)]
    bridge_address: bool,
    /// Set net.bridge.bridge-nf-call-* in the switch namespace (default: the kernel's)
    #[arg(long)]
    bridge_nf_call: Option<bool>,
    /// Keep the lab only while this command runs: Ctrl-C (or SIGTERM) tears it down
    #[arg(long)]
    hold: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Options of `lab exec`.
#[derive(clap::Args)]
pub struct ExecArgs {
    /// The lab (needed only when there is more than one)
    #[arg(long)]
    lab: Option<String>,
    /// The node: h1, h2, ..., or sw
    node: String,
    /// The command and its arguments
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// Options of `lab down`.
#[derive(clap::Args)]
pub struct DownArgs {
    /// The lab (needed only when there is more than one)
    #[arg(conflicts_with_all = ["all", "stale"])]
    lab: Option<String>,
    /// Remove every lab, and namespaces left by labs whose state was lost
    #[arg(long)]
    all: bool,
    /// Remove labs whose owning process died without tearing them down
    #[arg(long)]
    stale: bool,
}

/// Options of `lab list`.
#[derive(clap::Args)]
pub struct ListArgs {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Runs a `lab` subcommand.
pub fn run(command: LabCommand) -> anyhow::Result<ExitCode> {
    match command {
        LabCommand::Up(args) => up(&args),
        LabCommand::Exec(args) => exec(&args),
        LabCommand::Down(args) => down(&args),
        LabCommand::List(args) => list(&args),
    }
}

fn up(args: &UpArgs) -> anyhow::Result<ExitCode> {
    let mut spec = LabSpec::new(args.hosts)
        .bridge(&args.bridge)
        .ipv6(!args.no_ipv6)
        .bridge_address(args.bridge_address);
    if let Some(name) = &args.name {
        spec = spec.name(name);
    }
    if let Some(mtu) = args.mtu {
        spec = spec.mtu(mtu);
    }
    if let Some(on) = args.bridge_nf_call {
        spec = spec.bridge_nf_call(on);
    }
    let lab = spec.build().context("cannot build the lab")?;
    if args.hold {
        describe(lab.info(), args.json)?;
        // On stderr, so `--json` output stays one JSON document.
        anstream::eprintln!("Holding lab {}: press Ctrl-C to tear it down.", lab.id());
        // The lab's signal handler tears it down and ends the process.
        loop {
            std::thread::park();
        }
    }
    let info = lab.detach().context("cannot detach the lab")?;
    describe(&info, args.json)?;
    if !args.json {
        anstream::println!(
            "Try:    xdpdbg lab exec {}h1 -- ping -c 3 h2\nRemove: xdpdbg lab down {}",
            lab_flag(&info.id),
            info.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--lab ID ` unless this is the only lab, so the printed hint works as typed.
fn lab_flag(id: &str) -> String {
    match netlab::list_labs() {
        Ok(labs) if labs.len() == 1 => String::new(),
        _ => format!("--lab {id} "),
    }
}

fn describe(info: &LabInfo, json: bool) -> anyhow::Result<()> {
    if json {
        return output::json(info);
    }
    anstream::println!(
        "{} lab {} is up: {} hosts, bridge {} in namespace {}",
        output::styled(OK, "✓"),
        info.id,
        info.hosts.len(),
        info.bridge,
        info.switch_netns
    );
    let mut rows = vec![
        [
            "node",
            "namespace",
            "interface",
            "mac",
            "ipv4",
            "ipv6",
            "bridge port",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for h in &info.hosts {
        rows.push(vec![
            h.name.clone(),
            h.netns.clone(),
            h.ifname.clone(),
            h.mac.clone(),
            h.ipv4.to_string(),
            h.ipv6.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
            h.port.clone(),
        ]);
    }
    rows.push(vec![
        netlab::SWITCH_NODE.into(),
        info.switch_netns.clone(),
        info.bridge.clone(),
        "-".into(),
        info.bridge_ipv4
            .map(|a| a.to_string())
            .unwrap_or_else(|| "-".into()),
        "-".into(),
        "-".into(),
    ]);
    anstream::print!("{}", output::table(&rows));
    Ok(())
}

/// The lab `id`, or the only lab there is.
fn resolve(id: Option<&str>) -> anyhow::Result<Lab> {
    if let Some(id) = id {
        return Ok(Lab::open(id)?);
    }
    let labs = netlab::list_labs()?;
    match labs.as_slice() {
        [] => bail!("there is no lab; build one with `xdpdbg lab up`"),
        [only] => Ok(Lab::open(&only.id)?),
        many => {
            let ids: Vec<&str> = many.iter().map(|l| l.id.as_str()).collect();
            bail!(
                "there are {} labs ({}); pick one with --lab ID",
                many.len(),
                ids.join(", ")
            )
        }
    }
}

fn exec(args: &ExecArgs) -> anyhow::Result<ExitCode> {
    let lab = resolve(args.lab.as_deref())?;
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let status = lab
        .command(&args.node, program)?
        .args(rest)
        .status()
        .context("cannot run `ip netns exec` (install iproute2)")?;
    // Pass the command's own status on; a command killed by a signal reports 128 + signal.
    let code = status
        .code()
        .or_else(|| std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s))
        .unwrap_or(1);
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

fn down(args: &DownArgs) -> anyhow::Result<ExitCode> {
    let mut targets: Vec<LabInfo> = Vec::new();
    if args.all || args.stale {
        targets = netlab::list_labs()?
            .into_iter()
            .filter(|l| args.all || l.is_stale())
            .collect();
    } else {
        targets.push(resolve(args.lab.as_deref())?.info().clone());
    }
    if args.all {
        for path in netlab::remove_corrupt_states() {
            anstream::println!(
                "{} removed corrupt state file {}",
                output::styled(OK, "✓"),
                path.display()
            );
        }
    }
    let orphans = if args.all || args.stale {
        netlab::orphan_namespaces()?
    } else {
        Vec::new()
    };
    if targets.is_empty() && orphans.is_empty() {
        anstream::println!("nothing to remove");
        return Ok(ExitCode::SUCCESS);
    }
    // Remove all that can be removed, then report what could not.
    let mut failures = 0;
    for info in targets {
        if let Some(pid) = info.owner_pid.filter(|_| !info.is_stale()) {
            anstream::println!(
                "{} lab {} belongs to running process {pid}, which will find it gone",
                output::styled(WARN, "!"),
                info.id
            );
        }
        match Lab::open(&info.id).and_then(Lab::teardown) {
            Ok(()) => anstream::println!("{} removed lab {}", output::styled(OK, "✓"), info.id),
            Err(e) => {
                failures += 1;
                anstream::eprintln!("{} lab {}: {e}", output::styled(FAIL, "✗"), info.id);
            }
        }
    }
    for ns in orphans {
        match netlab::netns::delete(&ns) {
            Ok(()) => anstream::println!(
                "{} removed leftover namespace {ns}",
                output::styled(OK, "✓")
            ),
            Err(e) => {
                failures += 1;
                anstream::eprintln!("{} namespace {ns}: {e}", output::styled(FAIL, "✗"));
            }
        }
    }
    if failures > 0 {
        bail!("{failures} could not be removed");
    }
    Ok(ExitCode::SUCCESS)
}

fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let labs = netlab::list_labs()?;
    if args.json {
        output::json(&labs)?;
        return Ok(ExitCode::SUCCESS);
    }
    if labs.is_empty() {
        anstream::println!("no labs (build one with `xdpdbg lab up`)");
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        ["lab", "hosts", "bridge", "owner"]
            .map(String::from)
            .to_vec(),
    ];
    for l in &labs {
        let owner = match l.owner_pid {
            None => "detached".to_string(),
            Some(pid) if l.is_stale() => format!("pid {pid} (dead: `xdpdbg lab down --stale`)"),
            Some(pid) => format!("pid {pid}"),
        };
        rows.push(vec![
            l.id.clone(),
            l.hosts.len().to_string(),
            l.bridge.clone(),
            owner,
        ]);
    }
    anstream::print!("{}", output::table(&rows));
    Ok(ExitCode::SUCCESS)
}
