//! One command's wall time and peak RSS, measured by a small re-executed copy of this
//! benchmark (the spawner).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::child::KillOnDrop;

/// Set in the environment of this benchmark re-executed as a [`spawner`].
pub const SPAWN_ENV: &str = "XDPDBG_BENCH_SPAWNER";
/// The line a spawner appends to stderr with what it measured.
const MARKER: &str = "@@xdpdbg-bench-rusage";

/// Runs one command and reports its wall time and peak RSS; `main` calls it when [`SPAWN_ENV`]
/// is set. This process is a fresh exec of the benchmark and small, unlike the benchmark with a
/// million-entry map loaded: Linux floors a child's `ru_maxrss` at the RSS of the address space
/// it exec'd from, so peak RSS is only honest for children forked from a small process (GNU
/// `time` works the same way).
pub fn spawner() -> ! {
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("spawner: no program");
    let mut cmd = Command::new(&program);
    cmd.args(args).env_remove(SPAWN_ENV);
    // SAFETY: the hook runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe; it asks the kernel to kill the command if this spawner dies.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let child = cmd.spawn().unwrap_or_else(|e| {
        eprintln!("running {}: {e}", program.to_string_lossy());
        std::process::exit(127)
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain integers; all-zero is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our unreaped child; status and usage point to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            eprintln!("wait4: {e}");
            std::process::exit(127)
        }
    }
    let wall = start.elapsed();
    // Reaped by wait4 already: std must not wait for it again.
    std::mem::forget(child);
    eprint!(
        "\n{MARKER} wall_ns={} maxrss_kib={} status={status}\n",
        wall.as_nanos(),
        usage.ru_maxrss
    );
    std::process::exit(0)
}

/// A command running under a [`spawner`]; killed (and with it the command) if dropped before
/// [`Running::wait`].
pub struct Running {
    child: Option<KillOnDrop>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

pub struct Finished {
    pub wall: Duration,
    pub max_rss_kib: u64,
    pub ok: bool,
    pub status: String,
    pub stderr: String,
}

impl Running {
    pub fn spawn(program: &PathBuf, args: &[&str], stdout: Stdio) -> Self {
        let me = std::env::current_exe().expect("current_exe");
        let mut child = Command::new(me)
            .arg(program)
            .args(args)
            .env(SPAWN_ENV, "1")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the spawner for {}: {e}", program.display()));
        let mut err = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Self {
            child: Some(KillOnDrop(child)),
            stderr: Some(stderr),
        }
    }

    pub fn stdout(&mut self) -> std::process::ChildStdout {
        self.child
            .as_mut()
            .and_then(|c| c.child().stdout.take())
            .expect("stdout is piped")
    }

    pub fn wait(mut self) -> Finished {
        let mut child = self.child.take().expect("not yet waited");
        let spawner = child.child().wait().expect("waiting for the spawner");
        let all = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let Some((stderr, line)) = all.rsplit_once(MARKER) else {
            panic!("the spawner failed ({spawner}): {all}");
        };
        let field = |name: &str| -> i64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("spawner report without {name}: {line}"))
        };
        let status = field("status") as libc::c_int;
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        let status = if libc::WIFEXITED(status) {
            format!("exit status {}", libc::WEXITSTATUS(status))
        } else {
            format!("killed by signal {}", libc::WTERMSIG(status))
        };
        Finished {
            wall: Duration::from_nanos(field("wall_ns") as u64),
            max_rss_kib: field("maxrss_kib") as u64,
            ok,
            status,
            stderr: stderr.trim_end().to_string(),
        }
    }
}
