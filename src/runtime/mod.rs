//! The runtime: worker threads that poll tasks, steal from each other, fire
//! timers, and park when idle; plus a blocking pool.
//!
//! ```text
//! spawn ─► local deque / next-task slot (on a worker)  ─┐
//!       └► global injector (elsewhere) ─────────────────┤
//!                                                        ▼
//!            worker: pop ─► poll ─► Pending: the waker is held by a
//!              ▲  steal ◄── other workers       channel / timer / socket
//!              └──────────────── wake ◄─────────────────┘
//! ```
//!
//! Files: `worker.rs` (run loop, stealing, next-task slot), `idle.rs`
//! (who searches, who sleeps), `park.rs` (sleeping without spinning),
//! `driver.rs` (who waits on the timers), `coop.rs` (budget), `blocking.rs`
//! (`spawn_blocking`), `handle.rs` (shared state), `context.rs` (TLS).

mod blocking;
mod builder;
pub(crate) mod context;
pub(crate) mod coop;
mod driver;
mod handle;
mod idle;
#[cfg(not(stevedore_loom))]
mod monitor;
pub(crate) mod park;
mod worker;

pub use self::builder::Builder;
pub use self::context::EnterGuard;
pub use self::handle::{Handle, RuntimeMetrics};

use crate::loom::deque::Steal;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

/// A work-stealing runtime: worker threads, timers, and a blocking pool.
///
/// Dropping it cancels every unfinished task (their futures are dropped on
/// the dropping thread), joins the workers, and waits for running
/// `spawn_blocking` jobs; see [`shutdown_timeout`](Runtime::shutdown_timeout)
/// to bound that wait. Timers of a dropped runtime never fire: a `sleep`,
/// `timeout` or `interval` still waiting on one (or first polled in its
/// context afterwards) panics instead of hanging.
///
/// # Panics
///
/// Dropping it where the drop would wait for itself or block a worker
/// panics (the shutdown then finishes on a helper thread, so nothing
/// leaks):
///
/// * on one of its own worker threads (inside one of its tasks);
/// * on a worker thread of *another* stevedore runtime (inside a task):
///   the wait would block that worker; move the runtime into
///   `spawn_blocking`, or call
///   [`shutdown_background`](Runtime::shutdown_background);
/// * inside one of its own `spawn_blocking` closures, which the drop would
///   wait for.
///
/// When the thread is already panicking the drop does not panic again: it
/// leaves the shutdown to the helper thread.
pub struct Runtime {
    handle: Handle,
    workers: Vec<crate::loom::thread::JoinHandle<()>>,
    /// The monitor thread and its parker (absent under loom).
    monitor: Option<(crate::loom::thread::JoinHandle<()>, park::Parker)>,
    shut_down: bool,
}

