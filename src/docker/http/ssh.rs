//! `ssh://` engines, as the docker CLI reaches them: the system `ssh` runs
//! `docker system dial-stdio` on the remote, and HTTP flows over its stdin
//! and stdout (pipes registered with the reactor; no thread per
//! connection). Each connection is one `ssh` process, and pooled
//! connections keep theirs; the process group is killed when the
//! connection is dropped.

use super::error::{SshProblem, TransportProblem};
use super::transport::Stream;
use crate::process::{Child, PipeReader, PipeWriter};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::Command;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long a dead `ssh` gets to report its exit status and message.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// Most of `ssh`'s stderr kept for the diagnosis.
const MAX_STDERR: usize = 8 * 1024;

/// How `ssh` is run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshSettings {
    /// The program (`ssh`).
    pub(crate) program: String,
    /// Extra arguments before the destination (`-i key`, `-o …`).
    pub(crate) args: Vec<String>,
    /// `ssh -o ConnectTimeout=` (whole seconds, at least 1).
    pub(crate) connect_timeout: Duration,
}

impl Default for SshSettings {
    fn default() -> Self {
        SshSettings {
            program: "ssh".to_owned(),
            args: Vec::new(),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// One `ssh … docker system dial-stdio` process as a byte stream.
pub(crate) struct SshStream {
    // Field order: the pipes close before the child is killed and reaped.
    stdin: Option<PipeWriter>,
    stdout: PipeReader,
    stderr: PipeReader,
    /// The last `MAX_STDERR` bytes `ssh` wrote to stderr. Its stderr is
    /// drained whenever the stream is polled: an `ssh -v` (or a chatty
    /// remote) would otherwise fill the pipe, block in `write(2)` and stop
    /// forwarding stdout.
    stderr_tail: Vec<u8>,
    child: Child,
}

impl SshStream {
    pub(crate) fn spawn(
        settings: &SshSettings,
        user: Option<&str>,
        host: &str,
        port: Option<u16>,
    ) -> Result<SshStream, SshProblem> {
        let mut cmd = Command::new(&settings.program);
        let secs = settings.connect_timeout.as_secs().max(1);
        cmd.args(["-T", "-o", "BatchMode=yes", "-o"])
            .arg(format!("ConnectTimeout={secs}"))
            .args(&settings.args);
        if let Some(u) = user {
            cmd.arg("-l").arg(u);
        }
        if let Some(p) = port {
            cmd.arg("-p").arg(p.to_string());
        }
        cmd.arg("--")
            .arg(host)
            .args(["docker", "system", "dial-stdio"]);
        let (child, pipes) = Child::spawn(&mut cmd).map_err(|e| SshProblem::Spawn {
            program: settings.program.clone(),
            kind: e.kind(),
        })?;
        Ok(SshStream {
            stdin: Some(pipes.stdin),
            stdout: pipes.stdout,
            stderr: pipes.stderr,
            stderr_tail: Vec::new(),
            child,
        })
    }

    /// Reads what `ssh` wrote to stderr, keeping the tail, and registers
    /// `cx` for more (so a stream waiting on stdout also wakes to drain it).
    fn drain_stderr(&mut self, cx: &mut Context<'_>) {
        let mut buf = [0u8; 4096];
        while let Poll::Ready(Ok(n)) = self.stderr.poll_read(cx, &mut buf) {
            if n == 0 {
                break; // end of file: nothing more will come
            }
            self.keep_stderr(&buf[..n]);
        }
    }

    fn keep_stderr(&mut self, bytes: &[u8]) {
        self.stderr_tail.extend_from_slice(bytes);
        if self.stderr_tail.len() > MAX_STDERR {
            let cut = self.stderr_tail.len() - MAX_STDERR;
            self.stderr_tail.drain(..cut);
        }
    }

    /// What `ssh` printed (its last `MAX_STDERR` bytes, read now without
    /// waiting), lossily decoded.
    fn stderr_text(&mut self) -> String {
        let mut buf = [0u8; 4096];
        while let Ok(Some(n)) = self.stderr.try_read(&mut buf) {
            if n == 0 {
                break;
            }
            self.keep_stderr(&buf[..n]);
        }
        String::from_utf8_lossy(&self.stderr_tail).trim().to_owned()
    }

    async fn diagnosis(&mut self) -> Option<TransportProblem> {
        let status = self.child.exited_within(EXIT_GRACE).await?;
        let stderr = self.stderr_text();
        let code = status.code();
        Some(TransportProblem::Ssh(match code {
            Some(255) if stderr.contains("Permission denied") => {
                SshProblem::AuthenticationFailed { stderr }
            }
            Some(127) => SshProblem::NoDockerOnRemote { stderr },
            _ => SshProblem::Exited { code, stderr },
        }))
    }
}

impl Stream for SshStream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.drain_stderr(cx);
        self.stdout.poll_read(cx, buf)
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.drain_stderr(cx);
        match &self.stdin {
            Some(w) => w.poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes `ssh`'s stdin: `dial-stdio` half-closes toward the engine.
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.stdin = None;
        Ok(())
    }

    fn diagnose(&mut self) -> Pin<Box<dyn Future<Output = Option<TransportProblem>> + Send + '_>> {
        Box::pin(self.diagnosis())
    }
}
