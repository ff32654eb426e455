//! stevedore-specific channel semantics: errors hand values back,
//! cancellation loses nothing, the blocking forms, Stream, the coop budget.

mod util;

use futures::StreamExt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use stevedore::chan::{self, SendError, TryRecvError, TrySendError};
use stevedore::sync::WaitGroup;
use stevedore::{spawn, Runtime};
use util::rt;

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

#[test]
fn rendezvous_send_completes_only_with_a_receiver() {
    let (tx, rx) = chan::bounded::<u8>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let mut recv = pin!(rx.recv());
    assert!(poll_once(recv.as_mut()).is_pending()); // a receiver is waiting now
    tx.try_send(2).unwrap();
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Some(2)));
}

#[test]
fn send_on_a_closed_channel_returns_the_value() {
    let rt = rt(1);
    let (tx, rx) = chan::bounded::<String>(4);
    assert!(rx.close());
    assert!(!tx.close(), "closing twice is a no-op");
    let err = rt.block_on(tx.send("kept".to_owned())).unwrap_err();
    assert_eq!(err, SendError("kept".to_owned()));
    assert_eq!(err.to_string(), "sending on a closed channel");
    assert_eq!(
        tx.try_send("x".into()),
        Err(TrySendError::Closed("x".into()))
    );
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn dropping_the_last_sender_closes_after_draining() {
    let rt = rt(1);
    let (tx, rx) = chan::unbounded::<u32>();
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.try_send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    let got: Vec<u32> = rt.block_on(rx.collect());
    assert_eq!(got, vec![1, 2]);
}

#[test]
fn dropping_the_last_receiver_hands_blocked_senders_their_values() {
    let rt = rt(2);
    let (tx, rx) = chan::bounded::<u32>(0);
    let (ready_tx, ready_rx) = chan::bounded::<()>(1);
    let h = rt.spawn(async move {
        let mut send = pin!(tx.send(77));
        // Register as a waiting sender, then tell the test.
        std::future::poll_fn(|cx| {
            if send.as_mut().poll(cx).is_pending() {
                ready_tx.try_send(()).ok();
            }
            Poll::Ready(())
        })
        .await;
        send.await
    });
    ready_rx.recv_blocking();
    drop(rx);
    assert_eq!(rt.block_on(h).unwrap(), Err(SendError(77)));
}

#[test]
fn a_cancelled_receive_puts_a_delivered_value_back() {
    let (tx, rx) = chan::bounded::<u32>(0);
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut()).is_pending());
        // Handed straight to the waiting receive...
        tx.try_send(5).unwrap();
        // ...which is dropped before it is polled again.
    }
    let (tx2, rx2) = chan::bounded::<u32>(1);
    drop(tx2);
    assert_eq!(rx.try_recv(), Ok(5), "value was lost");
    assert_eq!(rx2.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_cancelled_send_is_withdrawn() {
    let (tx, rx) = chan::bounded::<u32>(1);
    tx.try_send(1).unwrap();
    {
        let mut send = pin!(tx.send(2));
        assert!(poll_once(send.as_mut()).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn blocking_forms_bridge_threads_and_tasks() {
    let rt = rt(2);
    let (tx, rx) = chan::bounded::<u64>(0);
    let (back_tx, back_rx) = chan::bounded::<u64>(0);
    rt.spawn(async move {
        while let Some(v) = rx.recv().await {
            back_tx.send(v * 2).await.unwrap();
        }
    });
    let t = std::thread::spawn(move || {
        for i in 0..1000 {
            tx.send_blocking(i).unwrap();
        }
    });
    let mut sum = 0;
    for _ in 0..1000 {
        sum += back_rx.recv_blocking().unwrap();
    }
    t.join().unwrap();
    assert_eq!(sum, 999 * 1000);
    assert_eq!(back_rx.recv_blocking(), None);
}

#[test]
fn blocking_forms_panic_on_a_worker() {
    let rt = rt(1);
    let err = rt
        .block_on(rt.spawn(async {
            let (tx, _rx) = chan::bounded::<u8>(1);
            tx.send_blocking(1).ok();
        }))
        .unwrap_err();
    let msg = util::panic_message(&*err.into_panic());
    assert!(msg.contains("worker thread"), "{msg}");
}

fn storm(rt: &Runtime, cap: Option<usize>, producers: usize, consumers: usize, per: u64) {
    let (tx, rx) = match cap {
        Some(c) => chan::bounded::<u64>(c),
        None => chan::unbounded(),
    };
    let received = Arc::new(AtomicUsize::new(0));
    let sum = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let wg = WaitGroup::new();
        for p in 0..producers as u64 {
            let tx = tx.clone();
            wg.spawn(async move {
                for i in 0..per {
                    tx.send(p * per + i).await.unwrap();
                }
            });
        }
        drop(tx);
        for _ in 0..consumers {
            let (rx, received, sum) = (rx.clone(), received.clone(), sum.clone());
            wg.spawn(async move {
                while let Some(v) = rx.recv().await {
                    received.fetch_add(1, SeqCst);
                    sum.fetch_add(v as usize, SeqCst);
                }
            });
        }
        wg.wait().await;
    });
    let n = producers as u64 * per;
    assert_eq!(received.load(SeqCst) as u64, n, "cap {cap:?}");
    assert_eq!(sum.load(SeqCst) as u64, n * (n - 1) / 2, "cap {cap:?}");
}

#[test]
fn many_producer_many_consumer_storm_counts_exactly() {
    let rt = rt(2);
    for cap in [Some(0), Some(1), Some(16), Some(1024), None] {
        storm(&rt, cap, 8, 8, 50_000);
    }
}

#[test]
fn storm_with_plain_threads_on_both_sides() {
    let (tx, rx) = chan::bounded::<usize>(8);
    let total = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|s| {
        for p in 0..4 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..20_000 {
                    tx.send_blocking(p * 20_000 + i).unwrap();
                }
            });
        }
        drop(tx);
        for _ in 0..4 {
            let (rx, total) = (rx.clone(), total.clone());
            s.spawn(move || {
                while let Some(v) = rx.recv_blocking() {
                    total.fetch_add(v, SeqCst);
                }
            });
        }
    });
    let n = 80_000usize;
    assert_eq!(total.load(SeqCst), n * (n - 1) / 2);
}

