//! Child processes whose pipes are registered with the reactor: a task
//! reads a child's stdout and writes its stdin like a socket, with no
//! thread per child. Used by the Docker client's `ssh://` transport, which
//! speaks HTTP over `ssh … docker system dial-stdio`.
//!
//! A [`Child`] owns its process *group* (the child is started as a group
//! leader): dropping it kills the whole group with `SIGKILL` and reaps the
//! leader, so neither a hung `ssh` nor anything it started outlives the
//! handle, and no zombie is left. Exit is observed through a pidfd
//! registered with the reactor (Linux 5.3+); where there is none, it is
//! polled on a short timer.

use crate::reactor::{Direction, PollEvented};
use mio::unix::pipe;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

/// A running child process and its process group.
pub(crate) struct Child {
    /// `None` once reaped.
    child: Option<std::process::Child>,
    /// Readable once the child exited (a pidfd), when the kernel has them.
    exit: Option<PollEvented<PidFd>>,
    status: Option<ExitStatus>,
}

/// The three pipes of a spawned child.
pub(crate) struct Pipes {
    pub(crate) stdin: PipeWriter,
    pub(crate) stdout: PipeReader,
    pub(crate) stderr: PipeReader,
}

impl Child {
    /// Starts `cmd` as the leader of a new process group, with all three
    /// standard streams piped and registered with the current runtime's
    /// reactor.
    ///
    /// # Errors
    ///
    /// What `fork`/`exec` reported (`NotFound` for a missing program), or a
    /// registration error outside a runtime.
    pub(crate) fn spawn(cmd: &mut Command) -> io::Result<(Child, Pipes)> {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        // From here on `guard` kills and reaps the child on any error.
        let mut guard = Child {
            exit: PidFd::open(child.id())
                .and_then(|fd| PollEvented::new(fd, mio::Interest::READABLE).ok()),
            child: Some(child),
            status: None,
        };
        let pipes = (|| {
            Ok::<_, io::Error>(Pipes {
                stdin: PipeWriter::new(pipe::Sender::from(stdin))?,
                stdout: PipeReader::new(pipe::Receiver::from(stdout))?,
                stderr: PipeReader::new(pipe::Receiver::from(stderr))?,
            })
        })();
        match pipes {
            Ok(p) => Ok((std::mem::replace(&mut guard, Child::reaped()), p)),
            Err(e) => Err(e), // `guard` drops: killed and reaped
        }
    }

    fn reaped() -> Child {
        Child {
            child: None,
            exit: None,
            status: None,
        }
    }

    /// The exit status, if the child has exited (reaps it).
    ///
    /// A child reaped by someone else (`SIGCHLD` ignored, or another
    /// `waitpid(-1)` in the process) has exited with a status nobody can
    /// know: it reads as exit code 255, what `ssh` itself exits with on an
    /// error.
    pub(crate) fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = self.child.as_mut() {
                match c.try_wait() {
                    Ok(Some(st)) => self.status = Some(st),
                    Ok(None) => {}
                    Err(_) => {
                        use std::os::unix::process::ExitStatusExt;
                        self.status = Some(ExitStatus::from_raw(255 << 8));
                    }
                }
            }
        }
        self.status
    }

    /// Waits (at most `limit`) for the child to exit; its status, or `None`
    /// if it still runs.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    pub(crate) async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let wait = async {
            loop {
                if let Some(st) = self.try_status() {
                    return st;
                }
                match &self.exit {
                    // The pidfd turns readable when the child exits.
                    Some(fd) => {
                        let ready =
                            poll_fn(|cx| fd.registration().poll_ready(cx, Direction::Read)).await;
                        // Readable (or failed) yet not reaped: never spin on
                        // a readiness that stays set.
                        if ready.is_err() || self.try_status().is_none() {
                            crate::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    // No pidfd: poll the status on a short timer.
                    None => crate::time::sleep(Duration::from_millis(10)).await,
                }
            }
        };
        crate::time::timeout(limit, wait).await.ok()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if self.status.is_none() {
            // The leader is not reaped yet, so its pid still names the
            // group: no other process can have been given it.
            let pgid = child.id() as libc::pid_t;
            // SAFETY: kill(2) with a negative pid signals a process group;
            // it takes no pointers.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            // SIGKILL cannot be caught: the wait is short.
            let _ = child.wait();
        }
    }
}

/// A pidfd: readable once the process exited.
struct PidFd(OwnedFd);

impl PidFd {
    fn open(pid: u32) -> Option<PidFd> {
        // SAFETY: pidfd_open(2) takes a pid and flags, no pointers; a
        // negative return is an error and owns nothing.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the syscall returned a new descriptor that nothing else
        // owns.
        Some(PidFd(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
    }
}

impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

/// The read end of a child's pipe.
pub(crate) struct PipeReader(PollEvented<pipe::Receiver>);

impl PipeReader {
    fn new(rx: pipe::Receiver) -> io::Result<PipeReader> {
        rx.set_nonblocking(true)?;
        Ok(PipeReader(PollEvented::new(rx, mio::Interest::READABLE)?))
    }

    /// Reads into `buf`; `Ready(Ok(0))` at end of file.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let rx = self.0.get_ref();
        self.0
            .registration()
            .poll_io(cx, Direction::Read, || (&*rx).read(buf))
    }

    /// Reads what is there without waiting: `Ok(None)` when nothing is
    /// (yet), `Ok(Some(0))` at end of file.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.0.get_ref().read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The write end of a child's pipe; dropping it closes the pipe (the child
/// reads end of file).
pub(crate) struct PipeWriter(PollEvented<pipe::Sender>);

impl PipeWriter {
    fn new(tx: pipe::Sender) -> io::Result<PipeWriter> {
        tx.set_nonblocking(true)?;
        Ok(PipeWriter(PollEvented::new(tx, mio::Interest::WRITABLE)?))
    }

    /// Writes some of `buf`.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let tx = self.0.get_ref();
        self.0
            .registration()
            .poll_io(cx, Direction::Write, || (&*tx).write(buf))
    }
}
