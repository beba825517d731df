//! What the screen reads: a [`Source`] of tables and profiles, the real one being
//! [`Collector`] (tests use a fake).

use crate::top::collector::{Collector, FocusReport};
use crate::top::table::Table;

/// What the screen knows of how figures are made, beyond each table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    /// The sampled event's name.
    pub event: String,
    /// Samples per second per CPU.
    pub frequency_hz: u64,
    /// Why helper names are unknown, when they are.
    pub kernel_note: Option<String>,
}

/// Tables and profiles, on demand.
pub trait Source {
    /// Reads waiting samples (often: the rings hold about a second).
    fn drain(&mut self);
    /// The table of the interval since the last refresh.
    fn refresh(&mut self) -> Result<Table, String>;
    /// Switches run-time statistics on or off.
    fn set_stats(&mut self, on: bool) -> Result<(), String>;
    /// True while this tool holds statistics on.
    fn holds_stats(&self) -> bool;
    /// Profiles one program in detail from now on.
    fn focus(&mut self, prog_id: u32);
    /// Stops the detailed profile.
    fn unfocus(&mut self);
    /// The focused program's profile so far.
    fn focus_report(&self) -> Option<FocusReport>;
    /// How figures are made.
    fn setup(&self) -> Setup;
}

impl Source for Collector {
    fn drain(&mut self) {
        Collector::drain(self);
    }
    fn refresh(&mut self) -> Result<Table, String> {
        Collector::refresh(self).map_err(|e| e.to_string())
    }
    fn set_stats(&mut self, on: bool) -> Result<(), String> {
        Collector::set_stats(self, on).map_err(|e| e.to_string())
    }
    fn holds_stats(&self) -> bool {
        Collector::holds_stats(self)
    }
    fn focus(&mut self, prog_id: u32) {
        Collector::focus(self, prog_id);
    }
    fn unfocus(&mut self) {
        Collector::unfocus(self);
    }
    fn focus_report(&self) -> Option<FocusReport> {
        Collector::focus_report(self)
    }
    fn setup(&self) -> Setup {
        Setup {
            event: self.event().name().to_string(),
            frequency_hz: self.frequency_hz(),
            kernel_note: self.kernel_note().map(str::to_string),
        }
    }
}
