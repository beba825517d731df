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

/// Removes every namespace of the lab and its state file. Tolerates parts already gone.
pub(crate) fn teardown(info: &LabInfo) -> Result<(), Error> {
    let mut first_error = None;
    for ns in info.namespaces() {
        if let Err(e) = netns::delete(&ns) {
            first_error.get_or_insert(e);
        }
    }
    LabInfo::remove(&info.id);
    first_error.map_or(Ok(()), Err)
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
                    let _no_builds = BUILDING.write().unwrap_or_else(|p| p.into_inner());
                    let labs = std::mem::take(&mut *live());
                    for lab in &labs {
                        eprintln!(
                            "netlab: signal {signal} received, tearing down lab {}",
                            lab.id
                        );
                        if let Err(e) = teardown(lab) {
                            eprintln!("netlab: tearing down lab {}: {e}", lab.id);
                        }
                    }
                    // Die of the signal, as the process would have without us.
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            })
            .expect("spawning the netlab signal thread");
    });
}
