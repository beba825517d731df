//! Keys to state changes, and the key scripts of headless runs.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{App, Mode};
use crate::tui::events::{Step, parse_step};

/// Applies one key press.
pub fn on_key(app: &mut App, key: KeyEvent) {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Raw mode turns Ctrl-C into a key: it always quits.
    if ctrl && key.code == KeyCode::Char('c') {
        app.quit = true;
        return;
    }
    app.status = None;
    if app.mode == Mode::Help {
        app.mode = Mode::Normal;
        return;
    }
    let page = app.page.max(1) as isize;
    match key.code {
        KeyCode::Char('q') => app.quit = true,
        // Esc closes the history first, then quits.
        KeyCode::Esc if app.show_history => app.toggle_history(),
        KeyCode::Esc => app.quit = true,
        KeyCode::Char('?') => app.mode = Mode::Help,
        KeyCode::Up | KeyCode::Char('k') => app.move_by(-1),
        KeyCode::Down | KeyCode::Char('j') => app.move_by(1),
        KeyCode::PageUp => app.move_by(-page),
        KeyCode::PageDown => app.move_by(page),
        KeyCode::Home | KeyCode::Char('g') => app.move_to_end(false),
        KeyCode::End | KeyCode::Char('G') => app.move_to_end(true),
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

/// The key names a script may use.
pub const KEY_NAMES: &str = "single characters (e, n, p, h, 0-9, a, q, ?, j, k, g, G), up, down, \
    pageup, pagedown, home, end, tab, esc, enter, ctrl-c; separated by commas or spaces";

/// Splits a key script (`e,h,1` or `e h 1`) into key names, each checked.
pub fn parse_keys(script: &str) -> anyhow::Result<Vec<String>> {
    let keys: Vec<String> = script
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    for k in &keys {
        key_events(k)?;
    }
    Ok(keys)
}

/// The key presses one script name stands for.
pub fn key_events(name: &str) -> anyhow::Result<Vec<KeyEvent>> {
    match parse_step(name) {
        Ok(Step::Key(k)) => Ok(vec![k]),
        Ok(Step::Text(t)) => Ok(t
            .chars()
            .map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
            .collect()),
        Ok(Step::Wait(_)) => Ok(Vec::new()),
        Err(_) => anyhow::bail!("unknown key `{name}` in --keys; keys are {KEY_NAMES}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_on_commas_and_spaces() {
        assert_eq!(parse_keys("e,h,1").unwrap(), ["e", "h", "1"]);
        assert_eq!(parse_keys(" e  n, p ,tab").unwrap(), ["e", "n", "p", "tab"]);
        assert!(
            parse_keys("e,sideways")
                .unwrap_err()
                .to_string()
                .contains("sideways")
        );
        assert_eq!(
            key_events("tab").unwrap(),
            [KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)]
        );
    }
}
