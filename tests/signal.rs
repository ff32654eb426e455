//! `signal::unix::signal` and `signal::ctrl_c` with real signals sent to
//! this test process. Each test uses its own signal (mostly real-time
//! ones), so tests running in parallel cannot see each other's signals;
//! `SIGINT` is used by one test only.

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;
use stevedore::signal::unix::{signal, SignalKind};
use stevedore::sync::CancellationToken;

const LONG: Duration = Duration::from_secs(20);

fn rt_signal(n: i32) -> SignalKind {
    SignalKind::from_raw(libc::SIGRTMIN() + n)
}

fn raise(kind: SignalKind) {
    // SAFETY: sending a signal to our own process; every test installs a
    // listener for its signal before sending it, so the default action
    // (which would end the test run) is never taken.
    let rc = unsafe { libc::kill(libc::getpid(), kind.as_raw_value()) };
    assert_eq!(rc, 0, "kill failed: {}", std::io::Error::last_os_error());
}

/// Polls `f` once in the current task's context.
async fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(std::pin::Pin::new(&mut *f).poll(cx)))
        .await
}

#[stevedore::test(worker_threads = 2)]
async fn a_signal_is_delivered() {
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    assert_eq!(usr1.kind(), SignalKind::user_defined1());
    raise(SignalKind::user_defined1());
    stevedore::time::timeout(LONG, usr1.recv())
        .await
        .expect("SIGUSR1 never arrived")
        .expect("listener closed");
}

#[stevedore::test(worker_threads = 2)]
async fn a_signal_sent_before_recv_is_kept() {
    let kind = rt_signal(1);
    let mut sig = signal(kind).unwrap();
    raise(kind);
    raise(kind);
    // Nobody was in recv() when they arrived: one recv sees them (coalesced).
    stevedore::time::timeout(LONG, sig.recv())
        .await
        .expect("signal sent before recv() was lost")
        .unwrap();
}

#[stevedore::test(worker_threads = 2)]
async fn every_listener_sees_every_signal() {
    let kind = rt_signal(2);
    let mut a = signal(kind).unwrap();
    let mut b = signal(kind).unwrap();
    let mut other = signal(rt_signal(3)).unwrap();
    for round in 0..5 {
        raise(kind);
        for (name, l) in [("a", &mut a), ("b", &mut b)] {
            stevedore::time::timeout(LONG, l.recv())
                .await
                .unwrap_or_else(|_| panic!("listener {name} missed signal {round}"))
                .unwrap();
        }
    }
    // A listener of another kind saw none of them.
    assert!(poll_once(&mut Box::pin(other.recv())).await.is_pending());
}

#[stevedore::test(worker_threads = 2)]
async fn waiting_tasks_on_two_runtimes_are_woken() {
    let kind = rt_signal(4);
    let other_rt = stevedore::Runtime::builder()
        .worker_threads(1)
        .build()
        .unwrap();
    let mut here = signal(kind).unwrap();
    let mut there = {
        let _enter = other_rt.enter();
        signal(kind).unwrap()
    };
    let (ready_tx, ready_rx) = stevedore::sync::oneshot::channel::<()>();
    let there_task = other_rt.spawn(async move {
        let mut wait = Box::pin(there.recv());
        assert!(poll_once(&mut wait).await.is_pending());
        ready_tx.send(()).unwrap();
        wait.await
    });
    ready_rx.await.unwrap(); // the other runtime's task is parked in recv()
    raise(kind);
    stevedore::time::timeout(LONG, here.recv())
        .await
        .expect("this runtime's listener missed it")
        .unwrap();
    let got = stevedore::time::timeout(LONG, there_task)
        .await
        .expect("the other runtime's listener missed it")
        .unwrap();
    assert_eq!(got, Some(()));
}

#[stevedore::test(worker_threads = 2)]
async fn a_listener_created_later_does_not_see_earlier_signals() {
    let kind = rt_signal(5);
    let mut first = signal(kind).unwrap();
    raise(kind);
    stevedore::time::timeout(LONG, first.recv())
        .await
        .unwrap()
        .unwrap();
    // The signal has been handled (first saw it) before `late` existed.
    let mut late = signal(kind).unwrap();
    assert!(poll_once(&mut Box::pin(late.recv())).await.is_pending());
    raise(kind);
    stevedore::time::timeout(LONG, late.recv())
        .await
        .expect("the later signal was missed")
        .unwrap();
}

#[stevedore::test(worker_threads = 2)]
async fn dropping_a_listener_mid_recv_does_not_disturb_others() {
    let kind = rt_signal(6);
    let mut keep = signal(kind).unwrap();
    let mut gone = signal(kind).unwrap();
    {
        let mut wait = Box::pin(gone.recv());
        assert!(poll_once(&mut wait).await.is_pending());
        // cancelled at its `.await`
    }
    drop(gone);
    raise(kind);
    stevedore::time::timeout(LONG, keep.recv())
        .await
        .unwrap()
        .unwrap();
}

