//! `Notify` and `CancellationToken`: stored permits, FIFO wake-ups,
//! notifications passed on by dropped futures, token trees (propagation,
//! no leaked children, deep chains), `select!`.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use stevedore::sync::{CancellationToken, Notify};
use stevedore::{chan, select};

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

const LONG: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- Notify

#[test]
fn notify_one_without_waiters_stores_one_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one(); // still one permit
    let p = Probe::new();
    assert!(p.poll(pin!(n.notified())).is_ready());
    assert!(p.poll(pin!(n.notified())).is_pending());
}

#[test]
fn notify_one_wakes_waiters_in_fifo_order() {
    let n = Notify::new();
    let probes: Vec<Probe> = (0..3).map(|_| Probe::new()).collect();
    let mut futs: Vec<_> = (0..3).map(|_| Box::pin(n.notified())).collect();
    for (p, f) in probes.iter().zip(&mut futs) {
        assert!(p.poll(f.as_mut()).is_pending());
    }
    for i in 0..3 {
        n.notify_one();
        let wakes: Vec<usize> = probes.iter().map(Probe::wakes).collect();
        assert_eq!(wakes.iter().sum::<usize>(), i + 1);
        assert_eq!(wakes[i], 1, "waiter {i} should be next: {wakes:?}");
        assert!(probes[i].poll(futs[i].as_mut()).is_ready());
    }
    // No permit was stored along the way.
    assert!(Probe::new().poll(pin!(n.notified())).is_pending());
}

#[test]
fn notify_waiters_wakes_all_current_and_unpolled_but_stores_nothing() {
    let n = Notify::new();
    let (pa, pb, pc) = (Probe::new(), Probe::new(), Probe::new());
    let mut a = pin!(n.notified());
    let mut b = pin!(n.notified());
    let mut unpolled = pin!(n.notified()); // created, never polled
    assert!(pa.poll(a.as_mut()).is_pending());
    assert!(pb.poll(b.as_mut()).is_pending());
    n.notify_waiters();
    assert_eq!((pa.wakes(), pb.wakes()), (1, 1));
    assert!(pa.poll(a.as_mut()).is_ready());
    assert!(pb.poll(b.as_mut()).is_ready());
    assert!(pc.poll(unpolled.as_mut()).is_ready());
    // Created afterwards: not notified, and no permit was stored.
    assert!(pc.poll(pin!(n.notified())).is_pending());
}

#[test]
fn dropped_notified_passes_notify_one_to_the_next_waiter() {
    let n = Notify::new();
    let (pa, pb) = (Probe::new(), Probe::new());
    let mut a = Box::pin(n.notified());
    let mut b = pin!(n.notified());
    assert!(pa.poll(a.as_mut()).is_pending());
    assert!(pb.poll(b.as_mut()).is_pending());
    n.notify_one(); // picks `a`
    assert_eq!((pa.wakes(), pb.wakes()), (1, 0));
    drop(a); // cancelled before it saw it: the notification goes on to `b`
    assert_eq!(pb.wakes(), 1);
    assert!(pb.poll(b.as_mut()).is_ready());
}

#[test]
fn dropped_notified_with_nobody_behind_stores_the_permit() {
    let n = Notify::new();
    let p = Probe::new();
    let mut a = Box::pin(n.notified());
    assert!(p.poll(a.as_mut()).is_pending());
    n.notify_one();
    drop(a);
    assert!(p.poll(pin!(n.notified())).is_ready(), "notification lost");
}

#[test]
fn dropped_waiting_notified_leaves_no_trace() {
    let n = Notify::new();
    let p = Probe::new();
    let mut a = Box::pin(n.notified());
    assert!(p.poll(a.as_mut()).is_pending());
    drop(a); // never notified
    n.notify_one(); // nobody waits: a permit, not a lost wake
    assert!(p.poll(pin!(n.notified())).is_ready());
    assert_eq!(p.wakes(), 0);
}

#[test]
fn enable_registers_without_polling() {
    let n = Notify::new();
    let mut a = pin!(n.notified());
    assert!(!a.as_mut().enable());
    n.notify_one();
    assert!(a.as_mut().enable(), "enabled future was picked");
    // The notification went to `a`, not into a permit.
    assert!(Probe::new().poll(pin!(n.notified())).is_pending());
}

#[stevedore::test(worker_threads = 2)]
async fn notify_ping_pong_loses_no_wakeup() {
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let (ping2, pong2) = (ping.clone(), pong.clone());
    let other = stevedore::spawn(async move {
        for _ in 0..20_000 {
            ping2.notified().await;
            pong2.notify_one();
        }
    });
    let run = async {
        for _ in 0..20_000 {
            ping.notify_one();
            pong.notified().await;
        }
    };
    stevedore::time::timeout(LONG, run)
        .await
        .expect("a notification was lost");
    other.await.unwrap();
}

