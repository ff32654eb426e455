//! `UnixListener` and `UnixStream`: the transport to `/var/run/docker.sock`.

use super::stream::{stream_methods, IoStream};
use crate::reactor::{Direction, PollEvented};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};
use std::time::Duration;

/// A Unix-domain listening socket.
pub struct UnixListener {
    io: PollEvented<mio::net::UnixListener>,
}

/// A Unix-domain stream connection.
pub struct UnixStream {
    inner: IoStream<mio::net::UnixStream>,
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

impl UnixListener {
    /// Binds a listener at `path` (which must not exist yet).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let l = mio::net::UnixListener::bind(path)
            .map_err(|e| with_path(e, "binding unix socket", path))?;
        Ok(UnixListener {
            io: PollEvented::new(l, mio::Interest::READABLE)?,
        })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// What `accept(2)` reports (`EMFILE` when out of descriptors, …); the
    /// listener stays usable.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is taken from the backlog only when
    /// `accept` returns it.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll form of [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let l = self.io.get_ref();
        let (sys, addr) =
            std::task::ready!(self
                .io
                .registration()
                .poll_io(cx, Direction::Read, || l.accept()))?;
        Poll::Ready(UnixStream::from_mio(sys).map(|s| (s, addr)))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl UnixStream {
    /// Connects to the socket at `path`. A missing socket is
    /// `ErrorKind::NotFound`, an inaccessible one `PermissionDenied`, a
    /// stale one `ConnectionRefused` — each with the path in the message.
    /// A full backlog is retried with a backoff for about a second.
    ///
    /// # Errors
    ///
    /// As above; `WouldBlock` if the backlog stays full.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let mut backoff = Duration::from_micros(500);
        let sys = loop {
            match mio::net::UnixStream::connect(path) {
                Ok(s) => break s,
                // The listener's backlog is full: retry shortly.
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        && backoff < Duration::from_secs(1) =>
                {
                    crate::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(e) => return Err(with_path(e, "connecting to", path)),
            }
        };
        let stream = UnixStream::from_mio(sys)?;
        if let Some(e) = stream.inner.get_ref().take_error()? {
            return Err(with_path(e, "connecting to", path));
        }
        Ok(stream)
    }

    /// A connected pair (like `socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Wraps a connected `std` stream (switched to non-blocking here).
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    fn from_mio(s: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: IoStream::new(s)?,
        })
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }
}

stream_methods!(UnixStream);

impl std::os::fd::AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for UnixStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl std::os::fd::AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
