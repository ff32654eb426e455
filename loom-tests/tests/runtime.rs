//! The idle/park protocol under loom, through a real runtime: work pushed
//! while the last worker parks must still run (no lost wake-up), a task put
//! into the next-task slot of a worker whose poll then blocks runs on the
//! other worker (the slot wake rule), and shutdown joins the workers.
#![cfg(stevedore_loom)]

use loom::sync::{Arc, Condvar, Mutex};
use stevedore::{chan, Runtime};

#[test]
fn a_spawn_while_the_only_worker_parks_still_runs() {
    loom::model(|| {
        let rt = Runtime::builder().worker_threads(1).build().unwrap();
        let h = rt.spawn(async { 1 + 1 });
        assert_eq!(rt.block_on(h).unwrap(), 2);
        drop(rt);
    });
}

#[test]
fn a_wake_from_outside_reaches_a_parked_worker() {
    loom::model(|| {
        let rt = Runtime::builder().worker_threads(1).build().unwrap();
        let (tx, rx) = chan::bounded::<u32>(1);
        let h = rt.spawn(async move { rx.recv().await });
        tx.send_blocking(3).unwrap();
        assert_eq!(rt.block_on(h).unwrap(), Some(3));
        drop(rt);
    });
}

#[test]
fn two_workers_a_remote_spawn_while_both_park_runs() {
    loom::model(|| {
        let rt = Runtime::builder().worker_threads(2).build().unwrap();
        let h = rt.spawn(async { 7 });
        assert_eq!(rt.block_on(h).unwrap(), 7);
        drop(rt);
    });
}

/// The slot wake rule: the parent spawns a child into its worker's
/// next-task slot, then blocks that worker until the child has run. Only
/// the other worker can run it, and it may be parked (not searching) at
/// that moment: without the wake on slot fill, loom finds the interleaving
/// where every thread waits (a deadlock).
#[test]
fn a_slot_task_of_a_blocked_worker_runs_on_the_other_worker() {
    loom::model(|| {
        let rt = Runtime::builder().worker_threads(2).build().unwrap();
        let h = rt.spawn(async {
            let ran = Arc::new((Mutex::new(false), Condvar::new()));
            let r = ran.clone();
            drop(stevedore::spawn(async move {
                *r.0.lock().unwrap() = true;
                r.1.notify_one();
            }));
            let mut done = ran.0.lock().unwrap();
            while !*done {
                done = ran.1.wait(done).unwrap();
            }
        });
        rt.block_on(h).unwrap();
        drop(rt);
    });
}
