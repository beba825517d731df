//! The programs the scale measurement adds: a re-executed copy of this benchmark (the holder)
//! loads them and holds their file descriptors until told to go, so they exist exactly while
//! the holder runs and go with it on every path.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bpf_sys::ProgFd;
use testkit::child::KillOnDrop;

/// Set (to the number of programs) in the environment of this benchmark re-executed as a
/// [`holder`].
pub const HOLDER_ENV: &str = "XDPDBG_TOP_BENCH_HOLDER";
/// The fixture every held program is loaded from: `xdp_pass` (2 instructions, with BTF and
/// line info, so the inventory does its full work for each).
const FIXTURE: &str = "xdp_pass";
/// How long the holder may take to load its programs.
const LOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// Loads `n` programs, prints `ready <id>,<id>,...`, and holds them until stdin closes; `main`
/// calls it when [`HOLDER_ENV`] is set. Dies with the benchmark (`PR_SET_PDEATHSIG`).
pub fn holder(n: usize) -> ! {
    // Each program is a file descriptor: allow them (the hard limit is the ceiling).
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write a plain struct that outlives the calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    let mut progs: Vec<ProgFd> = Vec::with_capacity(n);
    for _ in 0..n {
        // The object (its BTF fd) goes; the program keeps its BTF and lives through `fd`.
        let (_object, fd) = testkit::fixture::load_xdp(FIXTURE, FIXTURE);
        progs.push(fd);
    }
    let ids: Vec<String> = progs
        .iter()
        .map(|p| p.info().expect("a held program's info").id.to_string())
        .collect();
    println!("ready {}", ids.join(","));
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(progs);
    std::process::exit(0)
}

/// A running [`holder`] and the ids of its programs.
pub struct Holder {
    child: KillOnDrop,
    /// The held programs' ids.
    pub ids: Vec<u32>,
}

impl Holder {
    /// Starts a holder of `n` programs and waits until they are loaded.
    pub fn start(n: usize) -> Result<Self> {
        let me = std::env::current_exe().context("this benchmark's path")?;
        let mut cmd = Command::new(me);
        cmd.env(HOLDER_ENV, n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: the hook runs between fork and exec and only calls prctl(2), which is
        // async-signal-safe: the holder (and its programs) die with this process.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = KillOnDrop(cmd.spawn().context("starting the program holder")?);
        let stdout = child.child().stdout.take().context("stdout is piped")?;
        let mut stderr = child.child().stderr.take().context("stderr is piped")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(LOAD_TIMEOUT).unwrap_or_default();
        let Some(list) = line.trim().strip_prefix("ready ") else {
            let _ = child.child().kill();
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            bail!(
                "the holder did not load {n} programs within {LOAD_TIMEOUT:?}: {}",
                err.trim()
            );
        };
        let ids: Vec<u32> = list
            .split(',')
            .map(|id| id.parse().context("a program id"))
            .collect::<Result<_>>()?;
        ensure!(
            ids.len() == n,
            "the holder loaded {} programs, not {n}",
            ids.len()
        );
        Ok(Self { child, ids })
    }

    /// Lets the holder go (closing its stdin) and waits until its programs are gone.
    pub fn stop(mut self) -> Result<()> {
        drop(self.child.child().stdin.take());
        let status = self
            .child
            .child()
            .wait()
            .context("waiting for the holder")?;
        ensure!(status.success(), "the holder exited with {status}");
        // Programs are freed after their last reference, a little later (RCU).
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.ids.iter().any(|&id| ProgFd::from_id(id).is_ok()) {
            ensure!(
                Instant::now() < deadline,
                "the held programs were still loaded 10 s after the holder exited"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}
