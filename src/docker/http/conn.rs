//! One connection to the daemon: a transport plus a read buffer, request
//! writing, response-head parsing and body framing.

use super::super::codec::{ChunkedDecoder, CodecError};
use super::{Host, Request};
use crate::net::{TcpStream, UnixStream};
use std::io;

/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// What went wrong on a connection (mapped to `docker::Error` by the
/// client, which knows the request).
#[derive(Debug)]
pub(crate) enum HttpError {
    Io(io::Error),
    Protocol(String),
    /// A pooled connection turned out to be dead before any response byte
    /// arrived: the request never reached the daemon and may be retried.
    Stale(io::Error),
}

impl From<CodecError> for HttpError {
    fn from(e: CodecError) -> HttpError {
        HttpError::Protocol(e.to_string())
    }
}

enum Transport {
    Unix(UnixStream),
    Tcp(TcpStream),
}

pub(crate) struct Conn {
    io: Transport,
    /// Unread bytes are `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// Came from the idle pool (so it may be stale).
    pub(crate) reused: bool,
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
}

/// How the body of a response is delimited.
#[derive(Debug)]
pub(crate) enum Framing {
    Empty,
    Length(u64),
    Chunked(ChunkedDecoder),
    /// Until the daemon closes the connection.
    Close,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn framing(&self, method: &str) -> Result<Framing, HttpError> {
        if method == "HEAD"
            || self.status == 204
            || self.status == 304
            || (100..200).contains(&self.status)
        {
            return Ok(Framing::Empty);
        }
        if let Some(te) = self.header("transfer-encoding") {
            if te.to_ascii_lowercase().contains("chunked") {
                return Ok(Framing::Chunked(ChunkedDecoder::new()));
            }
        }
        if let Some(len) = self.header("content-length") {
            let len = len
                .trim()
                .parse::<u64>()
                .map_err(|_| HttpError::Protocol(format!("invalid Content-Length {len:?}")))?;
            return Ok(if len == 0 {
                Framing::Empty
            } else {
                Framing::Length(len)
            });
        }
        Ok(Framing::Close)
    }

    /// The connection may carry another request after this response.
    pub(crate) fn keep_alive(&self) -> bool {
        !self
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

impl Conn {
    /// Opens a new connection. Errors keep the OS error kind; the caller
    /// adds the host.
    pub(crate) async fn open(host: &Host) -> io::Result<Conn> {
        let io = match host {
            Host::Unix(path) => Transport::Unix(UnixStream::connect(path).await?),
            Host::Tcp(addr) => {
                let s = TcpStream::connect(addr.as_str()).await?;
                s.set_nodelay(true)?;
                Transport::Tcp(s)
            }
        };
        Ok(Conn {
            io,
            buf: Vec::with_capacity(READ_CHUNK),
            pos: 0,
            reused: false,
        })
    }

    async fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.io {
            Transport::Unix(s) => s.read(buf).await,
            Transport::Tcp(s) => s.read(buf).await,
        }
    }

    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.io {
            Transport::Unix(s) => s.write_all(bytes).await,
            Transport::Tcp(s) => s.write_all(bytes).await,
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
        self.buf.resize(old + READ_CHUNK, 0);
        let mut tmp = std::mem::take(&mut self.buf);
        let res = self.read_raw(&mut tmp[old..]).await;
        self.buf = tmp;
        match res {
            Ok(n) => {
                self.buf.truncate(old + n);
                Ok(n)
            }
            Err(e) => {
                self.buf.truncate(old);
                Err(e)
            }
        }
    }

    /// Sends `req` and reads the response head.
    pub(crate) async fn send(&mut self, req: &Request) -> Result<Head, HttpError> {
        let bytes = req.encode();
        if let Err(e) = self.write_all(&bytes).await {
            return Err(if self.reused && is_broken(&e) {
                HttpError::Stale(e)
            } else {
                HttpError::Io(e)
            });
        }
        self.read_head().await
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
                Ok(0) => {
                    return Err(HttpError::Protocol(if got_any {
                        "connection closed in the middle of the response head".into()
                    } else {
                        "connection closed without a response".into()
                    }))
                }
                Ok(_) => {}
                Err(e) if !got_any && self.reused && is_broken(&e) => {
                    return Err(HttpError::Stale(e))
                }
                Err(e) => return Err(HttpError::Io(e)),
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
                    match self.fill().await.map_err(HttpError::Io)? {
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
                    match self.fill().await.map_err(HttpError::Io)? {
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
                    match self.fill().await.map_err(HttpError::Io)? {
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
}

/// The read side of a hijacked connection.
pub(crate) enum ConnReader {
    Unix(crate::net::ReadHalf<UnixStream>),
    Tcp(crate::net::ReadHalf<TcpStream>),
}

/// The write side of a hijacked connection; dropping it half-closes.
pub(crate) enum ConnWriter {
    Unix(crate::net::WriteHalf<UnixStream>),
    Tcp(crate::net::WriteHalf<TcpStream>),
}

impl ConnReader {
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ConnReader::Unix(r) => r.read(buf).await,
            ConnReader::Tcp(r) => r.read(buf).await,
        }
    }
}

impl ConnWriter {
    pub(crate) async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            ConnWriter::Unix(w) => w.write_all(buf).await,
            ConnWriter::Tcp(w) => w.write_all(buf).await,
        }
    }

    pub(crate) fn shutdown(&self) -> io::Result<()> {
        match self {
            ConnWriter::Unix(w) => w.shutdown(),
            ConnWriter::Tcp(w) => w.shutdown(),
        }
    }
}

impl Conn {
    /// Splits a hijacked connection; also returns bytes already buffered
    /// after the response head, which belong to the stream.
    pub(crate) fn into_split(mut self) -> (ConnReader, ConnWriter, Vec<u8>) {
        let leftover = self.take_buffered();
        match self.io {
            Transport::Unix(s) => {
                let (r, w) = s.into_split();
                (ConnReader::Unix(r), ConnWriter::Unix(w), leftover)
            }
            Transport::Tcp(s) => {
                let (r, w) = s.into_split();
                (ConnReader::Tcp(r), ConnWriter::Tcp(w), leftover)
            }
        }
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
