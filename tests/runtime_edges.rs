//! Regressions at the runtime's edges (issue 8): the next-task slot wake
//! rule, timers of a shut-down runtime, runtimes dropped where they would
//! wait for themselves, read readiness with read-ahead bytes, and the
//! cooperative budget of `Runtime::block_on`.
//!
//! Every wait here is bounded by a channel `recv_timeout` (a watchdog), so a
//! regression fails with a message instead of hanging the suite; nothing
//! synchronises by sleeping.

mod util;

use std::future::{pending, poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};
use stevedore::net::{TcpListener, TcpStream, UnixStream};
use stevedore::time::{interval, sleep, timeout};
use stevedore::{chan, spawn, Handle, Runtime};
use util::{panic_message, rt};

/// Generous bound for "this should be immediate" on a loaded machine.
const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread and returns its result (`Err` with the panic
/// message if it panicked); panics with `what` if it does not finish within
/// the watchdog (the hang the regression is about).
fn within<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(r) => r,
        Err(_) => panic!("{what}: still blocked after {WATCHDOG:?} (hang)"),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

// ---- 3. the next-task slot wakes an idle worker --------------------------

/// A task spawns a child (into its worker's next-task slot) and then blocks
/// its thread until the child has started. The other worker is asleep
/// (parked on the driver or its condvar), so only the slot wake rule can
/// get the child running during the block; before the fix the child waited
/// for the whole block.
#[test]
fn a_child_in_the_slot_starts_on_the_idle_worker_while_its_parent_blocks() {
    let rt = rt(2);
    let handle = rt.handle().clone();
    let mut latencies = Vec::new();
    for trial in 0..15 {
        let h = handle.clone();
        let started = rt
            .block_on(rt.spawn(async move {
                // "Another worker idles": wait until the other one sleeps.
                let deadline = Instant::now() + WATCHDOG;
                while h.metrics().sleeping_workers == 0 {
                    assert!(Instant::now() < deadline, "the other worker never slept");
                    std::thread::yield_now();
                }
                let (tx, rx) = mpsc::channel::<Instant>();
                let spawned = Instant::now();
                drop(spawn(async move {
                    let _ = tx.send(Instant::now());
                }));
                // Block this worker thread (the parent never yields) until
                // the child reports, or for at most 2 s.
                rx.recv_timeout(Duration::from_secs(2))
                    .map(|at| at.saturating_duration_since(spawned))
            }))
            .unwrap();
        let latency = started.unwrap_or_else(|_| {
            panic!("trial {trial}: the child did not start while its parent blocked for 2 s")
        });
        latencies.push(latency);
    }
    let med = median(latencies.clone());
    eprintln!("slot child start latency: median {med:?}, all {latencies:?}");
    assert!(
        med < Duration::from_millis(100),
        "median start latency {med:?} (target: within 10 ms; 100 ms allowed for a loaded machine); all: {latencies:?}"
    );
}

/// Same, with the child *woken* (not spawned) into the slot: a channel send
/// from the blocking parent.
#[test]
fn a_woken_task_in_the_slot_runs_on_the_idle_worker_while_the_waker_blocks() {
    let rt = rt(2);
    let handle = rt.handle().clone();
    for trial in 0..10 {
        let h = handle.clone();
        let ok = rt
            .block_on(rt.spawn(async move {
                let (ctx, crx) = chan::bounded::<()>(1);
                let (ready_tx, ready_rx) = chan::bounded::<()>(1);
                let (tx, rx) = mpsc::channel::<()>();
                drop(spawn(async move {
                    ready_tx.try_send(()).unwrap();
                    crx.recv().await; // parks in the same poll
                    let _ = tx.send(());
                }));
                ready_rx.recv().await.unwrap();
                // The child's poll is over (it ran here, or the other
                // worker went to sleep after it): wait for an idle worker.
                let deadline = Instant::now() + WATCHDOG;
                while h.metrics().sleeping_workers == 0 {
                    assert!(Instant::now() < deadline, "the other worker never slept");
                    stevedore::yield_now().await;
                }
                ctx.try_send(()).unwrap(); // wakes the child into our slot
                rx.recv_timeout(Duration::from_secs(2)).is_ok()
            }))
            .unwrap();
        assert!(
            ok,
            "trial {trial}: the woken task did not run while its waker blocked"
        );
    }
}

// ---- 7. timers of a shut-down runtime ------------------------------------

#[test]
fn a_sleep_moved_out_of_a_dropped_runtime_panics_instead_of_hanging() {
    let rt1 = rt(1);
    // Register the timer on rt1 (first poll), then take the sleep out.
    let mut s = Box::pin(sleep(Duration::from_secs(3600)));
    rt1.block_on(poll_fn(|cx| {
        assert!(s.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    }));
    drop(rt1);
    let rt2 = rt(1);
    let err = within("a sleep of a dropped runtime", move || {
        rt2.block_on(rt2.spawn(s)).unwrap_err()
    })
    .unwrap();
    assert!(err.is_panic());
    let msg = panic_message(&*err.into_panic());
    assert!(msg.contains("shut down"), "message: {msg}");
}

#[test]
fn a_sleep_waiting_outside_its_runtime_panics_when_the_runtime_drops() {
    let rt1 = rt(1);
    let h = rt1.handle().clone();
    let (reg_tx, reg_rx) = mpsc::channel();
    let (res_tx, res_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _g = h.enter();
        let mut s = Box::pin(sleep(Duration::from_secs(3600)));
        let r = catch_unwind(AssertUnwindSafe(|| {
            futures_lite::future::block_on(poll_fn(|cx| {
                let p = s.as_mut().poll(cx);
                let _ = reg_tx.send(()); // registered (first poll) or re-polled
                p
            }))
        }));
        let _ = res_tx.send(r.map_err(|p| panic_message(&*p)));
    });
    reg_rx.recv_timeout(WATCHDOG).expect("the sleep was polled");
    drop(rt1);
    let r = res_rx
        .recv_timeout(WATCHDOG)
        .expect("a sleep waiting when its runtime dropped hung");
    let msg = r.expect_err("the sleep of a dropped runtime completed");
    assert!(msg.contains("shut down"), "message: {msg}");
}

#[test]
fn timeout_and_interval_registered_on_a_dropped_runtime_panic() {
    let rt1 = rt(1);
    let h: Handle = rt1.handle().clone();
    drop(rt1);
    let h2 = h.clone();
    let msg = within("a timeout on a dropped runtime", move || {
        let _g = h2.enter();
        futures_lite::future::block_on(timeout(Duration::from_secs(3600), pending::<()>()))
    })
    .expect_err("a timeout on a dropped runtime returned");
    assert!(msg.contains("shut down"), "message: {msg}");
    let msg = within("an interval on a dropped runtime", move || {
        let _g = h.enter();
        let mut iv = interval(Duration::from_secs(3600));
        futures_lite::future::block_on(async {
            iv.tick().await; // the first tick is immediate
            iv.tick().await
        })
    })
    .expect_err("an interval on a dropped runtime ticked");
    assert!(msg.contains("shut down"), "message: {msg}");
}

#[test]
fn a_sleep_past_its_deadline_completes_even_after_its_runtime_dropped() {
    let rt1 = rt(1);
    let mut s = Box::pin(sleep(Duration::from_millis(1)));
    rt1.block_on(poll_fn(|cx| {
        let _ = s.as_mut().poll(cx); // registered (or already due)
        Poll::Ready(())
    }));
    while !s.is_elapsed() {
        std::thread::yield_now();
    }
    drop(rt1);
    within("a due sleep of a dropped runtime", move || {
        futures_lite::future::block_on(s); // due: ready whatever the timer's state
    })
    .unwrap();
}

// ---- 8. dropping a runtime where it would wait for itself ----------------

#[test]
fn dropping_a_runtime_inside_its_own_spawn_blocking_panics_and_still_shuts_down() {
    let rt1 = rt(1);
    let h = rt1.handle().clone();
    // A task that holds a sender: it is dropped (disconnecting the channel)
    // when the shutdown finishes on the helper thread.
    let (alive_tx, alive_rx) = mpsc::channel::<()>();
    drop(rt1.spawn(async move {
        let _alive = alive_tx;
        pending::<()>().await
    }));
    let err = within("drop inside its own spawn_blocking", move || {
        futures_lite::future::block_on(h.spawn_blocking(move || drop(rt1))).unwrap_err()
    })
    .unwrap();
    assert!(err.is_panic());
    let msg = panic_message(&*err.into_panic());
    assert!(msg.contains("spawn_blocking"), "message: {msg}");
    assert_eq!(
        alive_rx.recv_timeout(WATCHDOG),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "the runtime's tasks were not cancelled by the finished shutdown"
    );
}

#[test]
fn dropping_a_runtime_from_a_task_of_another_runtime_panics_there_only() {
    let a = rt(1);
    let (alive_tx, alive_rx) = mpsc::channel::<()>();
    drop(a.spawn(async move {
        let _alive = alive_tx;
        pending::<()>().await
    }));
    let b = rt(1);
    let err = within("drop runtime A inside a task of B", move || {
        let e = b.block_on(b.spawn(async move { drop(a) })).unwrap_err();
        // B's only worker survived: it still runs tasks.
        assert_eq!(b.block_on(b.spawn(async { 5 })).unwrap(), 5);
        e
    })
    .unwrap();
    assert!(err.is_panic());
    let msg = panic_message(&*err.into_panic());
    assert!(msg.contains("another stevedore runtime"), "message: {msg}");
    assert_eq!(
        alive_rx.recv_timeout(WATCHDOG),
        Err(mpsc::RecvTimeoutError::Disconnected),
        "runtime A was not shut down after the refused drop"
    );
}

#[test]
fn shutdown_background_works_inside_another_runtimes_task_and_own_spawn_blocking() {
    let a = rt(1);
    let b = rt(1);
    within("shutdown_background in a task of B", move || {
        b.block_on(b.spawn(async move { a.shutdown_background() }))
            .unwrap();
    })
    .unwrap();
    let c = rt(1);
    let h = c.handle().clone();
    within("shutdown_background in its own spawn_blocking", move || {
        futures_lite::future::block_on(h.spawn_blocking(move || c.shutdown_background())).unwrap();
    })
    .unwrap();
}

#[test]
fn dropping_a_runtime_on_a_plain_thread_or_another_blocking_thread_is_fine() {
    let a = rt(1);
    let b = rt(1);
    within("drop A on B's blocking thread", move || {
        b.block_on(b.spawn_blocking(move || drop(a))).unwrap();
    })
    .unwrap();
}

// ---- 9. readable() counts the read-ahead buffer ---------------------------

/// Writes ten bytes, reads one (the stream keeps nine read ahead), then
/// `readable` must complete at once and `try_read` hand out the nine.
async fn check_read_ahead<R, W>(writer: &mut W, reader: &mut R)
where
    W: futures::io::AsyncWrite + Unpin,
    R: ReadAhead,
{
    use futures::io::AsyncWriteExt;
    writer.write_all(b"0123456789").await.unwrap();
    reader.wait_readable().await.unwrap(); // all ten bytes are there
    let mut one = [0u8; 1];
    assert_eq!(reader.read_some(&mut one).await.unwrap(), 1);
    assert_eq!(&one, b"0");
    timeout(Duration::from_secs(10), reader.wait_readable())
        .await
        .expect("readable() hung with nine bytes read ahead")
        .unwrap();
    let mut rest = [0u8; 32];
    let n = reader.try_read_now(&mut rest).unwrap();
    assert_eq!(&rest[..n], b"123456789");
}

trait ReadAhead {
    fn wait_readable(&self) -> Pin<Box<dyn Future<Output = std::io::Result<()>> + Send + '_>>;
    fn read_some<'a>(
        &'a mut self,
        buf: &'a mut [u8],
    ) -> Pin<Box<dyn Future<Output = std::io::Result<usize>> + Send + 'a>>;
    fn try_read_now(&self, buf: &mut [u8]) -> std::io::Result<usize>;
}

