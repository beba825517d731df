//! `xdpdbg explain`: a terminal explorer of a verifier rejection at source level.
//!
//! The left pane lists the program's instructions, each source line printed once before the
//! instructions attributed to it; the refused instruction is marked `✗`, the failing path `•`,
//! and the verifier's processed count shows in a column. The right pane shows the registers
//! and stack slots before the selected instruction on the failing path, named as the source
//! variables that live there, with the verifier's state in words; `h` replaces it with one
//! register's history along the path. The bottom pane holds the explanation: its ID,
//! category, line, cause and fix. Keys: arrows move, `e` jumps to the error, `n`/`p` step along
//! the path, `0`-`9`/`a` pick a register, Tab switches program, `q` quits.
//!
//! Split like the map browser, on the [`super::kit`]: [`data`](load) reads the object
//! through `verifier-explain` (before the terminal is taken), `replay` rebuilds the state along
//! the path, `state` holds the view, `events` maps keys, `draw` renders. [`run`] restores the
//! terminal on every exit path (return, error, panic, SIGTERM); headless, it plays keys on an
//! in-memory screen.

mod data;
mod draw;
mod events;
mod history;
mod state;

use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;

pub use data::{Input, LoadError, Session, load};

use super::kit::{self, Headless, Screen, Theme};
use state::App;

/// The message when there is no terminal to draw on.
pub const NO_TERMINAL: &str = "the explorer needs a terminal, and stdout is not one; use \
    `--headless --keys KEYS` to print screens, `--json` for the report, or \
    `verifier-explain prog.o` for the explanation as text";

/// Explores `session` until the user quits; with `headless`, plays its keys on an in-memory
/// screen instead and prints the last screen (or writes every screen to its `frames_out`).
pub fn run(session: Session, headless: Option<&Headless>) -> anyhow::Result<()> {
    kit::run(&mut Explorer(App::new(session)), headless, NO_TERMINAL)
}

/// The explorer, as the event loop drives it.
struct Explorer(App);

impl Screen for Explorer {
    fn fit(&mut self, _width: u16, height: u16) {
        self.0.page = page_for(height);
    }

    fn draw(&self, frame: &mut Frame, theme: &Theme) {
        draw::draw(frame, &self.0, theme);
    }

    fn on_key(&mut self, key: KeyEvent) {
        events::on_key(&mut self.0, key);
    }

    fn quit(&self) -> bool {
        self.0.quit
    }
}

/// Rows a page key moves for a screen this high.
fn page_for(height: u16) -> usize {
    usize::from(height.saturating_sub(12).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::kit::headless::{self, Shot};
    use crate::tui::kit::keys::parse_script;
    use verifier_explain::view::LogSummary;
    use verifier_explain::{Report, VerdictKind};

    const LOG: &str = "\
func#0 @0
0: R1=ctx() R10=fp0
; __u32 ifindex = ctx->ingress_ifindex; @ m.bpf.c:16
0: (61) r1 = *(u32 *)(r1 +12)         ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))
1: (63) *(u32 *)(r10 -4) = r1         ; R1=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=mmmm????
2: (bf) r2 = r10                      ; R2=fp0 R10=fp0
3: (07) r2 += -4                      ; R2=fp-4
; __u64 *count = bpf_map_lookup_elem(&seen, &ifindex); @ m.bpf.c:17
4: (18) r1 = 0xffff888100255c00       ; R1=map_ptr(map=seen,ks=4,vs=8)
6: (85) call bpf_map_lookup_elem#1    ; R0=map_value_or_null(id=1,map=seen,ks=4,vs=8)
; *count += 1; @ m.bpf.c:20
7: (79) r1 = *(u64 *)(r0 +0)
R0 invalid mem access 'map_value_or_null'
verification time 102 usec
stack depth 8
processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
";

    /// A session from the log alone (no object, no kernel).
    fn session() -> Session {
        let report: Report =
            verifier_explain::explain_log(LOG.as_bytes(), None, Some("count_prog")).unwrap();
        let p = &report.programs[0];
        assert_eq!(p.verdict, VerdictKind::Rejected);
        let summary = LogSummary::parse_str(LOG);
        let program = data::tests_support::program(p, summary, LOG);
        Session {
            name: "log m.log".into(),
            programs: vec![program],
            report,
        }
    }

    /// Plays `keys` on the explorer of `session`, `width` × `height`.
    fn play(session: Session, width: u16, height: u16, keys: &str) -> Vec<Shot> {
        let names = parse_script(keys).unwrap();
        headless::play(&mut Explorer(App::new(session)), width, height, &names).unwrap()
    }

    #[test]
    fn the_error_the_path_and_the_history() {
        let frames = play(session(), 150, 44, "e h 0 p p n esc home");
        let at_error = &frames[1].1;
        assert!(at_error.contains(">✗"), "{at_error}");
        assert!(
            at_error.contains("7: r1 = *(u64 *)(r0 +0)  ← rejected here"),
            "{at_error}"
        );
        assert!(at_error.contains("m.bpf.c:20  *count += 1;"), "{at_error}");
        assert!(
            at_error.contains("state before 7: r1 = *(u64 *)(r0 +0) · step 7 of 7"),
            "{at_error}"
        );
        assert!(at_error.contains("null-dereference"), "{at_error}");
        // The explanation's own words for r0 at the fault.
        assert!(
            at_error.contains("may be NULL: the lookup at line 17"),
            "{at_error}"
        );

        let history = &frames[3].1;
        assert!(history.contains("history of r0 · 1 change on"), "{history}");
        assert!(
            history.contains(">step 6     insn 6 line 17  call bpf_map_lookup_elem#1"),
            "{history}"
        );
        assert!(
            history.contains("map_value_or_null(id=1,map=seen,ks=4,vs=8)"),
            "{history}"
        );

        // p twice: step 5 (insn 4), then n: back to step 6 (insn 6).
        let back = &frames[5].1;
        assert!(back.contains(">• 1 4: r1 = 0xffff888100255c00"), "{back}");
        let fwd = &frames[6].1;
        assert!(fwd.contains(">• 1 6: call bpf_map_lookup_elem#1"), "{fwd}");
        // Esc closes the history: the registers again, replayed before the call.
        let regs = &frames[7].1;
        assert!(
            regs.contains("state before 6: call bpf_map_lookup_elem#1 · step 6 of 7"),
            "{regs}"
        );
        assert!(regs.contains("r1  map_ptr(map=seen,ks=4,vs=8)"), "{regs}");
        assert!(regs.contains("r2  fp-4"), "{regs}");
        assert!(regs.contains("fp-8   mmmm????"), "{regs}");
        assert!(regs.contains("after it: R0=map_value_or_null"), "{regs}");
        let start = &frames[8].1;
        assert!(
            start.contains("state before 0: r1 = *(u32 *)(r1 +12) · step 1 of 7"),
            "{start}"
        );
        assert!(start.contains("r1  ctx()"), "{start}");
    }

    #[test]
    fn tiny_screens_do_not_panic() {
        for (w, h) in [(1, 1), (10, 5), (40, 12), (79, 30)] {
            play(session(), w, h, "e h 1 n p tab ?");
        }
    }
}
