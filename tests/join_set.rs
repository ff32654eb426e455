//! `task::JoinSet`: completion order, errors, abort and drop semantics,
//! cancel-safe `join_next`, the cooperative budget.

mod util;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::Arc;
use std::time::Duration;
use stevedore::sync::oneshot;
use stevedore::task::JoinSet;
use stevedore::{chan, select};

const LONG: Duration = Duration::from_secs(20);

#[stevedore::test(worker_threads = 2)]
async fn results_come_in_completion_order() {
    let mut set = JoinSet::new();
    let mut gates = Vec::new();
    for i in 0..5u32 {
        let (tx, rx) = oneshot::channel::<()>();
        gates.push(tx);
        set.spawn(async move {
            rx.await.unwrap();
            i
        });
    }
    assert_eq!(set.len(), 5);
    // Open the gates in reverse: results follow the order of completion.
    for expect in (0..5u32).rev() {
        gates.pop().unwrap().send(()).unwrap();
        let got = stevedore::time::timeout(LONG, set.join_next())
            .await
            .expect("join_next hung")
            .expect("set not empty")
            .unwrap();
        assert_eq!(got, expect);
        assert_eq!(set.len(), expect as usize);
    }
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none());
    assert!(set.try_join_next().is_none());
}

#[stevedore::test(worker_threads = 2)]
async fn panics_and_aborts_are_join_errors() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("task panicked on purpose") });
    let parked = set.spawn(std::future::pending::<()>());
    let ok = set.spawn(async {});
    let _ = ok;
    parked.abort();
    let (mut panicked, mut cancelled, mut fine) = (0, 0, 0);
    while let Some(r) = set.join_next().await {
        match r {
            Ok(()) => fine += 1,
            Err(e) if e.is_panic() => {
                assert_eq!(
                    util::panic_message(&*e.into_panic()),
                    "task panicked on purpose"
                );
                panicked += 1;
            }
            Err(e) => {
                assert!(e.is_cancelled());
                cancelled += 1;
            }
        }
    }
    assert_eq!((panicked, cancelled, fine), (1, 1, 1));
}

#[stevedore::test(worker_threads = 2)]
async fn dropping_the_set_aborts_running_tasks() {
    let mut set = JoinSet::new();
    let mut gone = Vec::new();
    for _ in 0..20 {
        // The sender lives in the task: when the task is dropped, the
        // receiver sees the channel closed.
        let (tx, rx) = oneshot::channel::<()>();
        gone.push(rx);
        set.spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await
        });
    }
    drop(set);
    for rx in gone {
        let r = stevedore::time::timeout(LONG, rx)
            .await
            .expect("a task of the dropped set kept running");
        assert!(r.is_err(), "the task was dropped, not completed");
    }
}

#[stevedore::test(worker_threads = 2)]
async fn abort_all_keeps_tasks_until_joined_and_shutdown_drains() {
    let mut set = JoinSet::new();
    for _ in 0..10 {
        set.spawn(std::future::pending::<u8>());
    }
    set.abort_all();
    assert_eq!(set.len(), 10);
    let mut n = 0;
    while let Some(r) = set.join_next().await {
        assert!(r.unwrap_err().is_cancelled());
        n += 1;
    }
    assert_eq!(n, 10);

    for _ in 0..10 {
        set.spawn(std::future::pending::<u8>());
    }
    stevedore::time::timeout(LONG, set.shutdown())
        .await
        .expect("shutdown hung");
    assert!(set.is_empty());
}

#[stevedore::test(worker_threads = 2)]
async fn detach_all_lets_tasks_run_on() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel::<u8>();
    set.spawn(async move {
        rx.await.unwrap();
        done_tx.send(7).unwrap();
    });
    set.detach_all();
    assert!(set.is_empty());
    drop(set);
    tx.send(()).unwrap();
    assert_eq!(done_rx.await.unwrap(), 7);
}

/// `join_next` in a `select!` that another arm keeps winning: no result is
/// lost or duplicated.
#[stevedore::test(worker_threads = 2)]
async fn join_next_is_cancel_safe_in_select() {
    let mut set = JoinSet::new();
    for i in 0..500u32 {
        set.spawn(async move {
            stevedore::yield_now().await;
            i
        });
    }
    let (tick_tx, tick_rx) = chan::bounded::<()>(1);
    tick_tx.try_send(()).unwrap();
    let ticker = stevedore::spawn(async move {
        while tick_tx.send(()).await.is_ok() {
            stevedore::yield_now().await;
        }
    });
    let mut seen = HashSet::new();
    let mut ticks = 0u64;
    while !set.is_empty() {
        select! {
            r = set.join_next() => {
                let v = r.expect("not empty").unwrap();
                assert!(seen.insert(v), "result {v} delivered twice");
            }
            _ = tick_rx.recv() => ticks += 1,
        }
    }
    drop(tick_rx);
    ticker.await.unwrap();
    assert_eq!(seen.len(), 500, "results lost");
    assert!(
        ticks > 0,
        "the other arm never won; the test proved nothing"
    );
}

