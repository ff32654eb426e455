//! A small HTTP/1.1 client for the Engine API: `httparse` for response
//! heads, bodies by `Content-Length`, chunked or to end of stream, hijacked
//! connections for attach, and a capped keep-alive pool — written once over
//! a [`transport::Stream`] that is a Unix socket, plain TCP, TLS
//! (rustls) or an `ssh … docker system dial-stdio` process.
//!
//! * `transport` — [`Host`], the `Stream` abstraction and the
//!   [`Connector`], the one place that picks a transport;
//! * `tls`, `ssh` — the two remote transports;
//! * `conn` — one connection: buffered reads, request writing, head and
//!   body reading;
//! * `head`, `request` — the response head and its framing, the request;
//! * `hijack` — a connection split into its two directions (attach);
//! * `pool` — the keep-alive pool;
//! * `error` — connection errors and the typed TLS / ssh problems.

mod conn;
mod error;
mod head;
mod hijack;
mod pool;
mod request;
mod ssh;
mod tls;
mod transport;

pub(crate) use self::conn::Conn;
pub(crate) use self::error::{HttpError, TransportProblem};
pub use self::error::{SshProblem, TlsProblem};
pub(crate) use self::head::{Framing, Head};
pub(crate) use self::hijack::{ConnReader, ConnWriter};
pub(crate) use self::pool::Pool;
pub(crate) use self::request::{encode_query, Request};
pub(crate) use self::ssh::SshSettings;
pub(crate) use self::tls::{TlsFiles, TlsSettings};
pub(crate) use self::transport::{Connector, Host, OpenError};
