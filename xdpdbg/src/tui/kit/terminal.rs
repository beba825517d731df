//! Taking the terminal over and giving it back on every way out.
//!
//! [`TerminalGuard`] switches to raw mode and the alternate screen and restores both when
//! dropped (a return or an error), and from a panic hook before the panic message is printed.
//! [`stop_on_signals`] turns SIGTERM and SIGHUP (a closed terminal) into a flag the event loop
//! checks, so those end a screen like `q` and the guard restores the terminal on the way out.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use ratatui::crossterm::{cursor, execute, terminal};

/// True while the terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Raw mode and the alternate screen, restored when dropped, and by a panic hook before the
/// panic message is printed (which it chains to).
pub struct TerminalGuard {
    previous: Arc<Mutex<Option<Hook>>>,
}

/// Leaves raw mode and the alternate screen, once.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        // Raw mode first: it has more effect on the shell than the screen does.
        let _ = terminal::disable_raw_mode();
        let _ = execute!(
            std::io::stdout(),
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
    }
}

impl TerminalGuard {
    /// Installs the panic hook, then switches to raw mode and the alternate screen.
    pub fn enter() -> anyhow::Result<Self> {
        let previous: Arc<Mutex<Option<Hook>>> =
            Arc::new(Mutex::new(Some(std::panic::take_hook())));
        let chained = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            restore();
            if let Ok(hook) = chained.lock()
                && let Some(hook) = hook.as_ref()
            {
                hook(info);
            }
        }));
        let guard = Self { previous };
        ACTIVE.store(true, Ordering::SeqCst);
        terminal::enable_raw_mode().context("switching the terminal to raw mode")?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            terminal::Clear(terminal::ClearType::All),
            cursor::Hide
        )
        .context("switching to the alternate screen")?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        // Put the previous panic hook back (not possible while panicking, nor needed: the
        // chained hook already ran).
        if !std::thread::panicking()
            && let Ok(mut slot) = self.previous.lock()
            && let Some(hook) = slot.take()
        {
            let _ = std::panic::take_hook();
            std::panic::set_hook(hook);
        }
    }
}

/// A flag set by SIGTERM or SIGHUP, for the event loop to end on.
pub fn stop_on_signals() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    Ok(stop)
}
