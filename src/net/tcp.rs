//! `TcpListener` and `TcpStream`.

use super::addr::{resolve, ToSocketAddrs};
use super::stream::{stream_methods, IoStream};
use crate::reactor::{Direction, PollEvented};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Duration;

/// A TCP listening socket.
pub struct TcpListener {
    io: PollEvented<mio::net::TcpListener>,
}

/// A TCP connection.
pub struct TcpStream {
    inner: IoStream<mio::net::TcpStream>,
}

fn with_context(e: io::Error, what: &str, addr: &SocketAddr) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {addr}: {e}"))
}

impl TcpListener {
    /// Binds to the first address `addr` resolves to that works
    /// (`SO_REUSEADDR` is set). Port 0 picks a free port.
    ///
    /// # Errors
    ///
    /// The last address's error (`AddrInUse`, `PermissionDenied`, …, with
    /// the address in the message), a resolution error, or `InvalidInput`
    /// if `addr` resolves to nothing; also an error outside a stevedore
    /// runtime (no reactor).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropped during name resolution, nothing is bound.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let mut last = None;
        for a in resolve(addr).await? {
            match mio::net::TcpListener::bind(a) {
                Ok(l) => return TcpListener::from_mio(l),
                Err(e) => last = Some(with_context(e, "binding", &a)),
            }
        }
        Err(last.unwrap_or_else(no_addresses))
    }

    /// Wraps a bound `std` listener (switched to non-blocking here).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    fn from_mio(l: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
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
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll form of [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let l = self.io.get_ref();
        let (sys, addr) =
            std::task::ready!(self
                .io
                .registration()
                .poll_io(cx, Direction::Read, || l.accept()))?;
        Poll::Ready(TcpStream::from_mio(sys).map(|s| (s, addr)))
    }

    /// The bound address (with the chosen port, if bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Unregisters the listener and returns it as a non-blocking `std` one.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let mio = self.io.into_inner()?;
        // SAFETY: the fd is owned by `mio` and handed over whole.
        Ok(unsafe { std::net::TcpListener::from_raw_fd(mio.into_raw_fd()) })
    }
}

impl TcpStream {
    /// Connects to the first address `addr` resolves to that accepts.
    /// Errors name the address (`connecting to 127.0.0.1:1: Connection
    /// refused`).
    ///
    /// # Errors
    ///
    /// The last address's connect error (`ConnectionRefused`,
    /// `TimedOut`, …), a resolution error, or `InvalidInput` if `addr`
    /// resolves to nothing. There is no timeout of its own: see
    /// [`connect_timeout`](Self::connect_timeout).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it closes the half-open socket.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let mut last = None;
        for a in resolve(addr).await? {
            match TcpStream::connect_addr(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_addresses))
    }

    /// Like [`connect`](Self::connect), giving up after `timeout` with
    /// `ErrorKind::TimedOut`.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and `TimedOut` when `timeout` passes
    /// (across every address tried).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn connect_timeout<A: ToSocketAddrs>(
        addr: A,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        match crate::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect timed out after {timeout:?}"),
            )),
        }
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let sys = mio::net::TcpStream::connect(addr)
            .map_err(|e| with_context(e, "connecting to", &addr))?;
        let stream = TcpStream::from_mio(sys)?;
        loop {
            // Non-blocking connect: writable means it finished, one way or
            // the other (mio's documented protocol).
            poll_fn(|cx| stream.inner.poll_ready(cx, Direction::Write)).await?;
            if let Some(e) = stream.inner.get_ref().take_error()? {
                return Err(with_context(e, "connecting to", &addr));
            }
            match stream.inner.get_ref().peer_addr() {
                Ok(_) => return Ok(stream),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                Err(e) => return Err(with_context(e, "connecting to", &addr)),
            }
        }
    }

    /// Wraps a connected `std` stream (switched to non-blocking here).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    fn from_mio(s: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
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

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the socket send
    /// a reset instead of a clean shutdown.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let value = libc::linger {
            l_onoff: libc::c_int::from(linger.is_some()),
            l_linger: linger.map_or(0, |d| d.as_secs().min(i32::MAX as u64) as libc::c_int),
        };
        // SAFETY: a valid socket fd and a correctly sized `linger` value.
        let rc = unsafe {
            libc::setsockopt(
                self.inner.get_ref().as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&value as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.inner.get_ref().as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

stream_methods!(TcpStream);

fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the address resolved to nothing",
    )
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
