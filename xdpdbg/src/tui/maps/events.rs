//! Keys to state changes.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{Action, App, Focus, Mode};
use crate::tui::kit::nav;

/// Applies one key press; returns what the kernel must do, if anything.
pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Action> {
    if nav::is_interrupt(&key) {
        app.quit = true;
        return None;
    }
    // A new key press replaces the last message (errors stay until then).
    if !matches!(app.mode, Mode::Help | Mode::Detail) {
        app.status = None;
    }
    match app.mode.clone() {
        Mode::Normal => normal(app, key),
        Mode::Help | Mode::Detail => {
            app.mode = Mode::Normal;
            None
        }
        Mode::ConfirmDelete { key: k, key_text } => {
            app.mode = Mode::Normal;
            match (key.code, &app.open) {
                (KeyCode::Char('y' | 'Y'), Some(v)) => Some(Action::Delete {
                    id: v.set.id,
                    key: k,
                }),
                _ => {
                    app.info(format!("kept key {key_text}"));
                    None
                }
            }
        }
        Mode::Search { input, previous } => {
            match edit_line(input, key) {
                Line::Typing(input) => {
                    app.set_search(&input);
                    app.mode = Mode::Search { input, previous };
                }
                Line::Done(_) => app.mode = Mode::Normal,
                Line::Cancelled => {
                    app.set_search(&previous);
                    app.mode = Mode::Normal;
                }
            }
            None
        }
        Mode::Filter { input } => {
            match edit_line(input, key) {
                Line::Typing(input) => app.mode = Mode::Filter { input },
                Line::Done(text) => {
                    app.mode = Mode::Normal;
                    app.set_filter(&text);
                }
                Line::Cancelled => app.mode = Mode::Normal,
            }
            None
        }
        Mode::Edit {
            key: k,
            key_text,
            input,
        } => match edit_line(input, key) {
            Line::Typing(input) => {
                app.mode = Mode::Edit {
                    key: k,
                    key_text,
                    input,
                };
                None
            }
            Line::Done(text) => {
                app.mode = Mode::Normal;
                let id = app.open.as_ref()?.set.id;
                Some(Action::Edit { id, key: k, text })
            }
            Line::Cancelled => {
                app.mode = Mode::Normal;
                app.info(format!("key {key_text} left as it was"));
                None
            }
        },
    }
}

fn normal(app: &mut App, key: KeyEvent) -> Option<Action> {
    if let Some(delta) = nav::movement(&key, app.page) {
        app.move_by(delta);
        return None;
    }
    match key.code {
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Char('?') => app.mode = Mode::Help,
        KeyCode::Enter => match app.focus {
            Focus::Maps => return app.selected_map().map(|m| Action::Open(m.id)),
            Focus::Entries => {
                if app.open.as_ref().is_some_and(|v| v.current().is_some()) {
                    app.mode = Mode::Detail;
                }
            }
        },
        KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') => match app.focus {
            Focus::Entries => {
                app.close();
                return Some(Action::RefreshMaps);
            }
            Focus::Maps if !app.map_search.is_empty() && key.code == KeyCode::Esc => {
                app.set_search("");
            }
            Focus::Maps => {}
        },
        KeyCode::Right | KeyCode::Char('l') if app.focus == Focus::Maps => {
            return app.selected_map().map(|m| Action::Open(m.id));
        }
        KeyCode::Char('/') => {
            let previous = app.search().to_string();
            app.mode = Mode::Search {
                input: previous.clone(),
                previous,
            };
        }
        KeyCode::Char('f') => match &app.open {
            Some(v) if app.focus == Focus::Entries => {
                let input = v
                    .filter
                    .as_ref()
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default();
                app.mode = Mode::Filter { input };
            }
            _ => app.error("f filters a map's entries: open a map with Enter first"),
        },
        KeyCode::Char('e') => app.start_edit(),
        KeyCode::Char('d') => app.start_delete(),
        KeyCode::Char('r') => {
            app.recount();
            return Some(app.refresh_action());
        }
        KeyCode::Char('p') => {
            app.paused = !app.paused;
            if app.paused {
                app.info("live refresh paused (p resumes, r refreshes once)");
            } else {
                app.info("live refresh resumed");
            }
        }
        _ => {}
    }
    None
}