#[stevedore::test(worker_threads = 2)]
async fn notify_waiters_reaches_every_task() {
    let n = Arc::new(Notify::new());
    let wg = stevedore::sync::WaitGroup::new();
    let ready = stevedore::sync::WaitGroup::new();
    let woken = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let (n, woken, ready2) = (n.clone(), woken.clone(), ready.clone());
        ready.add(1);
        wg.spawn(async move {
            let f = n.notified(); // takes part from creation
            ready2.done();
            f.await;
            woken.fetch_add(1, SeqCst);
        });
    }
    ready.wait().await;
    n.notify_waiters();
    stevedore::time::timeout(LONG, wg.wait())
        .await
        .expect("a waiter missed notify_waiters");
    assert_eq!(woken.load(SeqCst), 100);
}

#[stevedore::test(worker_threads = 1)]
async fn permit_loop_yields_to_other_tasks() {
    let n = Arc::new(Notify::new());
    let flag = Arc::new(AtomicBool::new(false));
    let looper = stevedore::spawn(async move {
        // Queued on this worker behind us: it can only run if we yield.
        let marker = flag.clone();
        let _other = stevedore::spawn(async move { marker.store(true, SeqCst) });
        for _ in 0..100_000 {
            n.notify_one();
            n.notified().await;
            if flag.load(SeqCst) {
                return true;
            }
        }
        false
    });
    assert!(looper.await.unwrap(), "the permit loop never yielded");
}

// ---------------------------------------------------------------- CancellationToken

#[stevedore::test(worker_threads = 2)]
async fn cancel_wakes_every_waiting_task() {
    let token = CancellationToken::new();
    let wg = stevedore::sync::WaitGroup::new();
    for _ in 0..50 {
        let t = token.clone();
        wg.spawn(async move { t.cancelled().await });
    }
    for _ in 0..50 {
        let t = token.child_token();
        wg.spawn(async move { t.cancelled_owned().await });
    }
    assert!(!token.is_cancelled());
    token.cancel();
    token.cancel(); // idempotent
    assert!(token.is_cancelled());
    stevedore::time::timeout(LONG, wg.wait())
        .await
        .expect("a cancelled() future was not woken");
}

#[test]
fn cancelled_future_created_before_cancel_completes() {
    let token = CancellationToken::new();
    let p = Probe::new();
    let mut f = pin!(token.cancelled());
    let mut unpolled = pin!(token.cancelled());
    assert!(p.poll(f.as_mut()).is_pending());
    token.cancel();
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(f.as_mut()).is_ready());
    assert!(p.poll(unpolled.as_mut()).is_ready());
    assert!(p.poll(pin!(token.cancelled())).is_ready());
}

#[test]
fn children_follow_parents_not_the_reverse() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    let sibling = root.child_token();
    grandchild.cancel();
    assert!(grandchild.is_cancelled());
    assert!(!child.is_cancelled() && !root.is_cancelled() && !sibling.is_cancelled());
    child.cancel();
    assert!(!root.is_cancelled() && !sibling.is_cancelled());
    root.cancel();
    assert!(sibling.is_cancelled());
    // A child of a cancelled token starts cancelled.
    assert!(root.child_token().is_cancelled());
    assert!(root.child_token().child_token().is_cancelled());
}

#[test]
fn grandchildren_are_reached_through_a_dropped_child() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    let p = Probe::new();
    let mut waiting = pin!(grandchild.cancelled());
    assert!(p.poll(waiting.as_mut()).is_pending());
    drop(child); // its handle is gone; the grandchild still hangs off the root
    root.cancel();
    assert!(grandchild.is_cancelled());
    assert_eq!(p.wakes(), 1);
    assert!(p.poll(waiting.as_mut()).is_ready());
}

#[test]
fn a_long_lived_parent_does_not_accumulate_dropped_children() {
    let root = CancellationToken::new();
    for i in 0..100_000 {
        let child = root.child_token();
        if i % 3 == 0 {
            let _grandchild = child.child_token();
        }
        if i % 7 == 0 {
            child.cancel();
        }
    }
    assert_eq!(root.__child_count(), 0, "dropped children are still linked");
    let kept: Vec<_> = (0..10).map(|_| root.child_token()).collect();
    assert_eq!(root.__child_count(), 10);
    drop(kept);
    assert_eq!(root.__child_count(), 0);
}

