//! `xdpdbg map` with no arguments: a terminal browser for every map on the system.
//!
//! The left pane lists the maps (id, name, type, entries of capacity); Enter opens one and the
//! right pane shows its entries typed with the map's BTF (hex without it), key → value as
//! compact JSON. `/` searches (maps by name, entries by text), `f` filters entries with a
//! [`bpf_maps::typed::Filter`] expression, `e` edits a value, `d` deletes an entry after a y/n
//! question, `r` refreshes, `p` pauses the live refresh, `Esc` goes back, `?` shows every key,
//! `q` or Ctrl-C quits. Errors, a map that vanishes included, are shown in the status line.
//!
//! The browser is split like bpftop: `state` holds everything and every change (no
//! terminal, no kernel), `events` turns keys into changes, `draw` renders the state, `data`
//! talks to the kernel through [`bpf_maps`]. [`run`] sets the terminal up and restores it
//! on every exit path (return, error, panic); with [`Headless`] it instead plays a script of
//! keys against an in-memory terminal and prints the screens, for tests and demos.

mod data;
mod draw;
mod events;
pub mod explain;
mod state;

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{self, Event, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{cursor, execute, terminal};

pub use events::KEY_NAMES;

use data::{Kernel, Source};
use draw::Theme;
use events::Step;
use state::{Action, App};

/// The default live refresh period.
pub const DEFAULT_REFRESH_MS: u64 = 1000;

/// The shortest live refresh period accepted.
pub const MIN_REFRESH_MS: u64 = 50;

/// How to run the browser.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// Live refresh period in milliseconds (at least [`MIN_REFRESH_MS`]).
    pub refresh_ms: u64,
    /// Play a script against an in-memory terminal instead of using the real one.
    pub headless: Option<Headless>,
}

impl Default for TuiOptions {
    fn default() -> Self {
        Self {
            refresh_ms: DEFAULT_REFRESH_MS,
            headless: None,
        }
    }
}

/// A scripted run without a terminal.
#[derive(Debug, Clone)]
pub struct Headless {
    /// Key names, played in order, with the screen drawn after each (see [`KEY_NAMES`];
    /// [`parse_keys`] reads them from one string).
    pub keys: Vec<String>,
    /// Screen width in columns.
    pub width: u16,
    /// Screen height in rows.
    pub height: u16,
    /// Where to write every screen; when `None`, only the last screen is printed on stdout.
    pub frames_out: Option<PathBuf>,
}

impl Default for Headless {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            width: 120,
            height: 40,
            frames_out: None,
        }
    }
}

/// Runs the browser until the user quits (or, headless, until the script ends or quits).
///
/// Map errors never end it: they are shown in the status line. It fails when the terminal
/// cannot be used: stdout is not a terminal (outside headless runs), or drawing fails.
pub fn run(opts: TuiOptions) -> anyhow::Result<()> {
    if opts.refresh_ms < MIN_REFRESH_MS {
        bail!(
            "a refresh period of {} ms is too short; give at least {MIN_REFRESH_MS} ms",
            opts.refresh_ms
        );
    }
    match opts.headless {
        Some(h) => headless(opts.refresh_ms, &h, &mut Kernel::default()),
        None => interactive(opts.refresh_ms),
    }
}

/// Splits a script of key names: whitespace separates them; single or double quotes group
/// (`text:"a = 1"` types `a = 1`).
pub fn parse_keys(script: &str) -> anyhow::Result<Vec<String>> {
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
        bail!("the key script has an unclosed quote: {script}");
    }
    if started {
        keys.push(cur);
    }
    for k in &keys {
        events::parse_step(k).map_err(anyhow::Error::msg)?;
    }
    Ok(keys)
}

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

/// Performs an action and everything it leads to.
fn perform(app: &mut App, source: &mut dyn Source, action: Action) {
    let mut next = Some(action);
    // A bound, in case a result keeps asking for more.
    for _ in 0..8 {
        let Some(action) = next.take() else { return };
        next = match action {
            Action::RefreshMaps => {
                app.set_maps(source.maps());
                None
            }
            Action::Open(id) | Action::RefreshEntries(id) => app.set_entries(source.entries(id)),
            Action::Delete { id, key } => app.set_done(source.delete(id, &key)),
            Action::Edit { id, key, text } => app.set_done(source.edit(id, &key, &text)),
        };
    }
}

/// Rows a page key moves, for a screen this high.
fn page_for(height: u16) -> usize {
    height.saturating_sub(7).max(1) as usize
}