macro_rules! read_ahead_whole {
    ($t:ty) => {
        impl ReadAhead for $t {
            fn wait_readable(
                &self,
            ) -> Pin<Box<dyn Future<Output = std::io::Result<()>> + Send + '_>> {
                Box::pin(self.readable())
            }
            fn read_some<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> Pin<Box<dyn Future<Output = std::io::Result<usize>> + Send + 'a>> {
                Box::pin(self.read(buf))
            }
            fn try_read_now(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.try_read(buf)
            }
        }
        impl ReadAhead for stevedore::net::ReadHalf<$t> {
            fn wait_readable(
                &self,
            ) -> Pin<Box<dyn Future<Output = std::io::Result<()>> + Send + '_>> {
                Box::pin(self.readable())
            }
            fn read_some<'a>(
                &'a mut self,
                buf: &'a mut [u8],
            ) -> Pin<Box<dyn Future<Output = std::io::Result<usize>> + Send + 'a>> {
                Box::pin(self.read(buf))
            }
            fn try_read_now(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.as_stream().try_read(buf)
            }
        }
    };
}
read_ahead_whole!(TcpStream);
read_ahead_whole!(UnixStream);

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (a, b) = futures_lite::future::zip(TcpStream::connect(addr), listener.accept()).await;
    (a.unwrap(), b.unwrap().0)
}

