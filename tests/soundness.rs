//! Regression tests for issue 8's soundness defects: an `EnterGuard` dropped
//! out of order or leaked (1), `WaitGroup` misuse (4), user code unwinding
//! into a worker (5), and a rendezvous channel after a cancelled receive
//! (6). The `select!` support API (2) is covered by a `compile_fail` doctest
//! on `SelectArm::poll_arm`. Several of these read freed memory on the old
//! code: `.ci/asan` runs this suite under AddressSanitizer.

mod util;

use std::future::Future;
use std::panic::{catch_unwind, panic_any, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;
use stevedore::sync::WaitGroup;
use stevedore::{chan, select, spawn, Handle, JoinHandle, Runtime};
use util::{panic_message, rt};

/// How long a check may take before it counts as hung (a dead worker shows
/// up as a hang). Only a failure detector: nothing waits for it to expire.
const HANG: Duration = Duration::from_secs(60);

fn noop_cx() -> Context<'static> {
    Context::from_waker(futures::task::noop_waker_ref())
}

/// Runs `f` on a helper thread and fails (instead of hanging the suite) if
/// it has not returned within [`HANG`].
fn within_hang_limit<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(r) => r,
        Err(_) => panic!("{what}: hung for {HANG:?} (a worker died or a task never finished)"),
    }
}

/// Spawns a trivial task and waits for it: proof the runtime still runs.
fn assert_runtime_alive(rt: &Arc<Runtime>, what: &str) {
    let rt = rt.clone();
    let v = within_hang_limit(what, move || {
        rt.block_on(async { spawn(async { 41 + 1 }).await })
    });
    assert_eq!(v.unwrap(), 42, "{what}");
}

// ===== 1: EnterGuard =====

#[test]
fn enter_guards_dropped_out_of_order_panic_and_never_dangle() {
    let rt1 = Runtime::new().unwrap();
    let rt2 = Runtime::new().unwrap();
    let g1 = rt1.enter();
    let g2 = rt2.enter();
    let first = catch_unwind(AssertUnwindSafe(move || drop(g1)));
    let second = catch_unwind(AssertUnwindSafe(move || drop(g2)));
    drop(rt1);
    // On the old code the thread's context now points at rt1's freed
    // state: these read freed memory (AddressSanitizer reports it).
    if let Some(h) = Handle::try_current() {
        drop(h.spawn(async {}));
        let _ = h.metrics();
    }
    drop(rt2);
    let _ = Handle::try_current();
    let err = first.expect_err("dropping the outer guard first must panic");
    assert!(
        panic_message(&*err).contains("dropped out of order"),
        "unexpected panic: {:?}",
        panic_message(&*err)
    );
    let _ = second; // may panic too: the context no longer matches it
}

#[test]
fn enter_guards_in_order_restore_the_previous_runtime() {
    let rt1 = Runtime::new().unwrap();
    let rt2 = Runtime::new().unwrap();
    assert!(Handle::try_current().is_none());
    let g1 = rt1.enter();
    let n1 = Handle::current().num_workers();
    {
        let _g2 = rt2.enter();
        let _g3 = rt1.enter();
        let _g4 = rt2.enter();
    }
    assert_eq!(Handle::current().num_workers(), n1);
    drop(g1);
    assert!(Handle::try_current().is_none());
}

#[test]
fn a_leaked_enter_guard_keeps_its_runtime_valid() {
    // Run on a thread of its own: the leaked guard leaves that thread inside
    // the (shut down) runtime.
    thread::spawn(|| {
        let rt = Runtime::new().unwrap();
        std::mem::forget(rt.enter());
        drop(rt);
        // Old code: a dangling pointer to the dropped runtime.
        let h = Handle::try_current().expect("the leaked guard's runtime is still entered");
        assert!(h.num_workers() > 0);
        // Spawning onto a shut-down runtime cancels the task on the spot.
        let join = h.spawn(async { 1 });
        let res = rt_for_join().block_on(join);
        assert!(res.unwrap_err().is_cancelled());
    })
    .join()
    .unwrap();
}

