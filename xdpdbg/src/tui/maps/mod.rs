//! `xdpdbg map` with no arguments: a terminal browser for every map on the system.
//!
//! The left pane lists the maps (id, name, type, entries of capacity); Enter opens one and the
//! right pane shows its entries typed with the map's BTF (hex without it), key → value as
//! compact JSON. `/` searches (maps by name, entries by text), `f` filters entries with a
//! [`bpf_maps::typed::Filter`] expression, `e` edits a value, `d` deletes an entry after a y/n
//! question, `r` refreshes, `p` pauses the live refresh, `Esc` goes back, `?` shows every key,
//! `q` or Ctrl-C quits. Errors, a map that vanishes included, are shown in the status line.
//!
//! Split like bpftop, on the [`super::kit`]: `state` holds everything and every change
//! (no terminal, no kernel), `events` turns keys into changes, `draw` renders the state,
//! `data` talks to the kernel through [`bpf_maps`]. The live refresh reads the map list
//! without counting entries (counting walks a map's entries): the browser counts only the maps
//! whose counts the screen shows, each at every refresh unless counting it takes more than its
//! share of the period (a tenth, `state::COUNTING_SHARE`): a big map is then counted every few
//! refreshes. `r` counts every map on screen at once.

mod data;
mod draw;
mod events;
mod state;

use std::time::Duration;

use anyhow::bail;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::kit::{self, Headless, Screen, Theme};
use data::{Kernel, Source};
use state::{Action, App};

/// The default live refresh period.
pub const DEFAULT_REFRESH_MS: u64 = 1000;

/// The shortest live refresh period accepted.
pub const MIN_REFRESH_MS: u64 = 50;

/// The message when there is no terminal to draw on.
pub const NO_TERMINAL: &str = "the map browser needs a terminal, and stdout is not one; in \
    scripts use `xdpdbg map list` or `xdpdbg map dump MAP` (both take --json)";

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
    // The maps are listed before the terminal is taken over: the first screen is complete at
    // once.
    let mut browser = Browser::new(opts.refresh_ms, Kernel::default());
    kit::run(&mut browser, opts.headless.as_ref(), NO_TERMINAL)
}

/// The browser: its state, and the source of its data (the kernel, or a fake in tests).
struct Browser<S> {
    app: App,
    source: S,
}

impl<S: Source> Browser<S> {
    /// A browser over `source`, with the maps listed.
    fn new(refresh_ms: u64, source: S) -> Self {
        let mut browser = Self {
            app: App::new(refresh_ms),
            source,
        };
        browser.perform(Action::RefreshMaps);
        browser
    }

    /// Performs an action and everything it leads to.
    fn perform(&mut self, action: Action) {
        let mut next = Some(action);
        // A bound, in case a result keeps asking for more.
        for _ in 0..8 {
            let Some(action) = next.take() else { return };
            let (app, source) = (&mut self.app, &mut self.source);
            next = match action {
                Action::RefreshMaps => {
                    app.set_maps(source.maps());
                    None
                }
                Action::Count(ids) => {
                    let counts = ids.into_iter().map(|id| (id, source.count(id))).collect();
                    app.set_counts(counts);
                    None
                }
                Action::Open(id) | Action::RefreshEntries(id) => {
                    app.set_entries(source.entries(id))
                }
                Action::Delete { id, key } => app.set_done(source.delete(id, &key)),
                Action::Edit { id, key, text } => app.set_done(source.edit(id, &key, &text)),
            };
        }
    }
}

impl<S: Source> Screen for Browser<S> {
    fn fit(&mut self, width: u16, height: u16) {
        self.app.page = page_for(height);
        let shown = draw::counts_shown(&self.app, Rect::new(0, 0, width, height));
        if let Some(count) = self.app.uncounted(&shown) {
            self.perform(count);
        }
    }

    fn draw(&self, frame: &mut Frame, theme: &Theme) {
        draw::draw(frame, &self.app, theme);
    }

    fn on_key(&mut self, key: KeyEvent) {
        if let Some(action) = events::on_key(&mut self.app, key) {
            self.perform(action);
        }
    }

    fn tick_period(&self) -> Option<Duration> {
        Some(Duration::from_millis(self.app.refresh_ms))
    }

    fn tick(&mut self) {
        if let Some(action) = self.app.tick() {
            self.perform(action);
        }
    }

    fn quit(&self) -> bool {
        self.app.quit
    }
}

