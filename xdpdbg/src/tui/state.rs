//! The browser's state and every change to it: no drawing, no terminal, no kernel.
//!
//! Changes that need the kernel are returned as an [`Action`]; the loop in the parent module
//! performs it through a [`super::data::Source`] and hands the result back with
//! [`App::set_maps`], [`App::set_entries`] or [`App::set_done`].

use serde_json::Value;

use bpf_maps::Schema;
use bpf_maps::inventory::MapSummary;
use bpf_maps::typed::Filter;

/// Something only the kernel can do; the loop performs it and reports back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read the map list again.
    RefreshMaps,
    /// Open this map and read its entries.
    Open(u32),
    /// Read the open map's entries again.
    RefreshEntries(u32),
    /// Delete one key of a map.
    Delete {
        /// Map id.
        id: u32,
        /// The key's bytes.
        key: Vec<u8>,
    },
    /// Apply `field=value` edits (or a whole value) onto one entry's current value.
    Edit {
        /// Map id.
        id: u32,
        /// The key's bytes.
        key: Vec<u8>,
        /// What the user typed.
        text: String,
    },
}

/// Why a map operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The map no longer exists (or its id now belongs to another map).
    Gone(u32),
    /// Anything else, in words.
    Failed(String),
}

/// One entry of the open map, decoded.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key's bytes.
    pub key: Vec<u8>,
    /// The key as JSON (typed with BTF, else hex).
    pub key_json: Value,
    /// The value as JSON (per-CPU values summed; without BTF, each CPU's copy).
    pub value_json: Value,
    /// One CPU's copy of the value (CPU 0), which edits start from.
    pub one_cpu_json: Value,
    /// The whole entry (`{"key":..,"value":..,"per_cpu":[..]}`), for the detail view.
    pub full_json: Value,
    /// The key as shown (compact JSON, strings bare).
    pub key_text: String,
    /// The value as shown.
    pub value_text: String,
    /// Both, lowercased, for searching.
    haystack: String,
}

impl Entry {
    /// An entry from its bytes and decoded forms.
    pub fn new(key: Vec<u8>, full_json: Value, one_cpu_json: Value) -> Self {
        let key_json = full_json.get("key").cloned().unwrap_or(Value::Null);
        let value_json = match (full_json.get("value"), full_json.get("per_cpu")) {
            (Some(Value::Null) | None, Some(per_cpu)) => per_cpu.clone(),
            (Some(v), _) => v.clone(),
            (None, None) => Value::Null,
        };
        let key_text = compact(&key_json);
        let value_text = compact(&value_json);
        let haystack = format!("{key_text} {value_text}").to_lowercase();
        Self {
            key,
            key_json,
            value_json,
            one_cpu_json,
            full_json,
            key_text,
            value_text,
            haystack,
        }
    }
}

/// One reading of a map's entries, with what is needed to show and filter them.
#[derive(Clone)]
pub struct EntrySet {
    /// Map id.
    pub id: u32,
    /// Map name.
    pub name: String,
    /// Map type name.
    pub kind: String,
    /// Capacity.
    pub max_entries: u32,
    /// True for arrays (entries cannot be deleted).
    pub is_array: bool,
    /// The number of CPUs for per-CPU maps.
    pub per_cpu: Option<usize>,
    /// The map's key and value types.
    pub schema: Schema,
    /// How the entries were read (`batch-per-bucket`, ...).
    pub method: &'static str,
    /// The entries, in the kernel's order.
    pub entries: Vec<Entry>,
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The map list.
    Maps,
    /// The open map's entries.
    Entries,
}

/// What the keyboard is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Moving around and giving commands.
    Normal,
    /// Typing a search (applied as it is typed); `previous` comes back on Esc.
    Search {
        /// The text so far.
        input: String,
        /// The search before this one started.
        previous: String,
    },
    /// Typing a filter expression (applied on Enter).
    Filter {
        /// The text so far.
        input: String,
    },
    /// Typing edits for one entry's value.
    Edit {
        /// The key being edited.
        key: Vec<u8>,
        /// The key as shown.
        key_text: String,
        /// The text so far.
        input: String,
    },
    /// Waiting for y/n before deleting a key.
    ConfirmDelete {
        /// The key to delete.
        key: Vec<u8>,
        /// The key as shown.
        key_text: String,
    },
    /// The help screen.
    Help,
    /// The selected entry in full.
    Detail,
}