#[stevedore::test(worker_threads = 2)]
async fn try_join_next_only_returns_finished_tasks() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    set.spawn(async move {
        rx.await.unwrap();
        1
    });
    assert!(set.try_join_next().is_none());
    tx.send(()).unwrap();
    let got = loop {
        if let Some(r) = set.try_join_next() {
            break r.unwrap();
        }
        stevedore::yield_now().await;
    };
    assert_eq!(got, 1);
    assert!(set.is_empty());
}

#[stevedore::test(worker_threads = 2)]
async fn many_tasks_slots_reused() {
    let mut set = JoinSet::new();
    let mut total = 0u64;
    for round in 0..5u64 {
        for i in 0..2_000u64 {
            set.spawn(async move { round * i });
        }
        while let Some(r) = set.join_next().await {
            total += r.unwrap();
        }
    }
    assert_eq!(
        total,
        (0..5u64)
            .map(|r| r * (0..2_000u64).sum::<u64>())
            .sum::<u64>()
    );
}

#[stevedore::test(worker_threads = 2)]
async fn spawn_on_blocking_and_join_all() {
    let handle = stevedore::Handle::current();
    let mut set = JoinSet::default();
    set.spawn_on(async { 1 }, &handle);
    set.spawn_blocking(|| 2);
    set.spawn(async { 3 });
    let mut all = set.join_all().await;
    all.sort();
    assert_eq!(all, [1, 2, 3]);
}

#[stevedore::test(worker_threads = 2)]
async fn join_all_resumes_a_task_panic() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("inner panic") });
    let h = stevedore::spawn(async move { set.join_all().await });
    let err = h.await.unwrap_err();
    assert_eq!(util::panic_message(&*err.into_panic()), "inner panic");
}

#[stevedore::test(worker_threads = 1)]
async fn draining_finished_tasks_spends_the_coop_budget() {
    let flag = Arc::new(AtomicBool::new(false));
    let flag2 = flag.clone();
    let drained = stevedore::spawn(async move {
        let mut set = JoinSet::new();
        for _ in 0..1_000 {
            set.spawn(async {});
        }
        // Let all of them finish (they queue behind us on the one worker).
        stevedore::yield_now().await;
        // Started only now: it can run only if draining below yields.
        let flag3 = flag2.clone();
        let _marker = stevedore::spawn(async move { flag3.store(true, SeqCst) });
        let mut seen_flag = false;
        while let Some(r) = set.join_next().await {
            r.unwrap();
            seen_flag |= flag2.load(SeqCst);
        }
        seen_flag
    });
    assert!(
        drained.await.unwrap(),
        "draining 1,000 results never yielded"
    );
    assert!(flag.load(SeqCst));
}

#[test]
fn join_set_is_send() {
    fn send<T: Send>() {}
    send::<JoinSet<u8>>();
}

struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("a task's future panics while being dropped");
    }
}

/// Aborting (or dropping) a set whose tasks panic in `Drop` neither
/// crashes a worker nor loses the other tasks' results.
#[stevedore::test(worker_threads = 2)]
async fn tasks_that_panic_while_dropped() {
    let mut set = JoinSet::new();
    let (tx, gone) = oneshot::channel::<()>();
    set.spawn(async move {
        let _p = PanicOnDrop;
        let _tx = tx;
        std::future::pending::<u8>().await
    });
    set.spawn(async { 9 });
    stevedore::yield_now().await;
    set.abort_all();
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.push(r.map_err(|e| e.is_panic() || e.is_cancelled()));
    }
    assert_eq!(results.len(), 2);
    assert!(
        results.iter().all(|r| *r == Ok(9) || *r == Err(true)),
        "{results:?}"
    );
    assert!(gone.await.is_err(), "the aborted task's future was dropped");

    // Dropping the set instead: the runtime keeps working.
    let mut set = JoinSet::new();
    set.spawn(async move {
        let _p = PanicOnDrop;
        std::future::pending::<()>().await
    });
    stevedore::yield_now().await;
    drop(set);
    assert_eq!(stevedore::spawn(async { 5 }).await.unwrap(), 5);
}
