//! Navigation: the keys every screen moves its selection with, and where a list scrolls.
//!
//! ↑ ↓ (and j k) move one row, PgUp PgDn a page, Home End (and g G) to an end; Ctrl-C always
//! quits (raw mode turns it into a key). A screen matches [`movement`] first and gives the
//! other keys their own meanings.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Ctrl-C: quits from anywhere, whatever the screen is doing.
pub fn is_interrupt(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

/// Rows a navigation key moves the selection (`page` for a page key, `isize::MIN` / `MAX` to
/// the first / last row); `None` for other keys.
pub fn movement(key: &KeyEvent, page: usize) -> Option<isize> {
    let page = isize::try_from(page.max(1)).unwrap_or(isize::MAX);
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => Some(-1),
        KeyCode::Down | KeyCode::Char('j') => Some(1),
        KeyCode::PageUp => Some(-page),
        KeyCode::PageDown => Some(page),
        KeyCode::Home | KeyCode::Char('g') => Some(isize::MIN),
        KeyCode::End | KeyCode::Char('G') => Some(isize::MAX),
        _ => None,
    }
}

/// Row `selected` moved by `delta` in a list of `len` rows, clamped to it (0 when empty).
pub fn moved(selected: usize, len: usize, delta: isize) -> usize {
    if len == 0 {
        return 0;
    }
    selected.saturating_add_signed(delta).min(len - 1)
}

/// The first row to show so that row `selected` is in sight in `height` rows, scrolling as
/// little as possible (the selection sits on the last row once the list scrolls).
pub fn first_row_in_sight(selected: usize, height: usize) -> usize {
    if height == 0 {
        0
    } else {
        (selected + 1).saturating_sub(height)
    }
}

/// The first row to show so that row `selected` sits mid-screen when it can, in `height` rows
/// of a list of `total`.
pub fn first_row_centered(selected: usize, total: usize, height: usize) -> usize {
    selected
        .saturating_sub(height / 2)
        .min(total.saturating_sub(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn keys_move_and_moves_clamp() {
        assert_eq!(movement(&key(KeyCode::Char('j')), 10), Some(1));
        assert_eq!(movement(&key(KeyCode::PageUp), 10), Some(-10));
        assert_eq!(movement(&key(KeyCode::PageDown), 0), Some(1));
        assert_eq!(movement(&key(KeyCode::Char('G')), 10), Some(isize::MAX));
        assert_eq!(movement(&key(KeyCode::Char('x')), 10), None);
        assert!(is_interrupt(&KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL
        )));
        assert!(!is_interrupt(&key(KeyCode::Char('c'))));
        assert_eq!(moved(3, 5, isize::MAX), 4);
        assert_eq!(moved(3, 5, isize::MIN), 0);
        assert_eq!(moved(3, 0, 1), 0);
        assert_eq!(first_row_in_sight(12, 10), 3);
        assert_eq!(first_row_in_sight(2, 10), 0);
        assert_eq!(first_row_centered(12, 40, 10), 7);
        assert_eq!(first_row_centered(38, 40, 10), 30);
    }
}