fn rt_for_join() -> Runtime {
    rt(1)
}

// ===== 4: WaitGroup misuse =====

#[test]
fn done_on_zero_panics_and_leaves_the_count_at_zero() {
    let wg = WaitGroup::new();
    let err = catch_unwind(AssertUnwindSafe(|| wg.done())).unwrap_err();
    assert!(panic_message(&*err).contains("negative WaitGroup counter"));
    assert_eq!(wg.count(), 0);
    wg.add(2);
    wg.done();
    wg.done();
    assert_eq!(wg.count(), 0);
    wg.wait_blocking();
}

#[test]
fn an_overflowing_add_panics_and_leaves_the_count_unchanged() {
    let wg = WaitGroup::new();
    wg.add(3);
    let err = catch_unwind(AssertUnwindSafe(|| wg.add(usize::MAX))).unwrap_err();
    assert!(panic_message(&*err).contains("WaitGroup counter overflow"));
    assert_eq!(wg.count(), 3);
    let err = catch_unwind(AssertUnwindSafe(|| wg.add(isize::MAX as usize))).unwrap_err();
    assert!(panic_message(&*err).contains("WaitGroup counter overflow"));
    assert_eq!(wg.count(), 3);
    wg.add(isize::MAX as usize - 3); // exactly the limit is fine
    assert_eq!(wg.count(), isize::MAX as usize);
}

/// Silences the expected misuse panics (thousands of them) for the
/// duration of a test; any other panic is still reported.
fn quiet_misuse_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = panic_message(info.payload());
            let expected = msg.contains("WaitGroup counter")
                || msg.contains("soundness-test")
                || info.payload().is::<PayloadPanicsOnDrop>();
            if !expected {
                default(info);
            }
        }));
    });
}

#[test]
fn concurrent_over_dones_never_disturb_correct_adders() {
    quiet_misuse_panics();
    const ADDS: usize = 20_000;
    const MISUSERS: usize = 3;
    let wg = WaitGroup::new();
    let stolen = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(MISUSERS + 2));
    let adder = {
        let (wg, start) = (wg.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            for _ in 0..ADDS {
                wg.add(1); // a correct caller: must never panic
            }
        })
    };
    let misusers: Vec<_> = (0..MISUSERS)
        .map(|_| {
            let (wg, stolen, start) = (wg.clone(), stolen.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..ADDS {
                    // A done() with no matching add: on zero it must panic
                    // here, and never make the count wrap.
                    if catch_unwind(AssertUnwindSafe(|| wg.done())).is_ok() {
                        stolen.fetch_add(1, SeqCst);
                    }
                }
            })
        })
        .collect();
    start.wait();
    adder
        .join()
        .expect("a correct add() panicked because of a concurrent misuse");
    for m in misusers {
        m.join().unwrap();
    }
    let stolen = stolen.load(SeqCst);
    assert!(stolen <= ADDS);
    assert_eq!(
        wg.count(),
        ADDS - stolen,
        "the count drifted: every successful done() must match one add()"
    );
    for _ in 0..wg.count() {
        wg.done();
    }
    within_hang_limit("wait after misuse", move || wg.wait_blocking());
}

#[test]
fn concurrent_overflowing_adds_never_release_a_waiter_early() {
    quiet_misuse_panics();
    for _ in 0..200 {
        let wg = WaitGroup::new();
        wg.add(1);
        let released = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(3));
        let waiter = {
            let (wg, released, start) = (wg.clone(), released.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                wg.wait_blocking();
                released.store(1, SeqCst);
            })
        };
        let misuser = {
            let (wg, start) = (wg.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for _ in 0..100 {
                    // count + (MAX) wraps to count - 1: the old code
                    // published 0 for an instant and released the waiter.
                    assert!(catch_unwind(AssertUnwindSafe(|| wg.add(usize::MAX))).is_err());
                }
            })
        };
        start.wait();
        misuser.join().unwrap();
        assert_eq!(wg.count(), 1, "an overflowing add changed the count");
        assert_eq!(
            released.load(SeqCst),
            0,
            "wait() returned while the count was 1"
        );
        wg.done();
        within_hang_limit("waiter after the last done", move || waiter.join().unwrap());
        assert_eq!(released.load(SeqCst), 1);
    }
}

