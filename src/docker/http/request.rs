//! An outgoing request and its serialization.

use std::fmt::Write as _;

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
