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
