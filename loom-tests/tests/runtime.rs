//! The idle/park protocol under loom, through a real runtime: work pushed
//! while the last worker parks must still run (no lost wake-up), and
//! shutdown joins the workers.
#![cfg(stevedore_loom)]

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
