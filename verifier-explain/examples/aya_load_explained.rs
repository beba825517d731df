//! An aya loader that explains the verifier's refusal at source level instead of printing
//! its raw log: `aya_load_explained OBJECT.bpf.o PROGRAM` loads the XDP program PROGRAM and,
//! when the kernel refuses it, prints the error's ID, the source line and the fix, and exits 1.

use anyhow::{Context as _, bail};
use aya::programs::Xdp;
use aya::{EbpfLoader, VerifierLogLevel};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(name)) = (args.next(), args.next()) else {
        bail!("usage: aya_load_explained OBJECT.bpf.o PROGRAM");
    };
    let object = std::fs::read(&path).with_context(|| format!("cannot read {path}"))?;
    // A verbose log lets the explanation name registers after the source's variables.
    let mut ebpf = EbpfLoader::new()
        .verifier_log_level(VerifierLogLevel::VERBOSE)
        .load(&object)
        .with_context(|| format!("cannot open {path}"))?;
    let program: &mut Xdp = ebpf
        .program_mut(&name)
        .with_context(|| format!("{path} has no program {name}"))?
        .try_into()?;
    let Err(error) = program.load() else {
        println!("{name}: accepted");
        return Ok(());
    };
    // None: not the verifier's refusal (a missing privilege, say); aya's error says what.
    let Some(explained) = verifier_explain::explain_load_error(&object, &name, &error) else {
        return Err(error).with_context(|| format!("cannot load {name}"));
    };
    let line = explained.location.as_ref().map(|l| l.line);
    println!("{name}: rejected: {} ({})", explained.id, explained.title);
    println!(
        "  at line {}: {}",
        line.unwrap_or_default(),
        explained.cause
    );
    println!("  fix: {}", explained.fix.summary);
    if let Some(code) = &explained.fix.code {
        println!("{code}");
    }
    std::process::exit(1);
}
