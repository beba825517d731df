//! Running a workspace binary as a user would, capturing what it printed and how it exited.
//!
//! The path comes from the caller: `env!("CARGO_BIN_EXE_<name>")` in an integration test of
//! the binary's own crate, or [`Binary::in_target_dir`] where cargo does not set it (a
//! benchmark of another crate, say). Every run has a timeout, so a hung command fails the test
//! with what it printed so far instead of hanging the suite.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run may take unless [`Binary::timeout`] says otherwise: far more than any
/// command of the suite needs, even on a loaded machine, and far less than forever.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A binary to run, with the environment and time limit of every run.
#[derive(Debug, Clone)]
pub struct Binary {
    path: PathBuf,
    envs: Vec<(OsString, OsString)>,
    timeout: Duration,
}

impl Binary {
    /// The binary at `path`, typically `env!("CARGO_BIN_EXE_<name>")`.
    pub fn new(path: impl Into<PathBuf>) -> Binary {
        Binary {
            path: path.into(),
            envs: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The binary `name` of the profile the running test or benchmark was built with: it runs
    /// as `target/<profile>/deps/<name>-<hash>`, the binary is `target/<profile>/<name>`.
    /// The file may not exist (the binary's crate not built in that profile): check
    /// [`Binary::exists`].
    pub fn in_target_dir(name: &str) -> Binary {
        let exe = std::env::current_exe().expect("the running executable's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("tests and benchmarks run from target/<profile>/deps");
        Binary::new(profile_dir.join(name))
    }

    /// Sets `key` to `value` in the environment of every run.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Binary {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Fails a run that takes longer than `timeout` (instead of [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Binary {
        self.timeout = timeout;
        self
    }

    /// The binary's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the binary's file exists.
    pub fn exists(&self) -> bool {
        self.path.is_file()
    }

    /// A command for the binary with this environment, for what [`Binary::run`] does not
    /// cover (a child that keeps running, another stdout); it has no timeout.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.path);
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs the binary with `args` and empty stdin; returns its exit status, stdout and
    /// stderr. Panics if it cannot start or runs past the timeout (killed, with what it
    /// printed so far).
    #[track_caller]
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.run_with(args, None)
    }

    /// [`Binary::run`] with `stdin` written to the binary's standard input, then closed.
    #[track_caller]
    pub fn run_with_stdin<S: AsRef<OsStr>>(&self, args: &[S], stdin: &[u8]) -> Output {
        self.run_with(args, Some(stdin))
    }

    #[track_caller]
    fn run_with<S: AsRef<OsStr>>(&self, args: &[S], stdin: Option<&[u8]>) -> Output {
        let shown = self.shown(args);
        let mut child = self
            .command()
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout kills whatever it started as well.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `{shown}`: {e}"));
        // Written from a thread: a command that prints before it reads must not block on a
        // full pipe while this thread blocks writing its input.
        let writer = stdin.map(|input| {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            let input = input.to_vec();
            std::thread::spawn(move || {
                // A command that exits without reading all of it closes the pipe: not an error.
                let _ = pipe.write_all(&input);
            })
        });
        let stdout = Drain::start(child.stdout.take());
        let stderr = Drain::start(child.stderr.take());
        let status = wait_within(&mut child, self.timeout);
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        match status {
            Some(status) => Output {
                status,
                stdout: stdout.finish(),
                stderr: stderr.finish(),
            },
            None => panic!(
                "`{shown}` did not finish within {:?} and was killed\nstdout so far:\n{}\nstderr \
                 so far:\n{}",
                self.timeout,
                String::from_utf8_lossy(&stdout.so_far()),
                String::from_utf8_lossy(&stderr.so_far())
            ),
        }
    }

    /// The command line, for messages.
    fn shown<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        std::iter::once(self.path.as_os_str())
            .chain(args.iter().map(AsRef::as_ref))
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A pipe read to its end on a thread, into a buffer that can be looked at before the end.
struct Drain {
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Drain {
    fn start(pipe: Option<impl Read + Send + 'static>) -> Drain {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&bytes);
        let reader = std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock()
                    .expect("no reader panics")
                    .extend_from_slice(&chunk[..n]);
            }
        });
        Drain { bytes, reader }
    }

    /// Everything, once the pipe's last writer closed it.
    fn finish(self) -> Vec<u8> {
        let _ = self.reader.join();
        std::mem::take(&mut *self.bytes.lock().expect("no reader panics"))
    }

    /// What came so far, after a moment for the rest (a killed command's pipe may stay open
    /// in a process that escaped its group).
    fn so_far(&self) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(1);
        while !self.reader.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.bytes.lock().expect("no reader panics").clone()
    }
}

/// Waits for `child` up to `timeout`: its exit status, or None after killing its process group
/// (the command and whatever it started) and reaping it.
fn wait_within(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A run's exit status, stdout and stderr as text, for an assertion's message.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_stdout_stderr_and_the_exit_code() {
        let sh = Binary::new("/bin/sh");
        let out = sh.run(&["-c", "echo out; echo err >&2; exit 3"]);
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert!(describe(&out).contains("status Some(3)"));
    }

    #[test]
    fn feeds_stdin_and_sets_the_environment() {
        let sh = Binary::new("/bin/sh").env("TESTKIT_WORD", "word");
        let out = sh.run_with_stdin(&["-c", "cat; echo $TESTKIT_WORD"], b"input\n");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "input\nword\n");
        let out = sh.run(&["-c", "cat"]);
        assert!(out.stdout.is_empty(), "stdin is empty without input");
    }

    #[test]
    fn a_hung_command_fails_instead_of_hanging() {
        let sh = Binary::new("/bin/sh").timeout(Duration::from_millis(200));
        let start = Instant::now();
        let panicked = std::panic::catch_unwind(|| sh.run(&["-c", "echo started; sleep 30"]));
        let message = panicked.expect_err("the run times out");
        let message = message
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(message.contains("did not finish within"), "{message}");
        assert!(message.contains("started"), "{message}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
