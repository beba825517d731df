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
//! Split like the map browser: [`data`](load) reads the object through `verifier-explain`
//! (before the terminal is taken), `replay` rebuilds the state along the path, `state` holds
//! the view, `events` maps keys, `draw` renders. [`run`] restores the terminal on every exit
//! path (return, error, panic, SIGTERM); headless, it plays keys on an in-memory screen.

mod data;
mod draw;
mod events;
mod replay;
mod state;

use std::io::{IsTerminal, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::crossterm::event::{self, Event, KeyEventKind};

pub use data::{Input, LoadError, Session, load};
pub use events::{KEY_NAMES, parse_keys};

use super::{Headless, TerminalGuard, text_of};
use draw::Theme;
use state::App;

/// The message when there is no terminal to draw on.
pub const NO_TERMINAL: &str = "the explorer needs a terminal, and stdout is not one; use \
    `--headless --keys KEYS` to print screens, `--json` for the report, or \
    `verifier-explain prog.o` for the explanation as text";

/// Explores `session` until the user quits; with `headless`, plays its keys on an in-memory
/// screen instead and prints the last screen (or writes every screen to its `frames_out`).
pub fn run(session: Session, headless: Option<&Headless>) -> anyhow::Result<()> {
    match headless {
        Some(h) => play_headless(session, h),
        None => interactive(session),
    }
}

/// Rows a page key moves for a screen this high.
fn page_for(height: u16) -> usize {
    usize::from(height.saturating_sub(12).max(1))
}

/// Plays `keys` against an in-memory screen; returns each screen with the key that led to it.
fn play(
    session: Session,
    width: u16,
    height: u16,
    keys: &[String],
) -> anyhow::Result<Vec<(String, String)>> {
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    let theme = Theme { color: false };
    let mut app = App::new(session);
    app.page = page_for(height);
    let mut frames = Vec::new();
    terminal.draw(|f| draw::draw(f, &app, &theme))?;
    frames.push(("start".to_string(), text_of(terminal.backend().buffer())));
    for name in keys {
        if app.quit {
            break;
        }
        for k in events::key_events(name)? {
            events::on_key(&mut app, k);
        }
        terminal.draw(|f| draw::draw(f, &app, &theme))?;
        frames.push((name.clone(), text_of(terminal.backend().buffer())));
    }
    Ok(frames)
}

fn play_headless(session: Session, script: &Headless) -> anyhow::Result<()> {
    let frames = play(session, script.width, script.height, &script.keys)?;
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

fn interactive(session: Session) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() {
        bail!(NO_TERMINAL);
    }
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let theme = Theme { color };
    let mut app = App::new(session);

    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .context("setting up the terminal")?;
    // SIGTERM and SIGHUP (a closed terminal) end the explorer like `q`, so the guard restores
    // the terminal on the way out.
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing signal handlers")?;
    }
    loop {
        app.page = page_for(terminal.size()?.height);
        terminal.draw(|f| draw::draw(f, &app, &theme))?;
        if app.quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if event::poll(Duration::from_millis(200))? {
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => events::on_key(&mut app, k),
                // Drawing adapts to a new size by itself.
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verifier_explain::log::LogSummary;
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

    fn keys(list: &str) -> Vec<String> {
        parse_keys(list).unwrap()
    }

    #[test]
    fn the_error_the_path_and_the_history() {
        let frames = play(session(), 150, 44, &keys("e,h,0,p,p,n,esc,home")).unwrap();
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
            play(session(), w, h, &keys("e h 1 n p tab ?")).unwrap();
        }
    }
}
