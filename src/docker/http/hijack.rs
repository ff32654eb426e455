//! A hijacked connection (attach) split into its two directions, usable
//! from two tasks at once. Both halves share the transport behind a lock
//! held only for the duration of one non-blocking poll.

use super::transport::Transport;
use parking_lot::Mutex;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;

/// The read side of a hijacked connection.
pub(crate) struct ConnReader {
    io: Arc<Mutex<Transport>>,
}

/// The write side of a hijacked connection; dropping it half-closes.
pub(crate) struct ConnWriter {
    io: Arc<Mutex<Transport>>,
    shut: bool,
}

pub(crate) fn split(io: Transport) -> (ConnReader, ConnWriter) {
    let io = Arc::new(Mutex::new(io));
    (
        ConnReader { io: io.clone() },
        ConnWriter { io, shut: false },
    )
}

impl ConnReader {
    /// Reads into `buf`; `Ok(0)` at end of stream.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is read unless it returns.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.lock().poll_read(cx, buf)).await
    }
}

impl ConnWriter {
    /// Writes (and flushes) all of `buf`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropped midway, part of `buf` may have been sent.
    pub(crate) async fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match poll_fn(|cx| self.io.lock().poll_write(cx, buf)).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        poll_fn(|cx| self.io.lock().poll_flush(cx)).await
    }

    /// Half-closes now: the daemon reads end of stream.
    pub(crate) fn shutdown(&mut self) -> io::Result<()> {
        self.shut = true;
        self.io.lock().shutdown_write()
    }
}

impl Drop for ConnWriter {
    fn drop(&mut self) {
        if !self.shut {
            let _ = self.io.lock().shutdown_write();
        }
    }
}