#[test]
fn tcp_readable_counts_read_ahead_bytes() {
    rt(2).block_on(async {
        let (mut a, mut b) = tcp_pair().await;
        check_read_ahead(&mut a, &mut b).await;
    });
}

#[test]
fn tcp_read_half_readable_counts_read_ahead_bytes() {
    rt(2).block_on(async {
        let (mut a, b) = tcp_pair().await;
        let (mut r, _w) = b.into_split();
        check_read_ahead(&mut a, &mut r).await;
    });
}

#[test]
fn unix_readable_counts_read_ahead_bytes() {
    rt(2).block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        check_read_ahead(&mut a, &mut b).await;
    });
}

#[test]
fn unix_read_half_readable_counts_read_ahead_bytes() {
    rt(2).block_on(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (mut r, _w) = b.into_split();
        check_read_ahead(&mut a, &mut r).await;
    });
}

#[test]
fn readable_still_waits_when_nothing_is_buffered() {
    rt(2).block_on(async {
        let (_a, b) = UnixStream::pair().unwrap();
        assert!(timeout(Duration::from_millis(20), b.readable())
            .await
            .is_err());
    });
}

// ---- 10. timeout around an always-ready future ----------------------------

/// A future that never waits: each receive finds the value just sent.
async fn always_ready() -> Result<(), chan::TrySendError<u32>> {
    let (tx, rx) = chan::bounded::<u32>(1);
    loop {
        tx.try_send(0)?;
        rx.recv().await;
    }
}