enum Line {
    Typing(String),
    Done(String),
    Cancelled,
}

/// One key applied to an input line.
fn edit_line(mut input: String, key: KeyEvent) -> Line {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Enter => return Line::Done(input),
        KeyCode::Esc => return Line::Cancelled,
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Char('u') if ctrl => input.clear(),
        KeyCode::Char('w') if ctrl => {
            let kept = input.trim_end().rfind([' ', ',']).map_or(0, |i| i + 1);
            input.truncate(kept);
        }
        KeyCode::Char(c) if !ctrl => input.push(c),
        _ => {}
    }
    Line::Typing(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::kit::keys::parse_step;
    use crate::tui::maps::state::tests::{set, summary};

    /// Presses the keys of one script name; returns what the last one asked for.
    fn press(app: &mut App, name: &str) -> Option<Action> {
        let mut last = None;
        for k in parse_step(name).unwrap().key_events() {
            last = on_key(app, k);
        }
        last
    }

    fn listed() -> App {
        let mut app = App::new(1000);
        app.set_maps(Ok(vec![
            summary(4, "counts", "hash"),
            summary(9, "fdb", "hash"),
        ]));
        app
    }

    #[test]
    fn search_types_live_and_esc_restores() {
        let mut app = listed();
        press(&mut app, "/");
        press(&mut app, "text:fd");
        assert_eq!(app.visible_maps, [1]);
        press(&mut app, "esc");
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.visible_maps, [0, 1]);
        press(&mut app, "/");
        press(&mut app, "text:fdx");
        press(&mut app, "backspace");
        assert_eq!(press(&mut app, "enter"), None);
        assert_eq!(app.map_search, "fd");
        assert_eq!(press(&mut app, "enter"), Some(Action::Open(9)));
        // Esc on the list clears its search.
        press(&mut app, "esc");
        assert_eq!(app.map_search, "");
    }

    #[test]
    fn delete_needs_yes_and_edit_is_prefilled() {
        let mut app = listed();
        app.set_entries(Ok(set(4, &[(1, "aa"), (2, "bb")])));
        press(&mut app, "down");
        press(&mut app, "d");
        assert!(matches!(app.mode, Mode::ConfirmDelete { .. }));
        assert_eq!(press(&mut app, "n"), None);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.status.as_ref().unwrap().1, "kept key 2");
        press(&mut app, "d");
        assert_eq!(
            press(&mut app, "y"),
            Some(Action::Delete {
                id: 4,
                key: 2u32.to_ne_bytes().to_vec()
            })
        );
        press(&mut app, "e");
        let Mode::Edit { input, .. } = &app.mode else {
            panic!("not editing: {:?}", app.mode)
        };
        assert_eq!(input, "bb");
        press(&mut app, "ctrl-u");
        press(&mut app, "text:cc");
        assert_eq!(
            press(&mut app, "enter"),
            Some(Action::Edit {
                id: 4,
                key: 2u32.to_ne_bytes().to_vec(),
                text: "cc".into()
            })
        );
    }

    #[test]
    fn commands_outside_a_map_explain_themselves() {
        let mut app = listed();
        for k in ["d", "e", "f"] {
            assert_eq!(press(&mut app, k), None);
            assert!(
                app.status.as_ref().unwrap().1.contains("open a map"),
                "{k}: {:?}",
                app.status
            );
        }
        assert_eq!(press(&mut app, "r"), Some(Action::RefreshMaps));
        press(&mut app, "p");
        assert!(app.paused);
        press(&mut app, "?");
        assert_eq!(app.mode, Mode::Help);
        press(&mut app, "q");
        assert!(!app.quit, "q closes the help first");
        press(&mut app, "ctrl-c");
        assert!(app.quit);
    }

    #[test]
    fn esc_goes_back_to_the_list() {
        let mut app = listed();
        app.set_entries(Ok(set(4, &[(1, "aa")])));
        assert_eq!(press(&mut app, "r"), Some(Action::RefreshEntries(4)));
        press(&mut app, "enter");
        assert_eq!(app.mode, Mode::Detail);
        press(&mut app, "esc");
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(press(&mut app, "esc"), Some(Action::RefreshMaps));
        assert!(app.open.is_none());
        assert_eq!(app.focus, Focus::Maps);
    }
}
