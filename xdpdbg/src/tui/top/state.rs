//! Everything the screen shows and every change to it; no terminal, no kernel.

use std::collections::{HashMap, VecDeque};

use crate::top::collector::FocusReport;
use crate::top::source::SourceFile;
use crate::top::table::{Mode as CpuMode, ProgramRow, Table};

use super::data::Setup;

/// Refreshes a vanished program stays on the table, greyed, before it goes.
pub const VANISHED_REFRESHES: u8 = 3;

/// Points of history kept per program for the graph.
pub const HISTORY: usize = 120;

/// A line's share of its program's samples from which it counts as hot (highlighted).
pub const HOT_PERCENT: f64 = 5.0;

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The program table.
    Table,
    /// One program's profile.
    Profile,
}

/// What keys go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Navigation and commands.
    Normal,
    /// The help popup.
    Help,
    /// Typing a filter; `previous` comes back on Esc.
    Filter {
        /// The text so far.
        input: String,
        /// The filter before.
        previous: String,
    },
}

/// The table's sort column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// CPU % (the mode's).
    Cpu,
    /// Runs per second.
    RunsPerSec,
    /// Average ns per run.
    AvgNs,
    /// Run count.
    Runs,
    /// Program id.
    Id,
    /// Name.
    Name,
    /// Type.
    Type,
}

impl SortKey {
    /// Every key, in the order `s` cycles through.
    pub const ALL: [SortKey; 7] = [
        SortKey::Cpu,
        SortKey::RunsPerSec,
        SortKey::AvgNs,
        SortKey::Runs,
        SortKey::Id,
        SortKey::Name,
        SortKey::Type,
    ];

    /// The column header it sorts.
    pub fn column(self) -> &'static str {
        match self {
            SortKey::Cpu => "CPU%",
            SortKey::RunsPerSec => "RUNS/S",
            SortKey::AvgNs => "NS/RUN",
            SortKey::Runs => "RUNS",
            SortKey::Id => "ID",
            SortKey::Name => "NAME",
            SortKey::Type => "TYPE",
        }
    }

    /// The next (or previous) key.
    pub fn step(self, forward: bool) -> SortKey {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        let n = Self::ALL.len();
        Self::ALL[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }

    /// Numbers sort highest first, words in order.
    fn descending(self) -> bool {
        !matches!(self, SortKey::Id | SortKey::Name | SortKey::Type)
    }
}

/// What the graph of the selected program plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Graph {
    /// CPU %.
    Cpu,
    /// Runs per second.
    Runs,
}

/// A table row as shown: live, or vanished some refreshes ago.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The row.
    pub row: ProgramRow,
    /// Refreshes since it vanished (0: loaded).
    pub gone_for: u8,
}

/// The profile view's data.
#[derive(Debug, Clone)]
pub struct ProfileView {
    /// The program.
    pub prog_id: u32,
    /// Its name, from the table.
    pub name: String,
    /// The profile so far, once read.
    pub report: Option<FocusReport>,
    /// Its source file from disk, when the path BTF names exists here (path, file).
    pub source: Option<(String, SourceFile)>,
    /// First row shown.
    pub scroll: usize,
}

/// What the kernel must do after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Refresh the table now.
    Refresh,
    /// Switch statistics on (true) or off.
    Stats(bool),
    /// Start profiling this program.
    Focus(u32),
    /// Stop profiling.
    Unfocus,
}

/// A status message's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Information.
    Info,
    /// Something failed.
    Error,
}

/// The header's facts about the last refresh.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Where CPU % comes from.
    pub mode: Option<CpuMode>,
    /// This tool holds statistics on.
    pub holds_stats: bool,
    /// The last interval, ms.
    pub interval_ms: u64,
    /// Online CPUs.
    pub cpus: u32,
    /// Samples of the last interval.
    pub samples: u64,
    /// Lost records of the last interval.
    pub lost: u64,
    /// Throttle events so far.
    pub throttled: u64,
    /// Refreshes so far.
    pub refreshes: u64,
}

/// The whole screen state.
#[derive(Debug)]
pub struct App {
    /// Every row shown, vanished ones included.
    pub rows: Vec<Shown>,
    /// Indexes into `rows` that pass the filter, in sort order.
    pub visible: Vec<usize>,
    /// Position of the selection in `visible`.
    pub selected: usize,
    /// The selected program (kept across refreshes).
    pub selected_id: Option<u32>,
    /// The sort column.
    pub sort: SortKey,
    /// Reversed sort.
    pub reverse: bool,
    /// The filter (name, type or attach point contains it).
    pub filter: String,
    /// Per program, the last [`HISTORY`] (CPU %, runs/s) points.
    pub history: HashMap<u32, VecDeque<(f64, f64)>>,
    /// What the graph plots.
    pub graph: Graph,
    /// The view.
    pub view: View,
    /// Where keys go.
    pub mode: Mode,
    /// The profile view's data, while it is up.
    pub profile: Option<ProfileView>,
    /// Live refresh paused.
    pub paused: bool,
    /// The user quit.
    pub quit: bool,
    /// The last message.
    pub status: Option<(Tone, String)>,
    /// Header facts.
    pub facts: Facts,
    /// How figures are made.
    pub setup: Setup,
    /// Rows a page key moves.
    pub page: usize,
    /// The refresh period, ms.
    pub interval_ms: u64,
}

