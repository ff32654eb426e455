//! The `select!` arms of the one-shot operations: when another arm has
//! already won, an arm whose operation completes anyway must put back
//! what it took (a oneshot value, a `notify_one`, a JoinSet result, a
//! signal) instead of dropping it with the arm. Driven through the arm
//! interface `select!` itself uses, with the other arm's win staged, so the
//! race is exercised deterministically. (`PickFutureArm` is not imported:
//! if one of these lost its select-aware arm, this would not compile.)

use std::future::Future;
use std::pin::pin;
use std::task::Context;
use std::time::Duration;
use stevedore::__private::select::{ArmPicker, PickChannelArm as _, SelectArm, Token};
use stevedore::sync::{oneshot, Notify};
use stevedore::task::JoinSet;

fn cx() -> Context<'static> {
    Context::from_waker(futures::task::noop_waker_ref())
}

/// Polls `$arm` as arm 0 of `$token`'s select.
macro_rules! poll_arm {
    ($arm:ident, $token:ident) => {
        // SAFETY: every test declares `$token` before `$arm` in the same
        // scope (or an enclosing one), so the token outlives the arm, and
        // each arm is always polled with the same token and index.
        unsafe { $arm.as_mut().poll_arm(&mut cx(), &$token, 0) }
    };
}

/// A token that arm 1 has won.
fn lost() -> Token {
    let token = Token::new();
    assert!(token.try_claim(1));
    token
}

#[test]
fn oneshot_value_stays_in_the_receiver() {
    let (tx, mut rx) = oneshot::channel::<u32>();
    tx.send(5).unwrap();
    {
        let token = lost();
        let mut arm = pin!(ArmPicker::new(&mut rx).pick());
        assert!(poll_arm!(arm, token).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(5), "the value was dropped with the arm");
    // And a winning arm completes normally.
    let (tx, mut rx) = oneshot::channel::<u32>();
    tx.send(6).unwrap();
    let token = Token::new();
    let mut arm = pin!(ArmPicker::new(&mut rx).pick());
    assert_eq!(poll_arm!(arm, token), std::task::Poll::Ready(Ok(6)));
}

#[test]
fn notify_one_is_passed_on() {
    let notify = Notify::new();
    notify.notify_one(); // the stored permit
    {
        let token = lost();
        let mut arm = pin!(ArmPicker::new(notify.notified()).pick());
        assert!(poll_arm!(arm, token).is_pending());
    }
    assert!(
        pin!(notify.notified()).poll(&mut cx()).is_ready(),
        "the permit was lost with the arm"
    );
}

#[test]
fn notify_one_to_a_waiting_arm_is_passed_on() {
    let notify = Notify::new();
    let token = Token::new();
    let mut arm = Box::pin(ArmPicker::new(notify.notified()).pick());
    assert!(poll_arm!(arm, token).is_pending()); // queued
    let mut next = pin!(notify.notified());
    assert!(next.as_mut().poll(&mut cx()).is_pending()); // queued behind
    notify.notify_one(); // picks the arm
    assert!(token.try_claim(1)); // ... but arm 1 wins the select
    assert!(poll_arm!(arm, token).is_pending());
    drop(arm);
    assert!(
        next.as_mut().poll(&mut cx()).is_ready(),
        "the notification did not reach the next waiter"
    );
}

#[stevedore::test(worker_threads = 1)]
async fn join_set_result_goes_back_into_the_set() {
    let mut set = JoinSet::new();
    let (ran_tx, ran_rx) = oneshot::channel::<()>();
    set.spawn(async move {
        ran_tx.send(()).unwrap();
        7u8
    });
    ran_rx.await.unwrap(); // the task is returning
    let token = lost();
    for _ in 0..200 {
        // Each losing arm takes the result once it is there, and must put
        // it back; without that the set would be empty after the first.
        {
            let mut arm = pin!(ArmPicker::new(set.join_next()).pick());
            assert!(poll_arm!(arm, token).is_pending());
        }
        assert_eq!(set.len(), 1, "the result was dropped with the arm");
        stevedore::yield_now().await;
    }
    let got = stevedore::time::timeout(Duration::from_secs(20), set.join_next())
        .await
        .unwrap();
    assert_eq!(got.unwrap().unwrap(), 7);
    assert!(set.is_empty());
}

#[stevedore::test(worker_threads = 1)]
async fn signal_is_kept_for_the_next_recv() {
    use stevedore::signal::unix::{signal, SignalKind};
    let kind = SignalKind::from_raw(libc::SIGRTMIN() + 12);
    let mut sig = signal(kind).unwrap();
    let mut witness = signal(kind).unwrap();
    // SAFETY: signalling ourselves; the listeners above handle it.
    unsafe { libc::kill(libc::getpid(), kind.as_raw_value()) };
    witness.recv().await.unwrap(); // delivered: `sig` has its byte too
    let token = lost();
    // Poll through losing arms until one has taken the signal (its
    // readiness may reach the reactor a moment after the witness's).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        {
            let mut arm = pin!(ArmPicker::new(sig.recv()).pick());
            assert!(poll_arm!(arm, token).is_pending());
        }
        // A losing arm that took it must have kept it for the next recv;
        // one that found nothing yet leaves it in the socket. Either way
        // the next recv sees it; it is lost only if an arm dropped it.
        let mut probe = pin!(sig.recv());
        if probe.as_mut().poll(&mut cx()).is_ready() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the signal was dropped with a losing arm"
        );
        stevedore::time::sleep(Duration::from_micros(200)).await;
    }
}
