//! Keys to state changes.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{Action, App, Graph, Mode, SortKey, View};
use crate::tui::kit::nav;

/// Applies one key press; returns what the kernel must do, if anything.
pub fn on_key(app: &mut App, key: KeyEvent) -> Option<Action> {
    if nav::is_interrupt(&key) {
        app.quit = true;
        return None;
    }
    match app.mode.clone() {
        Mode::Help => {
            app.mode = Mode::Normal;
            None
        }
        Mode::Filter {
            mut input,
            previous,
        } => {
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            match key.code {
                KeyCode::Enter => app.mode = Mode::Normal,
                KeyCode::Esc => {
                    app.set_filter(&previous);
                    app.mode = Mode::Normal;
                }
                KeyCode::Backspace => {
                    input.pop();
                    app.set_filter(&input);
                    app.mode = Mode::Filter { input, previous };
                }
                KeyCode::Char('u') if ctrl => {
                    app.set_filter("");
                    app.mode = Mode::Filter {
                        input: String::new(),
                        previous,
                    };
                }
                KeyCode::Char(c) if !ctrl => {
                    input.push(c);
                    app.set_filter(&input);
                    app.mode = Mode::Filter { input, previous };
                }
                _ => {}
            }
            None
        }
        Mode::Normal => normal(app, key),
    }
}

fn normal(app: &mut App, key: KeyEvent) -> Option<Action> {
    if let Some(delta) = nav::movement(&key, app.page) {
        app.move_by(delta);
        return None;
    }
    app.status = None;
    match key.code {
        KeyCode::Char('q') => app.quit = true,
        KeyCode::Char('?') | KeyCode::F(1) => app.mode = Mode::Help,
        KeyCode::Char('p') => {
            app.paused = !app.paused;
            app.info(if app.paused {
                "paused: figures frozen (p resumes)"
            } else {
                "resumed"
            });
        }
        KeyCode::Char('t') => {
            let on = !app.facts.holds_stats;
            return Some(Action::Stats(on));
        }
        KeyCode::Esc | KeyCode::Left => match app.view {
            View::Profile => return Some(app.close_profile()),
            View::Table if !app.filter.is_empty() => app.set_filter(""),
            View::Table => {}
        },
        _ if app.view == View::Profile => {}
        KeyCode::Enter | KeyCode::Right => {
            let (id, name, gone) = app
                .selected_row()
                .map(|s| (s.row.id, s.row.name.clone(), s.gone_for > 0))?;
            if gone {
                app.error(format!(
                    "program {id} was unloaded: nothing left to profile"
                ));
                return None;
            }
            return Some(app.open_profile(id, name));
        }
        KeyCode::Char('/') => {
            app.mode = Mode::Filter {
                input: app.filter.clone(),
                previous: app.filter.clone(),
            }
        }
        KeyCode::Char('s') | KeyCode::F(6) | KeyCode::Char('>') => {
            app.sort = app.sort.step(true);
            app.arrange();
            app.info(format!("sorted by {}", app.sort.column()));
        }
        KeyCode::Char('S') | KeyCode::Char('<') => {
            app.sort = app.sort.step(false);
            app.arrange();
            app.info(format!("sorted by {}", app.sort.column()));
        }
        KeyCode::Char('r') | KeyCode::Char('I') => {
            app.reverse = !app.reverse;
            app.arrange();
        }
        KeyCode::Char('c') => {
            app.sort = SortKey::Cpu;
            app.arrange();
        }
        KeyCode::Char('n') => {
            app.sort = SortKey::Name;
            app.arrange();
        }
        KeyCode::Char('h') => {
            app.graph = match app.graph {
                Graph::Cpu => Graph::Runs,
                Graph::Runs => Graph::Cpu,
            };
        }
        _ => {}
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::kit::keys::parse_step;
    use crate::tui::top::data::Setup;
    use crate::tui::top::state::tests::{row, table};

    fn press(app: &mut App, name: &str) -> Option<Action> {
        let mut last = None;
        for k in parse_step(name).unwrap().key_events() {
            last = on_key(app, k);
        }
        last
    }

    #[test]
    fn keys_sort_filter_open_and_go_back() {
        let mut app = App::new(1000, Setup::default());
        app.set_table(
            Ok(table(vec![row(1, "alpha", 5.0), row(2, "beta", 20.0)])),
            false,
        );
        press(&mut app, "s");
        assert_eq!(app.sort, SortKey::RunsPerSec);
        press(&mut app, "S");
        assert_eq!(app.sort, SortKey::Cpu);
        press(&mut app, "/");
        press(&mut app, "text:alp");
        assert_eq!(app.visible.len(), 1);
        press(&mut app, "enter");
        assert_eq!(press(&mut app, "enter"), Some(Action::Focus(1)));
        assert_eq!(app.view, View::Profile);
        press(&mut app, "down");
        assert_eq!(app.profile.as_ref().unwrap().scroll, 1);
        assert_eq!(press(&mut app, "esc"), Some(Action::Unfocus));
        assert_eq!(app.view, View::Table);
        press(&mut app, "esc");
        assert_eq!(app.filter, "", "Esc clears the filter");
        assert_eq!(press(&mut app, "t"), Some(Action::Stats(true)));
        press(&mut app, "p");
        assert!(app.paused);
        press(&mut app, "?");
        press(&mut app, "q");
        assert!(!app.quit, "q closes the help first");
        press(&mut app, "q");
        assert!(app.quit);
    }
}
