//! Container output as a `Stream` of chunks: `logs` and `attach`.

use super::client::{Docker, Streaming};
use super::codec::{FrameDemuxer, LogChunk, StreamKind};
use super::containers::path_id;
use super::error::{Error, Result};
use super::filters::with_query;
use super::http::Request;
use futures::Stream;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Options of [`Docker::logs`].
#[derive(Debug, Clone)]
pub struct LogsOptions {
    /// Include stdout.
    pub stdout: bool,
    /// Include stderr.
    pub stderr: bool,
    /// Keep streaming until the container stops (no deadline; drop the
    /// stream to stop).
    pub follow: bool,
    /// Prefix lines with RFC 3339 timestamps.
    pub timestamps: bool,
    /// Only the last `n` lines.
    pub tail: Option<u64>,
    /// Only output since this Unix time.
    pub since: Option<i64>,
    /// Whether the container has a TTY (raw output). `None` asks the daemon
    /// (one inspect); the framing is never guessed from the bytes.
    pub tty: Option<bool>,
}

impl Default for LogsOptions {
    fn default() -> Self {
        LogsOptions {
            stdout: true,
            stderr: true,
            follow: false,
            timestamps: false,
            tail: None,
            since: None,
            tty: None,
        }
    }
}

/// Container output, demultiplexed: a `Stream` of [`LogChunk`]s. A
/// truncated frame at the end is an error item, after which the stream ends.
pub struct LogStream {
    inner: Pin<Box<dyn Stream<Item = Result<LogChunk>> + Send>>,
}

/// Where the raw bytes come from.
pub(crate) enum Source {
    Http(Streaming),
    Hijacked(super::attach::AttachReader),
}

impl Source {
    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Http(s) => s.next().await,
            Source::Hijacked(r) => r.next().await,
        }
    }
}

struct State {
    source: Source,
    /// `None` for TTY output (raw).
    demux: Option<FrameDemuxer>,
    pending: VecDeque<LogChunk>,
    /// Bytes that arrived with the response head (hijacked streams).
    initial: Option<Vec<u8>>,
    done: bool,
}

impl State {
    fn feed(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.demux {
            None => self.pending.push_back(LogChunk {
                stream: StreamKind::Stdout,
                bytes: bytes.to_vec(),
            }),
            Some(d) => {
                let mut out = Vec::new();
                d.push(bytes, &mut out)
                    .map_err(|e| Error::Protocol(format!("log stream: {e}")))?;
                self.pending.extend(out);
            }
        }
        Ok(())
    }

    async fn step(mut self) -> Option<(Result<LogChunk>, State)> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some((Ok(chunk), self));
            }
            if self.done {
                return None;
            }
            let bytes = match self.initial.take() {
                Some(b) => Some(b),
                None => match self.source.next().await {
                    Ok(b) => b,
                    Err(e) => {
                        self.done = true;
                        return Some((Err(e), self));
                    }
                },
            };
            match bytes {
                Some(b) => {
                    if let Err(e) = self.feed(&b) {
                        self.done = true;
                        return Some((Err(e), self));
                    }
                }
                None => {
                    self.done = true;
                    if let Some(Err(e)) = self.demux.as_ref().map(FrameDemuxer::finish) {
                        return Some((Err(Error::Protocol(format!("log stream: {e}"))), self));
                    }
                }
            }
        }
    }
}

impl LogStream {
    pub(crate) fn new(source: Source, tty: bool, initial: Vec<u8>) -> LogStream {
        let state = State {
            source,
            demux: (!tty).then(FrameDemuxer::new),
            pending: VecDeque::new(),
            initial: (!initial.is_empty()).then_some(initial),
            done: false,
        };
        LogStream {
            inner: Box::pin(futures::stream::unfold(state, State::step)),
        }
    }

    /// Reads everything, returning `(stdout, stderr)`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the connection breaks, [`Error::Protocol`] for a
    /// malformed frame or chunk.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping it loses what was read so far (the stream
    /// is consumed).
    pub async fn collect_output(mut self) -> Result<(Vec<u8>, Vec<u8>)> {
        use futures::StreamExt;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            match chunk.stream {
                StreamKind::Stderr => err.extend_from_slice(&chunk.bytes),
                _ => out.extend_from_slice(&chunk.bytes),
            }
        }
        Ok((out, err))
    }
}

impl Stream for LogStream {
    type Item = Result<LogChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for LogStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogStream")
    }
}

impl Docker {
    /// Streams a container's output. Non-TTY output is demultiplexed from
    /// its 8-byte frames (frames split across reads and lines split across
    /// frames are handled); TTY output is passed through as stdout.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, and the
    /// [common errors](crate::docker#errors); the stream's items fail with
    /// [`Error::Io`] or [`Error::Protocol`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future or the stream closes its connection.
    pub async fn logs(&self, id: &str, opts: &LogsOptions) -> Result<LogStream> {
        let tty = match opts.tty {
            Some(t) => t,
            None => self.inspect(id).await?.config.tty,
        };
        let path = with_query(
            format!("/containers/{}/logs", path_id(id)),
            [
                Some(format!("stdout={}", u8::from(opts.stdout))),
                Some(format!("stderr={}", u8::from(opts.stderr))),
                opts.follow.then(|| "follow=1".to_owned()),
                opts.timestamps.then(|| "timestamps=1".to_owned()),
                opts.tail.map(|n| format!("tail={n}")),
                opts.since.map(|s| format!("since={s}")),
            ],
        );
        let s = self.stream(Request::new("GET", self.url(&path))).await?;
        Ok(LogStream::new(Source::Http(s), tty, Vec::new()))
    }

    /// All output of a container so far, `(stdout, stderr)`, read under the
    /// client's deadline like any non-streaming call. `tty` as in
    /// [`LogsOptions::tty`].
    ///
    /// This is what the daemon's log driver kept: the default json-file
    /// driver rotates, so a large output comes back cut (22 MB of 50 MB
    /// here). To see all of it, attach before the start, as
    /// [`Docker::run`] does.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for a missing container, [`Error::Timeout`] if
    /// the whole output is not read within the client's deadline, and the
    /// [common errors](crate::docker#errors).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe (nothing changes on the engine; what was read is lost).
    pub async fn output(&self, id: &str, tty: Option<bool>) -> Result<(Vec<u8>, Vec<u8>)> {
        let opts = LogsOptions {
            tty,
            ..LogsOptions::default()
        };
        let read = async { self.logs(id, &opts).await?.collect_output().await };
        crate::time::timeout(self.timeout(), read)
            .await
            .map_err(|_| Error::Timeout {
                what: format!("collecting the output of {id}"),
                after: self.timeout(),
            })?
    }
}