impl App {
    /// An empty screen refreshing every `interval_ms`.
    pub fn new(interval_ms: u64, setup: Setup) -> Self {
        Self {
            rows: Vec::new(),
            visible: Vec::new(),
            selected: 0,
            selected_id: None,
            sort: SortKey::Cpu,
            reverse: false,
            filter: String::new(),
            history: HashMap::new(),
            graph: Graph::Cpu,
            view: View::Table,
            mode: Mode::Normal,
            profile: None,
            paused: false,
            quit: false,
            status: None,
            facts: Facts::default(),
            setup,
            page: 10,
            interval_ms,
        }
    }

    /// Shows an error.
    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some((Tone::Error, text.into()));
    }

    /// Shows a message.
    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some((Tone::Info, text.into()));
    }

    /// Takes in a refresh: new rows, vanished ones greyed (then dropped), history extended.
    pub fn set_table(&mut self, table: Result<Table, String>, holds_stats: bool) {
        let table = match table {
            Ok(t) => t,
            Err(e) => return self.error(format!("refresh failed: {e}")),
        };
        let mut rows: Vec<Shown> = self
            .rows
            .drain(..)
            .filter(|s| !table.programs.iter().any(|p| p.id == s.row.id))
            .filter_map(|mut s| {
                s.gone_for = s.gone_for.saturating_add(1);
                (s.gone_for <= VANISHED_REFRESHES).then_some(s)
            })
            .collect();
        for p in &table.programs {
            let h = self.history.entry(p.id).or_default();
            h.push_back((p.cpu_percent.unwrap_or(0.0), p.runs_per_sec.unwrap_or(0.0)));
            while h.len() > HISTORY {
                h.pop_front();
            }
        }
        // History is kept while a program is shown, greyed ones included.
        let shown: std::collections::HashSet<u32> = rows
            .iter()
            .map(|s| s.row.id)
            .chain(table.programs.iter().map(|p| p.id))
            .collect();
        self.history.retain(|id, _| shown.contains(id));
        rows.extend(
            table
                .programs
                .iter()
                .cloned()
                .map(|row| Shown { row, gone_for: 0 }),
        );
        self.rows = rows;
        self.facts = Facts {
            mode: Some(table.mode),
            holds_stats,
            interval_ms: table.interval_ms,
            cpus: table.cpus,
            samples: table.samples.total,
            lost: table.samples.lost,
            throttled: self.facts.throttled + table.samples.throttled,
            refreshes: self.facts.refreshes + 1,
        };
        if let Some(view) = &mut self.profile
            && let Some(row) = table.programs.iter().find(|p| p.id == view.prog_id)
        {
            view.name = row.name.clone();
        }
        self.arrange();
    }

    /// Re-filters and re-sorts, keeping the selected program selected.
    pub fn arrange(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut visible: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                let r = &self.rows[i].row;
                needle.is_empty()
                    || r.name.to_lowercase().contains(&needle)
                    || r.prog_type.to_lowercase().contains(&needle)
                    || r.attach.iter().any(|a| a.to_lowercase().contains(&needle))
                    || r.id.to_string() == needle
            })
            .collect();
        let (sort, reverse) = (self.sort, self.reverse);
        let rows = &self.rows;
        visible.sort_by(|&a, &b| {
            let (a, b) = (&rows[a].row, &rows[b].row);
            let num = |r: &ProgramRow| match sort {
                SortKey::Cpu => r.cpu_percent.unwrap_or(-1.0),
                SortKey::RunsPerSec => r.runs_per_sec.unwrap_or(-1.0),
                SortKey::AvgNs => r.avg_run_ns.unwrap_or(-1.0),
                SortKey::Runs => r.run_cnt.map_or(-1.0, |n| n as f64),
                _ => 0.0,
            };
            let ord = match sort {
                SortKey::Id => a.id.cmp(&b.id),
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Type => a.prog_type.cmp(&b.prog_type),
                _ => num(a).total_cmp(&num(b)),
            };
            let ord = if sort.descending() {
                ord.reverse()
            } else {
                ord
            };
            let ord = if reverse { ord.reverse() } else { ord };
            ord.then_with(|| a.id.cmp(&b.id))
        });
        self.visible = visible;
        self.selected = self
            .selected_id
            .and_then(|id| self.visible.iter().position(|&i| self.rows[i].row.id == id))
            .unwrap_or_else(|| self.selected.min(self.visible.len().saturating_sub(1)));
        self.selected_id = self.selected_row().map(|s| s.row.id);
    }

    /// The selected row.
    pub fn selected_row(&self) -> Option<&Shown> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    /// Moves the selection (or, in the profile, the scroll) by `delta`.
    pub fn move_by(&mut self, delta: isize) {
        match self.view {
            View::Table => {
                self.selected =
                    crate::tui::kit::nav::moved(self.selected, self.visible.len(), delta);
                self.selected_id = self.selected_row().map(|s| s.row.id);
            }
            View::Profile => {
                if let Some(p) = &mut self.profile {
                    p.scroll = p
                        .scroll
                        .saturating_add_signed(delta.clamp(-100_000, 100_000));
                }
            }
        }
    }

    /// Sets the filter.
    pub fn set_filter(&mut self, text: &str) {
        self.filter = text.to_string();
        self.arrange();
    }

    /// Opens the profile of `prog_id`.
    pub fn open_profile(&mut self, prog_id: u32, name: String) -> Action {
        self.view = View::Profile;
        self.profile = Some(ProfileView {
            prog_id,
            name,
            report: None,
            source: None,
            scroll: 0,
        });
        Action::Focus(prog_id)
    }

    /// Back to the table.
    pub fn close_profile(&mut self) -> Action {
        self.view = View::Table;
        self.profile = None;
        Action::Unfocus
    }

    /// Takes in the focused program's profile so far; reads its source file once, when the
    /// path its BTF names exists here.
    pub fn set_profile(&mut self, report: Option<FocusReport>) {
        let Some(view) = &mut self.profile else {
            return;
        };
        if view.source.is_none()
            && let Some(path) = report
                .as_ref()
                .and_then(|r| r.report.programs.first())
                .and_then(|p| p.functions.iter().flat_map(|f| &f.lines).next())
                .map(|l| l.file.clone())
            && let Some(file) = SourceFile::read(&path)
        {
            view.source = Some((path, file));
        }
        if report.as_ref().is_some_and(|r| r.vanished)
            && !view.report.as_ref().is_some_and(|r| r.vanished)
        {
            self.status = Some((
                Tone::Error,
                format!(
                    "program {} was unloaded: its profile stops there (Esc: back to the table)",
                    view.prog_id
                ),
            ));
        }
        view.report = report;
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::top::table::{IntervalSamples, SCHEMA_VERSION};
    use bpf_profile::sampler::Event;
    use ratatui::crossterm::event::{KeyCode, KeyEvent};

    /// A row of program `id` named `name`, with a CPU %.
    pub fn row(id: u32, name: &str, cpu: f64) -> ProgramRow {
        ProgramRow {
            id,
            prog_type: "xdp".into(),
            name: name.into(),
            tag: "00".into(),
            attach: vec![format!("xdp veth{id}")],
            owners: vec!["1 init".into()],
            run_cnt: None,
            runs_per_sec: None,
            avg_run_ns: None,
            cpu_percent: Some(cpu),
            cpu_percent_stats: None,
            cpu_percent_samples: Some(cpu),
            samples: 10,
            resolution: Some(bpf_profile::symbols::Resolution::Line),
            note: None,
        }
    }

    /// A table of `rows`.
    pub fn table(rows: Vec<ProgramRow>) -> Table {
        Table {
            schema_version: SCHEMA_VERSION,
            mode: CpuMode::Samples,
            stats_on: false,
            interval_ms: 1000,
            cpus: 2,
            event: Event::CpuClock,
            frequency_hz: 999,
            cpu_percent_means: crate::top::table::CPU_PERCENT_MEANS,
            samples: IntervalSamples::default(),
            programs: rows,
            appeared: Vec::new(),
            vanished: Vec::new(),
        }
    }

    #[test]
    fn vanished_programs_grey_then_go_and_sorting_filters_apply() {
        let mut app = App::new(1000, Setup::default());
        app.set_table(
            Ok(table(vec![row(1, "alpha", 5.0), row(2, "beta", 20.0)])),
            false,
        );
        let ids =
            |app: &App| -> Vec<u32> { app.visible.iter().map(|&i| app.rows[i].row.id).collect() };
        assert_eq!(ids(&app), [2, 1], "highest CPU first");
        app.reverse = true;
        app.arrange();
        assert_eq!(ids(&app), [1, 2]);
        app.reverse = false;
        app.sort = SortKey::Name;
        app.arrange();
        assert_eq!(ids(&app), [1, 2]);
        app.set_filter("bet");
        assert_eq!(ids(&app), [2]);
        app.set_filter("veth1");
        assert_eq!(ids(&app), [1], "filters on attach points too");
        app.set_filter("");
        for n in 1..=VANISHED_REFRESHES {
            app.set_table(Ok(table(vec![row(2, "beta", 20.0)])), false);
            let gone = app.rows.iter().find(|s| s.row.id == 1).unwrap();
            assert_eq!(gone.gone_for, n);
        }
        assert!(app.history.contains_key(&1), "kept while greyed");
        app.set_filter("alpha");
        assert_eq!(
            super::super::events::on_key(&mut app, KeyEvent::from(KeyCode::Enter)),
            None,
            "a vanished program has nothing to profile"
        );
        assert!(app.status.as_ref().unwrap().1.contains("was unloaded"));
        app.set_filter("");
        app.set_table(Ok(table(vec![row(2, "beta", 20.0)])), false);
        assert!(app.rows.iter().all(|s| s.row.id != 1), "gone after a while");
        assert!(!app.history.contains_key(&1), "and its history with it");
        assert_eq!(app.history[&2].len(), VANISHED_REFRESHES as usize + 2);
    }
}
