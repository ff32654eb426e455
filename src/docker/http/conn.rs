//! One connection to the daemon: a transport plus a read buffer, request
//! writing, response-head parsing and body framing.

use super::error::{HttpError, TransportProblem};
use super::head::{Framing, Head};
use super::hijack::{self, ConnReader, ConnWriter};
use super::request::Request;
use super::transport::Transport;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

pub(crate) struct Conn {
    io: Transport,
    /// The host as given, for diagnosed errors.
    host: Arc<str>,
    /// Unread bytes are `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// Came from the idle pool (so it may be stale).
    pub(crate) reused: bool,
}

/// Truncates a buffer to `keep` bytes when dropped.
struct Tail<'a> {
    buf: &'a mut Vec<u8>,
    keep: usize,
}

impl Drop for Tail<'_> {
    fn drop(&mut self) {
        self.buf.truncate(self.keep);
    }
}

impl Conn {
    /// Wraps a freshly opened transport to `host`.
    pub(crate) fn new(io: Transport, host: Arc<str>) -> Conn {
        Conn {
            io,
            host,
            buf: Vec::with_capacity(READ_CHUNK),
            pos: 0,
            reused: false,
        }
    }

    /// Writes and flushes all of `bytes`.
    pub(crate) async fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match poll_fn(|cx| self.io.poll_write(cx, bytes)).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => bytes = &bytes[n..],
            }
        }
        poll_fn(|cx| self.io.poll_flush(cx)).await
    }

    /// The error for `e` on this connection (a TLS failure is diagnosed).
    fn fail(&self, e: io::Error) -> HttpError {
        HttpError::from_io(&self.host, e)
    }

    /// The transport's diagnosis of a stream that ended or failed before a
    /// response (a dead `ssh`), else `fallback`.
    async fn diagnosed(&mut self, fallback: HttpError) -> HttpError {
        match self.io.diagnose().await {
            Some(problem) => HttpError::Transport {
                host: self.host.clone(),
                problem,
            },
            None => fallback,
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 0 && self.buf.len() > READ_CHUNK {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let old = self.buf.len();
        // Read straight into the buffer's tail; whatever happens — an
        // error, or this future dropped mid-read by a deadline while an
        // undertaker keeps the connection — the buffer ends at what was
        // really read, so no byte is lost and none is invented.
        let mut tail = Tail {
            buf: &mut self.buf,
            keep: old,
        };
        tail.buf.resize(old + READ_CHUNK, 0);
        let io = &mut self.io;
        let n = poll_fn(|cx| io.poll_read(cx, &mut tail.buf[old..])).await?;
        tail.keep = old + n;
        Ok(n)
    }

    /// Sends `req` and reads the response head.
    pub(crate) async fn send(&mut self, req: &Request) -> Result<Head, HttpError> {
        let bytes = req.encode();
        if let Err(e) = self.write_all(&bytes).await {
            if self.reused && is_broken(&e) {
                return Err(HttpError::Stale(e));
            }
            let err = self.fail(e);
            return Err(match err {
                HttpError::Io(_) => self.diagnosed(err).await,
                other => other,
            });
        }
        match self.read_head().await {
            // The request was written: a non-idempotent one may have run
            // before the connection died, so it must not be sent again.
            Err(HttpError::Stale(e)) if !matches!(req.method, "GET" | "HEAD") => {
                Err(HttpError::Io(e))
            }
            r => r,
        }
    }

    pub(crate) async fn read_head(&mut self) -> Result<Head, HttpError> {
        let mut got_any = false;
        loop {
            if self.pos < self.buf.len() {
                got_any = true;
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut resp = httparse::Response::new(&mut headers);
                match resp.parse(&self.buf[self.pos..]) {
                    Ok(httparse::Status::Complete(len)) => {
                        let head = Head {
                            status: resp.code.unwrap_or(0),
                            headers: resp
                                .headers
                                .iter()
                                .map(|h| {
                                    (
                                        h.name.to_owned(),
                                        String::from_utf8_lossy(h.value).into_owned(),
                                    )
                                })
                                .collect(),
                        };
                        self.pos += len;
                        return Ok(head);
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.buf.len() - self.pos > MAX_HEAD {
                            return Err(HttpError::Protocol(
                                "response head larger than 64 KiB".into(),
                            ));
                        }
                    }
                    // A TLS record (alert or handshake) where a plain
                    // HTTP answer was expected: the engine wants TLS.
                    Err(_) if matches!(self.buf[self.pos..], [0x15 | 0x16, 0x03, ..]) => {
                        return Err(HttpError::Transport {
                            host: self.host.clone(),
                            problem: TransportProblem::Tls(super::TlsProblem::EngineRequiresTls),
                        });
                    }
                    Err(e) => {
                        let shown = String::from_utf8_lossy(
                            &self.buf[self.pos..self.buf.len().min(self.pos + 60)],
                        )
                        .into_owned();
                        return Err(HttpError::Protocol(format!(
                            "invalid response head ({e}): {shown:?}"
                        )));
                    }
                }
            }
            match self.fill().await {
                Ok(0) if !got_any && self.reused => {
                    return Err(HttpError::Stale(io::ErrorKind::UnexpectedEof.into()))
                }
                Ok(0) if got_any => {
                    return Err(HttpError::Protocol(
                        "connection closed in the middle of the response head".into(),
                    ))
                }
                Ok(0) => {
                    let err = HttpError::Protocol("connection closed without a response".into());
                    return Err(self.diagnosed(err).await);
                }
                Ok(_) => {}
                Err(e) if !got_any && self.reused && is_broken(&e) => {
                    return Err(HttpError::Stale(e))
                }
                Err(e) => {
                    let err = self.fail(e);
                    return Err(match err {
                        HttpError::Io(_) if !got_any => self.diagnosed(err).await,
                        other => other,
                    });
                }
            }
        }
    }

    /// The next piece of the body, or `None` at its end.
    pub(crate) async fn body_chunk(
        &mut self,
        framing: &mut Framing,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        loop {
            match framing {
                Framing::Empty => return Ok(None),
                Framing::Length(0) => {
                    *framing = Framing::Empty;
                    return Ok(None);
                }
                Framing::Length(left) => {
                    if self.pos < self.buf.len() {
                        let n = (*left).min((self.buf.len() - self.pos) as u64) as usize;
                        let out = self.buf[self.pos..self.pos + n].to_vec();
                        self.pos += n;
                        *left -= n as u64;
                        return Ok(Some(out));
                    }
                    match self.fill().await.map_err(|e| self.fail(e))? {
                        0 => {
                            return Err(truncated(format!(
                                "{left} bytes before the end of the body"
                            )))
                        }
                        _ => continue,
                    }
                }
                Framing::Chunked(dec) => {
                    if dec.is_done() {
                        *framing = Framing::Empty;
                        return Ok(None);
                    }
                    if self.pos < self.buf.len() {
                        let mut out = Vec::new();
                        let used = dec.decode(&self.buf[self.pos..], &mut out)?;
                        self.pos += used;
                        if !out.is_empty() {
                            return Ok(Some(out));
                        }
                        continue;
                    }
                    match self.fill().await.map_err(|e| self.fail(e))? {
                        0 => {
                            let why = dec.finish().expect_err("not done");
                            return Err(truncated(why.to_string()));
                        }
                        _ => continue,
                    }
                }
                Framing::Close => {
                    if self.pos < self.buf.len() {
                        let out = self.buf[self.pos..].to_vec();
                        self.pos = self.buf.len();
                        return Ok(Some(out));
                    }
                    match self.fill().await.map_err(|e| self.fail(e))? {
                        0 => {
                            *framing = Framing::Empty;
                            return Ok(None);
                        }
                        _ => continue,
                    }
                }
            }
        }
    }

    /// Reads the whole body (at most `limit` bytes).
    pub(crate) async fn body_to_end(
        &mut self,
        framing: &mut Framing,
        limit: usize,
    ) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        while let Some(piece) = self.body_chunk(framing).await? {
            body.extend_from_slice(&piece);
            if body.len() > limit {
                return Err(HttpError::Protocol(format!(
                    "response body larger than {limit} bytes"
                )));
            }
        }
        Ok(body)
    }

    /// Bytes already buffered beyond the response head (a hijacked stream
    /// may start inside the same read as the head).
    pub(crate) fn take_buffered(&mut self) -> Vec<u8> {
        let out = self.buf[self.pos..].to_vec();
        self.buf.clear();
        self.pos = 0;
        out
    }

    /// Splits a hijacked connection; also returns bytes already buffered
    /// after the response head, which belong to the stream.
    pub(crate) fn into_split(mut self) -> (ConnReader, ConnWriter, Vec<u8>) {
        let leftover = self.take_buffered();
        let (r, w) = hijack::split(self.io);
        (r, w, leftover)
    }
}

/// The peer closed the connection in the middle of a body: the daemon died
/// or cut the stream. An I/O failure (`UnexpectedEof`), not malformed data.
fn truncated(what: String) -> HttpError {
    HttpError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("connection closed: {what}"),
    ))
}

fn is_broken(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::NotConnected
    )
}
