//! `xdpdbg map list`.

use std::process::ExitCode;

use xdpdbg::output;

/// Options of `xdpdbg map list`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  xdpdbg map list\n  xdpdbg map list --json | jq '.[] | select(.type == \"hash\")'"
)]
pub struct Args {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let maps = bpf_maps::inventory::list()?;
    if args.json {
        output::json(&maps)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        [
            "ID", "NAME", "TYPE", "KEY", "VALUE", "ENTRIES", "MEMORY", "FLAGS", "HELD BY", "PINNED",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for m in &maps {
        let mut flags = m.flags.clone();
        if m.frozen {
            flags.push("frozen".into());
        }
        let held: Vec<String> = m
            .programs
            .iter()
            .map(|p| format!("prog {} {}", p.id, p.name))
            .chain(
                m.processes
                    .iter()
                    .map(|p| format!("pid {} {}", p.id, p.name)),
            )
            .collect();
        rows.push(vec![
            m.id.to_string(),
            m.name.clone(),
            m.kind.clone(),
            format!("{}B", m.key_size),
            format!("{}B", m.value_size),
            format!(
                "{}/{}",
                m.entries.map_or("?".into(), |n| n.to_string()),
                m.max_entries
            ),
            m.memory_bytes.map_or("?".into(), human_bytes),
            if flags.is_empty() {
                "-".into()
            } else {
                flags.join(",")
            },
            if held.is_empty() {
                "-".into()
            } else {
                held.join(", ")
            },
            if m.pinned.is_empty() {
                "-".into()
            } else {
                m.pinned
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ]);
    }
    anstream::print!("{}", output::table(&rows));
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1}G", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1}M", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1}K", n as f64 / 1024.0),
        n => format!("{n}B"),
    }
}
