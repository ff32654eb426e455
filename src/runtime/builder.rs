//! `Builder`: configure and start a runtime.

use super::blocking::BlockingPool;
use super::driver::Driver;
use super::handle::{Handle, Remote, Shared};
use super::idle::Idle;
use super::park::Parker;
use super::worker::{self, LifoSlot};
use super::Runtime;
use crate::loom::deque::{Injector, Worker};
use crate::loom::sync::atomic::AtomicBool;
use crate::loom::sync::Arc;
use crate::task::list::OwnedTasks;
use crate::util::cache_padded::CachePadded;
use std::fmt;
use std::io;
use std::time::Duration;

/// Configures a [`Runtime`].
///
/// ```
/// let rt = stevedore::Runtime::builder()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    worker_threads: Option<usize>,
    thread_name: std::sync::Arc<dyn Fn(usize) -> String + Send + Sync>,
    blocking_thread_name: String,
    stack_size: Option<usize>,
    max_blocking_threads: usize,
    keep_alive: Duration,
    global_queue_interval: u32,
    event_interval: u32,
}

/// Scheduler tunables fixed at build time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    pub(crate) global_queue_interval: u32,
    pub(crate) event_interval: u32,
}

impl Builder {
    /// Defaults: one worker per available CPU (or `STEVEDORE_WORKER_THREADS`),
    /// up to 512 blocking threads kept 10 s when idle, global queue checked
    /// every 61 ticks.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: std::sync::Arc::new(|i| format!("stevedore-worker-{i}")),
            blocking_thread_name: "stevedore-blocking".to_owned(),
            stack_size: None,
            max_blocking_threads: 512,
            keep_alive: Duration::from_secs(10),
            global_queue_interval: 61,
            event_interval: 61,
        }
    }

    /// Number of worker threads.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "a runtime needs at least one worker thread");
        self.worker_threads = Some(n);
        self
    }

    /// Worker threads are named `{name}-{index}`; blocking threads `{name}-blocking`.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name: String = name.into();
        self.blocking_thread_name = format!("{name}-blocking");
        self.thread_name = std::sync::Arc::new(move |i| format!("{name}-{i}"));
        self
    }

    /// Names worker `i` by calling `f(i)`.
    pub fn thread_name_fn(
        &mut self,
        f: impl Fn(usize) -> String + Send + Sync + 'static,
    ) -> &mut Self {
        self.thread_name = std::sync::Arc::new(f);
        self
    }

    /// Stack size of worker and blocking threads.
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Cap on blocking threads (default 512).
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before exiting.
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.keep_alive = d;
        self
    }

    /// Ticks between checks of the global queue ahead of the local one.
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(ticks > 0, "global_queue_interval must be at least 1");
        self.global_queue_interval = ticks;
        self
    }

    /// Ticks between timer checks while a worker is busy.
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        assert!(ticks > 0, "event_interval must be at least 1");
        self.event_interval = ticks;
        self
    }

    /// Starts the worker threads.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let n = match self.worker_threads {
            Some(n) => n,
            None => default_workers(),
        };
        #[cfg(not(stevedore_loom))]
        let reactor = crate::reactor::Reactor::new()?;
        #[cfg(not(stevedore_loom))]
        let driver_waker = Some(reactor.waker());
        let queues: Vec<Worker<_>> = (0..n).map(|_| Worker::new_fifo()).collect();
        let remotes: Box<[CachePadded<Remote>]> = queues
            .iter()
            .map(|q| {
                #[cfg(not(stevedore_loom))]
                let unpark = Parker::with_driver(driver_waker.clone());
                #[cfg(stevedore_loom)]
                let unpark = Parker::new();
                CachePadded::new(Remote {
                    steal: q.stealer(),
                    lifo: LifoSlot::new(),
                    unpark,
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            remotes,
            inject: Injector::new(),
            idle: Idle::new(n),
            owned: OwnedTasks::new(n),
            driver: Driver::new(
                n,
                #[cfg(not(stevedore_loom))]
                Some(reactor),
            ),
            blocking: BlockingPool::new(
                self.max_blocking_threads,
                self.keep_alive,
                self.blocking_thread_name.clone(),
                self.stack_size,
            ),
            shutdown: AtomicBool::new(false),
            config: Config {
                global_queue_interval: self.global_queue_interval,
                event_interval: self.event_interval,
            },
        });
        let handle = Handle { shared };
        let mut rt = Runtime {
            handle: handle.clone(),
            workers: Vec::with_capacity(n),
            monitor: None,
            shut_down: false,
        };
        for (i, queue) in queues.into_iter().enumerate() {
            let mut b = crate::loom::thread::Builder::new().name((self.thread_name)(i));
            if let Some(size) = self.stack_size {
                b = b.stack_size(size);
            }
            let h = handle.clone();
            // On failure `rt` drops here and stops the workers already started.
            rt.workers.push(b.spawn(move || worker::run(h, i, queue))?);
        }
        #[cfg(not(stevedore_loom))]
        {
            let parker = Parker::new();
            let (h, p) = (handle.clone(), parker.clone());
            let name = format!(
                "{}-monitor",
                self.blocking_thread_name.trim_end_matches("-blocking")
            );
            let thread = crate::loom::thread::Builder::new()
                .name(name)
                .spawn(move || super::monitor::run(h, p))?;
            rt.monitor = Some((thread, parker));
        }
        Ok(rt)
    }
}

fn default_workers() -> usize {
    std::env::var("STEVEDORE_WORKER_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("keep_alive", &self.keep_alive)
            .field("global_queue_interval", &self.global_queue_interval)
            .finish()
    }
}
