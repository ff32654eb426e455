//! WaitGroup: counting, waking, Go's negative-counter rule, `spawn`.

mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use stevedore::{chan, spawn, sync::WaitGroup};
use util::{panic_message, rt};

#[test]
fn wait_on_a_zero_count_is_ready_at_once() {
    let rt = rt(1);
    let wg = WaitGroup::new();
    rt.block_on(wg.wait());
    wg.wait_blocking();
    assert_eq!(wg.count(), 0);
}

#[test]
fn wait_completes_only_after_the_last_done() {
    let rt = rt(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        wg.add(3);
        let (step_tx, step_rx) = chan::bounded::<()>(0);
        let finished = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let (wg, finished) = (wg.clone(), finished.clone());
                spawn(async move {
                    wg.wait().await;
                    finished.fetch_add(1, SeqCst);
                })
            })
            .collect();
        let worker_wg = wg.clone();
        spawn(async move {
            for _ in 0..3 {
                step_rx.recv().await;
                worker_wg.done();
            }
        });
        for left in [2, 1] {
            step_tx.send(()).await.unwrap();
            // The count is observable and nobody got through early.
            while wg.count() != left {
                stevedore::yield_now().await;
            }
            assert_eq!(finished.load(SeqCst), 0);
        }
        step_tx.send(()).await.unwrap();
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(finished.load(SeqCst), 10);
    });
}

#[test]
fn a_negative_counter_panics_like_go() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    let err = catch_unwind(AssertUnwindSafe(|| wg.done())).unwrap_err();
    assert!(panic_message(&*err).contains("negative WaitGroup counter"));
    assert_eq!(wg.count(), 0, "the counter is left consistent");
}

#[test]
fn spawn_counts_down_on_completion_panic_and_abort() {
    let rt = rt(2);
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    rt.block_on(async {
        let wg = WaitGroup::new();
        let ok = wg.spawn(async { 1 });
        let boom = wg.spawn(async { panic!("x") });
        let (_tx, rx) = chan::bounded::<()>(0);
        let stuck = wg.spawn(async move { rx.recv().await });
        stuck.abort();
        wg.wait().await;
        assert_eq!(ok.await.unwrap(), 1);
        assert!(boom.await.unwrap_err().is_panic());
        assert!(stuck.await.unwrap_err().is_cancelled());
        assert_eq!(wg.count(), 0);
    });
    std::panic::set_hook(prev);
}

#[test]
fn wait_group_is_reusable() {
    let rt = rt(2);
    rt.block_on(async {
        let wg = WaitGroup::new();
        for round in 0..100 {
            let hits = Arc::new(AtomicUsize::new(0));
            for _ in 0..round % 7 + 1 {
                let hits = hits.clone();
                wg.spawn(async move { hits.fetch_add(1, SeqCst) });
            }
            wg.wait().await;
            assert_eq!(hits.load(SeqCst), round % 7 + 1);
        }
    });
}

#[test]
fn plain_threads_can_wait_for_tasks_and_tasks_for_threads() {
    let rt = rt(2);
    let wg = WaitGroup::new();
    wg.add(4);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let wg = wg.clone();
            std::thread::spawn(move || wg.done())
        })
        .collect();
    rt.block_on(wg.wait());
    for t in threads {
        t.join().unwrap();
    }
    let _guard = rt.enter();
    for _ in 0..100 {
        wg.spawn(async {});
    }
    wg.wait_blocking();
}

#[test]
fn dropping_a_pending_wait_unregisters_it() {
    let wg = WaitGroup::new();
    wg.add(1);
    {
        let mut w = std::pin::pin!(wg.wait());
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(std::future::Future::poll(w.as_mut(), &mut cx).is_pending());
    }
    wg.done(); // no dangling waiter is touched
    assert_eq!(wg.count(), 0);
}
