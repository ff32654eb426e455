//! Channels under loom: rendezvous, capacity 1 and unbounded; send, receive
//! and close from different threads; no lost message or wake-up; select.
#![cfg(stevedore_loom)]

use loom::thread;
use stevedore::chan;

#[test]
fn rendezvous_hands_the_value_over() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(0);
        let sender = thread::spawn(move || tx.send_blocking(7).unwrap());
        assert_eq!(rx.recv_blocking(), Some(7));
        sender.join().unwrap();
        assert_eq!(rx.recv_blocking(), None, "sender dropped: closed");
    });
}

#[test]
fn capacity_one_keeps_order_and_blocks_the_second_send() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        let sender = thread::spawn(move || {
            tx.send_blocking(1).unwrap();
            tx.send_blocking(2).unwrap();
        });
        assert_eq!(rx.recv_blocking(), Some(1));
        assert_eq!(rx.recv_blocking(), Some(2));
        assert_eq!(rx.recv_blocking(), None);
        sender.join().unwrap();
    });
}

#[test]
fn close_wakes_a_waiting_receiver() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(0);
        let receiver = thread::spawn(move || rx.recv_blocking());
        tx.close();
        assert_eq!(receiver.join().unwrap(), None);
    });
}

#[test]
fn close_hands_a_waiting_sender_its_value_back() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(0);
        let sender = thread::spawn(move || tx.send_blocking(5));
        rx.close();
        match sender.join().unwrap() {
            Err(e) => assert_eq!(e.0, 5),
            Ok(()) => panic!("send completed on a channel nobody received from"),
        }
    });
}

#[test]
fn unbounded_two_senders_no_message_lost() {
    loom::model(|| {
        let (tx, rx) = chan::unbounded::<u32>();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send_blocking(1).unwrap());
        let b = thread::spawn(move || tx2.send_blocking(2).unwrap());
        let mut got = [rx.recv_blocking().unwrap(), rx.recv_blocking().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(rx.recv_blocking(), None);
    });
}

#[test]
fn select_takes_exactly_one_of_two_ready_values() {
    loom::model(|| {
        let (tx1, rx1) = chan::bounded::<u32>(1);
        let (tx2, rx2) = chan::bounded::<u32>(1);
        let a = thread::spawn(move || tx1.try_send(1).unwrap());
        let b = thread::spawn(move || tx2.try_send(2).unwrap());
        let got = loom::future::block_on(async {
            stevedore::select! {
                v = rx1.recv() => v,
                v = rx2.recv() => v,
            }
        })
        .unwrap();
        a.join().unwrap();
        b.join().unwrap();
        let left = [rx1.try_recv().ok(), rx2.try_recv().ok()];
        let left: Vec<u32> = left.into_iter().flatten().collect();
        assert_eq!(left.len(), 1, "exactly one value was taken");
        assert_ne!(left[0], got);
    });
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    fut.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

#[test]
fn select_cancelled_after_an_arm_was_claimed_gives_back_exactly_that_value() {
    // Two rendezvous arms; two senders race to hand a value to the select's
    // waiters (claiming its token) while the select is dropped after one
    // poll. At most one send may succeed (one arm takes effect), and what
    // it handed over comes back to the channel: nothing lost or duplicated.
    loom::model(|| {
        let (tx1, rx1) = chan::bounded::<u32>(0);
        let (tx2, rx2) = chan::bounded::<u32>(0);
        let a = thread::spawn(move || tx1.try_send(1).is_ok());
        let b = thread::spawn(move || tx2.try_send(2).is_ok());
        let mut sel = Box::pin(async {
            stevedore::select! {
                v = rx1.recv() => v,
                v = rx2.recv() => v,
            }
        });
        let first = poll_once(sel.as_mut());
        drop(sel);
        let sent = [a.join().unwrap(), b.join().unwrap()];
        assert!(!(sent[0] && sent[1]), "two arms of one select took effect");
        assert_eq!((rx1.len(), rx2.len()), (0, 0), "a rendezvous buffered");
        let mut got: Vec<u32> = Vec::new();
        // `Ready(None)`: a sender that failed and left closed its channel.
        if let std::task::Poll::Ready(Some(v)) = first {
            got.push(v);
        }
        got.extend(rx1.try_recv().ok());
        got.extend(rx2.try_recv().ok());
        let want: Vec<u32> = [1, 2]
            .into_iter()
            .zip(sent)
            .filter_map(|(v, s)| s.then_some(v))
            .collect();
        got.sort_unstable();
        assert_eq!(got, want);
    });
}

#[test]
fn rendezvous_give_back_never_completes_a_blocked_sender() {
    // A select's receive arm is handed a value and then dropped while a
    // second sender is blocked: the value goes back, the next receive takes
    // it, and the blocked sender completes only when a receive takes its
    // own value — the buffer of `bounded(0)` never holds a sent value.
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(0);
        let tx2 = tx.clone();
        let mut sel = Box::pin(async {
            stevedore::select! {
                v = rx.recv() => v,
            }
        });
        let first = poll_once(sel.as_mut());
        let a = thread::spawn(move || tx.send_blocking(1).unwrap());
        let b = thread::spawn(move || tx2.send_blocking(2).unwrap());
        drop(sel);
        assert_eq!(rx.len(), 0);
        let mut got: Vec<u32> = Vec::new();
        if let std::task::Poll::Ready(v) = first {
            got.push(v.expect("senders are alive"));
        }
        while got.len() < 2 {
            got.push(rx.recv_blocking().expect("senders are alive"));
            assert_eq!(rx.len(), 0, "a sender completed into the buffer");
        }
        a.join().unwrap();
        b.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        assert_eq!(rx.try_recv(), Err(chan::TryRecvError::Closed));
    });
}
