//! `Mutex`, `RwLock` and `Semaphore`: fairness, hand-off, cancellation at
//! every await, panics while holding a guard, the cooperative budget.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use stevedore::sync::{Mutex, RwLock, Semaphore, TryAcquireError};
use stevedore::task::JoinSet;

/// A waker that counts its wakes, for polling futures by hand.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

struct Probe {
    count: Arc<CountingWaker>,
    waker: Waker,
}

impl Probe {
    fn new() -> Probe {
        let count = Arc::new(CountingWaker::default());
        Probe {
            waker: Waker::from(count.clone()),
            count,
        }
    }

    fn poll<F: Future>(&self, f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(&self.waker))
    }

    fn wakes(&self) -> usize {
        self.count.0.load(SeqCst)
    }
}

// ---------------------------------------------------------------- Mutex

#[stevedore::test]
async fn mutex_basics() {
    let m = Mutex::new(vec![1]);
    m.lock().await.push(2);
    {
        let g = m.try_lock().expect("free");
        assert_eq!(*g, [1, 2]);
        assert!(m.try_lock().is_err(), "held");
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    }
    let m = Arc::new(m);
    let mut g = m.clone().lock_owned().await;
    assert!(m.clone().try_lock_owned().is_err());
    stevedore::spawn(async move { g.push(3) }).await.unwrap();
    assert_eq!(*m.lock().await, [1, 2, 3]);
    let mut m = Arc::try_unwrap(m).unwrap();
    m.get_mut().push(4);
    assert_eq!(m.into_inner(), [1, 2, 3, 4]);
}

