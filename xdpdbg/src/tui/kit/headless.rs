//! Headless runs: a key script played on an in-memory screen, each screen kept as text.
//!
//! Tests and demos use it instead of a terminal. The screen is drawn without colors
//! ([`Theme::PLAIN`]), so what a test reads is what a person would see. After each step the
//! screen is kept with the key name that led to it (the first one with `start`); a run prints
//! the last screen on stdout, or writes them all to a file, each under `=== frame N: KEY ===`.
//! A `wait:MS` step lets the time pass with the screen's periodic work ([`Screen::tick`]) done
//! whenever it is due, as on a terminal. With a screenshot file, the run is drawn in color and
//! its last screen is also written as an SVG picture ([`super::svg`]), as the docs show it.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::Screen;
use super::keys::{self, Step};
use super::theme::Theme;

/// A scripted run without a terminal.
#[derive(Debug, Clone)]
pub struct Headless {
    /// Key names, played in order, with the screen drawn after each (see
    /// [`keys::KEY_NAMES`]; [`keys::parse_script`] reads them from one string).
    pub keys: Vec<String>,
    /// Screen width in columns.
    pub width: u16,
    /// Screen height in rows.
    pub height: u16,
    /// Where to write every screen; when `None`, only the last screen is printed on stdout.
    pub frames_out: Option<PathBuf>,
    /// Where to write the last screen as an SVG picture, in color.
    pub screenshot: Option<PathBuf>,
}

impl Default for Headless {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            width: 120,
            height: 40,
            frames_out: None,
            screenshot: None,
        }
    }
}

/// One screen of a headless run: the key name that led to it, and its text.
pub type Shot = (String, String);

/// Reads a screen size written `COLUMNSxROWS` (`120x40`).
pub fn parse_size(text: &str) -> anyhow::Result<(u16, u16)> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .with_context(|| format!("`{text}` is not a size; write COLUMNSxROWS, as in 120x40"))?;
    let parse = |s: &str, what: &str| -> anyhow::Result<u16> {
        match s.trim().parse::<u16>() {
            Ok(n) if (10..=1000).contains(&n) => Ok(n),
            _ => bail!("`{text}`: the {what} must be a number from 10 to 1000"),
        }
    };
    Ok((parse(w, "width")?, parse(h, "height")?))
}

/// A screen as plain text, one line per row, trailing spaces removed.
pub fn text_of(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        for x in area.left()..area.right() {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Plays `names` (key names) on `screen` in a `width` × `height` in-memory terminal; returns
/// the first screen and one after each step, until the script ends or the screen quits.
pub fn play(
    screen: &mut dyn Screen,
    width: u16,
    height: u16,
    names: &[String],
) -> anyhow::Result<Vec<Shot>> {
    Ok(play_in(screen, width, height, names, &Theme::PLAIN)?.0)
}

/// [`play`], drawn with `theme`; also returns the last frame's cells, styles included.
pub fn play_in(
    screen: &mut dyn Screen,
    width: u16,
    height: u16,
    names: &[String],
    theme: &Theme,
) -> anyhow::Result<(Vec<Shot>, Buffer)> {
    let steps = names
        .iter()
        .map(|k| keys::parse_step(k).map(|s| (k.as_str(), s)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    let mut last_tick = Instant::now();
    let mut shots = Vec::new();
    let mut shoot = |label: &str, screen: &mut dyn Screen| -> anyhow::Result<()> {
        screen.fit(width, height);
        terminal.draw(|f| screen.draw(f, theme))?;
        shots.push((label.to_string(), text_of(terminal.backend().buffer())));
        Ok(())
    };
    shoot("start", screen)?;
    for (label, step) in steps {
        if screen.quit() {
            break;
        }
        for key in step.key_events() {
            screen.on_key(key);
        }
        if let Step::Wait(ms) = step {
            // A live screen keeps its periodic work up during a long wait, as on a terminal
            // (a profiler must read its sample rings before they fill).
            let end = Instant::now() + Duration::from_millis(ms);
            while let Some(left) = end.checked_duration_since(Instant::now()) {
                let Some(period) = screen.tick_period() else {
                    std::thread::sleep(left);
                    break;
                };
                std::thread::sleep(period.saturating_sub(last_tick.elapsed()).min(left));
                if last_tick.elapsed() >= period && Instant::now() < end {
                    last_tick = Instant::now();
                    screen.tick();
                }
            }
        }
        if let Some(period) = screen.tick_period()
            && last_tick.elapsed() >= period
        {
            last_tick = Instant::now();
            screen.tick();
        }
        shoot(label, screen)?;
    }
    Ok((shots, terminal.backend().buffer().clone()))
}

/// Plays `script` on `screen`; prints the last screen on stdout, or writes every screen to
/// the script's `frames_out`.
pub fn run(screen: &mut dyn Screen, script: &Headless) -> anyhow::Result<()> {
    // A picture is in color; the text stays the same (screens say in words what colors say).
    let theme = match script.screenshot {
        Some(_) => Theme { color: true },
        None => Theme::PLAIN,
    };
    let (shots, last) = play_in(screen, script.width, script.height, &script.keys, &theme)?;
    if let Some(path) = &script.screenshot {
        let title = shots
            .last()
            .and_then(|(_, s)| s.lines().next())
            .unwrap_or_default()
            .trim();
        std::fs::write(path, super::svg::render(&last, title))
            .with_context(|| format!("writing the screenshot {}", path.display()))?;
    }
    match &script.frames_out {
        Some(path) => {
            let mut text = String::new();
            for (i, (label, screen)) in shots.iter().enumerate() {
                text.push_str(&format!("=== frame {i}: {label} ===\n{screen}"));
            }
            std::fs::write(path, text)
                .with_context(|| format!("writing the screens to {}", path.display()))?;
        }
        None => {
            let last = shots.last().map(|(_, s)| s.as_str()).unwrap_or_default();
            let mut out = std::io::stdout().lock();
            out.write_all(last.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts its ticks, every 10 ms.
    struct Ticker(u32);

    impl Screen for Ticker {
        fn draw(&self, _: &mut ratatui::Frame, _: &Theme) {}
        fn on_key(&mut self, _: ratatui::crossterm::event::KeyEvent) {}
        fn tick_period(&self) -> Option<Duration> {
            Some(Duration::from_millis(10))
        }
        fn tick(&mut self) {
            self.0 += 1;
        }
        fn quit(&self) -> bool {
            false
        }
    }

    #[test]
    fn a_wait_ticks_a_live_screen_when_due() {
        let mut screen = Ticker(0);
        let shots = play(&mut screen, 20, 5, &["wait:200".to_string()]).unwrap();
        assert_eq!(shots.len(), 2);
        assert!(screen.0 >= 5, "ticked {} times in 200 ms", screen.0);
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("120x40").unwrap(), (120, 40));
        assert!(parse_size("120").is_err());
        assert!(parse_size("5x40").is_err());
    }
}
