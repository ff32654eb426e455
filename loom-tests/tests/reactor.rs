//! The reactor's readiness hand-off under loom: data arriving while a task
//! is between a `WouldBlock` read and clearing readiness must not be lost
//! (the tick check keeps the new edge), and a task that registered its
//! waker is woken.
#![cfg(stevedore_loom)]

use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;
use std::future::poll_fn;
use std::task::Poll;
use stevedore::__loom::Readiness;

#[test]
fn an_edge_racing_a_would_block_is_not_lost() {
    loom::model(|| {
        let io = Arc::new(Readiness::default());
        let data = Arc::new(AtomicBool::new(false));
        // An old edge: readable, but the socket is already empty.
        io.set_readable();

        let (io2, data2) = (io.clone(), data.clone());
        let driver = thread::spawn(move || {
            data2.store(true, SeqCst); // bytes land in the socket
            io2.set_readable(); // and epoll reports an edge
        });

        // The task: read until it gets the data; each failed read clears.
        loom::future::block_on(poll_fn(|cx| loop {
            match io.poll_readable(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(seen) => {
                    if data.load(SeqCst) {
                        return Poll::Ready(());
                    }
                    io.clear(seen); // WouldBlock
                }
            }
        }));
        driver.join().unwrap();
    });
}
