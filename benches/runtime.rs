//! tokio's `rt_multi_threaded` benchmark shapes, with tokio's parameters,
//! stevedore vs tokio, 2 workers each, in the same criterion group.
//!
//! `cargo bench --bench runtime`

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};

const WORKERS: usize = 2;
const NUM_SPAWN: usize = 10_000;
const NUM_PINGS: usize = 1_000;
const NUM_YIELD: usize = 1_000;
const YIELD_TASKS: usize = 200;
const CHAIN: usize = 1_000;

fn stevedore_rt() -> stevedore::Runtime {
    stevedore::Runtime::builder()
        .worker_threads(WORKERS)
        .build()
        .unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap()
}

/// Generates one benchmark body per runtime from the same source.
macro_rules! shapes {
    ($rt_mod:ident, $new_rt:ident, $spawn:path, $yield_now:path, oneshot = $oneshot:expr, send1 = |$stx:ident, $sv:ident| $send1:expr, recv1 = |$rrx:ident| $recv1:expr) => {
        mod $rt_mod {
            use super::*;

            pub(super) fn spawn_many_local(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                let (tx, rx) = mpsc::sync_channel(1000);
                let rem = Arc::new(AtomicUsize::new(0));
                b.iter(|| {
                    rem.store(NUM_SPAWN, Relaxed);
                    rt.block_on(async {
                        for _ in 0..NUM_SPAWN {
                            let tx = tx.clone();
                            let rem = rem.clone();
                            drop($spawn(async move {
                                if 1 == rem.fetch_sub(1, Relaxed) {
                                    tx.send(()).unwrap();
                                }
                            }));
                        }
                        rx.recv().unwrap();
                    });
                });
            }

            pub(super) fn spawn_many_remote_idle(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                let mut handles = Vec::with_capacity(NUM_SPAWN);
                b.iter(|| {
                    for _ in 0..NUM_SPAWN {
                        handles.push(rt.spawn(async {}));
                    }
                    rt.block_on(async {
                        for h in handles.drain(..) {
                            h.await.unwrap();
                        }
                    });
                });
            }

            pub(super) fn ping_pong(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                let (done_tx, done_rx) = mpsc::sync_channel(1000);
                let rem = Arc::new(AtomicUsize::new(0));
                b.iter(|| {
                    let done_tx = done_tx.clone();
                    let rem = rem.clone();
                    rem.store(NUM_PINGS, Relaxed);
                    rt.block_on(async {
                        drop($spawn(async move {
                            for _ in 0..NUM_PINGS {
                                let rem = rem.clone();
                                let done_tx = done_tx.clone();
                                drop($spawn(async move {
                                    let (tx1, rx1) = $oneshot;
                                    let (tx2, rx2) = $oneshot;
                                    drop($spawn(async move {
                                        let $rrx = rx1;
                                        $recv1;
                                        let ($stx, $sv) = (tx2, ());
                                        $send1;
                                    }));
                                    {
                                        let ($stx, $sv) = (tx1, ());
                                        $send1;
                                    }
                                    let $rrx = rx2;
                                    $recv1;
                                    if 1 == rem.fetch_sub(1, Relaxed) {
                                        done_tx.send(()).unwrap();
                                    }
                                }));
                            }
                        }));
                        done_rx.recv().unwrap();
                    });
                });
            }

            pub(super) fn yield_many(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                let (tx, rx) = mpsc::sync_channel(YIELD_TASKS);
                b.iter(|| {
                    for _ in 0..YIELD_TASKS {
                        let tx = tx.clone();
                        drop(rt.spawn(async move {
                            for _ in 0..NUM_YIELD {
                                $yield_now().await;
                            }
                            tx.send(()).unwrap();
                        }));
                    }
                    for _ in 0..YIELD_TASKS {
                        rx.recv().unwrap();
                    }
                });
            }

            pub(super) fn chained_spawn(b: &mut criterion::Bencher<'_>) {
                fn iter(done_tx: mpsc::SyncSender<()>, n: usize) {
                    if n == 0 {
                        done_tx.send(()).unwrap();
                    } else {
                        drop($spawn(async move { iter(done_tx, n - 1) }));
                    }
                }
                let rt = $new_rt();
                let (done_tx, done_rx) = mpsc::sync_channel(1000);
                b.iter(|| {
                    let done_tx = done_tx.clone();
                    rt.block_on(async {
                        drop($spawn(async move { iter(done_tx, CHAIN) }));
                        done_rx.recv().unwrap();
                    });
                });
            }
        }
    };
}

shapes!(
    st,
    stevedore_rt,
    stevedore::spawn,
    stevedore::yield_now,
    oneshot = stevedore::chan::bounded::<()>(1),
    send1 = |tx, v| tx.try_send(v).unwrap(),
    recv1 = |rx| rx.recv().await.unwrap()
);
shapes!(
    tk,
    tokio_rt,
    tokio::spawn,
    tokio::task::yield_now,
    oneshot = tokio::sync::oneshot::channel::<()>(),
    send1 = |tx, v| tx.send(v).unwrap(),
    recv1 = |rx| rx.await.unwrap()
);

fn bench(c: &mut Criterion) {
    type Body = fn(&mut criterion::Bencher<'_>);
    let shapes: [(&str, Body, Body); 5] = [
        (
            "spawn_many_local",
            st::spawn_many_local,
            tk::spawn_many_local,
        ),
        (
            "spawn_many_remote_idle",
            st::spawn_many_remote_idle,
            tk::spawn_many_remote_idle,
        ),
        ("ping_pong", st::ping_pong, tk::ping_pong),
        ("yield_many", st::yield_many, tk::yield_many),
        ("chained_spawn", st::chained_spawn, tk::chained_spawn),
    ];
    for (name, stevedore, tokio) in shapes {
        let mut g = c.benchmark_group(format!("rt_multi_threaded/{name}"));
        g.bench_function("stevedore", stevedore);
        g.bench_function("tokio", tokio);
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
