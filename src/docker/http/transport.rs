//! Where the daemon listens ([`Host`]) and the byte streams that reach it:
//! one [`Stream`] abstraction over a Unix socket, plain TCP, TLS over TCP
//! and `ssh … docker system dial-stdio`, so the HTTP layer above never
//! asks which one it has. The [`Connector`] is the one place that does.

use super::error::{HttpError, TransportProblem};
use super::ssh::{SshSettings, SshStream};
use super::tls::TlsSettings;
use crate::net::{TcpStream, UnixStream};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    Unix(PathBuf),
    /// `host:port` (TLS or not is a setting of the client, as for the
    /// docker CLI).
    Tcp(String),
    /// `ssh://[user@]host[:port]`.
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
    },
}

impl Host {
    /// Parses `unix:///path`, `tcp://host:port` (an optional trailing `/` is
    /// accepted), `ssh://[user@]host[:port]`, or a bare absolute path.
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
        if let Some(rest) = s.strip_prefix("ssh://") {
            return parse_ssh(s, rest.trim_end_matches('/'));
        }
        if s.starts_with('/') {
            return Ok(Host::Unix(PathBuf::from(s)));
        }
        Err(format!(
            "{s:?}: unsupported Docker host (use unix:///path, tcp://host:port or \
             ssh://[user@]host[:port])"
        ))
    }

    /// The host name of a TCP endpoint (for the TLS server name).
    pub(crate) fn tcp_name(&self) -> Option<&str> {
        match self {
            Host::Tcp(hp) => {
                let name = hp.rsplit_once(':').map_or(hp.as_str(), |(h, _)| h);
                Some(name.trim_start_matches('[').trim_end_matches(']'))
            }
            _ => None,
        }
    }
}

fn parse_ssh(s: &str, rest: &str) -> Result<Host, String> {
    let bad = |why: &str| Err(format!("{s:?}: {why} (expected ssh://[user@]host[:port])"));
    if rest.is_empty() || rest.contains('/') || rest.contains('?') {
        return bad("no host, or a path");
    }
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) if !u.is_empty() && !u.contains(':') => (Some(u.to_owned()), h),
        Some(_) => return bad("bad user (a password in the URL is not supported)"),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !hostport.ends_with(']') => match p.parse::<u16>() {
            Ok(p) if p > 0 => (h, Some(p)),
            _ => return bad("bad port"),
        },
        _ => (hostport, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // The host becomes an argument of `ssh`: refuse anything that could
    // read as an option or hold shell syntax.
    if host.is_empty()
        || host.starts_with('-')
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return bad("bad host name");
    }
    if let Some(u) = &user {
        if u.starts_with('-')
            || !u
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return bad("bad user name");
        }
    }
    Ok(Host::Ssh {
        user,
        host: host.to_owned(),
        port,
    })
}

/// A connected byte stream to the daemon. Implemented once per transport;
/// everything above it (HTTP, the pool, hijacked streams) is written once.
pub(crate) trait Stream: Send + 'static {
    /// Reads into `buf`; `Ready(Ok(0))` at end of stream.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Writes some of `buf`.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Pushes out what the transport buffered (TLS records).
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    /// Half-closes without waiting: the daemon reads end of stream, reads
    /// still work.
    fn shutdown_write(&mut self) -> io::Result<()>;
    /// After the stream ended or failed before a response: a diagnosis by
    /// the transport (an ssh process's exit status and message), if it has
    /// one.
    fn diagnose(&mut self) -> Pin<Box<dyn Future<Output = Option<TransportProblem>> + Send + '_>> {
        Box::pin(std::future::ready(None))
    }
}

/// A Unix or TCP stream, as it is.
struct Plain<S>(S);

macro_rules! plain_stream {
    ($ty:ty) => {
        impl Stream for Plain<$ty> {
            fn poll_read(
                &mut self,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                futures::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, buf)
            }
            fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                futures::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
            }
            fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn shutdown_write(&mut self) -> io::Result<()> {
                self.0.shutdown(std::net::Shutdown::Write)
            }
        }
    };
}
plain_stream!(UnixStream);
plain_stream!(TcpStream);

/// A connected transport.
pub(crate) type Transport = Box<dyn Stream>;

/// Why a transport could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// Connecting failed (refused, missing socket, …).
    Io(io::Error),
    /// The TLS handshake or the ssh process failed, diagnosed.
    Problem(TransportProblem),
}

/// Everything needed to open a connection to one daemon.
#[derive(Debug)]
pub(crate) struct Connector {
    pub(crate) host: Host,
    /// The host as given, for messages.
    pub(crate) label: Arc<str>,
    /// `Some` for TLS over a TCP host.
    pub(crate) tls: Option<TlsSettings>,
    pub(crate) ssh: SshSettings,
}

impl Connector {
    /// Opens a new connection. The only place that knows which transport
    /// a host uses.
    pub(crate) async fn open(&self) -> Result<Transport, OpenError> {
        match (&self.host, &self.tls) {
            (Host::Unix(path), _) => Ok(Box::new(Plain(
                UnixStream::connect(path).await.map_err(OpenError::Io)?,
            ))),
            (Host::Tcp(addr), tls) => {
                let s = TcpStream::connect(addr.as_str())
                    .await
                    .map_err(OpenError::Io)?;
                s.set_nodelay(true).map_err(OpenError::Io)?;
                match tls {
                    None => Ok(Box::new(Plain(s))),
                    Some(tls) => tls.handshake(s).await,
                }
            }
            (Host::Ssh { user, host, port }, _) => Ok(Box::new(
                SshStream::spawn(&self.ssh, user.as_deref(), host, *port)
                    .map_err(|p| OpenError::Problem(TransportProblem::Ssh(p)))?,
            )),
        }
    }

    /// Uses TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some() && matches!(self.host, Host::Tcp(_))
    }
}

impl HttpError {
    /// The error for a failed read or write on `host`'s transport: a TLS
    /// failure is diagnosed, anything else stays an I/O error.
    pub(crate) fn from_io(host: &Arc<str>, e: io::Error) -> HttpError {
        match super::error::tls_problem(&e) {
            Some(p) => HttpError::Transport {
                host: host.clone(),
                problem: TransportProblem::Tls(p),
            },
            None => HttpError::Io(e),
        }
    }
}
