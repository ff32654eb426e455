//! A parsed response head and how the body after it is delimited.

use super::super::codec::ChunkedDecoder;
use super::HttpError;

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
