//! Teardown on every path: the registry of this process's live labs, and the signal handler that
//! tears them down before the process dies of SIGINT, SIGTERM, SIGHUP or SIGQUIT.

use crate::state::LabInfo;
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
