//! Timers: ordering, sub-millisecond precision, timeout, interval drift.
//! Sleeping is the behaviour under test here, never a way to synchronise.

mod util;

use std::future::Future;
use std::time::{Duration, Instant};
use stevedore::sync::WaitGroup;
use stevedore::time::{interval, sleep, sleep_until, timeout, Elapsed};
use stevedore::{chan, spawn};
use util::{panic_message, rt};

#[test]
fn timers_fire_in_deadline_order() {
    // Ten sleeps on one base instant, registered out of order, all in one
    // poll (one timer shard). Each wake-up polls them latest-deadline first
    // and records those newly done: a later timer may never be done while
    // an earlier one is not. Load may put several in one firing batch, but
    // never out of order. (Sleeps in separate tasks, each computing its
    // deadline when first polled, and a channel race between the woken
    // tasks made the old form of this test fail under load.)
    let rt = rt(2);
    let order = rt.block_on(async {
        let base = Instant::now();
        let mut sleeps: Vec<(u64, std::pin::Pin<Box<stevedore::time::Sleep>>)> =
            [18u64, 2, 10, 6, 14, 4, 16, 8, 12, 20]
                .into_iter()
                .map(|ms| (ms, Box::pin(sleep_until(base + Duration::from_millis(ms)))))
                .collect();
        let mut order: Vec<u64> = Vec::new();
        std::future::poll_fn(|cx| {
            sleeps.sort_by_key(|s| std::cmp::Reverse(s.0));
            let mut newly = Vec::new();
            let mut later_done = false;
            for (ms, s) in sleeps.iter_mut() {
                let done = s.as_mut().poll(cx).is_ready();
                assert!(
                    done || !later_done,
                    "a later timer completed before the one at {ms} ms"
                );
                later_done |= done;
                if done {
                    newly.push(*ms);
                }
            }
            sleeps.retain(|(ms, _)| !newly.contains(ms));
            newly.sort();
            order.extend(newly);
            if sleeps.is_empty() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        order
    });
    assert_eq!(order, vec![2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
}

#[test]
fn sleep_has_sub_millisecond_precision() {
    let rt = rt(2);
    let samples: Vec<Duration> = rt.block_on(async {
        let mut out = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            sleep(Duration::from_micros(250)).await; // precision under test
            out.push(t.elapsed());
        }
        out
    });
    let mut sorted = samples.clone();
    sorted.sort();
    let quartile = sorted[sorted.len() / 4];
    assert!(
        sorted[0] >= Duration::from_micros(250),
        "fired early: {:?}",
        sorted[0]
    );
    // tokio rounds this up to >= 1 ms, every time; we must not. The first
    // quartile (not the median) is checked, so that a loaded machine that
    // runs the woken thread late now and then does not fail the test.
    assert!(
        quartile < Duration::from_micros(900),
        "first quartile {quartile:?} (samples {sorted:?})"
    );
}

#[test]
fn zero_and_past_deadlines_are_ready_immediately() {
    let rt = rt(1);
    rt.block_on(async {
        let t = Instant::now();
        sleep(Duration::ZERO).await;
        sleep_until(Instant::now() - Duration::from_secs(1)).await;
        // No timer is registered (checked below); the time bound is loose
        // so that a preempted thread on a loaded machine does not fail it.
        assert!(t.elapsed() < Duration::from_secs(1));
    });
    assert_eq!(
        rt.handle().metrics().timer_entries,
        0,
        "no timer was registered"
    );
}

#[test]
fn timeout_returns_ok_or_elapsed() {
    let rt = rt(2);
    rt.block_on(async {
        assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
        let (_tx, rx) = chan::bounded::<()>(0);
        let t = Instant::now();
        let r = timeout(Duration::from_millis(20), rx.recv()).await;
        assert!(matches!(r, Err(Elapsed { .. })), "{r:?}");
        assert!(t.elapsed() >= Duration::from_millis(20));
        assert_eq!(r.unwrap_err().to_string(), "deadline has elapsed");
    });
}

#[test]
fn interval_ticks_stay_on_the_grid_without_drift() {
    let rt = rt(2);
    let period = Duration::from_millis(3);
    let (start, ticks, end) = rt.block_on(async move {
        let mut iv = interval(period);
        let start = iv.tick().await;
        let mut ticks = Vec::new();
        for _ in 0..60 {
            ticks.push(iv.tick().await);
        }
        (start, ticks, Instant::now())
    });
    let mut prev = start;
    for (k, t) in ticks.iter().enumerate() {
        let offset = *t - start;
        assert!(*t > prev, "tick {k} went backwards");
        assert_eq!(
            offset.as_nanos() % period.as_nanos(),
            0,
            "tick {k} is off the grid"
        );
        prev = *t;
    }
    // Lateness never accumulates: the last tick is scheduled on the grid,
    // at least 60 periods in, and we return shortly after it.
    let last = *ticks.last().unwrap();
    assert!(last - start >= period * 60);
    // (Loose: a loaded machine may run this thread late; drift would show
    // as ticks off the grid, checked above.)
    assert!(
        end - last < Duration::from_millis(500),
        "returned {:?} after the last tick",
        end - last
    );
}

#[test]
fn interval_skips_missed_ticks_instead_of_bursting() {
    let rt = rt(1);
    rt.block_on(async {
        let period = Duration::from_millis(5);
        let mut iv = interval(period);
        let start = iv.tick().await;
        // Fall 4+ periods behind, blocking the task (the lateness under test).
        std::thread::sleep(Duration::from_millis(22)); // makes the interval timer late
        let t1 = iv.tick().await;
        let t2 = iv.tick().await;
        assert_eq!(t1, start + period, "the first late tick is delivered");
        assert!(
            t2 >= start + period * 5,
            "missed ticks were burst: {:?}",
            t2 - start
        );
        assert_eq!(
            (t2 - start).as_nanos() % period.as_nanos(),
            0,
            "back on the grid"
        );
    });
}

#[test]
fn hundred_thousand_concurrent_sleeps_all_fire() {
    let rt = rt(2);
    let t = Instant::now();
    rt.block_on(async {
        let wg = WaitGroup::new();
        for i in 0..100_000u64 {
            wg.spawn(sleep(Duration::from_micros(5_000 + i % 5_000)));
        }
        wg.wait().await;
    });
    assert!(t.elapsed() >= Duration::from_millis(5));
    assert_eq!(rt.handle().metrics().timer_entries, 0);
}

#[test]
fn cancelled_timeouts_do_not_pile_up() {
    let rt = rt(1);
    rt.block_on(async {
        for i in 0..50_000u32 {
            // Each completes at once; its 60 s timer is cancelled.
            let v = timeout(Duration::from_secs(60), async { i }).await.unwrap();
            assert_eq!(v, i);
        }
    });
    let entries = rt.handle().metrics().timer_entries;
    assert!(entries < 5_000, "{entries} cancelled entries kept");
}

#[test]
fn timers_fire_while_another_worker_is_blocked() {
    // Worker A is stuck in a blocking loop; the timer registered on it must
    // still fire on time, via the other worker.
    let rt = rt(2);
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    rt.spawn(async move {
        started_tx.send(()).unwrap();
        rx.recv().ok(); // deliberately blocks this worker
    });
    started_rx.recv().unwrap();
    let t = Instant::now();
    rt.block_on(async {
        let h = spawn(async { sleep(Duration::from_millis(10)).await });
        h.await.unwrap();
    });
    let took = t.elapsed();
    tx.send(()).unwrap();
    assert!(took < Duration::from_millis(500), "timer stalled: {took:?}");
}

#[test]
fn sleep_outside_a_runtime_panics_clearly() {
    let err = std::panic::catch_unwind(|| {
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut s = std::pin::pin!(sleep(Duration::from_secs(1)));
        let _ = std::future::Future::poll(s.as_mut(), &mut cx);
    })
    .unwrap_err();
    assert!(panic_message(&*err).contains("outside a stevedore runtime"));
}