#[stevedore::test(worker_threads = 2)]
async fn mutex_excludes_across_awaits() {
    let m = Arc::new(Mutex::new(0u64));
    let inside = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..16 {
        let (m, inside) = (m.clone(), inside.clone());
        set.spawn(async move {
            for _ in 0..200 {
                let mut g = m.lock().await;
                assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
                stevedore::yield_now().await;
                *g += 1;
                inside.fetch_sub(1, SeqCst);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    assert_eq!(*m.lock().await, 16 * 200);
}

/// 1,000 tasks contend; each acquisition must come within N-1 others of
/// the moment the task queued (strict FIFO hand-off). On one worker the
/// interleaving is fixed by the queue alone, so the bound is exact.
#[stevedore::test(worker_threads = 1)]
async fn mutex_is_fifo_fair_under_contention() {
    const TASKS: usize = 1000;
    const ROUNDS: usize = 20;
    let m = Arc::new(Mutex::new(()));
    let acquisitions = Arc::new(AtomicUsize::new(0));
    let worst = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    let hold = m.lock().await; // everyone queues behind this
    let started = stevedore::sync::WaitGroup::new();
    started.add(TASKS);
    for _ in 0..TASKS {
        let (m, acquisitions, worst) = (m.clone(), acquisitions.clone(), worst.clone());
        let started = started.clone();
        set.spawn(async move {
            started.done(); // the lock() below queues in this same poll
            for _ in 0..ROUNDS {
                let before = acquisitions.load(SeqCst);
                let g = m.lock().await;
                let turns = acquisitions.fetch_add(1, SeqCst) - before;
                worst.fetch_max(turns, SeqCst);
                drop(g);
            }
        });
    }
    started.wait().await;
    drop(hold);
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    assert_eq!(acquisitions.load(SeqCst), TASKS * ROUNDS);
    let worst = worst.load(SeqCst);
    eprintln!("worst wait: {worst} acquisitions by others");
    assert!(
        worst < TASKS,
        "a task waited {worst} acquisitions by others (FIFO bound: {})",
        TASKS - 1
    );
}

#[test]
fn mutex_dropped_waiter_passes_the_lock_on() {
    let m = Mutex::new(0);
    let (pa, pb) = (Probe::new(), Probe::new());
    let held = m.try_lock().unwrap();
    let mut a = Box::pin(m.lock());
    let mut b = pin!(m.lock());
    assert!(pa.poll(a.as_mut()).is_pending());
    assert!(pb.poll(b.as_mut()).is_pending());
    drop(held); // hands the lock to `a` and wakes it
    assert_eq!(pa.wakes(), 1);
    assert_eq!(pb.wakes(), 0);
    // `a` is cancelled before it sees the lock: it must go to `b`.
    drop(a);
    assert_eq!(pb.wakes(), 1, "the next waiter was not woken");
    match pb.poll(b.as_mut()) {
        Poll::Ready(mut g) => *g += 1,
        Poll::Pending => panic!("the lock was lost with the cancelled waiter"),
    }
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn mutex_cancelled_while_queued_keeps_order() {
    let m = Mutex::new(());
    let probes: Vec<Probe> = (0..3).map(|_| Probe::new()).collect();
    let held = m.try_lock().unwrap();
    let mut futs: Vec<Pin<Box<_>>> = (0..3).map(|_| Box::pin(m.lock())).collect();
    for (p, f) in probes.iter().zip(futs.iter_mut()) {
        assert!(p.poll(f.as_mut()).is_pending());
    }
    // Cancel the middle one while it waits: nothing is handed to anyone.
    let middle = futs.remove(1);
    drop(middle);
    assert_eq!(probes.iter().map(Probe::wakes).sum::<usize>(), 0);
    drop(held);
    assert_eq!(probes[0].wakes(), 1);
    let g = match probes[0].poll(futs[0].as_mut()) {
        Poll::Ready(g) => g,
        Poll::Pending => panic!("first waiter not served first"),
    };
    assert!(probes[2].poll(futs[1].as_mut()).is_pending());
    drop(g);
    assert_eq!(probes[2].wakes(), 1);
    assert!(probes[2].poll(futs[1].as_mut()).is_ready());
}

#[stevedore::test(worker_threads = 2)]
async fn mutex_panic_while_holding_releases_the_lock() {
    let m = Arc::new(Mutex::new(1));
    let (tx, rx) = stevedore::chan::bounded::<()>(0);
    let m2 = m.clone();
    let h = stevedore::spawn(async move {
        let mut g = m2.lock().await;
        *g = 2;
        tx.send(()).await.unwrap();
        stevedore::yield_now().await;
        panic!("boom while holding the guard");
    });
    rx.recv().await.unwrap();
    // Waits in line; the panic's unwinding drops the guard and hands it on.
    let g = stevedore::time::timeout(Duration::from_secs(10), m.lock())
        .await
        .expect("the lock came back after the holder panicked");
    assert_eq!(*g, 2, "no poisoning: the data is as the panic left it");
    drop(g);
    let err = h.await.unwrap_err();
    assert!(err.is_panic());
}

#[stevedore::test(worker_threads = 2)]
async fn mutex_aborted_holder_and_waiters() {
    let m = Arc::new(Mutex::new(0));
    let (tx, rx) = stevedore::chan::bounded::<()>(0);
    let m2 = m.clone();
    let holder = stevedore::spawn(async move {
        let _g = m2.lock().await;
        tx.send(()).await.unwrap();
        std::future::pending::<()>().await;
    });
    rx.recv().await.unwrap();
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let m = m.clone();
            stevedore::spawn(async move {
                *m.lock().await += 1;
            })
        })
        .collect();
    for w in &waiters[..5] {
        w.abort(); // cancelled at their `.await` on the lock
    }
    holder.abort();
    assert!(holder.await.unwrap_err().is_cancelled());
    let mut done = 0;
    for w in waiters {
        if w.await.is_ok() {
            done += 1;
        }
    }
    assert!(done >= 5);
    assert_eq!(*m.lock().await, done);
}

/// A task that keeps taking a free lock must still let others run.
#[stevedore::test(worker_threads = 1)]
async fn uncontended_lock_loop_yields_to_other_tasks() {
    let m = Arc::new(Mutex::new(0u64));
    let flag = Arc::new(AtomicBool::new(false));
    let m2 = m.clone();
    let flag2 = flag.clone();
    let looper = stevedore::spawn(async move {
        // Queued on this worker behind us: it can only run if we yield.
        let marker = flag2.clone();
        let _other = stevedore::spawn(async move { marker.store(true, SeqCst) });
        for _ in 0..100_000 {
            *m2.lock().await += 1;
            if flag2.load(SeqCst) {
                return true;
            }
        }
        false
    });
    assert!(looper.await.unwrap(), "the lock loop never yielded");
}

#[test]
fn mutex_lock_blocking_from_a_plain_thread() {
    let rt = stevedore::Runtime::builder()
        .worker_threads(1)
        .build()
        .unwrap();
    let m = Arc::new(Mutex::new(0));
    let g = m.lock_blocking();
    let m2 = m.clone();
    let h = rt.spawn(async move { *m2.lock().await += 1 });
    drop(g);
    rt.block_on(h).unwrap();
    assert_eq!(*m.lock_blocking(), 1);
}

#[stevedore::test(worker_threads = 1)]
async fn mutex_lock_blocking_on_a_worker_panics() {
    let h = stevedore::spawn(async {
        let m = Mutex::new(());
        let _g = m.lock_blocking();
    });
    let err = h.await.unwrap_err();
    assert!(err.is_panic());
}

// ---------------------------------------------------------------- RwLock

#[stevedore::test]
async fn rwlock_readers_share_writers_exclude() {
    let l = RwLock::new(5);
    let a = l.read().await;
    let b = l.try_read().unwrap();
    assert!(l.try_write().is_err());
    assert_eq!(*a + *b, 10);
    drop((a, b));
    let mut w = l.write().await;
    assert!(l.try_read().is_err());
    *w = 6;
    drop(w);
    assert_eq!(*l.read().await, 6);
    assert_eq!(l.into_inner(), 6);
}

#[test]
fn rwlock_queued_writer_blocks_new_readers_and_cancelling_it_lets_them_in() {
    let l = RwLock::new(0);
    let r1 = l.try_read().unwrap();
    let (pw, pr) = (Probe::new(), Probe::new());
    let mut w = Box::pin(l.write());
    assert!(pw.poll(w.as_mut()).is_pending());
    // A writer is waiting: later readers queue behind it (no starvation).
    assert!(l.try_read().is_err());
    let mut r2 = pin!(l.read());
    assert!(pr.poll(r2.as_mut()).is_pending());
    // Cancelling the writer gives back the read permits it had gathered
    // and lets the reader behind it in.
    drop(w);
    assert_eq!(pr.wakes(), 1);
    assert!(pr.poll(r2.as_mut()).is_ready());
    assert_eq!(pw.wakes(), 0);
    drop(r1);
}

#[test]
fn rwlock_writer_gets_in_when_readers_leave_then_readers_together() {
    let l = RwLock::new(0);
    let r1 = l.try_read().unwrap();
    let r2 = l.try_read().unwrap();
    let (pw, pa, pb) = (Probe::new(), Probe::new(), Probe::new());
    let mut w = pin!(l.write());
    let mut a = pin!(l.read());
    let mut b = pin!(l.read());
    assert!(pw.poll(w.as_mut()).is_pending());
    assert!(pa.poll(a.as_mut()).is_pending());
    assert!(pb.poll(b.as_mut()).is_pending());
    drop(r1);
    assert_eq!(pw.wakes(), 0, "one reader is still inside");
    drop(r2);
    assert_eq!(pw.wakes(), 1);
    let Poll::Ready(mut g) = pw.poll(w.as_mut()) else {
        panic!("writer not admitted")
    };
    *g = 1;
    let g = stevedore::sync::RwLockWriteGuard::downgrade(g);
    // Both queued readers get in at once with the downgraded writer.
    assert_eq!((pa.wakes(), pb.wakes()), (1, 1));
    assert!(pa.poll(a.as_mut()).is_ready());
    assert!(pb.poll(b.as_mut()).is_ready());
    assert_eq!(*g, 1);
}

#[stevedore::test(worker_threads = 2)]
async fn rwlock_panic_in_writer_releases() {
    let l = Arc::new(RwLock::new(0));
    let l2 = l.clone();
    let h = stevedore::spawn(async move {
        let _w = l2.write().await;
        panic!("writer panics");
    });
    assert!(h.await.unwrap_err().is_panic());
    assert!(l.try_write().is_ok());
}

// ---------------------------------------------------------------- Semaphore

#[stevedore::test]
async fn semaphore_counts_and_try_errors() {
    let s = Semaphore::new(3);
    let a = s.acquire().await.unwrap();
    let b = s.try_acquire_many(2).unwrap();
    assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
    assert_eq!(s.available_permits(), 0);
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(b);
    assert_eq!(s.available_permits(), 2);
    a.forget();
    assert_eq!(s.available_permits(), 2);
    s.add_permits(3);
    assert_eq!(s.available_permits(), 5);
    assert_eq!(s.forget_permits(10), 5);
    assert_eq!(s.available_permits(), 0);
    s.close();
    assert!(s.is_closed());
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(s.acquire().await.is_err());
    // Permits still count after a close.
    s.add_permits(1);
    assert_eq!(s.available_permits(), 1);
    assert!(s.try_acquire().unwrap_err().is_closed());
}

#[test]
fn semaphore_close_fails_waiters_and_returns_partial_permits() {
    let s = Semaphore::new(2);
    let (pa, pb) = (Probe::new(), Probe::new());
    let mut big = pin!(s.acquire_many(5)); // takes the 2, waits for 3 more
    let mut small = pin!(s.acquire());
    assert!(pa.poll(big.as_mut()).is_pending());
    assert!(pb.poll(small.as_mut()).is_pending());
    assert_eq!(s.available_permits(), 0);
    s.close();
    assert_eq!((pa.wakes(), pb.wakes()), (1, 1));
    assert!(matches!(pa.poll(big.as_mut()), Poll::Ready(Err(_))));
    assert!(matches!(pb.poll(small.as_mut()), Poll::Ready(Err(_))));
    // The failed acquire gave back the 2 permits it had been handed.
    assert_eq!(s.available_permits(), 2, "the partial permits came back");
}

#[test]
fn semaphore_big_request_holds_back_later_small_ones() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let (pa, pb) = (Probe::new(), Probe::new());
    let mut big = pin!(s.acquire_many(3));
    let mut small = pin!(s.acquire());
    assert!(pa.poll(big.as_mut()).is_pending());
    assert!(pb.poll(small.as_mut()).is_pending());
    drop(held); // 1 permit: goes to `big` (now needs 2 more), not `small`
    assert_eq!((pa.wakes(), pb.wakes()), (0, 0));
    s.add_permits(2);
    assert_eq!((pa.wakes(), pb.wakes()), (1, 0));
    let Poll::Ready(Ok(p)) = pa.poll(big.as_mut()) else {
        panic!("big request not served")
    };
    assert_eq!(p.num_permits(), 3);
    drop(p);
    assert_eq!(pb.wakes(), 1);
    assert!(matches!(pb.poll(small.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(s.available_permits(), 3);
}

#[test]
fn semaphore_acquire_dropped_after_handoff_gives_everything_back() {
    let s = Semaphore::new(0);
    let p = Probe::new();
    let mut f = Box::pin(s.acquire_many(2));
    assert!(p.poll(f.as_mut()).is_pending());
    s.add_permits(2);
    assert_eq!(p.wakes(), 1);
    drop(f); // handed both, never returned them to the caller
    assert_eq!(s.available_permits(), 2);
}

#[test]
#[should_panic(expected = "at most")]
fn semaphore_add_permits_overflow_panics() {
    let s = Semaphore::new(Semaphore::MAX_PERMITS);
    s.add_permits(1);
}

#[test]
#[should_panic(expected = "at most")]
fn semaphore_new_over_max_panics() {
    let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[stevedore::test(worker_threads = 2)]
async fn semaphore_bounds_concurrency_of_a_fan_out() {
    let sem = Arc::new(Semaphore::new(4));
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..200 {
        let (sem, now, peak) = (sem.clone(), now.clone(), peak.clone());
        set.spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            let n = now.fetch_add(1, SeqCst) + 1;
            peak.fetch_max(n, SeqCst);
            stevedore::yield_now().await;
            now.fetch_sub(1, SeqCst);
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    assert!(peak.load(SeqCst) <= 4, "peak {}", peak.load(SeqCst));
    assert_eq!(sem.available_permits(), 4);
}

#[stevedore::test(worker_threads = 2)]
async fn semaphore_close_wakes_every_task_waiting() {
    let sem = Arc::new(Semaphore::new(0));
    let mut set = JoinSet::new();
    let queued = Arc::new(AtomicUsize::new(0));
    for _ in 0..50 {
        let (sem, queued) = (sem.clone(), queued.clone());
        set.spawn(async move {
            queued.fetch_add(1, SeqCst);
            sem.acquire().await.is_err()
        });
    }
    while queued.load(SeqCst) < 50 {
        stevedore::yield_now().await;
    }
    sem.close();
    while let Some(r) = set.join_next().await {
        assert!(r.unwrap(), "a waiter acquired from a closed semaphore");
    }
}

#[stevedore::test(worker_threads = 1)]
async fn uncontended_acquire_loop_yields_to_other_tasks() {
    let sem = Arc::new(Semaphore::new(1));
    let flag = Arc::new(AtomicBool::new(false));
    let looper = stevedore::spawn(async move {
        // Queued on this worker behind us: it can only run if we yield.
        let marker = flag.clone();
        let _other = stevedore::spawn(async move { marker.store(true, SeqCst) });
        for _ in 0..100_000 {
            drop(sem.acquire().await.unwrap());
            if flag.load(SeqCst) {
                return true;
            }
        }
        false
    });
    assert!(looper.await.unwrap(), "the acquire loop never yielded");
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Mutex<u8>>();
    send_sync::<stevedore::sync::MutexGuard<'static, u8>>();
    send_sync::<stevedore::sync::OwnedMutexGuard<u8>>();
    send_sync::<RwLock<u8>>();
    send_sync::<stevedore::sync::RwLockReadGuard<'static, u8>>();
    send_sync::<stevedore::sync::RwLockWriteGuard<'static, u8>>();
    send_sync::<Semaphore>();
    send_sync::<stevedore::sync::SemaphorePermit<'static>>();
    send_sync::<stevedore::sync::OwnedSemaphorePermit>();
    fn send<T: Send>(_: &T) {}
    let m = Mutex::new(0);
    send(&m.lock());
    let s = Semaphore::new(1);
    send(&s.acquire());
    let l = RwLock::new(0);
    send(&l.write());
}
