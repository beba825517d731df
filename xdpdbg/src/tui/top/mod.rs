//! `xdpdbg top`: every loaded eBPF program, live, and the profile of one down to its source
//! lines and the helpers they call.
//!
//! The table lists every program on the machine (id, type, name, attach points, owners, run
//! count, runs/s, ns per run, CPU %), sorted (`s`/`S`, `r` reverses), filtered (`/`), with a
//! graph of the selected program's CPU % or runs/s (`h`); programs that vanish stay greyed
//! for a few refreshes. CPU % comes from perf samples (no cost per run, no run counts) or,
//! with `t` or `--stats`, from run-time statistics (exact, a cost on every run); the header
//! says which and what it costs. Enter opens the profile of the selected program: hot lines
//! with their source text, subprograms, helpers; Esc goes back, `p` pauses, `?` helps, `q`
//! quits.
//!
//! Split like bpftop, on the [`super::kit`]: `state` (no terminal, no kernel), `events`,
//! `draw`, and `data`, the [`data::Source`] of figures ([`crate::top::collector::Collector`]
//! in real use).

pub mod data;
mod draw;
mod events;
mod state;

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;

use super::kit::{self, Headless, Screen, Theme};
use crate::top::collector::FocusReport;
use data::Source;
use state::{Action, App};

/// The message when there is no terminal to draw on.
pub const NO_TERMINAL: &str = "xdpdbg top needs a terminal, and stdout is not one; in scripts \
    use `xdpdbg top --once --json`, `--duration 10s --json` or `--prometheus ADDR`";

/// How often samples are read from the rings while the screen runs.
const DRAIN_PERIOD: Duration = Duration::from_millis(200);

/// How to run the screen.
#[derive(Debug, Clone, Default)]
pub struct TopOptions {
    /// Refresh period in milliseconds.
    pub interval_ms: u64,
    /// Open straight into this program's profile (id, name).
    pub open: Option<(u32, String)>,
    /// Play a script on an in-memory terminal instead of using the real one.
    pub headless: Option<Headless>,
}

/// Runs the screen over `source` until the user quits (or the headless script ends).
pub fn run(source: impl Source, opts: TopOptions) -> anyhow::Result<()> {
    let mut screen = Top::new(source, &opts);
    kit::run(&mut screen, opts.headless.as_ref(), NO_TERMINAL)
}

/// A program's profile as the screen shows it, as plain text (for `--duration` without
/// `--json`).
pub fn profile_text(report: FocusReport, name: &str) -> String {
    let mut app = App::new(1000, data::Setup::default());
    app.open_profile(report.prog_id, name.to_string());
    app.set_profile(Some(report));
    let Some(view) = &app.profile else {
        return String::new();
    };
    let mut text = String::new();
    for line in draw::profile_lines(view, &Theme::PLAIN) {
        for span in &line.spans {
            text.push_str(&span.content);
        }
        text.push('\n');
    }
    text
}

/// The screen: its state and its source of figures.
struct Top<S> {
    app: App,
    source: S,
    last_refresh: Instant,
}

impl<S: Source> Top<S> {
    fn new(source: S, opts: &TopOptions) -> Self {
        let mut top = Self {
            app: App::new(opts.interval_ms, source.setup()),
            source,
            last_refresh: Instant::now(),
        };
        top.perform(Action::Refresh);
        if let Some((id, name)) = &opts.open {
            let action = top.app.open_profile(*id, name.clone());
            top.perform(action);
        }
        top
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Refresh => {
                let table = self.source.refresh();
                self.app.set_table(table, self.source.holds_stats());
                self.last_refresh = Instant::now();
            }
            Action::Stats(on) => match self.source.set_stats(on) {
                Ok(()) => {
                    self.app.facts.holds_stats = self.source.holds_stats();
                    self.app.info(if on {
                        "run-time statistics on: exact figures from the next refresh; every run \
                         of every program now pays a few ns (3-33 ns measured here; t turns them off)"
                    } else {
                        "run-time statistics off: CPU % from samples again, no cost per run"
                    });
                }
                Err(e) => self.app.error(e),
            },
            Action::Focus(id) => {
                self.source.focus(id);
                self.app.set_profile(self.source.focus_report());
            }
            Action::Unfocus => self.source.unfocus(),
        }
    }
}

impl<S: Source> Screen for Top<S> {
    fn fit(&mut self, _width: u16, height: u16) {
        // Title, header (3), table borders and column header, graph (5), status, hints.
        self.app.page = usize::from(height.saturating_sub(14).max(1));
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
        Some(DRAIN_PERIOD.min(Duration::from_millis(self.app.interval_ms)))
    }

    fn tick(&mut self) {
        self.source.drain();
        if self.app.paused {
            return;
        }
        if self.last_refresh.elapsed() >= Duration::from_millis(self.app.interval_ms) {
            self.perform(Action::Refresh);
        }
        if self.app.profile.is_some() {
            self.app.set_profile(self.source.focus_report());
        }
    }

    fn quit(&self) -> bool {
        self.app.quit
    }
}

#[cfg(test)]
mod tests {
    use bpf_profile::symbols::Resolution;