/// Rows a page key moves, for a screen this high.
fn page_for(height: u16) -> usize {
    height.saturating_sub(7).max(1) as usize
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    use super::state::{Counted, Entry, EntrySet, Failure};
    use super::*;
    use crate::tui::kit::headless::{self, Shot};
    use bpf_maps::inventory::MapSummary;

    /// A map of u32 → u64 in memory, standing in for the kernel.
    struct Fake {
        entries: Vec<(u32, u64)>,
        gone: bool,
    }

    impl Source for Fake {
        fn maps(&mut self) -> Result<Vec<MapSummary>, String> {
            let m = state::tests::summary(5, "fake_counts", "hash");
            Ok(if self.gone { Vec::new() } else { vec![m] })
        }
        fn count(&mut self, _: u32) -> Counted {
            Counted {
                entries: Some(self.entries.len() as u64),
                took: Duration::ZERO,
            }
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

    /// Plays `keys` (separated by spaces) on a browser over `fake`, `width` × `height`;
    /// returns the fake, the number of keys and the screens.
    fn play(fake: Fake, width: u16, height: u16, keys: &str) -> (Fake, usize, Vec<Shot>) {
        let names: Vec<String> = keys.split_whitespace().map(str::to_string).collect();
        let mut browser = Browser::new(1000, fake);
        let shots = headless::play(&mut browser, width, height, &names).unwrap();
        (browser.source, names.len(), shots)
    }

    #[test]
    fn scripted_session_against_a_fake_map() {
        let fake = Fake {
            entries: vec![(1, 10), (2, 20), (3, 30)],
            gone: false,
        };
        let (fake, keys, frames) = play(
            fake,
            100,
            20,
            "/ text:fake enter enter down d y e ctrl-u text:77 enter",
        );
        assert_eq!(frames.len(), keys + 1);
        let last = &frames.last().unwrap().1;
        assert!(last.contains("key 3 now holds 77"), "{last}");
        assert_eq!(fake.entries, [(1, 10), (3, 77)]);
        let after_delete = &frames[7].1;
        assert!(after_delete.contains("deleted key 2"), "{after_delete}");

        let (mut fake, _, frames) = play(fake, 100, 20, "enter e ctrl-u text:seven enter");
        let last = &frames.last().unwrap().1;
        assert!(
            last.contains("not written: `seven` is not a number"),
            "{last}"
        );

        fake.gone = true;
        let (_, _, frames) = play(fake, 100, 20, "enter");
        assert!(frames.last().unwrap().1.contains("no maps"));
    }

    #[test]
    fn a_map_vanishing_during_a_refresh_returns_to_the_list() {
        let fake = Fake {
            entries: vec![(1, 10)],
            gone: false,
        };
        let mut browser = Browser::new(1000, fake);
        browser.perform(Action::Open(5));
        assert!(browser.app.open.is_some());
        browser.source.gone = true;
        browser.perform(Action::RefreshEntries(5));
        let app = &browser.app;
        assert!(app.open.is_none());
        assert!(app.maps.is_empty(), "the list was read again");
        assert_eq!(app.status.as_ref().unwrap().1, "map 5 is gone");
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

    /// `maps` maps named `mapN` (ids 1 to `maps`), whose counts change with each listing; every
    /// count taken is written to `counted`. Counting costs nothing, except the maps in `cost`.
    struct Many {
        maps: u32,
        listings: u64,
        counted: Vec<u32>,
        cost: std::collections::HashMap<u32, Duration>,
    }

    impl Many {
        fn new(maps: u32) -> Self {
            Self {
                maps,
                listings: 0,
                counted: Vec::new(),
                cost: Default::default(),
            }
        }
    }

    impl Source for Many {
        fn maps(&mut self) -> Result<Vec<MapSummary>, String> {
            self.listings += 1;
            Ok((1..=self.maps)
                .map(|id| state::tests::uncounted(id, &format!("map{id}"), "hash"))
                .collect())
        }
        fn count(&mut self, id: u32) -> Counted {
            self.counted.push(id);
            Counted {
                entries: Some(self.listings * 1000 + u64::from(id)),
                took: self.cost.get(&id).copied().unwrap_or_default(),
            }
        }
        fn entries(&mut self, id: u32) -> Result<EntrySet, Failure> {
            Err(Failure::Gone(id))
        }
        fn delete(&mut self, id: u32, _: &[u8]) -> Result<String, Failure> {
            Err(Failure::Gone(id))
        }
        fn edit(&mut self, id: u32, _: &[u8], _: &str) -> Result<String, Failure> {
            Err(Failure::Gone(id))
        }
    }

    /// Fits and draws the browser as the event loop does; returns the screen and the maps
    /// counted for it, in order.
    fn show(browser: &mut Browser<Many>) -> (String, Vec<u32>) {
        let (width, height) = (120, 30);
        browser.fit(width, height);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| browser.draw(f, &Theme::PLAIN)).unwrap();
        let screen = headless::text_of(terminal.backend().buffer());
        (screen, std::mem::take(&mut browser.source.counted))
    }

    /// The row of map `id` shows `count` entries.
    fn shows(screen: &str, id: u32, count: u64) -> bool {
        screen
            .lines()
            .any(|l| l.contains(&format!(" map{id} ")) && l.contains(&format!(" {count}/16")))
    }

    #[test]
    fn a_refresh_counts_the_entries_of_the_maps_on_screen_only() {
        let mut browser = Browser::new(1000, Many::new(100));
        assert!(
            browser.source.counted.is_empty(),
            "listing the maps counts none"
        );
        // 30 rows: the title, the list's borders and header, the status and hints rows leave
        // 24 rows of maps.
        let on_screen: Vec<u32> = (1..=24).collect();
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, on_screen, "{screen}");
        assert!(shows(&screen, 24, 1024), "{screen}");
        assert!(screen.contains("entries    1001 of 16"), "{screen}");

        // A refresh reads the list again and counts the same 24 maps again, not the 100.
        browser.tick();
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, on_screen);
        assert!(
            shows(&screen, 1, 2001),
            "the counts shown are fresh: {screen}"
        );
        assert!(shows(&screen, 24, 2024), "{screen}");
        // Moving within the screen counts nothing; scrolling counts the maps that come in.
        let key = |code| KeyEvent::new(code, KeyModifiers::NONE);
        browser.on_key(key(KeyCode::Down));
        assert!(show(&mut browser).1.is_empty());
        browser.on_key(key(KeyCode::End));
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, (77..=100).collect::<Vec<_>>());
        assert!(shows(&screen, 100, 2100), "{screen}");
        // Up from the last row scrolls one row: map 76 comes into view, and only it is counted.
        browser.on_key(key(KeyCode::Up));
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, [76]);
        assert!(shows(&screen, 76, 2076), "{screen}");
        // The next refresh counts the 24 maps now on screen.
        browser.tick();
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, (76..=99).collect::<Vec<_>>());
        assert!(shows(&screen, 76, 3076), "{screen}");
        assert!(shows(&screen, 99, 3099), "{screen}");
        assert!(
            !browser
                .app
                .maps
                .iter()
                .any(|m| (25..=75).contains(&m.id) && m.entries.is_some()),
            "maps never on screen are never counted"
        );
    }

    #[test]
    fn a_map_slow_to_count_is_counted_every_few_refreshes() {
        let mut many = Many::new(30);
        // Counting map 2 takes 300 ms: 3 times a tenth of the 1 s period.
        many.cost.insert(2, Duration::from_millis(300));
        let mut browser = Browser::new(1000, many);
        let (_, reads) = show(&mut browser);
        assert_eq!(reads, (1..=24).collect::<Vec<_>>());
        let others: Vec<u32> = (1..=24).filter(|&id| id != 2).collect();
        // Two refreshes count the others; map 2 keeps its count.
        for listing in [2, 3] {
            browser.tick();
            let (screen, reads) = show(&mut browser);
            assert_eq!(reads, others, "listing {listing}");
            assert!(shows(&screen, 2, 1002), "{screen}");
            assert!(shows(&screen, 3, listing * 1000 + 3), "{screen}");
        }
        // The third counts it again.
        browser.tick();
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, (1..=24).collect::<Vec<_>>());
        assert!(shows(&screen, 2, 4002), "{screen}");
        // `r` counts every map on screen at once.
        browser.on_key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE));
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, (1..=24).collect::<Vec<_>>());
        assert!(shows(&screen, 2, 5002), "{screen}");
    }

    #[test]
    fn a_map_that_reuses_an_id_is_counted_again() {
        let mut many = Many::new(3);
        many.cost.insert(2, Duration::from_secs(10));
        let mut browser = Browser::new(1000, many);
        assert_eq!(show(&mut browser).1, [1, 2, 3]);
        browser.tick();
        assert_eq!(show(&mut browser).1, [1, 3]);
        // Map 2 is freed and its id given to a map of another name: its count is not the old
        // map's.
        browser.app.set_maps(Ok(vec![
            state::tests::uncounted(1, "map1", "hash"),
            state::tests::uncounted(2, "other", "hash"),
        ]));
        assert_eq!(browser.app.maps[1].entries, None);
        let (screen, reads) = show(&mut browser);
        assert_eq!(reads, [1, 2]);
        assert!(
            screen
                .lines()
                .any(|l| l.contains(" other ") && l.contains("2002/16")),
            "{screen}"
        );
    }
}