#[test]
fn a_task_that_always_finds_its_channel_ready_still_yields() {
    // One worker: without a budget the receiver would drain all 10,000
    // values before the flag-setting task got a turn. The consumer spawns
    // the setter itself, on the only worker, before it starts draining:
    // the setter can run only when the consumer yields, whatever the load
    // (spawning it from `block_on` raced the drain).
    let rt = rt(1);
    let (tx, rx) = chan::unbounded::<u32>();
    for i in 0..10_000 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let flag = Arc::new(AtomicBool::new(false));
    let first_seen = rt.block_on(async move {
        let consumer = spawn(async move {
            let f = flag.clone();
            let setter = spawn(async move { flag.store(true, SeqCst) });
            let mut n = 0usize;
            let mut first_seen = None;
            while rx.recv().await.is_some() {
                n += 1;
                if first_seen.is_none() && f.load(SeqCst) {
                    first_seen = Some(n);
                }
            }
            setter.await.unwrap();
            first_seen
        });
        consumer.await.unwrap()
    });
    let first_seen = first_seen.expect("the other task never ran before the drain finished");
    assert!(
        first_seen <= 300,
        "other task ran only after {first_seen} receives"
    );
}

#[test]
fn receiver_is_a_stream() {
    let rt = rt(2);
    let (tx, rx) = chan::bounded::<u32>(2);
    rt.spawn(async move {
        for i in 0..50 {
            tx.send(i).await.unwrap();
        }
    });
    let v: Vec<u32> = rt.block_on(rx.map(|x| x + 1).collect());
    assert_eq!(v, (1..=50).collect::<Vec<_>>());
}

#[test]
fn dropping_a_stream_mid_wait_loses_nothing() {
    let (tx, mut rx) = chan::bounded::<u32>(0);
    let rx2 = rx.clone();
    {
        let mut next = rx.next();
        let waker = futures::task::noop_waker();
        assert!(std::pin::Pin::new(&mut next)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
    }
    tx.try_send(3).unwrap(); // handed to the stream's pending receive
    drop(rx); // which is dropped: the value goes back
    assert_eq!(rx2.try_recv(), Ok(3));
}

#[test]
fn exactly_one_arm_of_a_select_takes_effect() {
    // Every iteration offers the same value on two rendezvous channels; the
    // value must arrive exactly once, on the channel the select reports.
    let rt = rt(2);
    let n = 20_000;
    let (won, seen) = rt.block_on(async move {
        let (t0, r0) = chan::bounded::<usize>(0);
        let (t1, r1) = chan::bounded::<usize>(0);
        let (out_tx, out_rx) = chan::unbounded::<(usize, usize)>();
        for (ch, r) in [(0usize, r0), (1, r1)] {
            let out = out_tx.clone();
            spawn(async move {
                while let Some(v) = r.recv().await {
                    out.send((v, ch)).await.unwrap();
                }
            });
        }
        drop(out_tx);
        let mut won = vec![usize::MAX; n];
        for (it, w) in won.iter_mut().enumerate() {
            *w = stevedore::select! {
                _ = t0.send(it) => 0,
                _ = t1.send(it) => 1,
            };
        }
        drop((t0, t1));
        let mut seen = vec![Vec::new(); n];
        while let Some((v, ch)) = out_rx.recv().await {
            seen[v].push(ch);
        }
        (won, seen)
    });
    for it in 0..n {
        assert_eq!(seen[it], vec![won[it]], "iteration {it}");
    }
}