#[test]
fn a_correct_group_still_works_beside_misuse_in_tasks() {
    quiet_misuse_panics();
    let rt = rt(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        let misuse = WaitGroup::new();
        let mut hs = Vec::new();
        for i in 0..64 {
            let misuse = misuse.clone();
            hs.push(wg.spawn(async move {
                if i % 2 == 0 {
                    // Panics in this task only.
                    misuse.done();
                }
                i
            }));
        }
        wg.wait().await;
        assert_eq!(wg.count(), 0);
        assert_eq!(misuse.count(), 0);
        let mut panicked = 0;
        for h in hs {
            if h.await.is_err() {
                panicked += 1;
            }
        }
        assert_eq!(panicked, 32);
    });
}

// ===== 5: no user code unwinds into a worker =====

/// A value whose destructor panics.
#[derive(Debug)]
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("soundness-test: {} dropped", self.0);
        }
    }
}

/// A panic payload whose own destructor panics.
struct PayloadPanicsOnDrop;

impl Drop for PayloadPanicsOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("soundness-test: payload dropped");
        }
    }
}

/// An output whose destructor panics with a payload that panics on drop.
struct NastyOutput;

impl Drop for NastyOutput {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic_any(PayloadPanicsOnDrop);
        }
    }
}

/// Returns `out` on its first poll; its destructor then panics.
struct ReadyThenPanicOnDrop<T> {
    out: Option<T>,
    _bomb: PanicOnDrop,
}

impl<T: Unpin> Future for ReadyThenPanicOnDrop<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        Poll::Ready(self.out.take().expect("polled after ready"))
    }
}

fn ready_then_panic<T: Unpin>(out: T) -> ReadyThenPanicOnDrop<T> {
    ReadyThenPanicOnDrop {
        out: Some(out),
        _bomb: PanicOnDrop("the future"),
    }
}

fn one_worker() -> Arc<Runtime> {
    quiet_misuse_panics();
    Arc::new(rt(1))
}

/// Spawns `fut` on `rt` and returns its handle once the task has finished.
fn spawn_and_finish<F>(rt: &Arc<Runtime>, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // The marker task is spawned after `fut`'s; on one worker the FIFO runs
    // it after `fut` finished (or the worker died, which the timeout shows).
    let h = rt.spawn(fut);
    rt.spawn(async move {
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(HANG)
        .expect("the worker stopped running tasks");
    h
}

#[test]
fn future_drop_panic_after_ready_fails_the_task_and_spares_the_worker() {
    let rt = one_worker();
    let h = spawn_and_finish(&rt, ready_then_panic(7u32));
    let rt2 = rt.clone();
    let res = within_hang_limit("join", move || rt2.block_on(h));
    let err = res.expect_err("the future's destructor panicked");
    assert!(err.is_panic());
    assert_runtime_alive(&rt, "after a future's destructor panicked");
}

#[test]
fn future_and_output_drop_panics_spare_the_worker() {
    // The case: the future's destructor panics after `Ready(out)`,
    // so `out` is dropped — and its destructor panics too.
    let rt = one_worker();
    let h = spawn_and_finish(&rt, ready_then_panic(Box::new(PanicOnDrop("the output"))));
    let rt2 = rt.clone();
    let res = within_hang_limit("join", move || rt2.block_on(h));
    assert!(res
        .expect_err("the future's destructor panicked")
        .is_panic());
    assert_runtime_alive(&rt, "after the future and its output panicked on drop");
}

#[test]
fn detached_task_with_a_nasty_output_spares_the_worker() {
    // Nobody joins: the worker drops the output, whose destructor panics
    // with a payload that panics when dropped.
    let rt = one_worker();
    for _ in 0..3 {
        drop(rt.spawn(async { NastyOutput }));
        drop(rt.spawn(ready_then_panic(Box::new(NastyOutput))));
    }
    assert_runtime_alive(&rt, "after detached outputs panicked on drop");
}

#[test]
fn a_poll_panic_with_a_payload_that_panics_on_drop_spares_the_worker() {
    let rt = one_worker();
    for _ in 0..3 {
        drop(rt.spawn(async { panic_any(PayloadPanicsOnDrop) }));
    }
    let h = spawn_and_finish(&rt, async { panic_any(PayloadPanicsOnDrop) });
    let err = within_hang_limit("join", {
        let rt = rt.clone();
        move || rt.block_on(h)
    })
    .expect_err("the task panicked");
    assert!(err.is_panic());
    // Dropping the error drops the payload, which panics here, in the
    // joining thread: that is the caller's business, not the worker's.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(err)));
    assert_runtime_alive(&rt, "after panic payloads panicked on drop");
}

/// A waker whose `wake`/`wake_by_ref` panics (with a payload that panics on
/// drop), and whose last clone panics when dropped.
struct HostileWaker {
    wakes: AtomicUsize,
}

impl Wake for HostileWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        panic_any(PayloadPanicsOnDrop);
    }
}