/// A screen as plain text, one line per row, trailing spaces removed.
pub(crate) fn text_of(buffer: &Buffer) -> String {
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

fn headless(refresh_ms: u64, script: &Headless, source: &mut dyn Source) -> anyhow::Result<()> {
    let steps = script
        .keys
        .iter()
        .map(|k| events::parse_step(k).map(|s| (k.as_str(), s)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    let frames = play(refresh_ms, script.width, script.height, &steps, source)?;
    match &script.frames_out {
        Some(path) => {
            let mut text = String::new();
            for (i, (label, screen)) in frames.iter().enumerate() {
                text.push_str(&format!("=== frame {i}: {label} ===\n{screen}"));
            }
            std::fs::write(path, text)
                .with_context(|| format!("writing the screens to {}", path.display()))?;
        }
        None => {
            let last = frames.last().map(|(_, s)| s.as_str()).unwrap_or_default();
            let mut out = std::io::stdout().lock();
            out.write_all(last.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Plays `steps` against an in-memory screen; returns each screen with what led to it.
fn play(
    refresh_ms: u64,
    width: u16,
    height: u16,
    steps: &[(&str, Step)],
    source: &mut dyn Source,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    let theme = Theme { color: false };
    let period = Duration::from_millis(refresh_ms);
    let mut app = App::new(refresh_ms);
    app.page = page_for(height);
    perform(&mut app, source, Action::RefreshMaps);
    let mut last_refresh = Instant::now();
    let mut frames = Vec::new();
    let mut snap = |label: &str, app: &App, t: &mut Terminal<TestBackend>| -> anyhow::Result<()> {
        t.draw(|f| draw::draw(f, app, &theme))?;
        frames.push((label.to_string(), text_of(t.backend().buffer())));
        Ok(())
    };
    snap("start", &app, &mut terminal)?;
    for (label, step) in steps {
        if app.quit {
            break;
        }
        let keys: Vec<KeyEvent> = match step {
            Step::Key(k) => vec![*k],
            Step::Text(t) => t
                .chars()
                .map(|c| KeyEvent::new(event::KeyCode::Char(c), KeyModifiers::NONE))
                .collect(),
            Step::Wait(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                Vec::new()
            }
        };
        for k in keys {
            if let Some(a) = events::on_key(&mut app, k) {
                perform(&mut app, source, a);
            }
        }
        if last_refresh.elapsed() >= period {
            last_refresh = Instant::now();
            if let Some(a) = app.tick() {
                perform(&mut app, source, a);
            }
        }
        snap(label, &app, &mut terminal)?;
    }
    Ok(frames)
}

fn interactive(refresh_ms: u64) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "the map browser needs a terminal, and stdout is not one; in scripts use \
             `xdpdbg map list` or `xdpdbg map dump MAP` (both take --json)"
        );
    }
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let theme = Theme { color };
    let mut source = Kernel::default();
    let mut app = App::new(refresh_ms);
    // List the maps before taking the terminal over: the first screen is complete at once.
    perform(&mut app, &mut source, Action::RefreshMaps);

    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("setting up the terminal")?;
    // SIGTERM and SIGHUP (a closed terminal) end the browser like `q`, so the guard restores
    // the terminal on the way out.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handlers")?;
    }
    let period = Duration::from_millis(refresh_ms);
    let mut last_refresh = Instant::now();
    loop {
        app.page = page_for(terminal.size()?.height);
        terminal.draw(|f| draw::draw(f, &app, &theme))?;
        if app.quit || stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        let wait = period
            .saturating_sub(last_refresh.elapsed())
            .min(Duration::from_millis(200));
        if event::poll(wait)? {
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    if let Some(a) = events::on_key(&mut app, k) {
                        perform(&mut app, &mut source, a);
                    }
                }
                // Drawing adapts to the new size by itself.
                _ => {}
            }
        }
        if last_refresh.elapsed() >= period {
            last_refresh = Instant::now();
            if let Some(a) = app.tick() {
                perform(&mut app, &mut source, a);
            }
        }
    }
}

/// True while the terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Raw mode and the alternate screen, restored when dropped, and by a panic hook before the
/// panic message is printed (which it chains to).
struct TerminalGuard {
    previous: Arc<Mutex<Option<Hook>>>,
}

/// Leaves raw mode and the alternate screen, once.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        // Raw mode first: it has more effect on the shell than the screen does.
        let _ = terminal::disable_raw_mode();
        let _ = execute!(
            std::io::stdout(),
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
    }
}

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        let previous: Arc<Mutex<Option<Hook>>> =
            Arc::new(Mutex::new(Some(std::panic::take_hook())));
        let chained = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            restore();
            if let Ok(hook) = chained.lock()
                && let Some(hook) = hook.as_ref()
            {
                hook(info);
            }
        }));
        let guard = Self { previous };
        ACTIVE.store(true, Ordering::SeqCst);
        terminal::enable_raw_mode().context("switching the terminal to raw mode")?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            terminal::Clear(terminal::ClearType::All),
            cursor::Hide
        )
        .context("switching to the alternate screen")?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        // Put the previous panic hook back (not possible while panicking, nor needed: the
        // chained hook already ran).
        if !std::thread::panicking()
            && let Ok(mut slot) = self.previous.lock()
            && let Some(hook) = slot.take()
        {
            let _ = std::panic::take_hook();
            std::panic::set_hook(hook);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::state::{Entry, EntrySet, Failure};
    use super::*;
    use bpf_maps::inventory::MapSummary;

    /// A map of u32 → u64 in memory, standing in for the kernel.
    struct Fake {
        entries: Vec<(u32, u64)>,
        gone: bool,
    }

    impl Source for Fake {
        fn maps(&mut self) -> Result<Vec<MapSummary>, String> {
            let mut m = state::tests::summary(5, "fake_counts", "hash");
            m.entries = Some(self.entries.len() as u64);
            Ok(if self.gone { Vec::new() } else { vec![m] })
        }
        fn entries(&mut self, id: u32) -> Result<EntrySet, Failure> {
            if self.gone {
                return Err(Failure::Gone(id));
            }
            let mut set = state::tests::set(id, &[]);
            set.entries = self
                .entries
                .iter()
                .map(|(k, v)| {
                    Entry::new(
                        k.to_ne_bytes().to_vec(),
                        serde_json::json!({"key": k, "value": v}),
                        serde_json::json!(v),
                    )
                })
                .collect();
            Ok(set)
        }
        fn delete(&mut self, _: u32, key: &[u8]) -> Result<String, Failure> {
            let k = u32::from_ne_bytes(key.try_into().unwrap());
            self.entries.retain(|(x, _)| *x != k);
            Ok(format!("deleted key {k}"))
        }
        fn edit(&mut self, _: u32, key: &[u8], text: &str) -> Result<String, Failure> {
            let k = u32::from_ne_bytes(key.try_into().unwrap());
            let v: u64 = text
                .parse()
                .map_err(|_| Failure::Failed(format!("not written: `{text}` is not a number")))?;
            self.entries
                .iter_mut()
                .filter(|(x, _)| *x == k)
                .for_each(|e| e.1 = v);
            Ok(format!("key {k} now holds {v}"))
        }
    }

    fn script(keys: &str) -> Vec<(&str, Step)> {
        keys.split_whitespace()
            .map(|k| (k, events::parse_step(k).unwrap()))
            .collect()
    }

    #[test]
    fn scripted_session_against_a_fake_map() {
        let mut fake = Fake {
            entries: vec![(1, 10), (2, 20), (3, 30)],
            gone: false,
        };
        let keys = script("/ text:fake enter enter down d y e ctrl-u text:77 enter");
        let frames = play(1000, 100, 20, &keys, &mut fake).unwrap();
        assert_eq!(frames.len(), keys.len() + 1);
        let last = &frames.last().unwrap().1;
        assert!(last.contains("key 3 now holds 77"), "{last}");
        assert_eq!(fake.entries, [(1, 10), (3, 77)]);
        let after_delete = &frames[7].1;
        assert!(after_delete.contains("deleted key 2"), "{after_delete}");

        let keys = script("enter e ctrl-u text:seven enter");
        let frames = play(1000, 100, 20, &keys, &mut fake).unwrap();
        let last = &frames.last().unwrap().1;
        assert!(
            last.contains("not written: `seven` is not a number"),
            "{last}"
        );

        fake.gone = true;
        let keys = script("enter");
        let frames = play(1000, 100, 20, &keys, &mut fake).unwrap();
        assert!(frames.last().unwrap().1.contains("no maps"));
    }

    #[test]
    fn a_map_vanishing_during_a_refresh_returns_to_the_list() {
        let mut fake = Fake {
            entries: vec![(1, 10)],
            gone: false,
        };
        let mut app = App::new(1000);
        perform(&mut app, &mut fake, Action::RefreshMaps);
        perform(&mut app, &mut fake, Action::Open(5));
        assert!(app.open.is_some());
        fake.gone = true;
        perform(&mut app, &mut fake, Action::RefreshEntries(5));
        assert!(app.open.is_none());
        assert!(app.maps.is_empty(), "the list was read again");
        assert_eq!(app.status.as_ref().unwrap().1, "map 5 is gone");
    }

    #[test]
    fn scripts_and_sizes_parse() {
        assert_eq!(
            parse_keys("down  enter text:\"a = 1\" 'text:x y' wait:10").unwrap(),
            ["down", "enter", "text:a = 1", "text:x y", "wait:10"]
        );
        assert!(parse_keys("text:\"open").is_err());
        assert!(
            parse_keys("down sideways")
                .unwrap_err()
                .to_string()
                .contains("sideways")
        );
        assert_eq!(parse_size("120x40").unwrap(), (120, 40));
        assert!(parse_size("120").is_err());
        assert!(parse_size("5x40").is_err());
    }

    #[test]
    fn refresh_periods_are_checked() {
        let err = run(TuiOptions {
            refresh_ms: 1,
            headless: None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("at least 50 ms"));
    }
}
