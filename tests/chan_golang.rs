//! Channel semantics ported from Go's `runtime/chan_test.go`, rewritten for
//! stevedore's API. Where Go sleeps to "let a goroutine block", these use
//! non-blocking probes (`try_*`, `select!` with `default`) instead.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use stevedore::chan::{self, Receiver, Sender, TryRecvError, TrySendError};
use stevedore::sync::WaitGroup;
use stevedore::{select, spawn, yield_now};
use util::rt;

const CAPS: [usize; 5] = [0, 1, 3, 10, 100];

#[test]
fn chan_basics_for_every_capacity() {
    let rt = rt(2);
    for cap in CAPS {
        rt.block_on(async move {
            // Receiving from an empty channel does not complete.
            let (tx, rx) = chan::bounded::<usize>(cap);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            let got = select! { v = rx.recv() => v, default => None };
            assert_eq!(got, None, "cap {cap}: empty receive completed");

            // A full channel refuses sends (cap 0 is always "full" without a receiver).
            for i in 0..cap {
                tx.try_send(i).unwrap();
            }
            assert!(matches!(tx.try_send(99), Err(TrySendError::Full(99))));
            let sent = select! { r = tx.send(99) => r.is_ok(), default => false };
            assert!(!sent, "cap {cap}: send to full channel completed");
            for i in 0..cap {
                assert_eq!(rx.recv().await, Some(i));
            }

            // Closed and drained: receives yield None at once, forever.
            tx.try_send(0).ok();
            tx.close();
            if cap > 0 {
                assert_eq!(rx.recv().await, Some(0));
            }
            for _ in 0..3 {
                assert_eq!(rx.recv().await, None);
            }
            assert!(tx.send(5).await.is_err());
        });
    }
}

#[test]
fn close_unblocks_a_waiting_receive() {
    let rt = rt(2);
    for cap in CAPS {
        rt.block_on(async move {
            let (tx, rx) = chan::bounded::<u8>(cap);
            let (ready_tx, ready_rx) = chan::bounded::<()>(0);
            let h = spawn(async move {
                ready_tx.send(()).await.unwrap();
                rx.recv().await
            });
            ready_rx.recv().await;
            tx.close();
            assert_eq!(h.await.unwrap(), None);
        });
    }
}

#[test]
fn values_arrive_uncorrupted_in_fifo_order() {
    let rt = rt(2);
    for cap in CAPS {
        rt.block_on(async move {
            let (tx, rx) = chan::bounded::<usize>(cap);
            spawn(async move {
                for i in 0..100 {
                    tx.send(i).await.unwrap();
                }
            });
            for i in 0..100 {
                assert_eq!(rx.recv().await, Some(i), "cap {cap}");
            }
            assert_eq!(rx.recv().await, None);
        });
    }
}

