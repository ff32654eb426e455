//! A small HTTP/1.1 client for the Engine API, over the reactor's Unix and
//! TCP streams: `httparse` for response heads, bodies by `Content-Length`,
//! chunked or to end of stream, hijacked connections for attach, and a
//! capped keep-alive pool.

mod conn;
mod pool;

pub(crate) use self::conn::{Conn, ConnReader, ConnWriter, Framing, Head, HttpError};
pub(crate) use self::pool::Pool;

use std::fmt::Write as _;
use std::path::PathBuf;

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    Unix(PathBuf),
    /// `host:port`.
    Tcp(String),
}

impl Host {
    /// Parses `unix:///path`, `tcp://host:port` (an optional trailing `/` is
    /// accepted), or a bare absolute path.
    pub(crate) fn parse(s: &str) -> Result<Host, String> {
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!("{s:?}: missing socket path"));
            }
            return Ok(Host::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
        {
            let hostport = rest.trim_end_matches('/');
            if hostport.is_empty() || hostport.contains('/') {
                return Err(format!("{s:?}: expected tcp://host:port"));
            }
            let hostport = if hostport
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                hostport.to_owned()
            } else {
                format!("{hostport}:2375")
            };
            return Ok(Host::Tcp(hostport));
        }
        if s.starts_with('/') {
            return Ok(Host::Unix(PathBuf::from(s)));
        }
        Err(format!(
            "{s:?}: unsupported Docker host (use unix:///path or tcp://host:port; TLS and ssh are not supported)"
        ))
    }
}

/// An outgoing request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: &'static str,
    /// Path and query, already versioned and percent-encoded.
    pub(crate) target: String,
    pub(crate) body: Option<(&'static str, Vec<u8>)>,
    /// Ask the daemon to switch to a raw stream (attach).
    pub(crate) upgrade: bool,
}

impl Request {
    pub(crate) fn new(method: &'static str, target: String) -> Request {
        Request {
            method,
            target,
            body: None,
            upgrade: false,
        }
    }

    pub(crate) fn json(mut self, body: Vec<u8>) -> Request {
        self.body = Some(("application/json", body));
        self
    }

    pub(crate) fn body(mut self, content_type: &'static str, body: Vec<u8>) -> Request {
        self.body = Some((content_type, body));
        self
    }

    /// `METHOD /target` for messages.
    pub(crate) fn what(&self) -> String {
        format!("{} {}", self.method, self.target)
    }

    /// The serialized head (and body).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut head = String::with_capacity(256);
        let _ = write!(
            head,
            "{} {} HTTP/1.1\r\nHost: docker\r\nUser-Agent: stevedore/{}\r\n",
            self.method,
            self.target,
            env!("CARGO_PKG_VERSION")
        );
        if self.upgrade {
            head.push_str("Connection: Upgrade\r\nUpgrade: tcp\r\n");
        }
        match &self.body {
            Some((ctype, body)) => {
                let _ = write!(
                    head,
                    "Content-Type: {ctype}\r\nContent-Length: {}\r\n",
                    body.len()
                );
            }
            None if self.method == "POST" || self.method == "PUT" => {
                head.push_str("Content-Length: 0\r\n");
            }
            None => {}
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if let Some((_, body)) = &self.body {
            out.extend_from_slice(body);
        }
        out
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub(crate) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}
