//! Colors and emphasis, the same for every screen.
//!
//! Without color (`NO_COLOR` set, and always headless) only bold, reverse video and underlines
//! are used, so every screen must also say in its text what its colors say.

use ratatui::style::{Color, Modifier, Style};

/// The styles screens draw with; a screen's own styles are built with [`Theme::pick`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// True to use colors.
    pub color: bool,
}

impl Theme {
    /// Without colors: headless runs, and terminals where `NO_COLOR` is set.
    pub const PLAIN: Theme = Theme { color: false };

    /// Colors unless the `NO_COLOR` environment variable is set to something (no-color.org).
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// `color` when colors are on, else `plain`.
    pub fn pick(&self, color: Style, plain: Style) -> Style {
        if self.color { color } else { plain }
    }

    /// The title bar on the first row.
    pub fn title(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Cyan).bold(),
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        )
    }

    /// The selected row of the pane that has the keyboard.
    pub fn selected(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Cyan),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// The selected row of a pane that does not have the keyboard.
    pub fn selected_unfocused(&self) -> Style {
        self.pick(
            Style::new().bg(Color::DarkGray),
            Style::new().add_modifier(Modifier::UNDERLINED),
        )
    }

    /// A pane's border: marked when the pane has the keyboard.
    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(Color::Cyan),
            (true, false) => Style::new().bold(),
            _ => Style::new(),
        }
    }

    /// Column headers and field names.
    pub fn header(&self) -> Style {
        self.pick(Style::new().fg(Color::Yellow).bold(), Style::new().bold())
    }

    /// Key names (in hints and help) and labels.
    pub fn key(&self) -> Style {
        self.pick(Style::new().fg(Color::Cyan).bold(), Style::new().bold())
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }

    /// An informational message.
    pub fn info(&self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// Something that went well (an accepted program).
    pub fn good(&self) -> Style {
        self.pick(Style::new().fg(Color::Green).bold(), Style::new().bold())
    }

    /// Something that failed.
    pub fn error(&self) -> Style {
        self.pick(Style::new().fg(Color::Red).bold(), Style::new().bold())
    }
}
