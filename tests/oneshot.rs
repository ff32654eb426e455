//! `sync::oneshot`: values handed back, every drop order, close, select!.

mod util;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use stevedore::select;
use stevedore::sync::oneshot::{self, RecvError, TryRecvError};
use util::DropCounter;

#[stevedore::test(worker_threads = 2)]
async fn value_crosses_tasks() {
    let (tx, rx) = oneshot::channel();
    stevedore::spawn(async move { tx.send(String::from("hi")).unwrap() });
    assert_eq!(rx.await.unwrap(), "hi");
}

#[stevedore::test]
async fn send_hands_the_value_back_when_the_receiver_is_gone() {
    let (tx, rx) = oneshot::channel::<Vec<u8>>();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));
}

#[stevedore::test]
async fn dropping_the_sender_completes_the_receiver_with_an_error() {
    let (tx, rx) = oneshot::channel::<u32>();
    let waiter = stevedore::spawn(rx);
    drop(tx);
    let err: RecvError = waiter.await.unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "the oneshot sender was dropped without sending"
    );
}

#[test]
fn try_recv_empty_value_closed() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "taken already");
    let (tx, mut rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_refuses_later_sends_but_keeps_an_earlier_value() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[stevedore::test(worker_threads = 2)]
async fn closed_completes_when_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let dropper = stevedore::spawn(async move {
        stevedore::yield_now().await;
        drop(rx);
    });
    stevedore::time::timeout(Duration::from_secs(20), tx.closed())
        .await
        .expect("closed() never completed");
    dropper.await.unwrap();
    assert_eq!(tx.send(9), Err(9));
}

#[test]
fn every_drop_order_drops_the_value_exactly_once() {
    // send, then drop rx without receiving
    let c = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(c.token()).ok().unwrap();
    assert_eq!(c.dropped(), 0);
    drop(rx);
    assert_eq!(c.dropped(), 1);

    // drop rx first: the send hands the value back, the caller drops it
    let c = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(c.token()).err().unwrap();
    assert_eq!(c.dropped(), 0);
    drop(back);
    assert_eq!(c.dropped(), 1);

    // received: dropped by the receiver's owner
    let c = DropCounter::new();
    let (tx, rx) = oneshot::channel();
    tx.send(c.token()).ok().unwrap();
    let v = rx.recv_blocking().unwrap();
    assert_eq!(c.dropped(), 0);
    drop(v);
    assert_eq!(c.dropped(), 1);

    // sender dropped without sending, receiver later: nothing to drop
    let (tx, rx) = oneshot::channel::<util::Counted>();
    drop(tx);
    drop(rx);
}

#[test]
fn receiver_polled_after_completion_reports_closed() {
    let (tx, rx) = oneshot::channel::<u8>();
    tx.send(1).unwrap();
    let mut rx = pin!(rx);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    assert_eq!(rx.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert!(matches!(rx.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
}

#[stevedore::test(worker_threads = 2)]
async fn receiver_in_select() {
    let (tx, rx) = oneshot::channel::<u32>();
    let mut rx = pin!(rx);
    let r = select! {
        v = rx.as_mut() => v.ok(),
        default => None,
    };
    assert_eq!(r, None);
    stevedore::spawn(async move { tx.send(5).unwrap() });
    let r = select! {
        v = rx.as_mut() => v.ok(),
        _ = stevedore::time::sleep(Duration::from_secs(20)) => None,
    };
    assert_eq!(r, Some(5));
}

#[stevedore::test(worker_threads = 1)]
async fn ready_receivers_spend_the_coop_budget() {
    let flag = Arc::new(AtomicBool::new(false));
    let looper = stevedore::spawn(async move {
        // Queued on this worker behind us: it can only run if we yield.
        let marker = flag.clone();
        let _other = stevedore::spawn(async move { marker.store(true, SeqCst) });
        for i in 0..100_000u32 {
            let (tx, rx) = oneshot::channel();
            tx.send(i).unwrap();
            rx.await.unwrap();
            if flag.load(SeqCst) {
                return true;
            }
        }
        false
    });
    assert!(
        looper.await.unwrap(),
        "a loop of ready receives never yielded"
    );
}

#[stevedore::test(worker_threads = 2)]
async fn many_pairs_across_workers() {
    let mut handles = Vec::new();
    for i in 0..2_000u32 {
        let (tx1, rx1) = oneshot::channel::<u32>();
        let (tx2, rx2) = oneshot::channel::<u32>();
        stevedore::spawn(async move {
            let v = rx1.await.unwrap();
            tx2.send(v + 1).unwrap();
        });
        handles.push(stevedore::spawn(async move {
            tx1.send(i).unwrap();
            rx2.await.unwrap()
        }));
    }
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.await.unwrap(), i as u32 + 1);
    }
}

/// `&mut rx` in a `select!` whose other arm is ready all the time: a value
/// that arrives as the other arm wins stays in the receiver.
#[stevedore::test(worker_threads = 2)]
async fn no_value_is_lost_in_a_busy_select() {
    let (tick_tx, tick_rx) = stevedore::chan::bounded::<()>(1);
    let ticker = stevedore::spawn(async move {
        while tick_tx.send(()).await.is_ok() {
            stevedore::yield_now().await;
        }
    });
    let mut ticks = 0u64;
    for i in 0..2_000u32 {
        let (tx, mut rx) = oneshot::channel::<u32>();
        stevedore::spawn(async move { tx.send(i).unwrap() });
        let v = loop {
            select! {
                v = &mut rx => break v,
                _ = tick_rx.recv() => ticks += 1,
            }
        };
        assert_eq!(v, Ok(i), "value {i} lost in select!");
    }
    drop(tick_rx);
    ticker.await.unwrap();
    assert!(ticks > 0);
}