impl Drop for HostileWaker {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("soundness-test: waker dropped");
        }
    }
}

#[test]
fn a_join_waker_that_panics_spares_the_worker() {
    let rt = one_worker();
    let (go_tx, go_rx) = chan::bounded::<()>(1);
    let mut h = rt.spawn(async move {
        go_rx.recv().await;
        Box::new(PanicOnDrop("the output"))
    });
    let hostile = Arc::new(HostileWaker {
        wakes: AtomicUsize::new(0),
    });
    let waker = Waker::from(hostile.clone());
    // Register the hostile waker as the join waker (on this thread).
    assert!(Pin::new(&mut h)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    go_tx.try_send(()).unwrap();
    // The worker completes the task and wakes the join waker, which panics.
    let marker = {
        let (tx, rx) = mpsc::channel::<()>();
        rt.spawn(async move {
            let _ = tx.send(());
        });
        rx
    };
    marker
        .recv_timeout(HANG)
        .expect("the worker stopped running tasks");
    while !h.is_finished() {
        thread::yield_now();
    }
    assert_runtime_alive(&rt, "after the join waker panicked");
    assert_eq!(hostile.wakes.load(SeqCst), 1);
    drop(hostile);
    // The handle's drop drops the output and the stored waker, both of
    // which panic — in this thread, which owns them.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(h)));
    assert_runtime_alive(&rt, "after the join handle was dropped");
}

#[test]
fn join_wakers_that_panic_on_drop_spare_the_worker() {
    // The handle goes away while the task waits, with a drop-panicking
    // waker registered; then the task completes on the worker.
    let rt = one_worker();
    for _ in 0..3 {
        let (go_tx, go_rx) = chan::bounded::<()>(1);
        let mut h = rt.spawn(async move {
            go_rx.recv().await;
        });
        let waker = Waker::from(Arc::new(HostileWaker {
            wakes: AtomicUsize::new(0),
        }));
        assert!(Pin::new(&mut h)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        let _ = catch_unwind(AssertUnwindSafe(move || drop(h)));
        go_tx.try_send(()).unwrap();
    }
    assert_runtime_alive(&rt, "after join wakers were dropped");
}

#[test]
fn a_panicking_waker_fired_by_a_timer_spares_the_worker() {
    // A sleep polled (outside any task) with a waker whose wake panics: the
    // worker firing the timer runs that waker outside any task's poll.
    let rt = one_worker();
    let hostile = Arc::new(HostileWaker {
        wakes: AtomicUsize::new(0),
    });
    let waker = Waker::from(hostile.clone());
    {
        let _enter = rt.enter();
        let mut sleep = Box::pin(stevedore::time::sleep(Duration::from_millis(1)));
        assert!(sleep
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let hostile = hostile.clone();
        within_hang_limit("the timer to fire", move || {
            while hostile.wakes.load(SeqCst) == 0 {
                thread::yield_now();
            }
        });
        let _ = catch_unwind(AssertUnwindSafe(move || drop(sleep)));
    }
    let _ = catch_unwind(AssertUnwindSafe(move || drop(waker)));
    assert_runtime_alive(&rt, "after a timer woke a panicking waker");
    std::mem::forget(hostile); // its last drop would panic here
}

#[test]
fn a_one_worker_runtime_outlives_every_kind_of_user_panic() {
    let rt = one_worker();
    let hs: Vec<JoinHandle<()>> = (0..20)
        .map(|i| match i % 4 {
            0 => rt.spawn(async { panic!("soundness-test: poll") }),
            1 => rt.spawn(async {
                let _ = ready_then_panic(()).await;
            }),
            2 => rt.spawn(async {
                drop(ready_then_panic(Box::new(NastyOutput)).await);
            }),
            _ => rt.spawn(async {
                let _bomb = PanicOnDrop("a local");
            }),
        })
        .collect();
    let rt2 = rt.clone();
    let results: Vec<_> = within_hang_limit("join all", move || {
        rt2.block_on(async {
            let mut out = Vec::new();
            for h in hs {
                out.push(h.await.map_err(|e| e.is_panic()));
            }
            out
        })
    });
    assert!(results.iter().all(|r| *r == Err(true)), "{results:?}");
    assert_runtime_alive(&rt, "after twenty panicking tasks");
}

// ===== 6: rendezvous after a cancelled receive =====

#[test]
fn rendezvous_after_a_cancelled_receive_loses_nothing_and_completes_no_send_early() {
    let (tx, rx) = chan::bounded::<u32>(0);
    // A receive is waiting; a send hands its value straight to it.
    let mut r1 = Box::pin(rx.recv());
    assert!(r1.as_mut().poll(&mut noop_cx()).is_pending());
    assert_eq!(pin!(tx.send(1)).poll(&mut noop_cx()), Poll::Ready(Ok(())));
    // The receive is cancelled before it saw the value: it goes back.
    drop(r1);
    assert_eq!(tx.len(), 0, "a rendezvous channel buffers nothing");
    assert_eq!(rx.len(), 0);
    // A second sender blocks: nobody is receiving.
    let mut s2 = pin!(tx.send(2));
    assert!(s2.as_mut().poll(&mut noop_cx()).is_pending());
    // The next receive gets the value given back, first in line...
    assert_eq!(rx.try_recv(), Ok(1));
    // ... and must not have completed the blocked sender into the buffer.
    assert!(
        s2.as_mut().poll(&mut noop_cx()).is_pending(),
        "send on bounded(0) completed although no receiver took its value"
    );
    assert_eq!(tx.len(), 0, "len() of a rendezvous channel read non-zero");
    // Only a receive completes it, with its own value.
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(s2.as_mut().poll(&mut noop_cx()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Err(chan::TryRecvError::Empty));
}

#[test]
fn a_full_buffer_after_a_cancelled_receive_refills_only_real_slots() {
    let (tx, rx) = chan::bounded::<u32>(1);
    let mut r1 = Box::pin(rx.recv());
    assert!(r1.as_mut().poll(&mut noop_cx()).is_pending());
    tx.try_send(1).unwrap(); // handed to r1
    tx.try_send(2).unwrap(); // buffered
    let mut s3 = pin!(tx.send(3));
    assert!(s3.as_mut().poll(&mut noop_cx()).is_pending()); // full
    drop(r1); // 1 goes back in front, beyond the capacity
    assert_eq!(rx.len(), 1, "len() never exceeds the capacity");
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(
        s3.as_mut().poll(&mut noop_cx()).is_pending(),
        "no real slot was freed yet"
    );
    assert_eq!(rx.try_recv(), Ok(2)); // frees the slot: 3 moves in
    assert_eq!(s3.as_mut().poll(&mut noop_cx()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(chan::TryRecvError::Empty));
}

#[test]
fn select_with_a_cancelled_arm_on_a_rendezvous_channel() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (_other_tx, other_rx) = chan::bounded::<u32>(0);
    let mut sel = Box::pin(async {
        select! {
            v = rx.recv() => v,
            v = other_rx.recv() => v.map(|v| v + 1000),
        }
    });
    assert!(sel.as_mut().poll(&mut noop_cx()).is_pending());
    // The send hands its value to the select's receive arm (claiming it)...
    assert_eq!(pin!(tx.send(1)).poll(&mut noop_cx()), Poll::Ready(Ok(())));
    // ... and the select is dropped before it is polled again.
    drop(sel);
    assert_eq!(tx.len(), 0);
    let mut s2 = pin!(tx.send(2));
    assert!(s2.as_mut().poll(&mut noop_cx()).is_pending());
    // The next select gets the value back, and only that one.
    let got = pin!(async {
        select! {
            v = rx.recv() => v,
            v = other_rx.recv() => v.map(|v| v + 1000),
        }
    })
    .poll(&mut noop_cx());
    assert_eq!(got, Poll::Ready(Some(1)));
    assert!(
        s2.as_mut().poll(&mut noop_cx()).is_pending(),
        "the blocked send completed without a receiver"
    );
    assert_eq!(tx.len(), 0);
    let got = pin!(async {
        select! {
            v = rx.recv() => v,
            v = other_rx.recv() => v.map(|v| v + 1000),
        }
    })
    .poll(&mut noop_cx());
    assert_eq!(got, Poll::Ready(Some(2)));
    assert_eq!(s2.as_mut().poll(&mut noop_cx()), Poll::Ready(Ok(())));
}

#[test]
fn rendezvous_with_cancelling_receivers_delivers_every_value_exactly_once() {
    // Senders on bounded(0); receivers that often give up (a select against
    // a ready channel), sometimes after a value was handed to them. Every
    // value is received exactly once, and len() always reads 0.
    let rt = rt(2);
    const SENDERS: u32 = 4;
    const PER: u32 = 500;
    let got = rt.block_on(async {
        let (tx, rx) = chan::bounded::<u32>(0);
        let wg = WaitGroup::new();
        for s in 0..SENDERS {
            let tx = tx.clone();
            wg.spawn(async move {
                for i in 0..PER {
                    tx.send(s * PER + i).await.unwrap();
                    assert_eq!(tx.len(), 0);
                }
            });
        }
        drop(tx);
        let (give_up_tx, give_up_rx) = chan::unbounded::<()>();
        let mut receivers = Vec::new();
        for r in 0..3u32 {
            let rx = rx.clone();
            let give_up_tx = give_up_tx.clone();
            let give_up_rx = give_up_rx.clone();
            receivers.push(spawn(async move {
                let mut got = Vec::new();
                let mut n = 0u32;
                loop {
                    n += 1;
                    if (n + r) % 3 == 0 {
                        give_up_tx.try_send(()).unwrap();
                    }
                    let v = select! {
                        v = rx.recv() => v,
                        _ = give_up_rx.recv() => continue,
                    };
                    match v {
                        Some(v) => got.push(v),
                        None => return got,
                    }
                }
            }));
        }
        drop(rx);
        wg.wait().await;
        let mut all = Vec::new();
        for r in receivers {
            all.extend(r.await.unwrap());
        }
        all
    });
    let mut got = got;
    got.sort_unstable();
    let want: Vec<u32> = (0..SENDERS * PER).collect();
    assert_eq!(got, want, "a value was lost or duplicated");
}
