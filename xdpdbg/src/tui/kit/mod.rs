//! The TUI kit: what every screen of the toolkit shares, so a screen holds only its own code.
//!
//! - [`Screen`]: what a screen is to the event loop (draw, handle a key, tick, quit).
//! - [`run`]: the event loop, on the terminal or headless. On a terminal it restores the
//!   terminal on every way out: return, error, panic, SIGTERM and SIGHUP ([`terminal`]).
//! - [`headless`]: a key script played on an in-memory screen, for tests and demos, and
//!   [`keys`], the one key-script grammar every screen's `--keys` reads; [`svg`], the last
//!   screen as a picture (`--screenshot`, for the docs).
//! - [`theme`]: colors and emphasis, `NO_COLOR` respected; [`nav`]: the navigation keys and
//!   scrolling; [`chrome`]: the title bar, key hints and help popup.
//!
//! # Adding a screen
//!
//! Copy a sibling folder: `maps/` for a live screen that reads the kernel on a refresh period,
//! `explain/` for a screen over data loaded once. Split it like them (and like bpftop):
//!
//! 1. `state.rs`: everything the screen shows and every change to it; no terminal, no kernel.
//! 2. `events.rs`: keys to changes. Start with [`nav::is_interrupt`] (quit) and
//!    [`nav::movement`] (the navigation keys), then the screen's own keys.
//! 3. `draw.rs`: the state drawn with a [`Theme`], its title with [`chrome::title_bar`], hints
//!    with [`chrome::hints`], help with [`chrome::help`]. Say in text what colors say:
//!    headless screens have none.
//! 4. `data.rs`, when the screen reads something: behind a trait, so tests use a fake.
//! 5. `mod.rs`: a type that implements [`Screen`] over the state (and its data), and a
//!    `run` that calls [`run`].
//!
//! Then declare the folder in `tui/mod.rs` (`pub mod top;`) and add its subcommand in
//! `src/cmd/`, which parses `--keys` with [`keys::parse_script`] into a [`Headless`]. Nothing in
//! the kit or in the other screens changes.

pub mod chrome;
pub mod headless;
mod interactive;
pub mod keys;
pub mod nav;
pub mod svg;
pub mod terminal;
pub mod theme;

use std::time::Duration;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;

pub use headless::Headless;
pub use theme::Theme;

/// A screen, as the event loop drives it.
pub trait Screen {
    /// Called before each draw with the screen's size, to fit page sizes and fetch what the
    /// next frame shows.
    fn fit(&mut self, _width: u16, _height: u16) {}

    /// Draws the whole screen; changes nothing.
    fn draw(&self, frame: &mut Frame, theme: &Theme);

    /// Handles one key press.
    fn on_key(&mut self, key: KeyEvent);

    /// How often [`Screen::tick`] runs; `None` (the default) for screens without periodic work.
    fn tick_period(&self) -> Option<Duration> {
        None
    }

    /// Periodic work (a live refresh), every [`Screen::tick_period`].
    fn tick(&mut self) {}

    /// True once the user has quit.
    fn quit(&self) -> bool;
}

/// Runs `screen` until it quits: headless when `headless` is given (see [`headless::run`]),
/// else on the terminal, failing with `no_terminal` when stdout is not one.
pub fn run(
    screen: &mut dyn Screen,
    headless: Option<&Headless>,
    no_terminal: &str,
) -> anyhow::Result<()> {
    match headless {
        Some(script) => headless::run(screen, script),
        None => interactive::run(screen, no_terminal),
    }
}
