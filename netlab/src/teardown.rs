//! Teardown of labs, on every path. Everything that removes a lab lives here:
//!
//! - [`teardown`]: removing one lab's namespaces (each [`netns::delete`] kills the processes
//!   still inside first, so the namespace really goes), then its state file; what
//!   [`Lab::teardown`](crate::Lab::teardown) and dropping a [`Lab`](crate::Lab) (errors and
//!   panics included) run;
//! - the registry of this process's live labs and the signal handler that tears them down
//!   before the process dies of SIGINT, SIGTERM, SIGHUP or SIGQUIT;
//! - leftovers of processes killed with SIGKILL: [`orphan_namespaces`] (namespaces of no known
//!   lab) and [`remove_corrupt_states`] (state files that cannot be read), which
//!   `xdpdbg lab down --stale|--all` removes.

use std::path::PathBuf;

use crate::state::{LabInfo, NAMESPACE_PREFIX, STATE_DIR, list_labs};
use crate::{Error, netns};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use std::sync::{Mutex, MutexGuard, Once, RwLock, RwLockReadGuard};

/// Labs this process owns and has not torn down yet.
static LIVE: Mutex<Vec<LabInfo>> = Mutex::new(Vec::new());
/// Held (shared) while labs are being built, (exclusive) by the signal handler: a signal that
/// arrives mid-build waits for the namespaces to exist, so none is created after teardown.
static BUILDING: RwLock<()> = RwLock::new(());
static HANDLER: Once = Once::new();

/// Keeps the signal handler from tearing down while a lab is half built.
pub(crate) fn building() -> RwLockReadGuard<'static, ()> {
    BUILDING
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn live() -> MutexGuard<'static, Vec<LabInfo>> {
    // A panic while the lock was held must not stop later teardowns.
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts tracking a lab, before any of its namespaces exists.
pub(crate) fn track(info: &LabInfo) {
    install_handler();
    live().push(info.clone());
}

/// Stops tracking a lab (torn down, or detached to outlive the process).
pub(crate) fn untrack(id: &str) {
    live().retain(|l| l.id != id);
}

/// Removes every namespace of the lab, then its state file. Tolerates parts already gone.
///
/// A lab is only torn down while its state file is its own: if the file now holds another lab
/// of the same name (this one was removed with `xdpdbg lab down` and the name reused), nothing
/// is touched. When a namespace cannot be removed the state file stays, so the lab can still be
/// found and removed later.
pub(crate) fn teardown(info: &LabInfo) -> Result<(), Error> {
    match LabInfo::load(&info.id) {
        Ok(on_disk) if on_disk.token != info.token => return Ok(()),
        _ => {}
    }
    let mut first_error = None;
    for ns in info.namespaces() {
        if let Err(e) = netns::delete(&ns) {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        None => {
            LabInfo::remove(&info.id);
            Ok(())
        }
        Some(e) => Err(e),
    }
}

/// What the signal thread does: remove every live lab, report, and die of the signal.
fn on_signal(signal: i32) {
    use std::io::Write as _;
    let _no_builds = BUILDING.write().unwrap_or_else(|p| p.into_inner());
    let labs = std::mem::take(&mut *live());
    for lab in &labs {
        // Tear down first: printing can fail (a hung-up terminal) and must not stop it.
        let result = std::panic::catch_unwind(|| teardown(lab));
        let mut stderr = std::io::stderr();
        let _ = match result {
            Ok(Ok(())) => writeln!(stderr, "netlab: signal {signal}: removed lab {}", lab.id),
            Ok(Err(e)) => writeln!(
                stderr,
                "netlab: signal {signal}: removing lab {}: {e}",
                lab.id
            ),
            Err(_) => writeln!(
                stderr,
                "netlab: signal {signal}: removing lab {} panicked",
                lab.id
            ),
        };
    }
}

fn install_handler() {
    HANDLER.call_once(|| {
        let mut signals = match signal_hook::iterator::Signals::new([
            SIGINT, SIGTERM, SIGHUP, SIGQUIT,
        ]) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "netlab: cannot install signal handlers ({e}); labs are torn down on drop only"
                );
                return;
            }
        };
        std::thread::Builder::new()
            .name("netlab-signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    on_signal(signal);
                    // Die of the signal, as the process would have without us.
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            })
            .expect("spawning the netlab signal thread");
    });
}

/// Namespaces that look like a lab's (`xl-*`) but belong to no lab with a state file: leftovers
/// of a process that was killed with SIGKILL while it built a lab.
pub fn orphan_namespaces() -> Result<Vec<String>, Error> {
    let known: Vec<String> = list_labs()?.iter().flat_map(LabInfo::namespaces).collect();
    let mut orphans: Vec<String> = std::fs::read_dir(crate::netns::NETNS_RUN_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(NAMESPACE_PREFIX) && !known.contains(n))
        .collect();
    orphans.sort();
    Ok(orphans)
}

/// Removes state files that cannot be read as a lab (their namespaces are then orphans, which
/// `xdpdbg lab down --all` removes too). Returns the files removed.
pub fn remove_corrupt_states() -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(STATE_DIR).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".json")
            && matches!(LabInfo::load(id), Err(Error::CorruptState { .. }))
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push(entry.path());
        }
    }
    removed
}