/// How a status message is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Information.
    Info,
    /// Something failed.
    Error,
}

/// The open map's view: its entries and what narrows them.
#[derive(Clone)]
pub struct EntryView {
    /// The last reading.
    pub set: EntrySet,
    /// Substring search (case-insensitive) over the key and value text.
    pub search: String,
    /// A filter expression and its parsed form.
    pub filter: Option<(String, Filter)>,
    /// Indexes into `set.entries` of the entries shown.
    pub visible: Vec<usize>,
    /// Selected row, an index into `visible`.
    pub selected: usize,
}

impl EntryView {
    fn new(set: EntrySet) -> Self {
        let mut v = Self {
            set,
            search: String::new(),
            filter: None,
            visible: Vec::new(),
            selected: 0,
        };
        v.rebuild(None);
        v
    }

    /// The selected entry.
    pub fn current(&self) -> Option<&Entry> {
        self.visible
            .get(self.selected)
            .map(|&i| &self.set.entries[i])
    }

    /// Recomputes the visible rows, keeping `keep` (a key) selected if it is still shown.
    fn rebuild(&mut self, keep: Option<Vec<u8>>) {
        let needle = self.search.to_lowercase();
        self.visible = self
            .set
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| needle.is_empty() || e.haystack.contains(&needle))
            .filter(|(_, e)| {
                self.filter
                    .as_ref()
                    .is_none_or(|(_, f)| f.matches(&e.key_json, &e.value_json))
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(key) = keep
            && let Some(pos) = self
                .visible
                .iter()
                .position(|&i| self.set.entries[i].key == key)
        {
            self.selected = pos;
        }
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
    }
}

/// The whole state of the browser.
pub struct App {
    /// Every map, as last listed.
    pub maps: Vec<MapSummary>,
    /// Substring search (case-insensitive) over map names and types, or an exact id (`42`
    /// or `id:42`, which matches the id only).
    pub map_search: String,
    /// Indexes into `maps` of the maps shown.
    pub visible_maps: Vec<usize>,
    /// Selected map row, an index into `visible_maps`.
    pub map_selected: usize,
    /// The open map, if any.
    pub open: Option<EntryView>,
    /// Which pane has the keyboard.
    pub focus: Focus,
    /// What the keyboard is doing.
    pub mode: Mode,
    /// The last message, and how to show it.
    pub status: Option<(Tone, String)>,
    /// True when live refresh is paused.
    pub paused: bool,
    /// Live refresh period in milliseconds.
    pub refresh_ms: u64,
    /// Rows a page-up or page-down moves.
    pub page: usize,
    /// Set when the user quits.
    pub quit: bool,
}

impl App {
    /// A browser with nothing loaded yet.
    pub fn new(refresh_ms: u64) -> Self {
        Self {
            maps: Vec::new(),
            map_search: String::new(),
            visible_maps: Vec::new(),
            map_selected: 0,
            open: None,
            focus: Focus::Maps,
            mode: Mode::Normal,
            status: None,
            paused: false,
            refresh_ms,
            page: 10,
            quit: false,
        }
    }

    /// The selected map.
    pub fn selected_map(&self) -> Option<&MapSummary> {
        self.visible_maps
            .get(self.map_selected)
            .map(|&i| &self.maps[i])
    }

    /// Shows an informational message.
    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some((Tone::Info, text.into()));
    }