#[stevedore::test(worker_threads = 2)]
async fn listeners_do_not_leak_descriptors() {
    fn open_fds() -> usize {
        std::fs::read_dir("/proc/self/fd").unwrap().count()
    }
    let kind = rt_signal(7);
    let before = open_fds();
    for _ in 0..300 {
        let s = signal(kind).unwrap();
        drop(s);
    }
    let after = open_fds();
    // Tests running in parallel open a few descriptors of their own; 300
    // leaked listeners would be 600.
    assert!(after < before + 100, "fds: {before} before, {after} after");
}

#[stevedore::test]
async fn signals_that_cannot_be_handled_are_refused() {
    for bad in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -1, 10_000] {
        let err = signal(SignalKind::from_raw(bad)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "signal {bad}");
    }
}

#[test]
fn signal_outside_a_runtime_is_an_error() {
    let err = signal(rt_signal(8)).unwrap_err();
    assert!(err.to_string().contains("runtime"), "{err}");
}

#[test]
fn recv_after_the_runtime_shut_down_returns_none() {
    let rt = stevedore::Runtime::builder()
        .worker_threads(1)
        .build()
        .unwrap();
    let mut sig = rt.block_on(async { signal(rt_signal(9)).unwrap() });
    drop(rt);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    assert_eq!(sig.poll_recv(&mut cx), Poll::Ready(None));
}

/// The demo's need: the first Ctrl-C cancels, a second one exits. One
/// `SIGINT` listener serves both, so no Ctrl-C falls between two
/// listeners. Also covers `ctrl_c()`.
#[stevedore::test(worker_threads = 2)]
async fn ctrl_c_first_cancels_second_exits() {
    let sigint = SignalKind::interrupt();
    let mut listener = signal(sigint).unwrap(); // SIGINT no longer kills us
    let cancel = CancellationToken::new();
    let (exit_tx, exit_rx) = stevedore::sync::oneshot::channel::<()>();
    let token = cancel.clone();
    let watcher = stevedore::spawn(async move {
        if listener.recv().await.is_some() {
            token.cancel();
        }
        if listener.recv().await.is_some() {
            let _ = exit_tx.send(()); // the demo would exit(130) here
        }
    });
    raise(sigint);
    stevedore::time::timeout(LONG, cancel.cancelled())
        .await
        .expect("the first Ctrl-C did not cancel");
    let mut exit_rx = exit_rx;
    assert_eq!(
        exit_rx.try_recv(),
        Err(stevedore::sync::oneshot::TryRecvError::Empty),
        "one Ctrl-C must not exit"
    );
    raise(sigint);
    stevedore::time::timeout(LONG, exit_rx)
        .await
        .expect("the second Ctrl-C was not seen")
        .unwrap();
    watcher.await.unwrap();

    // ctrl_c(): the listener exists once the future was polled.
    let _keep = signal(sigint).unwrap();
    let mut ctrl_c = Box::pin(stevedore::signal::ctrl_c());
    assert!(poll_once(&mut ctrl_c).await.is_pending());
    raise(sigint);
    stevedore::time::timeout(LONG, ctrl_c)
        .await
        .expect("ctrl_c() did not complete")
        .unwrap();
}

#[test]
fn listeners_and_ctrl_c_can_move_into_tasks() {
    fn send<T: Send>(_: &T) {}
    fn send_type<T: Send>() {}
    send_type::<stevedore::signal::unix::Signal>();
    send(&stevedore::signal::ctrl_c());
}

/// `recv()` in a `select!` whose other arm is ready all the time: a signal
/// seen as the other arm wins is kept for the next `recv`.
#[stevedore::test(worker_threads = 2)]
async fn no_signal_is_lost_in_a_busy_select() {
    let kind = rt_signal(10);
    let mut sig = signal(kind).unwrap();
    let (tick_tx, tick_rx) = stevedore::chan::bounded::<()>(1);
    let ticker = stevedore::spawn(async move {
        while tick_tx.send(()).await.is_ok() {
            stevedore::yield_now().await;
        }
    });
    for round in 0..200 {
        raise(kind);
        let got = async {
            loop {
                stevedore::select! {
                    v = sig.recv() => break v,
                    _ = tick_rx.recv() => {}
                }
            }
        };
        stevedore::time::timeout(LONG, got)
            .await
            .unwrap_or_else(|_| panic!("signal {round} lost in select!"))
            .unwrap();
    }
    drop(tick_rx);
    ticker.await.unwrap();
}