const D: Duration = Duration::from_millis(10);
/// The bound, 2 x the duration + 5 ms, is what an unloaded machine
/// shows (the median is printed). Asserted here: every sample fires, not
/// early, within 2 s (before the fix `block_on` never returned), and the
/// median within a bound loose enough for a CPU-starved thread on a
/// loaded machine (the looping thread must be scheduled to see its timer).
const BOUND: Duration = Duration::from_millis(500);

fn time_timeouts(mut one: impl FnMut() -> Duration) -> Duration {
    let samples: Vec<Duration> = (0..15).map(|_| one()).collect();
    let med = median(samples.clone());
    eprintln!("timeout({D:?}) around an always-ready future: median {med:?}, all {samples:?}");
    for s in &samples {
        assert!(*s >= D, "fired early: {s:?}");
        assert!(*s < Duration::from_secs(2), "far too late: {s:?}");
    }
    med
}

#[test]
fn timeout_interrupts_an_always_ready_future_in_block_on() {
    let rt = rt(2);
    let med = within(
        "timeout around an always-ready future in block_on",
        move || {
            time_timeouts(|| {
                let t = Instant::now();
                let r = rt.block_on(timeout(D, always_ready()));
                assert!(r.is_err(), "{r:?}");
                t.elapsed()
            })
        },
    )
    .unwrap();
    assert!(med < BOUND, "median {med:?} over {BOUND:?}");
}

#[test]
fn timeout_interrupts_an_always_ready_future_in_a_task() {
    for workers in [1, 2] {
        let rt = rt(workers);
        let med = within(
            "timeout around an always-ready future in a task",
            move || {
                time_timeouts(|| {
                    rt.block_on(rt.spawn(async {
                        let t = Instant::now();
                        let r = timeout(D, always_ready()).await;
                        assert!(r.is_err(), "{r:?}");
                        t.elapsed()
                    }))
                    .unwrap()
                })
            },
        )
        .unwrap();
        assert!(
            med < BOUND,
            "{workers} workers: median {med:?} over {BOUND:?}"
        );
    }
}

#[test]
fn block_on_still_completes_budgeted_work() {
    // 10,000 ready receives: the budget makes block_on re-poll, it does not
    // lose progress.
    let rt: Runtime = rt(1);
    let (tx, rx) = chan::unbounded::<u32>();
    for i in 0..10_000 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let sum = rt.block_on(async move {
        let mut sum = 0u64;
        while let Some(v) = rx.recv().await {
            sum += u64::from(v);
        }
        sum
    });
    assert_eq!(sum, (0..10_000u64).sum::<u64>());
}
