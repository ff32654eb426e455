//! The blocking pool: threads for `spawn_blocking`, grown on demand up to a
//! cap and shrunk when idle.
//!
//! * A submitted job goes to a FIFO queue. If a thread is idle, one is
//!   claimed for it (`num_idle -= 1; num_notify += 1`, so two quick submits
//!   never both count on the same idle thread); otherwise a new thread is
//!   started, up to `max_threads`. Past the cap, jobs wait in the queue.
//! * An idle thread that is not claimed within `keep_alive` exits.
//! * If a thread cannot be started and no thread exists to run the job, the
//!   job is cancelled (its `JoinHandle` yields a cancelled `JoinError`)
//!   rather than orphaned or panicking.
//! * Shutdown cancels queued jobs, wakes idle threads so they exit, and
//!   waits (bounded by `shutdown_timeout`) for running jobs.

use super::coop;
use super::handle::Handle;
use crate::loom::sync::{Arc, Condvar, Mutex};
use crate::task::list::OWNER_NONE;
use crate::task::{new_task, JoinHandle, Notified, Schedule, Task};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for a job or for shutdown.
    work_cv: Condvar,
    /// Shutdown waits here for the last thread to exit.
    exit_cv: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
    stack_size: Option<usize>,
}

struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    /// Threads alive (running a job or idle).
    num_threads: usize,
    /// Idle threads not yet claimed by a submit.
    num_idle: usize,
    /// Claims not yet picked up by a waking idle thread.
    num_notify: usize,
    shutdown: bool,
}

/// Scheduler of blocking jobs: they complete in one poll and are never
/// linked in the owned-tasks list.
pub(crate) struct BlockingSchedule {
    pool: Arc<Inner>,
}

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // Blocking jobs never wait, so they are only woken if someone
        // clones the waker of a running job; run it again if so.
        submit(&self.pool, task, None);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

/// Future wrapper that runs the closure on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(f())
    }
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: String,
        stack_size: Option<usize>,
    ) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    shutdown: false,
                }),
                work_cv: Condvar::new(),
                exit_cv: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
                thread_name,
                stack_size,
            }),
        }
    }

    pub(crate) fn spawn<F, R>(&self, handle: &Handle, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let sched = BlockingSchedule {
            pool: self.inner.clone(),
        };
        let (task, notified, join) = new_task(BlockingTask(Some(f)), sched, OWNER_NONE);
        // Blocking jobs are not in the owned list; give up that reference.
        drop(task);
        submit(&self.inner, notified, Some(handle));
        join
    }

    /// Threads currently alive (for tests and diagnostics).
    pub(crate) fn num_threads(&self) -> usize {
        self.inner.state.lock().num_threads
    }

    /// Cancels queued jobs and waits up to `timeout` (forever if `None`) for
    /// running ones.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        let queued: Vec<_> = {
            let mut state = inner.state.lock();
            state.shutdown = true;
            inner.work_cv.notify_all();
            state.queue.drain(..).collect()
        };
        for task in queued {
            task.shutdown();
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = inner.state.lock();
        while state.num_threads > 0 {
            match deadline {
                None => inner.exit_cv.wait(&mut state),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    inner.exit_cv.wait_for(&mut state, left);
                }
            }
        }
    }
}

fn submit(inner: &Arc<Inner>, task: Notified<BlockingSchedule>, handle: Option<&Handle>) {
    let mut state = inner.state.lock();
    if state.shutdown {
        drop(state);
        return task.shutdown();
    }
    state.queue.push_back(task);
    if state.num_idle > 0 {
        state.num_idle -= 1;
        state.num_notify += 1;
        inner.work_cv.notify_one();
        return;
    }
    if state.num_threads >= inner.max_threads {
        return; // an existing thread will get to it
    }
    let Some(handle) = handle.cloned().or_else(Handle::try_current) else {
        return;
    };
    state.num_threads += 1;
    drop(state);
    if let Err(err) = spawn_thread(inner, handle) {
        let mut state = inner.state.lock();
        state.num_threads -= 1;
        if state.num_threads == 0 {
            // Nobody will ever run the queued jobs: cancel them instead of
            // leaving their JoinHandles pending forever.
            let orphans: Vec<_> = state.queue.drain(..).collect();
            drop(state);
            eprintln!("stevedore: could not start a blocking thread: {err}");
            for t in orphans {
                t.shutdown();
            }
        }
    }
}

fn spawn_thread(inner: &Arc<Inner>, handle: Handle) -> std::io::Result<()> {
    let mut builder = crate::loom::thread::Builder::new().name(inner.thread_name.clone());
    if let Some(size) = inner.stack_size {
        builder = builder.stack_size(size);
    }
    let inner = inner.clone();
    builder.spawn(move || run_thread(&inner, handle)).map(drop)
}

crate::loom::thread_local! {
    /// The pool whose thread this is (null on other threads); compared by
    /// address only, never dereferenced.
    static CURRENT_POOL: std::cell::Cell<*const Inner> = std::cell::Cell::new(std::ptr::null());
}

impl BlockingPool {
    /// True on one of this pool's own threads (inside a `spawn_blocking`
    /// closure of this runtime): waiting there for the pool to drain would
    /// wait for ourselves.
    pub(crate) fn is_current_thread(&self) -> bool {
        let me: *const Inner = &*self.inner;
        CURRENT_POOL.with(|c| std::ptr::eq(c.get(), me))
    }
}

fn run_thread(inner: &Inner, handle: Handle) {
    let _enter = handle.enter();
    CURRENT_POOL.with(|c| c.set(inner as *const Inner));
    let mut state = inner.state.lock();
    'work: loop {
        while let Some(task) = state.queue.pop_front() {
            drop(state);
            coop::unconstrained(|| task.run());
            state = inner.state.lock();
        }
        if state.shutdown {
            break;
        }
        state.num_idle += 1;
        loop {
            let timed_out = inner
                .work_cv
                .wait_for(&mut state, inner.keep_alive)
                .timed_out();
            if state.num_notify > 0 {
                state.num_notify -= 1;
                continue 'work;
            }
            if state.shutdown || timed_out {
                state.num_idle -= 1;
                break 'work;
            }
        }
    }
    state.num_threads -= 1;
    if state.num_threads == 0 {
        inner.exit_cv.notify_all();
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.state.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &s.num_threads)
            .field("idle", &s.num_idle)
            .field("queued", &s.queue.len())
            .finish()
    }
}
