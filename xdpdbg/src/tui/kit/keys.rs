//! The key-script grammar of headless runs, the one every screen reads.
//!
//! A script is key names separated by whitespace; single or double quotes group, so typed text
//! may hold spaces and commas (`/ text:counts enter`, `e ctrl-u "text:port=80, name=eth0" enter`).
//! A name is one of [`KEY_NAMES`]: one character, a named key, `ctrl-<letter>`, `text:` and
//! the characters to type, or `wait:` and milliseconds to let pass (a live screen refreshes
//! when due).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The key names a script may use, for help texts and errors.
pub const KEY_NAMES: &str = "any single character (q, /, f, e, d, y, n, p, h, 0-9, ?, j, k, ...), \
    enter, esc, up, down, left, right, pageup, pagedown, home, end, tab, backtab, backspace, \
    space, ctrl-<letter> (ctrl-c, ctrl-u), text:<characters to type>, wait:<milliseconds>; \
    separated by spaces, quotes group (\"text:a b\")";

/// Why a key script was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// A quote opened and never closed.
    #[error("the key script has an unclosed quote: {0}")]
    UnclosedQuote(String),
    /// A name that is not a key.
    #[error("unknown key `{0}`; keys are {KEY_NAMES}")]
    UnknownKey(String),
    /// `wait:` without a number of milliseconds.
    #[error("`{0}`: wait takes milliseconds, as in wait:1500")]
    BadWait(String),
}

/// One step of a scripted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A key press.
    Key(KeyEvent),
    /// Each character typed as a key press.
    Text(String),
    /// Let this many milliseconds pass (a live screen refreshes when due).
    Wait(u64),
}

impl Step {
    /// The key presses this step stands for (none for a wait).
    pub fn key_events(&self) -> Vec<KeyEvent> {
        match self {
            Step::Key(k) => vec![*k],
            Step::Text(t) => t
                .chars()
                .map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
                .collect(),
            Step::Wait(_) => Vec::new(),
        }
    }
}

/// Reads one key name (see [`KEY_NAMES`]).
pub fn parse_step(name: &str) -> Result<Step, ScriptError> {
    if let Some(text) = name.strip_prefix("text:") {
        return Ok(Step::Text(text.to_string()));
    }
    if let Some(ms) = name.strip_prefix("wait:") {
        return ms
            .parse()
            .map(Step::Wait)
            .map_err(|_| ScriptError::BadWait(name.to_string()));
    }
    let plain = |code| Ok(Step::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return plain(KeyCode::Char(c));
    }
    let lower = name.to_lowercase();
    if let Some(rest) = lower.strip_prefix("ctrl-") {
        let mut chars = rest.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(Step::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::CONTROL,
            )));
        }
    }
    match lower.as_str() {
        "enter" | "return" => plain(KeyCode::Enter),
        "esc" | "escape" => plain(KeyCode::Esc),
        "up" => plain(KeyCode::Up),
        "down" => plain(KeyCode::Down),
        "left" => plain(KeyCode::Left),
        "right" => plain(KeyCode::Right),
        "pageup" | "pgup" => plain(KeyCode::PageUp),
        "pagedown" | "pgdn" => plain(KeyCode::PageDown),
        "home" => plain(KeyCode::Home),
        "end" => plain(KeyCode::End),
        "tab" => plain(KeyCode::Tab),
        "backtab" | "shift-tab" => plain(KeyCode::BackTab),
        "backspace" => plain(KeyCode::Backspace),
        "space" => plain(KeyCode::Char(' ')),
        _ => Err(ScriptError::UnknownKey(name.to_string())),
    }
}

/// Splits a script into key names, each checked: whitespace separates them, single or double
/// quotes group (`text:"a = 1"` types `a = 1`).
pub fn parse_script(script: &str) -> Result<Vec<String>, ScriptError> {
    let mut keys = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut started = false;
    for c in script.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started {
                    keys.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            (None, c) => {
                cur.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return Err(ScriptError::UnclosedQuote(script.to_string()));
    }
    if started {
        keys.push(cur);
    }
    for k in &keys {
        parse_step(k)?;
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert_eq!(
            parse_step("enter").unwrap(),
            Step::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        );
        assert_eq!(
            parse_step("ctrl-c").unwrap(),
            Step::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        );
        assert_eq!(
            parse_step("/").unwrap(),
            Step::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE))
        );
        assert_eq!(parse_step("text:a b").unwrap(), Step::Text("a b".into()));
        assert_eq!(parse_step("wait:1500").unwrap(), Step::Wait(1500));
        assert!(
            parse_step("wait:soon")
                .unwrap_err()
                .to_string()
                .contains("milliseconds")
        );
        assert!(
            parse_step("hyper")
                .unwrap_err()
                .to_string()
                .contains("unknown key `hyper`")
        );
    }

    #[test]
    fn scripts_split_on_whitespace_and_quotes_group() {
        assert_eq!(
            parse_script("down  enter text:\"a = 1\" 'text:x y' wait:10").unwrap(),
            ["down", "enter", "text:a = 1", "text:x y", "wait:10"]
        );
        assert!(parse_script("text:\"open").is_err());
        assert!(
            parse_script("down sideways")
                .unwrap_err()
                .to_string()
                .contains("sideways")
        );
    }

    /// The explorer's scripts (they were separated by commas before the grammar was one).
    #[test]
    fn explorer_scripts_split_on_spaces() {
        assert_eq!(parse_script("e h 1").unwrap(), ["e", "h", "1"]);
        assert_eq!(
            parse_script(" e  n  p tab").unwrap(),
            ["e", "n", "p", "tab"]
        );
        assert!(
            parse_script("e sideways")
                .unwrap_err()
                .to_string()
                .contains("sideways")
        );
        assert_eq!(
            parse_step("tab").unwrap().key_events(),
            [KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)]
        );
    }
}
