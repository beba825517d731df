//! The explorer's state and every change to it: no drawing, no terminal.

use std::collections::BTreeMap;

use super::data::{Program, Session};
use super::history::{self, Change, Snapshot};
use crate::tui::kit::nav;

/// What the keyboard is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Moving around.
    Normal,
    /// The help screen (any key closes it).
    Help,
}

/// Where one program's view is.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The selected instruction, an index into [`Program::insns`].
    pub selected: usize,
    /// The step of the failing path the view is at, when the selected instruction is on it.
    pub path_pos: Option<usize>,
    /// Path positions of each instruction index, in order.
    positions: BTreeMap<u32, Vec<usize>>,
    /// Whether the program was shown before (the first time, the view starts at the error).
    visited: bool,
}

/// The whole state of the explorer.
pub struct App {
    /// What is explained (the object's file name).
    pub name: String,
    /// The programs.
    pub programs: Vec<Program>,
    /// The program shown, an index into `programs`.
    pub current: usize,
    /// Each program's view.
    pub views: Vec<View>,
    /// What the keyboard is doing.
    pub mode: Mode,
    /// Whether the register history replaces the register pane.
    pub show_history: bool,
    /// The register the history follows (0-10).
    pub reg: u8,
    /// The last message.
    pub status: Option<String>,
    /// Instructions a page key moves.
    pub page: usize,
    /// Set when the user quits.
    pub quit: bool,
    /// The state before the current path step, when on the path.
    pub snapshot: Option<Snapshot>,
    /// The changes of `reg` along the current program's path.
    pub changes: Vec<Change>,
}

/// The first register the explanation names (`r1` of `r1 eth ...`), else r0.
fn first_operand_register(p: &Program) -> u8 {
    p.explanation
        .as_ref()
        .and_then(|e| {
            e.operands
                .iter()
                .find_map(|o| o.operand.strip_prefix('r')?.parse::<u8>().ok())
        })
        .filter(|&r| r <= 10)
        .unwrap_or(0)
}

impl App {
    /// An explorer over a loaded session, at the first rejected program's error.
    pub fn new(session: Session) -> Self {
        let programs = session.programs;
        let views = programs
            .iter()
            .map(|p| {
                let mut positions: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
                for (i, s) in p.summary.path.iter().enumerate() {
                    positions.entry(s.idx).or_default().push(i);
                }
                View {
                    selected: 0,
                    path_pos: None,
                    positions,
                    visited: false,
                }
            })
            .collect();
        let current = programs
            .iter()
            .position(|p| p.explanation.is_some())
            .unwrap_or(0);
        let mut app = App {
            name: session.name,
            programs,
            current,
            views,
            mode: Mode::Normal,
            show_history: false,
            reg: 0,
            status: None,
            page: 10,
            quit: false,
            snapshot: None,
            changes: Vec::new(),
        };
        app.enter_program();
        app
    }

    /// The program shown.
    pub fn program(&self) -> Option<&Program> {
        self.programs.get(self.current)
    }

    /// Its view.
    pub fn view(&self) -> Option<&View> {
        self.views.get(self.current)
    }

    fn view_mut(&mut self) -> Option<&mut View> {
        self.views.get_mut(self.current)
    }

