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
/// to bound that wait.
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
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for running blocking jobs.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, blocking_timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let shared = &*self.handle.shared;
        let own_worker =
            context::with_core(|c| c.is_some_and(|c| std::ptr::eq(c.shared(), shared)));
        assert!(
            !own_worker,
            "a stevedore runtime cannot be dropped or shut down from one of its own worker threads"
        );
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

/// Polls `future` on this thread, parking between wake-ups.
pub(crate) fn block_on_thread<F: Future>(future: F) -> F::Output {
    let parker = park::Parker::new();
    let waker = parker.waker();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(v) = coop::unconstrained(|| future.as_mut().poll(&mut cx)) {
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