#[test]
fn four_senders_thousand_values_each_arrive_exactly_once() {
    let rt = rt(2);
    for cap in CAPS {
        rt.block_on(async move {
            const P: usize = 4;
            const L: usize = 1000;
            let (tx, rx) = chan::bounded::<usize>(cap);
            for p in 0..P {
                let tx = tx.clone();
                spawn(async move {
                    for i in 0..L {
                        tx.send(p * L + i).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut seen = vec![false; P * L];
            while let Some(v) = rx.recv().await {
                assert!(!seen[v], "cap {cap}: {v} received twice");
                seen[v] = true;
            }
            assert!(seen.iter().all(|&s| s), "cap {cap}: a value was lost");
        });
    }
}

#[test]
fn len_and_capacity() {
    for cap in CAPS {
        let (tx, rx) = chan::bounded::<u8>(cap);
        assert_eq!(tx.capacity(), Some(cap));
        for i in 0..cap {
            tx.try_send(0).unwrap();
            assert_eq!(rx.len(), i + 1);
        }
        assert_eq!(tx.len(), cap);
    }
    let (tx, _rx) = chan::unbounded::<u8>();
    assert_eq!(tx.capacity(), None);
}

#[test]
fn nonblocking_receive_sees_a_closed_channel_as_ready() {
    let rt = rt(2);
    rt.block_on(async {
        for _ in 0..10_000 {
            let (tx, rx) = chan::bounded::<u8>(1);
            tx.send(1).await.unwrap();
            let rx2 = rx.clone();
            let probe = spawn(async move {
                select! {
                    _ = rx2.recv() => true,
                    default => false,
                }
            });
            tx.close();
            // Either we or the probe get the value; the other sees "closed".
            let _ = rx.recv().await;
            assert!(probe.await.unwrap(), "chan is not ready");
        }
    });
}

#[test]
fn nonblocking_select_sees_one_of_two_ready_channels() {
    let rt = rt(2);
    rt.block_on(async {
        for _ in 0..20_000 {
            let (tx1, rx1) = chan::bounded::<u8>(1);
            let (tx2, rx2) = chan::bounded::<u8>(1);
            tx1.send(1).await.unwrap();
            let (r1, r2) = (rx1.clone(), rx2.clone());
            let probe = spawn(async move {
                select! {
                    _ = r1.recv() => true,
                    _ = r2.recv() => true,
                    default => false,
                }
            });
            tx2.send(1).await.unwrap();
            select! {
                _ = rx1.recv() => {},
                _ = rx2.recv() => {},
            }
            assert!(probe.await.unwrap(), "no channel was ready");
        }
    });
}

#[test]
fn a_select_never_pairs_with_itself() {
    let rt = rt(2);
    for cap in [0usize, 10] {
        rt.block_on(async move {
            let (tx, rx) = chan::bounded::<usize>(cap);
            let wg = WaitGroup::new();
            for p in 0..2usize {
                let (tx, rx) = (tx.clone(), rx.clone());
                wg.spawn(async move {
                    for i in 0..1000 {
                        let v = if p == 0 || i % 2 == 0 {
                            select! {
                                _ = tx.send(p) => None,
                                v = rx.recv() => v,
                            }
                        } else {
                            select! {
                                v = rx.recv() => v,
                                _ = tx.send(p) => None,
                            }
                        };
                        if cap == 0 {
                            assert_ne!(v, Some(p), "self receive");
                        }
                    }
                });
            }
            wg.wait().await;
        });
    }
}

#[test]
fn select_stress_mixed_sends_receives_and_selects() {
    const N: usize = 20_000;
    let rt = rt(2);
    rt.block_on(async {
        let chans: Vec<(Sender<u8>, Receiver<u8>)> =
            [0, 0, 2, 3].iter().map(|&c| chan::bounded(c)).collect();
        let wg = WaitGroup::new();
        for (tx, rx) in &chans {
            let (tx, rx) = (tx.clone(), rx.clone());
            wg.spawn(async move {
                for _ in 0..N {
                    tx.send(0).await.unwrap();
                }
            });
            wg.spawn(async move {
                for _ in 0..N {
                    rx.recv().await.unwrap();
                }
            });
        }
        let txs: Vec<_> = chans.iter().map(|(t, _)| t.clone()).collect();
        wg.spawn(async move {
            let mut n = [0usize; 4];
            for _ in 0..4 * N {
                select! {
                    _ = txs[3].send(0), if n[3] < N => n[3] += 1,
                    _ = txs[2].send(0), if n[2] < N => n[2] += 1,
                    _ = txs[0].send(0), if n[0] < N => n[0] += 1,
                    _ = txs[1].send(0), if n[1] < N => n[1] += 1,
                }
            }
            assert_eq!(n, [N; 4]);
        });
        let rxs: Vec<_> = chans.iter().map(|(_, r)| r.clone()).collect();
        wg.spawn(async move {
            let mut n = [0usize; 4];
            for _ in 0..4 * N {
                select! {
                    _ = rxs[0].recv(), if n[0] < N => n[0] += 1,
                    _ = rxs[3].recv(), if n[3] < N => n[3] += 1,
                    _ = rxs[1].recv(), if n[1] < N => n[1] += 1,
                    _ = rxs[2].recv(), if n[2] < N => n[2] += 1,
                }
            }
            assert_eq!(n, [N; 4]);
        });
        wg.wait().await;
        for (_, rx) in &chans {
            assert!(rx.try_recv().is_err(), "every value was received");
        }
    });
}

#[test]
fn select_is_fair_between_ready_channels() {
    const TRIALS: usize = 10_000;
    let rt = rt(2);
    let (c1, c2) = rt.block_on(async {
        let (t1, r1) = chan::bounded::<u8>(TRIALS + 1);
        let (t2, r2) = chan::bounded::<u8>(TRIALS + 1);
        for _ in 0..=TRIALS {
            t1.send(1).await.unwrap();
            t2.send(2).await.unwrap();
        }
        let (_t3, r3) = chan::bounded::<u8>(0);
        let (_t4, r4) = chan::bounded::<u8>(0);
        let (out_tx, out_rx) = chan::bounded::<u8>(0);
        let (done_tx, done_rx) = chan::bounded::<()>(0);
        let picker = spawn(async move {
            loop {
                let b = select! {
                    b = r3.recv() => b,
                    b = r4.recv() => b,
                    b = r1.recv() => b,
                    b = r2.recv() => b,
                };
                select! {
                    _ = out_tx.send(b.unwrap()) => {},
                    _ = done_rx.recv() => return,
                }
            }
        });
        let (mut c1, mut c2) = (0usize, 0usize);
        for _ in 0..TRIALS {
            match out_rx.recv().await {
                Some(1) => c1 += 1,
                Some(2) => c2 += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        done_tx.close();
        picker.await.unwrap();
        (c1, c2)
    });
    // Binomial(10000, 0.5): sigma = 50. Allow 10 sigma, as Go does.
    let mean = TRIALS as f64 / 2.0;
    let sigma = (TRIALS as f64 * 0.25).sqrt();
    assert!(
        (c1 as f64 - mean).abs() <= 10.0 * sigma,
        "unfair select: {c1} vs {c2}"
    );
}

#[test]
fn select_sends_pick_arms_pseudo_randomly() {
    let rt = rt(2);
    let n = 100;
    let (zeros, ones) = rt.block_on(async move {
        let (tx, rx) = chan::bounded::<u8>(n);
        for _ in 0..n {
            select! {
                _ = tx.send(0) => {},
                _ = tx.send(1) => {},
            }
        }
        let mut counts = (0, 0);
        for _ in 0..n {
            match rx.recv().await {
                Some(0) => counts.0 += 1,
                Some(1) => counts.1 += 1,
                v => panic!("{v:?}"),
            }
        }
        counts
    });
    assert!(
        zeros >= n / 10 && ones >= n / 10,
        "{zeros} zeros, {ones} ones"
    );
}

#[test]
fn multi_consumer_sums_match() {
    const NWORK: usize = 23;
    const NITER: usize = 271_828;
    const PN: [usize; 10] = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    let rt = rt(2);
    let (n, s, expect) = rt.block_on(async {
        let (q_tx, q_rx) = chan::bounded::<usize>(NWORK * 3);
        let (r_tx, r_rx) = chan::bounded::<usize>(NWORK * 3);
        let wg = WaitGroup::new();
        for w in 0..NWORK {
            let (q_rx, r_tx) = (q_rx.clone(), r_tx.clone());
            wg.spawn(async move {
                while let Some(v) = q_rx.recv().await {
                    if PN[w % PN.len()] == v {
                        yield_now().await; // mess with the FIFO-ish order
                    }
                    r_tx.send(v).await.unwrap();
                }
            });
        }
        drop(q_rx);
        let expect = Arc::new(AtomicUsize::new(0));
        let e = expect.clone();
        spawn(async move {
            for i in 0..NITER {
                let v = PN[i % PN.len()];
                e.fetch_add(v, SeqCst);
                q_tx.send(v).await.unwrap();
            }
            drop(q_tx); // no more work
            wg.wait().await; // workers done
            r_tx.close(); // so no more results
        });
        let (mut n, mut s) = (0, 0);
        while let Some(v) = r_rx.recv().await {
            n += 1;
            s += v;
        }
        (n, s, expect.load(SeqCst))
    });
    assert_eq!(n, NITER);
    assert_eq!(s, expect);
}

#[test]
fn the_same_channel_twice_in_one_select() {
    let rt = rt(2);
    rt.block_on(async {
        let (c_tx, c_rx) = chan::bounded::<u8>(0);
        let (d_tx, d_rx) = chan::bounded::<u8>(0);
        let (e_tx, e_rx) = chan::bounded::<u8>(0);
        spawn(async move {
            select! {
                _ = c_rx.recv() => panic!("c received twice?"),
                _ = c_rx.recv() => panic!("c received twice?"),
                v = d_rx.recv() => assert_eq!(v, Some(4)),
            }
            e_tx.send(9).await.unwrap();
        });
        d_tx.send(4).await.unwrap();
        assert_eq!(e_rx.recv().await, Some(9));
        drop(c_tx);
    });
}

#[test]
fn closed_channel_arm_is_always_ready() {
    let rt = rt(1);
    rt.block_on(async {
        let (tx, rx) = chan::bounded::<u8>(0);
        tx.close();
        let (_keep, never) = chan::bounded::<u8>(0);
        for _ in 0..100 {
            let closed = select! {
                v = rx.recv() => v.is_none(),
                _ = never.recv() => false,
            };
            assert!(closed);
        }
    });
}
