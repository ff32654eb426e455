//! The permit queue (`Mutex`, `Semaphore`) and `Notify` under loom: the
//! lock-free fast paths racing the locked queue, hand-off, a waiter
//! cancelled while a permit is being handed to it, close, and
//! notifications passed on by dropped futures.
#![cfg(stevedore_loom)]

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use stevedore::sync::{Mutex, Notify, Semaphore};

fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = futures_noop_waker();
    f.poll(&mut Context::from_waker(&waker))
}

fn futures_noop_waker() -> std::task::Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    std::task::Waker::from(Arc::new(Noop))
}

#[test]
fn mutex_excludes_and_hands_off() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (m, inside) = (m.clone(), inside.clone());
                thread::spawn(move || {
                    let mut g = m.lock_blocking();
                    assert_eq!(inside.fetch_add(1, SeqCst), 0);
                    *g += 1;
                    inside.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.lock_blocking(), 2);
    });
}

#[test]
fn release_racing_a_new_waiter_loses_no_permit() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(1));
        let held = s.try_acquire().unwrap();
        let s2 = s.clone();
        let waiter = thread::spawn(move || {
            let p = block_on(s2.acquire()).unwrap();
            drop(p);
        });
        drop(held); // fast path or hand-off, depending on the interleaving
        waiter.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

#[test]
fn waiter_cancelled_while_a_permit_is_handed_to_it() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let canceller = thread::spawn(move || {
            let mut acquire = Box::pin(s2.acquire());
            let _ = poll_once(acquire.as_mut());
            drop(acquire); // queued, handed, or already done: nothing is lost
        });
        s.add_permits(1);
        canceller.join().unwrap();
        assert_eq!(s.available_permits(), 1, "a permit was lost");
    });
}

#[test]
fn cancelled_head_passes_the_permit_to_the_next_waiter() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let mut first = Box::pin(s.acquire());
        assert!(poll_once(first.as_mut()).is_pending());
        let s2 = s.clone();
        let second = thread::spawn(move || block_on(s2.acquire()).map(|p| p.forget()).is_ok());
        let s3 = s.clone();
        let releaser = thread::spawn(move || s3.add_permits(1));
        drop(first); // cancelled: whatever it was handed goes on
        releaser.join().unwrap();
        assert!(second.join().unwrap());
    });
}

#[test]
fn close_fails_a_blocked_waiter() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let waiter = thread::spawn(move || block_on(s2.acquire()).is_err());
        s.close();
        assert!(waiter.join().unwrap());
    });
}

#[test]
fn notify_one_is_never_lost() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let notifier = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        notifier.join().unwrap();
    });
}

#[test]
fn dropped_notified_passes_the_notification_on() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let mut first = Box::pin(n.notified());
        assert!(poll_once(first.as_mut()).is_pending());
        let n2 = n.clone();
        let notifier = thread::spawn(move || n2.notify_one());
        let n3 = n.clone();
        let second = thread::spawn(move || block_on(n3.notified()));
        drop(first);
        notifier.join().unwrap();
        second.join().unwrap();
    });
}

#[test]
fn notify_waiters_reaches_a_future_created_before_it() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let (tx, rx) = stevedore::chan::bounded::<()>(1);
        let n2 = n.clone();
        let waiter = thread::spawn(move || {
            let notified = pin!(n2.notified());
            tx.send_blocking(()).unwrap();
            block_on(notified);
        });
        rx.recv_blocking().unwrap();
        n.notify_waiters();
        waiter.join().unwrap();
    });
}