    /// Shows a message until the next key.
    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(text.into());
    }

    /// Sets up the view of the program just switched to: at its error the first time.
    fn enter_program(&mut self) {
        let Some(p) = self.program() else { return };
        let reg = first_operand_register(p);
        let has_fault = p.fault().is_some();
        self.reg = reg;
        let fresh = self.view().is_some_and(|v| !v.visited);
        if let Some(v) = self.view_mut() {
            v.visited = true;
        }
        if fresh && has_fault {
            self.goto_error();
        } else {
            self.refresh();
        }
        self.refresh_history();
    }

    /// Recomputes what depends on the position: the state before the path step.
    fn refresh(&mut self) {
        let snapshot = match (self.program(), self.view()) {
            (Some(p), Some(v)) => v.path_pos.and_then(|k| history::before(p, k)),
            _ => None,
        };
        self.snapshot = snapshot;
    }

    /// Recomputes what depends on the program and the register: its history.
    fn refresh_history(&mut self) {
        let changes = match self.program() {
            Some(p) if self.show_history => history::history(p, self.reg),
            _ => Vec::new(),
        };
        self.changes = changes;
    }

    /// Selects instruction `pos` (an index into the instructions), at the path step nearest
    /// the current one where it occurs.
    fn select(&mut self, pos: usize) {
        let Some(idx) = self.program().and_then(|p| p.insns.get(pos)).map(|i| i.idx) else {
            return;
        };
        if let Some(v) = self.view_mut() {
            v.selected = pos;
            let here = v.path_pos;
            v.path_pos = v.positions.get(&idx).and_then(|occ| match here {
                // The occurrence closest to where the view was (the later one on a tie).
                Some(h) => occ
                    .iter()
                    .copied()
                    .min_by_key(|&o| (o.abs_diff(h), usize::MAX - o)),
                None => occ.last().copied(),
            });
        }
        self.refresh();
    }

    /// Moves to path step `k` and its instruction.
    fn goto_step(&mut self, k: usize) {
        let Some(pos) = self.program().and_then(|p| {
            let idx = p.summary.path.get(k)?.idx;
            p.insn_pos(idx)
        }) else {
            return;
        };
        if let Some(v) = self.view_mut() {
            v.selected = pos;
            v.path_pos = Some(k);
        }
        self.refresh();
    }

    /// Moves the selection by `delta` instructions, clamped (`isize::MIN` / `MAX`: to the
    /// first / last).
    pub fn move_by(&mut self, delta: isize) {
        let len = self.program().map_or(0, |p| p.insns.len());
        if len == 0 {
            return;
        }
        let sel = self.view().map_or(0, |v| v.selected);
        self.select(nav::moved(sel, len, delta));
    }

    /// Jumps to the faulting instruction, at the end of the path.
    pub fn goto_error(&mut self) {
        let Some(p) = self.program() else { return };
        let Some(fault) = p.fault() else {
            let msg = match &p.explanation {
                Some(_) => "this error concerns the whole program, not one instruction",
                None => "this program was not rejected: there is no error to go to",
            };
            self.info(msg);
            return;
        };
        let last = p.summary.path.len().checked_sub(1);
        match last.filter(|&k| p.summary.path.get(k).is_some_and(|s| s.idx == fault)) {
            Some(k) => self.goto_step(k),
            None => {
                if let Some(pos) = p.insn_pos(fault) {
                    self.select(pos);
                }
            }
        }
    }

    /// Steps along the failing path: `forward` to the next step, else to the previous one.
    pub fn path_step(&mut self, forward: bool) {
        let Some(p) = self.program() else { return };
        let len = p.summary.path.len();
        if len == 0 {
            self.info("there is no failing path to follow");
            return;
        }
        let Some(v) = self.view() else { return };
        let next = match v.path_pos {
            Some(k) if forward && k + 1 >= len => {
                self.info("at the end of the path: the error");
                return;
            }
            Some(0) if !forward => {
                self.info("at the start of the path");
                return;
            }
            Some(k) if forward => k + 1,
            Some(k) => k - 1,
            // Off the path: the nearest step after (or before) the selected instruction.
            None => {
                let idx = p.insns.get(v.selected).map_or(0, |i| i.idx);
                let path = &p.summary.path;
                let found = if forward {
                    path.iter().position(|s| s.idx > idx)
                } else {
                    path.iter().rposition(|s| s.idx < idx)
                };
                found.unwrap_or(if forward { len - 1 } else { 0 })
            }
        };
        self.goto_step(next);
    }

    /// Shows or hides the register history.
    pub fn toggle_history(&mut self) {
        self.show_history = !self.show_history;
        self.refresh_history();
    }

    /// Follows register `reg` in the history (and shows it).
    pub fn pick_register(&mut self, reg: u8) {
        self.reg = reg.min(10);
        self.show_history = true;
        self.refresh_history();
    }

    /// Shows the next (`forward`) or previous program.
    pub fn switch_program(&mut self, forward: bool) {
        let n = self.programs.len();
        if n < 2 {
            self.info("the object has one program");
            return;
        }
        self.current = if forward {
            (self.current + 1) % n
        } else {
            (self.current + n - 1) % n
        };
        self.enter_program();
    }
}
