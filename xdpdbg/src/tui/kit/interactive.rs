//! The event loop on a real terminal.

use std::io::IsTerminal as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::terminal;

use super::Screen;
use super::terminal::{TerminalGuard, stop_on_signals};
use super::theme::Theme;

/// The longest the loop waits for a key before it looks at the stop flag again.
const MAX_WAIT: Duration = Duration::from_millis(200);

/// Runs `screen` on the terminal until it quits, or SIGTERM or SIGHUP arrives; fails with
/// `no_terminal` when stdout is not a terminal.
pub fn run(screen: &mut dyn Screen, no_terminal: &str) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!("{no_terminal}");
    }
    let theme = Theme::from_env();
    // Fit before taking the terminal over: the first screen is complete at once.
    if let Ok((width, height)) = terminal::size() {
        screen.fit(width, height);
    }
    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("setting up the terminal")?;
    let stop = stop_on_signals()?;
    let mut last_tick = Instant::now();
    loop {
        let size = terminal.size()?;
        screen.fit(size.width, size.height);
        terminal.draw(|f| screen.draw(f, &theme))?;
        if screen.quit() || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let period = screen.tick_period();
        let wait = period.map_or(MAX_WAIT, |p| {
            p.saturating_sub(last_tick.elapsed()).min(MAX_WAIT)
        });
        if event::poll(wait)? {
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => screen.on_key(k),
                // Drawing adapts to a new size by itself.
                _ => {}
            }
        }
        if let Some(period) = period
            && last_tick.elapsed() >= period
        {
            last_tick = Instant::now();
            screen.tick();
        }
    }
}