impl Runtime {
    /// A runtime with one worker per available CPU.
    pub fn new() -> std::io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure the runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A cloneable handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Spawns a task from any thread. See [`crate::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool. See [`crate::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// Runs `future` to completion on the current thread, with this runtime
    /// entered (so `spawn`, timers and sockets work inside it). Tasks it
    /// spawns run on the workers.
    ///
    /// The future gets a cooperative budget per poll, as a task does: once
    /// it has completed 128 channel (or other budgeted) operations without
    /// waiting, the next one returns `Pending` and the future is polled again
    /// at once. So a [`timeout`](crate::time::timeout) around a future that
    /// is always ready still fires.
    ///
    /// # Panics
    ///
    /// When called from a worker thread: blocking a worker would stall the
    /// tasks queued on it. Spawn the future instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !context::is_worker_thread(),
            "Runtime::block_on called from a stevedore worker thread; this would block \
             the worker. Spawn the future (or use spawn_blocking) instead."
        );
        let _enter = self.handle.enter();
        block_on_thread(future)
    }

    /// Enters the runtime on this thread until the guard drops.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Shuts down, waiting at most `timeout` for running blocking jobs
    /// (queued ones are cancelled). Async tasks are always cancelled.
    ///
    /// # Panics
    ///
    /// On one of this runtime's own worker threads (the shutdown is then
    /// finished by a helper thread).
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for running blocking jobs. Usable inside
    /// a task of another runtime and inside this runtime's own
    /// `spawn_blocking` closures (it joins the workers, which finish their
    /// current polls, but waits for no blocking job).
    ///
    /// # Panics
    ///
    /// On one of this runtime's own worker threads (the shutdown is then
    /// finished by a helper thread).
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// Why shutting down here (waiting `blocking_timeout` for the blocking
    /// pool) would wait for itself or block a worker, if it would.
    fn shutdown_refused(&self, blocking_timeout: Option<Duration>) -> Option<&'static str> {
        let shared = &*self.handle.shared;
        let (own_worker, any_worker) = context::with_core(|c| match c {
            Some(c) => (std::ptr::eq(c.shared(), shared), true),
            None => (false, false),
        });
        if own_worker {
            return Some(
                "a stevedore runtime cannot be dropped or shut down from one of its own worker \
                 threads (inside one of its tasks): the shutdown would wait for this very thread",
            );
        }
        if blocking_timeout.is_none() && any_worker {
            return Some(
                "a stevedore runtime cannot be dropped inside a task of another stevedore \
                 runtime: the drop waits for its workers and blocking jobs and would block this \
                 worker; drop it in spawn_blocking or call Runtime::shutdown_background",
            );
        }
        if blocking_timeout.is_none() && shared.blocking.is_current_thread() {
            return Some(
                "a stevedore runtime cannot be dropped inside one of its own spawn_blocking \
                 closures: the drop waits for every blocking job, including this one; call \
                 Runtime::shutdown_background or drop it elsewhere",
            );
        }
        None
    }

    fn shutdown(&mut self, blocking_timeout: Option<Duration>) {
        if self.shut_down {
            return;
        }
        if let Some(why) = self.shutdown_refused(blocking_timeout) {
            // Finish the shutdown where it can wait: a helper thread takes
            // the workers over, so no task or thread is leaked.
            let rest = Runtime {
                handle: self.handle.clone(),
                workers: std::mem::take(&mut self.workers),
                monitor: self.monitor.take(),
                shut_down: false,
            };
            self.shut_down = true;
            // `ManuallyDrop`: if the thread cannot start, the closure (and
            // `rest`) is dropped here, and dropping `rest` would refuse
            // again, recursively. The fallback below stops the workers.
            let rest = std::mem::ManuallyDrop::new(rest);
            #[cfg(not(stevedore_loom))]
            let spawned = std::thread::Builder::new()
                .name("stevedore-shutdown".into())
                .spawn(move || {
                    let mut rest = std::mem::ManuallyDrop::into_inner(rest);
                    rest.shutdown(blocking_timeout);
                })
                .is_ok();
            #[cfg(stevedore_loom)]
            let spawned = {
                let _ = rest;
                false
            };
            if !spawned {
                // Could not start the helper: at least stop the workers.
                let shared = &*self.handle.shared;
                shared
                    .shutdown
                    .store(true, crate::loom::sync::atomic::Ordering::Release);
                for r in shared.remotes.iter() {
                    r.unpark.unpark();
                }
            }
            if !std::thread::panicking() {
                panic!("{why}");
            }
            return;
        }
        self.shut_down = true;
        let shared = &*self.handle.shared;
        shared
            .shutdown
            .store(true, crate::loom::sync::atomic::Ordering::Release);
        for r in shared.remotes.iter() {
            r.unpark.unpark();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        if let Some((thread, parker)) = self.monitor.take() {
            parker.unpark();
            let _ = thread.join();
        }
        // Workers are gone: cancel every task still alive. Dropping their
        // futures may wake or spawn others; those land in the injector (or
        // are cancelled on the spot by the closed list) and are drained below.
        // SAFETY: every worker thread has been joined above.
        unsafe { shared.owned.close_and_shutdown_all() };
        loop {
            match shared.inject.steal() {
                Steal::Success(t) => drop(t),
                Steal::Empty => break,
                Steal::Retry => continue,
            }
        }
        for r in shared.remotes.iter() {
            drop(r.lifo.take());
        }
        shared.driver.timers.clear();
        #[cfg(not(stevedore_loom))]
        if let Some(io) = &shared.driver.io {
            io.shutdown();
        }
        shared.blocking.shutdown(blocking_timeout);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("workers", &self.handle.num_workers())
            .finish()
    }
}

/// Polls `future` on this thread, parking between wake-ups. Each poll has a
/// fresh cooperative budget, as a task poll does: an always-ready future
/// yields (wakes itself and returns `Pending`) every `coop::BUDGET`
/// operations, which lets a surrounding `timeout` look at its timer.
pub(crate) fn block_on_thread<F: Future>(future: F) -> F::Output {
    let parker = park::Parker::new();
    let waker = parker.waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(v) = coop::budget(|| future.as_mut().poll(&mut cx)) {
            return v;
        }
        parker.park();
    }
}

/// Spawns a green task onto the current runtime and returns its handle.
///
/// The task starts running on a worker right away; dropping the
/// [`JoinHandle`] detaches it (it keeps running, as a goroutine does).
///
/// # Panics
///
/// Outside a stevedore runtime. Use [`Runtime::spawn`] or [`Handle::spawn`]
/// from plain threads.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    context::with_core(|core| match core {
        Some(core) => core.handle().spawn(future),
        None => match Handle::try_current() {
            Some(handle) => handle.spawn(future),
            None => panic!(
                "stevedore::spawn called outside a stevedore runtime; use Runtime::spawn or \
                 Handle::spawn, or call it from a task or inside Runtime::block_on"
            ),
        },
    })
}

/// Runs a blocking closure on the runtime's blocking pool, so it does not
/// stall a worker. The pool grows on demand (up to
/// [`Builder::max_blocking_threads`]) and shrinks when idle.
///
/// # Panics
///
/// Outside a stevedore runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().spawn_blocking(f)
}

/// Yields to the scheduler: the task goes to the back of its worker's queue.
///
/// # Cancel safety
///
/// Cancel safe (it holds nothing).
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Woken while running: the scheduler re-queues it at the back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
