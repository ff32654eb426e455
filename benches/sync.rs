//! The async `Mutex` and `Semaphore` under contention, 2 workers each,
//! side by side in the same criterion groups:
//!
//! * `stevedore` — stevedore's locks on the stevedore runtime;
//! * `tokio` — tokio's locks on the tokio runtime;
//! * `async-lock` — smol's runtime-agnostic locks on the stevedore runtime
//!   (the crate the brief prefers where it serves; kept here to show what
//!   the hand-written FIFO queue costs or saves on the same scheduler).
//!
//! `cargo bench --bench sync`

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;

const WORKERS: usize = 2;
/// `mutex_contended`: tasks × lock/unlock rounds each.
const MUTEX_TASKS: usize = 8;
const MUTEX_ROUNDS: usize = 10_000;
/// `mutex_uncontended`: one task, this many lock/unlock rounds.
const SOLO_ROUNDS: usize = 100_000;
/// `semaphore_fanout`: tasks, each holding one of `LIMIT` permits across a
/// yield (a stand-in for a unit of I/O).
const FANOUT_TASKS: usize = 10_000;
const LIMIT: usize = 8;

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

/// One body per (runtime, lock) pair from the same source.
macro_rules! shapes {
    ($m:ident, $new_rt:ident, $spawn:path, $yield_now:path, $Mutex:ty, $Semaphore:ty, acquire = |$s:ident| $acquire:expr) => {
        mod $m {
            use super::*;

            pub(super) fn mutex_contended(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                b.iter(|| {
                    rt.block_on(async {
                        let m = Arc::new(<$Mutex>::new(0u64));
                        let tasks: Vec<_> = (0..MUTEX_TASKS)
                            .map(|_| {
                                let m = m.clone();
                                $spawn(async move {
                                    for _ in 0..MUTEX_ROUNDS {
                                        *m.lock().await += 1;
                                    }
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.unwrap();
                        }
                        assert_eq!(*m.lock().await, (MUTEX_TASKS * MUTEX_ROUNDS) as u64);
                    })
                });
            }

            pub(super) fn mutex_uncontended(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                b.iter(|| {
                    rt.block_on(async {
                        let m = Arc::new(<$Mutex>::new(0u64));
                        let m2 = m.clone();
                        $spawn(async move {
                            for _ in 0..SOLO_ROUNDS {
                                *m2.lock().await += 1;
                            }
                        })
                        .await
                        .unwrap();
                        assert_eq!(*m.lock().await, SOLO_ROUNDS as u64);
                    })
                });
            }

            pub(super) fn semaphore_fanout(b: &mut criterion::Bencher<'_>) {
                let rt = $new_rt();
                b.iter(|| {
                    rt.block_on(async {
                        let sem = Arc::new(<$Semaphore>::new(LIMIT));
                        let tasks: Vec<_> = (0..FANOUT_TASKS)
                            .map(|_| {
                                let $s = sem.clone();
                                $spawn(async move {
                                    let _permit = $acquire;
                                    $yield_now().await;
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.unwrap();
                        }
                    })
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
    stevedore::sync::Mutex<u64>,
    stevedore::sync::Semaphore,
    acquire = |s| s.acquire().await.unwrap()
);

shapes!(
    tk,
    tokio_rt,
    tokio::spawn,
    tokio::task::yield_now,
    tokio::sync::Mutex<u64>,
    tokio::sync::Semaphore,
    acquire = |s| s.acquire().await.unwrap()
);

shapes!(
    al,
    stevedore_rt,
    stevedore::spawn,
    stevedore::yield_now,
    async_lock::Mutex<u64>,
    async_lock::Semaphore,
    acquire = |s| s.acquire().await
);

fn bench(c: &mut Criterion) {
    type Body = fn(&mut criterion::Bencher<'_>);
    let shapes: [(&str, Body, Body, Body); 3] = [
        (
            "mutex_contended",
            st::mutex_contended,
            tk::mutex_contended,
            al::mutex_contended,
        ),
        (
            "mutex_uncontended",
            st::mutex_uncontended,
            tk::mutex_uncontended,
            al::mutex_uncontended,
        ),
        (
            "semaphore_fanout",
            st::semaphore_fanout,
            tk::semaphore_fanout,
            al::semaphore_fanout,
        ),
    ];
    for (name, stevedore, tokio, async_lock) in shapes {
        let mut g = c.benchmark_group(format!("sync/{name}"));
        g.sample_size(20);
        g.bench_function("stevedore", stevedore);
        g.bench_function("tokio", tokio);
        g.bench_function("async-lock", async_lock);
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
