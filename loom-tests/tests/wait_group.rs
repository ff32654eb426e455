//! WaitGroup under loom: `done` from two threads racing a waiter.
#![cfg(stevedore_loom)]

use loom::thread;
use stevedore::sync::WaitGroup;

#[test]
fn wait_returns_after_both_dones() {
    loom::model(|| {
        let wg = WaitGroup::new();
        wg.add(2);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let wg = wg.clone();
                thread::spawn(move || wg.done())
            })
            .collect();
        wg.wait_blocking();
        assert_eq!(wg.count(), 0);
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// Silences the expected misuse panics (loom runs each model many times);
/// any other panic is still reported.
fn quiet_misuse_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.contains("WaitGroup counter") {
                default(info);
            }
        }));
    });
}

fn panics(f: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
}

#[test]
fn a_done_too_many_never_disturbs_a_concurrent_add() {
    quiet_misuse_panics();
    loom::model(|| {
        let wg = WaitGroup::new();
        let misuser = {
            let wg = wg.clone();
            thread::spawn(move || !panics(|| wg.done()))
        };
        let adder = {
            let wg = wg.clone();
            thread::spawn(move || wg.add(1))
        };
        let stole = misuser.join().unwrap();
        adder
            .join()
            .expect("a correct add() panicked because of a concurrent misuse");
        assert_eq!(wg.count(), if stole { 0 } else { 1 });
    });
}

#[test]
fn concurrent_dones_on_zero_both_panic_and_leave_zero() {
    quiet_misuse_panics();
    loom::model(|| {
        let wg = WaitGroup::new();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let wg = wg.clone();
                thread::spawn(move || panics(|| wg.done()))
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap(), "done() on zero did not panic");
        }
        assert_eq!(wg.count(), 0);
        // Still usable.
        wg.add(1);
        let t = {
            let wg = wg.clone();
            thread::spawn(move || wg.done())
        };
        wg.wait_blocking();
        t.join().unwrap();
    });
}

#[test]
fn an_overflowing_add_never_releases_a_waiter_early() {
    quiet_misuse_panics();
    loom::model(|| {
        use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
        use loom::sync::Arc;
        let wg = WaitGroup::new();
        wg.add(1);
        let finished = Arc::new(AtomicBool::new(false));
        let misuser = {
            let wg = wg.clone();
            thread::spawn(move || panics(|| wg.add(usize::MAX)))
        };
        let worker = {
            let (wg, finished) = (wg.clone(), finished.clone());
            thread::spawn(move || {
                finished.store(true, SeqCst);
                wg.done();
            })
        };
        wg.wait_blocking();
        assert!(finished.load(SeqCst), "wait() returned before the done()");
        assert!(misuser.join().unwrap(), "the overflowing add did not panic");
        worker.join().unwrap();
        assert_eq!(wg.count(), 0);
    });
}