    /// Shows an error.
    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some((Tone::Error, text.into()));
    }

    /// What a refresh tick does now (nothing while paused).
    pub fn tick(&self) -> Option<Action> {
        if self.paused {
            return None;
        }
        Some(self.refresh_action())
    }

    /// What a forced refresh reads: the open map's entries, else the list.
    pub fn refresh_action(&self) -> Action {
        match (&self.open, self.focus) {
            (Some(v), Focus::Entries) => Action::RefreshEntries(v.set.id),
            _ => Action::RefreshMaps,
        }
    }

    /// Takes a new map list (or the error reading it).
    pub fn set_maps(&mut self, maps: Result<Vec<MapSummary>, String>) {
        match maps {
            Ok(maps) => {
                let keep = self.selected_map().map(|m| m.id);
                self.maps = maps;
                self.rebuild_maps(keep);
            }
            Err(e) => self.error(format!("listing maps failed: {e}")),
        }
    }

    fn rebuild_maps(&mut self, keep: Option<u32>) {
        let needle = self.map_search.trim().to_lowercase();
        // `id:42` picks one map by id.
        let id = needle
            .strip_prefix("id:")
            .map(|n| n.trim().parse::<u32>().ok());
        self.visible_maps = self
            .maps
            .iter()
            .enumerate()
            .filter(|(_, m)| match id {
                Some(id) => id == Some(m.id),
                None => {
                    needle.is_empty()
                        || m.name.to_lowercase().contains(&needle)
                        || m.kind.contains(&needle)
                        || m.id.to_string() == needle
                }
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(id) = keep
            && let Some(pos) = self
                .visible_maps
                .iter()
                .position(|&i| self.maps[i].id == id)
        {
            self.map_selected = pos;
        }
        self.map_selected = self
            .map_selected
            .min(self.visible_maps.len().saturating_sub(1));
    }

    /// Takes a reading of a map's entries (after opening it or refreshing it).
    ///
    /// Returns what to do next: a map that is gone sends the browser back to a fresh list.
    pub fn set_entries(&mut self, result: Result<EntrySet, Failure>) -> Option<Action> {
        match result {
            Ok(set) => {
                match &mut self.open {
                    Some(view) if view.set.id == set.id => {
                        let keep = view.current().map(|e| e.key.clone());
                        view.set = set;
                        view.rebuild(keep);
                    }
                    _ => {
                        self.open = Some(EntryView::new(set));
                        self.mode = Mode::Normal;
                    }
                }
                self.focus = Focus::Entries;
                None
            }
            Err(f) => self.failed(f),
        }
    }

    /// Takes the outcome of a delete or an edit; success reads the entries again.
    pub fn set_done(&mut self, result: Result<String, Failure>) -> Option<Action> {
        match result {
            Ok(msg) => {
                self.info(msg);
                self.open.as_ref().map(|v| Action::RefreshEntries(v.set.id))
            }
            Err(f) => self.failed(f),
        }
    }

    fn failed(&mut self, f: Failure) -> Option<Action> {
        match f {
            Failure::Gone(id) => {
                if self.open.as_ref().is_some_and(|v| v.set.id == id) {
                    self.close();
                }
                self.error(format!("map {id} is gone"));
                Some(Action::RefreshMaps)
            }
            Failure::Failed(e) => {
                self.error(e);
                None
            }
        }
    }

    /// Closes the open map and gives the keyboard back to the list.
    pub fn close(&mut self) {
        self.open = None;
        self.focus = Focus::Maps;
        if !matches!(self.mode, Mode::Help) {
            self.mode = Mode::Normal;
        }
    }

    /// Moves the selection of the focused pane by `delta` rows (clamped).
    pub fn move_by(&mut self, delta: isize) {
        fn step(sel: usize, len: usize, delta: isize) -> usize {
            if len == 0 {
                return 0;
            }
            sel.saturating_add_signed(delta).min(len - 1)
        }
        match (self.focus, &mut self.open) {
            (Focus::Entries, Some(v)) => v.selected = step(v.selected, v.visible.len(), delta),
            _ => self.map_selected = step(self.map_selected, self.visible_maps.len(), delta),
        }
    }

    /// Moves the selection to the first (`false`) or last (`true`) row.
    pub fn move_to_end(&mut self, last: bool) {
        self.move_by(if last { isize::MAX } else { isize::MIN });
    }

    /// The search of the focused pane.
    pub fn search(&self) -> &str {
        match (self.focus, &self.open) {
            (Focus::Entries, Some(v)) => &v.search,
            _ => &self.map_search,
        }
    }

    /// Sets the search of the focused pane and applies it.
    pub fn set_search(&mut self, text: &str) {
        match (self.focus, &mut self.open) {
            (Focus::Entries, Some(v)) => {
                let keep = v.current().map(|e| e.key.clone());
                v.search = text.to_string();
                v.rebuild(keep);
            }
            _ => {
                let keep = self.selected_map().map(|m| m.id);
                self.map_search = text.to_string();
                self.rebuild_maps(keep);
            }
        }
    }

    /// Sets the open map's filter from an expression (empty clears it); a bad expression, or
    /// one naming a field the types lack, is shown as an error and changes nothing.
    pub fn set_filter(&mut self, text: &str) {
        let Some(v) = &mut self.open else {
            self.error("f filters a map's entries: open a map with Enter first");
            return;
        };
        let keep = v.current().map(|e| e.key.clone());
        let text = text.trim();
        if text.is_empty() {
            v.filter = None;
            v.rebuild(keep);
            self.info("filter cleared");
            return;
        }
        let parsed = Filter::parse(text).and_then(|f| {
            f.check(v.set.schema.key.as_ref(), v.set.schema.value.as_ref())?;
            Ok(f)
        });
        match parsed {
            Ok(f) => {
                v.filter = Some((text.to_string(), f));
                v.rebuild(keep);
                let shown = v.visible.len();
                self.info(format!(
                    "filter {text}: {shown} matching entr{}",
                    if shown == 1 { "y" } else { "ies" }
                ));
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Starts editing the selected entry; the input is prefilled with its current value.
    pub fn start_edit(&mut self) {
        let Some(v) = &self.open else {
            self.error("e edits an entry: open a map with Enter first");
            return;
        };
        let Some(e) = v.current() else {
            self.error("there is no entry to edit");
            return;
        };
        self.mode = Mode::Edit {
            key: e.key.clone(),
            key_text: e.key_text.clone(),
            input: edit_text(&e.one_cpu_json),
        };
    }

    /// Asks for confirmation before deleting the selected entry.
    pub fn start_delete(&mut self) {
        let Some(v) = &self.open else {
            self.error("d deletes an entry: open a map with Enter first");
            return;
        };
        if v.set.is_array {
            let kind = v.set.kind.clone();
            self.error(format!(
                "{kind} entries always exist and cannot be deleted; edit the value instead (e)"
            ));
            return;
        }
        let Some(e) = v.current() else {
            self.error("there is no entry to delete");
            return;
        };
        self.mode = Mode::ConfirmDelete {
            key: e.key.clone(),
            key_text: e.key_text.clone(),
        };
    }
}

/// A JSON value as one line: strings without their quotes, everything else compact JSON.
pub fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value written as the edit notation accepts it: `field=value,...` for structs (nested
/// members with dots, arrays as JSON), the bare value for scalars.
pub fn edit_text(v: &Value) -> String {
    fn fields(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, inner) in m {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    fields(&path, inner, out);
                }
            }
            Value::String(s) if s.contains([',', '"', '=']) || s.trim() != s || s.is_empty() => {
                out.push(format!("{prefix}={v}"));
            }
            other => out.push(format!("{prefix}={}", compact(other))),
        }
    }
    match v {
        Value::Object(_) => {
            let mut out = Vec::new();
            fields("", v, &mut out);
            out.join(",")
        }
        Value::Null => String::new(),
        other => compact(other),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bpf_sys::MapInfo;
    use serde_json::json;

    pub(crate) fn summary(id: u32, name: &str, kind: &str) -> MapSummary {
        MapSummary {
            id,
            name: name.to_string(),
            kind: kind.to_string(),
            key_size: 4,
            value_size: 8,
            entries: Some(2),
            max_entries: 16,
            flags: Vec::new(),
            memory_bytes: None,
            frozen: false,
            btf_id: None,
            programs: Vec::new(),
            processes: Vec::new(),
            pinned: Vec::new(),
        }
    }

    pub(crate) fn set(id: u32, entries: &[(u32, &str)]) -> EntrySet {
        let info = MapInfo {
            id,
            map_type: 1,
            name: "counts".into(),
            key_size: 4,
            value_size: 8,
            max_entries: 16,
            flags: 0,
            btf_id: 0,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
            map_extra: 0,
        };
        EntrySet {
            id,
            name: "counts".into(),
            kind: "hash".into(),
            max_entries: 16,
            is_array: false,
            per_cpu: None,
            schema: Schema::from_parts(&info, None, None).unwrap(),
            method: "batch-per-bucket",
            entries: entries
                .iter()
                .map(|(k, v)| {
                    Entry::new(
                        k.to_ne_bytes().to_vec(),
                        json!({"key": k.to_string(), "value": v}),
                        json!(v),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn map_search_keeps_the_selection_and_clamps() {
        let mut app = App::new(1000);
        app.set_maps(Ok(vec![
            summary(1, "counts", "hash"),
            summary(2, "fdb", "lru_hash"),
            summary(3, "stats", "percpu_array"),
        ]));
        assert_eq!(app.visible_maps.len(), 3);
        app.move_by(1);
        assert_eq!(app.selected_map().unwrap().name, "fdb");
        app.set_search("FD");
        assert_eq!(app.visible_maps, [1]);
        assert_eq!(app.selected_map().unwrap().id, 2);
        app.set_search("array");
        assert_eq!(app.selected_map().unwrap().id, 3);
        app.set_search("id:3");
        assert_eq!(app.visible_maps, [2]);
        app.set_search("id:x");
        assert!(app.visible_maps.is_empty());
        app.set_search("nothing");
        assert!(app.selected_map().is_none());
        app.set_search("");
        app.move_to_end(true);
        assert_eq!(app.selected_map().unwrap().id, 3);
        app.move_by(-10);
        assert_eq!(app.selected_map().unwrap().id, 1);
        // A refresh keeps the same map selected even when the order changes.
        app.move_by(1);
        app.set_maps(Ok(vec![
            summary(2, "fdb", "lru_hash"),
            summary(1, "c", "hash"),
        ]));
        assert_eq!(app.selected_map().unwrap().id, 2);
    }

    #[test]
    fn entries_open_search_and_refresh_keep_the_selected_key() {
        let mut app = App::new(1000);
        assert_eq!(
            app.set_entries(Ok(set(7, &[(1, "aa"), (2, "bb"), (3, "ab")]))),
            None
        );
        assert_eq!(app.focus, Focus::Entries);
        assert_eq!(app.tick(), Some(Action::RefreshEntries(7)));
        app.set_search("A");
        let v = app.open.as_ref().unwrap();
        assert_eq!(v.visible, [0, 2]);
        app.move_by(1);
        assert_eq!(app.open.as_ref().unwrap().current().unwrap().key_text, "3");
        // The next reading has the entries in another order: key 3 stays selected.
        app.set_entries(Ok(set(7, &[(3, "ab"), (9, "zz"), (1, "aa")])));
        let v = app.open.as_ref().unwrap();
        assert_eq!(v.current().unwrap().key_text, "3");
        assert_eq!(v.visible, [0, 2]);
        app.paused = true;
        assert_eq!(app.tick(), None);
    }

    #[test]
    fn filters_use_the_typed_filter_and_report_bad_expressions() {
        let mut app = App::new(1000);
        app.set_entries(Ok(set(7, &[(1, "aa"), (2, "bb")])));
        app.set_filter("key=2");
        let v = app.open.as_ref().unwrap();
        assert_eq!(v.visible, [1], "{:?}", app.status);
        assert_eq!(app.status.as_ref().unwrap().0, Tone::Info);
        app.set_filter("no operator");
        assert_eq!(app.status.as_ref().unwrap().0, Tone::Error);
        assert!(app.status.as_ref().unwrap().1.contains("bad filter"));
        // The previous filter stays.
        assert_eq!(app.open.as_ref().unwrap().visible, [1]);
        app.set_filter("");
        assert_eq!(app.open.as_ref().unwrap().visible, [0, 1]);
    }

    #[test]
    fn a_vanished_map_goes_back_to_the_list() {
        let mut app = App::new(1000);
        app.set_entries(Ok(set(7, &[(1, "aa")])));
        let next = app.set_entries(Err(Failure::Gone(7)));
        assert_eq!(next, Some(Action::RefreshMaps));
        assert!(app.open.is_none());
        assert_eq!(app.focus, Focus::Maps);
        assert_eq!(app.status, Some((Tone::Error, "map 7 is gone".to_string())));
        // Other failures keep the view.
        app.set_entries(Ok(set(7, &[(1, "aa")])));
        assert_eq!(app.set_done(Err(Failure::Failed("EPERM".into()))), None);
        assert!(app.open.is_some());
        assert_eq!(
            app.set_done(Ok("deleted".into())),
            Some(Action::RefreshEntries(7))
        );
    }

    #[test]
    fn edit_text_uses_field_notation() {
        assert_eq!(
            edit_text(&json!({"packets": 3, "tag": {"vlan": 10}, "name": "a,b", "b": [1, 2]})),
            r#"packets=3,tag.vlan=10,name="a,b",b=[1,2]"#
        );
        assert_eq!(edit_text(&json!("01 00 00 00")), "01 00 00 00");
        assert_eq!(edit_text(&json!(42)), "42");
        assert_eq!(edit_text(&Value::Null), "");
    }

    #[test]
    fn arrays_refuse_deletes_before_asking() {
        let mut app = App::new(1000);
        let mut s = set(7, &[(0, "aa")]);
        s.is_array = true;
        s.kind = "array".into();
        app.set_entries(Ok(s));
        app.start_delete();
        assert_eq!(app.mode, Mode::Normal);
        assert!(app.status.as_ref().unwrap().1.contains("cannot be deleted"));
    }
}
