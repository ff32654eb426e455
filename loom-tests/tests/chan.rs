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
