//! Keys to state changes.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::state::{App, Mode};
use crate::tui::kit::nav;

/// Applies one key press.
pub fn on_key(app: &mut App, key: KeyEvent) {
    if nav::is_interrupt(&key) {
        app.quit = true;
        return;
    }
    app.status = None;
    if app.mode == Mode::Help {
        app.mode = Mode::Normal;
        return;
    }
    if let Some(delta) = nav::movement(&key, app.page) {
        app.move_by(delta);
        return;
    }
    match key.code {
        KeyCode::Char('q') => app.quit = true,
        // Esc closes the history first, then quits.
        KeyCode::Esc if app.show_history => app.toggle_history(),
        KeyCode::Esc => app.quit = true,
        KeyCode::Char('?') => app.mode = Mode::Help,
        KeyCode::Char('e') => app.goto_error(),
        KeyCode::Char('n') => app.path_step(true),
        KeyCode::Char('p') => app.path_step(false),
        KeyCode::Char('h') => app.toggle_history(),
        KeyCode::Char(c @ '0'..='9') => app.pick_register(c as u8 - b'0'),
        KeyCode::Char('a') => app.pick_register(10),
        KeyCode::Tab => app.switch_program(true),
        KeyCode::BackTab => app.switch_program(false),
        _ => {}
    }
}
