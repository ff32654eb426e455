//! The byte-stream operations shared by TCP and Unix streams, written once
//! over any mio source whose `&E` implements `Read` and `Write`.

use crate::reactor::{Direction, PollEvented};
use mio::event::Source;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::task::{Context, Poll};

/// Reads shorter than this go through a stack buffer of this size (see
/// `poll_read`).
const READ_AHEAD: usize = 1024;

pub(crate) struct IoStream<E: Source> {
    pub(crate) io: PollEvented<E>,
    /// Bytes received ahead of a small read and not yet handed out.
    surplus: parking_lot::Mutex<Surplus>,
}

#[derive(Default)]
struct Surplus {
    bytes: Vec<u8>,
    start: usize,
}

impl<E> IoStream<E>
where
    E: Source,
    for<'a> &'a E: Read + Write,
{
    pub(crate) fn new(io: E) -> io::Result<IoStream<E>> {
        Ok(IoStream {
            io: PollEvented::new(io, mio::Interest::READABLE | mio::Interest::WRITABLE)?,
            surplus: parking_lot::Mutex::new(Surplus::default()),
        })
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.get_ref()
    }

    /// Reads into `buf`.
    ///
    /// A read that comes back short of what it asked for emptied the
    /// socket, so readiness is cleared without the extra syscall that would
    /// return `WouldBlock`. To get that signal for small reads too (a 64-byte
    /// message read into a 64-byte buffer cannot tell), reads under
    /// `READ_AHEAD` bytes receive into a stack buffer of that size and keep
    /// any surplus for the next read.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        {
            let mut s = self.surplus.lock();
            if s.start < s.bytes.len() {
                let n = buf.len().min(s.bytes.len() - s.start);
                buf[..n].copy_from_slice(&s.bytes[s.start..s.start + n]);
                s.start += n;
                if s.start == s.bytes.len() {
                    s.bytes.clear();
                    s.start = 0;
                }
                return Poll::Ready(Ok(n));
            }
        }
        let io = self.io.get_ref();
        let reg = self.io.registration();
        if buf.len() >= READ_AHEAD {
            let len = buf.len();
            return reg.poll_transfer(cx, Direction::Read, || {
                (&*io).read(buf).map(|n| (n, n > 0 && n < len))
            });
        }
        reg.poll_transfer(cx, Direction::Read, || {
            let mut tmp = [0u8; READ_AHEAD];
            let got = (&*io).read(&mut tmp)?;
            let n = got.min(buf.len());
            buf[..n].copy_from_slice(&tmp[..n]);
            if got > n {
                let mut s = self.surplus.lock();
                s.bytes.extend_from_slice(&tmp[n..got]);
            }
            Ok((n, got > 0 && got < READ_AHEAD))
        })
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let io = self.io.get_ref();
        let len = buf.len();
        self.io
            .registration()
            .poll_transfer(cx, Direction::Write, || {
                (&*io).write(buf).map(|n| (n, n > 0 && n < len))
            })
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Write, || (&*io).write_vectored(bufs))
    }

    /// Readiness for `dir`. Read readiness counts the read-ahead buffer: with
    /// bytes kept from an earlier small read, a read makes progress without
    /// touching the socket, so this is ready at once (the socket may well
    /// be drained, and its readiness cleared, by that earlier read).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        if matches!(dir, Direction::Read) && self.has_surplus() {
            return Poll::Ready(Ok(()));
        }
        self.io.registration().poll_ready(cx, dir).map_ok(drop)
    }

    /// True if bytes read ahead are waiting to be handed out.
    fn has_surplus(&self) -> bool {
        let s = self.surplus.lock();
        s.start < s.bytes.len()
    }

    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    pub(crate) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// A read that does not wait: `WouldBlock` if nothing is buffered.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let waker = futures::task::noop_waker();
        match self.poll_read(&mut Context::from_waker(&waker), buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// A write that does not wait: `WouldBlock` if the send buffer is full.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let waker = futures::task::noop_waker();
        match self.poll_write(&mut Context::from_waker(&waker), buf) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// Implements the shared inherent methods and the futures I/O traits for a
/// stream type that wraps an `IoStream` in a field named `inner`.
macro_rules! stream_methods {
    ($ty:ty) => {
        impl $ty {
            /// Reads into `buf`; `Ok(0)` at end of stream.
            ///
            /// # Errors
            ///
            /// What the socket reports (`ConnectionReset`, …).
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: bytes are consumed only when `read` returns them.
            pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.read(buf).await
            }

            /// Writes some of `buf`, returning how much.
            ///
            /// # Errors
            ///
            /// What the socket reports (`BrokenPipe`, `ConnectionReset`, …).
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: nothing is written unless `write` returns its count.
            pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner.write(buf).await
            }

            /// Writes all of `buf`.
            ///
            /// # Errors
            ///
            /// What the socket reports (`BrokenPipe`, `ConnectionReset`, `WriteZero`, …).
            ///
            /// # Cancel safety
            ///
            /// Not cancel safe: if dropped, an unknown prefix of `buf` was written.
            pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
                self.inner.write_all(buf).await
            }

            /// Reads without waiting (`WouldBlock` if nothing is there).
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.try_read(buf)
            }

            /// Writes without waiting (`WouldBlock` if the buffer is full).
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner.try_write(buf)
            }

            /// Waits until a read would make progress: data (or end of
            /// stream) on the socket, or bytes this stream already read
            /// ahead of an earlier small read — then it is ready at once, so
            /// the `readable().await; try_read()` loop never waits on data
            /// it holds.
            ///
            /// # Errors
            ///
            /// An error the reactor reports for this socket.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: it consumes nothing.
            pub async fn readable(&self) -> std::io::Result<()> {
                std::future::poll_fn(|cx| {
                    self.inner.poll_ready(cx, crate::reactor::Direction::Read)
                })
                .await
            }

            /// Waits until a write would make progress.
            ///
            /// # Errors
            ///
            /// An error the reactor reports for this socket.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: it consumes nothing.
            pub async fn writable(&self) -> std::io::Result<()> {
                std::future::poll_fn(|cx| {
                    self.inner.poll_ready(cx, crate::reactor::Direction::Write)
                })
                .await
            }

            /// Shuts down the read side, the write side (half-close: the
            /// peer reads end of stream, we can still read), or both.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.inner.get_ref().shutdown(how)
            }

            /// Splits into halves that two tasks can use at once.
            pub fn into_split(self) -> (crate::net::ReadHalf<Self>, crate::net::WriteHalf<Self>) {
                crate::net::split::split(self)
            }
        }

        impl futures::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf)
            }
        }

        impl futures::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Half-closes: shuts down the write side.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(
                    match self.inner.get_ref().shutdown(std::net::Shutdown::Write) {
                        Err(e) if e.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                        r => r,
                    },
                )
            }
        }

        impl crate::net::split::SplitStream for $ty {
            fn poll_read_ready_shared(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.inner.poll_ready(cx, crate::reactor::Direction::Read)
            }

            fn poll_read_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf)
            }

            fn poll_write_shared(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            fn shutdown_write(&self) -> std::io::Result<()> {
                self.inner.get_ref().shutdown(std::net::Shutdown::Write)
            }
        }
    };
}
pub(crate) use stream_methods;