#[test]
fn a_deep_chain_cancels_and_drops_without_recursion() {
    // Run on a small stack: recursion over 200,000 links would overflow it.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let root = CancellationToken::new();
            let mut leaf = root.child_token();
            for _ in 0..200_000 {
                leaf = leaf.child_token();
            }
            root.cancel();
            assert!(leaf.is_cancelled());
            drop(root);
            drop(leaf); // frees the whole chain
            let root = CancellationToken::new();
            let mut leaf = root.child_token();
            for _ in 0..200_000 {
                leaf = leaf.child_token();
            }
            drop(leaf); // the chain goes; the root stays clean
            assert_eq!(root.__child_count(), 0);
        })
        .unwrap()
        .join()
        .expect("deep chain overflowed the stack");
}

#[stevedore::test(worker_threads = 2)]
async fn children_created_while_cancelling_are_all_cancelled() {
    for _ in 0..50 {
        let root = CancellationToken::new();
        let r2 = root.clone();
        let maker = stevedore::spawn(async move {
            let mut kids = Vec::new();
            for _ in 0..200 {
                kids.push(r2.child_token());
            }
            kids
        });
        root.cancel();
        for kid in maker.await.unwrap() {
            assert!(kid.is_cancelled(), "a child escaped the cancel");
        }
    }
}

#[stevedore::test(worker_threads = 2)]
async fn token_in_select_loop() {
    let token = CancellationToken::new();
    let (tx, rx) = chan::bounded::<u32>(0);
    let child = token.child_token();
    let worker = stevedore::spawn(async move {
        let mut got = Vec::new();
        loop {
            select! {
                _ = child.cancelled() => return got,
                v = rx.recv() => got.push(v.expect("open")),
            }
        }
    });
    for i in 0..100 {
        tx.send(i).await.unwrap(); // rendezvous: received when this returns
    }
    token.cancel();
    let got = stevedore::time::timeout(LONG, worker)
        .await
        .expect("select! did not see the cancel")
        .unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[stevedore::test]
async fn select_with_default_and_a_cancelled_token() {
    let token = CancellationToken::new();
    let r = select! {
        _ = token.cancelled() => "cancelled",
        default => "not yet",
    };
    assert_eq!(r, "not yet");
    token.cancel();
    let r = select! {
        _ = token.cancelled() => "cancelled",
        _ = stevedore::time::sleep(LONG) => "slept",
    };
    assert_eq!(r, "cancelled");
}

#[stevedore::test]
async fn run_until_cancelled_and_drop_guard() {
    let token = CancellationToken::new();
    assert_eq!(token.run_until_cancelled(async { 1 }).await, Some(1));
    {
        let _guard = token.clone().drop_guard();
    }
    assert!(token.is_cancelled());
    assert_eq!(
        token
            .run_until_cancelled(std::future::pending::<()>())
            .await,
        None
    );
    let t2 = CancellationToken::new();
    let back = t2.clone().drop_guard().disarm();
    assert!(!back.is_cancelled() && !t2.is_cancelled());
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Notify>();
    send_sync::<CancellationToken>();
    send_sync::<stevedore::sync::DropGuard>();
    fn send<T: Send>(_: &T) {}
    let n = Notify::new();
    send(&n.notified());
    let t = CancellationToken::new();
    send(&t.cancelled());
    send(&t.clone().cancelled_owned());
}

/// `notified()` in a `select!` whose other arm is ready all the time: a
/// `notify_one` taken as the other arm wins is passed on, not lost.
#[stevedore::test(worker_threads = 2)]
async fn no_notification_is_lost_in_a_busy_select() {
    const N: usize = 2_000;
    let notify = Arc::new(Notify::new());
    let (ack_tx, ack_rx) = chan::bounded::<()>(0);
    let n2 = notify.clone();
    let producer = stevedore::spawn(async move {
        for _ in 0..N {
            n2.notify_one();
            ack_rx.recv().await.unwrap();
        }
    });
    let (tick_tx, tick_rx) = chan::bounded::<()>(1);
    let ticker = stevedore::spawn(async move {
        while tick_tx.send(()).await.is_ok() {
            stevedore::yield_now().await;
        }
    });
    let consume = async {
        let mut got = 0;
        while got < N {
            select! {
                _ = notify.notified() => {
                    got += 1;
                    ack_tx.send(()).await.unwrap();
                }
                _ = tick_rx.recv() => {}
            }
        }
    };
    stevedore::time::timeout(LONG, consume)
        .await
        .expect("a notification was lost in select!");
    drop(tick_rx);
    ticker.await.unwrap();
    producer.await.unwrap();
}
