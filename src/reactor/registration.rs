//! A source registered with the reactor, and the readiness loop around its
//! non-blocking syscalls.

use super::scheduled_io::{Direction, ReadyEvent, ScheduledIo};
use super::Reactor;
use crate::runtime::{coop, Handle};
use mio::event::Source;
use mio::Interest;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Keeps the runtime (and so the reactor) alive while the source is
/// registered.
pub(crate) struct Registration {
    handle: Handle,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` with the current runtime's reactor.
    pub(crate) fn new(source: &mut impl Source, interest: Interest) -> io::Result<Registration> {
        let handle = Handle::try_current().ok_or_else(|| {
            io::Error::other(
                "no stevedore runtime on this thread: create sockets inside Runtime::block_on, \
                 a task, or Runtime::enter",
            )
        })?;
        let io = handle.reactor()?.register(source, interest)?;
        Ok(Registration { handle, io })
    }

    fn reactor(&self) -> &Reactor {
        self.handle.reactor().expect("registered with a reactor")
    }

    /// Ready for `dir`, or the waker is registered. Fails once the runtime
    /// has shut down.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        ready!(coop::poll_proceed(cx));
        let ev = ready!(self.io.poll_ready(cx, dir));
        if ev.ready & super::scheduled_io::SHUTDOWN != 0 || self.reactor().is_shutdown() {
            return Poll::Ready(Err(shut_down()));
        }
        Poll::Ready(Ok(ev))
    }

    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        self.io.clear_readiness(ev);
    }

    /// Runs `f` (a non-blocking syscall) once `dir` is ready, retrying after
    /// each `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                res => {
                    coop::consume();
                    return Poll::Ready(res);
                }
            }
        }
    }

    /// Like [`poll_io`](Self::poll_io), for transfers that can tell when
    /// they emptied (read) or filled (write) the socket buffer: `f` returns
    /// the result and whether that happened. Then the readiness is cleared
    /// at once, and the next call waits for the next edge instead of paying
    /// for a syscall that would only return `WouldBlock`.
    pub(crate) fn poll_transfer<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut f: impl FnMut() -> io::Result<(R, bool)>,
    ) -> Poll<io::Result<R>> {
        loop {
            let ev = ready!(self.poll_ready(cx, dir))?;
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(ev),
                Ok((r, exhausted)) => {
                    if exhausted {
                        self.clear_readiness(ev);
                    }
                    coop::consume();
                    return Poll::Ready(Ok(r));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Deregisters `source`; the readiness cell is released at the reactor's
    /// next turn, after any event already fetched for it was dispatched.
    pub(crate) fn deregister(&self, source: &mut impl Source) -> io::Result<()> {
        self.reactor().deregister(source, self.io.clone())
    }
}

fn shut_down() -> io::Error {
    io::Error::other("the stevedore runtime this socket was registered with has shut down")
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration").finish_non_exhaustive()
    }
}

/// An owned mio source plus its registration; deregisters and closes on
/// drop.
pub(crate) struct PollEvented<E: Source> {
    io: Option<E>,
    registration: Registration,
}

impl<E: Source> PollEvented<E> {
    pub(crate) fn new(mut io: E, interest: Interest) -> io::Result<PollEvented<E>> {
        let registration = Registration::new(&mut io, interest)?;
        Ok(PollEvented {
            io: Some(io),
            registration,
        })
    }

    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("present until drop")
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Deregisters and returns the source.
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("present until drop");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<E: Source> Drop for PollEvented<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            let _ = self.registration.deregister(&mut io);
        }
    }
}

impl<E: Source + fmt::Debug> fmt::Debug for PollEvented<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollEvented").field("io", &self.io).finish()
    }
}
