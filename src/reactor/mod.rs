//! The I/O reactor: one `mio::Poll` per runtime, driven by whichever worker
//! parks on the driver.
//!
//! * **Who polls.** The worker holding the driver lock (see
//!   `runtime/driver.rs`) blocks in `epoll_wait` with no extra thread: its
//!   timeout is the next timer deadline, delivered with sub-millisecond
//!   precision through a `timerfd` in the same epoll set. A `mio::Waker`
//!   interrupts it when work arrives for it. Busy workers also run a
//!   non-blocking turn every `event_interval` ticks, and a worker leaving
//!   the driver wakes a sleeping peer to take it over, so a task that blocks
//!   its worker cannot stall I/O for the others.
//! * **Dispatch.** Each event's token is the address of the source's
//!   [`ScheduledIo`]; the driver records the readiness and wakes exactly the
//!   tasks waiting on the affected direction, on its own thread (they land
//!   in its local queue — no hand-off thread).
//! * **Deregistration.** Dropping a source deregisters it from epoll at once,
//!   but its `ScheduledIo` is only released at the start of the next turn,
//!   after every event already fetched for it has been dispatched. So an
//!   event can never reach freed memory, nor a new source that reused the
//!   address.

mod registration;
pub(crate) mod scheduled_io;
#[cfg(target_os = "linux")]
mod timerfd;

pub(crate) use self::registration::PollEvented;
pub(crate) use self::scheduled_io::Direction;

use self::scheduled_io::{ScheduledIo, ERROR, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED};
use mio::event::Source;
use mio::{Events, Interest, Poll, Registry, Token};
use parking_lot::Mutex;
use std::cell::UnsafeCell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::Arc;
use std::time::Duration;

const WAKER: Token = Token(0);
#[cfg(target_os = "linux")]
const TIMER: Token = Token(1);
/// Events fetched per turn.
const EVENTS_PER_TURN: usize = 1024;

pub(crate) struct Reactor {
    /// Touched only by the thread holding the driver lock.
    turn: UnsafeCell<TurnState>,
    registry: Registry,
    waker: Arc<mio::Waker>,
    /// Deregistered sources, released at the next turn.
    pending_release: Mutex<Vec<Arc<ScheduledIo>>>,
    /// Every live source, so shutdown can fail their waiters.
    registered: Mutex<Vec<std::sync::Weak<ScheduledIo>>>,
    shutdown: AtomicBool,
}

struct TurnState {
    poll: Poll,
    events: Events,
    #[cfg(target_os = "linux")]
    timer: Option<timerfd::TimerFd>,
}

// SAFETY: `turn` is only accessed by the holder of the driver lock (see
// `turn`'s contract); everything else is thread-safe.
unsafe impl Sync for Reactor {}
// SAFETY: as above.
unsafe impl Send for Reactor {}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER)?);
        #[cfg(target_os = "linux")]
        let timer = timerfd::TimerFd::new(poll.registry(), TIMER).ok();
        Ok(Reactor {
            turn: UnsafeCell::new(TurnState {
                poll,
                events: Events::with_capacity(EVENTS_PER_TURN),
                #[cfg(target_os = "linux")]
                timer,
            }),
            registry,
            waker,
            pending_release: Mutex::new(Vec::new()),
            registered: Mutex::new(Vec::new()),
            shutdown: AtomicBool::new(false),
        })
    }

    /// Interrupts the worker blocked in the reactor.
    pub(crate) fn waker(&self) -> Arc<mio::Waker> {
        self.waker.clone()
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Waits for events (up to `timeout`; `None` forever) and dispatches
    /// them. Returns the number of I/O events dispatched.
    ///
    /// # Safety
    ///
    /// The caller holds the driver lock, so no other thread is in `turn`.
    pub(crate) unsafe fn turn(&self, timeout: Option<Duration>) -> usize {
        // SAFETY: exclusive per the caller's contract.
        let state = unsafe { &mut *self.turn.get() };
        // Safe point: nothing fetched earlier can still refer to these.
        let released = std::mem::take(&mut *self.pending_release.lock());
        drop(released);

        let mut wait = timeout;
        #[cfg(target_os = "linux")]
        if let (Some(t), Some(timer)) = (timeout, state.timer.as_mut()) {
            if !t.is_zero() && timer.arm(t).is_ok() {
                wait = None; // the timerfd wakes us, precisely
            }
        }
        if let Err(e) = state.poll.poll(&mut state.events, wait) {
            if e.kind() != io::ErrorKind::Interrupted {
                eprintln!("stevedore: epoll_wait failed: {e}");
            }
            return 0;
        }
        let mut dispatched = 0;
        for event in state.events.iter() {
            match event.token() {
                WAKER => {}
                #[cfg(target_os = "linux")]
                TIMER => {
                    if let Some(timer) = state.timer.as_mut() {
                        timer.acknowledge();
                    }
                }
                Token(addr) => {
                    let mut ready = 0;
                    if event.is_readable() {
                        ready |= READABLE;
                    }
                    if event.is_writable() {
                        ready |= WRITABLE;
                    }
                    if event.is_read_closed() {
                        ready |= READ_CLOSED;
                    }
                    if event.is_write_closed() {
                        ready |= WRITE_CLOSED;
                    }
                    if event.is_error() {
                        ready |= ERROR;
                    }
                    // SAFETY: tokens are addresses of `ScheduledIo`s kept
                    // alive until registered sources are released, which
                    // only happens at the start of a turn (above).
                    let io = unsafe { &*(addr as *const ScheduledIo) };
                    io.set_readiness_and_wake(ready);
                    dispatched += 1;
                }
            }
        }
        dispatched
    }

    pub(crate) fn register(
        &self,
        source: &mut impl Source,
        interest: Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        if self.is_shutdown() {
            return Err(io::Error::other("the stevedore runtime has shut down"));
        }
        let io = Arc::new(ScheduledIo::new());
        let token = Token(Arc::as_ptr(&io) as usize);
        self.registry.register(source, token, interest)?;
        let mut registered = self.registered.lock();
        if registered.len() >= 64 && registered.len().is_power_of_two() {
            registered.retain(|w| w.strong_count() > 0);
        }
        registered.push(Arc::downgrade(&io));
        Ok(io)
    }

    pub(crate) fn deregister(
        &self,
        source: &mut impl Source,
        io: Arc<ScheduledIo>,
    ) -> io::Result<()> {
        let res = self.registry.deregister(source);
        self.pending_release.lock().push(io);
        res
    }

    /// Runtime shutdown: every registered source fails its waiters and
    /// every later poll.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Release);
        let registered = std::mem::take(&mut *self.registered.lock());
        for io in registered.iter().filter_map(std::sync::Weak::upgrade) {
            io.shutdown();
        }
        self.pending_release.lock().clear();
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}
