//! Everything `xdpdbg top` needs below its user interface: every eBPF program on the machine,
//! its run-time statistics, and sampled profiles down to subprograms, source lines and the
//! helpers those lines call.
//!
//! Modules, in data-flow order:
//! - [`inventory`]: every loaded program (not only ours) with its [`attach`] points (from
//!   links, and from [`netlink_xdp`] for XDP attached without one) and [`owners`] (processes
//!   holding it), and a full-info snapshot of each program taken when first seen;
//! - [`stats`]: run-time statistics on while a guard lives, and per-program rates (runs/s,
//!   ns per run, CPU %, defined there);
//! - [`symbols`]: a program's JIT address map to subprogram and source line (BTF func and line
//!   info), and [`kallsyms`]: kernel symbols for helper names;
//! - [`sampler`]: `perf_event_open` on every online CPU ([`cpus`]), cycles or cpu-clock, with
//!   kernel call chains, read from per-CPU rings;
//! - [`attribute`]: a sample charged to program, subprogram, line and helper;
//! - [`profile`]: the aggregate, with percentages, as a documented serializable schema.
//!
//! [`names`] gives bpftool's names for the kernel's program, attach and link types.
//!
//! A whole profile in a few lines (as root):
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//! use bpf_profile::{attribute::Attributor, inventory::Inventory, kallsyms::KernelSymbols,
//!     profile::Profile, sampler::{Sampler, SamplerConfig}, symbols::ProgramSymbols};
//!
//! let mut inventory = Inventory::new();
//! let snapshot = inventory.refresh()?;
//! let mut attributor = Attributor::new(KernelSymbols::load().ok());
//! for p in &snapshot.programs {
//!     if let Some(syms) = inventory.info(p.id).and_then(|i| ProgramSymbols::build(&i).ok()) {
//!         attributor.add_program(Arc::new(syms));
//!     }
//! }
//! let mut sampler = Sampler::open(SamplerConfig::default())?;
//! let mut profile = Profile::new();
//! let start = Instant::now();
//! while start.elapsed() < Duration::from_secs(5) {
//!     std::thread::sleep(Duration::from_millis(100));
//!     sampler.drain(|record| profile.record(&record, &attributor));
//! }
//! let report = profile.report(&attributor, sampler.event(), sampler.frequency_hz(),
//!     start.elapsed(), sampler.cpus().len() as u32);
//! println!("{}", report.folded());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod attach;
pub mod attribute;
pub mod cpus;
pub mod inventory;
pub mod kallsyms;
pub mod names;
pub mod netlink_xdp;
pub mod owners;
pub mod profile;
pub mod sampler;
pub mod stats;
pub mod symbols;