    use super::data::Setup;
    use super::state::tests::{row, table};
    use super::*;
    use crate::top::table::Table;
    use crate::tui::kit::headless;

    /// Two programs; program 7 has a profile with a hot line.
    struct Fake {
        refreshes: u32,
        focused: Option<u32>,
        stats: bool,
        resolution: Resolution,
    }

    impl Default for Fake {
        fn default() -> Self {
            Self {
                refreshes: 0,
                focused: None,
                stats: false,
                resolution: Resolution::Line,
            }
        }
    }

    impl Source for Fake {
        fn drain(&mut self) {}
        fn refresh(&mut self) -> Result<Table, String> {
            self.refreshes += 1;
            let mut rows = vec![row(7, "hot_spot", 40.0)];
            if self.refreshes < 3 {
                rows.push(row(9, "short_lived", 1.0));
            }
            Ok(table(rows))
        }
        fn set_stats(&mut self, on: bool) -> Result<(), String> {
            self.stats = on;
            Ok(())
        }
        fn holds_stats(&self) -> bool {
            self.stats
        }
        fn focus(&mut self, prog_id: u32) {
            self.focused = Some(prog_id);
        }
        fn unfocus(&mut self) {
            self.focused = None;
        }
        fn focus_report(&self) -> Option<FocusReport> {
            let id = self.focused?;
            Some(FocusReport {
                prog_id: id,
                vanished: false,
                note: None,
                report: crate::top::tests::report(id, self.resolution),
            })
        }
        fn setup(&self) -> Setup {
            Setup {
                event: "cpu-clock".into(),
                frequency_hz: 999,
                kernel_note: None,
            }
        }
    }

    fn play(opts: &TopOptions, keys: &str) -> Vec<headless::Shot> {
        play_on(Fake::default(), opts, keys)
    }

    fn play_on(fake: Fake, opts: &TopOptions, keys: &str) -> Vec<headless::Shot> {
        let mut top = Top::new(fake, opts);
        let names: Vec<String> = keys.split_whitespace().map(str::to_string).collect();
        headless::play(&mut top, 140, 40, &names).unwrap()
    }

    #[test]
    fn table_profile_and_back() {
        let opts = TopOptions {
            interval_ms: 1000,
            ..TopOptions::default()
        };
        let shots = play(&opts, "enter esc t");
        let first = &shots[0].1;
        assert!(first.contains("mode: samples"), "{first}");
        assert!(first.contains("CPU % = the program's share"), "{first}");
        assert!(
            first.contains("hot_spot") && first.contains("40.00"),
            "{first}"
        );
        let profile = &shots[1].1;
        assert!(
            profile.contains("profile of program 7 hot_spot"),
            "{profile}"
        );
        assert!(profile.contains("hot.bpf.c:44"), "{profile}");
        assert!(profile.contains(">>"), "the hot line is marked: {profile}");
        assert!(
            profile.contains("the file is not on this machine"),
            "{profile}"
        );
        assert!(shots[2].1.contains("short_lived"), "back to the table");
        assert!(shots[3].1.contains("statistics on"), "{}", shots[3].1);
    }

    #[test]
    fn opens_straight_into_a_profile_and_vanished_rows_grey() {
        let opts = TopOptions {
            interval_ms: 50,
            open: Some((7, "hot_spot".into())),
            headless: None,
        };
        // The fake drops short_lived from its third refresh on, and the table greys it for
        // three refreshes (150 ms here): frames every 20 ms see it greyed, however late the
        // refreshes of a loaded machine fall.
        let keys = format!("wait:60 esc {}", ["wait:20"; 15].join(" "));
        let shots = play(&opts, &keys);
        assert!(shots[0].1.contains("HOT LINES"), "{}", shots[0].1);
        assert!(
            shots[2..]
                .iter()
                .any(|(_, screen)| screen.contains("short_lived (gone)")),
            "no frame shows short_lived greyed: {}",
            shots.last().map_or("", |(_, s)| s.as_str())
        );
    }

    #[test]
    fn programs_without_lines_say_so_and_profiles_print_as_text() {
        let opts = TopOptions {
            interval_ms: 1000,
            open: Some((7, "hot_spot".into())),
            headless: None,
        };
        for (resolution, says) in [
            (Resolution::Function, "no line info"),
            (Resolution::Program, "no BTF"),
        ] {
            let fake = Fake {
                resolution,
                ..Fake::default()
            };
            let screen = &play_on(fake, &opts, "")[0].1;
            assert!(screen.contains(says), "{screen}");
            assert!(!screen.contains("HOT LINES"), "{screen}");
            assert!(screen.contains("bpf_csum_diff"), "helpers still: {screen}");
        }
        let report = FocusReport {
            prog_id: 7,
            vanished: true,
            note: None,
            report: crate::top::tests::report(7, Resolution::Line),
        };
        let text = profile_text(report, "hot_spot");
        assert!(text.contains("was unloaded"), "{text}");
        assert!(text.contains("hot.bpf.c:44"), "{text}");
        assert!(text.contains("[in bpf_csum_diff 60.0%]"), "{text}");
    }
}
