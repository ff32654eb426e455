//! Owned read and write halves of a stream, usable from two tasks at once
//! (the reactor keeps separate waiters per direction).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Streams that can be split (TCP and Unix streams).
pub trait SplitStream: sealed::Sealed {
    #[doc(hidden)]
    fn poll_read_ready_shared(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    #[doc(hidden)]
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn shutdown_write(&self) -> io::Result<()>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::net::TcpStream {}
    impl Sealed for crate::net::UnixStream {}
}

/// The reading half of a stream, from `into_split`.
pub struct ReadHalf<S> {
    inner: Arc<S>,
}

/// The writing half of a stream, from `into_split`. Dropping it shuts down
/// the write side, so the peer reads end of stream.
pub struct WriteHalf<S: SplitStream> {
    inner: Arc<S>,
    shutdown_on_drop: bool,
}

/// The halves passed to [`ReadHalf::reunite`] came from different streams.
pub struct ReuniteError<S: SplitStream>(pub ReadHalf<S>, pub WriteHalf<S>);

pub(crate) fn split<S: SplitStream>(stream: S) -> (ReadHalf<S>, WriteHalf<S>) {
    let inner = Arc::new(stream);
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

impl<S: SplitStream> ReadHalf<S> {
    /// Reads into `buf`; `Ok(0)` at end of stream.
    ///
    /// # Errors
    ///
    /// What the socket reports (`ConnectionReset`, …).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: bytes are consumed only when `read` returns them.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.inner.poll_read_shared(cx, buf)).await
    }

    /// Waits until a read would make progress, counting bytes the stream
    /// read ahead (as the whole stream's `readable` does).
    ///
    /// # Errors
    ///
    /// An error the reactor reports for this socket.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it consumes nothing.
    pub async fn readable(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.inner.poll_read_ready_shared(cx)).await
    }

    /// The stream both halves share (for addresses and options).
    pub fn as_stream(&self) -> &S {
        &self.inner
    }

    /// Puts the halves back together.
    pub fn reunite(self, mut write: WriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.inner, &write.inner) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        let inner = write.inner.clone();
        drop(write);
        drop(self);
        Ok(Arc::into_inner(inner).expect("both halves were given back"))
    }
}

impl<S: SplitStream> WriteHalf<S> {
    /// Writes some of `buf`.
    ///
    /// # Errors
    ///
    /// What the socket reports (`BrokenPipe`, `ConnectionReset`, …).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is written unless `write` returns its count.
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.inner.poll_write_shared(cx, buf)).await
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
    pub async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Shuts down the write side now (the peer reads end of stream).
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.shutdown_write()
    }

    /// The stream both halves share.
    pub fn as_stream(&self) -> &S {
        &self.inner
    }
}

impl<S: SplitStream> Drop for WriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            let _ = self.inner.shutdown_write();
        }
    }
}

impl<S: SplitStream> futures::io::AsyncRead for ReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_shared(cx, buf)
    }
}

impl<S: SplitStream> futures::io::AsyncWrite for WriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_shared(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_write())
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(&self.inner).finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(&self.inner).finish()
    }
}

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the read and write halves come from different streams")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}
